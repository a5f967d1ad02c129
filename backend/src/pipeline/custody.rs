//! Stage: custody. Turns scans, checks, inspections and BLE sightings into history rows of the
//! cylinders they name, then replays each touched cylinder's history in event-time order, so a
//! late event lands in its place and the state is what the newest event says.

use crate::rules::custody::Place;
use crate::rules::history_alerts::{self, Seen};
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::custody::{Known, NewRow, Unresolved};
use anyhow::Context;
use chrono::Utc;
use shared::alert::AlertKind;
use shared::events::{BleSighting, CylinderRef, Event};
use shared::live::{CylinderState, LiveMessage, SiteStock as SiteStockMessage};
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A customer within this distance of a vehicle is where a tag that left it was left.
const CUSTOMER_RADIUS_M: f64 = 50.0;

/// The limits of the stage's alerts, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A delivery handed over farther than this from the customer's registered place is off
    /// site (metres).
    pub delivery_max_distance_m: f64,
}

/// Applies the batch's cylinder events, each with the enterprise whose device wrote it: a
/// device writes for its own enterprise's cylinders only (an inspection body for any); a
/// reference to another enterprise's cylinder is kept as `foreign`, not applied.
pub async fn apply(
    pool: &PgPool,
    policy: &Policy,
    events: &[Event],
    enterprises: &[Option<String>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let mut codes = Vec::new();
    let mut tags = Vec::new();
    for event in events {
        match event {
            Event::Scan(s) => match &s.cylinder {
                CylinderRef::CylinderCode(c) => codes.push(c.as_str()),
                CylinderRef::TagId(t) => tags.push(t.as_str()),
            },
            Event::Check(c) => codes.push(c.cylinder_code.as_str()),
            Event::Inspection(i) => codes.push(i.cylinder_code.as_str()),
            Event::Ble(b) => tags.extend(b.tag_ids.iter().map(|t| t.as_str())),
            Event::Gps(_) => {}
        }
    }
    let has_ble = events.iter().any(|e| matches!(e, Event::Ble(_)));
    if codes.is_empty() && tags.is_empty() && !has_ble {
        return Ok(Vec::new());
    }
    let known = store::custody::resolve(pool, &codes, &tags).await?;
    let by_code: HashMap<&str, &Known> = known.iter().map(|k| (k.code.as_str(), k)).collect();
    let by_tag: HashMap<&str, &Known> = known.iter().map(|k| (k.tag_id.as_str(), k)).collect();

    let mut rows = Vec::new();
    let mut unresolved = Vec::new();
    let mut bles: Vec<(&BleSighting, Option<&str>)> = Vec::new();
    for (event, writer) in events.iter().zip(enterprises) {
        let writer = writer.as_deref();
        let occurred_at = event.occurred_at().with_timezone(&Utc);
        let (reference, kind, cylinder) = match event {
            Event::Scan(s) => match &s.cylinder {
                CylinderRef::CylinderCode(c) => {
                    ("cylinder_code", c.as_str(), by_code.get(c.as_str()))
                }
                CylinderRef::TagId(t) => ("tag_id", t.as_str(), by_tag.get(t.as_str())),
            },
            Event::Check(c) => (
                "cylinder_code",
                c.cylinder_code.as_str(),
                by_code.get(c.cylinder_code.as_str()),
            ),
            Event::Inspection(i) => (
                "cylinder_code",
                i.cylinder_code.as_str(),
                by_code.get(i.cylinder_code.as_str()),
            ),
            Event::Ble(b) => {
                bles.push((b, writer));
                continue;
            }
            Event::Gps(_) => continue,
        };
        let any_owner = matches!(event, Event::Inspection(_));
        let unresolved_as = |reason| Unresolved {
            event_id: event.id(),
            ref_kind: reference,
            ref_value: kind.to_owned(),
            occurred_at,
            reason,
            enterprise_code: writer.map(str::to_owned),
        };
        match cylinder {
            None => unresolved.push(unresolved_as("unknown")),
            Some(c) if !any_owner && !owned_by(c, writer) => {
                unresolved.push(unresolved_as("foreign"))
            }
            Some(c) => rows.push(row_of(event, c.id)),
        }
    }
    // One transaction: readers see a history and the state it implies, never one without the
    // other.
    let mut tx = pool
        .begin()
        .await
        .context("opening a custody transaction")?;
    store::custody::insert_rows(&mut tx, &rows).await?;
    let mut touched: BTreeSet<i64> = rows.iter().map(|r| r.cylinder_id).collect();

    bles.sort_by_key(|(b, _)| (b.occurred_at, b.id));
    let mut left_nowhere = Vec::new();
    for (ble, writer) in bles {
        let ble_rows = ble_rows(&mut tx, ble, writer, &by_tag, &mut unresolved).await?;
        store::custody::insert_rows(&mut tx, &ble_rows).await?;
        touched.extend(ble_rows.iter().map(|r| r.cylinder_id));
        let nowhere: Vec<&NewRow> = ble_rows
            .iter()
            .filter(|r| {
                r.op.as_deref() == Some("left")
                    && r.station_code.is_none()
                    && r.customer_code.is_none()
            })
            .collect();
        if let Some(first) = nowhere.first() {
            left_nowhere.push((
                ble,
                writer,
                first.point,
                nowhere.iter().map(|r| r.cylinder_id).collect::<Vec<_>>(),
            ));
        }
        rows.extend(ble_rows);
    }
    store::custody::insert_unresolved(&mut tx, &unresolved).await?;
    // Cylinders in id order: two workers lock them in the same order, never deadlock.
    for &cylinder_id in &touched {
        store::custody::replay(&mut tx, cylinder_id).await?;
    }
    let mut live = Vec::new();
    let batch = Batch {
        rows: &rows,
        touched: &touched,
        unresolved: &unresolved,
        left_nowhere: &left_nowhere,
    };
    let (alerts, ended) = alerts(&mut tx, policy, &batch, &mut live).await?;
    let mut raised = Vec::new();
    for alert in &alerts {
        if let Some(row) = store::alerts::raise(&mut *tx, alert).await? {
            raised.push(row);
        }
    }
    for (kind, subject_type, code) in ended {
        let now = Utc::now();
        if let Some(row) =
            store::alerts::condition_ended(&mut *tx, kind, subject_type, &code, now).await?
        {
            raised.push(row);
        }
    }
    tx.commit().await.context("committing custody")?;
    live.extend(
        raised
            .into_iter()
            .filter_map(crate::alerts::view)
            .map(|a| LiveMessage::Alert(Box::new(a))),
    );
    Ok(live)
}

/// A BLE sighting after which cylinders were no longer on the vehicle, away from every
/// station and customer: the writer, where the vehicle was, which cylinders.
type LeftNowhere<'a> = (
    &'a BleSighting,
    Option<&'a str>,
    Option<(f64, f64)>,
    Vec<i64>,
);

