//! The faults, alone and mixed at random intervals from a seeded RNG.

use crate::cluster::Cluster;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// `kill -9` of a server instance (one drawn at random when there are several), then a
    /// restart of it (the same `instance_id`, the same port: HAProxy finds it again).
    ServerKill,
    /// Redis `kill -9`, restarted EMPTY (its streams lost).
    RedisRestartEmpty,
    /// Redis `SIGSTOP` for `pause`, then `SIGCONT`: a hang, not a crash.
    RedisPause,
    /// PostgreSQL `pg_ctl stop -m immediate`, then started again.
    PostgresImmediate,
    /// The proxy drops every connection of the server instances to Redis.
    CutRedis,
    /// The proxy drops every connection of the server instances to PostgreSQL.
    CutPostgres,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::ServerKill,
        Fault::RedisRestartEmpty,
        Fault::RedisPause,
        Fault::PostgresImmediate,
        Fault::CutRedis,
        Fault::CutPostgres,
    ];
}

/// How faults come.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Each kind with its weight.
    pub mix: Vec<(Fault, u32)>,
    /// The quiet time between two faults, drawn uniformly.
    pub between: (Duration, Duration),
    pub pause: Duration,
}

/// What was injected, and when the last fault ended.
#[derive(Debug, Default)]
pub struct Injected {
    pub by_kind: BTreeMap<String, u32>,
    pub last_end: Option<Instant>,
}

pub async fn inject(cluster: &Mutex<Cluster>, fault: Fault, pause: Duration, rng: &mut StdRng) {
    let mut c = cluster.lock().await;
    match fault {
        Fault::ServerKill => {
            // One instance: no draw (a seed's schedule stays what it was).
            let i = if c.servers.len() > 1 {
                rng.random_range(0..c.servers.len())
            } else {
                0
            };
            if c.servers.len() > 1 {
                eprintln!("chaos: killing instance chaos-{}", i + 1);
            }
            let server = &mut c.servers[i];
            server.kill9().await;
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..1000))).await;
            server.start(Duration::from_secs(180)).await;
        }
        Fault::RedisRestartEmpty => {
            tokio::task::block_in_place(|| c.redis.kill9());
            tokio::time::sleep(Duration::from_millis(rng.random_range(100..2000))).await;
            tokio::task::block_in_place(|| c.redis.restart());
        }
        Fault::RedisPause => {
            c.redis.signal("-STOP");
            tokio::time::sleep(pause).await;
            c.redis.signal("-CONT");
        }
        Fault::PostgresImmediate => {
            tokio::task::block_in_place(|| c.pg.stop_immediate());
            tokio::time::sleep(Duration::from_millis(rng.random_range(100..3000))).await;
            tokio::task::block_in_place(|| c.pg.start());
        }
        Fault::CutRedis => {
            c.redis_proxy.cut();
        }
        Fault::CutPostgres => {
            c.pg_proxy.cut();
        }
    }
}

/// Injects faults until `on` turns false; waits for `on` to turn true first.
pub async fn run(
    cluster: Arc<Mutex<Cluster>>,
    schedule: Schedule,
    seed: u64,
    started: Arc<AtomicBool>,
    on: Arc<AtomicBool>,
) -> Injected {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xfa17);
    let mut injected = Injected::default();
    while !started.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let total: u32 = schedule.mix.iter().map(|m| m.1).sum();
    if total == 0 {
        return injected;
    }
    loop {
        let (lo, hi) = schedule.between;
        let quiet = if hi > lo {
            rng.random_range(lo..hi)
        } else {
            lo
        };
        let deadline = Instant::now() + quiet;
        while Instant::now() < deadline {
            if !on.load(Ordering::Relaxed) {
                return injected;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut pick = rng.random_range(0..total);
        let fault = schedule
            .mix
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map(|m| m.0)
            .unwrap_or(Fault::ServerKill);
        eprintln!("chaos: {:?} at {:?}", fault, chrono::Utc::now());
        inject(&cluster, fault, schedule.pause, &mut rng).await;
        injected.last_end = Some(Instant::now());
        *injected.by_kind.entry(format!("{fault:?}")).or_default() += 1;
    }
}
