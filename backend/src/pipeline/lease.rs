//! Partition leases: each partition of the event stream is consumed by one instance at a time.
//! An instance takes its fair share of the partitions (partitions ÷ live instances, rounded
//! up) as leases in Redis, renews them every third of the lease, and gives up the ones beyond
//! its share so that a new instance gets some. A dead instance's leases lapse and are taken
//! over.

use crate::bus::{connect_redis, sleep_or_shutdown, Conn, Redis, StreamKeys};
use crate::telemetry::metrics;
use anyhow::Context;
use chrono::Utc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Who holds leases, and for how long.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// This instance's name (`instance_id`).
    pub name: String,
    /// How long a partition stays this instance's after its last renewal.
    pub lease: Duration,
}

/// Holds a partition while the Redis key says so: `acquire_or_renew` returns 1 when the lease
/// is (now) this instance's, 0 when another holds it.
const LEASE: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0";
/// Gives a partition up if it is still this instance's.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// A partition this instance consumes: its task, told to stop by `stop`, and how long the
/// lease is known to hold (the task stops by itself past it: a lease not renewed in time may
/// already be another instance's).
struct Held {
    stop: watch::Sender<bool>,
    valid_until: watch::Sender<Instant>,
    task: tokio::task::JoinHandle<()>,
}

/// Runs until shutdown: takes its fair share of the stream's partitions (partitions ÷ live
/// instances, rounded up) as leases, renews them every third of the lease, consumes each held
/// partition in a task of its own, and gives up the ones beyond its share so that a new
/// instance gets some. `start` starts the task consuming a partition.
pub async fn hold_partitions<F>(
    client: Redis,
    keys: StreamKeys,
    options: LeaseOptions,
    mut shutdown: watch::Receiver<bool>,
    mut start: F,
) where
    F: FnMut(usize, watch::Receiver<bool>, watch::Receiver<Instant>) -> JoinHandle<()>,
{
    let mut held: std::collections::BTreeMap<usize, Held> = std::collections::BTreeMap::new();
    let lease_ms = u64::try_from(options.lease.as_millis()).unwrap_or(u64::MAX);
    let every = options.lease / 3;
    'connect: loop {
        let Some(mut conn) = connect_redis(&client, "consumer leases", &mut shutdown).await else {
            break;
        };
        loop {
            let round_started = Instant::now();
            match lease_round(&mut conn, &keys, &options, lease_ms, &held).await {
                Ok((renewed, lost, share)) => {
                    for p in lost {
                        if let Some(h) = held.remove(&p) {
                            tracing::warn!(partition = p, "partition lease lost; stopping");
                            let _ = h.stop.send(true);
                        }
                    }
                    for p in renewed {
                        let until = round_started + options.lease.mul_f64(0.8);
                        match held.get(&p) {
                            Some(h) => {
                                let _ = h.valid_until.send(until);
                            }
                            None => {
                                tracing::info!(
                                    partition = p,
                                    consumer = options.name,
                                    "partition taken"
                                );
                                let (stop, stop_rx) = watch::channel(false);
                                let (valid_until, valid_rx) = watch::channel(until);
                                let task = start(p, stop_rx, valid_rx);
                                held.insert(
                                    p,
                                    Held {
                                        stop,
                                        valid_until,
                                        task,
                                    },
                                );
                            }
                        }
                    }
                    // Beyond the fair share: finish the partition's batch, then give it up.
                    while held.len() > share {
                        let Some((p, h)) = held.pop_last() else { break };
                        let _ = h.stop.send(true);
                        let _ = h.task.await;
                        let _: redis::RedisResult<i32> = redis::cmd("EVAL")
                            .arg(RELEASE)
                            .arg(1)
                            .arg(keys.lease(p))
                            .arg(&options.name)
                            .query_async(&mut conn)
                            .await;
                        tracing::info!(partition = p, "partition given up to share the work");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "partition leases not renewed");
                    if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
                        break 'connect;
                    }
                    continue 'connect;
                }
            }
            held.retain(|_, h| !h.task.is_finished());
            metrics().partitions_held(held.len());
            if sleep_or_shutdown(every, &mut shutdown).await {
                break 'connect;
            }
        }
    }
    // Shutdown: each task finishes its batch; the leases lapse (a restarted instance of the
    // same name takes them back at once).
    metrics().partitions_held(0);
    for (_, h) in std::mem::take(&mut held) {
        let _ = h.stop.send(true);
        let _ = h.task.await;
    }
}

/// One round: the heartbeat, the held leases renewed, free ones taken up to the fair share.
/// Returns the partitions held after the round, those lost, and the share.
async fn lease_round(
    conn: &mut Conn,
    keys: &StreamKeys,
    options: &LeaseOptions,
    lease_ms: u64,
    held: &std::collections::BTreeMap<usize, Held>,
) -> anyhow::Result<(Vec<usize>, Vec<usize>, usize)> {
    let now_ms = Utc::now().timestamp_millis();
    let alive_since = now_ms - i64::try_from(lease_ms).unwrap_or(i64::MAX);
    let ((), (), alive): ((), (), usize) = redis::pipe()
        .zadd(keys.instances(), &options.name, now_ms)
        .zrembyscore(keys.instances(), "-inf", alive_since)
        .zcard(keys.instances())
        .query_async(conn)
        .await
        .context("instance heartbeat")?;
    let share = keys.partitions.div_ceil(alive.max(1));
    let lease = |p: usize| {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(LEASE)
            .arg(1)
            .arg(keys.lease(p))
            .arg(&options.name)
            .arg(lease_ms);
        cmd
    };
    let (mut renewed, mut lost) = (Vec::new(), Vec::new());
    for &p in held.keys() {
        let mine: i32 = lease(p)
            .query_async(conn)
            .await
            .context("renewing a partition lease")?;
        if mine == 1 {
            renewed.push(p);
        } else {
            lost.push(p);
        }
    }
    for p in 0..keys.partitions {
        if renewed.len() >= share {
            break;
        }
        if held.contains_key(&p) {
            continue;
        }
        let mine: i32 = lease(p)
            .query_async(conn)
            .await
            .context("taking a partition lease")?;
        if mine == 1 {
            renewed.push(p);
        }
    }
    Ok((renewed, lost, share))
}

/// Whether a partition task may go on: not told to stop, lease renewed recently enough.
pub struct Lease<'a> {
    pub stop: &'a mut watch::Receiver<bool>,
    pub valid_until: &'a watch::Receiver<Instant>,
}

impl Lease<'_> {
    /// Whether the partition is still this task's to consume.
    pub fn holds(&self) -> bool {
        !*self.stop.borrow() && Instant::now() < *self.valid_until.borrow()
    }
}
