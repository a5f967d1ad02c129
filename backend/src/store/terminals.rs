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

/// One multi-packet message of a terminal (migration 0074): its device, message id, total and
/// the serial of its first packet.
#[derive(Debug, Clone)]
pub struct PacketKey {
    pub device_id: DeviceId,
    pub msg_id: u16,
    pub first_serial: u16,
    pub total: u16,
}

/// Unfinished multi-packet messages a terminal may hold (the least recently added to go first).
const PARTIAL_MESSAGES: i64 = 8;

/// Keeps one packet of a multi-packet message, committed before it is answered (a packet seen
/// twice replaces the first). When every packet of the message is kept, the message's body,
/// put together in packet order (the rows stay until [`forget_packets`]). Packets older than an
/// hour are dropped first, so a serial number used again after it wraps starts afresh.
pub async fn keep_packet(
    pool: &PgPool,
    key: &PacketKey,
    seq: u16,
    body: &[u8],
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut tx = pool
        .begin()
        .await
        .context("opening a jt808 packet transaction")?;
    sqlx::query(
        "DELETE FROM jt808_packets WHERE device_id = $1 AND received_at < now() - interval '1 hour'",
    )
    .bind(&key.device_id)
    .execute(&mut *tx)
    .await
    .context("dropping old jt808 packets")?;
    sqlx::query(
        "INSERT INTO jt808_packets (device_id, msg_id, first_serial, total, seq, body) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (device_id, msg_id, first_serial, total, seq) \
         DO UPDATE SET body = EXCLUDED.body, received_at = now()",
    )
    .bind(&key.device_id)
    .bind(i32::from(key.msg_id))
    .bind(i32::from(key.first_serial))
    .bind(i32::from(key.total))
    .bind(i32::from(seq))
    .bind(body)
    .execute(&mut *tx)
    .await
    .context("keeping a jt808 packet")?;
    sqlx::query(
        "DELETE FROM jt808_packets p USING ( \
             SELECT msg_id, first_serial, total FROM jt808_packets WHERE device_id = $1 \
             GROUP BY msg_id, first_serial, total \
             ORDER BY max(received_at) DESC OFFSET $2) old \
         WHERE p.device_id = $1 AND p.msg_id = old.msg_id \
           AND p.first_serial = old.first_serial AND p.total = old.total",
    )
    .bind(&key.device_id)
    .bind(PARTIAL_MESSAGES)
    .execute(&mut *tx)
    .await
    .context("bounding a terminal's unfinished jt808 messages")?;
    let parts: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT body FROM jt808_packets \
         WHERE device_id = $1 AND msg_id = $2 AND first_serial = $3 AND total = $4 ORDER BY seq",
    )
    .bind(&key.device_id)
    .bind(i32::from(key.msg_id))
    .bind(i32::from(key.first_serial))
    .bind(i32::from(key.total))
    .fetch_all(&mut *tx)
    .await
    .context("reading a jt808 message's packets")?;
    tx.commit().await.context("committing a jt808 packet")?;
    Ok((parts.len() == usize::from(key.total)).then(|| parts.concat()))
}

/// Forgets a message's packets once it has been handled.
pub async fn forget_packets(pool: &PgPool, key: &PacketKey) -> anyhow::Result<()> {
    sqlx::query(
        "DELETE FROM jt808_packets \
         WHERE device_id = $1 AND msg_id = $2 AND first_serial = $3 AND total = $4",
    )
    .bind(&key.device_id)
    .bind(i32::from(key.msg_id))
    .bind(i32::from(key.first_serial))
    .bind(i32::from(key.total))
    .execute(pool)
    .await
    .context("forgetting a jt808 message's packets")?;
    Ok(())
}
