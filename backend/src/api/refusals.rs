//! The audit of refused anonymous requests, counted instead of written one by one.
//!
//! A request refused before anyone is known (a junk device key, a malformed body from no one)
//! costs nothing to send; written row by row, a flood of them loads PostgreSQL and slows the
//! filling decisions beside them. So the first such refusal of a (source address, route, status)
//! in a window is written at once, as before, and the repeats are counted in memory and written
//! as one row (`details.repeated`) when the window ends. What the log still answers: who tried
//! what, when it began, how often. A kill loses at most one window's counts, never the first
//! row.

use crate::store::auth::AuditRow;
use crate::store::group_commit::GroupWriter;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// What is counted together: the source address (none when too many addresses are counted
/// at once), the route (`POST /api/v1/fillings/authorize`) and the status.
type Key = (Option<IpAddr>, String, u16);

/// Keys counted at most in one window; refusals from further addresses are counted together
/// under no address.
const MAX_KEYS: usize = 10_000;

/// Refusals counted in the current window.
#[derive(Default)]
pub struct RefusalTally {
    repeats: Mutex<HashMap<Key, u64>>,
}

impl RefusalTally {
    /// Counts an anonymous refusal. True when it is the first of its key in this window: the
    /// caller writes its row now.
    pub fn first(&self, addr: Option<IpAddr>, action: &str, status: u16) -> bool {
        let Ok(mut repeats) = self.repeats.lock() else {
            return true;
        };
        let mut key = (addr, action.to_owned(), status);
        if repeats.len() >= MAX_KEYS && !repeats.contains_key(&key) {
            key.0 = None;
        }
        match repeats.get_mut(&key) {
            Some(count) => {
                *count += 1;
                false
            }
            None => {
                repeats.insert(key, 0);
                true
            }
        }
    }

    /// Ends the window: the keys that were refused again after their first row, with how
    /// often.
    pub fn drain(&self) -> Vec<(Key, u64)> {
        let Ok(mut repeats) = self.repeats.lock() else {
            return Vec::new();
        };
        let mut counted: Vec<(Key, u64)> = repeats.drain().filter(|(_, n)| *n > 0).collect();
        counted.sort();
        counted
    }
}

/// The audit record of `count` repeats of `key` within a window of `window`.
fn summary_row(key: Key, count: u64, window: Duration) -> AuditRow {
    let (addr, action, status) = key;
    let mut details = serde_json::Map::new();
    details.insert("repeated".into(), count.into());
    details.insert("window_s".into(), window.as_secs().into());
    if addr.is_none() {
        details.insert("addresses".into(), "many".into());
    }
    AuditRow {
        actor_kind: "anonymous".into(),
        action,
        outcome: "refused".into(),
        status: Some(i32::from(status)),
        source_addr: addr.map(|ip| ip.to_string()),
        details: Some(serde_json::Value::Object(details)),
        ..AuditRow::default()
    }
}

/// Ends a window every `window` and writes its counts; the last one at shutdown.
pub async fn run(
    tally: std::sync::Arc<RefusalTally>,
    audit: GroupWriter<AuditRow>,
    window: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(window.max(Duration::from_secs(1)));
    ticks.tick().await;
    loop {
        let stopping = tokio::select! {
            _ = ticks.tick() => false,
            _ = stop.changed() => true,
        };
        for (key, count) in tally.drain() {
            let action = key.1.clone();
            if let Err(e) = audit.write(summary_row(key, count, window)).await {
                tracing::error!(error = %format!("{e:#}"), action, count, "audit record of repeated refusals lost");
            }
        }
        if stopping || *stop.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_is_written_and_the_repeats_counted() {
        let tally = RefusalTally::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let route = "POST /api/v1/fillings/authorize";
        assert!(tally.first(Some(a), route, 401));
        assert!(!tally.first(Some(a), route, 401));
        assert!(!tally.first(Some(a), route, 401));
        assert!(tally.first(Some(b), route, 401), "another address");
        assert!(tally.first(Some(a), route, 400), "another status");
        let counted = tally.drain();
        assert_eq!(counted, vec![((Some(a), route.to_owned(), 401), 2)]);
        assert!(
            tally.first(Some(a), route, 401),
            "a new window writes its first again"
        );
    }

    #[test]
    fn too_many_addresses_are_counted_together() {
        let tally = RefusalTally::default();
        for i in 0..u32::try_from(MAX_KEYS).unwrap_or(u32::MAX) {
            tally.first(Some(IpAddr::from(i.to_be_bytes())), "GET /x", 401);
        }
        let stranger: IpAddr = [192, 168, 9, 9].into();
        assert!(tally.first(Some(stranger), "GET /x", 401));
        assert!(!tally.first(Some(stranger), "GET /x", 401));
        let row = tally
            .drain()
            .into_iter()
            .find(|((addr, _, _), _)| addr.is_none());
        assert_eq!(row.map(|(_, n)| n), Some(1));
    }
}
