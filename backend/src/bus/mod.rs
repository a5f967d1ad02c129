//! The bus: Redis names one deployment uses (the event stream's partitions, leases, live
//! channels), connections to Redis that retry until it answers, and the live publisher. Redis
//! carries work and fan-out; it may be lost without losing data (PostgreSQL is the truth).

pub mod conn;
pub mod publish;

pub use conn::{Conn, Redis};
use std::time::Duration;
use tokio::sync::watch;

/// The Redis names one deployment uses, derived from `redis_prefix`. A partition's names
/// carry its number as a hash tag (`{3}`): in a Redis Cluster its stream, lease and epoch
/// marker live in one slot, on one master; the live channels share the tag `{live}`.
#[derive(Debug, Clone)]
pub struct StreamKeys {
    /// The event stream of the partition a consumer works on (`{prefix}:events:{{p}}`).
    pub events: String,
    /// The live channels' common prefix: `{prefix}:{live}:` + topic.
    pub live: String,
    /// The pipeline's consumer group.
    pub group: String,
    /// What the names are derived from.
    prefix: String,
    /// How many partitions the event stream has.
    pub partitions: usize,
}

impl StreamKeys {
    /// Names under `prefix`, the stream cut into `partitions` (at least one); `events` names
    /// partition 0.
    pub fn new(prefix: &str, group: &str, partitions: usize) -> Self {
        Self {
            events: format!("{prefix}:events:{{0}}"),
            live: format!("{prefix}:{{live}}:"),
            group: group.to_owned(),
            prefix: prefix.to_owned(),
            partitions: partitions.max(1),
        }
    }

    /// The same names, `events` naming partition `p`.
    pub fn partition(&self, p: usize) -> Self {
        Self {
            events: self.stream(p),
            ..self.clone()
        }
    }

    /// Partition `p`'s stream.
    pub fn stream(&self, p: usize) -> String {
        format!("{}:events:{{{p}}}", self.prefix)
    }

    /// Partition `p`'s lease: the name of the instance consuming it.
    pub fn lease(&self, p: usize) -> String {
        format!("{}:lease:{{{p}}}", self.prefix)
    }

    /// The marker of partition `p`'s stream (set once; a Redis without it has lost the stream,
    /// or never had it). One per partition, beside its stream: in a cluster one master may
    /// restart empty while the others keep theirs.
    pub fn epoch(&self, p: usize) -> String {
        format!("{}:epoch:{{{p}}}", self.prefix)
    }

    /// The instances alive (a sorted set of names by last heartbeat, in milliseconds).
    pub fn instances(&self) -> String {
        format!("{}:instances", self.prefix)
    }

    /// The partition of an event: by its vehicle when it names one (a vehicle's fixes,
    /// sightings and scans are handled in order), else by its cylinder, else by its id.
    pub fn partition_of(&self, payload: &str) -> usize {
        #[derive(serde::Deserialize)]
        struct Key {
            vehicle_plate: Option<String>,
            cylinder_code: Option<String>,
            id: Option<String>,
        }
        if self.partitions == 1 {
            return 0;
        }
        let key = serde_json::from_str::<Key>(payload).ok();
        let key = key
            .and_then(|k| k.vehicle_plate.or(k.cylinder_code).or(k.id))
            .unwrap_or_default();
        // FNV-1a: stable across builds and instances (unlike the std hasher).
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        usize::try_from(hash % self.partitions as u64).unwrap_or(0)
    }
}

/// Connects to Redis, retrying with back-off until it answers or shutdown is signalled.
pub async fn connect_redis(
    redis: &Redis,
    what: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Conn> {
    let mut delay = Duration::from_millis(200);
    loop {
        match redis.connect().await {
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

/// A pub/sub connection subscribed to `pattern`, retrying like `connect_redis` (in a
/// cluster on the next seed node after each failure).
pub async fn connect_redis_pubsub(
    redis: &Redis,
    pattern: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<redis::aio::PubSub> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        let node = redis.pubsub_node(attempt);
        let subscribe = async {
            let client = node.ok_or_else(|| {
                redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "no Redis node"))
            })?;
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(pattern).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match subscribe.await {
            Ok(pubsub) => return Some(pubsub),
            Err(e) => tracing::warn!(error = %e, "Redis live subscription failed; retrying"),
        }
        attempt += 1;
        if sleep_or_shutdown(delay, shutdown).await {
            return None;
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
