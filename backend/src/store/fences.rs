//! Fences as the pipeline's index reads them (geofences, stations' circles, customers'
//! premises), vehicles' fence state and the transitions.

use crate::rules::fences::{circle, from_geojson, Fence, FenceKind, Inside, Transition};
use anyhow::Context;
use chrono::{DateTime, Utc};
use geo::MultiPolygon;
use shared::ids::EnterpriseCode;
use shared::VehiclePlate;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;

/// A customer's premises: this far around its registered location.
pub const CUSTOMER_RADIUS_M: f64 = 50.0;

/// Changes whenever a fence is added, edited (every edit raises a record's version: geometry,
/// radius, location) or changes status (a closed site leaves the index).
pub async fn version(pool: &PgPool) -> anyhow::Result<String> {
    sqlx::query_scalar(
        "SELECT concat_ws(':', \
           (SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' \
                   || coalesce(max(status_changed_at)::text, '') FROM geofences), \
           (SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' \
                   || coalesce(max(status_changed_at)::text, '') FROM stations), \
           (SELECT count(*) || '/' || coalesce(sum(version), 0) || '/' \
                   || coalesce(max(status_changed_at)::text, '') FROM customers))",
    )
    .fetch_one(pool)
    .await
    .context("reading the fences' version")
}

/// Every fence, each with the enterprise whose vehicles it applies to (`None`: every
/// vehicle's: a regulator's fence, or an inspection station, which serves every enterprise).
pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<Fence>> {
    type Row = (
        String,
        String,
        String,
        Option<EnterpriseCode>,
        Vec<VehiclePlate>,
        Option<String>,
        Option<f64>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT 'geofence:' || id, kind, name, enterprise_code, vehicle_plates, \
                ST_AsGeoJSON(geom), NULL::float8, NULL::float8, NULL::float8 FROM geofences \
         WHERE status <> 'closed' \
         UNION ALL \
         SELECT 'station:' || code, 'station', name, \
                CASE WHEN kind = 'inspection' THEN NULL ELSE enterprise_code END, '{}', NULL, \
                ST_X(location), ST_Y(location), radius_m FROM stations WHERE status <> 'closed' \
         UNION ALL \
         SELECT 'customer:' || code, 'customer', name, enterprise_code, '{}', NULL, \
                ST_X(location), ST_Y(location), $1 FROM customers WHERE status <> 'closed'",
    )
    .bind(CUSTOMER_RADIUS_M)
    .fetch_all(pool)
    .await
    .context("reading the fences")?;
    // A fence that cannot be read is an error, never skipped: a skipped fence is one no vehicle
    // is ever inside, silently (the API and migration 0075 keep such fences out).
    rows.into_iter()
        .map(
            |(key, kind, name, enterprise_code, vehicles, geojson, lon, lat, radius)| {
                let shape = match (geojson, lon, lat, radius) {
                    (Some(text), _, _, _) => serde_json::from_str(&text)
                        .ok()
                        .and_then(|value| from_geojson(&value))
                        .with_context(|| format!("fence {key}: its geometry is not a polygon"))?,
                    (None, Some(lon), Some(lat), Some(r)) => {
                        MultiPolygon(vec![circle(lon, lat, r, 32)])
                    }
                    _ => anyhow::bail!("fence {key}: neither a geometry nor a circle"),
                };
                Ok(Fence {
                    kind: FenceKind::from_name(&kind)
                        .with_context(|| format!("fence {key}: unknown kind {kind:?}"))?,
                    key,
                    name,
                    enterprise_code,
                    vehicles,
                    shape,
                })
            },
        )
        .collect()
}

/// The fences these vehicles are in.
pub async fn inside(
    tx: &mut PgConnection,
    plates: &[&str],
) -> anyhow::Result<HashMap<String, Vec<Inside>>> {
    let rows: Vec<(String, String, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT plate, fence, entered_at, dwell_noted FROM vehicle_fences WHERE plate = ANY($1) \
         FOR UPDATE",
    )
    .bind(plates)
    .fetch_all(&mut *tx)
    .await
    .context("reading vehicles' fences")?;
    let mut by_plate: HashMap<String, Vec<Inside>> = HashMap::new();
    for (plate, fence, entered_at, dwell_noted) in rows {
        by_plate.entry(plate).or_default().push(Inside {
            fence,
            entered_at,
            dwell_noted,
        });
    }
    Ok(by_plate)
}

