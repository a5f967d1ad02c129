//! JT/T 808 terminals (devices of kind `jt808`, migration 0049): found by the terminal number
//! their headers carry; the authentication code handed out at registration kept hashed.

use anyhow::Context;
use shared::auth::RecordStatus;
use shared::ids::{DeviceId, EnterpriseCode};
use shared::VehiclePlate;
use sqlx::PgPool;

/// A terminal as the gateway needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Terminal {
    pub device_id: DeviceId,
    pub enterprise_code: EnterpriseCode,
    pub vehicle_plate: Option<VehiclePlate>,
    pub status: RecordStatus,
    /// The hash of the authentication code handed out at the last registration.
    pub auth_hash: Option<String>,
}

impl Terminal {
    /// Only an active terminal registers, authenticates and reports.
    pub fn active(&self) -> bool {
        self.status == RecordStatus::Active
    }
}

/// The terminal with that number, if one is registered (in any status).
pub async fn find(pool: &PgPool, terminal_no: &str) -> anyhow::Result<Option<Terminal>> {
    sqlx::query_as(
        "SELECT device_id, enterprise_code, vehicle_plate, status, jt808_auth_hash AS auth_hash \
         FROM devices WHERE terminal_no = $1",
    )
    .bind(terminal_no)
    .fetch_optional(pool)
    .await
    .with_context(|| format!("reading jt808 terminal {terminal_no}"))
}

/// Keeps the hash of a newly handed-out authentication code (the old one stops working).
pub async fn set_auth(pool: &PgPool, device_id: &str, auth_hash: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE devices SET jt808_auth_hash = $2, last_seen_at = now() \
         WHERE device_id = $1 AND status = 'active'",
    )
    .bind(device_id)
    .bind(auth_hash)
    .execute(pool)
    .await
    .with_context(|| format!("keeping jt808 terminal {device_id}'s authentication code"))?;
    Ok(())
}

/// Forgets the authentication code (the terminal deregistered: it registers again).
pub async fn clear_auth(pool: &PgPool, device_id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE devices SET jt808_auth_hash = NULL WHERE device_id = $1")
        .bind(device_id)
        .execute(pool)
        .await
        .with_context(|| format!("clearing jt808 terminal {device_id}'s authentication code"))?;
    Ok(())
}

/// Those of `device_ids` that are no longer active (suspended, closed, revoked).
pub async fn inactive(pool: &PgPool, device_ids: &[String]) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT device_id FROM devices WHERE device_id = ANY($1) AND status <> 'active'",
    )
    .bind(device_ids)
    .fetch_all(pool)
    .await
    .context("reading the status of connected jt808 terminals")
}
