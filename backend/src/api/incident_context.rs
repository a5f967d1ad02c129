//! An incident's context (issue 22): the implicated cylinder's archive, compliance and chain,
//! what lies within a radius of the incident, and the cylinder's batch. Assembled when the
//! incident is opened (kept as its snapshot) and recomputed by every
//! `GET /api/v1/incidents/{id}/context`.

use crate::access::Scope;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::rules::compliance::{self, to_beijing, ComplianceFacts};
use crate::store;
use crate::store::incident_context::{BatchRow, ChainRow};
use crate::store::incidents::IncidentRow;
use chrono::{NaiveDate, Utc};
use shared::cylinder::Compliance;
use shared::history::HistoryKind;
use shared::incident::{
    Batch, BatchCylinder, Chain, ChainAlert, ChainCustomer, ChainEvent, ChainIncident, Facet,
    FillingWindow, IncidentContext, LastFilling, Nearby, NearbyCylinder, NearbySite, NearbyVehicle,
    ProductionBatch,
};
use shared::place::PlaceKind;
use shared::GeoPoint;

/// The radius when none is asked for, and the bounds of one asked for (metres).
pub const DEFAULT_RADIUS_M: f64 = 500.0;
pub const MIN_RADIUS_M: f64 = 50.0;
pub const MAX_RADIUS_M: f64 = 5000.0;

/// How far around the implicated filling the filling batch reaches.
const BATCH_WINDOW_HOURS: i64 = 2;

/// Who the context is for: what they may see, and whether personal fields are shown.
pub use crate::incidents::Viewer;

/// Assembles the context of `incident` for `viewer`, each list the first `limit` rows.
pub async fn assemble(
    state: &AppState,
    incident: &IncidentRow,
    viewer: &Viewer,
    radius_m: f64,
    limit: i64,
) -> Result<IncidentContext, ApiError> {
    let pool = &state.pool;
    let scope = if viewer.privileged {
        Scope::system()
    } else {
        viewer.scope.clone()
    };
    let record = match &incident.cylinder_code {
        Some(code) => store::cylinders::record(pool, Some(code), None, &scope).await?,
        None => None,
    };
    let cylinder_id = record.as_ref().map(|r| r.id);
    // The chain (and the cylinders filled with it, which need only its last filling: read
    // first, then the rest of the chain and the batch at once), what is nearby and the
    // production batch are independent reads: each on its own connection at once (a context
    // is a duty officer's request, not a hot path; it holds a few of the pool's connections
    // for milliseconds).
    let chain_and_filled = async {
        match (&record, cylinder_id) {
            (Some(record), Some(id)) => {
                let last = store::incident_context::last_filling(pool, id)
                    .await?
                    .map(last_filling);
                let (chain, filled) = tokio::try_join!(
                    chain(
                        state,
                        incident,
                        record.code.as_str(),
                        id,
                        viewer,
                        last.clone()
                    ),
                    filled_with(
                        state,
                        id,
                        last.as_ref(),
                        record.medium.code(),
                        &scope,
                        limit
                    ),
                )?;
                Ok::<_, ApiError>((Some(chain), filled))
            }
            _ => Ok((None, Filled::default())),
        }
    };
    let near = async {
        let center = match (incident.lon, incident.lat) {
            (Some(lon), Some(lat)) => Some((lon, lat)),
            _ => match incident.cylinder_id {
                Some(id) => store::incident_context::last_place(pool, id).await?,
                None => None,
            },
        };
        nearby(state, center, radius_m, &scope, limit).await
    };
    let production = async {
        match (cylinder_id, &record) {
            (Some(id), Some(_)) => Ok::<_, ApiError>(
                store::incident_context::same_production_batch(pool, id, &scope, limit).await?,
            ),
            _ => Ok(Vec::new()),
        }
    };
    let ((chain, filled), nearby, production) =
        tokio::try_join!(chain_and_filled, near, production)?;
    let batch = match (&chain, &record) {
        (Some(_), Some(record)) => {
            let of = record
                .production_batch
                .clone()
                .map(|production_batch| ProductionBatch {
                    manufacturer: record.manufacturer.clone(),
                    production_batch,
                });
            batch(filled, production, of)
        }
        _ => Batch::none(),
    };
    let cylinder = match record {
        Some(record) => {
            let mut view = super::cylinders::view(state, record, None)?;
            // A customer's name is a personal field.
            if let Some(place) = view.custody_place.as_mut() {
                if !viewer.privileged && place.kind == PlaceKind::Customer.name() {
                    place.name = None;
                }
            }
            Some(view)
        }
        None => None,
    };
    Ok(IncidentContext {
        cylinder,
        chain,
        nearby,
        batch,
        assembled_at: to_beijing(Utc::now()),
        limit,
    })
}

fn event(row: ChainRow) -> ChainEvent {
    ChainEvent {
        kind: row.op.kind().name().to_owned(),
        op: Some(row.op.op().to_owned()),
        occurred_at: to_beijing(row.occurred_at),
        station_code: row.station_code,
        staff_no: row.staff_no,
    }
}