/// An alert whose condition ended: kind, subject type, subject id.
type Ended = (AlertKind, &'static str, String);

/// The alerts of the batch's new history: unfit cylinders in circulation, unknown tags and
/// codes, cylinders unloaded away from every known site, sites holding more full cylinders than
/// their limit (and those back under it), controlled media delivered to an unlicensed consignee.
/// What a custody batch wrote, for the alerts and the live messages it makes.
struct Batch<'a> {
    rows: &'a [NewRow],
    touched: &'a BTreeSet<i64>,
    unresolved: &'a [Unresolved],
    left_nowhere: &'a [LeftNowhere<'a>],
}

async fn alerts(
    tx: &mut PgConnection,
    policy: &Policy,
    batch: &Batch<'_>,
    live: &mut Vec<LiveMessage>,
) -> anyhow::Result<(Vec<NewAlert>, Vec<Ended>)> {
    let Batch {
        rows,
        touched,
        unresolved,
        left_nowhere,
    } = *batch;
    let ids: Vec<i64> = touched.iter().copied().collect();
    let standing = store::custody::standing(tx, &ids).await?;
    // Every touched cylinder as it stands now, for the live map.
    let mut touched_now: Vec<&store::custody::Standing> = standing.values().collect();
    touched_now.sort_by(|a, b| a.code.cmp(&b.code));
    live.extend(touched_now.into_iter().map(|c| {
        LiveMessage::Cylinder(CylinderState {
            code: c.code.clone(),
            custody: c.custody.clone().unwrap_or_else(|| "in_stock_empty".into()),
            place_kind: c.place.as_ref().map(|p| p.0.clone()),
            place_code: c.place.as_ref().map(|p| p.1.clone()),
            lon: c.location.map(|l| l.0),
            lat: c.location.map(|l| l.1),
            last_seen_at: c.last_seen_at,
            enterprise_code: c.owner.clone(),
            district_code: c.district.clone(),
        })
    }));
    let mut writers: Vec<&str> = unresolved
        .iter()
        .filter_map(|u| u.enterprise_code.as_deref())
        .chain(left_nowhere.iter().filter_map(|l| l.1))
        .collect();
    writers.sort_unstable();
    writers.dedup();
    let districts = store::custody::districts(tx, &writers).await?;
    let mut alerts = Vec::new();
    for row in rows {
        let Some(c) = standing.get(&row.cylinder_id) else {
            continue;
        };
        let seen = Seen {
            kind: row.kind,
            op: row.op.as_deref(),
            at: row.occurred_at,
        };
        for kind in history_alerts::derive(&seen, &c.standing) {
            alerts.push(NewAlert {
                kind,
                severity: kind.severity(),
                subject_type: "cylinder",
                subject_id: c.code.clone(),
                enterprise_code: Some(c.owner.clone()),
                district_code: c.district.clone(),
                place: row.point,
                place_name: None,
                seen_at: row.occurred_at,
                evidence: serde_json::json!({
                    "event_id": row.event_id, "kind": row.kind, "op": row.op,
                    "occurred_at": row.occurred_at, "vehicle_plate": row.vehicle_plate,
                    "station_code": row.station_code, "customer_code": row.customer_code,
                    "scrapped_at": c.standing.scrapped_at,
                    "next_inspection_on": c.standing.next_inspection_on,
                    "life_ends_on": c.standing.life_ends_on,
                }),
                sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), c.code),
            });
        }
    }
    for u in unresolved.iter().filter(|u| u.reason == "unknown") {
        let writer = u.enterprise_code.clone();
        alerts.push(NewAlert {
            kind: AlertKind::IllegalTag,
            severity: AlertKind::IllegalTag.severity(),
            subject_type: if u.ref_kind == "tag_id" {
                "tag"
            } else {
                "cylinder"
            },
            subject_id: u.ref_value.clone(),
            district_code: writer.as_deref().and_then(|w| districts.get(w).cloned()),
            enterprise_code: writer,
            place: None,
            place_name: None,
            seen_at: u.occurred_at,
            evidence: serde_json::json!({
                "event_id": u.event_id, "ref_kind": u.ref_kind, "ref_value": u.ref_value,
                "occurred_at": u.occurred_at,
            }),
            sighting: format!("event:{}:illegal_tag:{}", u.event_id, u.ref_value),
        });
    }
    for (ble, writer, point, cylinders) in left_nowhere {
        let codes: Vec<&str> = cylinders
            .iter()
            .filter_map(|id| standing.get(id).map(|c| c.code.as_str()))
            .collect();
        alerts.push(NewAlert {
            kind: AlertKind::UnloadedUnknownPlace,
            severity: AlertKind::UnloadedUnknownPlace.severity(),
            subject_type: "vehicle",
            subject_id: ble.vehicle_plate.as_str().to_owned(),
            enterprise_code: writer.map(str::to_owned),
            district_code: writer.and_then(|w| districts.get(w).cloned()),
            place: *point,
            place_name: None,
            seen_at: ble.occurred_at.with_timezone(&Utc),
            evidence: serde_json::json!({
                "event_id": ble.id, "occurred_at": ble.occurred_at, "cylinders": codes,
                "position": point.map(|(lon, lat)| serde_json::json!({"lon": lon, "lat": lat})),
            }),
            sighting: format!("event:{}:unloaded_unknown_place", ble.id),
        });
    }
    let ended = site_alerts(tx, policy, rows, &standing, &mut alerts, live).await?;
    staff_alerts(tx, rows, &mut alerts).await?;
    Ok((alerts, ended))
}

