//! Statistics read with indexed queries over the current state (`cylinder_state`), never over
//! the history: the figures (here), the counters behind them and how cylinders are classified
//! (`classify`), and the record lists behind every figure (`lists`).

mod classify;
mod lists;

pub use classify::*;
pub use lists::*;

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::ids::EnterpriseCode;
use shared::stats::{InventoryCounts, InventoryRow};
use sqlx::PgPool;

/// A history row's site, as the flows name it: its receiving station, else its customer, else
/// its station (`kind`, `code`).
pub(crate) const SITE_KIND: &str = "CASE WHEN ce.to_station_code IS NOT NULL THEN 'station' \
    WHEN ce.customer_code IS NOT NULL THEN 'customer' \
    WHEN ce.station_code IS NOT NULL THEN 'station' END";
pub(crate) const SITE_CODE: &str =
    "coalesce(ce.to_station_code, ce.customer_code, ce.station_code)";

/// The inventory rows per medium of the cylinders owned within `scope` (and registered at
/// `station`, if given); a lost cylinder counts in no column but total. Sums the counters
/// after a refresh.
pub async fn inventory(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    c: Classify,
) -> anyhow::Result<Vec<InventoryRow>> {
    refresh(pool, c).await?;
    let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT k.medium, \
                coalesce(sum(n) FILTER (WHERE custody IN ('in_transit_delivery', 'at_customer')), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE custody = 'in_transit_delivery'), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE custody = 'at_customer'), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE custody = 'in_transit_return'), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE custody <> 'scrapped'), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE custody = 'lost'), 0)::bigint \
         FROM inventory_counts k JOIN enterprises e ON e.code = k.owner \
         WHERE ($1::text IS NULL OR k.owner = $1) AND ($2::text IS NULL OR e.district_code = $2) \
           AND ($3::text IS NULL OR k.station = $3) \
         GROUP BY k.medium HAVING sum(n) > 0 ORDER BY k.medium",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
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

