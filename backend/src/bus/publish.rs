//! Live messages from handlers and workers outside the pipeline (alerts raised by a filling
//! decision, acknowledged by a duty officer, escalated): serialized once, PUBLISHed by one task
//! over one Redis connection. Best effort: PostgreSQL holds the alert, and every screen gets
//! it again with its next snapshot if Redis drops a message.

use crate::bus::{Conn, Redis, StreamKeys};
use anyhow::Context;
use shared::live::{LiveMessage, Topic};
use std::sync::Arc;
use tokio::sync::{mpsc, watch, Mutex};

/// Messages waiting for Redis; beyond this, new ones are dropped with a warning.
const QUEUE: usize = 4096;

/// The messages waiting to be published, shared with a restarted publishing task.
pub type Queue = Arc<Mutex<mpsc::Receiver<(Topic, String)>>>;

/// Cheap to clone; all clones feed one task.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: mpsc::Sender<(Topic, String)>,
}

impl Publisher {
    /// The publisher and the queue its task (`run`) drains.
    pub fn new() -> (Self, Queue) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { tx }, Arc::new(Mutex::new(rx)))
    }

    /// Queues one message on a topic.
    pub fn send(&self, topic: Topic, message: &LiveMessage) {
        let text = match serde_json::to_string(message) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "live message not serializable; dropped");
                return;
            }
        };
        if self.tx.try_send((topic, text)).is_err() {
            tracing::warn!("live publish queue full or closed; message dropped");
        }
    }
}

/// Publishes queued messages until shutdown, reconnecting after a Redis failure.
pub async fn run(rx: Queue, redis: Redis, keys: StreamKeys, mut shutdown: watch::Receiver<bool>) {
    // One task drains the queue at a time (a restarted one takes over).
    let mut rx = rx.lock().await;
    let mut conn: Option<Conn> = None;
    loop {
        let next = tokio::select! {
            m = rx.recv() => m,
            _ = shutdown.changed() => return,
        };
        let Some((topic, text)) = next else { return };
        let channel = format!("{}{}", keys.live, topic_name(topic));
        let outcome = async {
            if conn.is_none() {
                conn = Some(redis.connect().await.context("connecting to Redis")?);
            }
            let c = conn.as_mut().context("no connection")?;
            redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(&text)
                .query_async::<i64>(c)
                .await
                .context("PUBLISH")
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(error = %format!("{e:#}"), "live message not published");
            conn = None;
        }
    }
}

fn topic_name(topic: Topic) -> &'static str {
    match topic {
        Topic::Vehicles => "vehicles",
        Topic::Alerts => "alerts",
        Topic::Stats => "stats",
        Topic::Cylinders => "cylinders",
        Topic::Incident => "incident",
    }
}
