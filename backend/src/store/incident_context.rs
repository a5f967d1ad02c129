//! The facts an incident's context is assembled from (issue 22): the implicated cylinder's
//! chain (from its history), what is within a radius (PostGIS `ST_DWithin` on geography, on
//! the sphere: `use_spheroid = false`, within 0.5 % of the spheroid and a fraction of its
//! cost, which was most of a context's time in a dense city — BENCHMARKS.md), and
//! its batch. Lists are limited to what `scope` may see (by owning enterprise).

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use shared::alert::{AlertKind, AlertStatus};
use shared::history::{HistoryKind, HistoryOp};
use shared::ids::{CustomerCode, CylinderCode, EnterpriseCode, StaffNo, StationCode};
use shared::incident::{IncidentKind, IncidentStatus};
use shared::place::PlaceKind;
use shared::VehiclePlate;
use sqlx::PgPool;

/// How many rows of the chain's lists (checks, inspections, alerts, incidents) at most.
const MAX_ROWS: i64 = 500;

/// A read transaction whose statements start no parallel workers. The lists below visit a few
/// thousand rows at most, and a parallel plan's workers cost more than that: measured at
/// 3,000,000 cylinders on two busy cores, the nearby cylinders took 19–24 ms with a parallel
/// bitmap heap scan and 4–5 ms without (BENCHMARKS.md, incidents). `SET LOCAL`: only this
/// transaction, the pool's connection keeps its settings.
async fn serial(pool: &PgPool) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await.context("opening a context read")?;
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0")
        .execute(&mut *tx)
        .await
        .context("setting a context read serial")?;
    Ok(tx)
}

/// `{col}` (an enterprise code) within the scope bound as `$e` and `$d`.
fn owner_in_scope(col: &str, e: usize, d: usize) -> String {
    format!(
        "(${e}::text IS NULL OR {col} = ${e}) AND (${d}::text IS NULL OR EXISTS ( \
         SELECT 1 FROM enterprises en WHERE en.code = {col} AND en.district_code = ${d}))"
    )
}

/// A cylinder's newest filling (a filling record or a `fill` scan), with its record, decision
/// and the filler as the registry has them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FillingRow {
    pub station_code: Option<StationCode>,
    pub station_name: Option<String>,
    pub gun_no: Option<String>,
    pub staff_no: Option<StaffNo>,
    pub staff_name: Option<String>,
    pub certificate_no: Option<String>,
    pub certificate_expires: Option<NaiveDate>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub mass_before_kg: Option<f64>,
    pub mass_after_kg: Option<f64>,
    pub flags: Option<Vec<String>>,
    pub allowed: Option<bool>,
    pub rules: Option<Vec<String>>,
    pub medium: Option<String>,
}

/// A filling in `cylinder_events ce`: a filling record or a `fill` scan.
pub const IS_FILLING: &str = "ce.op = 'fill' AND ce.kind IN ('filling', 'scan')";

/// The newest filling of a cylinder.
pub async fn last_filling(pool: &PgPool, cylinder_id: i64) -> anyhow::Result<Option<FillingRow>> {
    let sql = format!(
        "SELECT ce.station_code, st.name AS station_name, \
                coalesce(f.gun_no, ce.details->>'gun_no') AS gun_no, ce.staff_no, \
                coalesce(sf.name, f.staff_name, ce.details->>'staff_name') AS staff_name, \
                sf.certificate_no, sf.certificate_expires, f.started_at, \
                ce.occurred_at AS ended_at, ce.mass_before_kg, ce.mass_after_kg, f.flags, \
                d.allowed, \
                CASE WHEN jsonb_typeof(d.reasons) = 'array' THEN ARRAY( \
                    SELECT r->>'rule' FROM jsonb_array_elements(d.reasons) r \
                    WHERE jsonb_typeof(r) = 'object' AND r ? 'rule') END AS rules, \
                coalesce(d.medium, c.medium) AS medium \
         FROM cylinder_events ce \
         JOIN cylinders c ON c.id = ce.cylinder_id \
         LEFT JOIN fillings f ON f.id = ce.event_id \
         LEFT JOIN filling_decisions d ON d.id = f.decision_id \
         LEFT JOIN stations st ON st.code = ce.station_code \
         LEFT JOIN staff sf ON sf.staff_no = ce.staff_no AND sf.enterprise_code = st.enterprise_code \
         WHERE ce.cylinder_id = $1 AND {IS_FILLING} \
         ORDER BY ce.occurred_at DESC, ce.event_id DESC LIMIT 1"
    );
    sqlx::query_as(&sql)
        .bind(cylinder_id)
        .fetch_optional(pool)
        .await
        .context("reading a cylinder's last filling")
}

