//! Stages 2 and 3: fence membership of each move from the in-memory index (reloaded from
//! PostGIS when a fence is added), transitions by diff with the vehicle's previous fences, and
//! the alerts moves raise at once: a vehicle entering or crossing a restricted zone, a vehicle
//! leaving the corridor it must keep to, a loaded vehicle standing too long away from sites, a
//! suspended vehicle moving with cylinders aboard.

use super::positions::Move;
use crate::rules::fences::{step, FenceIndex, FenceKind, Transition};
use crate::rules::stops;
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::fences::TransitionRow;
use shared::alert::AlertKind;
use shared::events::VehicleAlarm;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::live::LiveMessage;
use shared::place::SubjectKind;
use sqlx::{PgConnection, PgPool};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The stage's memory: the fence index and when it was last checked for new fences.
pub struct FenceStage {
    index: Arc<FenceIndex>,
    version: Option<String>,
    checked: Option<Instant>,
    reload_every: Duration,
    dwell: chrono::Duration,
    stops: stops::Policy,
}

impl FenceStage {
    /// An empty stage; the first batch loads the fences.
    pub fn new(reload_every: Duration, dwell: chrono::Duration, stops: stops::Policy) -> Self {
        Self {
            index: Arc::new(FenceIndex::new(Vec::new())),
            version: None,
            checked: None,
            reload_every,
            dwell,
            stops,
        }
    }

    /// Reloads the index when fences were added since the last look (at most every
    /// `reload_every`).
    async fn refresh(&mut self, pool: &PgPool) -> anyhow::Result<()> {
        if self
            .checked
            .is_some_and(|at| at.elapsed() < self.reload_every)
        {
            return Ok(());
        }
        let version = store::fences::version(pool).await?;
        if self.version.as_ref() != Some(&version) {
            let fences = store::fences::all(pool).await?;
            tracing::info!(fences = fences.len(), "fence index loaded");
            self.index = Arc::new(FenceIndex::new(fences));
            self.version = Some(version);
        }
        self.checked = Some(Instant::now());
        Ok(())
    }

    /// Derives the moves' transitions, keeps them with the vehicles' new fence state, raises
    /// their alerts, in `tx` (the positions' transaction: a batch that fails is retried whole,
    /// so its moves are derived again). Returns the alerts' live messages.
    pub async fn apply(
        &mut self,
        pool: &PgPool,
        tx: &mut PgConnection,
        moves: &[Move],
        owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
    ) -> anyhow::Result<Vec<LiveMessage>> {
        if moves.is_empty() {
            return Ok(Vec::new());
        }
        self.refresh(pool).await?;
        let index = self.index.clone();
        let plates: Vec<&str> = moves.iter().map(|m| m.plate.as_str()).collect();
        let mut state = store::fences::inside(tx, &plates).await?;
        let (mut standing, loaded) = store::fences::stops(tx, &plates).await?;
        let suspended = store::status::suspended_vehicles(tx, &plates).await?;
        let mut rows = Vec::new();
        let mut alerts = Vec::new();
        // Only what changed is written back: most moves change neither fences nor stop.
        let (mut fences_changed, mut stops_changed) = (HashSet::new(), HashSet::new());
        for mv in moves {
            // An enterprise's fences apply to its own vehicles only; city-wide ones to all.
            let owner = owners
                .get(mv.plate.as_str())
                .and_then(|(e, _)| e.as_ref())
                .map(|e| e.as_str());
            let applies = |key: &str| index.by_key(key).is_none_or(|f| f.applies_to(owner));
            let (mut now, mut touched) = index.around(mv.from, mv.to);
            now.retain(|k| applies(k));
            touched.retain(|k| applies(k));
            if !state.contains_key(mv.plate.as_str()) {
                state.insert(mv.plate.to_string(), Vec::new());
            }
            let Some(inside) = state.get_mut(mv.plate.as_str()) else {
                continue;
            };
            // A fence kept from before scoping (another enterprise's) is left without a
            // transition.
            let kept = inside.len();
            inside.retain(|i| applies(&i.fence));
            if inside.len() != kept {
                fences_changed.insert(mv.plate.as_str());
            }
            let transitions = step(inside, &now, &touched, mv.at, self.dwell);
            if !transitions.is_empty() {
                fences_changed.insert(mv.plate.as_str());
            }
            // At a site where it stands now, or where its stop began: a truck that rested at
            // its station and drives off is, on its first fix outside the circle (still within
            // the stop's radius), ending a stop made at a site.
            let site_at = |fences: &[&str]| {
                fences.iter().any(|k| {
                    index
                        .by_key(k)
                        .is_some_and(|f| f.kind.is_site() && f.applies_to(owner))
                })
            };
            let began_at_site = standing.get(mv.plate.as_str()).is_some_and(|s| {
                let anchor = (s.lon, s.lat);
                site_at(&index.around(None, anchor).0)
            });
            let at_site = site_at(&now) || began_at_site;
            let is_loaded = loaded.get(mv.plate.as_str()).copied().unwrap_or(false);
            let (stop, suspicious) = stops::step(
                standing.get(mv.plate.as_str()).copied(),
                mv.to,
                mv.at,
                is_loaded,
                at_site,
                &self.stops,
            );
            if standing.get(mv.plate.as_str()) != Some(&stop) {
                stops_changed.insert(mv.plate.as_str());
                standing.insert(mv.plate.to_string(), stop);
            }
            if suspicious {
                alerts.push(stop_alert(mv, &stop, owners));
            }
            if let (Some(since), true) = (suspended.get(mv.plate.as_str()), is_loaded) {
                alerts.push(suspended_alert(mv, *since, owners));
            }
            if mv.alarms.contains(&VehicleAlarm::Emergency) {
                alerts.push(emergency_alert(mv, owners));
            }
            for (fence, kind) in transitions {
                if let Some(alert) = alert_for(&index, &fence, kind, mv, owners) {
                    alerts.push(alert);
                }
                rows.push(TransitionRow {
                    event_id: mv.event_id,
                    fence,
                    kind,
                    plate: mv.plate.clone(),
                    at: mv.at,
                    lon: mv.to.0,
                    lat: mv.to.1,
                });
            }
        }
        state.retain(|plate, _| fences_changed.contains(plate.as_str()));
        standing.retain(|plate, _| stops_changed.contains(plate.as_str()));
        store::fences::save_inside(tx, &state).await?;
        store::fences::save_stops(tx, &standing).await?;
        store::fences::insert_transitions(tx, &rows).await?;
        let mut raised = Vec::new();
        for alert in &alerts {
            if let Some(row) = store::alerts::raise(&mut *tx, alert).await? {
                raised.push(row);
            }
        }
        Ok(raised
            .into_iter()
            .map(crate::alerts::view)
            .map(|a| LiveMessage::Alert(Box::new(a)))
            .collect())
    }
}

