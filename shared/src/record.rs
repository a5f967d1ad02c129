//! Registry records as read and edited one at a time (issue 21): each with its `version` (also
//! its `ETag`; a `PATCH` names it in `If-Match`) and `status`. A `PATCH` body holds the fields
//! of the record's `POST` that may change; [`editable`] says which and who may write them.

use crate::auth::RecordStatus;
use crate::registry::{NewCustomer, NewGeofence, NewStaff, NewStation, NewVehicle, Text};
use serde::{Deserialize, Serialize};

/// `GET /api/v1/stations/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StationRecord {
    #[serde(flatten)]
    pub station: NewStation,
    pub version: i64,
    pub status: RecordStatus,
}

/// `GET /api/v1/customers/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerRecord {
    #[serde(flatten)]
    pub customer: NewCustomer,
    pub version: i64,
    pub status: RecordStatus,
}

/// `GET /api/v1/staff/{staff_no}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffRecord {
    #[serde(flatten)]
    pub staff: NewStaff,
    pub version: i64,
    pub status: RecordStatus,
}

/// `GET /api/v1/vehicles/{plate}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VehicleRecord {
    #[serde(flatten)]
    pub vehicle: NewVehicle,
    pub version: i64,
    pub status: RecordStatus,
}

/// `GET /api/v1/geofences/{id}`: the fence as drawn (a circle comes back as its polygon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeofenceRecord {
    pub id: i64,
    #[serde(flatten)]
    pub geofence: NewGeofence,
    pub version: i64,
    pub status: RecordStatus,
}

/// `POST /api/v1/{enterprises|staff|cylinders}/{key}/proposals`: an enterprise proposes a
/// change of fields a regulator writes, with a reference to its document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    /// The proposed fields, as a `PATCH` body would hold them.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Map<String, serde_json::Value>,
    /// The document that backs it (a licence's number and issuer, a scan's reference).
    pub document_ref: Text,
}

/// A proposal and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub id: i64,
    /// `enterprises`, `staff` or `cylinders`.
    pub record_kind: String,
    /// The record's key (staff: `enterprise_code/staff_no`).
    pub record_key: String,
    pub enterprise_code: crate::ids::EnterpriseCode,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub changes: serde_json::Map<String, serde_json::Value>,
    pub document_ref: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decision_reason: Option<String>,
    /// The record's version the approval made.
    pub applied_version: Option<i64>,
}

/// `POST /api/v1/proposals/{id}/reject` (why, 1 to 500 characters) or `/approve` (a note,
/// optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalDecision {
    #[serde(default)]
    pub reason: Option<String>,
}

/// The kinds of record a `PATCH` edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Enterprise,
    Station,
    Customer,
    Staff,
    Vehicle,
    Cylinder,
    Geofence,
}

/// Who may write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The record's enterprise administrator or a regulator over it.
    Manager,
    /// A regulator only (admin, city regulator, district regulator within its district): what
    /// the gun's rules rest on (licences, certificates, media).
    Regulator,
}

impl RecordKind {
    /// The collection's name: the path segment and the revisions' `record_kind`.
    pub fn collection(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprises",
            Self::Station => "stations",
            Self::Customer => "customers",
            Self::Staff => "staff",
            Self::Vehicle => "vehicles",
            Self::Cylinder => "cylinders",
            Self::Geofence => "geofences",
        }
    }
}

impl RecordKind {
    /// The kind whose collection is `name`.
    pub fn from_collection(name: &str) -> Option<Self> {
        [
            Self::Enterprise,
            Self::Station,
            Self::Customer,
            Self::Staff,
            Self::Vehicle,
            Self::Cylinder,
            Self::Geofence,
        ]
        .into_iter()
        .find(|k| k.collection() == name)
    }
}