/// The last filling as the chain shows it.
fn last_filling(f: store::incident_context::FillingRow) -> LastFilling {
    LastFilling {
        station_code: f.station_code,
        station_name: f.station_name,
        gun_no: f.gun_no,
        staff_no: f.staff_no,
        staff_name: f.staff_name,
        certificate_no: f.certificate_no,
        certificate_expires: f.certificate_expires,
        started_at: f.started_at.map(to_beijing),
        ended_at: to_beijing(f.ended_at),
        mass_before_kg: f.mass_before_kg,
        mass_after_kg: f.mass_after_kg,
        flags: f.flags.unwrap_or_default(),
        decision_allowed: f.allowed,
        decision_rules: f.rules.unwrap_or_default(),
        medium: f.medium,
    }
}

async fn chain(
    state: &AppState,
    incident: &IncidentRow,
    code: &str,
    cylinder_id: i64,
    viewer: &Viewer,
    last_filling: Option<LastFilling>,
) -> Result<Chain, ApiError> {
    let pool = &state.pool;
    let rows = |kind| store::incident_context::rows_of_kind(pool, cylinder_id, kind);
    // Independent reads, at once; the customer after the delivery that names it.
    let delivered_to = async {
        let delivery = store::incident_context::last_delivery(pool, cylinder_id).await?;
        let customer = match delivery.as_ref().and_then(|d| d.customer_code.as_ref()) {
            Some(code) => store::incident_context::customer(pool, code.as_str()).await?,
            None => None,
        };
        Ok::<_, anyhow::Error>((delivery, customer))
    };
    let (carrier, (delivery, customer), checks, inspections, alerts, incidents) = tokio::try_join!(
        store::incident_context::last_carrier(pool, cylinder_id),
        delivered_to,
        rows(HistoryKind::Check),
        rows(HistoryKind::Inspection),
        store::incident_context::alerts_on(pool, code),
        store::incident_context::incidents_on(pool, cylinder_id, incident.id),
    )?;
    let customer_code = delivery.as_ref().and_then(|d| d.customer_code.clone());
    let customer = customer.map(|c| ChainCustomer {
        code: c.code.into(),
        name: viewer.privileged.then_some(c.name),
        phone: viewer.privileged.then_some(c.phone),
        address: viewer.privileged.then_some(c.address),
    });
    let checks = checks.into_iter().map(event).collect();
    let inspections = inspections.into_iter().map(event).collect();
    let alerts = alerts
        .into_iter()
        .map(|a| ChainAlert {
            id: a.id,
            kind: a.kind.name().to_owned(),
            status: a.status.name().to_owned(),
            opened_at: to_beijing(a.opened_at),
        })
        .collect();
    let incidents = incidents
        .into_iter()
        .map(|i| ChainIncident {
            id: i.id,
            kind: i.kind,
            status: i.status,
            opened_at: to_beijing(i.opened_at),
        })
        .collect();
    Ok(Chain {
        last_filling,
        vehicle_plate: carrier.as_ref().and_then(|c| c.vehicle_plate.clone()),
        driver_staff_no: carrier.as_ref().and_then(|c| c.staff_no.clone()),
        delivered_at: delivery.as_ref().map(|d| to_beijing(d.occurred_at)),
        customer_code,
        customer,
        checks,
        inspections,
        alerts,
        incidents,
    })
}

/// A cylinder's compliance today from its dates.
pub(super) fn compliance_of(
    state: &AppState,
    next_inspection_on: NaiveDate,
    manufactured_on: NaiveDate,
    design_life_years: i32,
    registered: bool,
    scrapped_at: Option<chrono::DateTime<Utc>>,
) -> Compliance {
    let today = compliance::today_in_shanghai();
    let life_ends_on = u32::try_from(design_life_years)
        .ok()
        .and_then(|y| y.checked_mul(12))
        .and_then(|m| manufactured_on.checked_add_months(chrono::Months::new(m)))
        .unwrap_or(NaiveDate::MAX);
    let facts = ComplianceFacts {
        next_inspection_on,
        life_ends_on,
        registered,
        scrapped: scrapped_at.is_some_and(|at| to_beijing(at).date_naive() <= today),
    };
    compliance::statuses(&facts, today, state.settings.due_soon_days)
        .first()
        .copied()
        .unwrap_or(Compliance::Ok)
}

