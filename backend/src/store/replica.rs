//! A streaming replica for lists and history reads (`database_replica_url`, issue 24), used
//! only while its lag is within `database_replica_max_lag_ms`; otherwise (lagging, paused,
//! down, not a standby) those reads fall back to the primary. Writes, the filling decision,
//! statistics (a figure's request refreshes its counters) and everything else stay on the
//! primary.
//!
//! The lag is measured in time, not bytes: every `SAMPLE` the primary's WAL position is noted
//! with the moment it was read; the replica's lag is the age of the oldest noted position it
//! has not replayed yet (zero when it has replayed them all — an idle primary does not make a
//! replica look stale).

use anyhow::Context;
use sqlx::PgPool;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the primary's position and the replica's replay are read.
pub const SAMPLE: Duration = Duration::from_millis(200);

/// The pools reads may use.
#[derive(Clone)]
pub struct ReadPools {
    primary: PgPool,
    replica: Option<Replica>,
}

#[derive(Clone)]
struct Replica {
    pool: PgPool,
    fresh: Arc<AtomicBool>,
    lag_ms: Arc<AtomicU64>,
}

impl ReadPools {
    /// Reads on the primary only.
    pub fn primary_only(primary: PgPool) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Reads on `replica` while it keeps up (see [`watch`]); starts as not fresh.
    pub fn with_replica(primary: PgPool, replica: PgPool) -> Self {
        Self {
            primary,
            replica: Some(Replica {
                pool: replica,
                fresh: Arc::new(AtomicBool::new(false)),
                lag_ms: Arc::new(AtomicU64::new(u64::MAX)),
            }),
        }
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Whether list and history reads go to the replica now.
    pub fn serving_from_replica(&self) -> bool {
        self.replica
            .as_ref()
            .is_some_and(|r| r.fresh.load(Ordering::Relaxed))
    }

    /// The pool for a list or history read: the replica while fresh, else the primary.
    pub fn read(&self) -> &PgPool {
        match &self.replica {
            Some(r) if r.fresh.load(Ordering::Relaxed) => &r.pool,
            _ => &self.primary,
        }
    }

    /// The replica's last measured lag in ms (`None`: no replica, or not measured / down).
    pub fn lag_ms(&self) -> Option<u64> {
        let lag = self.replica.as_ref()?.lag_ms.load(Ordering::Relaxed);
        (lag != u64::MAX).then_some(lag)
    }

    /// Measures the replica's lag until the task is dropped; marks it fresh while the lag is
    /// at most `max_lag`. Returns at once when there is no replica (start it only when there
    /// is one: a supervised worker that returns is restarted).
    pub async fn watch(self, max_lag: Duration) {
        let Some(replica) = self.replica else {
            return;
        };
        let mut noted: VecDeque<(Instant, u64)> = VecDeque::new();
        let mut ticker = tokio::time::interval(SAMPLE);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_fresh = false;
        loop {
            ticker.tick().await;
            let lag = measure(&self.primary, &replica.pool, &mut noted).await;
            let fresh = matches!(lag, Ok(lag) if lag <= max_lag);
            replica.fresh.store(fresh, Ordering::Relaxed);
            let ms = lag.as_ref().map_or(u64::MAX, |l| {
                u64::try_from(l.as_millis()).unwrap_or(u64::MAX)
            });
            replica.lag_ms.store(ms, Ordering::Relaxed);
            if fresh != was_fresh {
                match &lag {
                    Ok(lag) if fresh => {
                        tracing::info!(lag_ms = lag.as_millis(), "reads go to the replica")
                    }
                    Ok(lag) => tracing::warn!(
                        lag_ms = lag.as_millis(),
                        "the replica lags: reads go to the primary"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "the replica does not answer: reads go to the primary")
                    }
                }
                was_fresh = fresh;
            }
        }
    }
}

/// One round: notes the primary's position, reads the replica's replay, returns the age of
/// the oldest noted position not replayed yet.
async fn measure(
    primary: &PgPool,
    replica: &PgPool,
    noted: &mut VecDeque<(Instant, u64)>,
) -> anyhow::Result<Duration> {
    let at = Instant::now();
    let current: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
        .fetch_one(primary)
        .await
        .context("reading the primary's WAL position")?;
    let current = lsn(&current)?;
    if noted.back().is_none_or(|(_, l)| *l < current) {
        noted.push_back((at, current));
    }
    let replayed: Option<String> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn()::text")
        .fetch_one(replica)
        .await
        .context("reading the replica's replay position")?;
    let replayed = lsn(&replayed.context("database_replica_url is not a standby")?)?;
    while noted.front().is_some_and(|(_, l)| *l <= replayed) {
        noted.pop_front();
    }
    // Keep the oldest unreplayed one (what the lag is); bound the memory of a stuck replica.
    while noted.len() > 10_000 {
        noted.remove(1);
    }
    Ok(noted.front().map_or(Duration::ZERO, |(t, _)| t.elapsed()))
}

/// A PostgreSQL LSN (`16/B374D848`) as a number.
fn lsn(text: &str) -> anyhow::Result<u64> {
    let (hi, lo) = text
        .split_once('/')
        .with_context(|| format!("not an LSN: {text:?}"))?;
    let hi = u64::from_str_radix(hi, 16).with_context(|| format!("not an LSN: {text:?}"))?;
    let lo = u64::from_str_radix(lo, 16).with_context(|| format!("not an LSN: {text:?}"))?;
    Ok((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::lsn;

    #[test]
    fn lsns_compare_as_positions() {
        assert_eq!(lsn("0/0").unwrap(), 0);
        assert_eq!(lsn("16/B374D848").unwrap(), (0x16 << 32) | 0xB374_D848);
        assert!(lsn("1/0").unwrap() > lsn("0/FFFFFFFF").unwrap());
        assert!(lsn("nonsense").is_err());
        assert!(lsn("G/0").is_err());
    }
}
