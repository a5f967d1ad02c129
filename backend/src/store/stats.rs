//! Statistics read with indexed queries over the current state (`cylinder_state`), never over
//! the history.

use crate::auth::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::stats::{InventoryCounts, InventoryRow};
use sqlx::PgPool;

/// Every cylinder owned within the scope (`$1` enterprise, `$2` district, `$3` registered
/// station) with its effective custody — `lost` when not scrapped, outside its owner's sites and
/// last seen before `$4`, as `rules::custody::effective` decides — and its worst compliance
/// status on `$5` (Beijing date; due soon within `$6` days), ranked as
/// `rules::compliance::statuses` ranks them. The one place the statistics and the lists behind
/// them classify cylinders; the cylinder pages agree (tested).
const CLASSIFIED: &str = r#"
    SELECT c.id, c.code, c.medium, c.owner_enterprise_code AS owner, e.district_code,
           st.place_kind, st.place_code, st.last_seen_at,
           CASE WHEN coalesce(st.custody <> 'scrapped'
                     AND NOT coalesce(st.place_kind = 'station'
                                      AND ps.enterprise_code = c.owner_enterprise_code
                                      AND st.custody IN ('in_stock_empty', 'in_stock_full'), false)
                     AND st.last_seen_at < $4, false) THEN 'lost'
                ELSE coalesce(st.custody, 'in_stock_empty') END AS custody,
           CASE WHEN coalesce(st.scrapped_at IS NOT NULL
                              AND (st.scrapped_at AT TIME ZONE 'Asia/Shanghai')::date <= $5, false)
                     THEN 'scrapped'
                WHEN $5 > (c.manufactured_on + make_interval(years => c.design_life_years))::date
                     THEN 'life_expired'
                WHEN $5 > coalesce(st.next_inspection_on, c.next_inspection_on)
                     THEN 'inspection_overdue'
                WHEN c.registration_no IS NULL THEN 'unregistered'
                WHEN $5 > coalesce(st.next_inspection_on, c.next_inspection_on) - $6::int
                     THEN 'due_soon'
                ELSE 'ok' END AS compliance
    FROM cylinders c
    JOIN enterprises e ON e.code = c.owner_enterprise_code
    LEFT JOIN cylinder_state st ON st.cylinder_id = c.id
    LEFT JOIN stations ps ON st.place_kind = 'station' AND ps.code = st.place_code
    WHERE ($1::text IS NULL OR c.owner_enterprise_code = $1)
      AND ($2::text IS NULL OR e.district_code = $2)
      AND ($3::text IS NULL OR c.station_code = $3)
"#;

/// What `CLASSIFIED` needs besides the scope.
#[derive(Debug, Clone, Copy)]
pub struct Classify {
    pub lost_before: DateTime<Utc>,
    pub today: chrono::NaiveDate,
    pub due_soon_days: u32,
}

fn classified<'q, O>(
    sql: &'q str,
    scope: &'q Scope,
    station: Option<&'q str>,
    c: Classify,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    sqlx::query_as(sql)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(station)
        .bind(c.lost_before)
        .bind(c.today)
        .bind(i32::try_from(c.due_soon_days).unwrap_or(i32::MAX))
}

/// The inventory rows per medium of the cylinders owned within `scope` (and registered at
/// `station`, if given); a lost cylinder counts in no column but total.
pub async fn inventory(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    c: Classify,
) -> anyhow::Result<Vec<InventoryRow>> {
    let sql = format!(
        "WITH s AS ({CLASSIFIED}) \
         SELECT medium, \
                count(*) FILTER (WHERE custody IN ('in_transit_delivery', 'at_customer')), \
                count(*) FILTER (WHERE custody = 'in_transit_delivery'), \
                count(*) FILTER (WHERE custody = 'at_customer'), \
                count(*) FILTER (WHERE custody = 'in_transit_return'), \
                count(*) FILTER (WHERE custody <> 'scrapped'), \
                count(*) FILTER (WHERE custody = 'lost') \
         FROM s GROUP BY medium ORDER BY medium"
    );
    let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = classified(&sql, scope, station, c)
        .fetch_all(pool)
        .await
        .context("counting the inventory")?;
    Ok(rows
        .into_iter()
        .map(
            |(medium, shipped, in_transit, delivered, returning, total, lost)| InventoryRow {
                medium,
                links: shared::stats::Links::new(),
                counts: InventoryCounts {
                    shipped,
                    in_transit,
                    delivered,
                    returning,
                    total,
                    lost,
                },
            },
        )
        .collect())
}

