//! Status instead of delete (issue 21 item 2): suspending, reinstating and closing
//! enterprises, stations, staff, vehicles and devices. Each change bumps the record's version
//! and keeps a revision with its reason in the same transaction; nothing is deleted.

use super::revisions::{self, NewRevision};
use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use shared::auth::RecordStatus;
use shared::ids::EnterpriseCode;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;

/// The collections that have a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Enterprises,
    Stations,
    Staff,
    Vehicles,
    Devices,
}

impl Collection {
    /// The table, which is also the revisions' `record_kind`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Enterprises => "enterprises",
            Self::Stations => "stations",
            Self::Staff => "staff",
            Self::Vehicles => "vehicles",
            Self::Devices => "devices",
        }
    }

    /// What one record is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Enterprises => "enterprise",
            Self::Stations => "station",
            Self::Staff => "staff member",
            Self::Vehicles => "vehicle",
            Self::Devices => "device",
        }
    }

    fn key_column(self) -> &'static str {
        match self {
            Self::Enterprises | Self::Stations => "code",
            Self::Staff => "staff_no",
            Self::Vehicles => "plate",
            Self::Devices => "device_id",
        }
    }

    fn enterprise_column(self) -> &'static str {
        match self {
            Self::Enterprises => "code",
            _ => "enterprise_code",
        }
    }
}

/// A record's status as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusRow {
    pub key: String,
    pub enterprise_code: EnterpriseCode,
    pub status: RecordStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<DateTime<Utc>>,
    pub suspended_by_regulator: bool,
    /// Suspended by the administrator or the city regulator: a district regulator does not
    /// lift it.
    pub suspended_by_city: bool,
    pub version: i64,
}

impl StatusRow {
    /// The revisions' key: staff numbers are unique per enterprise only.
    fn revision_key(&self, collection: Collection) -> String {
        match collection {
            Collection::Staff => format!("{}/{}", self.enterprise_code, self.key),
            _ => self.key.clone(),
        }
    }

    fn fields(&self) -> serde_json::Value {
        json!({"status": self.status.name(), "status_reason": self.status_reason,
               "suspended_by_regulator": self.suspended_by_regulator,
               "suspended_by_city": self.suspended_by_city})
    }
}

fn columns(collection: Collection) -> String {
    format!(
        "t.{} AS key, t.{} AS enterprise_code, t.status, t.status_reason, t.status_changed_at, \
         t.suspended_by_regulator, t.suspended_by_city, t.version",
        collection.key_column(),
        collection.enterprise_column()
    )
}

/// The records of `collection` keyed `key` inside `scope` (and of `enterprise`, when named),
/// at most two: only staff numbers may name records of several enterprises.
pub async fn find(
    pool: &PgPool,
    collection: Collection,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
    scope: &Scope,
) -> anyhow::Result<Vec<StatusRow>> {
    let ent = collection.enterprise_column();
    sqlx::query_as(&format!(
        "SELECT {} FROM {} t JOIN enterprises x ON x.code = t.{ent} \
         WHERE t.{} = $1 AND ($2::text IS NULL OR t.{ent} = $2) \
           AND ($3::text IS NULL OR t.{ent} = $3) AND ($4::text IS NULL OR x.district_code = $4) \
         ORDER BY t.{ent} LIMIT 2",
        columns(collection),
        collection.name(),
        collection.key_column(),
    ))
    .bind(key)
    .bind(enterprise)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .with_context(|| format!("reading the status of {} {key}", collection.name()))
}

/// A status change about to be made.
#[derive(Debug, Clone)]
pub struct NewStatus<'a> {
    pub to: RecordStatus,
    pub reason: &'a str,
    /// Who (a user name).
    pub by: &'a str,
    /// Whether a regulator makes it (a suspension then needs a regulator to be lifted).
    pub by_regulator: bool,
    /// Whether the administrator or the city regulator makes it (a suspension then needs one
    /// of them to be lifted).
    pub by_city: bool,
}

