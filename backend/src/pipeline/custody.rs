//! Stage: custody. Turns scans, checks, inspections and BLE sightings into history rows of the
//! cylinders they name, then replays each touched cylinder's history in event-time order, so a
//! late event lands in its place and the state is what the newest event says.

use super::history_alerts;
use crate::rules::custody::Place;
use crate::rules::history_alerts::Policy;
use crate::store;
use crate::store::custody::{Known, NewRow, Unresolved};
use anyhow::Context;
use chrono::Utc;
use shared::events::{BleSighting, CylinderRef, Event};
use shared::history::HistoryOp;
use shared::ids::{EnterpriseCode, TagId};
use shared::live::LiveMessage;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A customer within this distance of a vehicle is where a tag that left it was left.
const CUSTOMER_RADIUS_M: f64 = 50.0;

/// Applies the batch's cylinder events, each with the enterprise whose device wrote it: a
/// device writes for its own enterprise's cylinders only (an inspection body for any); a
/// reference to another enterprise's cylinder is kept as `foreign`, not applied.
pub async fn apply(
    pool: &PgPool,
    policy: &Policy,
    events: &[Event],
    enterprises: &[Option<EnterpriseCode>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let (codes, tags) = references(events);
    let has_ble = events.iter().any(|e| matches!(e, Event::Ble(_)));
    if codes.is_empty() && tags.is_empty() && !has_ble {
        return Ok(Vec::new());
    }
    let known = store::custody::resolve(pool, &codes, &tags).await?;
    let by_code: HashMap<&str, &Known> = known.iter().map(|k| (k.code.as_str(), k)).collect();
    let by_tag: HashMap<&str, &Known> = known.iter().map(|k| (k.tag_id.as_str(), k)).collect();
    let sorted = sort(events, enterprises, &by_code, &by_tag);
    // One transaction: readers see a history and the state it implies, never one without the
    // other.
    let mut tx = pool
        .begin()
        .await
        .context("opening a custody transaction")?;
    let (live, raised) = write(&mut tx, policy, sorted, &by_tag).await?;
    tx.commit().await.context("committing custody")?;
    Ok(live
        .into_iter()
        .chain(
            raised
                .into_iter()
                .map(crate::alerts::view)
                .map(|a| LiveMessage::Alert(Box::new(a))),
        )
        .collect())
}

/// The cylinder codes and tags the events name.
fn references(events: &[Event]) -> (Vec<&str>, Vec<&str>) {
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
    (codes, tags)
}

/// A batch's cylinder events sorted out: history rows of known cylinders the writer may
/// write for, references kept as unresolved (unknown or another enterprise's), and the reader
/// sightings (placed later, inside the transaction).
struct Sorted<'a> {
    rows: Vec<NewRow>,
    unresolved: Vec<Unresolved>,
    bles: Vec<(&'a BleSighting, Option<&'a EnterpriseCode>)>,
}

fn sort<'a>(
    events: &'a [Event],
    enterprises: &'a [Option<EnterpriseCode>],
    by_code: &HashMap<&str, &Known>,
    by_tag: &HashMap<&str, &Known>,
) -> Sorted<'a> {
    let mut rows = Vec::new();
    let mut unresolved = Vec::new();
    let mut bles: Vec<(&BleSighting, Option<&EnterpriseCode>)> = Vec::new();
    for (event, writer) in events.iter().zip(enterprises) {
        let writer = writer.as_ref();
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
        // An inspection body inspects other enterprises' cylinders, never its own (the ingest
        // refuses those; one that got through is kept as foreign, not applied).
        let inspection = matches!(event, Event::Inspection(_));
        let unresolved_as = |reason| Unresolved {
            event_id: event.id(),
            ref_kind: reference,
            ref_value: kind.to_owned(),
            occurred_at,
            reason,
            enterprise_code: writer.cloned(),
        };
        match cylinder {
            None => unresolved.push(unresolved_as("unknown")),
            Some(c) if !inspection && !owned_by(c, writer) => {
                unresolved.push(unresolved_as("foreign"))
            }
            Some(c) if inspection && writer.is_some_and(|w| *w == c.owner_enterprise_code) => {
                unresolved.push(unresolved_as("self_inspection"))
            }
            Some(c) => rows.extend(row_of(event, c.id, writer)),
        }
    }
    Sorted {
        rows,
        unresolved,
        bles,
    }
}

