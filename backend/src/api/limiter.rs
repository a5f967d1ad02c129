//! The rate limit of the public and login endpoints: requests per source address and minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// A fixed one-minute window per source address.
pub struct RateLimiter {
    per_minute: u32,
    started: Instant,
    windows: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

impl RateLimiter {
    /// Allows `per_minute` requests per address and minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            started: Instant::now(),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request; false when the address is over its limit.
    pub fn allow(&self, addr: IpAddr) -> bool {
        let minute = self.started.elapsed().as_secs() / 60;
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(addr).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_address() {
        let limiter = RateLimiter::new(2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.allow(a));
        assert!(limiter.allow(a));
        assert!(!limiter.allow(a));
        assert!(limiter.allow(b));
    }
}
