//! `POST /api/v1/events`: a batch of 1..=10,000 events. Each item is parsed on its own; the
//! valid ones are committed (with their outbox entries) before the answer, so `accepted` means
//! durable. A body that cannot be read as a batch, or a batch of which nothing is valid,
//! writes nothing and answers 4xx.

use super::body::{check_content_type, read_body};
use crate::access::Device;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::registry::Owners;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use shared::events::{parse_batch, Event, IngestResponse, RejectedEvent};
use shared::{ErrorCode, ErrorDetail};
use std::collections::{HashMap, HashSet};

/// A staff number only another enterprise has.
pub fn foreign_staff(no: &str, enterprise: &str) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::ForeignStaff,
        format!("staff_no: {no} is not a staff member of enterprise {enterprise}"),
    )
    .with_field("staff_no")
}

/// 422 body when every item was rejected: the error plus each item's reason.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AllRejected {
    error: ErrorDetail,
    rejected: Vec<RejectedEvent>,
}

/// Ingests one batch.
#[tracing::instrument(
    name = "ingest",
    skip_all,
    fields(events, accepted, duplicates, rejected)
)]
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("deviceKey" = [])), request_body(content = shared::schema::WireBatch, example = json!({"events": [{"id": "8f0c2a52-1f1e-4a77-9a53-0d1f2b7c9e10", "kind": "gps", "occurred_at": "2026-12-06T09:30:00+08:00", "vehicle_plate": "豫A12345", "lon": 113.66, "lat": 34.75, "speed_kmh": 42.0}, {"id": "1d7e9a40-5c2b-4f0e-8a3b-6e2f1c0d9b21", "kind": "scan", "occurred_at": "2026-12-06T09:31:00+08:00", "op": "load", "cylinder_code": "431325", "vehicle_plate": "豫A12345", "staff_no": "E1001"}]})), responses((status = 202, description = "Durable: the valid items are committed; each refused item is named", body = shared::events::IngestResponse), (status = 422, description = "No item of the batch was valid; nothing was written", body = AllRejected)))]
pub async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    device: Device,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_content_type(&req, "application/json")?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let items = parse_batch(&body)?;
    let span = tracing::Span::current();
    span.record("events", items.len());

    let mut parsed = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(event) => parsed.push((index, event)),
            Err(error) => rejected.push(RejectedEvent { index, error }),
        }
    }
    let resolved = resolve(&state, &device, &parsed).await?;
    let mut events = Vec::with_capacity(parsed.len());
    for (index, event) in parsed {
        match may_write(&device, &resolved, &event) {
            Ok(()) => events.push(event),
            Err(error) => rejected.push(RejectedEvent { index, error }),
        }
    }
    rejected.sort_by_key(|r| r.index);
    span.record("rejected", rejected.len());
    if events.is_empty() {
        let first = rejected
            .first()
            .map(|r| r.error.message.clone())
            .unwrap_or_default();
        let body = AllRejected {
            error: ErrorDetail::new(
                ErrorCode::AllEventsRejected,
                format!("no event of the batch was valid; the first: {first}"),
            )
            .with_field("events"),
            rejected,
        };
        return Ok(HttpResponse::UnprocessableEntity().json(body));
    }

    let accepted = store::events::insert_new(
        &state.pool,
        &events,
        &device.device_id,
        &device.enterprise_code,
    )
    .await?;
    state.relay_wakeup.notify_one();
    let duplicates = events.len() - accepted;
    span.record("accepted", accepted);
    span.record("duplicates", duplicates);
    Ok(HttpResponse::Accepted().json(IngestResponse {
        accepted,
        duplicates,
        rejected,
    }))
}

/// What the batch's references resolve to, read once per batch.
struct Resolved {
    /// The owners of every vehicle, station and customer the batch names.
    owners: Owners,
    /// Whether the device writes for an inspection body (a granted inspection station).
    inspects: bool,
    /// The owners of the cylinders the batch's inspections name.
    inspected: HashMap<String, String>,
    /// The staff numbers the batch names that only another enterprise has.
    foreign_staff: HashSet<String>,
}

