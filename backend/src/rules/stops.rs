//! Suspicious stops (SPEC §5): a loaded vehicle standing still outside every known site for too
//! long — a suspected illegal transfer or black filling point. Pure: the fence stage keeps each
//! vehicle's current stop and asks here after every move.

use crate::rules::gps::distance_m;
use chrono::{DateTime, Duration, Utc};

/// Where a vehicle has been standing since when; `noted` once its alert was raised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stop {
    pub lon: f64,
    pub lat: f64,
    pub since: DateTime<Utc>,
    pub noted: bool,
}

/// The limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Moves within this of where the stop began are standing still (metres).
    pub radius_m: f64,
    /// Standing this long (loaded, outside sites) is suspicious.
    pub limit: Duration,
}

/// The vehicle's stop after a move to `to` at `at`, and whether it became suspicious now (once
/// per stop): still within `radius_m` of the stop's start for `limit`, carrying cylinders,
/// at no known site.
pub fn step(
    stop: Option<Stop>,
    to: (f64, f64),
    at: DateTime<Utc>,
    loaded: bool,
    at_site: bool,
    policy: &Policy,
) -> (Stop, bool) {
    let standing =
        stop.filter(|s| distance_m(s.lon, s.lat, to.0, to.1) <= policy.radius_m && at >= s.since);
    let Some(mut stop) = standing else {
        return (
            Stop {
                lon: to.0,
                lat: to.1,
                since: at,
                noted: false,
            },
            false,
        );
    };
    let suspicious = !stop.noted && loaded && !at_site && at - stop.since >= policy.limit;
    if suspicious {
        stop.noted = true;
    }
    (stop, suspicious)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loaded_vehicle_standing_outside_sites_for_twenty_minutes() {
        let t =
            |m: i64| DateTime::<Utc>::from_timestamp(1_795_000_000 + m * 60, 0).unwrap_or_default();
        let p = Policy {
            radius_m: 100.0,
            limit: Duration::minutes(20),
        };
        let here = (113.7, 34.9);
        let near = (113.7005, 34.9); // about 46 m
        let (s, hit) = step(None, here, t(0), true, false, &p);
        assert!(!hit);
        let (s, hit) = step(Some(s), near, t(10), true, false, &p);
        assert!(!hit);
        assert_eq!(s.since, t(0));
        let (s, hit) = step(Some(s), here, t(20), true, false, &p);
        assert!(hit, "exactly 20 minutes");
        let (s, hit) = step(Some(s), here, t(30), true, false, &p);
        assert!(!hit, "once per stop");
        // Moving on starts a new stop.
        let (s, hit) = step(Some(s), (113.72, 34.9), t(31), true, false, &p);
        assert!(!hit);
        assert_eq!((s.since, s.noted), (t(31), false));
        // Empty, or at a site: never suspicious; but the stop goes on.
        let (s2, hit) = step(Some(s), (113.72, 34.9), t(60), false, false, &p);
        assert!(!hit && !s2.noted);
        let (_, hit) = step(Some(s2), (113.72, 34.9), t(60), true, true, &p);
        assert!(!hit);
        let (_, hit) = step(Some(s2), (113.72, 34.9), t(61), true, false, &p);
        assert!(hit, "loaded and away from sites after 30 min");
    }
}
