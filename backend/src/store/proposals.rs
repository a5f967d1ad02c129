//! Proposals (migration 0032): an enterprise's proposed change of what a regulator writes,
//! waiting for a regulator's decision.

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use shared::record::Proposal;
use sqlx::{PgConnection, PgPool};

const SELECT: &str = "SELECT p.id, p.record_kind, p.record_key, p.enterprise_code, p.changes, \
     p.document_ref, p.status, p.proposed_by, p.proposed_at, p.decided_by, p.decided_at, \
     p.decision_reason, p.applied_version FROM proposals p \
     JOIN enterprises x ON x.code = p.enterprise_code";

type Row = (
    i64,
    String,
    String,
    shared::ids::EnterpriseCode,
    Value,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<i64>,
);

fn proposal(row: Row) -> anyhow::Result<Proposal> {
    let (id, record_kind, record_key, enterprise_code, changes, document_ref, status) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
    let Value::Object(changes) = changes else {
        anyhow::bail!("proposal {id} holds changes that are not an object");
    };
    Ok(Proposal {
        id,
        record_kind,
        record_key,
        enterprise_code,
        changes,
        document_ref,
        status,
        proposed_by: row.7,
        proposed_at: row.8,
        decided_by: row.9,
        decided_at: row.10,
        decision_reason: row.11,
        applied_version: row.12,
    })
}

/// A new proposal (the caller has checked the record and the fields).
#[derive(Debug, Clone)]
pub struct NewProposalRow<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub enterprise: &'a shared::ids::EnterpriseCode,
    pub changes: &'a Map<String, Value>,
    pub document_ref: &'a str,
    pub by: &'a str,
}

/// Keeps a proposal; returns it.
pub async fn insert(pool: &PgPool, new: &NewProposalRow<'_>) -> anyhow::Result<Proposal> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO proposals (record_kind, record_key, enterprise_code, changes, document_ref, \
         proposed_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(new.kind)
    .bind(new.key)
    .bind(new.enterprise)
    .bind(Value::Object(new.changes.clone()))
    .bind(new.document_ref)
    .bind(new.by)
    .fetch_one(pool)
    .await
    .context("keeping a proposal")?;
    get(pool, id, &Scope::system())
        .await?
        .ok_or_else(|| anyhow::anyhow!("proposal {id} vanished"))
}

/// A proposal within `scope`, or `None`.
pub async fn get(pool: &PgPool, id: i64, scope: &Scope) -> anyhow::Result<Option<Proposal>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE p.id = $1 AND ($2::text IS NULL OR x.code = $2) \
         AND ($3::text IS NULL OR x.district_code = $3)"
    ))
    .bind(id)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_optional(pool)
    .await
    .context("reading a proposal")?;
    row.map(proposal).transpose()
}

/// The proposals within `scope` (of one status, if named), newest first, at most 500.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    status: Option<&str>,
) -> anyhow::Result<Vec<Proposal>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE ($1::text IS NULL OR x.code = $1) \
         AND ($2::text IS NULL OR x.district_code = $2) AND ($3::text IS NULL OR p.status = $3) \
         ORDER BY p.id DESC LIMIT 500"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(status)
    .fetch_all(pool)
    .await
    .context("listing proposals")?;
    rows.into_iter().map(proposal).collect()
}

/// Marks a pending proposal approved (inside the edit's transaction): `false` when it was
/// decided already.
pub async fn mark_approved(
    conn: &mut PgConnection,
    id: i64,
    by: &str,
    reason: Option<&str>,
    version: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE proposals SET status = 'approved', decided_by = $2, decided_at = now(), \
         decision_reason = $3, applied_version = $4 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .bind(version)
    .execute(conn)
    .await
    .context("approving a proposal")?;
    Ok(done.rows_affected() == 1)
}

/// Rejects a pending proposal: `false` when it was decided already.
pub async fn reject(pool: &PgPool, id: i64, by: &str, reason: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE proposals SET status = 'rejected', decided_by = $2, decided_at = now(), \
         decision_reason = $3 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .execute(pool)
    .await
    .context("rejecting a proposal")?;
    Ok(done.rows_affected() == 1)
}