/// Stock and consignee alerts of the sites the batch touched: each site's full cylinders
/// against its limit (the newest row that touched it is the sighting), and deliveries of a
/// controlled medium to a customer without a licence.
async fn site_alerts(
    tx: &mut PgConnection,
    policy: &Policy,
    rows: &[NewRow],
    standing: &HashMap<i64, store::custody::Standing>,
    alerts: &mut Vec<NewAlert>,
    live: &mut Vec<LiveMessage>,
) -> anyhow::Result<Vec<Ended>> {
    // Each site touched, with the newest row that touched it.
    let mut sites: HashMap<(&str, &str), &NewRow> = HashMap::new();
    for row in rows {
        let now_at = standing
            .get(&row.cylinder_id)
            .and_then(|c| c.place.as_ref())
            .filter(|(kind, _)| kind != "vehicle")
            .map(|(kind, code)| (kind.as_str(), code.as_str()));
        let named = [
            row.station_code.as_deref().map(|c| ("station", c)),
            row.to_station_code.as_deref().map(|c| ("station", c)),
            row.customer_code.as_deref().map(|c| ("customer", c)),
        ];
        for site in named.into_iter().flatten().chain(now_at) {
            let newer = sites
                .get(&site)
                .is_none_or(|r| (r.occurred_at, r.event_id) < (row.occurred_at, row.event_id));
            if newer {
                sites.insert(site, row);
            }
        }
    }
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let pick = |kind: &str| -> Vec<&str> {
        sites
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, c)| *c)
            .collect()
    };
    let stock = store::custody::site_stock(tx, &pick("station"), &pick("customer")).await?;
    live.extend(stock.iter().map(|site| {
        LiveMessage::Site(SiteStockMessage {
            kind: site.kind.clone(),
            code: site.code.clone(),
            name: site.name.clone(),
            full: site.full,
            limit: i64::from(site.full_stock_limit),
            lon: site.lon,
            lat: site.lat,
            enterprise_code: site.enterprise_code.clone(),
            district_code: site.district_code.clone(),
        })
    }));
    let mut ended = Vec::new();
    for site in &stock {
        let subject_type = if site.kind == "station" {
            "station"
        } else {
            "customer"
        };
        let Some(row) = sites.get(&(subject_type, site.code.as_str())) else {
            continue;
        };
        if site.full > i64::from(site.full_stock_limit) {
            alerts.push(NewAlert {
                kind: AlertKind::OverweightStock,
                severity: AlertKind::OverweightStock.severity(),
                subject_type,
                subject_id: site.code.clone(),
                enterprise_code: Some(site.enterprise_code.clone()),
                district_code: site.district_code.clone(),
                place: Some((site.lon, site.lat)),
                place_name: Some(site.name.clone()),
                seen_at: row.occurred_at,
                evidence: serde_json::json!({
                    "full": site.full, "limit": site.full_stock_limit, "event_id": row.event_id,
                    "occurred_at": row.occurred_at,
                }),
                sighting: format!("event:{}:overweight_stock:{}", row.event_id, site.code),
            });
        } else {
            ended.push((AlertKind::OverweightStock, subject_type, site.code.clone()));
        }
    }
    let customers: HashMap<&str, &store::custody::SiteStock> = stock
        .iter()
        .filter(|s| s.kind == "customer")
        .map(|s| (s.code.as_str(), s))
        .collect();
    for row in rows
        .iter()
        .filter(|r| r.kind == "scan" && r.op.as_deref() == Some("deliver"))
    {
        let (Some(c), Some(customer)) = (
            standing.get(&row.cylinder_id),
            row.customer_code.as_deref().and_then(|c| customers.get(c)),
        ) else {
            continue;
        };
        if let Some((lon, lat)) = row.point {
            let distance = crate::rules::gps::distance_m(lon, lat, customer.lon, customer.lat);
            if history_alerts::off_site(distance, policy.delivery_max_distance_m) {
                let kind = AlertKind::DeliveryOffSite;
                alerts.push(NewAlert {
                    kind,
                    severity: kind.severity(),
                    subject_type: "customer",
                    subject_id: customer.code.clone(),
                    enterprise_code: Some(customer.enterprise_code.clone()),
                    district_code: customer.district_code.clone(),
                    place: Some((lon, lat)),
                    place_name: Some(customer.name.clone()),
                    seen_at: row.occurred_at,
                    evidence: serde_json::json!({
                        "cylinder_code": c.code, "event_id": row.event_id,
                        "occurred_at": row.occurred_at, "handover": {"lon": lon, "lat": lat},
                        "registered": {"lon": customer.lon, "lat": customer.lat},
                        "distance_m": distance.round(), "limit_m": policy.delivery_max_distance_m,
                        "vehicle_plate": row.vehicle_plate, "staff_no": row.staff_no,
                    }),
                    sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), c.code),
                });
            }
        }
        let controlled = c
            .medium
            .parse::<shared::medium::Medium>()
            .is_ok_and(|m| m.is_controlled());
        if controlled && customer.licence_no.is_none() {
            let kind = AlertKind::ControlledMediumUnlicensed;
            alerts.push(NewAlert {
                kind,
                severity: kind.severity(),
                subject_type: "customer",
                subject_id: customer.code.clone(),
                enterprise_code: Some(customer.enterprise_code.clone()),
                district_code: customer.district_code.clone(),
                place: Some((customer.lon, customer.lat)),
                place_name: Some(customer.name.clone()),
                seen_at: row.occurred_at,
                evidence: serde_json::json!({
                    "cylinder_code": c.code, "medium": c.medium, "event_id": row.event_id,
                    "occurred_at": row.occurred_at, "vehicle_plate": row.vehicle_plate,
                    "licence_no": null,
                }),
                sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), c.code),
            });
        }
    }
    Ok(ended)
}

