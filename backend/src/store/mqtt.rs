//! MQTT (migration 0060): the broker commands waiting to be applied, the leases of the
//! platform's MQTT sessions, and the devices as the broker's side needs them.

use crate::access::Device;
use anyhow::Context;
use shared::auth::RecordStatus;
use sqlx::PgPool;
use std::time::Duration;

/// What the broker is told about one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create the device's broker client (or set its password): carries the key.
    Put,
    /// Refuse its connections and cut the one it has (suspended).
    Disable,
    /// Accept its connections again (reinstated).
    Enable,
    /// Remove it from the broker and cut its connection (closed, revoked).
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Put => "put",
            Action::Disable => "disable",
            Action::Enable => "enable",
            Action::Delete => "delete",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "put" => Action::Put,
            "disable" => Action::Disable,
            "enable" => Action::Enable,
            "delete" => Action::Delete,
            _ => return None,
        })
    }

    /// What the registry's status asks of the broker.
    pub fn for_status(status: RecordStatus) -> Self {
        match status {
            RecordStatus::Active => Action::Enable,
            RecordStatus::Suspended => Action::Disable,
            RecordStatus::Closed => Action::Delete,
        }
    }
}

/// A command waiting for the broker.
#[derive(Debug, Clone)]
pub struct Command {
    pub id: i64,
    pub device_id: String,
    pub action: Action,
    /// The device key, for `Put` only.
    pub secret: Option<String>,
}

/// Queues a command (applied in order after the ones already queued).
pub async fn enqueue(
    pool: &PgPool,
    device_id: &str,
    action: Action,
    secret: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO mqtt_commands (device_id, action, secret) VALUES ($1, $2, $3)")
        .bind(device_id)
        .bind(action.name())
        .bind(secret)
        .execute(pool)
        .await
        .with_context(|| format!("queueing the broker command {} {device_id}", action.name()))?;
    Ok(())
}

/// The oldest waiting commands.
pub async fn pending(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<Command>> {
    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, device_id, action, secret FROM mqtt_commands ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading the broker commands")?;
    // A command that does not decode is an error, never skipped (it would wait for ever).
    rows.into_iter()
        .map(|(id, device_id, action, secret)| {
            Ok(Command {
                id,
                action: Action::parse(&action).with_context(|| {
                    format!("broker command {id} for {device_id}: unknown action {action:?}")
                })?,
                device_id,
                secret,
            })
        })
        .collect()
}

/// Forgets commands the broker applied (their keys with them).
pub async fn applied(pool: &PgPool, ids: &[i64]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM mqtt_commands WHERE id = ANY($1)")
        .bind(ids)
        .execute(pool)
        .await
        .context("forgetting applied broker commands")?;
    Ok(())
}

/// Notes a failed attempt (the command stays queued).
pub async fn attempt_failed(pool: &PgPool, ids: &[i64], error: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE mqtt_commands SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)",
    )
    .bind(ids)
    .bind(error)
    .execute(pool)
    .await
    .context("noting a failed broker command")?;
    Ok(())
}

/// Commands waiting (for health and tests).
pub async fn waiting(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM mqtt_commands")
        .fetch_one(pool)
        .await
        .context("counting the broker commands")
}

/// The registry status of each of `device_ids` that exists.
pub async fn statuses(
    pool: &PgPool,
    device_ids: &[String],
) -> anyhow::Result<Vec<(String, RecordStatus)>> {
    sqlx::query_as("SELECT device_id, status FROM devices WHERE device_id = ANY($1)")
        .bind(device_ids)
        .fetch_all(pool)
        .await
        .context("reading the devices the broker knows")
}

/// The device with that id, if it is active (not suspended, closed nor revoked).
pub async fn active_device(pool: &PgPool, device_id: &str) -> anyhow::Result<Option<Device>> {
    sqlx::query_as(
        "SELECT device_id, kind, enterprise_code, vehicle_plate, station_code FROM devices \
         WHERE device_id = $1 AND revoked_at IS NULL AND status = 'active'",
    )
    .bind(device_id)
    .fetch_optional(pool)
    .await
    .with_context(|| format!("reading device {device_id}"))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Holds this instance's own session (its stable client id) for `lease`, whoever held it
/// before (a previous run of this instance, killed).
pub async fn hold_own(
    pool: &PgPool,
    client_id: &str,
    holder: &str,
    lease: Duration,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mqtt_sessions (client_id, holder, expires_at) \
         VALUES ($1, $2, now() + $3 * interval '1 millisecond') \
         ON CONFLICT (client_id) DO UPDATE SET holder = $2, expires_at = excluded.expires_at",
    )
    .bind(client_id)
    .bind(holder)
    .bind(millis(lease))
    .execute(pool)
    .await
    .with_context(|| format!("holding the MQTT session {client_id}"))?;
    Ok(())
}

/// Renews every session `holder` holds; the ones it still holds.
pub async fn renew(pool: &PgPool, holder: &str, lease: Duration) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "UPDATE mqtt_sessions SET expires_at = now() + $2 * interval '1 millisecond' \
         WHERE holder = $1 RETURNING client_id",
    )
    .bind(holder)
    .bind(millis(lease))
    .fetch_all(pool)
    .await
    .context("renewing the MQTT session leases")
}

/// Takes over the sessions whose lease lapsed (their instance died): they are `holder`'s now.
pub async fn take_lapsed(
    pool: &PgPool,
    holder: &str,
    lease: Duration,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "UPDATE mqtt_sessions SET holder = $1, expires_at = now() + $2 * interval '1 millisecond' \
         WHERE client_id IN (SELECT client_id FROM mqtt_sessions WHERE expires_at < now() \
                             FOR UPDATE SKIP LOCKED) \
         RETURNING client_id",
    )
    .bind(holder)
    .bind(millis(lease))
    .fetch_all(pool)
    .await
    .context("taking over lapsed MQTT sessions")
}

/// Whether `holder` still holds the session.
pub async fn holds(pool: &PgPool, client_id: &str, holder: &str) -> anyhow::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM mqtt_sessions WHERE client_id = $1 AND holder = $2)",
    )
    .bind(client_id)
    .bind(holder)
    .fetch_one(pool)
    .await
    .context("reading an MQTT session lease")
}

/// Forgets a drained session, if `holder` still holds it.
pub async fn release(pool: &PgPool, client_id: &str, holder: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM mqtt_sessions WHERE client_id = $1 AND holder = $2")
        .bind(client_id)
        .bind(holder)
        .execute(pool)
        .await
        .with_context(|| format!("releasing the MQTT session {client_id}"))?;
    Ok(done.rows_affected() == 1)
}

/// Gives a device a new key (its hash): the old one stops working. `None` when the device is
/// closed (revoked) meanwhile; else its status.
pub async fn rotate_key(
    pool: &PgPool,
    device_id: &str,
    key_hash: &str,
) -> anyhow::Result<Option<RecordStatus>> {
    sqlx::query_scalar(
        "UPDATE devices SET key_hash = $2, version = version + 1 \
         WHERE device_id = $1 AND status <> 'closed' AND revoked_at IS NULL RETURNING status",
    )
    .bind(device_id)
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .with_context(|| format!("rotating device {device_id}'s key"))
}
