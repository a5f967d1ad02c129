//! How the statistics classify cylinders (`CLASSIFIED`), and the counters kept from it:
//! refreshed from the queue of marks, rebuilt in one pass, reconciled after a settings change.

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Every cylinder owned within the scope (`$1` enterprise, `$2` district, `$3` registered
/// station) with its effective custody — `lost` when not scrapped, outside its owner's sites and
/// last seen before `$4`, as `rules::custody::effective` decides — and its worst compliance
/// status on `$5` (Beijing date; due soon within `$6` days), ranked as
/// `rules::compliance::statuses` ranks them. The one place the statistics and the lists behind
/// them classify cylinders; the cylinder pages agree (tested).
pub(super) const CLASSIFIED: &str = r#"
    SELECT c.id, c.code, c.medium, c.owner_enterprise_code AS owner, e.district_code,
           c.station_code, st.place_kind, st.place_code, st.last_seen_at,
           c.registration_no IS NOT NULL AS registered, st.last_seen_at IS NOT NULL AS seen,
           coalesce(st.custody <> 'scrapped'
                    AND NOT coalesce(st.place_kind = 'station'
                                     AND ps.enterprise_code = c.owner_enterprise_code
                                     AND st.custody IN ('in_stock_empty', 'in_stock_full'), false)
                    AND st.last_seen_at IS NOT NULL, false) AS lost_candidate,
           (SELECT min(d) FROM unnest(ARRAY[
                (st.scrapped_at AT TIME ZONE 'Asia/Shanghai')::date,
                (c.manufactured_on + make_interval(years => c.design_life_years))::date + 1,
                coalesce(st.next_inspection_on, c.next_inspection_on) + 1,
                coalesce(st.next_inspection_on, c.next_inspection_on) - $6::int + 1]) d
            WHERE d > $5) AS next_change_on,
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
    pub now: DateTime<Utc>,
    pub lost_before: DateTime<Utc>,
    pub today: chrono::NaiveDate,
    pub due_soon_days: u32,
}

impl Classify {
    /// Classification now: lost after `loss_after_days` unseen, compliance as of today in
    /// Beijing.
    pub fn now(loss_after_days: u32, due_soon_days: u32) -> Self {
        let now = Utc::now();
        Self {
            now,
            lost_before: now - chrono::Duration::days(i64::from(loss_after_days)),
            today: crate::rules::compliance::today_in_shanghai(),
            due_soon_days,
        }
    }
}

pub(super) fn classified<'q, O>(
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

/// Serializes refreshes: two at once would both move the counts of the cylinders whose class
/// changed with time.
const REFRESH_LOCK: i64 = 0x6379_6c77_0007;

/// Cylinders reclassified per round of a refresh (one transaction each).
const REFRESH_BATCH: i64 = 20_000;

