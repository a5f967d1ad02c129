//! The directories (issue 21 item 5): `GET /api/v1/enterprises`, `/stations`, `/staff`,
//! `/vehicles`, `/devices` and `/users` list compact summaries of the registry's records, paged
//! by key, searched (`q`: a code's prefix or any part of a name) and filtered (`district_code`,
//! `enterprise_code`, `status`, `licence_expiring_within_days`). `GET /api/v1/customers` takes
//! the same search and status filter and keeps its rows (`stats::CustomerItem`).

use crate::auth::{DeviceKind, RecordStatus, Role};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Longest `q`, in characters.
pub const MAX_QUERY_CHARS: usize = 64;
/// Largest `licence_expiring_within_days` (ten years).
pub const MAX_EXPIRING_DAYS: i32 = 3650;

/// One enterprise in `GET /api/v1/enterprises`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseSummary {
    pub code: String,
    pub name: String,
    pub district_code: crate::ids::DistrictCode,
    pub status: RecordStatus,
    pub version: i64,
    pub filling_licence_no: Option<String>,
    pub filling_licence_expires: Option<NaiveDate>,
    pub gas_licence_no: Option<String>,
    pub gas_licence_expires: Option<NaiveDate>,
}

/// One station in `GET /api/v1/stations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationSummary {
    pub code: String,
    pub name: String,
    pub enterprise_code: crate::ids::EnterpriseCode,
    /// `filling`, `distribution`, `warehouse` or `inspection`.
    pub kind: String,
    /// The district the station lies in (none for one outside the base map's districts).
    pub district_code: Option<crate::ids::DistrictCode>,
    pub status: RecordStatus,
    pub version: i64,
}

/// One staff member in `GET /api/v1/staff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffSummary {
    pub staff_no: crate::ids::StaffNo,
    pub name: String,
    pub enterprise_code: crate::ids::EnterpriseCode,
    /// `filler`, `driver`, `warehouse`, `inspector` or `repair`.
    pub role: String,
    /// The enterprise's district.
    pub district_code: crate::ids::DistrictCode,
    pub status: RecordStatus,
    pub version: i64,
    pub certificate_no: Option<String>,
    pub certificate_expires: Option<NaiveDate>,
}

/// One vehicle in `GET /api/v1/vehicles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VehicleSummary {
    pub plate: crate::ids::VehiclePlate,
    pub enterprise_code: crate::ids::EnterpriseCode,
    /// The enterprise's district.
    pub district_code: crate::ids::DistrictCode,
    pub gps_device_id: Option<crate::ids::DeviceId>,
    pub reader_device_id: Option<crate::ids::DeviceId>,
    pub status: RecordStatus,
    pub version: i64,
}

/// One device in `GET /api/v1/devices` (never its key or the key's hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSummary {
    pub device_id: crate::ids::DeviceId,
    pub kind: DeviceKind,
    pub enterprise_code: crate::ids::EnterpriseCode,
    /// The enterprise's district.
    pub district_code: crate::ids::DistrictCode,
    pub vehicle_plate: Option<crate::ids::VehiclePlate>,
    pub station_code: Option<crate::ids::StationCode>,
    pub status: RecordStatus,
    pub version: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// One account in `GET /api/v1/users` (never its password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    /// A district regulator's district, or the enterprise's district.
    pub district_code: Option<crate::ids::DistrictCode>,
    pub status: RecordStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}