/// A staff member signing a scan or check without a valid certificate (or unregistered).
async fn staff_alerts(
    tx: &mut PgConnection,
    rows: &[NewRow],
    alerts: &mut Vec<NewAlert>,
) -> anyhow::Result<()> {
    let mut nos: Vec<&str> = rows.iter().filter_map(|r| r.staff_no.as_deref()).collect();
    nos.sort_unstable();
    nos.dedup();
    let staff: HashMap<String, store::custody::StaffCertificate> = store::custody::staff(tx, &nos)
        .await?
        .into_iter()
        .map(|s| (s.staff_no.clone(), s))
        .collect();
    let mut seen = HashSet::new();
    for row in rows {
        let Some(no) = row.staff_no.as_deref() else {
            continue;
        };
        // One alert per event and staff member, whatever the number of cylinders it names.
        if !seen.insert((row.event_id, no)) {
            continue;
        }
        let member = staff.get(no);
        let valid = member.is_some_and(|m| {
            history_alerts::certified(
                m.certificate_no.as_deref(),
                m.certificate_expires,
                row.occurred_at,
            )
        });
        if valid {
            continue;
        }
        let kind = AlertKind::StaffUncertified;
        alerts.push(NewAlert {
            kind,
            severity: kind.severity(),
            subject_type: "staff",
            subject_id: no.to_owned(),
            enterprise_code: member.map(|m| m.enterprise_code.clone()),
            district_code: member.and_then(|m| m.district_code.clone()),
            place: row.point,
            place_name: member.map(|m| m.name.clone()),
            seen_at: row.occurred_at,
            evidence: serde_json::json!({
                "event_id": row.event_id, "kind": row.kind, "op": row.op,
                "occurred_at": row.occurred_at, "registered": member.is_some(),
                "certificate_no": member.and_then(|m| m.certificate_no.clone()),
                "certificate_expires": member.and_then(|m| m.certificate_expires),
            }),
            sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), no),
        });
    }
    Ok(())
}

