//! The live picture the pages draw from, as a `Reducible`.
//!
//! Vehicles sit behind an `Rc<RefCell<..>>` that the reducer updates in place: cloning a map of
//! thousands of vehicles on every message would cost more than the drawing. `version` changes
//! with every action, so components still re-render when something changed.

use chrono::{DateTime, Utc};
use shared::alert::{Alert, AlertStatus};
use shared::live::{CityStats, LiveMessage, VehicleState};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use yew::prelude::*;

/// The state of the live connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Live,
    Reconnecting,
}

/// Vehicles by plate.
pub type Vehicles = Rc<RefCell<HashMap<String, VehicleState>>>;

/// Unresolved alerts by id.
pub type OpenAlerts = Rc<RefCell<HashMap<uuid::Uuid, Alert>>>;

/// Incidents as the live feed last sent them, by id (closed ones too: they leave the wall).
pub type LiveIncidents = Rc<RefCell<HashMap<uuid::Uuid, Rc<shared::incident::Incident>>>>;

/// How many incidents the page keeps from the live feed at most (closed ones go first).
pub const MAX_LIVE_INCIDENTS: usize = 500;

/// How many unresolved alerts the page keeps at most: a wall left running for days with alerts
/// nobody resolves must not grow without end (the oldest activity goes first).
pub const MAX_ALERTS: usize = 2_000;

/// Everything the live feed has told us.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub status: ConnStatus,
    pub vehicles: Vehicles,
    pub alerts: OpenAlerts,
    pub incidents: LiveIncidents,
    pub last_update: Option<DateTime<Utc>>,
    /// The city's figures, pushed every few seconds to city-wide sessions.
    pub stats: Option<Rc<CityStats>>,
    pub version: u64,
}

impl Default for LiveState {
    fn default() -> Self {
        Self {
            status: ConnStatus::Connecting,
            vehicles: Rc::default(),
            alerts: Rc::default(),
            incidents: Rc::default(),
            last_update: None,
            stats: None,
            version: 0,
        }
    }
}

impl PartialEq for LiveState {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && self.status == other.status
    }
}

/// What changes the live state.
pub enum LiveAction {
    Status(ConnStatus),
    Message(LiveMessage),
    /// Every message that was waiting at once: one render for all of them, however many
    /// vehicles reported in the meantime.
    Batch(Vec<LiveMessage>),
}

impl Reducible for LiveState {
    type Action = LiveAction;

    fn reduce(self: Rc<Self>, action: LiveAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.version += 1;
        match action {
            LiveAction::Status(status) => next.status = status,
            LiveAction::Message(msg) => next.apply(msg),
            LiveAction::Batch(msgs) => {
                for msg in msgs {
                    next.apply(msg);
                }
            }
        }
        Rc::new(next)
    }
}

impl LiveState {
    /// One message's change, in place.
    fn apply(&mut self, msg: LiveMessage) {
        match msg {
            LiveMessage::Snapshot {
                vehicles,
                alerts,
                at,
            } => {
                let mut map = self.vehicles.borrow_mut();
                map.clear();
                map.extend(vehicles.into_iter().map(|v| (v.plate.to_string(), v)));
                drop(map);
                let mut open = self.alerts.borrow_mut();
                open.clear();
                open.extend(alerts.into_iter().map(|a| (a.id, a)));
                drop(open);
                self.last_update = Some(at);
            }
            LiveMessage::Alert(alert) => {
                let mut open = self.alerts.borrow_mut();
                if alert.status == AlertStatus::Resolved {
                    open.remove(&alert.id);
                } else {
                    open.insert(alert.id, *alert);
                    if open.len() > MAX_ALERTS {
                        let oldest = open
                            .values()
                            .min_by_key(|a| (a.last_seen_at, a.id))
                            .map(|a| a.id);
                        if let Some(id) = oldest {
                            open.remove(&id);
                        }
                    }
                }
            }
            LiveMessage::Stats(stats) => self.stats = Some(Rc::new(*stats)),
            // Cylinders and sites are not drawn from the live feed yet.
            LiveMessage::Cylinder(_) | LiveMessage::Site(_) => {}
            // The incident pages and the wall read them from here.
            LiveMessage::Incident(incident) => {
                let mut map = self.incidents.borrow_mut();
                map.insert(incident.id, Rc::new(*incident));
                if map.len() > MAX_LIVE_INCIDENTS {
                    map.retain(|_, i| i.status != shared::incident::IncidentStatus::Closed);
                }
            }
            LiveMessage::Vehicle(v) => {
                let mut map = self.vehicles.borrow_mut();
                // Newest by event time wins, as on the server.
                let newer = map
                    .get(v.plate.as_str())
                    .is_none_or(|old| old.occurred_at <= v.occurred_at);
                if newer {
                    self.last_update =
                        Some(v.occurred_at.max(self.last_update.unwrap_or(v.occurred_at)));
                    map.insert(v.plate.to_string(), v);
                }
            }
        }
    }
}

/// The live context handed down by `LiveProvider`.
pub type LiveContext = UseReducerHandle<LiveState>;