/// One history row of the chain.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChainRow {
    #[sqlx(flatten)]
    pub op: HistoryOp,
    pub occurred_at: DateTime<Utc>,
    pub station_code: Option<StationCode>,
    pub customer_code: Option<CustomerCode>,
    pub vehicle_plate: Option<VehiclePlate>,
    pub staff_no: Option<StaffNo>,
}

/// The newest history row naming a vehicle (what last carried the cylinder).
pub async fn last_carrier(pool: &PgPool, cylinder_id: i64) -> anyhow::Result<Option<ChainRow>> {
    sqlx::query_as(
        "SELECT kind, op, occurred_at, station_code, customer_code, vehicle_plate, staff_no \
         FROM cylinder_events WHERE cylinder_id = $1 AND kind = 'scan' \
           AND vehicle_plate IS NOT NULL \
         ORDER BY occurred_at DESC, event_id DESC LIMIT 1",
    )
    .bind(cylinder_id)
    .fetch_optional(pool)
    .await
    .context("reading what last carried a cylinder")
}

/// The newest delivery to a customer.
pub async fn last_delivery(pool: &PgPool, cylinder_id: i64) -> anyhow::Result<Option<ChainRow>> {
    sqlx::query_as(
        "SELECT kind, op, occurred_at, station_code, customer_code, vehicle_plate, staff_no \
         FROM cylinder_events WHERE cylinder_id = $1 AND kind = 'scan' AND op = 'deliver' \
           AND customer_code IS NOT NULL \
         ORDER BY occurred_at DESC, event_id DESC LIMIT 1",
    )
    .bind(cylinder_id)
    .fetch_optional(pool)
    .await
    .context("reading a cylinder's last delivery")
}

/// A cylinder's rows of one history kind (`check`, `inspection`), newest first.
pub async fn rows_of_kind(
    pool: &PgPool,
    cylinder_id: i64,
    kind: HistoryKind,
) -> anyhow::Result<Vec<ChainRow>> {
    sqlx::query_as(
        "SELECT kind, op, occurred_at, station_code, customer_code, vehicle_plate, staff_no \
         FROM cylinder_events WHERE cylinder_id = $1 AND kind = $2 \
         ORDER BY occurred_at DESC, event_id DESC LIMIT $3",
    )
    .bind(cylinder_id)
    .bind(kind)
    .bind(MAX_ROWS)
    .fetch_all(pool)
    .await
    .context("reading a cylinder's checks or inspections")
}

/// A customer's personal fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub code: CustomerCode,
    pub name: String,
    pub phone: String,
    pub address: String,
}

/// A customer by code.
pub async fn customer(pool: &PgPool, code: &str) -> anyhow::Result<Option<CustomerRow>> {
    sqlx::query_as("SELECT code, name, phone, address FROM customers WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await
        .context("reading a customer")
}

/// An earlier alert on a cylinder.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertBrief {
    pub id: uuid::Uuid,
    pub kind: AlertKind,
    pub status: AlertStatus,
    pub opened_at: DateTime<Utc>,
}

/// The alerts about a cylinder, newest first.
pub async fn alerts_on(pool: &PgPool, code: &str) -> anyhow::Result<Vec<AlertBrief>> {
    sqlx::query_as(
        "SELECT id, kind, status, opened_at FROM alerts \
         WHERE subject_type = 'cylinder' AND subject_id = $1 \
         ORDER BY opened_at DESC, id DESC LIMIT $2",
    )
    .bind(code)
    .bind(MAX_ROWS)
    .fetch_all(pool)
    .await
    .context("reading a cylinder's alerts")
}