/// Whether the writing enterprise owns the cylinder (events from no enterprise, written before
/// devices had keys, are trusted as before).
fn owned_by(cylinder: &Known, writer: Option<&str>) -> bool {
    writer.is_none_or(|w| w == cylinder.owner_enterprise_code)
}

/// The history row of a scan, check or inspection.
fn row_of(event: &Event, cylinder_id: i64) -> NewRow {
    let mut row = NewRow {
        cylinder_id,
        event_id: event.id(),
        kind: event.kind(),
        occurred_at: event.occurred_at().with_timezone(&Utc),
        point: event.point().map(|p| (p.lon(), p.lat())),
        ..NewRow::default()
    };
    let own = |s: Option<&str>| s.map(str::to_owned);
    match event {
        Event::Scan(s) => {
            row.op = Some(s.op.name().to_owned());
            row.station_code = own(s.station_code.as_ref().map(|c| c.as_str()));
            row.customer_code = own(s.customer_code.as_ref().map(|c| c.as_str()));
            row.to_station_code = own(s.to_station_code.as_ref().map(|c| c.as_str()));
            row.vehicle_plate = own(s.vehicle_plate.as_ref().map(|c| c.as_str()));
            row.staff_no = own(s.staff_no.as_ref().map(|c| c.as_str()));
            row.mass_before_kg = s.mass_before_kg;
            row.mass_after_kg = s.mass_after_kg;
        }
        Event::Check(c) => {
            row.op = serde_json::to_value(c.stage)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            row.station_code = Some(c.station_code.as_str().to_owned());
            row.staff_no = Some(c.staff_no.as_str().to_owned());
            row.details = Some(serde_json::json!({
                "stage": c.stage, "passed": c.passed, "items": c.items,
            }));
        }
        Event::Inspection(i) => {
            row.op = serde_json::to_value(i.conclusion)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            row.details = Some(serde_json::json!({
                "conclusion": i.conclusion, "inspected_on": i.inspected_on,
                "next_inspection_on": i.next_inspection_on, "report_no": i.report_no,
                "inspection_body": i.inspection_body, "inspector": i.inspector,
            }));
        }
        Event::Gps(_) | Event::Ble(_) => {}
    }
    row
}

