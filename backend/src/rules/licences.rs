//! Licence validity (issue 21 item 3): where a licence or certificate stands on a Beijing date.
//! A licence is valid through its end date and expired from the day after (as R01/R02 judge
//! it at the gun); within `warn_days` of its end (the end date itself included) it is expiring.

use chrono::NaiveDate;
use shared::alert::AlertKind;

/// Which licences the daily pass warns of before they end, and how far ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Days ahead of the end date that `licence_expiring` is raised.
    pub warn_days: u32,
    /// The licence kinds warned of (`filling_licence`, `staff_certificate` ...); `None`: all.
    pub warned_kinds: Option<Vec<String>>,
}

impl Policy {
    /// Whether licences of `kind` are warned of before they end.
    pub fn warns(&self, kind: &str) -> bool {
        self.warned_kinds
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k == kind))
    }
}

/// Where one licence stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Valid beyond the warning window.
    Valid,
    /// Valid today, ending within the warning window (`days_left` 0: today is its last day).
    Expiring { days_left: i64 },
    /// Not valid today: its end date has passed (`days_left` negative).
    Expired { days_left: i64 },
}

impl Standing {
    /// The alert this standing raises, if any.
    pub fn alert(self) -> Option<AlertKind> {
        match self {
            Self::Valid => None,
            Self::Expiring { .. } => Some(AlertKind::LicenceExpiring),
            Self::Expired { .. } => Some(AlertKind::LicenceExpired),
        }
    }
}

/// Where a licence of `kind` ending on `valid_to` stands on `today` under `policy`: a kind
/// not warned of is `Valid` until it has expired.
pub fn standing(kind: &str, valid_to: NaiveDate, today: NaiveDate, policy: &Policy) -> Standing {
    let days_left = (valid_to - today).num_days();
    if days_left < 0 {
        Standing::Expired { days_left }
    } else if days_left <= i64::from(policy.warn_days) && policy.warns(kind) {
        Standing::Expiring { days_left }
    } else {
        Standing::Valid
    }
}

/// Whether an open alert of `kind` about a licence still holds: an expired one while the
/// licence is not valid today, an expiring one while its end is within the window (an
/// expiring notice stays on when the licence then expires: it was not renewed).
pub fn holds(kind: AlertKind, standing: Standing) -> bool {
    matches!(
        (kind, standing),
        (AlertKind::LicenceExpired, Standing::Expired { .. })
            | (
                AlertKind::LicenceExpiring,
                Standing::Expiring { .. } | Standing::Expired { .. }
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn all(warn_days: u32) -> Policy {
        Policy {
            warn_days,
            warned_kinds: None,
        }
    }

    #[test]
    fn valid_through_its_end_date_expired_the_day_after() {
        let today = day("2026-12-07");
        let p = all(30);
        let at = |d: &str| standing("gas_licence", day(d), today, &p);
        assert_eq!(at("2026-12-07"), Standing::Expiring { days_left: 0 });
        assert_eq!(at("2026-12-06"), Standing::Expired { days_left: -1 });
        assert_eq!(at("2027-01-06"), Standing::Expiring { days_left: 30 });
        assert_eq!(at("2027-01-07"), Standing::Valid);
        assert_eq!(at("2026-12-17").alert(), Some(AlertKind::LicenceExpiring));
        assert_eq!(at("2020-01-01").alert(), Some(AlertKind::LicenceExpired));
        assert_eq!(at("2030-01-01").alert(), None);
    }

    #[test]
    fn only_the_kinds_named_are_warned_of_but_every_kind_expires() {
        let today = day("2026-12-07");
        let p = Policy {
            warn_days: 30,
            warned_kinds: Some(vec!["filling_licence".into()]),
        };
        assert!(p.warns("filling_licence") && !p.warns("staff_certificate"));
        let soon = day("2026-12-17");
        assert_eq!(
            standing("staff_certificate", soon, today, &p),
            Standing::Valid
        );
        assert_eq!(
            standing("filling_licence", soon, today, &p),
            Standing::Expiring { days_left: 10 }
        );
        assert_eq!(
            standing("staff_certificate", day("2026-12-01"), today, &p),
            Standing::Expired { days_left: -6 }
        );
    }

    #[test]
    fn an_alert_holds_until_the_licence_is_renewed() {
        let expiring = Standing::Expiring { days_left: 3 };
        let expired = Standing::Expired { days_left: -1 };
        assert!(holds(AlertKind::LicenceExpiring, expiring));
        assert!(holds(AlertKind::LicenceExpiring, expired));
        assert!(!holds(AlertKind::LicenceExpiring, Standing::Valid));
        assert!(holds(AlertKind::LicenceExpired, expired));
        assert!(!holds(AlertKind::LicenceExpired, expiring));
        assert!(!holds(AlertKind::LicenceExpired, Standing::Valid));
        assert!(!holds(AlertKind::DeviceSilent, expired));
    }
}
