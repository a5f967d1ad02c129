//! Stage 1 of the live pipeline: is a GPS fix plausible enough to move a vehicle on the live
//! state? A fix judged here is kept with its reason (`filtered_fixes`), never applied.

use chrono::{DateTime, Duration, Utc};

/// The limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Off: every fix is applied (only the same event twice is recognised).
    pub enabled: bool,
    /// A fix this far ahead of its receipt is from a wrong clock.
    pub max_future: Duration,
    /// A fix this far behind its receipt is history, not the present.
    pub max_age: Duration,
    /// Faster than this between two fixes is a jump (a multipath or spoofed position).
    pub max_speed_kmh: f64,
    /// Movements up to this many metres are never jumps (GPS noise over short intervals).
    pub noise_m: f64,
}

/// The vehicle's newest applied fix, and the newest fix filtered as a jump after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub event_id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub jumped: Option<Spot>,
}

/// A time and place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
}

/// A fix under judgement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fix {
    pub event_id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
    pub received_at: DateTime<Utc>,
}

/// Why a fix was not applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Filtered {
    Future,
    FarPast,
    /// The speed it would take from the prior fix, km/h.
    Jump(f64),
    /// Same time and place as the prior fix, under another event id.
    Duplicate,
}

impl Filtered {
    /// The stable snake_case name kept with the fix.
    pub fn name(self) -> &'static str {
        match self {
            Self::Future => "future",
            Self::FarPast => "far_past",
            Self::Jump(_) => "jump",
            Self::Duplicate => "duplicate",
        }
    }
}

/// What to do with a fix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Apply,
    /// The prior fix itself (the same event handled again): nothing to do.
    Seen,
    Filter(Filtered),
}

/// Judges a fix against the vehicle's newest applied one.
pub fn judge(fix: &Fix, prior: Option<&Prior>, policy: &Policy) -> Verdict {
    if prior.is_some_and(|p| p.event_id == fix.event_id) {
        return Verdict::Seen;
    }
    if !policy.enabled {
        return Verdict::Apply;
    }
    let latest = fix.received_at.checked_add_signed(policy.max_future);
    if latest.is_some_and(|latest| fix.at > latest) {
        return Verdict::Filter(Filtered::Future);
    }
    let earliest = fix.received_at.checked_sub_signed(policy.max_age);
    if earliest.is_some_and(|earliest| fix.at < earliest) {
        return Verdict::Filter(Filtered::FarPast);
    }
    let Some(prior) = prior else {
        return Verdict::Apply;
    };
    let here = Spot {
        at: fix.at,
        lon: fix.lon,
        lat: fix.lat,
    };
    let from_prior = Spot {
        at: prior.at,
        lon: prior.lon,
        lat: prior.lat,
    };
    // Times as stored (microseconds): a fix read back equals the one sent.
    if fix.at.timestamp_micros() == prior.at.timestamp_micros()
        && distance_m(prior.lon, prior.lat, fix.lon, fix.lat) < 0.5
    {
        return Verdict::Filter(Filtered::Duplicate);
    }
    let Some(kmh) = jump_speed(&from_prior, &here, policy) else {
        return Verdict::Apply;
    };
    // A jump that agrees with the previous jump (a plausible move from it, later than it): two
    // fixes say the vehicle is elsewhere, so the prior was the wrong one (a bad first fix, or a
    // vehicle carried while its GPS was off). Without this, one bad fix would hold a vehicle
    // for ever.
    let agrees = prior
        .jumped
        .filter(|j| j.at < fix.at)
        .is_some_and(|j| jump_speed(&j, &here, policy).is_none());
    if agrees {
        Verdict::Apply
    } else {
        Verdict::Filter(Filtered::Jump(kmh))
    }
}

/// The speed from `a` to `b` when it is a jump (beyond the noise and the speed limit).
fn jump_speed(a: &Spot, b: &Spot, policy: &Policy) -> Option<f64> {
    let metres = distance_m(a.lon, a.lat, b.lon, b.lat);
    if metres <= policy.noise_m {
        return None;
    }
    let ms = (b.at - a.at).num_milliseconds().unsigned_abs();
    // Two places at the same instant: as fast as a jump gets.
    let kmh = if ms == 0 {
        f64::INFINITY
    } else {
        metres / 1000.0 / (precise(ms) / 3_600_000.0)
    };
    (kmh > policy.max_speed_kmh).then_some(kmh)
}

