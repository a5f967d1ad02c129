//! Status instead of delete (issue 21 item 2): enterprises, stations, staff, vehicles and
//! devices are suspended, reinstated and closed (`POST …/{code}/suspend|reinstate|close` with
//! a `shared::auth::StatusChange`), never deleted.

use crate::auth::RecordStatus;
use crate::ids::EnterpriseCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A registry record after a status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusView {
    /// The record's code (staff: its staff number; devices: the device id).
    pub code: String,
    /// The enterprise it belongs to (an enterprise: itself).
    pub enterprise_code: EnterpriseCode,
    pub status: RecordStatus,
    /// Why the last change was made.
    pub status_reason: Option<String>,
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Whether a regulator suspended it: then only a regulator reinstates it.
    pub suspended_by_regulator: bool,
    /// The record's version after the change.
    pub version: i64,
}
