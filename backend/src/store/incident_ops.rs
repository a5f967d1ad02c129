//! Running an incident (issue 22 items 4 and 6, migration 0055): responder units, their tasks,
//! the owning enterprises' acknowledgements, the recalls issued for it, the progress the live
//! topic watches, and the rows of its report.

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use shared::cylinder::Custody;
use shared::ids::{CylinderCode, EnterpriseCode};
use shared::incident::{ResponderKind, TaskStatus};
use shared::place::PlaceKind;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A registered responder unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub kind: ResponderKind,
    pub phone: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Registers a unit; `false` when its code is taken (nothing changed).
pub async fn insert_unit(
    pool: &PgPool,
    code: &str,
    name: &str,
    kind: &str,
    phone: &str,
    by: &str,
) -> anyhow::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO responder_units (code, name, kind, phone, created_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING",
    )
    .bind(code)
    .bind(name)
    .bind(kind)
    .bind(phone)
    .bind(by)
    .execute(pool)
    .await
    .context("registering a responder unit")?
    .rows_affected()
        == 1)
}

/// Every unit, by code.
pub async fn units(pool: &PgPool) -> anyhow::Result<Vec<UnitRow>> {
    sqlx::query_as(
        "SELECT code, name, kind, phone, created_by, created_at FROM responder_units ORDER BY code",
    )
    .fetch_all(pool)
    .await
    .context("listing responder units")
}

/// One unit.
pub async fn unit(pool: &PgPool, code: &str) -> anyhow::Result<Option<UnitRow>> {
    sqlx::query_as(
        "SELECT code, name, kind, phone, created_by, created_at FROM responder_units WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await
    .context("reading a responder unit")
}

/// A timeline entry with what it is about: the one writer of `incident_timeline`
/// (`store::incidents::append` is its short form).
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub what: &'a str,
    /// The incident's status the entry moved it to (opened, status changes).
    pub status: Option<&'a str>,
    pub note: Option<&'a str>,
    pub task_id: Option<Uuid>,
    pub unit_code: Option<&'a str>,
    pub task_status: Option<&'a str>,
    pub enterprise_code: Option<&'a str>,
    pub recall_id: Option<Uuid>,
}

/// Appends an entry and touches the incident.
pub async fn append(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    by: &str,
    e: &Entry<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO incident_timeline (incident_id, by_user, what, status, note, task_id, \
             unit_code, task_status, enterprise_code, recall_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(by)
    .bind(e.what)
    .bind(e.status)
    .bind(e.note)
    .bind(e.task_id)
    .bind(e.unit_code)
    .bind(e.task_status)
    .bind(e.enterprise_code)
    .bind(e.recall_id)
    .execute(&mut **tx)
    .await
    .context("appending to an incident's timeline")?;
    sqlx::query("UPDATE incidents SET updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .context("touching an incident")?;
    Ok(())
}

/// A task with its unit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: Uuid,
    pub unit_code: String,
    pub unit_name: String,
    pub unit_kind: ResponderKind,
    pub what: String,
    pub due_at: DateTime<Utc>,
    pub status: TaskStatus,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const TASK_COLUMNS: &str = "t.id, t.unit_code, u.name AS unit_name, u.kind AS unit_kind, t.what, \
    t.due_at, t.status, t.note, t.created_at, t.created_by, t.updated_at, t.updated_by \
    FROM incident_tasks t JOIN responder_units u ON u.code = t.unit_code";

/// Assigns a task with its `task_assigned` entry.
pub async fn insert_task(
    pool: &PgPool,
    incident: Uuid,
    task: Uuid,
    unit_code: &str,
    what: &str,
    due_at: DateTime<Utc>,
    by: &str,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("beginning a task")?;
    sqlx::query(
        "INSERT INTO incident_tasks (id, incident_id, unit_code, what, due_at, created_by, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(task)
    .bind(incident)
    .bind(unit_code)
    .bind(what)
    .bind(due_at)
    .bind(by)
    .execute(&mut *tx)
    .await
    .context("assigning a task")?;
    let entry = Entry {
        what: "task_assigned",
        note: Some(what),
        task_id: Some(task),
        unit_code: Some(unit_code),
        task_status: Some("assigned"),
        ..Entry::default()
    };
    append(&mut tx, incident, by, &entry).await?;
    tx.commit().await.context("committing a task")
}

/// An incident's tasks, oldest first.
pub async fn tasks(pool: &PgPool, incident: Uuid) -> anyhow::Result<Vec<TaskRow>> {
    sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} WHERE t.incident_id = $1 ORDER BY t.created_at, t.id"
    ))
    .bind(incident)
    .fetch_all(pool)
    .await
    .context("reading an incident's tasks")
}