/// Cylinders owned within `scope` per group (owner enterprise or its district) and worst
/// compliance status.
pub async fn compliance(
    pool: &PgPool,
    scope: &Scope,
    by_district: bool,
    c: Classify,
) -> anyhow::Result<Vec<(String, String, i64)>> {
    let key = if by_district {
        "district_code"
    } else {
        "owner"
    };
    let sql = format!(
        "WITH s AS ({CLASSIFIED}) SELECT {key}, compliance, count(*) FROM s GROUP BY 1, 2 ORDER BY 1, 2"
    );
    classified(&sql, scope, None, c)
        .fetch_all(pool)
        .await
        .context("counting compliance")
}

/// One cylinder of a list behind a figure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub code: String,
    pub medium: String,
    pub custody: String,
    pub compliance: String,
    pub owner: String,
    pub district_code: Option<String>,
    pub place_kind: Option<String>,
    pub place_code: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Filters of a list; empty lists mean any.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub medium: Option<String>,
    pub custody: Vec<String>,
    pub compliance: Vec<String>,
}

/// The cylinders within `scope` (and at `station`) that pass `filter`, by code after `after`.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    c: Classify,
    filter: &ListFilter,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<Listed>> {
    let sql = format!(
        "WITH s AS ({CLASSIFIED}) \
         SELECT code, medium, custody, compliance, owner, district_code, place_kind, place_code, \
                last_seen_at \
         FROM s WHERE ($7::text IS NULL OR medium = $7) \
           AND (cardinality($8::text[]) = 0 OR custody = ANY($8)) \
           AND (cardinality($9::text[]) = 0 OR compliance = ANY($9)) \
           AND ($10::text IS NULL OR code > $10) \
         ORDER BY code LIMIT $11"
    );
    classified(&sql, scope, station, c)
        .bind(&filter.medium)
        .bind(&filter.custody)
        .bind(&filter.compliance)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("listing cylinders")
}

