//! Group commit: rows that many requests write (audit records, filling decisions) go through one
//! task that writes whatever has queued up as one statement, one transaction. Each caller waits
//! for its own row's commit, so nothing is answered before it is durable; under load the commit
//! (the WAL flush, the dominant cost of a small insert) is shared by the whole batch. The task
//! keeps its own connection (`Held`): one round trip per batch.

use super::held::{Held, Work};
use crate::telemetry::worker_panicked;
use anyhow::Context;
use futures_util::FutureExt;
use sqlx::{PgConnection, PgPool};
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How many rows one statement writes at most.
const MAX_BATCH: usize = 512;
/// Rows waiting beyond this make writers wait for room (back-pressure, not loss).
const QUEUE: usize = 8192;
/// A write running longer than this is abandoned and its connection closed; its callers are
/// told it failed (whether it committed is then unknown, see `api::fillings::keep`).
const STATEMENT_LIMIT: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<(), String>>;
/// Writes one batch, atomically (one statement, or one transaction).
pub type WriteFn<R> = for<'c> fn(&'c mut PgConnection, Vec<R>) -> Work<'c, ()>;

/// Cheap to clone; all clones feed one writer task.
pub struct GroupWriter<R> {
    tx: mpsc::Sender<(R, Reply)>,
}

impl<R> Clone for GroupWriter<R> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<R: Send + 'static> GroupWriter<R> {
    /// Starts the writer task; `write` writes one batch in one statement. The task ends when
    /// every clone is dropped.
    pub fn spawn(pool: PgPool, what: &'static str, write: WriteFn<R>) -> Self {
        let (tx, mut rx) = mpsc::channel::<(R, Reply)>(QUEUE);
        let mut conn = Held::new(pool.clone(), STATEMENT_LIMIT);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (rows, replies): (Vec<R>, Vec<Reply>) = batch.drain(..).unzip();
                // A panic in one batch fails that batch, not the writer: the task goes on with
                // a fresh connection (the old one's state is unknown), logged and counted as a
                // restart, instead of every later write failing with "stopped".
                let outcome = match AssertUnwindSafe(conn.run(|c| write(c, rows)))
                    .catch_unwind()
                    .await
                {
                    Ok(outcome) => outcome.map_err(|e| format!("{e:#}")),
                    Err(panic) => {
                        conn = Held::new(pool.clone(), STATEMENT_LIMIT);
                        Err(worker_panicked(what, &*panic))
                    }
                };
                if let Err(e) = &outcome {
                    tracing::error!(error = e, what, "group commit failed");
                }
                for reply in replies {
                    // A caller that gave up (its deadline passed) is not waiting any more.
                    let _ = reply.send(outcome.clone());
                }
            }
        });
        Self { tx }
    }

    /// Queues a row and waits for its commit.
    pub async fn write(&self, row: R) -> anyhow::Result<()> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((row, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the writer task has stopped"))?;
        answer
            .await
            .context("the writer task dropped the row")?
            .map_err(|e| anyhow::anyhow!(e))
    }
}

#[cfg(test)]
mod tests {
    use super::{GroupWriter, Work};
    use sqlx::PgConnection;

    /// A batch that panics: its callers are told it failed, and the writer keeps writing.
    fn write(_: &mut PgConnection, rows: Vec<u32>) -> Work<'_, ()> {
        Box::pin(async move {
            assert!(!rows.contains(&0), "row 0 makes the writer panic");
            Ok(())
        })
    }

    #[tokio::test]
    async fn a_batch_that_panics_fails_and_the_writer_goes_on() {
        let url = std::env::var("CYLWATCH_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres".into());
        let pool = sqlx::PgPool::connect_lazy(&url).unwrap();
        let writer = GroupWriter::spawn(pool, "test writer", write);
        writer.write(1).await.unwrap();
        let failed = writer.write(0).await.unwrap_err();
        assert!(
            format!("{failed:#}").contains("restarted"),
            "the callers learn the writer failed: {failed:#}"
        );
        writer.write(2).await.unwrap();
    }
}
