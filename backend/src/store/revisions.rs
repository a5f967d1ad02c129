//! Revisions of registry records (migration 0031): one append-only row per new version of a
//! record, written in the same transaction as the change it describes.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use shared::revision::Revision;
use sqlx::PgConnection;

/// A change about to be kept.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    /// The collection: `enterprises`, `stations`, `staff`, `vehicles`, `customers`,
    /// `geofences`, `cylinders`, `devices`, `users`.
    pub kind: &'a str,
    /// The record's code (staff: `enterprise_code/staff_no`; geofences: the id).
    pub key: &'a str,
    /// The record's version after the change.
    pub version: i64,
    pub by: &'a str,
    pub reason: Option<&'a str>,
    /// `{field: [before, after]}` (`shared::revision::changes`).
    pub changes: &'a Map<String, Value>,
}

/// Keeps `revision` (inside the caller's transaction).
pub async fn record(conn: &mut PgConnection, revision: &NewRevision<'_>) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO revisions (record_kind, record_key, version, by_actor, reason, changes) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(revision.kind)
    .bind(revision.key)
    .bind(revision.version)
    .bind(revision.by)
    .bind(revision.reason)
    .bind(Value::Object(revision.changes.clone()))
    .execute(conn)
    .await
    .with_context(|| format!("keeping a revision of {} {}", revision.kind, revision.key))?;
    Ok(())
}

/// A revision as stored: version, when, by whom, why, changes.
type RevisionRow = (i64, DateTime<Utc>, String, Option<String>, Value);

/// The revisions of one record, oldest first (the caller has checked it may see the record).
pub async fn of(pool: &sqlx::PgPool, kind: &str, key: &str) -> anyhow::Result<Vec<Revision>> {
    let rows: Vec<RevisionRow> = sqlx::query_as(
        "SELECT version, at, by_actor, reason, changes FROM revisions \
         WHERE record_kind = $1 AND record_key = $2 ORDER BY version",
    )
    .bind(kind)
    .bind(key)
    .fetch_all(pool)
    .await
    .with_context(|| format!("reading the revisions of {kind} {key}"))?;
    rows.into_iter()
        .map(|(version, at, by, reason, changes)| match changes {
            Value::Object(changes) => Ok(Revision {
                version,
                at,
                by,
                reason,
                changes,
            }),
            other => Err(anyhow::anyhow!(
                "revision {version} of {kind} {key} holds {other} where an object belongs"
            )),
        })
        .collect()
}