/// Brings `cylinder_class` and the counters up to `c`: reclassifies the cylinders written
/// since the last refresh and those whose class changed with time (became lost, crossed a
/// compliance date), and moves their counts, in rounds of `REFRESH_BATCH`. Returns how many
/// cylinders were reclassified. Time must not go backwards between refreshes (a cylinder found
/// lost stays so until it is written again).
pub async fn refresh(pool: &PgPool, c: Classify) -> anyhow::Result<i64> {
    let sql = format!(
        "WITH new AS (SELECT id AS cylinder_id, owner, station_code AS station, medium, custody, \
                        compliance, registered, seen, \
                        CASE WHEN lost_candidate AND custody <> 'lost' \
                             THEN last_seen_at + ($7 - $4) END AS lost_due_at, \
                        next_change_on \
                 FROM ({CLASSIFIED} AND c.id = ANY($8)) s), \
         old AS (SELECT * FROM cylinder_class WHERE cylinder_id = ANY($8)), \
         kept AS (INSERT INTO cylinder_class \
                  SELECT cylinder_id, owner, station, medium, custody, compliance, registered, \
                         seen, lost_due_at, next_change_on FROM new \
                  ON CONFLICT (cylinder_id) DO UPDATE SET owner = excluded.owner, \
                     station = excluded.station, medium = excluded.medium, \
                     custody = excluded.custody, compliance = excluded.compliance, \
                     registered = excluded.registered, seen = excluded.seen, \
                     lost_due_at = excluded.lost_due_at, next_change_on = excluded.next_change_on \
                  RETURNING 1), \
         moves AS (SELECT owner, station, medium, custody, compliance, registered, seen, \
                          -1 AS n FROM old \
                   UNION ALL \
                   SELECT owner, station, medium, custody, compliance, registered, seen, 1 \
                   FROM new), \
         inv AS (INSERT INTO inventory_counts \
                 SELECT owner, station, medium, custody, sum(n) FROM moves \
                 GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 \
                 ON CONFLICT (owner, station, medium, custody) \
                 DO UPDATE SET n = inventory_counts.n + excluded.n), \
         com AS (INSERT INTO compliance_counts \
                 SELECT owner, station, compliance, sum(n) FROM moves \
                 GROUP BY 1, 2, 3 HAVING sum(n) <> 0 \
                 ON CONFLICT (owner, station, compliance) \
                 DO UPDATE SET n = compliance_counts.n + excluded.n), \
         reg AS (INSERT INTO registration_counts \
                 SELECT owner, custody <> 'scrapped', registered, seen, sum(n) FROM moves \
                 GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 \
                 ON CONFLICT (owner, in_use, registered, seen) \
                 DO UPDATE SET n = registration_counts.n + excluded.n) \
         SELECT count(*) FROM kept"
    );
    // Most of the time there is nothing to do: one look, without the lock.
    let pending: bool = sqlx::query_scalar(
        // min() over the indexes: a generic plan of `EXISTS (... WHERE lost_due_at < $1)`
        // scans the whole table when nothing is due (measured 640 ms at 3 million).
        "SELECT EXISTS (SELECT 1 FROM stats_dirty) \
             OR coalesce((SELECT min(lost_due_at) FROM cylinder_class) < $1, false) \
             OR coalesce((SELECT min(next_change_on) FROM cylinder_class) <= $2, false)",
    )
    .bind(c.now)
    .bind(c.today)
    .fetch_one(pool)
    .await
    .context("looking for cylinders to reclassify")?;
    if !pending {
        return Ok(0);
    }
    // After a bulk import, one pass over every cylinder beats rounds over most of them.
    let marked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM (SELECT 1 FROM stats_dirty LIMIT $1) d")
            .bind(REBUILD_ABOVE + 1)
            .fetch_one(pool)
            .await
            .context("counting the cylinders to reclassify")?;
    let mut total = 0;
    if marked > REBUILD_ABOVE {
        total += rebuild(pool, c).await?;
    }
    let scope = Scope::system();
    // Each round leaves its cylinders classified up to `c` (lost ones have no due time, the
    // next compliance change is after today), so rounds end; the bound is a safeguard.
    for _ in 0..1_000_000 {
        let mut tx = pool
            .begin()
            .await
            .context("starting a statistics refresh")?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(REFRESH_LOCK)
            .execute(&mut *tx)
            .await
            .context("waiting for another statistics refresh")?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "WITH d AS (DELETE FROM stats_dirty WHERE seq IN \
                          (SELECT seq FROM stats_dirty ORDER BY seq LIMIT $3) \
                        RETURNING cylinder_id) \
             SELECT cylinder_id FROM d \
             UNION SELECT cylinder_id FROM (SELECT cylinder_id FROM cylinder_class \
                                            WHERE lost_due_at < $1 \
                                            ORDER BY lost_due_at LIMIT $3) l \
             UNION SELECT cylinder_id FROM (SELECT cylinder_id FROM cylinder_class \
                                            WHERE next_change_on <= $2 \
                                            ORDER BY next_change_on LIMIT $3) t",
        )
        .bind(c.now)
        .bind(c.today)
        .bind(REFRESH_BATCH)
        .fetch_all(&mut *tx)
        .await
        .context("finding the cylinders to reclassify")?;
        if ids.is_empty() {
            tx.commit()
                .await
                .context("committing a statistics refresh")?;
            return Ok(total);
        }
        let (n,): (i64,) = classified(&sql, &scope, None, c)
            .bind(c.now)
            .bind(&ids)
            .fetch_one(&mut *tx)
            .await
            .context("reclassifying cylinders")?;
        tx.commit()
            .await
            .context("committing a statistics refresh")?;
        total += n;
    }
    anyhow::bail!("the statistics refresh did not settle")
}

/// Above this many marked cylinders, a refresh rebuilds the classes and counters in one pass.
const REBUILD_ABOVE: i64 = 200_000;

/// Reclassifies every cylinder in one pass and recounts: what a refresh does after a bulk
/// import. Cylinders written meanwhile stay marked for the next refresh. Returns how many
/// cylinders were classified.
pub async fn rebuild(pool: &PgPool, c: Classify) -> anyhow::Result<i64> {
    let mut tx = pool
        .begin()
        .await
        .context("starting a statistics rebuild")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK)
        .execute(&mut *tx)
        .await
        .context("waiting for another statistics refresh")?;
    // Marks first: a write committed after this statement is seen by the pass below, one
    // committed later keeps its mark.
    sqlx::query("TRUNCATE stats_dirty, cylinder_class, inventory_counts, compliance_counts, registration_counts")
        .execute(&mut *tx)
        .await
        .context("clearing the statistics")?;
    let sql = format!(
        "WITH ins AS (INSERT INTO cylinder_class \
         SELECT id, owner, station_code, medium, custody, compliance, registered, seen, \
                CASE WHEN lost_candidate AND custody <> 'lost' \
                     THEN last_seen_at + ($7 - $4) END, \
                next_change_on \
         FROM ({CLASSIFIED}) s RETURNING 1) SELECT count(*) FROM ins"
    );
    let (classified_rows,): (i64,) = classified(&sql, &Scope::system(), None, c)
        .bind(c.now)
        .fetch_one(&mut *tx)
        .await
        .context("classifying every cylinder")?;
    for count in [
        "INSERT INTO inventory_counts SELECT owner, station, medium, custody, count(*) \
         FROM cylinder_class GROUP BY 1, 2, 3, 4",
        "INSERT INTO compliance_counts SELECT owner, station, compliance, count(*) \
         FROM cylinder_class GROUP BY 1, 2, 3",
        "INSERT INTO registration_counts \
         SELECT owner, custody <> 'scrapped', registered, seen, count(*) \
         FROM cylinder_class GROUP BY 1, 2, 3, 4",
    ] {
        sqlx::query(count)
            .execute(&mut *tx)
            .await
            .context("counting the classes")?;
    }
    tx.commit()
        .await
        .context("committing a statistics rebuild")?;
    // Fresh planner statistics, or the idle check's probes of the new table scan it whole
    // until autovacuum comes by (measured: 500 ms per figure at 3 million).
    sqlx::query("ANALYZE cylinder_class, inventory_counts, compliance_counts, registration_counts")
        .execute(pool)
        .await
        .context("analysing the statistics")?;
    Ok(classified_rows)
}

