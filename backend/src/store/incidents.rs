//! Incidents and their append-only timeline (issue 22). Who sees an incident: the enterprises
//! it is about (`enterprise_codes`), a district's regulators when it happened in their district
//! or is about an enterprise of their district, everyone of system scope.

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::ids::{CylinderCode, DistrictCode, EnterpriseCode};
use shared::incident::{IncidentKind, IncidentLevel, IncidentStatus, TaskStatus, TimelineWhat};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A stored incident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: Uuid,
    pub kind: IncidentKind,
    pub level: IncidentLevel,
    pub status: IncidentStatus,
    pub description: String,
    pub cylinder_id: Option<i64>,
    pub cylinder_code: Option<CylinderCode>,
    pub alert_id: Option<Uuid>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub district_code: Option<DistrictCode>,
    pub enterprise_codes: Vec<EnterpriseCode>,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "i.id, i.kind, i.level, i.status, i.description, i.cylinder_id, \
    c.code AS cylinder_code, i.alert_id, ST_X(i.place) AS lon, ST_Y(i.place) AS lat, \
    i.district_code, i.enterprise_codes, i.caller_name, i.caller_phone, i.opened_by, \
    i.opened_at, i.updated_at";

const FROM: &str = "FROM incidents i LEFT JOIN cylinders c ON c.id = i.cylinder_id";

/// The scope predicate with the enterprise and district bound as `$e` and `$d`.
fn in_scope(e: usize, d: usize) -> String {
    format!(
        "AND (${e}::text IS NULL OR ${e} = ANY (i.enterprise_codes)) \
         AND (${d}::text IS NULL OR i.district_code = ${d} OR EXISTS ( \
              SELECT 1 FROM enterprises en WHERE en.code = ANY (i.enterprise_codes) \
              AND en.district_code = ${d}))"
    )
}

/// A new incident.
pub struct NewIncident<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub level: &'a str,
    pub description: &'a str,
    pub cylinder_id: Option<i64>,
    pub alert_id: Option<Uuid>,
    pub place: Option<(f64, f64)>,
    pub district_code: Option<&'a str>,
    pub enterprise_codes: Vec<EnterpriseCode>,
    pub caller: Option<(&'a str, &'a str)>,
    pub opened_by: &'a str,
}

/// Inserts an incident with its `opened` timeline entry.
pub async fn insert(tx: &mut Transaction<'_, Postgres>, n: &NewIncident<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO incidents (id, kind, level, description, cylinder_id, alert_id, place, \
             district_code, enterprise_codes, caller_name, caller_phone, opened_by) \
         VALUES ($1, $2, $3, $4, $5, $6, \
             CASE WHEN $7::float8 IS NOT NULL THEN ST_SetSRID(ST_MakePoint($7, $8), 4326) END, \
             $9, $10, $11, $12, $13)",
    )
    .bind(n.id)
    .bind(n.kind)
    .bind(n.level)
    .bind(n.description)
    .bind(n.cylinder_id)
    .bind(n.alert_id)
    .bind(n.place.map(|p| p.0))
    .bind(n.place.map(|p| p.1))
    .bind(n.district_code)
    .bind(&n.enterprise_codes)
    .bind(n.caller.map(|c| c.0))
    .bind(n.caller.map(|c| c.1))
    .bind(n.opened_by)
    .execute(&mut **tx)
    .await
    .context("inserting an incident")?;
    append(tx, n.id, n.opened_by, "opened", Some("open"), None).await
}

/// Appends a timeline entry (what, the status it moved to, a note) and touches the incident.
pub async fn append(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    by: &str,
    what: &str,
    status: Option<&str>,
    note: Option<&str>,
) -> anyhow::Result<()> {
    let entry = super::incident_ops::Entry {
        what,
        status,
        note,
        ..Default::default()
    };
    super::incident_ops::append(tx, id, by, &entry).await
}

/// Moves an incident from `from` to `to` with its timeline entry; `false` when its status is
/// not `from` any more (a concurrent change).
pub async fn set_status(
    pool: &PgPool,
    id: Uuid,
    from: &str,
    to: &str,
    what: &str,
    by: &str,
    note: Option<&str>,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("beginning a status change")?;
    let moved = sqlx::query("UPDATE incidents SET status = $3 WHERE id = $1 AND status = $2")
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await
        .context("changing an incident's status")?
        .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    append(&mut tx, id, by, what, Some(to), note).await?;
    tx.commit().await.context("committing a status change")?;
    Ok(true)
}

