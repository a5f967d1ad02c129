//! The filling contract: the gun's question, the platform's answer, the filling record.

use crate::ids::{CylinderCode, StaffNo, StationCode, TagId};
use crate::medium::Medium;
use crate::registry::Text;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/fillings/authorize`: may this gun fill this cylinder now?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cylinder_code: Option<CylinderCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<TagId>,
    pub station_code: StationCode,
    pub gun_no: Text,
    pub medium: Medium,
    pub staff_no: StaffNo,
}

/// A filling rule (README "Filling control"): R00–R16, E01 when the platform cannot decide in
/// time and E02 when events about the cylinder are acknowledged and not yet applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FillingRule {
    R00,
    R01,
    R02,
    R03,
    R04,
    R05,
    R06,
    R07,
    R08,
    R09,
    R10,
    R11,
    R12,
    /// The enterprise or the station is suspended or closed.
    R13,
    /// The filler has no filling operator certificate valid today.
    R14,
    /// The cylinder's medium is outside the enterprise's filling licence.
    R15,
    /// The cylinder is under a recall that is neither inspected nor cleared.
    R16,
    E01,
    E02,
}

crate::place::names!(FillingRule {
    R00 => "R00",
    R01 => "R01",
    R02 => "R02",
    R03 => "R03",
    R04 => "R04",
    R05 => "R05",
    R06 => "R06",
    R07 => "R07",
    R08 => "R08",
    R09 => "R09",
    R10 => "R10",
    R11 => "R11",
    R12 => "R12",
    R13 => "R13",
    R14 => "R14",
    R15 => "R15",
    R16 => "R16",
    E01 => "E01",
    E02 => "E02",
});

/// What a filling record revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FillingFlag {
    /// Net mass above the allowed fill mass.
    Overfill,
    /// The mass before filling far from the archived tare or the cylinder's recent fillings.
    TareMismatch,
    /// The record arrived later than `late_filling_s` after the filling ended.
    LateRecord,
    /// The gun filled a cylinder the platform had refused (the record names that decision).
    FilledDespiteRefusal,
    /// Filled at a suspended or closed station, or for a suspended or closed enterprise
    /// (R13): kept, since it happened, and raised as a high `filling_refused` alert.
    InactiveStation,
}

crate::place::names!(FillingFlag {
    Overfill => "overfill",
    TareMismatch => "tare_mismatch",
    LateRecord => "late_record",
    FilledDespiteRefusal => "filled_despite_refusal",
    InactiveStation => "inactive_station",
});

/// One rule that refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleReason {
    /// A `FillingRule`'s name. Text on the wire, so that a dashboard or gun built before a
    /// rule was added still shows it.
    pub rule: String,
    pub message: String,
}

/// The answer: allowed only when no rule refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeResponse {
    pub allowed: bool,
    pub decision_id: Uuid,
    pub reasons: Vec<RuleReason>,
}

/// `POST /api/v1/fillings`: a filling record (seed 004 Appendix C.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFilling {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<Uuid>,
    pub cylinder_code: CylinderCode,
    pub station_code: StationCode,
    pub licence_no: Text,
    pub gun_no: Text,
    pub staff_no: StaffNo,
    pub staff_name: Text,
    pub started_at: DateTime<FixedOffset>,
    pub ended_at: DateTime<FixedOffset>,
    pub mass_before_kg: f64,
    pub mass_after_kg: f64,
}

/// What the record revealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillingResponse {
    pub id: Uuid,
    /// `filled_despite_refusal`, `tare_mismatch`, `overfill`, `late_record`.
    pub flags: Vec<FillingFlag>,
    /// Seconds between the end of filling and the record's arrival.
    pub late_s: f64,
}

/// One decision as the station view lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionLine {
    pub id: Uuid,
    pub decided_at: DateTime<FixedOffset>,
    pub gun_no: String,
    pub cylinder_code: Option<crate::ids::CylinderCode>,
    pub tag_id: Option<crate::ids::TagId>,
    pub allowed: bool,
    pub reasons: Vec<RuleReason>,
}

/// How many refusals one rule caused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleCount {
    pub rule: String,
    pub count: i64,
}

/// `GET /api/v1/stations/{code}/filling-summary?date=`: one station's day (Beijing time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationFillingSummary {
    pub station_code: crate::ids::StationCode,
    pub station_name: String,
    pub date: chrono::NaiveDate,
    pub decisions: i64,
    pub allowed: i64,
    pub refused: i64,
    /// Refusals for an unknown tag or code (R00).
    pub illegal_tags: i64,
    pub refusals_by_rule: Vec<RuleCount>,
    pub fillings: i64,
    pub flagged_fillings: i64,
    pub late_records: i64,
    pub max_late_s: Option<f64>,
    pub mean_late_s: Option<f64>,
    /// The newest 50 decisions of the day, newest first.
    pub recent: Vec<DecisionLine>,
}