/// Writes the sorted batch in the custody transaction: history rows, the sightings' rows,
/// unresolved references; replays every touched cylinder; derives and raises the alerts of
/// the new history. Returns the live messages (cylinders, sites, vehicles) and the alerts
/// raised or ended.
async fn write(
    tx: &mut PgConnection,
    policy: &Policy,
    sorted: Sorted<'_>,
    by_tag: &HashMap<&str, &Known>,
) -> anyhow::Result<(Vec<LiveMessage>, Vec<store::alerts::AlertRow>)> {
    let Sorted {
        mut rows,
        mut unresolved,
        mut bles,
    } = sorted;
    store::custody::insert_rows(tx, &rows).await?;
    let mut touched: BTreeSet<i64> = rows.iter().map(|r| r.cylinder_id).collect();

    bles.sort_by_key(|(b, _)| (b.occurred_at, b.id));
    let mut left_nowhere = Vec::new();
    for (ble, writer) in bles {
        let ble_rows = ble_rows(tx, ble, writer, by_tag, &mut unresolved).await?;
        store::custody::insert_rows(tx, &ble_rows).await?;
        touched.extend(ble_rows.iter().map(|r| r.cylinder_id));
        let nowhere: Vec<&NewRow> = ble_rows
            .iter()
            .filter(|r| {
                r.op == HistoryOp::BleLeft && r.station_code.is_none() && r.customer_code.is_none()
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
    store::custody::insert_unresolved(tx, &unresolved).await?;
    // The vehicles the touched cylinders rode before the replay: their loads may change.
    let touched_ids: Vec<i64> = touched.iter().copied().collect();
    let mut loaded: BTreeSet<String> = store::vehicles::carrying(tx, &touched_ids)
        .await?
        .into_iter()
        .collect();
    // Cylinders locked in id order: two workers lock them in the same order, never deadlock.
    store::replay::replay_many(tx, &touched_ids).await?;
    loaded.extend(store::vehicles::carrying(tx, &touched_ids).await?);
    let mut live = Vec::new();
    let batch = history_alerts::Batch {
        rows: &rows,
        touched: &touched,
        unresolved: &unresolved,
        left_nowhere: &left_nowhere,
    };
    let (alerts, ended) = history_alerts::derive(tx, policy, &batch, &mut live).await?;
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
    // Each vehicle loaded or unloaded, with its new load (and its newest position).
    let plates: Vec<&str> = loaded.iter().map(String::as_str).collect();
    let vehicles = store::vehicles::with_loads(tx, &plates).await?;
    live.extend(vehicles.into_iter().map(LiveMessage::Vehicle));
    Ok((live, raised))
}

/// Whether the writing enterprise owns the cylinder (events from no enterprise, written before
/// devices had keys, are trusted as before).
fn owned_by(cylinder: &Known, writer: Option<&EnterpriseCode>) -> bool {
    writer.is_none_or(|w| *w == cylinder.owner_enterprise_code)
}

/// The history row of a scan, check or inspection (`None` for a fix or a sighting: their rows
/// are made elsewhere); an inspection is recorded with the inspection body whose device
/// reported it.
fn row_of(event: &Event, cylinder_id: i64, writer: Option<&EnterpriseCode>) -> Option<NewRow> {
    let op = match event {
        Event::Scan(s) => HistoryOp::Scan(s.op),
        Event::Check(c) => HistoryOp::Check(c.stage),
        Event::Inspection(i) => HistoryOp::Inspection(i.conclusion),
        Event::Gps(_) | Event::Ble(_) => return None,
    };
    let occurred_at = event.occurred_at().with_timezone(&Utc);
    let mut row = NewRow::new(cylinder_id, event.id(), op, occurred_at);
    row.point = event.point().map(|p| (p.lon(), p.lat()));
    match event {
        Event::Scan(s) => {
            row.station_code = s.station_code.clone();
            row.customer_code = s.customer_code.clone();
            row.to_station_code = s.to_station_code.clone();
            row.vehicle_plate = s.vehicle_plate.clone();
            row.staff_no = s.staff_no.clone();
            row.mass_before_kg = s.mass_before_kg;
            row.mass_after_kg = s.mass_after_kg;
        }
        Event::Check(c) => {
            row.station_code = Some(c.station_code.clone());
            row.staff_no = Some(c.staff_no.clone());
            row.details = Some(serde_json::json!({
                "stage": c.stage, "passed": c.passed, "items": c.items,
            }));
        }
        Event::Inspection(i) => {
            row.details = Some(serde_json::json!({
                "conclusion": i.conclusion, "inspected_on": i.inspected_on,
                "next_inspection_on": i.next_inspection_on, "report_no": i.report_no,
                "inspection_body": i.inspection_body, "inspector": i.inspector,
                "inspected_by": writer,
            }));
        }
        Event::Gps(_) | Event::Ble(_) => {}
    }
    Some(row)
}

/// A sighting's rows: `seen` for each known tag new on the vehicle, `left` (placed at the site
/// where the vehicle is) for each tag it listed before and not now. A sighting older than the
/// vehicle's newest (or the same one redelivered) changes nothing.
async fn ble_rows(
    conn: &mut PgConnection,
    ble: &BleSighting,
    writer: Option<&EnterpriseCode>,
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
                enterprise_code: writer.cloned(),
            });
        }
    }
    let previous = store::custody::vehicle_tags(conn, plate).await?;
    if let Some((_, at, id)) = &previous {
        if (*at, *id) >= (occurred_at, ble.id) {
            return Ok(Vec::new());
        }
    }
    let before: HashSet<TagId> = previous
        .map(|p| p.0)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let now: Vec<&str> = ble.tag_ids.iter().map(|t| t.as_str()).collect();
    let now_set: HashSet<&str> = now.iter().copied().collect();
    let (point, site) =
        store::custody::vehicle_site(conn, plate, occurred_at, CUSTOMER_RADIUS_M).await?;
    let base = |cylinder_id, op| {
        let mut row = NewRow::new(cylinder_id, ble.id, op, occurred_at);
        row.vehicle_plate = Some(ble.vehicle_plate.clone());
        row.point = point;
        row
    };
    let mut rows = Vec::new();
    let newly_seen: Vec<i64> = now
        .iter()
        .filter(|t| !before.iter().any(|b| b.as_str() == **t))
        .filter_map(|t| by_tag.get(t).map(|k| k.id))
        .collect();
    let already = store::custody::on_vehicle(conn, &newly_seen, plate).await?;
    for id in newly_seen {
        if !already.get(&id).copied().unwrap_or(false) {
            rows.push(base(id, HistoryOp::BleSeen));
        }
    }
    let gone: Vec<&str> = before
        .iter()
        .map(TagId::as_str)
        .filter(|t| !now_set.contains(t))
        .collect();
    if !gone.is_empty() {
        for known in store::custody::resolve_with(conn, &[], &gone)
            .await?
            .iter()
            .filter(|k| owned_by(k, writer))
        {
            let mut row = base(known.id, HistoryOp::BleLeft);
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