/// Cylinders owned within `scope` (and registered at `station`, if given) per group (owner
/// enterprise or its district) and worst compliance status. Sums the counters after a refresh.
pub async fn compliance(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    by_district: bool,
    c: Classify,
) -> anyhow::Result<Vec<(String, String, i64)>> {
    refresh(pool, c).await?;
    let key = if by_district {
        "e.district_code"
    } else {
        "k.owner"
    };
    sqlx::query_as(&format!(
        "SELECT {key}, k.compliance, sum(n)::bigint \
         FROM compliance_counts k JOIN enterprises e ON e.code = k.owner \
         WHERE ($1::text IS NULL OR k.owner = $1) AND ($2::text IS NULL OR e.district_code = $2) \
           AND ($3::text IS NULL OR k.station = $3) \
         GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1, 2"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .fetch_all(pool)
    .await
    .context("counting compliance")
}

/// Per enterprise within `scope`: (enterprise, cylinders in use, of those with their usage
/// registration, of those whose tag was read in the field, scrapped). Sums the counters after
/// a refresh.
pub async fn registration(
    pool: &PgPool,
    scope: &Scope,
    c: Classify,
) -> anyhow::Result<Vec<(EnterpriseCode, i64, i64, i64, i64)>> {
    refresh(pool, c).await?;
    sqlx::query_as(
        "SELECT k.owner, \
                coalesce(sum(n) FILTER (WHERE in_use), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE in_use AND registered), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE in_use AND seen), 0)::bigint, \
                coalesce(sum(n) FILTER (WHERE NOT in_use), 0)::bigint \
         FROM registration_counts k JOIN enterprises e ON e.code = k.owner \
         WHERE ($1::text IS NULL OR k.owner = $1) AND ($2::text IS NULL OR e.district_code = $2) \
         GROUP BY k.owner HAVING sum(n) > 0 ORDER BY k.owner",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("counting registrations")
}

/// Customer accounts per enterprise within `scope` and kind: (enterprise, kind, customers).
pub async fn customers_by_kind(
    pool: &PgPool,
    scope: &Scope,
) -> anyhow::Result<Vec<(EnterpriseCode, String, i64)>> {
    sqlx::query_as(
        "SELECT cu.enterprise_code, cu.kind, count(*) \
         FROM customers cu JOIN enterprises e ON e.code = cu.enterprise_code \
         WHERE ($1::text IS NULL OR cu.enterprise_code = $1) \
           AND ($2::text IS NULL OR e.district_code = $2) \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("counting customers")
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
/// many were collected empty or returned after that delivery. An enterprise counts the periods
/// it owned each cylinder (as its history list shows them).
pub async fn recovery(
    pool: &PgPool,
    scope: &Scope,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    sqlx::query_as(
        r#"
        WITH d AS (
            -- A regulator counts each delivery for the enterprise that owned it then.
            SELECT ce.cylinder_id, ce.occurred_at,
                   coalesce((SELECT op.enterprise_code FROM ownership_periods op
                             WHERE op.cylinder_id = ce.cylinder_id AND ce.occurred_at < op.until
                               AND (op.since IS NULL OR ce.occurred_at >= op.since)
                             ORDER BY op.until LIMIT 1),
                            c.owner_enterprise_code) AS owner
            FROM cylinder_events ce
            JOIN cylinders c ON c.id = ce.cylinder_id
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            WHERE ce.kind = 'scan' AND ce.op = 'deliver'
              AND ce.occurred_at >= $3 AND ce.occurred_at < $4
              AND ($1::text IS NULL OR (c.owner_enterprise_code = $1
                   AND (c.owned_since IS NULL OR ce.occurred_at >= c.owned_since)))
              AND ($2::text IS NULL OR e.district_code = $2)
            UNION ALL
            -- An enterprise's earlier periods of the cylinders it transferred away, as its
            -- history list shows them.
            SELECT ce.cylinder_id, ce.occurred_at, op.enterprise_code
            FROM ownership_periods op
            JOIN cylinder_events ce ON ce.cylinder_id = op.cylinder_id
                 AND ce.occurred_at < op.until
                 AND (op.since IS NULL OR ce.occurred_at >= op.since)
            JOIN enterprises e ON e.code = op.enterprise_code
            WHERE op.enterprise_code = $1 AND ce.kind = 'scan' AND ce.op = 'deliver'
              AND ce.occurred_at >= $3 AND ce.occurred_at < $4
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
    sqlx::query_as(&format!(
        r#"
        WITH h AS (
            SELECT ce.cylinder_id, ce.occurred_at, ce.event_id,
                   {SITE_KIND} AS kind, {SITE_CODE} AS code
            FROM cylinder_events ce
            JOIN cylinders c ON c.id = ce.cylinder_id
            JOIN enterprises e ON e.code = c.owner_enterprise_code
            WHERE ce.occurred_at >= $3 AND ce.occurred_at < $4
              AND ($1::text IS NULL OR (c.owner_enterprise_code = $1
                   AND (c.owned_since IS NULL OR ce.occurred_at >= c.owned_since)))
              AND ($2::text IS NULL OR e.district_code = $2)
            UNION ALL
            -- An enterprise's earlier periods of the cylinders it transferred away.
            SELECT ce.cylinder_id, ce.occurred_at, ce.event_id,
                   {SITE_KIND} AS kind, {SITE_CODE} AS code
            FROM ownership_periods op
            JOIN cylinder_events ce ON ce.cylinder_id = op.cylinder_id
                 AND ce.occurred_at < op.until
                 AND (op.since IS NULL OR ce.occurred_at >= op.since)
            JOIN enterprises e ON e.code = op.enterprise_code
            WHERE op.enterprise_code = $1 AND ce.occurred_at >= $3 AND ce.occurred_at < $4
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
        "#
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(window.0)
    .bind(window.1)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("counting flows")
}
