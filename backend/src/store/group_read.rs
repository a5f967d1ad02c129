//! Group read: primary-key lookups that many requests make at the same moment (the cylinder
//! facts of filling decisions) go through a few reader tasks that ask for whatever has queued
//! in one statement (one index lookup per key, e.g. `unnest($1) CROSS JOIN LATERAL`). Each
//! caller gets its own row, read by a statement that started after its request arrived — as
//! fresh as reading alone; under load the per-statement cost (parse, round trip, wake-ups) is
//! shared by the whole batch. Each task keeps its own connection (`Held`): one round trip per
//! batch.

use super::held::{Held, Work};
use crate::telemetry::worker_panicked;
use anyhow::Context;
use futures_util::FutureExt;
use sqlx::{PgConnection, PgPool};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Mutex};

/// How many keys one statement reads at most.
const MAX_BATCH: usize = 256;
/// Requests waiting beyond this make callers wait for room (back-pressure, not loss).
const QUEUE: usize = 4096;
/// A statement running longer than this is abandoned and its connection closed (its callers
/// have long given up: they wait less than a second).
const STATEMENT_LIMIT: Duration = Duration::from_secs(5);

type Reply<V> = oneshot::Sender<Result<Option<V>, String>>;
/// Reads the rows of these keys; the answer has, for each key in order, its row or `None`.
pub type ReadFn<K, V> = for<'c> fn(&'c mut PgConnection, Vec<K>) -> Work<'c, Vec<Option<V>>>;

/// Cheap to clone; all clones feed the same reader tasks.
pub struct GroupReader<K, V> {
    tx: mpsc::Sender<(K, Reply<V>)>,
}

impl<K, V> Clone for GroupReader<K, V> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

impl<K: Send + 'static, V: Clone + Send + 'static> GroupReader<K, V> {
    /// Starts `readers` tasks that take turns at the queue: one gathers what has queued while
    /// the others' statements run. The tasks end when every clone is dropped.
    pub fn spawn(pool: PgPool, what: &'static str, readers: usize, read: ReadFn<K, V>) -> Self {
        let (tx, rx) = mpsc::channel::<(K, Reply<V>)>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..readers.max(1) {
            let rx = rx.clone();
            let mut conn = Held::new(pool.clone(), STATEMENT_LIMIT);
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                loop {
                    // The queue is held only while taking a batch, not while reading it.
                    if rx.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
                        break;
                    }
                    let (keys, replies): (Vec<K>, Vec<Reply<V>>) = batch.drain(..).unzip();
                    let asked = keys.len();
                    // A panic in one batch fails that batch, not the reader (see GroupWriter).
                    let outcome = match AssertUnwindSafe(conn.run(|c| read(c, keys)))
                        .catch_unwind()
                        .await
                    {
                        Ok(outcome) => outcome,
                        Err(panic) => {
                            conn = Held::new(pool.clone(), STATEMENT_LIMIT);
                            let e = worker_panicked(what, &*panic);
                            for reply in replies {
                                let _ = reply.send(Err(e.clone()));
                            }
                            continue;
                        }
                    };
                    match outcome {
                        Ok(rows) if rows.len() == asked => {
                            for (reply, row) in replies.into_iter().zip(rows) {
                                // A caller that gave up (its deadline passed) is not waiting.
                                let _ = reply.send(Ok(row));
                            }
                        }
                        outcome => {
                            let e = match outcome {
                                Err(e) => format!("{e:#}"),
                                Ok(rows) => format!("{} rows for {asked} keys", rows.len()),
                            };
                            tracing::error!(error = e, what, "group read failed");
                            for reply in replies {
                                let _ = reply.send(Err(e.clone()));
                            }
                        }
                    }
                }
            });
        }
        Self { tx }
    }

    /// Queues a key and waits for its row.
    pub async fn read(&self, key: K) -> anyhow::Result<Option<V>> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((key, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the reader tasks have stopped"))?;
        answer
            .await
            .context("the reader task dropped the key")?
            .map_err(|e| anyhow::anyhow!(e))
    }
}
