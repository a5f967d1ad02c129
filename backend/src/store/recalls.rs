//! Recalls (migration 0054): the recalled set chosen in SQL, progress maintained by a trigger
//! on the history, counts and lists read within a scope (an enterprise: its own share; a
//! district regulator: the share of its district's enterprises).

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::recall::{RecallProgress, RecalledCylinder};
use sqlx::{PgPool, Postgres, QueryBuilder};

/// What a recall covers.
#[derive(Debug, Clone)]
pub enum Selection<'a> {
    Codes(&'a [String]),
    Filled {
        station_code: &'a str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Batch {
        manufacturer: &'a str,
        production_batch: &'a str,
    },
    /// An incident's cylinder with its whole batch: those filled with it in `window` (if it
    /// has a last filling) and those of its production batch.
    IncidentBatch {
        cylinder_id: i64,
        window: Option<&'a crate::store::incident_context::FillingWindow>,
    },
}

/// A recall to write.
pub struct NewRecall<'a> {
    pub id: uuid::Uuid,
    pub reason: &'a str,
    pub incident_id: Option<uuid::Uuid>,
    pub criteria: &'a Value,
    pub by: &'a str,
    pub selection: Selection<'a>,
}

/// Of `codes`, those that name no cylinder within `scope`, in order.
pub async fn unknown_codes(
    pool: &PgPool,
    codes: &[String],
    scope: &Scope,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT q.code FROM unnest($1::text[]) WITH ORDINALITY AS q(code, n) \
         WHERE NOT EXISTS (SELECT 1 FROM cylinders c JOIN enterprises e ON e.code = c.owner_enterprise_code \
           WHERE c.code = q.code AND ($2::text IS NULL OR e.code = $2) AND ($3::text IS NULL OR e.district_code = $3)) \
         ORDER BY q.n",
    )
    .bind(codes)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("checking the recall's cylinder codes")
}

/// Writes the recall and its cylinders (those of `selection` within `scope`) in one
/// transaction; the number recalled. Nothing is written when it is none.
pub async fn create(pool: &PgPool, recall: &NewRecall<'_>, scope: &Scope) -> anyhow::Result<i64> {
    let mut tx = pool
        .begin()
        .await
        .context("opening the recall's transaction")?;
    sqlx::query(
        "INSERT INTO recalls (id, reason, incident_id, criteria, cylinder_count, created_by) \
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(recall.id)
    .bind(recall.reason)
    .bind(recall.incident_id)
    .bind(recall.criteria)
    .bind(recall.by)
    .execute(&mut *tx)
    .await
    .context("writing the recall")?;
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "INSERT INTO recall_cylinders (recall_id, cylinder_id, enterprise_code, recalled_at) \
         SELECT DISTINCT ",
    );
    q.push_bind(recall.id);
    q.push(", c.id, c.owner_enterprise_code, now() FROM cylinders c JOIN enterprises e ON e.code = c.owner_enterprise_code ");
    match &recall.selection {
        Selection::Codes(codes) => {
            q.push("WHERE c.code = ANY(");
            q.push_bind(codes.to_vec());
            q.push(")");
        }
        Selection::Filled {
            station_code,
            from,
            to,
        } => {
            q.push("JOIN fillings f ON f.cylinder_id = c.id WHERE f.station_code = ");
            q.push_bind(station_code.to_string());
            q.push(" AND f.ended_at >= ");
            q.push_bind(*from);
            q.push(" AND f.ended_at <= ");
            q.push_bind(*to);
        }
        Selection::Batch {
            manufacturer,
            production_batch,
        } => {
            q.push("WHERE c.manufacturer = ");
            q.push_bind(manufacturer.to_string());
            q.push(" AND c.production_batch = ");
            q.push_bind(production_batch.to_string());
        }
        Selection::IncidentBatch {
            cylinder_id,
            window,
        } => {
            // Each part by its own index (the cylinder's key, the production-batch btree,
            // the station's fillings by time), not one OR over the registry.
            q.push("WHERE c.id IN (SELECT ");
            q.push_bind(*cylinder_id);
            q.push("::bigint UNION SELECT b.id FROM cylinders me JOIN cylinders b \
                    ON b.manufacturer = me.manufacturer AND b.production_batch = me.production_batch \
                    WHERE me.production_batch IS NOT NULL AND me.id = ");
            q.push_bind(*cylinder_id);
            if let Some(w) = window {
                q.push(format!(
                    " UNION SELECT ce.cylinder_id FROM cylinder_events ce \
                     JOIN cylinders wc ON wc.id = ce.cylinder_id \
                     WHERE {} AND ce.station_code = ",
                    crate::store::incident_context::IS_FILLING
                ));
                q.push_bind(w.station.as_str().to_owned());
                q.push(" AND wc.medium = ");
                q.push_bind(w.medium.clone());
                q.push(" AND ce.occurred_at BETWEEN ");
                q.push_bind(w.from);
                q.push(" AND ");
                q.push_bind(w.to);
            }
            q.push(")");
        }
    }
    q.push(" AND (");
    q.push_bind(scope.enterprise().cloned());
    q.push("::text IS NULL OR e.code = ");
    q.push_bind(scope.enterprise().cloned());
    q.push(") AND (");
    q.push_bind(scope.district().cloned());
    q.push("::text IS NULL OR e.district_code = ");
    q.push_bind(scope.district().cloned());
    q.push(")");
    let count = i64::try_from(
        q.build()
            .execute(&mut *tx)
            .await
            .context("recalling the cylinders")?
            .rows_affected(),
    )
    .context("recalled count")?;
    if count == 0 {
        tx.rollback().await.context("dropping an empty recall")?;
        return Ok(0);
    }
    sqlx::query("UPDATE recalls SET cylinder_count = $2 WHERE id = $1")
        .bind(recall.id)
        .bind(i32::try_from(count).unwrap_or(i32::MAX))
        .execute(&mut *tx)
        .await
        .context("counting the recall")?;
    tx.commit().await.context("committing the recall")?;
    Ok(count)
}

