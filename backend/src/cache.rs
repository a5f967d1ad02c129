//! A small in-memory cache with a time to live, for facts read on every request that change
//! rarely (a device's key, a station and its licences). Entries older than the TTL are read
//! again; a change made through this instance clears the cache at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries beyond this clear the cache (a bound, not an eviction policy: keys are few).
const MAX_ENTRIES: usize = 100_000;

/// Values by text key, each fresh for `ttl`.
pub struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, (V, Instant)>>,
}

impl<V: Clone> TtlCache<V> {
    /// An empty cache; a zero TTL caches nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value, when cached less than the TTL ago.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    /// Keeps a value read just now.
    pub fn put(&self, key: &str, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key.to_owned(), (value, Instant::now()));
        }
    }

    /// Forgets everything (after a change).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_clear() {
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.put("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        assert_eq!(cache.get("b"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("a"), None);
        cache.put("a", 2);
        cache.clear();
        assert_eq!(cache.get("a"), None);
        let off = TtlCache::new(Duration::ZERO);
        off.put("a", 1);
        assert_eq!(off.get("a"), None);
    }
}

/// The hashes of every device key that is not revoked, reloaded at most once per `every` when
/// a key is not found: a request with a junk key is refused from memory, without a database
/// round trip, however many arrive (issue 20 item 7). A key registered on another instance is
/// found within `every`. Revocation is not its job: a key found here is still checked against
/// the database (or the device cache) before it is trusted.
pub struct KeySet {
    every: Duration,
    known: std::sync::RwLock<(std::collections::HashSet<String>, Option<Instant>)>,
    reloading: tokio::sync::Mutex<()>,
}

impl KeySet {
    /// An empty set, to be loaded at its first miss.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            known: std::sync::RwLock::new((std::collections::HashSet::new(), None)),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether `hash` is a key the set holds, and whether the set was loaded within `every`.
    fn lookup(&self, hash: &str) -> (bool, bool) {
        match self.known.read() {
            Ok(known) => (
                known.0.contains(hash),
                known.1.is_some_and(|at| at.elapsed() < self.every),
            ),
            Err(_) => (false, false),
        }
    }

    /// Adds a key made on this instance.
    pub fn insert(&self, hash: String) {
        if let Ok(mut known) = self.known.write() {
            known.0.insert(hash);
        }
    }

    /// Whether `hash` may be a live key: held, or not held by a set loaded within `every`
    /// and not held after loading it again with `load` (once per `every` at most, whoever
    /// asks). A failed load answers `true`: the caller's own check decides (and fails closed).
    pub async fn may_hold<F, Fut>(&self, hash: &str, load: F) -> bool
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Vec<String>>>,
    {
        let (held, fresh) = self.lookup(hash);
        if held {
            return true;
        }
        if fresh {
            return false;
        }
        let _one = self.reloading.lock().await;
        let (held, fresh) = self.lookup(hash);
        if held || fresh {
            return held;
        }
        match load().await {
            Ok(hashes) => {
                let set: std::collections::HashSet<String> = hashes.into_iter().collect();
                let held = set.contains(hash);
                if let Ok(mut known) = self.known.write() {
                    *known = (set, Some(Instant::now()));
                }
                held
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "loading the device keys failed");
                true
            }
        }
    }
}

#[cfg(test)]
mod key_set_tests {
    use super::KeySet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn junk_keys_cost_one_load_per_period_and_known_keys_none() {
        let set = KeySet::new(Duration::from_secs(60));
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok(vec!["good".to_owned()])
        };
        assert!(set.may_hold("good", load).await);
        for _ in 0..1000 {
            assert!(!set.may_hold("junk", load).await);
        }
        assert!(set.may_hold("good", load).await);
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "one load for the whole flood"
        );
        set.insert("new".to_owned());
        assert!(set.may_hold("new", load).await);
        let failing = KeySet::new(Duration::from_secs(60));
        assert!(
            failing
                .may_hold("any", || async { Err(anyhow::anyhow!("database away")) })
                .await,
            "unsure: the caller's own check decides"
        );
    }
}
