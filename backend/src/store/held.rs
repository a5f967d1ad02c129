//! A connection kept by a long-lived task between its statements (the group reader and writer
//! tasks). Taking a connection from the pool costs a round trip (sqlx pings it) and giving it
//! back another (sqlx pings it again); a task that runs a statement per batch, thousands a
//! second, keeps one instead; it is pinged only after a pause (`PING_AFTER_IDLE`), when a
//! restarted database or a cut connection is likely to have gone unnoticed. A statement that
//! fails or outlasts its limit closes the connection (its state is unknown) and the next batch
//! takes a fresh one from the pool. Its statements run with generic plans
//! (`plan_cache_mode = force_generic_plan`): a statement run thousands of times a second is
//! planned once, not at every run (for a primary-key read, planning costs several times the
//! read). The statements given to a `Held` must have a good generic plan; the connection is
//! closed rather than given back to the pool, so that the setting stays with it.

use futures_util::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, PgPool, Postgres};
use std::time::{Duration, Instant};

/// A connection unused for this long is pinged before its next statement.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// One batch's work on a connection.
pub type Work<'c, T> = BoxFuture<'c, anyhow::Result<T>>;

pub struct Held {
    pool: PgPool,
    conn: Option<PoolConnection<Postgres>>,
    last_used: Instant,
    limit: Duration,
}

impl Held {
    /// No connection is taken until the first statement; `limit` bounds each statement.
    pub fn new(pool: PgPool, limit: Duration) -> Self {
        Self {
            pool,
            conn: None,
            last_used: Instant::now(),
            limit,
        }
    }

    /// Runs `work` on the kept connection (taking one from the pool when there is none).
    pub async fn run<T>(
        &mut self,
        work: impl for<'c> FnOnce(&'c mut PgConnection) -> Work<'c, T>,
    ) -> anyhow::Result<T> {
        if let Some(conn) = self.conn.as_mut() {
            if self.last_used.elapsed() > PING_AFTER_IDLE
                && tokio::time::timeout(self.limit, conn.ping())
                    .await
                    .map_or(true, |pinged| pinged.is_err())
            {
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            let fresh = async {
                let mut conn = self.pool.acquire().await?;
                conn.close_on_drop();
                sqlx::query("SET plan_cache_mode = force_generic_plan")
                    .execute(&mut *conn)
                    .await?;
                anyhow::Ok(conn)
            };
            let conn = tokio::time::timeout(self.limit, fresh)
                .await
                .map_err(|_| anyhow::anyhow!("no connection within {:?}", self.limit))??;
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            unreachable!("a connection was just taken")
        };
        let outcome = match tokio::time::timeout(self.limit, work(conn)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow::anyhow!(
                "no answer within {:?}; outcome unknown",
                self.limit
            )),
        };
        self.last_used = Instant::now();
        if outcome.is_err() {
            // A failed statement may have left the connection broken or mid-protocol: it is
            // closed (dropped: see `close_on_drop` above).
            self.conn = None;
        }
        outcome
    }
}
