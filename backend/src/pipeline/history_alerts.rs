//! The alerts and live messages of a custody batch (stage 6 for cylinders, sites and staff):
//! what the new history rows say once the touched cylinders are replayed. Runs inside the
//! custody transaction.

use crate::rules::custody::Place;
use crate::rules::history_alerts::{self, Policy, Seen};
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::custody::{NewRow, Unresolved};
use chrono::Utc;
use shared::alert::AlertKind;
use shared::certificate::CertificateKind;
use shared::cylinder::{Custody, ScanOp};
use shared::events::BleSighting;
use shared::history::HistoryOp;
use shared::ids::EnterpriseCode;
use shared::live::{CylinderState, LiveMessage, SiteStock as SiteStockMessage};
use shared::place::PlaceKind;
use shared::place::SubjectKind;
use shared::registry::StaffRole;
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A BLE sighting after which cylinders were no longer on the vehicle, away from every
/// station and customer: the writer, where the vehicle was, which cylinders.
pub type LeftNowhere<'a> = (
    &'a BleSighting,
    Option<&'a EnterpriseCode>,
    Option<(f64, f64)>,
    Vec<i64>,
);

/// An alert whose condition ended: kind, subject type, subject id.
pub type Ended = (AlertKind, SubjectKind, String);

/// What a custody batch wrote, for the alerts and the live messages it makes.
pub struct Batch<'a> {
    pub rows: &'a [NewRow],
    pub touched: &'a BTreeSet<i64>,
    pub unresolved: &'a [Unresolved],
    pub left_nowhere: &'a [LeftNowhere<'a>],
}