/// Changes `row`'s status if it is still at the version read: the new row, or `None` when it
/// changed meanwhile. The version is bumped and a revision with the reason kept in the same
/// transaction; a closed device's key is revoked.
pub async fn set(
    pool: &PgPool,
    collection: Collection,
    row: &StatusRow,
    change: &NewStatus<'_>,
) -> anyhow::Result<Option<StatusRow>> {
    let by_regulator = match change.to {
        RecordStatus::Suspended => change.by_regulator,
        RecordStatus::Active => false,
        RecordStatus::Closed => row.suspended_by_regulator,
    };
    let by_city = match change.to {
        RecordStatus::Suspended => change.by_city,
        RecordStatus::Active => false,
        RecordStatus::Closed => row.suspended_by_city,
    };
    let revoke = if collection == Collection::Devices {
        ", revoked_at = CASE WHEN $3 = 'closed' THEN coalesce(revoked_at, now()) ELSE revoked_at END"
    } else {
        ""
    };
    let mut tx = pool.begin().await.context("opening a status change")?;
    let done: Option<StatusRow> = sqlx::query_as(&format!(
        "UPDATE {table} t SET status = $3, status_reason = $4, \
         status_changed_at = CASE WHEN t.status = $3 THEN t.status_changed_at ELSE now() END, \
         suspended_by_regulator = $5, suspended_by_city = $7, version = t.version + 1{revoke} \
         WHERE t.{key} = $1 AND t.{ent} = $2 AND t.version = $6 RETURNING {columns}",
        table = collection.name(),
        key = collection.key_column(),
        ent = collection.enterprise_column(),
        columns = columns(collection),
    ))
    .bind(&row.key)
    .bind(row.enterprise_code.as_str())
    .bind(change.to)
    .bind(change.reason)
    .bind(by_regulator)
    .bind(row.version)
    .bind(by_city)
    .fetch_optional(&mut *tx)
    .await
    .with_context(|| format!("changing the status of {} {}", collection.name(), row.key))?;
    let Some(done) = done else {
        return Ok(None);
    };
    let changes = shared::revision::changes(&row.fields(), &done.fields());
    revisions::record(
        &mut tx,
        &NewRevision {
            kind: collection.name(),
            key: &done.revision_key(collection),
            version: done.version,
            by: change.by,
            reason: Some(change.reason),
            changes: &changes,
        },
    )
    .await?;
    tx.commit().await.context("committing a status change")?;
    Ok(Some(done))
}

/// The status of the enterprise `code`, if it exists.
pub async fn enterprise_status(pool: &PgPool, code: &str) -> anyhow::Result<Option<RecordStatus>> {
    sqlx::query_scalar("SELECT status FROM enterprises WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await
        .context("reading an enterprise's status")
}

/// The status of the station `code` of `enterprise`, if it exists.
pub async fn station_status(
    pool: &PgPool,
    code: &str,
    enterprise: &str,
) -> anyhow::Result<Option<RecordStatus>> {
    sqlx::query_scalar("SELECT status FROM stations WHERE code = $1 AND enterprise_code = $2")
        .bind(code)
        .bind(enterprise)
        .fetch_optional(pool)
        .await
        .context("reading a station's status")
}

/// Of these plates, the suspended or closed vehicles and when each was suspended or closed (inside the pipeline's
/// transaction).
pub async fn suspended_vehicles(
    tx: &mut PgConnection,
    plates: &[&str],
) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
    let rows: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT plate, status_changed_at FROM vehicles \
         WHERE plate = ANY($1) AND status IN ('suspended', 'closed')",
    )
    .bind(plates)
    .fetch_all(&mut *tx)
    .await
    .context("reading suspended or closed vehicles")?;
    Ok(rows
        .into_iter()
        .map(|(plate, at)| (plate, at.unwrap_or_default()))
        .collect())
}
