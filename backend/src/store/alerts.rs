//! Alerts: raised (or updated while unresolved), listed within a scope, acknowledged,
//! resolved, escalated.

use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::alert::{AlertKind, AlertStatus, Severity};
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::place::SubjectKind;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// One sighting of an alert's condition.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub subject_type: SubjectKind,
    pub subject_id: String,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    /// (lon, lat)
    pub place: Option<(f64, f64)>,
    pub place_name: Option<String>,
    pub seen_at: DateTime<Utc>,
    pub evidence: serde_json::Value,
    /// What was seen, unique for ever (`decision:<id>`, `filling:<id>:overfill`, ...): the
    /// same sighting raised twice counts once.
    pub sighting: String,
}

/// An alert as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AlertRow {
    pub id: Uuid,
    pub kind: AlertKind,
    pub severity: Severity,
    pub status: AlertStatus,
    pub subject_type: SubjectKind,
    pub subject_id: String,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub place_name: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub count: i64,
    pub evidence: serde_json::Value,
    pub condition_ended_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub ack_by: Option<String>,
    pub ack_at: Option<DateTime<Utc>>,
    pub ack_note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
}

const COLUMNS: &str = "id, kind, severity, status, subject_type, subject_id, enterprise_code, \
    district_code, ST_X(place) AS lon, ST_Y(place) AS lat, place_name, opened_at, last_seen_at, \
    count, evidence, condition_ended_at, escalated_at, ack_by, ack_at, ack_note, resolved_by, \
    resolved_at, resolution_note";

/// Raises an alert, or counts one more sighting on the unresolved alert of the same kind and
/// subject (the newest sighting's evidence, severity never lowered, a condition that had ended is on again).
/// `None` when this sighting was counted before.
pub async fn raise<'e, E: PgExecutor<'e>>(
    executor: E,
    alert: &NewAlert,
) -> anyhow::Result<Option<AlertRow>> {
    let sql = format!(
        r#"
        WITH fresh AS (
            INSERT INTO alert_sightings (sighting) VALUES ($13)
            ON CONFLICT DO NOTHING RETURNING sighting
        ), up AS (
            INSERT INTO alerts AS a (id, kind, severity, subject_type, subject_id, enterprise_code,
                district_code, place, place_name, opened_at, last_seen_at, evidence)
            SELECT $1, $2, $3, $4, $5, $6, $7,
                CASE WHEN $8::float8 IS NULL OR $9::float8 IS NULL THEN NULL
                     ELSE ST_SetSRID(ST_MakePoint($8, $9), 4326) END,
                $10, $11, $11, $12
            FROM fresh
            ON CONFLICT (kind, subject_type, subject_id) WHERE status <> 'resolved' DO UPDATE SET
                count = a.count + 1,
                last_seen_at = greatest(a.last_seen_at, EXCLUDED.last_seen_at),
                evidence = CASE WHEN EXCLUDED.last_seen_at >= a.last_seen_at
                                THEN EXCLUDED.evidence ELSE a.evidence END,
                severity = CASE
                    WHEN array_position(ARRAY['low','medium','high','critical'], EXCLUDED.severity)
                       > array_position(ARRAY['low','medium','high','critical'], a.severity)
                    THEN EXCLUDED.severity ELSE a.severity END,
                place = coalesce(EXCLUDED.place, a.place),
                place_name = coalesce(EXCLUDED.place_name, a.place_name),
                enterprise_code = coalesce(a.enterprise_code, EXCLUDED.enterprise_code),
                district_code = coalesce(a.district_code, EXCLUDED.district_code),
                condition_ended_at = NULL
            RETURNING *
        )
        SELECT {COLUMNS} FROM up
        "#
    );
    sqlx::query_as(&sql)
        .bind(Uuid::new_v4())
        .bind(alert.kind)
        .bind(alert.severity)
        .bind(alert.subject_type)
        .bind(&alert.subject_id)
        .bind(&alert.enterprise_code)
        .bind(&alert.district_code)
        .bind(alert.place.map(|p| p.0))
        .bind(alert.place.map(|p| p.1))
        .bind(&alert.place_name)
        .bind(alert.seen_at)
        .bind(&alert.evidence)
        .bind(&alert.sighting)
        .fetch_optional(executor)
        .await
        .with_context(|| format!("raising a {} alert", alert.kind.name()))
}

