//! Transfers of cylinders between enterprises (issue 21 item 4): offered by the owner's
//! administrator, accepted or declined by the receiver's, cancelled by the offerer while
//! offered.

use crate::ids::{CylinderCode, EnterpriseCode, StationCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most cylinders in one transfer (a bulk sale; the same bound as a cylinder import).
pub const MAX_TRANSFER_CYLINDERS: usize = 10_000;

/// `POST /api/v1/transfers`: the offerer's cylinders, the receiver, and the receiver's station
/// that becomes their registered station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    /// 1 to [`MAX_TRANSFER_CYLINDERS`] codes, each once.
    pub cylinder_codes: Vec<CylinderCode>,
    pub to_enterprise_code: EnterpriseCode,
    pub station_code: StationCode,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Waiting for the receiver.
    Offered,
    /// The cylinders are the receiver's.
    Accepted,
    /// Refused by the receiver; nothing moved.
    Declined,
    /// Withdrawn by the offerer; nothing moved.
    Cancelled,
}

crate::place::names!(TransferStatus {
    Offered => "offered",
    Accepted => "accepted",
    Declined => "declined",
    Cancelled => "cancelled",
});

/// A transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transfer {
    pub id: i64,
    pub from_enterprise_code: EnterpriseCode,
    pub to_enterprise_code: EnterpriseCode,
    pub station_code: StationCode,
    /// In the offer's order.
    pub cylinder_codes: Vec<CylinderCode>,
    pub status: TransferStatus,
    pub offered_at: DateTime<Utc>,
    pub offered_by: String,
    /// When it was accepted, declined or cancelled.
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}