/// Another incident on the cylinder.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentBrief {
    pub id: uuid::Uuid,
    pub kind: IncidentKind,
    pub status: IncidentStatus,
    pub opened_at: DateTime<Utc>,
}

/// The other incidents about a cylinder, newest first.
pub async fn incidents_on(
    pool: &PgPool,
    cylinder_id: i64,
    except: uuid::Uuid,
) -> anyhow::Result<Vec<IncidentBrief>> {
    sqlx::query_as(
        "SELECT id, kind, status, opened_at FROM incidents \
         WHERE cylinder_id = $1 AND id <> $2 ORDER BY opened_at DESC, id DESC LIMIT $3",
    )
    .bind(cylinder_id)
    .bind(except)
    .bind(MAX_ROWS)
    .fetch_all(pool)
    .await
    .context("reading a cylinder's incidents")
}

/// A cylinder's last known place.
pub async fn last_place(pool: &PgPool, cylinder_id: i64) -> anyhow::Result<Option<(f64, f64)>> {
    let row: Option<(Option<f64>, Option<f64>)> = sqlx::query_as(
        "SELECT ST_X(location), ST_Y(location) FROM cylinder_state WHERE cylinder_id = $1",
    )
    .bind(cylinder_id)
    .fetch_optional(pool)
    .await
    .context("reading a cylinder's last place")?;
    Ok(match row {
        Some((Some(lon), Some(lat))) => Some((lon, lat)),
        _ => None,
    })
}

/// A site within the radius.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteNear {
    pub code: String,
    pub kind: PlaceKind,
    pub enterprise_code: EnterpriseCode,
    pub distance_m: f64,
    pub total: i64,
}

/// Metres from the center (`$1` longitude, `$2` latitude) to the point `col`, on the mean
/// sphere in the plane tangent at the center (equirectangular): within 0.01 % of the
/// great-circle distance over the 5 km a context reaches, and plain arithmetic — PostGIS's
/// geography (`ST_DWithin`/`ST_Distance` on the sphere) cost twice the whole read of the rows
/// in a dense city (BENCHMARKS.md, incidents).
fn metres(col: &str) -> String {
    format!(
        "(6371008.8 * sqrt((radians(ST_X({col}) - $1) * cos(radians($2)))^2 \
         + radians(ST_Y({col}) - $2)^2))"
    )
}

/// A box around the center, `$7` degrees each way ([`box_degrees`]): what the geometry
/// indexes answer before the distance is computed.
const BOX: &str = "ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), $7)";

/// Half the side of a box (in degrees) that holds every point within `radius_m` of a point
/// at `lat`: a degree of longitude is the shorter one, `111,320 m × cos(lat)`; 10 % spare.
fn box_degrees(lat: f64, radius_m: f64) -> f64 {
    let metres_per_degree = 111_320.0 * lat.to_radians().cos().abs().max(0.01);
    radius_m / metres_per_degree * 1.1
}

/// Stations and customers within `radius_m` of the center, the nearest `limit` (each row
/// carries how many there are in all).
pub async fn sites_near(
    pool: &PgPool,
    center: (f64, f64),
    radius_m: f64,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<Vec<SiteNear>> {
    let m = metres("location");
    let sql = format!(
        "WITH s AS MATERIALIZED ( \
           SELECT code, 'station' AS kind, enterprise_code, \
                  {m} AS distance_m \
           FROM stations WHERE location && {BOX} \
             AND {m} <= $3 \
           UNION ALL \
           SELECT code, 'customer', enterprise_code, \
                  {m} \
           FROM customers WHERE location && {BOX} \
             AND {m} <= $3 \
         ), mine AS MATERIALIZED (SELECT * FROM s WHERE {}) \
         SELECT code, kind, enterprise_code, distance_m, (SELECT count(*) FROM mine) AS total \
         FROM mine ORDER BY distance_m, kind, code LIMIT $6",
        owner_in_scope("s.enterprise_code", 4, 5)
    );
    let mut tx = serial(pool).await?;
    let rows = sqlx::query_as(&sql)
        .bind(center.0)
        .bind(center.1)
        .bind(radius_m)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .bind(box_degrees(center.1, radius_m))
        .fetch_all(&mut *tx)
        .await
        .context("finding sites nearby")?;
    tx.commit().await.context("closing a context read")?;
    Ok(rows)
}

/// A vehicle whose latest position is within the radius.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VehicleNear {
    pub plate: VehiclePlate,
    pub enterprise_code: Option<EnterpriseCode>,
    pub distance_m: f64,
    pub occurred_at: DateTime<Utc>,
    pub total: i64,
}