/// A sighting's rows: `seen` for each known tag new on the vehicle, `left` (placed at the site
/// where the vehicle is) for each tag it listed before and not now. A sighting older than the
/// vehicle's newest (or the same one redelivered) changes nothing.
async fn ble_rows(
    conn: &mut PgConnection,
    ble: &BleSighting,
    writer: Option<&str>,
    by_tag: &HashMap<&str, &Known>,
    unresolved: &mut Vec<Unresolved>,
) -> anyhow::Result<Vec<NewRow>> {
    let plate = ble.vehicle_plate.as_str();
    let occurred_at = ble.occurred_at.with_timezone(&Utc);
    // Only the writer's own cylinders count as on its vehicle.
    let all_known = by_tag;
    let by_tag: HashMap<&str, &Known> = all_known
        .iter()
        .filter(|(_, k)| owned_by(k, writer))
        .map(|(t, k)| (*t, *k))
        .collect();
    for tag in &ble.tag_ids {
        if !by_tag.contains_key(tag.as_str()) {
            let reason = if all_known.contains_key(tag.as_str()) {
                "foreign"
            } else {
                "unknown"
            };
            unresolved.push(Unresolved {
                event_id: ble.id,
                ref_kind: "tag_id",
                ref_value: tag.as_str().to_owned(),
                occurred_at,
                reason,
                enterprise_code: writer.map(str::to_owned),
            });
        }
    }
    let previous = store::custody::vehicle_tags(conn, plate).await?;
    if let Some((_, at, id)) = &previous {
        if (*at, *id) >= (occurred_at, ble.id) {
            return Ok(Vec::new());
        }
    }
    let before: HashSet<String> = previous
        .map(|p| p.0)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let now: Vec<&str> = ble.tag_ids.iter().map(|t| t.as_str()).collect();
    let now_set: HashSet<&str> = now.iter().copied().collect();
    let (point, site) = store::custody::vehicle_site(conn, plate, CUSTOMER_RADIUS_M).await?;
    let base = |cylinder_id, op: &str| NewRow {
        cylinder_id,
        event_id: ble.id,
        kind: "ble",
        op: Some(op.to_owned()),
        occurred_at,
        vehicle_plate: Some(plate.to_owned()),
        point,
        ..NewRow::default()
    };
    let mut rows = Vec::new();
    let newly_seen: Vec<i64> = now
        .iter()
        .filter(|t| !before.contains(**t))
        .filter_map(|t| by_tag.get(t).map(|k| k.id))
        .collect();
    let already = store::custody::on_vehicle(conn, &newly_seen, plate).await?;
    for id in newly_seen {
        if !already.get(&id).copied().unwrap_or(false) {
            rows.push(base(id, "seen"));
        }
    }
    let gone: Vec<&str> = before
        .iter()
        .map(String::as_str)
        .filter(|t| !now_set.contains(t))
        .collect();
    if !gone.is_empty() {
        for known in store::custody::resolve_with(conn, &[], &gone)
            .await?
            .iter()
            .filter(|k| owned_by(k, writer))
        {
            let mut row = base(known.id, "left");
            match &site {
                Some(Place::Station(code)) => row.station_code = Some(code.clone()),
                Some(Place::Customer(code)) => row.customer_code = Some(code.clone()),
                Some(Place::Vehicle(_)) | None => {}
            }
            rows.push(row);
        }
    }
    store::custody::set_vehicle_tags(conn, plate, &now, occurred_at, ble.id).await?;
    Ok(rows)
}
