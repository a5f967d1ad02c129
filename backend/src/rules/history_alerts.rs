//! Alerts new history rows raise (SPEC §5): a scrapped, overdue or life-expired cylinder seen
//! in circulation; a staff member operating without a valid certificate (seed 004 §6.5.3); a
//! delivery handed over away from the customer's registered place (seed 004 §6.8.1). Pure: the
//! custody stage gathers the facts.

use crate::rules::compliance::to_beijing;
use chrono::{DateTime, NaiveDate, Utc};
use shared::alert::AlertKind;
use shared::certificate::{required_certificate, CertificateKind};
use shared::cylinder::ScanOp;
use shared::history::HistoryOp;
use shared::registry::StaffRole;

/// The limits of these alerts, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A delivery handed over farther than this from the customer's registered place is off
    /// site (metres).
    pub delivery_max_distance_m: f64,
}

/// One history row, as the custody stage wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub op: HistoryOp,
    pub at: DateTime<Utc>,
}

/// The cylinder after its history was replayed.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub scrapped_at: Option<DateTime<Utc>>,
    /// The effective next inspection date (the newest passed inspection's, else the archive's).
    pub next_inspection_on: NaiveDate,
    pub life_ends_on: NaiveDate,
}

/// Whether the row is the cylinder moving among people: filled, loaded, delivered, collected,
/// returned, transferred, or seen on a vehicle. Inspections, checks and scrapping are not.
pub fn in_circulation(seen: &Seen) -> bool {
    match seen.op {
        HistoryOp::Scan(op) => matches!(
            op,
            ScanOp::Fill
                | ScanOp::Load
                | ScanOp::Deliver
                | ScanOp::CollectEmpty
                | ScanOp::ReturnIn
                | ScanOp::Transfer
        ),
        HistoryOp::BleSeen | HistoryOp::Filling => true,
        HistoryOp::BleLeft
        | HistoryOp::Check(_)
        | HistoryOp::Inspection(_)
        | HistoryOp::TagReplaced
        | HistoryOp::OwnerChanged => false,
    }
}

/// The alerts a row raises. A scrapped cylinder is only that (its dates no longer matter);
/// dates pass the day after them, in Beijing time, as in the compliance rules.
pub fn derive(seen: &Seen, cylinder: &Standing) -> Vec<AlertKind> {
    if !in_circulation(seen) {
        return Vec::new();
    }
    if cylinder.scrapped_at.is_some_and(|s| seen.at >= s) {
        return vec![AlertKind::CylinderScrappedInUse];
    }
    let day = to_beijing(seen.at).date_naive();
    let mut kinds = Vec::new();
    if day > cylinder.next_inspection_on {
        kinds.push(AlertKind::CylinderOverdue);
    }
    if day > cylinder.life_ends_on {
        kinds.push(AlertKind::CylinderLifeExpired);
    }
    kinds
}

/// Whether a staff member may do the work of `role` on the day of `at` (Beijing time): the
/// role needs no certificate (`shared::certificate::required_certificate`), or one of its kind
/// is `held` (kind, first day, last day) and valid that day (through its last day, as
/// licences are).
pub fn certified(
    role: StaffRole,
    held: &[(CertificateKind, NaiveDate, NaiveDate)],
    at: DateTime<Utc>,
) -> bool {
    let day = to_beijing(at).date_naive();
    required_certificate(role).is_none_or(|needed| {
        held.iter()
            .any(|(kind, from, to)| *kind == needed && *from <= day && day <= *to)
    })
}

/// Whether a consignee may receive a controlled medium on the day of `at` (Beijing time): it
/// holds a licence, not expired that day (valid through its last day; none recorded: no end).
pub fn consignee_licensed(
    licence_no: Option<&str>,
    expires: Option<NaiveDate>,
    at: DateTime<Utc>,
) -> bool {
    let day = to_beijing(at).date_naive();
    licence_no.is_some_and(|n| !n.trim().is_empty()) && expires.is_none_or(|e| day <= e)
}