fn precise(ms: u64) -> f64 {
    // Exact for any interval below 2^53 ms (285,000 years).
    let high = u32::try_from(ms >> 32).unwrap_or(u32::MAX);
    let low = u32::try_from(ms & 0xFFFF_FFFF).unwrap_or(u32::MAX);
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            enabled: true,
            max_future: Duration::minutes(2),
            max_age: Duration::hours(24),
            max_speed_kmh: 180.0,
            noise_m: 200.0,
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_795_000_000 + s, 0).unwrap_or_default()
    }

    fn fix(s: i64, lon: f64, lat: f64) -> Fix {
        Fix {
            event_id: uuid::Uuid::new_v4(),
            at: t(s),
            lon,
            lat,
            received_at: t(s),
        }
    }

    fn prior(s: i64, lon: f64, lat: f64) -> Prior {
        Prior {
            event_id: uuid::Uuid::new_v4(),
            at: t(s),
            lon,
            lat,
            jumped: None,
        }
    }

    #[test]
    fn a_timed_track_is_judged_fix_by_fix() {
        let p = policy();
        // 0.01° of latitude is about 1.11 km.
        let start = prior(0, 113.6, 34.7);
        assert_eq!(
            judge(&fix(60, 113.6, 34.71), Some(&start), &p),
            Verdict::Apply
        ); // 67 km/h
        match judge(&fix(10, 113.6, 34.71), Some(&start), &p) {
            Verdict::Filter(Filtered::Jump(kmh)) => assert!((399.0..401.0).contains(&kmh)),
            other => panic!("{other:?}"),
        }
        // Noise: 100 m in one second is not a jump.
        assert_eq!(
            judge(&fix(1, 113.6, 34.7009), Some(&start), &p),
            Verdict::Apply
        );
        assert_eq!(
            judge(&fix(0, 113.6, 34.7), Some(&start), &p),
            Verdict::Filter(Filtered::Duplicate)
        );
        assert!(matches!(
            judge(&fix(0, 113.61, 34.7), Some(&start), &p),
            Verdict::Filter(Filtered::Jump(k)) if k.is_infinite()
        ));
        let same = Fix {
            event_id: start.event_id,
            ..fix(0, 113.6, 34.7)
        };
        assert_eq!(judge(&same, Some(&start), &p), Verdict::Seen);
        // Clock limits, with their boundaries: exactly 2 min ahead and 24 h behind still apply.
        let mut f = fix(0, 113.6, 34.7);
        f.at = f.received_at + Duration::minutes(2);
        assert_eq!(judge(&f, None, &p), Verdict::Apply);
        f.at += Duration::seconds(1);
        assert_eq!(judge(&f, None, &p), Verdict::Filter(Filtered::Future));
        f.at = f.received_at - Duration::hours(24);
        assert_eq!(judge(&f, None, &p), Verdict::Apply);
        f.at -= Duration::seconds(1);
        assert_eq!(judge(&f, None, &p), Verdict::Filter(Filtered::FarPast));
        let off = Policy {
            enabled: false,
            ..p
        };
        assert_eq!(judge(&f, None, &off), Verdict::Apply);
    }

    #[test]
    fn two_jumps_that_agree_move_the_vehicle() {
        let p = policy();
        // A bad first fix far away, then the real track: the first real fix is a jump, the
        // second agrees with it and moves the vehicle.
        let mut bad = prior(0, 114.5, 35.5);
        let real = fix(30, 113.6, 34.7);
        assert!(matches!(
            judge(&real, Some(&bad), &p),
            Verdict::Filter(Filtered::Jump(_))
        ));
        bad.jumped = Some(Spot {
            at: real.at,
            lon: real.lon,
            lat: real.lat,
        });
        assert_eq!(
            judge(&fix(60, 113.6, 34.701), Some(&bad), &p),
            Verdict::Apply
        );
        // A second jump somewhere else again does not.
        assert!(matches!(
            judge(&fix(60, 113.0, 34.0), Some(&bad), &p),
            Verdict::Filter(Filtered::Jump(_))
        ));
        // Nor does an agreeing fix older than the jump it would agree with.
        assert!(matches!(
            judge(&fix(20, 113.6, 34.701), Some(&bad), &p),
            Verdict::Filter(Filtered::Jump(_))
        ));
    }

    #[test]
    fn distances_are_metres() {
        let d = distance_m(113.6, 34.7, 113.6, 34.71);
        assert!((1110.0..1113.0).contains(&d), "{d}");
        assert!(distance_m(113.6, 34.7, 113.6, 34.7) < 1e-6);
    }
}
