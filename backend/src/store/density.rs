//! The wall's map layers: cylinder positions binned on a grid, and the sites, within a scope.

use crate::access::Scope;
use anyhow::Context;
use shared::density::{DensityCell, Site, VehicleLoad, SITES_CUSTOMER_CAP};
use shared::ids::{EnterpriseCode, VehiclePlate};
use sqlx::PgPool;

/// Cylinders not scrapped with a known position, owned within `scope`, per cell of `cell_deg`
/// degrees: (cell centre lon, lat, count).
pub async fn cells(
    pool: &PgPool,
    scope: &Scope,
    cell_deg: f64,
) -> anyhow::Result<Vec<DensityCell>> {
    let rows: Vec<(f64, f64, i64)> = sqlx::query_as(
        "SELECT (floor(ST_X(st.location) / $3) + 0.5) * $3 AS lon,
                (floor(ST_Y(st.location) / $3) + 0.5) * $3 AS lat,
                count(*) AS n
         FROM cylinder_state st
         JOIN cylinders c ON c.id = st.cylinder_id
         JOIN enterprises e ON e.code = c.owner_enterprise_code
         WHERE st.location IS NOT NULL AND st.custody <> 'scrapped'
           AND ($1::text IS NULL OR c.owner_enterprise_code = $1)
           AND ($2::text IS NULL OR e.district_code = $2)
         GROUP BY 1, 2",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(cell_deg)
    .fetch_all(pool)
    .await
    .context("binning cylinder positions")?;
    Ok(rows
        .into_iter()
        .map(|(lon, lat, count)| DensityCell { lon, lat, count })
        .collect())
}

/// Stations (when `stations`) and customers (when `customers`, at most
/// `SITES_CUSTOMER_CAP + 1`, to tell that more were left out) of enterprises within `scope`,
/// with their full cylinders now.
pub async fn sites(
    pool: &PgPool,
    scope: &Scope,
    stations: bool,
    customers: bool,
) -> anyhow::Result<Vec<Site>> {
    type Row = (
        String,
        String,
        String,
        String,
        f64,
        f64,
        EnterpriseCode,
        i64,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "(SELECT 'station', s.kind, s.code, s.name, ST_X(s.location), ST_Y(s.location),
                 s.enterprise_code,
                 (SELECT count(*) FROM cylinder_state st WHERE st.place_kind = 'station'
                    AND st.place_code = s.code AND st.custody = 'in_stock_full'),
                 s.full_stock_limit::bigint
          FROM stations s JOIN enterprises e ON e.code = s.enterprise_code
          WHERE $4 AND ($1::text IS NULL OR s.enterprise_code = $1)
            AND ($2::text IS NULL OR e.district_code = $2)
          ORDER BY s.code)
         UNION ALL
         (SELECT 'customer', c.kind, c.code, c.name, ST_X(c.location), ST_Y(c.location),
                 c.enterprise_code,
                 (SELECT count(*) FROM cylinder_state st WHERE st.place_kind = 'customer'
                    AND st.place_code = c.code AND st.custody = 'at_customer'),
                 c.full_stock_limit::bigint
          FROM customers c JOIN enterprises e ON e.code = c.enterprise_code
          WHERE $5 AND ($1::text IS NULL OR c.enterprise_code = $1)
            AND ($2::text IS NULL OR e.district_code = $2)
          ORDER BY c.code
          LIMIT $3)
         ORDER BY 1 DESC, 3",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(SITES_CUSTOMER_CAP + 1)
    .bind(stations)
    .bind(customers)
    .fetch_all(pool)
    .await
    .context("listing sites")?;
    Ok(rows
        .into_iter()
        .map(
            |(kind, site_kind, code, name, lon, lat, enterprise_code, full, full_limit)| Site {
                kind,
                site_kind,
                code,
                name,
                lon,
                lat,
                enterprise_code,
                full,
                full_limit,
            },
        )
        .collect())
}

/// Cylinders owned within `scope` on each vehicle now (the last reading put them there): full
/// ones on a delivery, and the others.
pub async fn vehicle_loads(pool: &PgPool, scope: &Scope) -> anyhow::Result<Vec<VehicleLoad>> {
    let rows: Vec<(VehiclePlate, i64, i64)> = sqlx::query_as(
        "SELECT st.place_code,
                count(*) FILTER (WHERE st.custody = 'in_transit_delivery'),
                count(*) FILTER (WHERE st.custody <> 'in_transit_delivery')
         FROM cylinder_state st
         JOIN cylinders c ON c.id = st.cylinder_id
         JOIN enterprises e ON e.code = c.owner_enterprise_code
         WHERE st.place_kind = 'vehicle' AND st.place_code IS NOT NULL
           AND ($1::text IS NULL OR c.owner_enterprise_code = $1)
           AND ($2::text IS NULL OR e.district_code = $2)
         GROUP BY st.place_code
         ORDER BY st.place_code",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("counting cylinders on vehicles")?;
    Ok(rows
        .into_iter()
        .map(|(plate, full, other)| VehicleLoad { plate, full, other })
        .collect())
}
