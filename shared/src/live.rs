//! Messages on the live WebSocket (`GET /api/v1/live`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::ids::VehiclePlate;

/// A vehicle's newest known position (newest by event time, not by arrival).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VehicleState {
    pub plate: VehiclePlate,
    pub lon: f64,
    pub lat: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<f64>,
    pub occurred_at: DateTime<Utc>,
    /// The operating enterprise (the vehicle's owner, else the enterprise of the device that
    /// reported it) and its district: what live scoping filters on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<crate::ids::EnterpriseCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<crate::ids::DistrictCode>,
    /// The cylinders on the vehicle now (an addition to the contract's `vehicle` message:
    /// absent from servers before it, so clients treat it as optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<Load>,
}

/// The cylinders riding on a vehicle (their custody place is the vehicle): full ones on a
/// delivery, and the others (empties coming back, or whatever custody the last reading left
/// them in). Every cylinder on the vehicle counts: only its operator's own cylinders are ever
/// put on it by its readers and scans.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Load {
    pub full: i64,
    pub other: i64,
}

impl Load {
    /// Every cylinder on the vehicle.
    pub fn total(&self) -> i64 {
        self.full + self.other
    }
}

/// What the server pushes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveMessage {
    /// The whole current picture, sent on connect and whenever the client fell behind.
    Snapshot {
        vehicles: Vec<VehicleState>,
        /// Unresolved alerts, newest activity first (at most `SNAPSHOT_ALERTS`).
        #[serde(default)]
        alerts: Vec<Alert>,
        at: DateTime<Utc>,
    },
    /// One vehicle moved.
    Vehicle(VehicleState),
    /// An alert was raised, seen again, acknowledged, resolved or escalated: its whole new
    /// state.
    Alert(Box<Alert>),
    /// A cylinder's custody or place changed (on the `cylinders` topic).
    Cylinder(CylinderState),
    /// A site's count of full cylinders changed (on the `cylinders` topic).
    Site(SiteStock),
    /// The city's figures, every few seconds, for the wall (on the `stats` topic; city-wide, so
    /// only users who see the whole city receive them).
    Stats(Box<CityStats>),
    /// An incident was opened or changed (a note, a status, a task, a task's status, an
    /// acknowledgement, a recall issued for it or its progress): its whole new state as
    /// `GET /api/v1/incidents/{id}` answers it to this subscriber (on the `incident` topic;
    /// only to those who may see it). No snapshot: clients read
    /// `GET /api/v1/incidents?status=active` on connect.
    Incident(Box<crate::incident::Incident>),
}

/// The wall's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CityStats {
    pub inventory: crate::stats::Inventory,
    /// Unresolved alerts by severity (`critical`, `high`, `medium`, `low`).
    pub open_alerts: std::collections::BTreeMap<String, i64>,
    pub at: DateTime<Utc>,
}

/// A cylinder's custody and last known place, as the pipeline just decided them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CylinderState {
    pub code: String,
    pub custody: String,
    /// `station`, `customer` or `vehicle`, and its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The owner and its district: what live scoping filters on.
    pub enterprise_code: crate::ids::EnterpriseCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<crate::ids::DistrictCode>,
}

/// A site's full cylinders against its limit (overweight stock when above).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteStock {
    /// `station` or `customer`.
    pub kind: String,
    pub code: String,
    pub name: String,
    pub full: i64,
    pub limit: i64,
    pub lon: f64,
    pub lat: f64,
    pub enterprise_code: crate::ids::EnterpriseCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<crate::ids::DistrictCode>,
}

/// How many unresolved alerts a snapshot carries at most.
pub const SNAPSHOT_ALERTS: usize = 500;

/// Topics a client may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Vehicles,
    Alerts,
    Stats,
    Cylinders,
    /// Incidents (`LiveMessage::Incident`).
    Incident,
}

/// `POST /api/v1/live/ticket`: a single-use ticket that opens one live feed within
/// `expires_at` (`GET /api/v1/live?ticket=`), so that no bearer token travels in a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveTicket {
    pub ticket: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What the client sends: `{"subscribe": [...], "district_code"?, "enterprise_code"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    pub subscribe: Vec<Topic>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let msg = LiveMessage::Vehicle(VehicleState {
            plate: VehiclePlate::try_from("豫A1".to_owned()).unwrap_or_else(|e| panic!("{e}")),
            lon: 113.6,
            lat: 34.7,
            speed_kmh: None,
            heading: Some(10.0),
            occurred_at: DateTime::<Utc>::default(),
            enterprise_code: Some("ENT1".parse().unwrap_or_else(|e| panic!("{e}"))),
            district_code: None,
            load: Some(Load { full: 3, other: 1 }),
        });
        let json = serde_json::to_value(&msg).unwrap_or_default();
        assert_eq!(json["type"], "vehicle");
        assert_eq!(json["plate"], "豫A1");
        assert!(json.get("speed_kmh").is_none());
        assert_eq!(json["enterprise_code"], "ENT1");
        assert!(json.get("district_code").is_none());
        assert_eq!(json["load"], serde_json::json!({"full": 3, "other": 1}));
        // A message without a load (an older server) still reads.
        let old: LiveMessage = serde_json::from_str(
            r#"{"type":"vehicle","plate":"豫A1","lon":1.0,"lat":2.0,"occurred_at":"2026-11-22T02:00:00Z"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            old,
            LiveMessage::Vehicle(VehicleState { load: None, .. })
        ));
        let sub: Subscribe = serde_json::from_str(r#"{"subscribe":["vehicles","alerts"]}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub.subscribe, vec![Topic::Vehicles, Topic::Alerts]);
    }
}
