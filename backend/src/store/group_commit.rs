//! Group commit: rows that many requests write (audit records, filling decisions) go through one
//! task that writes whatever has queued up as one statement, one transaction. Each caller waits
//! for its own row's commit, so nothing is answered before it is durable; under load the commit
//! (the WAL flush, the dominant cost of a small insert) is shared by the whole batch.

use anyhow::Context;
use futures_util::future::BoxFuture;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// How many rows one statement writes at most.
const MAX_BATCH: usize = 512;
/// Rows waiting beyond this make writers wait for room (back-pressure, not loss).
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<(), String>>;
type WriteFn<R> =
    Arc<dyn Fn(PgPool, Vec<R>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

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
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (rows, replies): (Vec<R>, Vec<Reply>) = batch.drain(..).unzip();
                let outcome = write(pool.clone(), rows)
                    .await
                    .map_err(|e| format!("{e:#}"));
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