/// Vehicles whose latest position is within `radius_m` of the center, the nearest `limit`.
pub async fn vehicles_near(
    pool: &PgPool,
    center: (f64, f64),
    radius_m: f64,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<Vec<VehicleNear>> {
    let mp = metres("p.location");
    let sql = format!(
        "WITH near AS MATERIALIZED ( \
           SELECT p.plate, v.enterprise_code, \
                  {mp} AS distance_m, p.occurred_at \
           FROM vehicle_positions p LEFT JOIN vehicles v ON v.plate = p.plate \
           WHERE p.location && {BOX} AND {mp} <= $3 \
             AND {} \
         ) \
         SELECT plate, enterprise_code, distance_m, occurred_at, \
                (SELECT count(*) FROM near) AS total \
         FROM near ORDER BY distance_m, plate LIMIT $6",
        owner_in_scope("v.enterprise_code", 4, 5)
    );
    let mut tx = serial(pool).await?;
    let rows = sqlx::query_as(&sql)
        .bind(center.0)
        .bind(center.1)
        .bind(radius_m)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .bind(box_degrees(center.1, radius_m))
        .fetch_all(&mut *tx)
        .await
        .context("finding vehicles nearby")?;
    tx.commit().await.context("closing a context read")?;
    Ok(rows)
}

/// A cylinder last seen within the radius, with what its compliance is computed from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CylinderNear {
    pub code: CylinderCode,
    pub owner_enterprise_code: EnterpriseCode,
    pub distance_m: f64,
    pub next_inspection_on: NaiveDate,
    pub manufactured_on: NaiveDate,
    pub design_life_years: i32,
    pub registered: bool,
    pub scrapped_at: Option<DateTime<Utc>>,
    pub total: i64,
}

