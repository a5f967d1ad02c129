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