async fn nearby(
    state: &AppState,
    center: Option<(f64, f64)>,
    radius_m: f64,
    scope: &Scope,
    limit: i64,
) -> Result<Nearby, ApiError> {
    let pool = &state.pool;
    let Some(at) = center else {
        return Ok(Nearby {
            center: None,
            radius_m,
            sites: Vec::new(),
            vehicles: Vec::new(),
            cylinders: Vec::new(),
            sites_total: 0,
            vehicles_total: 0,
            cylinders_total: 0,
        });
    };
    let (sites, vehicles, cylinders) = tokio::try_join!(
        store::incident_context::sites_near(pool, at, radius_m, scope, limit),
        store::incident_context::vehicles_near(pool, at, radius_m, scope, limit),
        store::incident_context::cylinders_near(pool, at, radius_m, scope, limit),
    )?;
    let sites_total = sites.first().map_or(0, |s| s.total);
    let vehicles_total = vehicles.first().map_or(0, |v| v.total);
    let cylinders_total = cylinders.first().map_or(0, |c| c.total);
    let sites = sites
        .into_iter()
        .map(|s| NearbySite {
            code: s.code,
            kind: s.kind.name().to_owned(),
            enterprise_code: s.enterprise_code,
            distance_m: s.distance_m,
        })
        .collect();
    let vehicles = vehicles
        .into_iter()
        .map(|v| NearbyVehicle {
            plate: v.plate,
            enterprise_code: v.enterprise_code,
            distance_m: v.distance_m,
            at: to_beijing(v.occurred_at),
        })
        .collect();
    let cylinders = cylinders
        .into_iter()
        .map(|c| NearbyCylinder {
            compliance: compliance_of(
                state,
                c.next_inspection_on,
                c.manufactured_on,
                c.design_life_years,
                c.registered,
                c.scrapped_at,
            ),
            code: c.code.into(),
            owner_enterprise_code: c.owner_enterprise_code,
            distance_m: c.distance_m,
        })
        .collect();
    Ok(Nearby {
        center: GeoPoint::new(at.0, at.1).ok(),
        radius_m,
        sites,
        vehicles,
        cylinders,
        sites_total,
        vehicles_total,
        cylinders_total,
    })
}

fn batch_cylinder(row: BatchRow, why: &str) -> BatchCylinder {
    BatchCylinder {
        code: row.code.into(),
        owner_enterprise_code: row.owner_enterprise_code,
        why: why.to_owned(),
        gun_no: row.gun_no,
        staff_no: row.staff_no,
        filled_at: row.filled_at.map(to_beijing),
    }
}

/// The filling batch as the context shows it: its window, its first rows, its facets.
#[derive(Default)]
struct Filled {
    window: Option<store::incident_context::FillingWindow>,
    batch: store::incident_context::FilledBatch,
}

/// The filling batch around a filling that ended at `at` at `station`: `medium`,
/// `BATCH_WINDOW_HOURS` either side of it. `None` without a station. The context lists it and
/// a recall of the incident's batch takes it whole, from this one window.
pub fn filling_window(
    station: Option<&str>,
    at: chrono::DateTime<Utc>,
    medium: &str,
) -> Option<store::incident_context::FillingWindow> {
    let station = shared::ids::StationCode::try_from(station?.to_owned()).ok()?;
    let window = chrono::Duration::hours(BATCH_WINDOW_HOURS);
    Some(store::incident_context::FillingWindow {
        station,
        medium: medium.to_owned(),
        at,
        from: at - window,
        to: at + window,
    })
}

/// The other cylinders filled at the station of the cylinder's last filling within
/// `BATCH_WINDOW_HOURS` of it: the first `limit`, and all of them counted by gun and filler.
async fn filled_with(
    state: &AppState,
    cylinder_id: i64,
    last_filling: Option<&LastFilling>,
    medium: &str,
    scope: &Scope,
    limit: i64,
) -> Result<Filled, ApiError> {
    let Some(f) = last_filling else {
        return Ok(Filled::default());
    };
    let at = f.ended_at.with_timezone(&Utc);
    let medium = f.medium.as_deref().unwrap_or(medium);
    let Some(window) = filling_window(f.station_code.as_deref(), at, medium) else {
        return Ok(Filled::default());
    };
    let batch =
        store::incident_context::filled_together(&state.pool, cylinder_id, &window, scope, limit)
            .await?;
    Ok(Filled {
        window: Some(window),
        batch,
    })
}

/// The batch: those filled with the cylinder (with their guns and fillers counted), then
/// those of its production batch `of`.
fn batch(filled: Filled, production: Vec<BatchRow>, of: Option<ProductionBatch>) -> Batch {
    let filled_total = filled.batch.total;
    let production_total = production.first().map_or(0, |r| r.total);
    let facets = |counts: Vec<(String, i64)>| {
        counts
            .into_iter()
            .map(|(value, count)| Facet { value, count })
            .collect()
    };
    let by_gun = facets(filled.batch.by_gun);
    let by_filler = facets(filled.batch.by_filler);
    let window = filled.window.map(|w| FillingWindow {
        station_code: w.station,
        medium: w.medium,
        from: to_beijing(w.from),
        to: to_beijing(w.to),
    });
    let cylinders = filled
        .batch
        .rows
        .into_iter()
        .map(|r| batch_cylinder(r, "filling"))
        .chain(
            production
                .into_iter()
                .map(|r| batch_cylinder(r, "production")),
        )
        .collect();
    Batch {
        cylinders,
        by_gun,
        by_filler,
        filled_total,
        production_total,
        window,
        production: of,
    }
}