/// Cylinders whose last known place is within `radius_m` of the center, the nearest `limit`.
pub async fn cylinders_near(
    pool: &PgPool,
    center: (f64, f64),
    radius_m: f64,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<Vec<CylinderNear>> {
    let whole_city = scope.enterprise().is_none() && scope.district().is_none();
    let (m, ms) = (metres("location"), metres("s.location"));
    // Each set within the radius is read whole first (`MATERIALIZED`: its plan does not
    // depend on `$6`; with `LIMIT 1` and a window count a planner once walked a 3,000,000-row
    // index in order for a second), then counted and cut.
    let sql = if whole_city {
        // Nothing to filter by owner: the nearest `$6` are found on the state alone and only
        // those are joined to the registry (a hundred primary-key reads instead of one per
        // cylinder in the radius). Ties — every cylinder stocked at one station is at the
        // same point — go by cylinder id here and below (by code they would need the
        // registry row of every tied cylinder: 2,000 reads at one point, measured).
        format!(
            "WITH s AS MATERIALIZED ( \
               SELECT cylinder_id, next_inspection_on, scrapped_at, \
                      {m} AS distance_m \
               FROM cylinder_state \
               WHERE location IS NOT NULL AND location && {BOX} \
                 AND {m} <= $3 \
                 AND $4::text IS NULL AND $5::text IS NULL \
             ) \
             SELECT c.code, c.owner_enterprise_code, n.distance_m, \
                    coalesce(n.next_inspection_on, c.next_inspection_on) AS next_inspection_on, \
                    c.manufactured_on, c.design_life_years, \
                    c.registration_no IS NOT NULL AS registered, n.scrapped_at, \
                    (SELECT count(*) FROM s) AS total \
             FROM (SELECT * FROM s ORDER BY distance_m, cylinder_id LIMIT $6) n \
             JOIN cylinders c ON c.id = n.cylinder_id \
             ORDER BY n.distance_m, n.cylinder_id"
        )
    } else {
        format!(
            "WITH n AS MATERIALIZED ( \
               SELECT c.id, c.code, c.owner_enterprise_code, \
                      {ms} AS distance_m, \
                      coalesce(s.next_inspection_on, c.next_inspection_on) AS next_inspection_on, \
                      c.manufactured_on, c.design_life_years, \
                      c.registration_no IS NOT NULL AS registered, s.scrapped_at \
               FROM cylinder_state s JOIN cylinders c ON c.id = s.cylinder_id \
               WHERE s.location IS NOT NULL AND s.location && {BOX} \
                 AND {ms} <= $3 \
                 AND {} \
             ) \
             SELECT code, owner_enterprise_code, distance_m, next_inspection_on, \
                    manufactured_on, design_life_years, registered, scrapped_at, \
                    (SELECT count(*) FROM n) AS total \
             FROM n ORDER BY distance_m, id LIMIT $6",
            owner_in_scope("c.owner_enterprise_code", 4, 5)
        )
    };
    let mut tx = serial(pool).await?;
    let rows = sqlx::query_as(&sql)
        .bind(center.0)
        .bind(center.1)
        .bind(radius_m)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .bind(box_degrees(center.1, radius_m))
        .fetch_all(&mut *tx)
        .await
        .context("finding cylinders nearby")?;
    tx.commit().await.context("closing a context read")?;
    Ok(rows)
}

/// A cylinder of the batch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub code: CylinderCode,
    pub owner_enterprise_code: EnterpriseCode,
    pub gun_no: Option<String>,
    pub staff_no: Option<StaffNo>,
    pub filled_at: Option<DateTime<Utc>>,
    /// How many in the whole batch (within the scope).
    pub total: i64,
}