/// Marks the unresolved alert of this kind and subject as no longer holding (it stays for a
/// duty officer to resolve). Returns it when it changed.
pub async fn condition_ended<'e, E: PgExecutor<'e>>(
    executor: E,
    kind: AlertKind,
    subject_type: SubjectKind,
    subject_id: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<AlertRow>> {
    let sql = format!(
        "UPDATE alerts SET condition_ended_at = $4 \
         WHERE kind = $1 AND subject_type = $2 AND subject_id = $3 AND status <> 'resolved' \
           AND condition_ended_at IS NULL \
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(kind)
        .bind(subject_type)
        .bind(subject_id)
        .bind(at)
        .fetch_optional(executor)
        .await
        .context("ending an alert's condition")
}

/// Filters of a listing; all optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    pub severity: Option<Severity>,
    pub subject_type: Option<SubjectKind>,
    pub subject_id: Option<String>,
    /// Only open and acknowledged alerts.
    pub unresolved: bool,
    /// Opened at or after.
    pub opened_from: Option<DateTime<Utc>>,
    /// Opened before.
    pub opened_to: Option<DateTime<Utc>>,
    /// Acknowledged at some point (true) or never (false).
    pub acknowledged: Option<bool>,
    /// Resolved (true) or not (false).
    pub resolved: Option<bool>,
}

/// Alerts within `scope`, newest activity first, after the cursor `(last_seen_at, id)`.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    filter: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<AlertRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts \
         WHERE ($1::text IS NULL OR enterprise_code = $1) \
           AND ($2::text IS NULL OR district_code = $2) \
           AND ($3::text IS NULL OR status = $3) \
           AND ($4::text IS NULL OR kind = $4) \
           AND ($5::text IS NULL OR severity = $5) \
           AND ($6::text IS NULL OR subject_type = $6) \
           AND ($7::text IS NULL OR subject_id = $7) \
           AND ($8::timestamptz IS NULL OR (last_seen_at, id) < ($8, $9)) \
           AND (NOT $11 OR status <> 'resolved') \
           AND ($12::timestamptz IS NULL OR opened_at >= $12) \
           AND ($13::timestamptz IS NULL OR opened_at < $13) \
           AND ($14::boolean IS NULL OR (ack_at IS NOT NULL) = $14) \
           AND ($15::boolean IS NULL OR (resolved_at IS NOT NULL) = $15) \
         ORDER BY last_seen_at DESC, id DESC LIMIT $10"
    );
    sqlx::query_as(&sql)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(filter.status.map(AlertStatus::name))
        .bind(filter.kind.map(AlertKind::name))
        .bind(filter.severity.map(Severity::name))
        .bind(filter.subject_type)
        .bind(&filter.subject_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .bind(filter.unresolved)
        .bind(filter.opened_from)
        .bind(filter.opened_to)
        .bind(filter.acknowledged)
        .bind(filter.resolved)
        .fetch_all(pool)
        .await
        .context("listing alerts")
}

/// One alert within `scope`.
pub async fn get(pool: &PgPool, scope: &Scope, id: Uuid) -> anyhow::Result<Option<AlertRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts WHERE id = $1 \
           AND ($2::text IS NULL OR enterprise_code = $2) \
           AND ($3::text IS NULL OR district_code = $3)"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(scope.enterprise())
        .bind(scope.district())
        .fetch_optional(pool)
        .await
        .context("reading an alert")
}

/// Acknowledges an open alert. `None` when it is not open (any more).
pub async fn acknowledge(
    pool: &PgPool,
    id: Uuid,
    by: &str,
    note: &str,
) -> anyhow::Result<Option<AlertRow>> {
    let sql = format!(
        "UPDATE alerts SET status = 'acknowledged', ack_by = $2, ack_at = now(), ack_note = $3 \
         WHERE id = $1 AND status = 'open' RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(by)
        .bind(note)
        .fetch_optional(pool)
        .await
        .context("acknowledging an alert")
}

/// Resolves an unresolved alert (an open one is acknowledged by the same hand at the same
/// time). `None` when it is resolved already.
pub async fn resolve(
    pool: &PgPool,
    id: Uuid,
    by: &str,
    note: &str,
) -> anyhow::Result<Option<AlertRow>> {
    let sql = format!(
        "UPDATE alerts SET status = 'resolved', resolved_by = $2, resolved_at = now(), \
             resolution_note = $3, ack_by = coalesce(ack_by, $2), ack_at = coalesce(ack_at, now()), \
             ack_note = coalesce(ack_note, $3) \
         WHERE id = $1 AND status <> 'resolved' RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(by)
        .bind(note)
        .fetch_optional(pool)
        .await
        .context("resolving an alert")
}

/// Critical alerts still open `after` their opening, not escalated yet: marks them escalated
/// now and returns them (to be pushed again).
pub async fn escalate(pool: &PgPool, after: chrono::Duration) -> anyhow::Result<Vec<AlertRow>> {
    let sql = format!(
        "UPDATE alerts SET escalated_at = now() \
         WHERE status = 'open' AND severity = 'critical' AND escalated_at IS NULL \
           AND opened_at <= now() - $1::interval \
         RETURNING {COLUMNS}"
    );
    let interval = format!("{} milliseconds", after.num_milliseconds());
    sqlx::query_as(&sql)
        .bind(interval)
        .fetch_all(pool)
        .await
        .context("escalating unacknowledged critical alerts")
}
