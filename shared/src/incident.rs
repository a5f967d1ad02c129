//! Incidents (应急联动, issue 22): what happened, where, about which cylinder, how it is being
//! handled (an append-only timeline), and its context (the cylinder's chain, what is nearby,
//! its filling batch).

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::cylinder::{Compliance, CylinderView};
use crate::ids::GeoPoint;

/// What kind of incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    Leak,
    Fire,
    Explosion,
    IllegalFilling,
    Abandoned,
    Other,
}

crate::place::names!(IncidentKind {
    Leak => "leak",
    Fire => "fire",
    Explosion => "explosion",
    IllegalFilling => "illegal_filling",
    Abandoned => "abandoned",
    Other => "other",
});

/// How grave (一般/较大/重大/特别重大).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentLevel {
    General,
    Large,
    Major,
    EspeciallyMajor,
}

crate::place::names!(IncidentLevel {
    General => "general",
    Large => "large",
    Major => "major",
    EspeciallyMajor => "especially_major",
});

/// Where the response stands: open → responding → contained → closed, forward only; reopening
/// moves a contained or closed incident back to responding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Responding,
    Contained,
    Closed,
}

crate::place::names!(IncidentStatus {
    Open => "open",
    Responding => "responding",
    Contained => "contained",
    Closed => "closed",
});

/// What a status change is: a step forward, a reopening (back to responding), or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Forward,
    Reopen,
}

impl IncidentStatus {
    /// Whether `self → to` is allowed, and as what: forward moves only, except that a
    /// contained or closed incident may be reopened (back to responding).
    pub fn transition(self, to: Self) -> Option<Transition> {
        if to > self {
            Some(Transition::Forward)
        } else if to == Self::Responding && self >= Self::Contained {
            Some(Transition::Reopen)
        } else {
            None
        }
    }
}

/// A caller's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Caller {
    pub name: String,
    pub phone: String,
}

/// `POST /api/v1/incidents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub kind: IncidentKind,
    pub level: IncidentLevel,
    pub description: String,
    #[serde(default)]
    pub cylinder_code: Option<String>,
    #[serde(default)]
    pub tag_id: Option<String>,
    /// The factory serial number (出厂编号).
    #[serde(default)]
    pub serial_no: Option<String>,
    #[serde(default)]
    pub place: Option<GeoPoint>,
    #[serde(default)]
    pub alert_id: Option<uuid::Uuid>,
    #[serde(default)]
    pub caller: Option<Caller>,
}

/// `POST /api/v1/incidents/{id}/timeline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncidentNote {
    pub note: String,
}

/// `POST /api/v1/incidents/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IncidentStatusChange {
    pub status: IncidentStatus,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimelineWhat {
    Opened,
    Note,
    Status,
    Reopened,
    ContextRefreshed,
    /// A task was assigned to a responder unit (`task_id`, `unit_code`, `note` = what).
    TaskAssigned,
    /// A unit's task moved (`task_id`, `unit_code`, `task_status`, `note`).
    TaskStatus,
    /// An owning enterprise acknowledged the incident (`enterprise_code`).
    Acknowledged,
    /// A recall was issued for the incident (`recall_id`, `note` = its reason).
    RecallIssued,
}

crate::place::names!(TimelineWhat {
    Opened => "opened",
    Note => "note",
    Status => "status",
    Reopened => "reopened",
    ContextRefreshed => "context_refreshed",
    TaskAssigned => "task_assigned",
    TaskStatus => "task_status",
    Acknowledged => "acknowledged",
    RecallIssued => "recall_issued",
});

/// One entry of an incident's timeline (append-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: DateTime<FixedOffset>,
    pub by: String,
    pub what: TimelineWhat,
    pub status: Option<IncidentStatus>,
    pub note: Option<String>,
    /// The task a `task_assigned` / `task_status` entry is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_code: Option<String>,
    /// The task's new status (`task_assigned`: `assigned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_status: Option<TaskStatus>,
    /// The enterprise of an `acknowledged` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    /// The recall of a `recall_issued` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall_id: Option<uuid::Uuid>,
}