/// Whether `field` of a `kind` record may be changed by `PATCH`, and by whom: `None` for a
/// field that is immutable or unknown (the key, the owner, a station's kind).
pub fn editable(kind: RecordKind, field: &str) -> Option<Writer> {
    use Writer::{Manager, Regulator};
    match (kind, field) {
        (RecordKind::Enterprise, "name" | "credit_code" | "address") => Some(Manager),
        (
            RecordKind::Enterprise,
            "district_code"
            | "filling_licence_no"
            | "filling_licence_expires"
            | "filling_licence_valid_from"
            | "gas_licence_no"
            | "gas_licence_expires"
            | "media",
        ) => Some(Regulator),
        (
            RecordKind::Station,
            "name" | "location" | "radius_m" | "full_stock_limit" | "district_code",
        ) => Some(Manager),
        (
            RecordKind::Customer,
            "name" | "kind" | "phone" | "address" | "location" | "district_code"
            | "full_stock_limit",
        ) => Some(Manager),
        // The consignee's licence for controlled media (controlled_medium_unlicensed).
        (RecordKind::Customer, "licence_no" | "licence_expires") => Some(Regulator),
        (RecordKind::Staff, "name" | "role") => Some(Manager),
        (RecordKind::Staff, "certificate_no" | "certificate_expires" | "certificates") => {
            Some(Regulator)
        }
        (RecordKind::Vehicle, "gps_device_id" | "reader_device_id") => Some(Manager),
        (RecordKind::Vehicle, "transport_permit_no" | "transport_permit_expires") => {
            Some(Regulator)
        }
        (
            RecordKind::Cylinder,
            "tare_kg"
            | "volume_l"
            | "working_pressure_mpa"
            | "test_pressure_mpa"
            | "wall_thickness_mm"
            | "max_fill_kg"
            | "manufacturer"
            | "product_standard"
            | "manufacture_licence_no"
            | "serial_no"
            | "production_batch",
        ) => Some(Manager),
        // The use registration (R03) and what the end of design life is counted from (R05).
        (
            RecordKind::Cylinder,
            "registration_no"
            | "registered_on"
            | "registration_authority"
            | "manufactured_on"
            | "design_life_years",
        ) => Some(Regulator),
        // A fence's shape is redrawn whole: a polygon, or a circle's centre and radius.
        (RecordKind::Geofence, "name" | "geometry" | "center" | "radius_m" | "vehicle_plates") => {
            Some(Manager)
        }
        _ => None,
    }
}

/// Why `field` is never changed by `PATCH` (it names the record or its owner, or another
/// act changes it), or `None`.
pub fn immutable(kind: RecordKind, field: &str) -> Option<&'static str> {
    const NAMES: &str = "names the record or its owner and cannot be changed";
    let names = match kind {
        RecordKind::Enterprise => field == "code",
        RecordKind::Station => matches!(field, "code" | "enterprise_code" | "kind"),
        RecordKind::Customer => matches!(field, "code" | "enterprise_code"),
        RecordKind::Staff => matches!(field, "staff_no" | "enterprise_code"),
        RecordKind::Vehicle => matches!(field, "plate" | "enterprise_code"),
        RecordKind::Cylinder => matches!(field, "code" | "tag_id" | "medium" | "station_code"),
        RecordKind::Geofence => matches!(field, "id" | "kind" | "enterprise_code"),
    };
    if names {
        return Some(NAMES);
    }
    match (kind, field) {
        (RecordKind::Cylinder, "owner_enterprise_code") => {
            Some("changes only through a transfer, not by PATCH")
        }
        (RecordKind::Cylinder, "last_inspected_on" | "next_inspection_on") => {
            Some("changes only through an inspection, not by PATCH")
        }
        _ => None,
    }
}

/// Fields whose change (by a regulator) may be made to a suspended enterprise: renewing its
/// licences is what lets it be reinstated.
pub fn renews_licence(kind: RecordKind, field: &str) -> bool {
    kind == RecordKind::Enterprise
        && matches!(
            field,
            "filling_licence_no"
                | "filling_licence_expires"
                | "filling_licence_valid_from"
                | "gas_licence_no"
                | "gas_licence_expires"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_owners_are_immutable_and_licences_regulated() {
        assert_eq!(editable(RecordKind::Enterprise, "code"), None);
        assert!(immutable(RecordKind::Enterprise, "code").is_some());
        assert!(immutable(RecordKind::Cylinder, "next_inspection_on").is_some());
        assert_eq!(
            editable(RecordKind::Cylinder, "registration_no"),
            Some(Writer::Regulator)
        );
        assert_eq!(
            editable(RecordKind::Enterprise, "filling_licence_expires"),
            Some(Writer::Regulator)
        );
        assert_eq!(
            editable(RecordKind::Station, "location"),
            Some(Writer::Manager)
        );
        assert_eq!(editable(RecordKind::Station, "kind"), None);
        assert_eq!(editable(RecordKind::Vehicle, "colour"), None);
        assert!(immutable(RecordKind::Vehicle, "colour").is_none());
    }
}
