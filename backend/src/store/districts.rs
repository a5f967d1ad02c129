//! Stations' and customers' districts recomputed from the base map (issue 20 item 4): once per
//! base map, at start, because the base map is a file the database does not hold.

use crate::rules::districts::{Districts, PlaceError};
use anyhow::Context;
use sqlx::PgPool;

/// What a recomputation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    /// Whether this base map had been applied already (nothing was read).
    pub already: bool,
    /// Sites whose district changed.
    pub changed: usize,
    /// Sites whose point lies outside every district (left as they were).
    pub outside: usize,
}

/// Sets every station's and customer's district to the one its point lies in, and moves their
/// unresolved alerts (subject: the site) to it; unless this base map (`fingerprint`) was
/// applied already.
pub async fn recompute(
    pool: &PgPool,
    districts: &Districts,
    fingerprint: &str,
) -> anyhow::Result<Recomputed> {
    let applied: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM basemap_applied WHERE fingerprint = $1)")
            .bind(fingerprint)
            .fetch_one(pool)
            .await
            .context("reading the applied base maps")?;
    if applied {
        return Ok(Recomputed {
            already: true,
            ..Recomputed::default()
        });
    }
    let mut tx = pool.begin().await.context("beginning the recomputation")?;
    let rows: Vec<(String, String, f64, f64, Option<String>)> = sqlx::query_as(
        "SELECT 'station', code, ST_X(location), ST_Y(location), district_code FROM stations \
         UNION ALL \
         SELECT 'customer', code, ST_X(location), ST_Y(location), district_code FROM customers",
    )
    .fetch_all(&mut *tx)
    .await
    .context("reading the sites' points")?;
    let mut done = Recomputed::default();
    let (mut kinds, mut codes, mut news) = (Vec::new(), Vec::new(), Vec::new());
    for (kind, code, lon, lat, old) in rows {
        let new = match districts.place(lon, lat, old.as_deref()) {
            Ok(d) => d,
            Err(PlaceError::Elsewhere(d)) => d,
            Err(PlaceError::Outside) => {
                done.outside += 1;
                continue;
            }
        };
        if old.as_deref() != Some(new.as_str()) {
            kinds.push(kind);
            codes.push(code);
            news.push(new);
        }
    }
    done.changed = codes.len();
    for (table, kind) in [("stations", "station"), ("customers", "customer")] {
        sqlx::query(&format!(
            "UPDATE {table} t SET district_code = u.new \
             FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u(kind, code, new) \
             WHERE u.kind = $4 AND t.code = u.code"
        ))
        .bind(&kinds)
        .bind(&codes)
        .bind(&news)
        .bind(kind)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("recomputing the {table}' districts"))?;
    }
    // An alert about the site carried the district it claimed (or its enterprise's): it moves
    // to the district the site is in, where its regulator sees it.
    sqlx::query(
        "UPDATE alerts a SET district_code = u.new \
         FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u(kind, code, new) \
         WHERE a.status <> 'resolved' AND a.subject_type = u.kind AND a.subject_id = u.code",
    )
    .bind(&kinds)
    .bind(&codes)
    .bind(&news)
    .execute(&mut *tx)
    .await
    .context("moving the sites' alerts to their districts")?;
    sqlx::query(
        "INSERT INTO basemap_applied (fingerprint, districts, changed, outside) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(fingerprint)
    .bind(i32::try_from(districts.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(done.changed).unwrap_or(i32::MAX))
    .bind(i32::try_from(done.outside).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await
    .context("remembering the applied base map")?;
    tx.commit().await.context("committing the recomputation")?;
    Ok(done)
}