/// What kind of responder unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponderKind {
    /// Fire and rescue (119).
    Fire,
    /// A gas company's emergency crew.
    GasEmergency,
    /// The district's bureau (区安监/市场监管).
    DistrictBureau,
    Police,
    Medical,
    Other,
}

crate::place::names!(ResponderKind {
    Fire => "fire",
    GasEmergency => "gas_emergency",
    DistrictBureau => "district_bureau",
    Police => "police",
    Medical => "medical",
    Other => "other",
});

/// `POST /api/v1/responder-units`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewResponderUnit {
    /// 1 to 32 characters: letters, digits, `-`, `_`.
    pub code: String,
    pub name: String,
    pub kind: ResponderKind,
    /// Digits, spaces, `+` and `-` (3 to 32 characters).
    pub phone: String,
}

/// A registered responder unit (units do not sign in: duty officers record what they report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponderUnit {
    pub code: String,
    pub name: String,
    pub kind: ResponderKind,
    pub phone: String,
    pub created_by: String,
    pub created_at: DateTime<FixedOffset>,
}

/// Where a task stands: `assigned → en_route → on_scene → done`, forward only (steps may be
/// skipped); `cancelled` from any but `done`. `done` and `cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Assigned,
    EnRoute,
    OnScene,
    Done,
    Cancelled,
}

crate::place::names!(TaskStatus {
    Assigned => "assigned",
    EnRoute => "en_route",
    OnScene => "on_scene",
    Done => "done",
    Cancelled => "cancelled",
});

impl TaskStatus {
    /// Whether a task may move `self → to`.
    pub fn may_move_to(self, to: Self) -> bool {
        match (self, to) {
            (Self::Done | Self::Cancelled, _) => false,
            (_, Self::Cancelled) => true,
            _ => to > self,
        }
    }

    /// `done` or `cancelled`.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Cancelled)
    }
}

/// `POST /api/v1/incidents/{id}/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// A registered responder unit.
    pub unit_code: String,
    /// What the unit is to do (1 to 2000 characters).
    pub what: String,
    /// By when (RFC 3339, in the future).
    pub due_at: DateTime<FixedOffset>,
}

/// `POST /api/v1/incidents/{id}/tasks/{task_id}/status`: what the unit reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskStatusChange {
    pub status: TaskStatus,
    #[serde(default)]
    pub note: Option<String>,
}

/// A task of a responder unit on an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentTask {
    pub id: uuid::Uuid,
    pub unit_code: String,
    pub unit_name: String,
    pub unit_kind: ResponderKind,
    pub what: String,
    pub due_at: DateTime<FixedOffset>,
    pub status: TaskStatus,
    /// The note of the last status update, if it had one.
    pub note: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub created_by: String,
    pub updated_at: DateTime<FixedOffset>,
    pub updated_by: String,
}

/// An owning enterprise's acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentAck {
    pub enterprise_code: crate::ids::EnterpriseCode,
    pub by: String,
    pub at: DateTime<FixedOffset>,
}

/// A recall issued for the incident, with its progress over the asker's share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentRecall {
    pub id: uuid::Uuid,
    pub reason: String,
    pub created_by: String,
    pub created_at: DateTime<FixedOffset>,
    pub progress: crate::recall::RecallProgress,
}

