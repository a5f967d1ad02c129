//! Statistics read with indexed queries over the current state (`cylinder_state`), never over
//! the history.

use crate::auth::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::stats::{InventoryCounts, InventoryRow};
use sqlx::PgPool;

/// The inventory rows per medium of the cylinders owned within `scope` (and registered at
/// `station`, if given). A cylinder is lost, as `rules::custody::effective` decides, when not
/// scrapped, outside its owner's sites and last seen before `lost_before`.
pub async fn inventory(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    lost_before: DateTime<Utc>,
) -> anyhow::Result<Vec<InventoryRow>> {
    let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        r#"
        WITH s AS (
            SELECT c.medium, st.custody,
                   coalesce(st.custody <> 'scrapped'
                     AND NOT coalesce(st.place_kind = 'station'
                                      AND ps.enterprise_code = c.owner_enterprise_code
                                      AND st.custody IN ('in_stock_empty', 'in_stock_full'), false)
                     AND st.last_seen_at < $4, false) AS lost
            FROM cylinders c
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            LEFT JOIN cylinder_state st ON st.cylinder_id = c.id
            LEFT JOIN stations ps ON st.place_kind = 'station' AND ps.code = st.place_code
            WHERE ($1::text IS NULL OR c.owner_enterprise_code = $1)
              AND ($2::text IS NULL OR e.district_code = $2)
              AND ($3::text IS NULL OR c.station_code = $3)
        )
        SELECT medium,
               count(*) FILTER (WHERE NOT lost AND custody IN ('in_transit_delivery', 'at_customer')),
               count(*) FILTER (WHERE NOT lost AND custody = 'in_transit_delivery'),
               count(*) FILTER (WHERE NOT lost AND custody = 'at_customer'),
               count(*) FILTER (WHERE NOT lost AND custody = 'in_transit_return'),
               count(*) FILTER (WHERE custody IS DISTINCT FROM 'scrapped'),
               count(*) FILTER (WHERE lost)
        FROM s GROUP BY medium ORDER BY medium
        "#,
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(lost_before)
    .fetch_all(pool)
    .await
    .context("counting the inventory")?;
    Ok(rows
        .into_iter()
        .map(
            |(medium, shipped, in_transit, delivered, returning, total, lost)| InventoryRow {
                medium,
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
/// compliance status on `today`, as `rules::compliance::statuses` ranks them: scrapped, life
/// expired, inspection overdue, unregistered, due soon (within `due_soon_days`), ok. A date
/// passes the day after it.
pub async fn compliance(
    pool: &PgPool,
    scope: &Scope,
    by_district: bool,
    today: chrono::NaiveDate,
    due_soon_days: u32,
) -> anyhow::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        r#"
        WITH s AS (
            SELECT CASE WHEN $3 THEN e.district_code ELSE c.owner_enterprise_code END AS key,
                   coalesce(st.scrapped_at IS NOT NULL
                            AND (st.scrapped_at AT TIME ZONE 'Asia/Shanghai')::date <= $4, false)
                       AS scrapped,
                   (c.manufactured_on + make_interval(years => c.design_life_years))::date AS life_ends,
                   coalesce(st.next_inspection_on, c.next_inspection_on) AS next_on,
                   c.registration_no IS NOT NULL AS registered
            FROM cylinders c
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            LEFT JOIN cylinder_state st ON st.cylinder_id = c.id
            WHERE ($1::text IS NULL OR c.owner_enterprise_code = $1)
              AND ($2::text IS NULL OR e.district_code = $2)
        )
        SELECT key,
               CASE WHEN scrapped THEN 'scrapped'
                    WHEN $4 > life_ends THEN 'life_expired'
                    WHEN $4 > next_on THEN 'inspection_overdue'
                    WHEN NOT registered THEN 'unregistered'
                    WHEN $4 > next_on - $5::int THEN 'due_soon'
                    ELSE 'ok' END AS status,
               count(*)
        FROM s GROUP BY 1, 2 ORDER BY 1, 2
        "#,
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(by_district)
    .bind(today)
    .bind(i32::try_from(due_soon_days).unwrap_or(i32::MAX))
    .fetch_all(pool)
    .await
    .context("counting compliance")
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