/// One task of an incident.
pub async fn task(pool: &PgPool, incident: Uuid, task: Uuid) -> anyhow::Result<Option<TaskRow>> {
    sqlx::query_as(&format!(
        "SELECT {TASK_COLUMNS} WHERE t.incident_id = $1 AND t.id = $2"
    ))
    .bind(incident)
    .bind(task)
    .fetch_optional(pool)
    .await
    .context("reading a task")
}

/// Moves a task from `from` to `to` with its `task_status` entry; `false` when it is not at
/// `from` any more (a concurrent update: nothing changed).
pub async fn set_task_status(
    pool: &PgPool,
    incident: Uuid,
    task: &TaskRow,
    from: &str,
    to: &str,
    note: Option<&str>,
    by: &str,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("beginning a task update")?;
    let moved = sqlx::query(
        "UPDATE incident_tasks SET status = $4, note = $5, updated_by = $6, updated_at = now() \
         WHERE incident_id = $1 AND id = $2 AND status = $3",
    )
    .bind(incident)
    .bind(task.id)
    .bind(from)
    .bind(to)
    .bind(note)
    .bind(by)
    .execute(&mut *tx)
    .await
    .context("moving a task")?
    .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    let entry = Entry {
        what: "task_status",
        note,
        task_id: Some(task.id),
        unit_code: Some(&task.unit_code),
        task_status: Some(to),
        ..Entry::default()
    };
    append(&mut tx, incident, by, &entry).await?;
    tx.commit().await.context("committing a task update")?;
    Ok(true)
}

/// An acknowledgement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AckRow {
    pub incident_id: Uuid,
    pub enterprise_code: EnterpriseCode,
    pub by_user: String,
    pub at: DateTime<Utc>,
}

/// Records `enterprise`'s acknowledgement with its entry; `false` when it had acknowledged
/// already (nothing changed).
pub async fn ack(
    pool: &PgPool,
    incident: Uuid,
    enterprise: &str,
    by: &str,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("beginning an acknowledgement")?;
    let new = sqlx::query(
        "INSERT INTO incident_acks (incident_id, enterprise_code, by_user) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(incident)
    .bind(enterprise)
    .bind(by)
    .execute(&mut *tx)
    .await
    .context("acknowledging an incident")?
    .rows_affected();
    if new != 1 {
        return Ok(false);
    }
    let note = format!("acknowledged by {enterprise}");
    let entry = Entry {
        what: "acknowledged",
        note: Some(&note),
        enterprise_code: Some(enterprise),
        ..Entry::default()
    };
    append(&mut tx, incident, by, &entry).await?;
    tx.commit().await.context("committing an acknowledgement")?;
    Ok(true)
}

/// The acknowledgements of these incidents, oldest first.
pub async fn acks(pool: &PgPool, incidents: &[Uuid]) -> anyhow::Result<Vec<AckRow>> {
    sqlx::query_as(
        "SELECT incident_id, enterprise_code, by_user, at FROM incident_acks \
         WHERE incident_id = ANY($1) ORDER BY at, enterprise_code",
    )
    .bind(incidents)
    .fetch_all(pool)
    .await
    .context("reading acknowledgements")
}

/// The ids of the recalls issued for an incident, newest first.
pub async fn recalls_of(pool: &PgPool, incident: Uuid) -> anyhow::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM recalls WHERE incident_id = $1 ORDER BY created_at DESC, id")
        .bind(incident)
        .fetch_all(pool)
        .await
        .context("reading an incident's recalls")
}