/// An incident as answered. `caller` is shown to regulators, duty officers and administrators
/// only (null for enterprises).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    pub id: uuid::Uuid,
    pub kind: IncidentKind,
    pub level: IncidentLevel,
    pub status: IncidentStatus,
    pub description: String,
    pub cylinder_code: Option<crate::ids::CylinderCode>,
    pub alert_id: Option<uuid::Uuid>,
    pub place: Option<GeoPoint>,
    pub district_code: Option<crate::ids::DistrictCode>,
    /// The enterprises it is about (the cylinder's owner, the alert's enterprise).
    pub enterprise_codes: Vec<String>,
    pub caller: Option<Caller>,
    pub opened_by: String,
    pub opened_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    /// Oldest first (only in the single-incident answer; empty in lists).
    pub timeline: Vec<TimelineEntry>,
    /// The responder units' tasks, oldest first (only in the single-incident answer and on
    /// the live `incident` topic; empty in lists).
    #[serde(default)]
    pub tasks: Vec<IncidentTask>,
    /// The owning enterprises' acknowledgements, oldest first.
    #[serde(default)]
    pub acks: Vec<IncidentAck>,
    /// The owning enterprises (of `enterprise_codes`) that have not acknowledged yet.
    #[serde(default)]
    pub unacknowledged: Vec<String>,
    /// The recalls issued for it (`incident_id`), newest first, with their progress over the
    /// asker's share (only in the single-incident answer and on the live topic; empty in lists).
    #[serde(default)]
    pub recalls: Vec<IncidentRecall>,
}

/// The implicated cylinder's last filling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastFilling {
    pub station_code: Option<crate::ids::StationCode>,
    pub station_name: Option<String>,
    pub gun_no: Option<String>,
    pub staff_no: Option<crate::ids::StaffNo>,
    pub staff_name: Option<String>,
    /// The filler's certificate as the registry has it.
    pub certificate_no: Option<String>,
    pub certificate_expires: Option<NaiveDate>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub ended_at: DateTime<FixedOffset>,
    pub mass_before_kg: Option<f64>,
    pub mass_after_kg: Option<f64>,
    pub flags: Vec<String>,
    /// The gun's decision, if one was recorded for this filling.
    pub decision_allowed: Option<bool>,
    pub decision_rules: Vec<String>,
    pub medium: Option<String>,
}

/// A history row of the chain (a check or an inspection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainEvent {
    pub kind: String,
    pub op: Option<String>,
    pub occurred_at: DateTime<FixedOffset>,
    pub station_code: Option<crate::ids::StationCode>,
    pub staff_no: Option<crate::ids::StaffNo>,
}

/// The customer a cylinder was delivered to; name, phone and address only for regulators, duty
/// officers and administrators.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainCustomer {
    pub code: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// An earlier alert on the cylinder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainAlert {
    pub id: uuid::Uuid,
    pub kind: String,
    pub status: String,
    pub opened_at: DateTime<FixedOffset>,
}

/// Another incident on the cylinder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainIncident {
    pub id: uuid::Uuid,
    pub kind: IncidentKind,
    pub status: IncidentStatus,
    pub opened_at: DateTime<FixedOffset>,
}

/// The cylinder's chain: who filled it, what carried it, to whom it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chain {
    pub last_filling: Option<LastFilling>,
    /// The vehicle that last carried it (last load/unload/delivery/collection naming a vehicle).
    pub vehicle_plate: Option<crate::ids::VehiclePlate>,
    /// The driver on that vehicle's scan.
    pub driver_staff_no: Option<crate::ids::StaffNo>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
    pub customer_code: Option<crate::ids::CustomerCode>,
    pub customer: Option<ChainCustomer>,
    pub checks: Vec<ChainEvent>,
    pub inspections: Vec<ChainEvent>,
    pub alerts: Vec<ChainAlert>,
    pub incidents: Vec<ChainIncident>,
}

/// A site within the radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearbySite {
    pub code: String,
    /// `station` or `customer`.
    pub kind: String,
    pub enterprise_code: crate::ids::EnterpriseCode,
    pub distance_m: f64,
}

/// A vehicle whose latest position is within the radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearbyVehicle {
    pub plate: crate::ids::VehiclePlate,
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    pub distance_m: f64,
    pub at: DateTime<FixedOffset>,
}

/// A cylinder last seen within the radius.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NearbyCylinder {
    pub code: String,
    pub owner_enterprise_code: crate::ids::EnterpriseCode,
    pub distance_m: f64,
    pub compliance: Compliance,
}

