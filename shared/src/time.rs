//! Calendar time as the platform counts it: dates are Beijing dates (UTC+8).

use chrono::{DateTime, FixedOffset, Utc};

/// An instant in Beijing time (UTC+8, no daylight saving), as the API shows instants; its date
/// is the calendar day compliance counts.
pub fn to_beijing(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    match FixedOffset::east_opt(8 * 3600) {
        Some(offset) => at.with_timezone(&offset),
        None => at.fixed_offset(),
    }
}