/// Reads what the batch names: owners, the device's inspection grant, staff numbers.
async fn resolve(
    state: &AppState,
    device: &Device,
    events: &[(usize, Event)],
) -> Result<Resolved, ApiError> {
    let mut plates = Vec::new();
    let mut stations = Vec::new();
    let mut customers = Vec::new();
    let mut inspected = Vec::new();
    let mut staff = Vec::new();
    for (_, event) in events {
        plates.extend(event.vehicle_plate().map(|p| p.as_str()));
        match event {
            Event::Scan(s) => {
                stations.extend(s.station_code.as_ref().map(|c| c.as_str()));
                stations.extend(s.to_station_code.as_ref().map(|c| c.as_str()));
                customers.extend(s.customer_code.as_ref().map(|c| c.as_str()));
                staff.extend(s.staff_no.as_ref().map(|n| n.as_str()));
            }
            Event::Check(c) => {
                stations.push(c.station_code.as_str());
                staff.push(c.staff_no.as_str());
            }
            Event::Inspection(i) => inspected.push(i.cylinder_code.as_str()),
            Event::Gps(_) | Event::Ble(_) => {}
        }
    }
    staff.sort_unstable();
    staff.dedup();
    let pool = &state.pool;
    let inspects = if inspected.is_empty() {
        false
    } else {
        let bound = device.station_code.as_ref().map(|s| s.as_str());
        store::registry::inspects(pool, &device.enterprise_code, bound).await?
    };
    Ok(Resolved {
        owners: store::registry::owners(pool, &plates, &stations, &customers).await?,
        inspects,
        inspected: store::registry::cylinder_owners(pool, &inspected).await?,
        foreign_staff: store::registry::foreign_staff(pool, &staff, &device.enterprise_code)
            .await?,
    })
}

/// A device writes for its own enterprise only, and a bound device for its own vehicle or
/// station only. A reference to another enterprise's record is refused as if it did not exist;
/// an unregistered one is accepted (it is evidence: an unknown vehicle, a shop not yet
/// registered). A staff number is resolved within the device's enterprise: one that only
/// another enterprise has is refused (`foreign_staff`). Inspections come only from a device of
/// an inspection body a regulator granted, and never of its own enterprise's cylinders.
fn may_write(device: &Device, resolved: &Resolved, event: &Event) -> Result<(), ErrorDetail> {
    let owners = &resolved.owners;
    let refuse = |field: &str, what: &str| {
        Err(ErrorDetail::new(
            ErrorCode::UnknownReference,
            format!(
                "{field}: no such {what} of enterprise {}",
                device.enterprise_code
            ),
        )
        .with_field(field))
    };
    let own = |owner: Option<&String>| owner.is_none_or(|o| *o == device.enterprise_code);
    if let Some(plate) = event.vehicle_plate() {
        let bound_elsewhere = device
            .vehicle_plate
            .as_deref()
            .is_some_and(|bound| bound != plate.as_str());
        let station_device = device.station_code.is_some() && device.vehicle_plate.is_none();
        let is_vehicle_kind = matches!(event, Event::Gps(_) | Event::Ble(_));
        if bound_elsewhere
            || (station_device && is_vehicle_kind)
            || !own(owners.vehicles.get(plate.as_str()))
        {
            return refuse("vehicle_plate", "vehicle");
        }
    }
    let station_ok = |code: &str| {
        own(owners.stations.get(code).map(|(owner, _)| owner))
            && device
                .station_code
                .as_deref()
                .is_none_or(|bound| bound == code)
    };
    match event {
        Event::Scan(s) => {
            if let Some(code) = &s.station_code {
                if !station_ok(code.as_str()) {
                    return refuse("station_code", "station");
                }
            }
            if let Some(code) = &s.to_station_code {
                if !own(owners.stations.get(code.as_str()).map(|(owner, _)| owner)) {
                    return refuse("to_station_code", "station");
                }
            }
            if let Some(code) = &s.customer_code {
                if !own(owners.customers.get(code.as_str())) {
                    return refuse("customer_code", "customer");
                }
            }
        }
        Event::Check(c) => {
            if !station_ok(c.station_code.as_str()) {
                return refuse("station_code", "station");
            }
        }
        Event::Inspection(_) if !resolved.inspects => {
            return Err(ErrorDetail::new(
                ErrorCode::Forbidden,
                "inspections come only from a device of an inspection body (检验机构) a \
                 regulator registered",
            )
            .with_field("kind"));
        }
        Event::Inspection(i)
            if resolved
                .inspected
                .get(i.cylinder_code.as_str())
                .is_some_and(|owner| *owner == device.enterprise_code) =>
        {
            return Err(ErrorDetail::new(
                ErrorCode::SelfInspection,
                "an inspection body does not inspect its own enterprise's cylinders",
            )
            .with_field("cylinder_code"));
        }
        Event::Inspection(_) | Event::Gps(_) | Event::Ble(_) => {}
    }
    let staff_no = match event {
        Event::Scan(s) => s.staff_no.as_ref().map(|n| n.as_str()),
        Event::Check(c) => Some(c.staff_no.as_str()),
        Event::Inspection(_) | Event::Gps(_) | Event::Ble(_) => None,
    };
    if let Some(no) = staff_no.filter(|no| resolved.foreign_staff.contains(*no)) {
        return Err(foreign_staff(no, &device.enterprise_code));
    }
    Ok(())
}
