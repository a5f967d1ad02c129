//! The event pipeline. The relay moves committed events from the outbox onto the Redis stream;
//! the consumer reads the stream in a consumer group and runs the stages in order, then
//! publishes what changed to the live channels:
//!
//! ```text
//! events + event_outbox ─relay─XADD─▶ {prefix}:events ─XREADGROUP─▶ stages ─PUBLISH─▶ {prefix}:live:<topic>
//! ```

pub mod consumer;
pub mod custody;
pub mod fences;
pub mod history_alerts;
pub mod lookout;
pub mod positions;
pub mod relay;

use redis::aio::MultiplexedConnection;
use std::time::Duration;
use tokio::sync::watch;

/// The Redis names one deployment uses, derived from `redis_prefix`.
#[derive(Debug, Clone)]
pub struct StreamKeys {
    /// The event stream.
    pub events: String,
    /// The live channels' common prefix: `{prefix}:live:` + topic.
    pub live: String,
    /// The pipeline's consumer group.
    pub group: String,
}

impl StreamKeys {
    /// Names under `prefix`.
    pub fn new(prefix: &str, group: &str) -> Self {
        Self {
            events: format!("{prefix}:events"),
            live: format!("{prefix}:live:"),
            group: group.to_owned(),
        }
    }
}

/// Connects to Redis, retrying with back-off until it answers or shutdown is signalled.
pub async fn connect_redis(
    client: &redis::Client,
    what: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<MultiplexedConnection> {
    let mut delay = Duration::from_millis(200);
    loop {
        // Blocking reads wait up to a second; give every answer more than that.
        let config =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(10)));
        match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => return Some(conn),
            Err(e) => tracing::warn!(error = %e, what, "Redis unreachable; retrying"),
        }
        if sleep_or_shutdown(delay, shutdown).await {
            return None;
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Sleeps; true when shutdown was signalled meanwhile.
pub async fn sleep_or_shutdown(delay: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = shutdown.changed() => true,
    }
}

/// A pub/sub connection subscribed to `pattern`, retrying like `connect_redis`.
pub async fn connect_redis_pubsub(
    client: &redis::Client,
    pattern: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<redis::aio::PubSub> {
    let mut delay = Duration::from_millis(200);
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(pattern).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match attempt.await {
            Ok(pubsub) => return Some(pubsub),
            Err(e) => tracing::warn!(error = %e, "Redis live subscription failed; retrying"),
        }
        if sleep_or_shutdown(delay, shutdown).await {
            return None;
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
