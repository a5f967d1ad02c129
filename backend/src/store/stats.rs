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
) -> anyhow::Result<Vec<(String, i64, i64, i64, i64)>> {
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
) -> anyhow::Result<Vec<(String, String, i64)>> {
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
    /// With (true) or without (false) usage registration.
    pub registered: Option<bool>,
    /// Tag read in the field at least once (true) or never (false).
    pub seen: Option<bool>,
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
           AND ($12::boolean IS NULL OR registered = $12) \
           AND ($13::boolean IS NULL OR seen = $13) \
         ORDER BY code LIMIT $11"
    );
    classified(&sql, scope, station, c)
        .bind(&filter.medium)
        .bind(&filter.custody)
        .bind(&filter.compliance)
        .bind(after)
        .bind(limit)
        .bind(filter.registered)
        .bind(filter.seen)
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
    sqlx::query_as(&format!(
        r#"
        WITH h AS (
            SELECT ce.cylinder_id, ce.occurred_at, ce.event_id,
                   {SITE_KIND} AS kind, {SITE_CODE} AS code
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

/// The stations within `scope` (and `station`, if given), as a SQL fragment binding `$1`
/// enterprise, `$2` district, `$3` station.
const STATIONS_IN_SCOPE: &str = "SELECT s.code FROM stations s \
    JOIN enterprises e ON e.code = s.enterprise_code \
    WHERE ($1::text IS NULL OR s.enterprise_code = $1) \
      AND ($2::text IS NULL OR coalesce(s.district_code, e.district_code) = $2) \
      AND ($3::text IS NULL OR s.code = $3)";

/// Filters of a list of filling records (window on `ended_at`, like the figures).
#[derive(Debug, Clone, Default)]
pub struct FillingFilter {
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// With flags (true) or without (false).
    pub flagged: Option<bool>,
    /// Later than `late_s` (true) or not (false).
    pub late: Option<bool>,
    pub late_s: f64,
}

/// Filling records at the stations within `scope`, newest end first, after the cursor
/// `(ended_at, id)`.
pub async fn filling_list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    filter: &FillingFilter,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::FillingItem>> {
    let rows: Vec<FillingRow> = sqlx::query_as(&format!(
        "SELECT f.id, f.station_code, f.gun_no, c.code AS cylinder_code, f.staff_no, \
                f.started_at, f.ended_at, f.received_at, f.late_s, f.mass_before_kg, \
                f.mass_after_kg, f.flags, f.decision_id \
         FROM fillings f JOIN cylinders c ON c.id = f.cylinder_id \
         WHERE f.station_code IN ({STATIONS_IN_SCOPE}) \
           AND ($4::timestamptz IS NULL OR f.ended_at >= $4) \
           AND ($5::timestamptz IS NULL OR f.ended_at < $5) \
           AND ($6::boolean IS NULL OR (cardinality(f.flags) > 0) = $6) \
           AND ($7::boolean IS NULL OR (f.late_s > $8) = $7) \
           AND ($9::timestamptz IS NULL OR (f.ended_at, f.id) < ($9, $10)) \
         ORDER BY f.ended_at DESC, f.id DESC LIMIT $11"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(filter.window.map(|w| w.0))
    .bind(filter.window.map(|w| w.1))
    .bind(filter.flagged)
    .bind(filter.late)
    .bind(filter.late_s)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing fillings")?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(sqlx::FromRow)]
struct FillingRow {
    id: uuid::Uuid,
    station_code: String,
    gun_no: String,
    cylinder_code: String,
    staff_no: String,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    late_s: f64,
    mass_before_kg: f64,
    mass_after_kg: f64,
    flags: Vec<String>,
    decision_id: Option<uuid::Uuid>,
}

impl From<FillingRow> for shared::stats::FillingItem {
    fn from(r: FillingRow) -> Self {
        Self {
            id: r.id,
            station_code: r.station_code,
            gun_no: r.gun_no,
            cylinder_code: r.cylinder_code,
            staff_no: r.staff_no,
            started_at: r.started_at,
            ended_at: r.ended_at,
            received_at: r.received_at,
            late_s: r.late_s,
            mass_before_kg: r.mass_before_kg,
            mass_after_kg: r.mass_after_kg,
            flags: r.flags,
            decision_id: r.decision_id,
        }
    }
}

/// Filters of a list of decisions (window on `decided_at`).
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub allowed: Option<bool>,
    /// Refused by this rule (among others).
    pub rule: Option<String>,
}

/// Decisions at the stations within `scope`, newest first, after the cursor
/// `(decided_at, id)`.
pub async fn decision_list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    filter: &DecisionFilter,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::DecisionItem>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: uuid::Uuid,
        decided_at: DateTime<Utc>,
        station_code: String,
        gun_no: String,
        cylinder_code: Option<String>,
        tag_id: Option<String>,
        medium: String,
        staff_no: String,
        allowed: bool,
        rules: Vec<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT d.id, d.decided_at, d.station_code, d.gun_no, d.cylinder_code, d.tag_id, \
                d.medium, d.staff_no, d.allowed, \
                ARRAY(SELECT r->>'rule' FROM jsonb_array_elements(d.reasons) r) AS rules \
         FROM filling_decisions d \
         WHERE d.station_code IN ({STATIONS_IN_SCOPE}) \
           AND ($4::timestamptz IS NULL OR d.decided_at >= $4) \
           AND ($5::timestamptz IS NULL OR d.decided_at < $5) \
           AND ($6::boolean IS NULL OR d.allowed = $6) \
           AND ($7::text IS NULL OR d.reasons @> jsonb_build_array(jsonb_build_object('rule', $7::text))) \
           AND ($8::timestamptz IS NULL OR (d.decided_at, d.id) < ($8, $9)) \
         ORDER BY d.decided_at DESC, d.id DESC LIMIT $10"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(filter.window.map(|w| w.0))
    .bind(filter.window.map(|w| w.1))
    .bind(filter.allowed)
    .bind(&filter.rule)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing decisions")?;
    Ok(rows
        .into_iter()
        .map(|r| shared::stats::DecisionItem {
            id: r.id,
            decided_at: r.decided_at,
            station_code: r.station_code,
            gun_no: r.gun_no,
            cylinder_code: r.cylinder_code,
            tag_id: r.tag_id,
            medium: r.medium,
            staff_no: r.staff_no,
            allowed: r.allowed,
            rules: r.rules,
        })
        .collect())
}

/// A history row's site, as the flows name it: its receiving station, else its customer, else
/// its station (`kind`, `code`).
const SITE_KIND: &str = "CASE WHEN ce.to_station_code IS NOT NULL THEN 'station' \
    WHEN ce.customer_code IS NOT NULL THEN 'customer' \
    WHEN ce.station_code IS NOT NULL THEN 'station' END";
const SITE_CODE: &str = "coalesce(ce.to_station_code, ce.customer_code, ce.station_code)";

/// Filters of a history list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// On `occurred_at`.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub kind: Option<String>,
    pub op: Option<String>,
    /// Collected empty or returned to a station after this row (true) or not (false): the
    /// recovery figure's test.
    pub recovered: Option<bool>,
    /// Moves from one site to the next within the window, as the flows count them:
    /// ((kind, code) before, (kind, code) after).
    pub moved: Option<((String, String), (String, String))>,
}

/// The cursor of a history list: (occurred_at, event, cylinder id).
pub type HistoryCursor = (DateTime<Utc>, uuid::Uuid, i64);

/// History rows of the cylinders owned within `scope`, newest first, after the cursor.
pub async fn history_list(
    pool: &PgPool,
    scope: &Scope,
    filter: &HistoryFilter,
    after: Option<HistoryCursor>,
    limit: i64,
) -> anyhow::Result<Vec<(i64, shared::stats::HistoryItem)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        cylinder_id: i64,
        cylinder_code: String,
        event_id: uuid::Uuid,
        kind: String,
        op: Option<String>,
        occurred_at: DateTime<Utc>,
        station_code: Option<String>,
        customer_code: Option<String>,
        to_station_code: Option<String>,
        vehicle_plate: Option<String>,
        staff_no: Option<String>,
    }
    let rows_in_scope = format!(
        "SELECT ce.cylinder_id, c.code AS cylinder_code, ce.event_id, ce.kind, ce.op, \
                ce.occurred_at, ce.station_code, ce.customer_code, ce.to_station_code, \
                ce.vehicle_plate, ce.staff_no, {SITE_KIND} AS site_kind, {SITE_CODE} AS site_code \
         FROM cylinder_events ce \
         JOIN cylinders c ON c.id = ce.cylinder_id \
         JOIN enterprises e ON e.code = c.owner_enterprise_code \
         WHERE ($1::text IS NULL OR c.owner_enterprise_code = $1) \
           AND ($2::text IS NULL OR e.district_code = $2) \
           AND ($3::timestamptz IS NULL OR ce.occurred_at >= $3) \
           AND ($4::timestamptz IS NULL OR ce.occurred_at < $4)"
    );
    // Moves need each row's predecessor among the window's rows that name a site.
    let source = if filter.moved.is_some() {
        format!(
            "(SELECT h.*, lag(site_kind) OVER w AS prev_kind, lag(site_code) OVER w AS prev_code \
              FROM ({rows_in_scope} AND {SITE_CODE} IS NOT NULL) h \
              WINDOW w AS (PARTITION BY cylinder_id ORDER BY occurred_at, event_id))"
        )
    } else {
        format!("(SELECT h.*, NULL::text AS prev_kind, NULL::text AS prev_code FROM ({rows_in_scope}) h)")
    };
    let sql = format!(
        "SELECT cylinder_id, cylinder_code, event_id, kind, op, occurred_at, station_code, \
                customer_code, to_station_code, vehicle_plate, staff_no \
         FROM {source} x \
         WHERE ($5::text IS NULL OR kind = $5) AND ($6::text IS NULL OR op = $6) \
           AND ($7::boolean IS NULL OR EXISTS ( \
                   SELECT 1 FROM cylinder_events r \
                   WHERE r.cylinder_id = x.cylinder_id AND r.occurred_at > x.occurred_at \
                     AND r.kind = 'scan' AND r.op IN ('collect_empty', 'return_in')) = $7) \
           AND ($8::text IS NULL OR (prev_kind = $8 AND prev_code = $9 \
                                     AND site_kind = $10 AND site_code = $11 \
                                     AND (prev_kind, prev_code) <> (site_kind, site_code))) \
           AND ($12::timestamptz IS NULL \
                OR (occurred_at, event_id, cylinder_id) < ($12, $13, $14)) \
         ORDER BY occurred_at DESC, event_id DESC, cylinder_id DESC LIMIT $15"
    );
    let moved = filter.moved.as_ref();
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(filter.window.map(|w| w.0))
        .bind(filter.window.map(|w| w.1))
        .bind(&filter.kind)
        .bind(&filter.op)
        .bind(filter.recovered)
        .bind(moved.map(|m| m.0 .0.as_str()))
        .bind(moved.map(|m| m.0 .1.as_str()))
        .bind(moved.map(|m| m.1 .0.as_str()))
        .bind(moved.map(|m| m.1 .1.as_str()))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(after.map(|a| a.2))
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("listing history")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.cylinder_id,
                shared::stats::HistoryItem {
                    cylinder_code: r.cylinder_code,
                    event_id: r.event_id,
                    kind: r.kind,
                    op: r.op,
                    occurred_at: r.occurred_at,
                    station_code: r.station_code,
                    customer_code: r.customer_code,
                    to_station_code: r.to_station_code,
                    vehicle_plate: r.vehicle_plate,
                    staff_no: r.staff_no,
                },
            )
        })
        .collect())
}

/// Customer accounts of the enterprises within `scope` (of one `kind`, if given), by code after
/// `after`.
pub async fn customer_list(
    pool: &PgPool,
    scope: &Scope,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::CustomerItem>> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT cu.code, cu.enterprise_code, cu.name, cu.kind, cu.phone, cu.address, \
                cu.district_code, cu.created_at \
         FROM customers cu JOIN enterprises e ON e.code = cu.enterprise_code \
         WHERE ($1::text IS NULL OR cu.enterprise_code = $1) \
           AND ($2::text IS NULL OR e.district_code = $2) \
           AND ($3::text IS NULL OR cu.kind = $3) \
           AND ($4::text IS NULL OR cu.code > $4) \
         ORDER BY cu.code LIMIT $5",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(kind)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing customers")?;
    Ok(rows
        .into_iter()
        .map(
            |(code, enterprise_code, name, kind, phone, address, district_code, opened_at)| {
                shared::stats::CustomerItem {
                    code,
                    enterprise_code,
                    name,
                    kind,
                    phone,
                    address,
                    district_code,
                    opened_at,
                }
            },
        )
        .collect())
}
