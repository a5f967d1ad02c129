//! Staff certificates (issue 21 item 3): a list per person, each of a kind, with its validity.
//! Which kind each role needs is [`required_certificate`], the one table of it.

use crate::error::ErrorDetail;
use crate::registry::{invalid, StaffRole, Text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A kind of staff certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// 充装作业人员证: a filler's (R14 at the gun).
    FillingOperator,
    /// 危险货物运输从业资格证: a driver's or escort's (`staff_uncertified` on deliveries).
    HazmatTransport,
}

crate::place::names!(CertificateKind {
    FillingOperator => "filling_operator",
    HazmatTransport => "hazmat_transport",
});

impl CertificateKind {
    /// The certificate's Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::FillingOperator => "充装作业人员证",
            Self::HazmatTransport => "危险货物运输从业资格证",
        }
    }
}

/// The certificate a role needs to work, if any: THE table (fillers fill, drivers and escorts
/// carry dangerous goods; the others need none).
pub fn required_certificate(role: StaffRole) -> Option<CertificateKind> {
    match role {
        StaffRole::Filler => Some(CertificateKind::FillingOperator),
        StaffRole::Driver | StaffRole::Escort => Some(CertificateKind::HazmatTransport),
        StaffRole::Warehouse | StaffRole::Inspector | StaffRole::Repair => None,
    }
}

/// One certificate: valid from its first day (if it names one) through its last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub kind: CertificateKind,
    pub number: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    pub valid_to: NaiveDate,
}

impl Certificate {
    /// Valid on `day`: not before its first day, not after its last.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && day <= self.valid_to
    }
}

/// Each certificate's period runs forward and no (kind, number) repeats; the field named is
/// `certificates[i].…`.
pub fn check_certificates(list: &[Certificate]) -> Result<(), ErrorDetail> {
    for (i, c) in list.iter().enumerate() {
        if c.valid_from.is_some_and(|from| c.valid_to < from) {
            return Err(invalid(
                &format!("certificates[{i}].valid_to"),
                "the certificate ends (valid_to) before it starts (valid_from)",
            ));
        }
        if list[..i]
            .iter()
            .any(|o| o.kind == c.kind && o.number == c.number)
        {
            return Err(invalid(
                &format!("certificates[{i}].number"),
                "the same certificate (kind and number) is listed twice",
            ));
        }
    }
    Ok(())
}

/// The list in its stored order: by kind, last day, number.
pub fn sorted(mut list: Vec<Certificate>) -> Vec<Certificate> {
    list.sort_by(|a, b| {
        (a.kind, a.valid_to, a.number.as_str()).cmp(&(b.kind, b.valid_to, b.number.as_str()))
    });
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn roles_need_their_kind_and_validity_is_inclusive() {
        assert_eq!(
            required_certificate(StaffRole::Filler),
            Some(CertificateKind::FillingOperator)
        );
        assert_eq!(
            required_certificate(StaffRole::Escort),
            Some(CertificateKind::HazmatTransport)
        );
        assert_eq!(required_certificate(StaffRole::Warehouse), None);
        let c: Certificate = crate::registry::parse(serde_json::json!({
            "kind": "filling_operator", "number": "TS-1", "valid_from": "2026-01-01",
            "valid_to": "2026-12-31"}))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(c.valid_on(day("2026-01-01")) && c.valid_on(day("2026-12-31")));
        assert!(!c.valid_on(day("2025-12-31")) && !c.valid_on(day("2027-01-01")));
        let backwards = Certificate {
            valid_to: day("2025-01-01"),
            ..c.clone()
        };
        let e = check_certificates(&[c.clone(), backwards]).err();
        assert_eq!(
            e.and_then(|e| e.field),
            Some("certificates[1].valid_to".to_owned())
        );
        let e = check_certificates(&[c.clone(), c]).err();
        assert_eq!(
            e.and_then(|e| e.field),
            Some("certificates[1].number".to_owned())
        );
    }
}