/// What is around the incident, each list nearest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Nearby {
    pub center: Option<GeoPoint>,
    pub radius_m: f64,
    pub sites: Vec<NearbySite>,
    pub vehicles: Vec<NearbyVehicle>,
    pub cylinders: Vec<NearbyCylinder>,
    /// How many of each are within the radius: the lists hold the nearest
    /// [`IncidentContext::limit`] of them.
    #[serde(default)]
    pub sites_total: i64,
    #[serde(default)]
    pub vehicles_total: i64,
    #[serde(default)]
    pub cylinders_total: i64,
}

/// A cylinder of the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchCylinder {
    pub code: String,
    pub owner_enterprise_code: crate::ids::EnterpriseCode,
    /// `filling` (same station, ±2 h, same medium) or `production` (same manufacturer and
    /// production batch).
    pub why: String,
    pub gun_no: Option<String>,
    pub staff_no: Option<crate::ids::StaffNo>,
    pub filled_at: Option<DateTime<FixedOffset>>,
}

/// A facet count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facet {
    pub value: String,
    pub count: i64,
}

/// The filling batch's definition: the station of the implicated cylinder's last filling,
/// its medium, and the window around that filling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FillingWindow {
    pub station_code: crate::ids::StationCode,
    pub medium: String,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
}

/// The production batch's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductionBatch {
    pub manufacturer: String,
    pub production_batch: String,
}

/// The batch of the implicated cylinder: the first [`IncidentContext::limit`] of those filled
/// with it (by fill time), then the first of its production batch (by code); the totals and
/// the facets count every one of them. A recall of the whole batch names the incident
/// (`incident_batch` of `POST /api/v1/recalls`), not these codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Batch {
    pub cylinders: Vec<BatchCylinder>,
    pub by_gun: Vec<Facet>,
    pub by_filler: Vec<Facet>,
    /// Cylinders filled with it (the implicated one not counted).
    #[serde(default)]
    pub filled_total: i64,
    /// Cylinders of its production batch (the implicated one not counted).
    #[serde(default)]
    pub production_total: i64,
    #[serde(default)]
    pub window: Option<FillingWindow>,
    #[serde(default)]
    pub production: Option<ProductionBatch>,
}

impl Batch {
    /// No batch (no implicated cylinder).
    pub fn none() -> Self {
        Self {
            cylinders: Vec::new(),
            by_gun: Vec::new(),
            by_filler: Vec::new(),
            filled_total: 0,
            production_total: 0,
            window: None,
            production: None,
        }
    }
}

/// How many rows of each context list when none is asked for, and at most.
pub const CONTEXT_LIMIT: i64 = 100;
pub const MAX_CONTEXT_LIMIT: i64 = 500;

/// `GET /api/v1/incidents/{id}/context`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentContext {
    pub cylinder: Option<CylinderView>,
    pub chain: Option<Chain>,
    pub nearby: Nearby,
    pub batch: Batch,
    pub assembled_at: DateTime<FixedOffset>,
    /// The most rows of each list (`?limit=`, default [`CONTEXT_LIMIT`]).
    #[serde(default)]
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_moves_forward_only_or_reopens_to_responding() {
        use IncidentStatus::*;
        assert_eq!(Open.transition(Responding), Some(Transition::Forward));
        assert_eq!(Open.transition(Closed), Some(Transition::Forward));
        assert_eq!(Responding.transition(Open), None);
        assert_eq!(Responding.transition(Responding), None);
        assert_eq!(Contained.transition(Responding), Some(Transition::Reopen));
        assert_eq!(Closed.transition(Responding), Some(Transition::Reopen));
        assert_eq!(Closed.transition(Contained), None);
        assert_eq!(Closed.transition(Open), None);
    }

    #[test]
    fn tasks_move_forward_or_are_cancelled_until_final() {
        use TaskStatus::*;
        assert!(Assigned.may_move_to(EnRoute));
        assert!(Assigned.may_move_to(Done));
        assert!(OnScene.may_move_to(Cancelled));
        assert!(!OnScene.may_move_to(EnRoute));
        assert!(!EnRoute.may_move_to(EnRoute));
        assert!(!Done.may_move_to(Cancelled));
        assert!(!Cancelled.may_move_to(Assigned));
        assert!(!Assigned.may_move_to(Assigned));
    }
}