/// A loaded vehicle standing outside every known site for too long.
fn stop_alert(
    mv: &Move,
    stop: &stops::Stop,
    owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
) -> NewAlert {
    let kind = AlertKind::SuspiciousStop;
    let (enterprise_code, district_code) =
        owners.get(mv.plate.as_str()).cloned().unwrap_or_default();
    NewAlert {
        kind,
        severity: kind.severity(),
        subject_type: SubjectKind::Vehicle,
        subject_id: mv.plate.to_string(),
        enterprise_code,
        district_code,
        place: Some((stop.lon, stop.lat)),
        place_name: None,
        seen_at: mv.at,
        evidence: serde_json::json!({
            "since": stop.since, "until": mv.at,
            "minutes": (mv.at - stop.since).num_minutes(),
            "position": {"lon": stop.lon, "lat": stop.lat}, "event_id": mv.event_id,
        }),
        sighting: format!("stop:{}:{}", mv.plate, stop.since.timestamp_micros()),
    }
}

/// An alert about the moving vehicle, where it is now.
fn vehicle_alert(
    kind: AlertKind,
    mv: &Move,
    owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
    evidence: serde_json::Value,
    sighting: String,
) -> NewAlert {
    let (enterprise_code, district_code) =
        owners.get(mv.plate.as_str()).cloned().unwrap_or_default();
    NewAlert {
        kind,
        severity: kind.severity(),
        subject_type: SubjectKind::Vehicle,
        subject_id: mv.plate.to_string(),
        enterprise_code,
        district_code,
        place: Some(mv.to),
        place_name: None,
        seen_at: mv.at,
        evidence,
        sighting,
    }
}

/// A suspended vehicle moving with cylinders aboard: once per suspension (the sighting names
/// when it was suspended), however many fixes follow.
fn suspended_alert(
    mv: &Move,
    since: chrono::DateTime<chrono::Utc>,
    owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
) -> NewAlert {
    let evidence = serde_json::json!({
        "suspended_at": since, "event_id": mv.event_id, "occurred_at": mv.at,
        "position": {"lon": mv.to.0, "lat": mv.to.1},
    });
    let sighting = format!("suspended:{}:{}", mv.plate, since.timestamp_micros());
    vehicle_alert(AlertKind::VehicleSuspended, mv, owners, evidence, sighting)
}

/// A vehicle terminal's emergency alarm: critical, one open alert per vehicle, each report
/// counted (the sighting is the event).
fn emergency_alert(
    mv: &Move,
    owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
) -> NewAlert {
    let kind = AlertKind::VehicleEmergency;
    let evidence = serde_json::json!({
        "event_id": mv.event_id, "occurred_at": mv.at,
        "alarms": mv.alarms.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "position": {"lon": mv.to.0, "lat": mv.to.1},
    });
    let sighting = format!("event:{}:{}", mv.event_id, kind.name());
    vehicle_alert(kind, mv, owners, evidence, sighting)
}

/// The alert a transition raises, if any.
fn alert_for(
    index: &FenceIndex,
    key: &str,
    transition: Transition,
    mv: &Move,
    owners: &HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)>,
) -> Option<NewAlert> {
    let fence = index.by_key(key)?;
    let kind = match (fence.kind, transition) {
        (FenceKind::Restricted, Transition::Enter | Transition::Cross) => AlertKind::RestrictedZone,
        (FenceKind::Corridor, Transition::Exit) if fence.vehicles.contains(&mv.plate) => {
            AlertKind::CorridorExit
        }
        _ => return None,
    };
    let (enterprise_code, district_code) =
        owners.get(mv.plate.as_str()).cloned().unwrap_or_default();
    Some(NewAlert {
        kind,
        severity: kind.severity(),
        subject_type: SubjectKind::Vehicle,
        subject_id: mv.plate.to_string(),
        enterprise_code,
        district_code,
        place: Some(mv.to),
        place_name: Some(fence.name.clone()),
        seen_at: mv.at,
        evidence: serde_json::json!({
            "fence": fence.key, "fence_name": fence.name, "transition": transition.name(),
            "event_id": mv.event_id, "occurred_at": mv.at,
            "from": mv.from.map(|(lon, lat)| serde_json::json!({"lon": lon, "lat": lat})),
            "to": {"lon": mv.to.0, "lat": mv.to.1},
        }),
        sighting: format!("event:{}:{}:{}", mv.event_id, kind.name(), fence.key),
    })
}