/// Adds a `recall_issued` entry.
pub async fn recall_issued(
    pool: &PgPool,
    incident: Uuid,
    recall: Uuid,
    reason: &str,
    by: &str,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await.context("beginning a recall entry")?;
    let entry = Entry {
        what: "recall_issued",
        note: Some(reason),
        recall_id: Some(recall),
        ..Entry::default()
    };
    append(&mut tx, incident, by, &entry).await?;
    tx.commit().await.context("committing a recall entry")
}

/// The progress of every recall of an incident that is not closed: `(incident, recall,
/// [located, recovered, inspected, cleared])` (what the live topic watches).
pub async fn watched_progress(pool: &PgPool) -> anyhow::Result<Vec<(Uuid, Uuid, [i64; 4])>> {
    let rows: Vec<(Uuid, Uuid, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT x.incident_id, x.id, count(r.located_at), count(r.recovered_at), \
                count(r.inspected_at), count(r.cleared_at) \
         FROM recalls x JOIN incidents i ON i.id = x.incident_id AND i.status <> 'closed' \
         JOIN recall_cylinders r ON r.recall_id = x.id \
         GROUP BY x.incident_id, x.id",
    )
    .fetch_all(pool)
    .await
    .context("reading the progress of incidents' recalls")?;
    Ok(rows
        .into_iter()
        .map(|(i, r, a, b, c, d)| (i, r, [a, b, c, d]))
        .collect())
}

/// One implicated cylinder of a report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub code: CylinderCode,
    pub owner_enterprise_code: EnterpriseCode,
    pub medium: String,
    pub next_inspection_on: NaiveDate,
    pub manufactured_on: NaiveDate,
    pub design_life_years: i32,
    pub registered: bool,
    pub scrapped_at: Option<DateTime<Utc>>,
    pub custody: Option<Custody>,
    pub place_kind: Option<PlaceKind>,
    pub place_code: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// `incident` for the incident's own cylinder, else the recall's id.
    pub source: String,
    pub recalled_at: Option<DateTime<Utc>>,
    pub located_at: Option<DateTime<Utc>>,
    pub recovered_at: Option<DateTime<Utc>>,
    pub inspected_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
}

/// Most rows a report lists.
pub const REPORT_ROWS: i64 = 200_000;

/// The implicated cylinders `scope` sees: the incident's own cylinder, then those of its
/// recalls (a cylinder in several recalls once per recall), by code.
pub async fn report(
    pool: &PgPool,
    incident: Uuid,
    scope: &Scope,
) -> anyhow::Result<Vec<ReportRow>> {
    sqlx::query_as(
        "WITH implicated AS ( \
             SELECT i.cylinder_id, 'incident' AS source, 0 AS rank, NULL::timestamptz AS recalled_at, \
                    NULL::timestamptz AS located_at, NULL::timestamptz AS recovered_at, \
                    NULL::timestamptz AS inspected_at, NULL::timestamptz AS cleared_at \
             FROM incidents i WHERE i.id = $1 AND i.cylinder_id IS NOT NULL \
             UNION ALL \
             SELECT r.cylinder_id, x.id::text, 1, r.recalled_at, r.located_at, r.recovered_at, \
                    r.inspected_at, r.cleared_at \
             FROM recalls x JOIN recall_cylinders r ON r.recall_id = x.id WHERE x.incident_id = $1) \
         SELECT c.code, c.owner_enterprise_code, c.medium, \
                coalesce(s.next_inspection_on, c.next_inspection_on) AS next_inspection_on, \
                c.manufactured_on, c.design_life_years, c.registration_no IS NOT NULL AS registered, \
                s.scrapped_at, s.custody, s.place_kind, s.place_code, ST_X(s.location) AS lon, \
                ST_Y(s.location) AS lat, s.last_seen_at, m.source, m.recalled_at, m.located_at, \
                m.recovered_at, m.inspected_at, m.cleared_at \
         FROM implicated m JOIN cylinders c ON c.id = m.cylinder_id \
         JOIN enterprises e ON e.code = c.owner_enterprise_code \
         LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         WHERE ($2::text IS NULL OR e.code = $2) AND ($3::text IS NULL OR e.district_code = $3) \
         ORDER BY m.rank, c.code, m.source LIMIT $4",
    )
    .bind(incident)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(REPORT_ROWS)
    .fetch_all(pool)
    .await
    .context("listing an incident's implicated cylinders")
}
