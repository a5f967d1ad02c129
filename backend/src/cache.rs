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
