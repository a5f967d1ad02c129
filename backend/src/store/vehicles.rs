//! Vehicles' live positions.

use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::events::GpsFix;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::live::{Load, VehicleState};
use shared::VehiclePlate;
use sqlx::PgPool;

#[derive(sqlx::FromRow)]
struct Row {
    plate: VehiclePlate,
    lon: f64,
    lat: f64,
    speed_kmh: Option<f64>,
    heading: Option<f64>,
    occurred_at: DateTime<Utc>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    /// The load, where the query counted it.
    #[sqlx(default)]
    load_full: Option<i64>,
    #[sqlx(default)]
    load_other: Option<i64>,
}

impl TryFrom<Row> for VehicleState {
    type Error = anyhow::Error;

    fn try_from(row: Row) -> anyhow::Result<Self> {
        Ok(Self {
            plate: row.plate,
            lon: row.lon,
            lat: row.lat,
            speed_kmh: row.speed_kmh,
            heading: row.heading,
            occurred_at: row.occurred_at,
            enterprise_code: row.enterprise_code,
            district_code: row.district_code,
            load: match (row.load_full, row.load_other) {
                (Some(full), Some(other)) => Some(Load { full, other }),
                _ => None,
            },
        })
    }
}

/// Applies fixes, each with the enterprise whose device reported it: each vehicle keeps its
/// newest fix by event time (ties broken by event id, so the outcome does not depend on
/// arrival order), attributed to its registered owner, else to the reporting enterprise.
/// Returns the vehicles that moved.
pub async fn apply_fixes(
    conn: &mut sqlx::PgConnection,
    fixes: &[(&GpsFix, Option<&str>)],
) -> anyhow::Result<Vec<VehicleState>> {
    let reporters: Vec<Option<&str>> = fixes.iter().map(|f| f.1).collect();
    let fixes: Vec<&GpsFix> = fixes.iter().map(|f| f.0).collect();
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
        INSERT INTO vehicle_positions AS v (plate, location, speed_kmh, heading, occurred_at,
                                            event_id, enterprise_code, district_code)
        SELECT DISTINCT ON (t.plate) t.plate, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326),
               t.speed_kmh, t.heading, t.occurred_at, t.id,
               coalesce(r.enterprise_code, t.reporter), e.district_code
        FROM UNNEST($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[],
                    $6::timestamptz[], $7::uuid[], $8::text[])
            AS t(plate, lon, lat, speed_kmh, heading, occurred_at, id, reporter)
        LEFT JOIN vehicles r ON r.plate = t.plate
        LEFT JOIN enterprises e ON e.code = coalesce(r.enterprise_code, t.reporter)
        ORDER BY t.plate, t.occurred_at DESC, t.id DESC
        ON CONFLICT (plate) DO UPDATE
            SET location = EXCLUDED.location, speed_kmh = EXCLUDED.speed_kmh,
                heading = EXCLUDED.heading, occurred_at = EXCLUDED.occurred_at,
                event_id = EXCLUDED.event_id, enterprise_code = EXCLUDED.enterprise_code,
                district_code = EXCLUDED.district_code, updated_at = now()
            WHERE (v.occurred_at, v.event_id) < (EXCLUDED.occurred_at, EXCLUDED.event_id)
        RETURNING plate, ST_X(location) AS lon, ST_Y(location) AS lat, speed_kmh, heading,
                  occurred_at, enterprise_code, district_code
        "#,
    )
    .bind(&plates)
    .bind(&lons)
    .bind(&lats)
    .bind(&speeds)
    .bind(&headings)
    .bind(&times)
    .bind(&ids)
    .bind(&reporters)
    .fetch_all(&mut *conn)
    .await
    .context("applying GPS fixes")?;
    rows.into_iter().map(VehicleState::try_from).collect()
}

/// The cylinders on each vehicle, for joining to `vehicle_positions v` (columns `load_full`,
/// `load_other`; 0 and 0 for a vehicle carrying nothing).
const LOAD_JOIN: &str = "LEFT JOIN LATERAL ( \
         SELECT count(*) FILTER (WHERE s.custody = 'in_transit_delivery') AS full, \
                count(*) FILTER (WHERE s.custody <> 'in_transit_delivery') AS other \
         FROM cylinder_state s WHERE s.place_kind = 'vehicle' AND s.place_code = v.plate \
     ) l ON true";

/// The columns of a vehicle with its load (see `LOAD_JOIN`).
const VEHICLE_COLUMNS: &str = "v.plate, ST_X(v.location) AS lon, ST_Y(v.location) AS lat, \
     v.speed_kmh, v.heading, v.occurred_at, v.enterprise_code, v.district_code, \
     l.full AS load_full, l.other AS load_other";

/// Every vehicle's current position and load within `scope`, by plate.
pub async fn all(pool: &PgPool, scope: &crate::access::Scope) -> anyhow::Result<Vec<VehicleState>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicle_positions v {LOAD_JOIN} \
         WHERE ($1::text IS NULL OR v.enterprise_code = $1) \
           AND ($2::text IS NULL OR v.district_code = $2) ORDER BY v.plate"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("reading vehicle positions")?;
    rows.into_iter().map(VehicleState::try_from).collect()
}

/// These vehicles' current positions with their loads (those with a position), by plate.
pub async fn with_loads(
    conn: &mut sqlx::PgConnection,
    plates: &[&str],
) -> anyhow::Result<Vec<VehicleState>> {
    if plates.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {VEHICLE_COLUMNS} FROM vehicle_positions v {LOAD_JOIN} \
         WHERE v.plate = ANY($1) ORDER BY v.plate"
    ))
    .bind(plates)
    .fetch_all(&mut *conn)
    .await
    .context("reading vehicles with their loads")?;
    rows.into_iter().map(VehicleState::try_from).collect()
}