/// Replaces these vehicles' fence state (an empty list: in no fence).
pub async fn save_inside(
    tx: &mut PgConnection,
    state: &HashMap<String, Vec<Inside>>,
) -> anyhow::Result<()> {
    if state.is_empty() {
        return Ok(());
    }
    let plates: Vec<&str> = state.keys().map(String::as_str).collect();
    sqlx::query("DELETE FROM vehicle_fences WHERE plate = ANY($1)")
        .bind(&plates)
        .execute(&mut *tx)
        .await
        .context("clearing vehicles' fences")?;
    let rows: Vec<(&str, &Inside)> = state
        .iter()
        .flat_map(|(p, v)| v.iter().map(move |i| (p.as_str(), i)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO vehicle_fences (plate, fence, entered_at, dwell_noted) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[], $4::bool[])",
    )
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.fence.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.entered_at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.dwell_noted).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .context("keeping vehicles' fences")?;
    Ok(())
}

/// One transition to keep.
#[derive(Debug, Clone)]
pub struct TransitionRow {
    pub event_id: uuid::Uuid,
    pub fence: String,
    pub kind: Transition,
    pub plate: VehiclePlate,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
}

/// Keeps transitions (once per event, fence and kind).
pub async fn insert_transitions(
    tx: &mut PgConnection,
    rows: &[TransitionRow],
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO fence_transitions (event_id, fence, kind, plate, occurred_at, lon, lat) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], \
                              $5::timestamptz[], $6::float8[], $7::float8[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind(rows.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.fence.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.kind.name()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.plate.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.at).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.lon).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.lat).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .context("keeping fence transitions")?;
    Ok(())
}

/// These vehicles' current stops, and whether each carries cylinders (its newest tag list is
/// not empty).
pub async fn stops(
    tx: &mut PgConnection,
    plates: &[&str],
) -> anyhow::Result<(
    HashMap<String, crate::rules::stops::Stop>,
    HashMap<String, bool>,
)> {
    let rows: Vec<(String, f64, f64, DateTime<Utc>, bool)> = sqlx::query_as(
        "SELECT plate, lon, lat, since, noted FROM vehicle_stops WHERE plate = ANY($1) FOR UPDATE",
    )
    .bind(plates)
    .fetch_all(&mut *tx)
    .await
    .context("reading vehicles' stops")?;
    let stops = rows
        .into_iter()
        .map(|(plate, lon, lat, since, noted)| {
            (
                plate,
                crate::rules::stops::Stop {
                    lon,
                    lat,
                    since,
                    noted,
                },
            )
        })
        .collect();
    let loaded: Vec<(String, bool)> = sqlx::query_as(
        "SELECT plate, cardinality(tag_ids) > 0 FROM vehicle_tags WHERE plate = ANY($1)",
    )
    .bind(plates)
    .fetch_all(&mut *tx)
    .await
    .context("reading vehicles' loads")?;
    Ok((stops, loaded.into_iter().collect()))
}

/// Keeps these vehicles' stops.
pub async fn save_stops(
    tx: &mut PgConnection,
    stops: &HashMap<String, crate::rules::stops::Stop>,
) -> anyhow::Result<()> {
    if stops.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&String, &crate::rules::stops::Stop)> = stops.iter().collect();
    sqlx::query(
        "INSERT INTO vehicle_stops (plate, lon, lat, since, noted) \
         SELECT * FROM UNNEST($1::text[], $2::float8[], $3::float8[], $4::timestamptz[], $5::bool[]) \
         ON CONFLICT (plate) DO UPDATE SET lon = EXCLUDED.lon, lat = EXCLUDED.lat, \
             since = EXCLUDED.since, noted = EXCLUDED.noted",
    )
    .bind(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.lon).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.lat).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.since).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1.noted).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .context("keeping vehicles' stops")?;
    Ok(())
}
