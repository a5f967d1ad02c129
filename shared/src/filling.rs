//! The filling contract: the gun's question, the platform's answer, the filling record.

use crate::ids::{CylinderCode, StaffNo, StationCode, TagId};
use crate::medium::Medium;
use crate::registry::Text;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/fillings/authorize`: may this gun fill this cylinder now?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    #[serde(default)]
    pub cylinder_code: Option<CylinderCode>,
    #[serde(default)]
    pub tag_id: Option<TagId>,
    pub station_code: StationCode,
    pub gun_no: Text,
    pub medium: Medium,
    pub staff_no: StaffNo,
}

/// One rule that refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleReason {
    pub rule: String,
    pub message: String,
}

/// The answer: allowed only when no rule refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    pub allowed: bool,
    pub decision_id: Uuid,
    pub reasons: Vec<RuleReason>,
}

/// `POST /api/v1/fillings`: a filling record (seed 004 Appendix C.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFilling {
    #[serde(default)]
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
pub struct FillingResponse {
    pub id: Uuid,
    /// `overfill`, `tare_mismatch`, `late_record`.
    pub flags: Vec<String>,
    /// Seconds between the end of filling and the record's arrival.
    pub late_s: f64,
}