/// Whether a handover at `distance_m` from the customer's registered place is off site.
pub fn off_site(distance_m: f64, max_m: f64) -> bool {
    distance_m > max_m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn certificates_and_handovers() {
        let on = |s| at(s);
        let hazmat = [(
            CertificateKind::HazmatTransport,
            date("2026-11-02"),
            date("2026-11-30"),
        )];
        let driver = StaffRole::Driver;
        assert!(certified(driver, &hazmat, on("2026-11-30T23:59:00+08:00")));
        assert!(certified(driver, &hazmat, on("2026-11-02T00:00:00+08:00")));
        assert!(!certified(driver, &hazmat, on("2026-12-01T00:00:00+08:00")));
        assert!(!certified(driver, &hazmat, on("2026-11-01T23:59:00+08:00")));
        assert!(!certified(driver, &[], on("2026-11-10T00:00:00+08:00")));
        // A filler's certificate is not a driver's; a role that needs none needs none.
        assert!(!certified(
            StaffRole::Filler,
            &hazmat,
            on("2026-11-10T00:00:00+08:00")
        ));
        assert!(certified(
            StaffRole::Warehouse,
            &[],
            on("2026-11-10T00:00:00+08:00")
        ));
        let through = Some(date("2026-11-30"));
        assert!(consignee_licensed(
            Some("N-1"),
            through,
            on("2026-11-30T23:59:00+08:00")
        ));
        assert!(!consignee_licensed(
            Some("N-1"),
            through,
            on("2026-12-01T00:00:00+08:00")
        ));
        assert!(consignee_licensed(
            Some("N-1"),
            None,
            on("2026-12-01T00:00:00+08:00")
        ));
        assert!(!consignee_licensed(
            None,
            None,
            on("2026-12-01T00:00:00+08:00")
        ));
        assert!(!off_site(200.0, 200.0));
        assert!(off_site(200.1, 200.0));
    }

    #[test]
    fn circulation_of_unfit_cylinders_alerts_with_stated_boundaries() {
        let sound = Standing {
            scrapped_at: None,
            next_inspection_on: date("2026-11-30"),
            life_ends_on: date("2030-01-01"),
        };
        let deliver = |t: &str| Seen {
            op: HistoryOp::Scan(ScanOp::Deliver),
            at: at(t),
        };
        // Due on 30 November (Beijing): still fine that day, overdue the next.
        assert!(derive(&deliver("2026-11-30T23:59:59+08:00"), &sound).is_empty());
        assert_eq!(
            derive(&deliver("2026-12-01T00:00:00+08:00"), &sound),
            [AlertKind::CylinderOverdue]
        );
        // 16:00 UTC on 30 November is already 1 December in Beijing.
        assert_eq!(
            derive(&deliver("2026-11-30T16:00:00Z"), &sound),
            [AlertKind::CylinderOverdue]
        );
        let old = Standing {
            life_ends_on: date("2026-06-01"),
            ..sound
        };
        assert_eq!(
            derive(&deliver("2026-12-02T08:00:00+08:00"), &old),
            [AlertKind::CylinderOverdue, AlertKind::CylinderLifeExpired]
        );
        // Scrapped: only that, from the scrapping on.
        let scrapped = Standing {
            scrapped_at: Some(at("2026-10-01T08:00:00+08:00")),
            ..old
        };
        assert_eq!(
            derive(&deliver("2026-12-02T08:00:00+08:00"), &scrapped),
            [AlertKind::CylinderScrappedInUse]
        );
        let seen = Seen {
            op: HistoryOp::BleSeen,
            at: at("2026-10-01T08:00:00+08:00"),
        };
        assert_eq!(derive(&seen, &scrapped), [AlertKind::CylinderScrappedInUse]);
        // Not circulation: an inspection, a check, a tag leaving a vehicle.
        for op in [
            HistoryOp::Scan(ScanOp::Inspect),
            HistoryOp::Check(shared::events::CheckStage::Pre),
            HistoryOp::BleLeft,
        ] {
            let s = Seen {
                op,
                at: at("2026-12-02T08:00:00+08:00"),
            };
            assert!(derive(&s, &scrapped).is_empty(), "{op:?}");
        }
    }
}
