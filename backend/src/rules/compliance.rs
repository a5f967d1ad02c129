//! Compliance of a cylinder on a date (SPEC §1): every status that applies, worst first.

use chrono::{Duration, NaiveDate, Utc};
use shared::cylinder::Compliance;

/// Calendar dates are Beijing time (Asia/Shanghai: UTC+8, no daylight saving).
pub fn today_in_shanghai() -> NaiveDate {
    (Utc::now().naive_utc() + Duration::hours(8)).date()
}

/// An instant in Beijing time, as the API shows instants (shared with the simulator).
pub use shared::time::to_beijing;

/// The dates compliance depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplianceFacts {
    pub next_inspection_on: NaiveDate,
    pub life_ends_on: NaiveDate,
    pub registered: bool,
    pub scrapped: bool,
}

/// Every status that applies on `as_of`, worst first; `[Ok]` when none does. A date "passes"
/// the day after it: a cylinder due for inspection on the 1st may still be used on the 1st.
pub fn statuses(facts: &ComplianceFacts, as_of: NaiveDate, due_soon_days: u32) -> Vec<Compliance> {
    let mut found = Vec::new();
    if facts.scrapped {
        found.push(Compliance::Scrapped);
    }
    if as_of > facts.life_ends_on {
        found.push(Compliance::LifeExpired);
    }
    if as_of > facts.next_inspection_on {
        found.push(Compliance::InspectionOverdue);
    }
    if !facts.registered {
        found.push(Compliance::Unregistered);
    }
    let due_soon_from = facts.next_inspection_on - Duration::days(i64::from(due_soon_days));
    if as_of <= facts.next_inspection_on && as_of > due_soon_from {
        found.push(Compliance::DueSoon);
    }
    if found.is_empty() {
        found.push(Compliance::Ok);
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts() -> ComplianceFacts {
        ComplianceFacts {
            next_inspection_on: day("2027-03-01"),
            life_ends_on: day("2030-01-01"),
            registered: true,
            scrapped: false,
        }
    }

    #[test]
    fn boundaries() {
        let f = facts();
        assert_eq!(statuses(&f, day("2027-01-01"), 30), [Compliance::Ok]);
        assert_eq!(statuses(&f, day("2027-01-30"), 30), [Compliance::Ok]);
        assert_eq!(statuses(&f, day("2027-01-31"), 30), [Compliance::DueSoon]);
        assert_eq!(statuses(&f, day("2027-03-01"), 30), [Compliance::DueSoon]);
        assert_eq!(
            statuses(&f, day("2027-03-02"), 30),
            [Compliance::InspectionOverdue]
        );
        assert_eq!(
            statuses(&f, day("2030-01-02"), 30),
            [Compliance::LifeExpired, Compliance::InspectionOverdue]
        );
    }

    #[test]
    fn worst_first() {
        let f = ComplianceFacts {
            registered: false,
            scrapped: true,
            ..facts()
        };
        assert_eq!(
            statuses(&f, day("2027-02-15"), 30),
            [
                Compliance::Scrapped,
                Compliance::Unregistered,
                Compliance::DueSoon
            ]
        );
        assert_eq!(statuses(&f, day("2031-01-01"), 30)[0], Compliance::Scrapped);
    }
}
