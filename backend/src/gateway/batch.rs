//! The check every ingest source applies to a batch of parsed events (HTTP, MQTT): whose
//! records the events name, and whether this device may write them. One read of the
//! registry per batch.

use crate::access::Device;
use crate::store;
use crate::store::registry::Owners;
use shared::events::{Event, RejectedEvent};
use shared::{ErrorCode, ErrorDetail};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

/// A staff number only another enterprise has.
pub fn foreign_staff(no: &str, enterprise: &str) -> ErrorDetail {
    ErrorDetail::new(
        ErrorCode::ForeignStaff,
        format!("staff_no: {no} is not a staff member of enterprise {enterprise}"),
    )
    .with_field("staff_no")
}

/// A batch split into the events the device may write and the refused items (by index,
/// sorted), parse errors included.
pub struct Checked {
    pub events: Vec<Event>,
    pub rejected: Vec<RejectedEvent>,
}

/// Checks the parsed items of one batch for `device`.
pub async fn check(
    pool: &PgPool,
    device: &Device,
    items: Vec<Result<Event, ErrorDetail>>,
) -> anyhow::Result<Checked> {
    let mut parsed = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(event) => parsed.push((index, event)),
            Err(error) => rejected.push(RejectedEvent { index, error }),
        }
    }
    let resolved = resolve(pool, device, &parsed).await?;
    let mut events = Vec::with_capacity(parsed.len());
    for (index, event) in parsed {
        match may_write(device, &resolved, &event) {
            Ok(()) => events.push(event),
            Err(error) => rejected.push(RejectedEvent { index, error }),
        }
    }
    rejected.sort_by_key(|r| r.index);
    Ok(Checked { events, rejected })
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
    pool: &PgPool,
    device: &Device,
    events: &[(usize, Event)],
) -> anyhow::Result<Resolved> {
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
