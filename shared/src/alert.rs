//! Alerts (API.md "Alerts"; SPEC §5–§6): what was found, about whom, how bad, and what the duty
//! officers did about it.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::ids::GeoPoint;

/// Every alert kind in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    CylinderOverdue,
    CylinderLifeExpired,
    CylinderScrappedInUse,
    OverweightStock,
    FillingRefused,
    IllegalTag,
    Overfill,
    TareMismatch,
    DeliveryOffSite,
    UnloadedUnknownPlace,
    SuspiciousStop,
    RestrictedZone,
    CorridorExit,
    ControlledMediumUnlicensed,
    StaffUncertified,
    DeviceSilent,
    CylinderLost,
    LateFillingRecord,
    /// A gun was asked to fill a cylinder registered to another enterprise.
    ForeignCylinderFilling,
    /// A suspended vehicle moves carrying cylinders (once per suspension).
    VehicleSuspended,
    /// A licence or certificate ends within `licence_warn_days` (once per licence and end date).
    LicenceExpiring,
    /// A licence or certificate ended: the first day without a valid one (once per end date).
    LicenceExpired,
    /// A vehicle terminal's emergency alarm (the driver pressed the button; JT/T 808 alarm bit
    /// 0): one open alert per vehicle, each report of it counted.
    VehicleEmergency,
}

impl AlertKind {
    /// Every kind, in the contract's order.
    pub const ALL: [AlertKind; 23] = [
        Self::CylinderOverdue,
        Self::CylinderLifeExpired,
        Self::CylinderScrappedInUse,
        Self::OverweightStock,
        Self::FillingRefused,
        Self::IllegalTag,
        Self::Overfill,
        Self::TareMismatch,
        Self::DeliveryOffSite,
        Self::UnloadedUnknownPlace,
        Self::SuspiciousStop,
        Self::RestrictedZone,
        Self::CorridorExit,
        Self::ControlledMediumUnlicensed,
        Self::StaffUncertified,
        Self::DeviceSilent,
        Self::CylinderLost,
        Self::LateFillingRecord,
        Self::ForeignCylinderFilling,
        Self::VehicleSuspended,
        Self::LicenceExpiring,
        Self::LicenceExpired,
        Self::VehicleEmergency,
    ];

    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CylinderOverdue => "cylinder_overdue",
            Self::CylinderLifeExpired => "cylinder_life_expired",
            Self::CylinderScrappedInUse => "cylinder_scrapped_in_use",
            Self::OverweightStock => "overweight_stock",
            Self::FillingRefused => "filling_refused",
            Self::IllegalTag => "illegal_tag",
            Self::Overfill => "overfill",
            Self::TareMismatch => "tare_mismatch",
            Self::DeliveryOffSite => "delivery_off_site",
            Self::UnloadedUnknownPlace => "unloaded_unknown_place",
            Self::SuspiciousStop => "suspicious_stop",
            Self::RestrictedZone => "restricted_zone",
            Self::CorridorExit => "corridor_exit",
            Self::ControlledMediumUnlicensed => "controlled_medium_unlicensed",
            Self::StaffUncertified => "staff_uncertified",
            Self::DeviceSilent => "device_silent",
            Self::CylinderLost => "cylinder_lost",
            Self::LateFillingRecord => "late_filling_record",
            Self::ForeignCylinderFilling => "foreign_cylinder_filling",
            Self::VehicleSuspended => "vehicle_suspended",
            Self::LicenceExpiring => "licence_expiring",
            Self::LicenceExpired => "licence_expired",
            Self::VehicleEmergency => "vehicle_emergency",
        }
    }

    /// The kind with that name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How bad an alert of this kind is when nothing about it says otherwise. Critical: a
    /// cylinder that must not exist is in use, or a controlled medium went astray; high: a
    /// safety rule was broken or evaded; medium: a sign of cheating or loss; low: paperwork.
    pub fn severity(self) -> Severity {
        match self {
            Self::CylinderScrappedInUse
            | Self::ControlledMediumUnlicensed
            | Self::VehicleEmergency => Severity::Critical,
            Self::CylinderOverdue
            | Self::CylinderLifeExpired
            | Self::OverweightStock
            | Self::IllegalTag
            | Self::Overfill
            | Self::UnloadedUnknownPlace
            | Self::SuspiciousStop
            | Self::RestrictedZone
            | Self::ForeignCylinderFilling
            | Self::VehicleSuspended
            | Self::LicenceExpired => Severity::High,
            Self::FillingRefused
            | Self::TareMismatch
            | Self::DeliveryOffSite
            | Self::CorridorExit
            | Self::StaffUncertified
            | Self::CylinderLost => Severity::Medium,
            Self::DeviceSilent | Self::LateFillingRecord | Self::LicenceExpiring => Severity::Low,
        }
    }
}

/// How urgent an alert is; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The severity with that name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Low, Self::Medium, Self::High, Self::Critical]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// Where an alert is in its life: `open` → `acknowledged` → `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    /// The status with that name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Open, Self::Acknowledged, Self::Resolved]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// What an alert is about: `{"type": "station", "id": "ST1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subject {
    /// `cylinder`, `vehicle`, `station`, `customer`, `warehouse`, `staff`, `device`, `tag`,
    /// `enterprise` (its licences).
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// Who acknowledged or resolved, when, and what they wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Handling {
    pub by: String,
    pub at: DateTime<FixedOffset>,
    pub note: String,
}

/// One alert as listed and pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: uuid::Uuid,
    pub kind: AlertKind,
    pub severity: Severity,
    pub status: AlertStatus,
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<crate::ids::DistrictCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<GeoPoint>,
    /// The place's name, when it is a known site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_name: Option<String>,
    pub opened_at: DateTime<FixedOffset>,
    pub last_seen_at: DateTime<FixedOffset>,
    /// How many times the condition was seen while this alert stayed unresolved.
    pub count: i64,
    /// The facts behind the alert (positions, events, counts, limits); the newest sighting's.
    pub evidence: serde_json::Value,
    /// Set when the condition is seen to have ended (stock back under its limit); the alert
    /// stays for the duty officer to resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_ended_at: Option<DateTime<FixedOffset>>,
    /// Set when a critical alert went unacknowledged too long and was pushed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Handling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Handling>,
}

/// `POST /api/v1/alerts/{id}/ack` and `/resolve`: `{"note": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    #[serde(default)]
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::from_name(kind.name()), Some(kind));
            let json = serde_json::to_value(kind).unwrap_or_default();
            assert_eq!(json, serde_json::json!(kind.name()));
        }
        assert!(Severity::Critical > Severity::High && Severity::Medium > Severity::Low);
        for s in ["low", "medium", "high", "critical"] {
            assert_eq!(Severity::from_name(s).map(Severity::name), Some(s));
        }
        for s in ["open", "acknowledged", "resolved"] {
            assert_eq!(AlertStatus::from_name(s).map(AlertStatus::name), Some(s));
        }
        assert_eq!(AlertKind::from_name("fire"), None);
    }
}