/// Adds a note to the timeline.
pub async fn add_note(pool: &PgPool, id: Uuid, by: &str, note: &str) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("beginning a note")?;
    append(&mut tx, id, by, "note", None, Some(note)).await?;
    tx.commit().await.context("committing a note")
}

/// Keeps the context snapshot (with a `context_refreshed` entry when `by` is given).
pub async fn save_context(
    pool: &PgPool,
    id: Uuid,
    context: &serde_json::Value,
    by: Option<&str>,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("beginning a context save")?;
    sqlx::query("UPDATE incidents SET context = $2 WHERE id = $1")
        .bind(id)
        .bind(context)
        .execute(&mut *tx)
        .await
        .context("keeping an incident's context")?;
    if let Some(by) = by {
        append(&mut tx, id, by, "context_refreshed", None, None).await?;
    }
    tx.commit().await.context("committing a context save")
}

/// An incident within `scope`.
pub async fn get(pool: &PgPool, scope: &Scope, id: Uuid) -> anyhow::Result<Option<IncidentRow>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE i.id = $1 {}", in_scope(2, 3));
    sqlx::query_as(&sql)
        .bind(id)
        .bind(scope.enterprise())
        .bind(scope.district())
        .fetch_optional(pool)
        .await
        .context("reading an incident")
}

/// What a list is narrowed to.
#[derive(Debug, Default)]
pub struct Filter {
    pub kind: Option<String>,
    /// Any of these statuses (all when empty).
    pub statuses: Vec<String>,
    /// Matched (case-insensitively, as a substring) against the description, the cylinder's
    /// code and the caller's words: the timeline's notes.
    pub q: Option<String>,
    /// Within `radius` metres of `(lon, lat)`.
    pub near: Option<(f64, f64, f64)>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Incidents within `scope`, newest first, after the cursor `(opened_at, id)`.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<IncidentRow>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE ($1::text IS NULL OR i.kind = $1) \
           AND (cardinality($2::text[]) = 0 OR i.status = ANY ($2)) \
           AND ($10::text IS NULL OR strpos(lower(i.description), lower($10)) > 0 \
                OR strpos(lower(coalesce(c.code, '')), lower($10)) > 0 \
                OR EXISTS (SELECT 1 FROM incident_timeline t WHERE t.incident_id = i.id \
                           AND strpos(lower(coalesce(t.note, '')), lower($10)) > 0)) \
           AND ($11::float8 IS NULL OR (i.place IS NOT NULL AND ST_DWithin(i.place::geography, \
                ST_SetSRID(ST_MakePoint($11, $12), 4326)::geography, $13))) \
           AND ($3::timestamptz IS NULL OR i.opened_at >= $3) \
           AND ($4::timestamptz IS NULL OR i.opened_at < $4) \
           AND ($5::timestamptz IS NULL OR (i.opened_at, i.id) < ($5, $6)) {} \
         ORDER BY i.opened_at DESC, i.id DESC LIMIT $9",
        in_scope(7, 8)
    );
    sqlx::query_as(&sql)
        .bind(&filter.kind)
        .bind(&filter.statuses)
        .bind(filter.from)
        .bind(filter.to)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .bind(&filter.q)
        .bind(filter.near.map(|n| n.0))
        .bind(filter.near.map(|n| n.1))
        .bind(filter.near.map(|n| n.2))
        .fetch_all(pool)
        .await
        .context("listing incidents")
}

/// A timeline entry as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub by_user: String,
    pub what: TimelineWhat,
    pub status: Option<IncidentStatus>,
    pub note: Option<String>,
    pub task_id: Option<Uuid>,
    pub unit_code: Option<String>,
    pub task_status: Option<TaskStatus>,
    pub enterprise_code: Option<EnterpriseCode>,
    pub recall_id: Option<Uuid>,
}

/// An incident's timeline, oldest first.
pub async fn timeline(pool: &PgPool, id: Uuid) -> anyhow::Result<Vec<TimelineRow>> {
    sqlx::query_as(
        "SELECT seq, at, by_user, what, status, note, task_id, unit_code, task_status, \
                enterprise_code, recall_id FROM incident_timeline \
         WHERE incident_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .context("reading an incident's timeline")
}

/// The code of the cylinder with that factory serial number, if exactly one has it.
pub async fn code_by_serial(pool: &PgPool, serial_no: &str) -> anyhow::Result<Option<String>> {
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM cylinders WHERE serial_no = $1 LIMIT 2")
            .bind(serial_no)
            .fetch_all(pool)
            .await
            .context("finding a cylinder by serial number")?;
    Ok(match codes.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    })
}