/// Filling activity per bucket (`hour` or `day`, Beijing time) from `from` to `to`, of the
/// stations within `scope` (or one station): (bucket start, fillings, flagged, late,
/// decisions, refusals); every bucket, empty ones included.
#[allow(clippy::type_complexity)]
pub async fn fillings(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    window: (DateTime<Utc>, DateTime<Utc>),
    bucket: &str,
    late_s: f64,
) -> anyhow::Result<Vec<(chrono::NaiveDateTime, i64, i64, i64, i64, i64)>> {
    sqlx::query_as(
        r#"
        WITH st AS (
            SELECT s.code FROM stations s JOIN enterprises e ON e.code = s.enterprise_code
            WHERE ($1::text IS NULL OR s.enterprise_code = $1)
              AND ($2::text IS NULL OR coalesce(s.district_code, e.district_code) = $2)
              AND ($3::text IS NULL OR s.code = $3)
        ), b AS (
            SELECT generate_series(date_trunc($6, $4 AT TIME ZONE 'Asia/Shanghai'),
                                   ($5 AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond',
                                   ('1 ' || $6)::interval) AS start
        ), f AS (
            SELECT date_trunc($6, f.ended_at AT TIME ZONE 'Asia/Shanghai') AS start,
                   count(*) AS n,
                   count(*) FILTER (WHERE cardinality(f.flags) > 0) AS flagged,
                   count(*) FILTER (WHERE f.late_s > $7) AS late
            FROM fillings f JOIN st ON st.code = f.station_code
            WHERE f.ended_at >= $4 AND f.ended_at < $5 GROUP BY 1
        ), d AS (
            SELECT date_trunc($6, d.decided_at AT TIME ZONE 'Asia/Shanghai') AS start,
                   count(*) AS n, count(*) FILTER (WHERE NOT d.allowed) AS refused
            FROM filling_decisions d JOIN st ON st.code = d.station_code
            WHERE d.decided_at >= $4 AND d.decided_at < $5 GROUP BY 1
        )
        SELECT b.start, coalesce(f.n, 0), coalesce(f.flagged, 0), coalesce(f.late, 0),
               coalesce(d.n, 0), coalesce(d.refused, 0)
        FROM b LEFT JOIN f USING (start) LEFT JOIN d USING (start) ORDER BY b.start
        "#,
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(window.0)
    .bind(window.1)
    .bind(bucket)
    .bind(late_s)
    .fetch_all(pool)
    .await
    .context("counting fillings")
}

/// Refusals per rule in the window, of the stations within `scope` (or one station).
pub async fn refusals_by_rule(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT r->>'rule' AS rule, count(*) \
         FROM filling_decisions d JOIN stations s ON s.code = d.station_code \
         JOIN enterprises e ON e.code = s.enterprise_code, jsonb_array_elements(d.reasons) r \
         WHERE NOT d.allowed AND d.decided_at >= $4 AND d.decided_at < $5 \
           AND ($1::text IS NULL OR s.enterprise_code = $1) \
           AND ($2::text IS NULL OR coalesce(s.district_code, e.district_code) = $2) \
           AND ($3::text IS NULL OR s.code = $3) \
         GROUP BY 1 ORDER BY 1",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(window.0)
    .bind(window.1)
    .fetch_all(pool)
    .await
    .context("counting refusals by rule")
}

/// Alerts opened in the window within `scope`, per kind: opened, acknowledged, resolved, open
/// now, mean seconds to acknowledge.
#[allow(clippy::type_complexity)]
pub async fn alerts(
    pool: &PgPool,
    scope: &Scope,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<Vec<(String, i64, i64, i64, i64, Option<f64>)>> {
    sqlx::query_as(
        "SELECT kind, count(*), count(ack_at), count(resolved_at), \
                count(*) FILTER (WHERE status = 'open'), \
                avg(extract(epoch FROM ack_at - opened_at))::float8 \
         FROM alerts \
         WHERE opened_at >= $3 AND opened_at < $4 \
           AND ($1::text IS NULL OR enterprise_code = $1) \
           AND ($2::text IS NULL OR district_code = $2) \
         GROUP BY kind ORDER BY kind",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(window.0)
    .bind(window.1)
    .fetch_all(pool)
    .await
    .context("counting alerts")
}

/// Unresolved alerts within `scope` by severity.
pub async fn open_alerts(pool: &PgPool, scope: &Scope) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT severity, count(*) FROM alerts WHERE status <> 'resolved' \
           AND ($1::text IS NULL OR enterprise_code = $1) \
           AND ($2::text IS NULL OR district_code = $2) \
         GROUP BY severity ORDER BY severity",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("counting open alerts")
}

/// Per owner enterprise within `scope`: cylinders delivered in the window, and of those, how
/// many were collected empty or returned after that delivery.
pub async fn recovery(
    pool: &PgPool,
    scope: &Scope,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        r#"
        WITH d AS (
            SELECT ce.cylinder_id, ce.occurred_at, c.owner_enterprise_code AS owner
            FROM cylinder_events ce
            JOIN cylinders c ON c.id = ce.cylinder_id
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            WHERE ce.kind = 'scan' AND ce.op = 'deliver'
              AND ce.occurred_at >= $3 AND ce.occurred_at < $4
              AND ($1::text IS NULL OR c.owner_enterprise_code = $1)
              AND ($2::text IS NULL OR e.district_code = $2)
        )
        SELECT owner, count(*),
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM cylinder_events r
                   WHERE r.cylinder_id = d.cylinder_id AND r.occurred_at > d.occurred_at
                     AND r.kind = 'scan' AND r.op IN ('collect_empty', 'return_in')))
        FROM d GROUP BY owner ORDER BY owner
        "#,
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(window.0)
    .bind(window.1)
    .fetch_all(pool)
    .await
    .context("counting recovery")
}

/// Moves between sites in the window (consecutive history rows of a cylinder at different
/// sites: a row's site is its receiving station, else its customer, else its station), of the
/// cylinders owned within `scope`; the largest first, at most `limit`.
pub async fn flows(
    pool: &PgPool,
    scope: &Scope,
    window: (DateTime<Utc>, DateTime<Utc>),
    limit: i64,
) -> anyhow::Result<Vec<(String, String, String, String, i64)>> {
    sqlx::query_as(
        r#"
        WITH h AS (
            SELECT ce.cylinder_id, ce.occurred_at, ce.event_id,
                   CASE WHEN ce.to_station_code IS NOT NULL THEN 'station'
                        WHEN ce.customer_code IS NOT NULL THEN 'customer'
                        WHEN ce.station_code IS NOT NULL THEN 'station' END AS kind,
                   coalesce(ce.to_station_code, ce.customer_code, ce.station_code) AS code
            FROM cylinder_events ce
            JOIN cylinders c ON c.id = ce.cylinder_id
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            WHERE ce.occurred_at >= $3 AND ce.occurred_at < $4
              AND ($1::text IS NULL OR c.owner_enterprise_code = $1)
              AND ($2::text IS NULL OR e.district_code = $2)
        ), p AS (
            SELECT kind, code,
                   lag(kind) OVER w AS prev_kind, lag(code) OVER w AS prev_code
            FROM h WHERE code IS NOT NULL
            WINDOW w AS (PARTITION BY cylinder_id ORDER BY occurred_at, event_id)
        )
        SELECT prev_kind, prev_code, kind, code, count(*)
        FROM p WHERE prev_code IS NOT NULL AND (prev_kind, prev_code) <> (kind, code)
        GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 1, 2, 3, 4 LIMIT $5
        "#,
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(window.0)
    .bind(window.1)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("counting flows")
}
