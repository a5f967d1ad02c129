//! Recalls (issue 22 item 3): a regulator recalls a set of cylinders; every recalled cylinder
//! is refused at every gun (R16) until it is inspected or cleared.

use crate::ids::{CylinderCode, EnterpriseCode, StationCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most cylinders one recall names by code.
pub const MAX_RECALL_CODES: usize = 100_000;

/// `POST /api/v1/recalls`: why, and exactly one set — cylinder codes; a station and a window
/// of filling time; or a manufacturer and production batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRecall {
    /// 1 to [`crate::auth::MAX_REASON_CHARS`] characters, no control characters.
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cylinder_codes: Option<Vec<CylinderCode>>,
    /// With `filled_from` and `filled_to`: the cylinders filled there in that window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_code: Option<StationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_to: Option<DateTime<Utc>>,
    /// With `production_batch`: the archive's manufacturer and production batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_batch: Option<String>,
    /// `true`, with `incident_id`: the incident's cylinder and its whole batch as its context
    /// defines it (filled with it at the same station within ±2 h, same medium; the same
    /// manufacturer and production batch), however many (the context lists only a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_batch: Option<bool>,
}

/// `201` of `POST /api/v1/recalls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecallCreated {
    pub id: uuid::Uuid,
    /// Cylinders recalled.
    pub count: i64,
}

/// Where a recall stands, over the cylinders the asker may see (an enterprise: its share).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecallProgress {
    pub recalled: i64,
    /// Seen (any record) since the recall.
    pub located: i64,
    /// Back in an enterprise's hands (collected, returned or stored in) since the recall.
    pub recovered: i64,
    /// Inspected since the recall: no longer refused.
    pub inspected: i64,
    /// Cleared by a regulator: no longer refused.
    pub cleared: i64,
    /// Still refused at the guns (neither inspected nor cleared).
    pub open: i64,
}

/// One recalled cylinder, with its last known place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecalledCylinder {
    pub code: CylinderCode,
    pub enterprise_code: EnterpriseCode,
    pub custody: Option<String>,
    pub place_kind: Option<String>,
    pub place_code: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub located_at: Option<DateTime<Utc>>,
    pub recovered_at: Option<DateTime<Utc>>,
    pub inspected_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/recalls/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recall {
    pub id: uuid::Uuid,
    pub reason: String,
    pub incident_id: Option<uuid::Uuid>,
    pub criteria: serde_json::Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub progress: RecallProgress,
    /// The cylinders, at most [`RECALL_LIST_LIMIT`] (the progress counts them all).
    pub cylinders: Vec<RecalledCylinder>,
}

/// Most cylinders `GET /api/v1/recalls/{id}` lists.
pub const RECALL_LIST_LIMIT: i64 = 10_000;

/// `POST /api/v1/recalls/{id}/clear`: cylinders a regulator clears (inspected elsewhere,
/// found sound), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClearRecall {
    pub cylinder_codes: Vec<CylinderCode>,
    pub note: String,
}