/// The alerts of the batch's new history: unfit cylinders in circulation, unknown tags and
/// codes, cylinders unloaded away from every known site, sites holding more full cylinders than
/// their limit (and those back under it), controlled media delivered to an unlicensed consignee,
/// off-site handovers, uncertified staff. Also the live messages of the touched cylinders and
/// sites.
pub async fn derive(
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
            code: c.code.to_string(),
            custody: c.custody.unwrap_or(Custody::InStockEmpty).name().to_owned(),
            place_kind: c.place.as_ref().map(|p| p.parts().0.name().to_owned()),
            place_code: c.place.as_ref().map(|p| p.parts().1.to_owned()),
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
        .chain(
            left_nowhere
                .iter()
                .filter_map(|l| l.1.map(EnterpriseCode::as_str)),
        )
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
            op: row.op,
            at: row.occurred_at,
        };
        for kind in history_alerts::derive(&seen, &c.standing) {
            alerts.push(NewAlert {
                kind,
                severity: kind.severity(),
                subject_type: SubjectKind::Cylinder,
                subject_id: c.code.to_string(),
                enterprise_code: Some(c.owner.clone()),
                district_code: c.district.clone(),
                place: row.point,
                place_name: None,
                seen_at: row.occurred_at,
                evidence: serde_json::json!({
                    "event_id": row.event_id, "kind": row.op.kind().name(), "op": row.op.op(),
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
    // Another enterprise's cylinder is, to the writer, an unknown one: the same alert, so that
    // its absence does not tell the writer the code is registered elsewhere (issue 20).
    for u in unresolved
        .iter()
        .filter(|u| u.reason == "unknown" || u.reason == "foreign")
    {
        let writer = u.enterprise_code.clone();
        alerts.push(NewAlert {
            kind: AlertKind::IllegalTag,
            severity: AlertKind::IllegalTag.severity(),
            subject_type: if u.ref_kind == "tag_id" {
                SubjectKind::Tag
            } else {
                SubjectKind::Cylinder
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
            subject_type: SubjectKind::Vehicle,
            subject_id: ble.vehicle_plate.as_str().to_owned(),
            enterprise_code: writer.cloned(),
            district_code: writer.and_then(|w| districts.get(w.as_str()).cloned()),
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
            .map(Place::parts)
            .filter(|(kind, _)| *kind != PlaceKind::Vehicle)
            .map(|(kind, code)| (kind.name(), code));
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
            kind: site.kind.name().to_owned(),
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
        let subject_type = if site.kind == PlaceKind::Station {
            SubjectKind::Station
        } else {
            SubjectKind::Customer
        };
        let Some(row) = sites.get(&(subject_type.name(), site.code.as_str())) else {
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
        .filter(|s| s.kind == PlaceKind::Customer)
        .map(|s| (s.code.as_str(), s))
        .collect();
    for row in rows
        .iter()
        .filter(|r| r.op == HistoryOp::Scan(ScanOp::Deliver))
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
                    subject_type: SubjectKind::Customer,
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
        let licensed = history_alerts::consignee_licensed(
            customer.licence_no.as_deref(),
            customer.licence_expires,
            row.occurred_at,
        );
        if c.medium.is_controlled() && !licensed {
            let kind = AlertKind::ControlledMediumUnlicensed;
            alerts.push(NewAlert {
                kind,
                severity: kind.severity(),
                subject_type: SubjectKind::Customer,
                subject_id: customer.code.clone(),
                enterprise_code: Some(customer.enterprise_code.clone()),
                district_code: customer.district_code.clone(),
                place: Some((customer.lon, customer.lat)),
                place_name: Some(customer.name.clone()),
                seen_at: row.occurred_at,
                evidence: serde_json::json!({
                    "cylinder_code": c.code, "medium": c.medium, "event_id": row.event_id,
                    "occurred_at": row.occurred_at, "vehicle_plate": row.vehicle_plate,
                    "licence_no": customer.licence_no,
                    "licence_expires": customer.licence_expires,
                }),
                sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), c.code),
            });
        }
    }
    Ok(ended)
}

/// A staff member signing a scan or check without a valid certificate of the kind their role
/// needs (a driver's or escort's hazmat transport certificate on a delivery) on the day of
/// the event, or unregistered.
async fn staff_alerts(
    tx: &mut PgConnection,
    rows: &[NewRow],
    alerts: &mut Vec<NewAlert>,
) -> anyhow::Result<()> {
    let mut signed: Vec<(i64, &str)> = rows
        .iter()
        .filter_map(|r| r.staff_no.as_deref().map(|no| (r.cylinder_id, no)))
        .collect();
    signed.sort_unstable();
    signed.dedup();
    let staff: HashMap<(i64, String), store::custody::StaffCertificate> =
        store::custody::staff(tx, &signed)
            .await?
            .into_iter()
            .map(|s| ((s.cylinder_id, s.staff_no.as_str().to_owned()), s))
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
        // The number is the cylinder's enterprise's: another enterprise's "001" is not this one.
        let member = staff.get(&(row.cylinder_id, no.to_owned()));
        let valid = member.is_some_and(|m| {
            let role =
                serde_json::from_value::<StaffRole>(serde_json::Value::String(m.role.clone()));
            let held: Vec<_> = m
                .certificate_kinds
                .iter()
                .zip(m.certificate_from.iter().zip(&m.certificate_to))
                .filter_map(|(kind, (from, to))| {
                    CertificateKind::from_name(kind).map(|k| (k, *from, *to))
                })
                .collect();
            role.is_ok_and(|role| history_alerts::certified(role, &held, row.occurred_at))
        });
        if valid {
            continue;
        }
        let kind = AlertKind::StaffUncertified;
        // Staff numbers are per enterprise: the subject names the enterprise too, or two
        // enterprises' "001" would share one open alert (and one would see the other's
        // evidence). The same key as the licence pass's staff alerts.
        let subject_id =
            member.map_or_else(|| no.to_owned(), |m| format!("{}/{no}", m.enterprise_code));
        alerts.push(NewAlert {
            kind,
            severity: kind.severity(),
            subject_type: SubjectKind::Staff,
            subject_id,
            enterprise_code: member.map(|m| m.enterprise_code.clone()),
            district_code: member.and_then(|m| m.district_code.clone()),
            place: row.point,
            place_name: member.map(|m| m.name.clone()),
            seen_at: row.occurred_at,
            evidence: serde_json::json!({
                "event_id": row.event_id, "kind": row.op.kind().name(), "op": row.op.op(),
                "occurred_at": row.occurred_at, "registered": member.is_some(),
                "certificate_no": member.and_then(|m| m.certificate_no.clone()),
                "certificate_expires": member.and_then(|m| m.certificate_expires),
            }),
            sighting: format!("event:{}:{}:{}", row.event_id, kind.name(), no),
        });
    }
    Ok(())
}
