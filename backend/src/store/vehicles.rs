//! Vehicles' live positions.

use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::events::GpsFix;
use shared::live::VehicleState;
use shared::VehiclePlate;
use sqlx::PgPool;

#[derive(sqlx::FromRow)]
struct Row {
    plate: String,
    lon: f64,
    lat: f64,
    speed_kmh: Option<f64>,
    heading: Option<f64>,
    occurred_at: DateTime<Utc>,
}

impl TryFrom<Row> for VehicleState {
    type Error = anyhow::Error;

    fn try_from(row: Row) -> anyhow::Result<Self> {
        Ok(Self {
            plate: VehiclePlate::try_from(row.plate).context("stored plate")?,
            lon: row.lon,
            lat: row.lat,
            speed_kmh: row.speed_kmh,
            heading: row.heading,
            occurred_at: row.occurred_at,
        })
    }
}

/// Applies fixes: each vehicle keeps its newest fix by event time (ties broken by event id, so
/// the outcome does not depend on arrival order). Returns the vehicles that moved.
pub async fn apply_fixes(pool: &PgPool, fixes: &[&GpsFix]) -> anyhow::Result<Vec<VehicleState>> {
    let plates: Vec<&str> = fixes.iter().map(|f| f.vehicle_plate.as_str()).collect();
    let lons: Vec<f64> = fixes.iter().map(|f| f.point.lon()).collect();
    let lats: Vec<f64> = fixes.iter().map(|f| f.point.lat()).collect();
    let speeds: Vec<Option<f64>> = fixes.iter().map(|f| f.speed_kmh).collect();
    let headings: Vec<Option<f64>> = fixes.iter().map(|f| f.heading).collect();
    let times: Vec<DateTime<Utc>> = fixes
        .iter()
        .map(|f| f.occurred_at.with_timezone(&Utc))
        .collect();
    let ids: Vec<uuid::Uuid> = fixes.iter().map(|f| f.id).collect();
    let rows: Vec<Row> = sqlx::query_as(
        r#"
        INSERT INTO vehicle_positions AS v (plate, location, speed_kmh, heading, occurred_at, event_id)
        SELECT DISTINCT ON (plate) plate, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
               speed_kmh, heading, occurred_at, id
        FROM UNNEST($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[],
                    $6::timestamptz[], $7::uuid[])
            AS t(plate, lon, lat, speed_kmh, heading, occurred_at, id)
        ORDER BY plate, occurred_at DESC, id DESC
        ON CONFLICT (plate) DO UPDATE
            SET location = EXCLUDED.location, speed_kmh = EXCLUDED.speed_kmh,
                heading = EXCLUDED.heading, occurred_at = EXCLUDED.occurred_at,
                event_id = EXCLUDED.event_id, updated_at = now()
            WHERE (v.occurred_at, v.event_id) < (EXCLUDED.occurred_at, EXCLUDED.event_id)
        RETURNING plate, ST_X(location) AS lon, ST_Y(location) AS lat, speed_kmh, heading, occurred_at
        "#,
    )
    .bind(&plates)
    .bind(&lons)
    .bind(&lats)
    .bind(&speeds)
    .bind(&headings)
    .bind(&times)
    .bind(&ids)
    .fetch_all(pool)
    .await
    .context("applying GPS fixes")?;
    rows.into_iter().map(VehicleState::try_from).collect()
}

/// Every vehicle's current position, by plate.
pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<VehicleState>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT plate, ST_X(location) AS lon, ST_Y(location) AS lat, speed_kmh, heading, occurred_at \
         FROM vehicle_positions ORDER BY plate",
    )
    .fetch_all(pool)
    .await
    .context("reading vehicle positions")?;
    rows.into_iter().map(VehicleState::try_from).collect()
}