/// A filling batch: cylinders of a medium filled ([`IS_FILLING`]) at a station within a
/// window. The context lists it ([`filled_together`]) and a recall takes
/// it whole (`store::recalls::Selection::IncidentBatch`).
#[derive(Debug, Clone)]
pub struct FillingWindow {
    pub station: StationCode,
    pub medium: String,
    /// The implicated filling: each cylinder's filling nearest to it is the one listed.
    pub at: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The cylinders of `window` other than `cylinder_id` within the scope, each once with its
/// filling nearest to `at`. The gun is the history row's own (`details.gun_no`: a filling
/// record's row carries it, as a `fill` scan's may), not a read of every filling record.
/// `$1` the cylinder, `$2`–`$5` the window, `$6` `at`, `$7`/`$8` the scope.
fn filled_rows() -> String {
    format!(
        "SELECT DISTINCT ON (c.id) c.code, c.owner_enterprise_code, \
                ce.details->>'gun_no' AS gun_no, ce.staff_no, ce.occurred_at AS filled_at \
         FROM cylinder_events ce JOIN cylinders c ON c.id = ce.cylinder_id \
         WHERE {IS_FILLING} AND ce.station_code = $2 AND c.medium = $3 \
           AND ce.occurred_at BETWEEN $4 AND $5 AND c.id <> $1 AND {} \
         ORDER BY c.id, abs(extract(epoch FROM ce.occurred_at - $6::timestamptz))",
        owner_in_scope("c.owner_enterprise_code", 7, 8)
    )
}

/// The filling batch as the context shows it: its first rows, how many in all, and all of
/// them counted by gun and by filler.
#[derive(Debug, Clone, Default)]
pub struct FilledBatch {
    pub rows: Vec<BatchRow>,
    pub total: i64,
    pub by_gun: Vec<(String, i64)>,
    pub by_filler: Vec<(String, i64)>,
}

/// One row of [`filled_together`]'s answer: a cylinder of the page (`row`), a facet's count
/// (`gun`, `filler`) or the total (`total`).
#[derive(Debug, sqlx::FromRow)]
struct FilledPart {
    part: String,
    code: Option<CylinderCode>,
    owner_enterprise_code: Option<EnterpriseCode>,
    gun_no: Option<String>,
    staff_no: Option<StaffNo>,
    filled_at: Option<DateTime<Utc>>,
    n: i64,
}

/// The cylinders filled with `cylinder_id` in `window` (see [`filled_rows`]): the first
/// `limit` by fill time, the total and the facets, from one read of the window.
pub async fn filled_together(
    pool: &PgPool,
    cylinder_id: i64,
    window: &FillingWindow,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<FilledBatch> {
    let sql = format!(
        "WITH b AS MATERIALIZED ({}) \
         SELECT 'row' AS part, code, owner_enterprise_code, gun_no, staff_no, filled_at, 0::bigint AS n \
           FROM (SELECT * FROM b ORDER BY filled_at, code LIMIT $9) page \
         UNION ALL SELECT 'gun', NULL, NULL, gun_no, NULL, NULL, count(*) FROM b \
           WHERE gun_no IS NOT NULL GROUP BY gun_no \
         UNION ALL SELECT 'filler', NULL, NULL, NULL, staff_no, NULL, count(*) FROM b \
           WHERE staff_no IS NOT NULL GROUP BY staff_no \
         UNION ALL SELECT 'total', NULL, NULL, NULL, NULL, NULL, count(*) FROM b",
        filled_rows()
    );
    let mut tx = serial(pool).await?;
    let parts: Vec<FilledPart> = sqlx::query_as(&sql)
        .bind(cylinder_id)
        .bind(window.station.as_str())
        .bind(&window.medium)
        .bind(window.from)
        .bind(window.to)
        .bind(window.at)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .context("finding the filling batch")?;
    tx.commit().await.context("closing a context read")?;
    let mut batch = FilledBatch::default();
    for p in parts {
        match (p.part.as_str(), p.code, p.owner_enterprise_code) {
            ("row", Some(code), Some(owner_enterprise_code)) => batch.rows.push(BatchRow {
                code,
                owner_enterprise_code,
                gun_no: p.gun_no,
                staff_no: p.staff_no,
                filled_at: p.filled_at,
                total: 0,
            }),
            ("gun", ..) => batch.by_gun.push((p.gun_no.unwrap_or_default(), p.n)),
            ("filler", ..) => batch
                .by_filler
                .push((p.staff_no.map(String::from).unwrap_or_default(), p.n)),
            ("total", ..) => batch.total = p.n,
            (part, ..) => anyhow::bail!("the filling batch answered an unknown part {part:?}"),
        }
    }
    // UNION ALL keeps no order: the page by fill time, the facets by value.
    batch
        .rows
        .sort_by(|a, b| (a.filled_at, a.code.as_str()).cmp(&(b.filled_at, b.code.as_str())));
    for row in &mut batch.rows {
        row.total = batch.total;
    }
    batch.by_gun.sort();
    batch.by_filler.sort();
    Ok(batch)
}

/// The first `limit` other cylinders of the same manufacturer and production batch, by code.
pub async fn same_production_batch(
    pool: &PgPool,
    cylinder_id: i64,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<Vec<BatchRow>> {
    let sql = format!(
        "WITH b AS MATERIALIZED ( \
           SELECT c.code, c.owner_enterprise_code \
           FROM cylinders me JOIN cylinders c ON c.manufacturer = me.manufacturer \
                AND c.production_batch = me.production_batch AND c.id <> me.id \
           WHERE me.id = $1 AND me.production_batch IS NOT NULL AND {} \
         ) \
         SELECT code, owner_enterprise_code, NULL::text AS gun_no, NULL::text AS staff_no, \
                NULL::timestamptz AS filled_at, (SELECT count(*) FROM b) AS total \
         FROM b ORDER BY code LIMIT $4",
        owner_in_scope("c.owner_enterprise_code", 2, 3)
    );
    let mut tx = serial(pool).await?;
    let rows = sqlx::query_as(&sql)
        .bind(cylinder_id)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await
        .context("finding the production batch")?;
    tx.commit().await.context("closing a context read")?;
    Ok(rows)
}
