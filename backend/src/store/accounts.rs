//! Managing accounts: a user's status (suspend / reinstate / close), its sessions, its own
//! password. Ending a session is setting `revoked_at`: nothing is deleted.

use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::auth::{RecordStatus, Role, SessionInfo};
use shared::ids::{DistrictCode, EnterpriseCode};
use sqlx::PgPool;

/// A user as an account manager sees it (never its password hash).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub status: RecordStatus,
    pub status_reason: Option<String>,
    pub status_changed_at: Option<DateTime<Utc>>,
}

const ACCOUNT_COLUMNS: &str = "id, username, role, enterprise_code, district_code, status, \
                               status_reason, status_changed_at";

/// A user's account by name.
pub async fn account(pool: &PgPool, username: &str) -> anyhow::Result<Option<AccountRow>> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await
    .context("reading an account")
}

/// Moves a user from one of `from` to `to` with `reason`; when `to` is not `active`, ends all
/// its sessions in the same transaction. `None` when the user was in none of `from` (changed
/// meanwhile).
pub async fn set_status(
    pool: &PgPool,
    user_id: i64,
    from: &[RecordStatus],
    to: RecordStatus,
    reason: &str,
) -> anyhow::Result<Option<AccountRow>> {
    let mut tx = pool.begin().await.context("opening a status change")?;
    let row: Option<AccountRow> = sqlx::query_as(&format!(
        "UPDATE users SET status = $3, status_reason = $4, status_changed_at = now(), \
         updated_at = now() WHERE id = $1 AND status = ANY($2) RETURNING {ACCOUNT_COLUMNS}"
    ))
    .bind(user_id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .fetch_optional(&mut *tx)
    .await
    .context("changing an account's status")?;
    if row.is_some() && to != RecordStatus::Active {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .context("ending an account's sessions")?;
    }
    tx.commit().await.context("committing a status change")?;
    Ok(row)
}

/// A user's live sessions (not revoked, not expired, used within `idle`), newest first, with
/// ids below `before_id`.
pub async fn sessions(
    pool: &PgPool,
    user_id: i64,
    idle: chrono::Duration,
    before_id: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<SessionInfo>> {
    let rows: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, created_at, last_seen_at, expires_at, source_addr FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() \
           AND last_seen_at > now() - $2 AND ($3::int8 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(idle)
    .bind(before_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing a user's sessions")?;
    Ok(rows
        .into_iter()
        .map(|r| SessionInfo {
            id: r.id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            source_addr: r.source_addr,
        })
        .collect())
}

/// A session as `sessions` reads it.
#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    source_addr: Option<String>,
}

/// Ends one session of a user; false when it has no such live session.
pub async fn revoke_session(pool: &PgPool, user_id: i64, id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE id = $2 AND user_id = $1 \
         AND revoked_at IS NULL AND expires_at > now()",
    )
    .bind(user_id)
    .bind(id)
    .execute(pool)
    .await
    .context("ending a session")?;
    Ok(done.rows_affected() == 1)
}

/// Ends every live session of a user but the one of `keep` (a token hash); how many ended.
pub async fn revoke_sessions(
    pool: &PgPool,
    user_id: i64,
    keep: Option<&str>,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL \
         AND expires_at > now() AND ($2::text IS NULL OR token_hash <> $2)",
    )
    .bind(user_id)
    .bind(keep)
    .execute(pool)
    .await
    .context("ending a user's sessions")?;
    Ok(done.rows_affected())
}

/// Replaces a user's password (whose hash was `old_hash` when it was checked) and ends its
/// other sessions, in one transaction; false when the password changed meanwhile.
pub async fn change_password(
    pool: &PgPool,
    user_id: i64,
    old_hash: &str,
    new_hash: &str,
    keep: &str,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("opening a password change")?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $3, failed_logins = 0, locked_until = NULL, \
         updated_at = now() WHERE id = $1 AND password_hash = $2",
    )
    .bind(user_id)
    .bind(old_hash)
    .bind(new_hash)
    .execute(&mut *tx)
    .await
    .context("changing a password")?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL \
         AND token_hash <> $2",
    )
    .bind(user_id)
    .bind(keep)
    .execute(&mut *tx)
    .await
    .context("ending the other sessions")?;
    tx.commit().await.context("committing a password change")?;
    Ok(true)
}
