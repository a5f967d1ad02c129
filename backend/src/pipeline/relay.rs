//! Outbox → Redis stream. PostgreSQL holds the truth; the relay catches up after a Redis outage.
//! An event may reach the stream twice (XADD succeeded, commit failed): the stages are
//! idempotent.

use crate::bus::{connect_redis, sleep_or_shutdown, StreamKeys};
use crate::store;
use crate::telemetry::metrics;
use anyhow::Context;
use redis::aio::MultiplexedConnection;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

const BATCH: i64 = 1000;
/// How often the outbox is looked at when nobody rings (events committed by other instances).
const POLL: Duration = Duration::from_millis(500);

/// Runs until shutdown; reconnects to Redis after any failure.
pub async fn run(
    pool: PgPool,
    client: redis::Client,
    keys: StreamKeys,
    wakeup: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(mut conn) = connect_redis(&client, "relay", &mut shutdown).await else {
            return;
        };
        metrics().relay_connected(true);
        loop {
            if let Err(e) = drain(&pool, &mut conn, &keys).await {
                tracing::warn!(error = %format!("{e:#}"), "relay failed; reconnecting");
                metrics().relay_connected(false);
                break;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
        }
        if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
            return;
        }
    }
}

/// Moves everything in the outbox onto the stream; returns how many entries.
async fn drain(
    pool: &PgPool,
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
) -> anyhow::Result<usize> {
    let mut moved = 0;
    loop {
        let batch = store::events::take_outbox(pool, BATCH).await?;
        let n = batch.payloads.len();
        if n == 0 {
            return Ok(moved);
        }
        let mut pipe = redis::pipe();
        for (payload, enterprise, received_ms) in &batch.payloads {
            let xadd = pipe
                .cmd("XADD")
                .arg(keys.stream(keys.partition_of(payload)))
                .arg("*")
                .arg("event")
                .arg(payload)
                .arg("received")
                .arg(received_ms);
            if let Some(enterprise) = enterprise {
                xadd.arg("enterprise").arg(enterprise);
            }
            xadd.ignore();
        }
        let _: () = pipe
            .query_async(conn)
            .await
            .context("XADD to the event stream")?;
        batch
            .tx
            .commit()
            .await
            .context("committing the outbox batch")?;
        moved += n;
        metrics().relayed(u64::try_from(n).unwrap_or(u64::MAX));
        tracing::debug!(n, "relayed events");
        if n < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(moved);
        }
    }
}