/// Makes the stored classes follow `loss_after_days` and `due_soon_days`: when they were
/// computed with other settings (or never), every cylinder is reclassified by the next
/// refresh.
pub async fn reconcile(
    pool: &PgPool,
    loss_after_days: u32,
    due_soon_days: u32,
) -> anyhow::Result<()> {
    let days = |d: u32| i32::try_from(d).unwrap_or(i32::MAX);
    let mut tx = pool.begin().await.context("starting a statistics check")?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK)
        .execute(&mut *tx)
        .await
        .context("waiting for a statistics refresh")?;
    let stored: Option<(i32, i32)> =
        sqlx::query_as("SELECT loss_after_days, due_soon_days FROM stats_meta")
            .fetch_optional(&mut *tx)
            .await
            .context("reading the statistics settings")?;
    let wanted = (days(loss_after_days), days(due_soon_days));
    if stored != Some(wanted) {
        if stored.is_some() {
            tracing::info!("statistics settings changed; every cylinder is reclassified");
        }
        for table in [
            "inventory_counts",
            "compliance_counts",
            "registration_counts",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM cylinder_class")
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO stats_dirty (cylinder_id) SELECT id FROM cylinders")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO stats_meta (loss_after_days, due_soon_days) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET loss_after_days = $1, due_soon_days = $2",
        )
        .bind(wanted.0)
        .bind(wanted.1)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit()
        .await
        .context("committing the statistics settings")?;
    Ok(())
}

/// Every counter (non-zero ones, in key order): the inventory's (owner, station, medium,
/// custody, n), compliance's (owner, station, status, n) and registration's (owner, in use, registered,
/// seen, n).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub inventory: Vec<(String, String, String, String, i64)>,
    pub compliance: Vec<(String, String, String, i64)>,
    pub registration: Vec<(String, bool, bool, bool, i64)>,
}

/// The counters as stored.
pub async fn counters(pool: &PgPool) -> anyhow::Result<Counters> {
    Ok(Counters {
        inventory: sqlx::query_as(
            "SELECT owner, station, medium, custody, n FROM inventory_counts WHERE n <> 0 \
             ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(pool)
        .await?,
        compliance: sqlx::query_as(
            "SELECT owner, station, compliance, n FROM compliance_counts WHERE n <> 0 \
             ORDER BY 1, 2, 3",
        )
        .fetch_all(pool)
        .await?,
        registration: sqlx::query_as(
            "SELECT owner, in_use, registered, seen, n FROM registration_counts WHERE n <> 0 \
             ORDER BY 1, 2, 3, 4",
        )
        .fetch_all(pool)
        .await?,
    })
}

/// The counters as a full classification of every cylinder computes them: what `counters`
/// must equal after a refresh with the same `c` (the check of the incremental counts; slow on
/// a big registry).
pub async fn counters_by_scan(pool: &PgPool, c: Classify) -> anyhow::Result<Counters> {
    let scope = Scope::system();
    let inventory = format!(
        "WITH s AS ({CLASSIFIED}) SELECT owner, station_code, medium, custody, count(*) FROM s \
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    );
    let compliance = format!(
        "WITH s AS ({CLASSIFIED}) SELECT owner, station_code, compliance, count(*) FROM s \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    );
    let registration = format!(
        "WITH s AS ({CLASSIFIED}) SELECT owner, custody <> 'scrapped', registered, seen, \
         count(*) FROM s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    );
    Ok(Counters {
        inventory: classified(&inventory, &scope, None, c)
            .fetch_all(pool)
            .await?,
        compliance: classified(&compliance, &scope, None, c)
            .fetch_all(pool)
            .await?,
        registration: classified(&registration, &scope, None, c)
            .fetch_all(pool)
            .await?,
    })
}