/// A recall's own fields.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecallRow {
    pub id: uuid::Uuid,
    pub reason: String,
    pub incident_id: Option<uuid::Uuid>,
    pub criteria: Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// The share of a recall `scope` sees: `AND`-ed onto `recall_cylinders r`.
const SHARE: &str = "($2::text IS NULL OR r.enterprise_code = $2) AND ($3::text IS NULL OR \
    EXISTS (SELECT 1 FROM enterprises e WHERE e.code = r.enterprise_code AND e.district_code = $3))";

/// The recall, if `scope` sees any of it.
pub async fn find(
    pool: &PgPool,
    id: uuid::Uuid,
    scope: &Scope,
) -> anyhow::Result<Option<(RecallRow, RecallProgress)>> {
    let row: Option<RecallRow> = sqlx::query_as(
        "SELECT id, reason, incident_id, criteria, created_by, created_at FROM recalls WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("reading a recall")?;
    let Some(row) = row else { return Ok(None) };
    let (recalled, located, recovered, inspected, cleared, open): (i64, i64, i64, i64, i64, i64) =
        sqlx::query_as(&format!(
            "SELECT count(*), count(located_at), count(recovered_at), count(inspected_at), \
             count(cleared_at), count(*) FILTER (WHERE inspected_at IS NULL AND cleared_at IS NULL) \
             FROM recall_cylinders r WHERE r.recall_id = $1 AND {SHARE}"
        ))
        .bind(id)
        .bind(scope.enterprise())
        .bind(scope.district())
        .fetch_one(pool)
        .await
        .context("counting a recall's progress")?;
    if recalled == 0 {
        return Ok(None);
    }
    let progress = RecallProgress {
        recalled,
        located,
        recovered,
        inspected,
        cleared,
        open,
    };
    Ok(Some((row, progress)))
}

/// The recalled cylinders `scope` sees, with their last known place, at most `limit`.
pub async fn cylinders(
    pool: &PgPool,
    id: uuid::Uuid,
    scope: &Scope,
    limit: i64,
) -> anyhow::Result<Vec<RecalledCylinder>> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<f64>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT c.code, r.enterprise_code, s.custody, s.place_kind, s.place_code, \
         ST_X(s.location), ST_Y(s.location), s.last_seen_at, r.located_at, r.recovered_at, \
         r.inspected_at, r.cleared_at \
         FROM recall_cylinders r JOIN cylinders c ON c.id = r.cylinder_id \
         LEFT JOIN cylinder_state s ON s.cylinder_id = r.cylinder_id \
         WHERE r.recall_id = $1 AND {SHARE} ORDER BY c.code LIMIT $4"
    ))
    .bind(id)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing a recall's cylinders")?;
    rows.into_iter()
        .map(|r| {
            Ok(RecalledCylinder {
                code: shared::ids::CylinderCode::try_from(r.0).context("stored cylinder code")?,
                enterprise_code: shared::ids::EnterpriseCode::try_from(r.1)
                    .context("stored enterprise code")?,
                custody: r.2,
                place_kind: r.3,
                place_code: r.4,
                lon: r.5,
                lat: r.6,
                last_seen_at: r.7,
                located_at: r.8,
                recovered_at: r.9,
                inspected_at: r.10,
                cleared_at: r.11,
            })
        })
        .collect()
}

/// The recalls `scope` sees any of, newest first (at most 500).
pub async fn list(pool: &PgPool, scope: &Scope) -> anyhow::Result<Vec<uuid::Uuid>> {
    sqlx::query_scalar(&format!(
        "SELECT x.id FROM recalls x WHERE EXISTS (SELECT 1 FROM recall_cylinders r \
         WHERE r.recall_id = x.id AND {SHARE}) ORDER BY x.created_at DESC LIMIT 500"
    ))
    .bind(uuid::Uuid::nil())
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("listing recalls")
}

/// Of `codes`, those not in the recall within `scope`, in order.
pub async fn not_recalled(
    pool: &PgPool,
    id: uuid::Uuid,
    codes: &[String],
    scope: &Scope,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(&format!(
        "SELECT q.code FROM unnest($4::text[]) WITH ORDINALITY AS q(code, n) \
         WHERE NOT EXISTS (SELECT 1 FROM recall_cylinders r JOIN cylinders c ON c.id = r.cylinder_id \
           WHERE r.recall_id = $1 AND c.code = q.code AND {SHARE}) ORDER BY q.n"
    ))
    .bind(id)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(codes)
    .fetch_all(pool)
    .await
    .context("checking the cylinders to clear")
}

/// Clears `codes` of the recall (those not cleared yet); how many.
pub async fn clear(
    pool: &PgPool,
    id: uuid::Uuid,
    codes: &[String],
    by: &str,
    note: &str,
) -> anyhow::Result<u64> {
    Ok(sqlx::query(
        "UPDATE recall_cylinders r SET cleared_at = now(), cleared_by = $3, clear_note = $4 \
         FROM cylinders c WHERE c.id = r.cylinder_id AND r.recall_id = $1 AND c.code = ANY($2) \
         AND r.cleared_at IS NULL",
    )
    .bind(id)
    .bind(codes)
    .bind(by)
    .bind(note)
    .execute(pool)
    .await
    .context("clearing recalled cylinders")?
    .rows_affected())
}