/// The vehicles these cylinders are on now.
pub async fn carrying(
    conn: &mut sqlx::PgConnection,
    cylinder_ids: &[i64],
) -> anyhow::Result<Vec<String>> {
    if cylinder_ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT DISTINCT place_code FROM cylinder_state \
         WHERE cylinder_id = ANY($1) AND place_kind = 'vehicle' AND place_code IS NOT NULL",
    )
    .bind(cylinder_ids)
    .fetch_all(&mut *conn)
    .await
    .context("reading the vehicles cylinders are on")
}

/// The newest applied fix of each of these vehicles.
pub async fn priors(
    conn: &mut sqlx::PgConnection,
    plates: &[&str],
) -> anyhow::Result<std::collections::HashMap<String, crate::rules::gps::Prior>> {
    type Row = (
        String,
        uuid::Uuid,
        DateTime<Utc>,
        f64,
        f64,
        Option<DateTime<Utc>>,
        Option<f64>,
        Option<f64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.plate, v.event_id, v.occurred_at, ST_X(v.location), ST_Y(v.location), \
                j.occurred_at, j.lon, j.lat \
         FROM vehicle_positions v \
         LEFT JOIN LATERAL ( \
             SELECT occurred_at, lon, lat FROM filtered_fixes f \
             WHERE f.plate = v.plate AND f.reason = 'jump' AND f.occurred_at > v.occurred_at \
             ORDER BY f.occurred_at DESC LIMIT 1 \
         ) j ON true \
         WHERE v.plate = ANY($1)",
    )
    .bind(plates)
    .fetch_all(&mut *conn)
    .await
    .context("reading vehicles' newest fixes")?;
    Ok(rows
        .into_iter()
        .map(|(plate, event_id, at, lon, lat, j_at, j_lon, j_lat)| {
            let jumped = match (j_at, j_lon, j_lat) {
                (Some(at), Some(lon), Some(lat)) => Some(crate::rules::gps::Spot { at, lon, lat }),
                _ => None,
            };
            (
                plate,
                crate::rules::gps::Prior {
                    event_id,
                    at,
                    lon,
                    lat,
                    jumped,
                },
            )
        })
        .collect())
}

/// Keeps fixes the GPS filters refused, with the reason (once per event).
pub async fn keep_filtered(
    conn: &mut sqlx::PgConnection,
    filtered: &[(&GpsFix, crate::rules::gps::Filtered)],
) -> anyhow::Result<()> {
    let ids: Vec<uuid::Uuid> = filtered.iter().map(|f| f.0.id).collect();
    let plates: Vec<&str> = filtered
        .iter()
        .map(|f| f.0.vehicle_plate.as_str())
        .collect();
    let reasons: Vec<&str> = filtered.iter().map(|f| f.1.name()).collect();
    let speeds: Vec<Option<f64>> = filtered
        .iter()
        .map(|f| match f.1 {
            crate::rules::gps::Filtered::Jump(kmh) if kmh.is_finite() => Some(kmh),
            _ => None,
        })
        .collect();
    let times: Vec<DateTime<Utc>> = filtered
        .iter()
        .map(|f| f.0.occurred_at.with_timezone(&Utc))
        .collect();
    let lons: Vec<f64> = filtered.iter().map(|f| f.0.point.lon()).collect();
    let lats: Vec<f64> = filtered.iter().map(|f| f.0.point.lat()).collect();
    sqlx::query(
        "INSERT INTO filtered_fixes (event_id, plate, reason, implied_speed_kmh, occurred_at, \
                                     lon, lat) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::float8[], \
                              $5::timestamptz[], $6::float8[], $7::float8[]) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&plates)
    .bind(&reasons)
    .bind(&speeds)
    .bind(&times)
    .bind(&lons)
    .bind(&lats)
    .execute(&mut *conn)
    .await
    .context("keeping filtered GPS fixes")?;
    Ok(())
}

/// Cylinders riding these vehicles (their custody place is the vehicle) take the vehicles' new
/// positions. Their `last_seen_at` stays the last sighting's: riding is inferred, not seen.
/// Returns each vehicle's load, counted from the rows moved (a vehicle carrying nothing is
/// absent).
pub async fn carry_cylinders(
    conn: &mut sqlx::PgConnection,
    moved: &[VehicleState],
) -> anyhow::Result<std::collections::HashMap<String, Load>> {
    if moved.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let plates: Vec<&str> = moved.iter().map(|v| v.plate.as_str()).collect();
    let lons: Vec<f64> = moved.iter().map(|v| v.lon).collect();
    let lats: Vec<f64> = moved.iter().map(|v| v.lat).collect();
    let loads: Vec<(String, i64, i64)> = sqlx::query_as(
        "WITH carried AS ( \
             UPDATE cylinder_state s SET location = ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) \
             FROM UNNEST($1::text[], $2::float8[], $3::float8[]) AS t(plate, lon, lat) \
             WHERE s.place_kind = 'vehicle' AND s.place_code = t.plate \
             RETURNING s.place_code, s.custody \
         ) \
         SELECT place_code, count(*) FILTER (WHERE custody = 'in_transit_delivery'), \
                count(*) FILTER (WHERE custody <> 'in_transit_delivery') \
         FROM carried GROUP BY place_code",
    )
    .bind(&plates)
    .bind(&lons)
    .bind(&lats)
    .fetch_all(&mut *conn)
    .await
    .context("moving cylinders with their vehicles")?;
    Ok(loads
        .into_iter()
        .map(|(plate, full, other)| (plate, Load { full, other }))
        .collect())
}
