//! Users, sessions, device keys and the audit log.

use super::WriteError;
use crate::access::{digest, Device, Scope, User};
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::auth::{RecordStatus, Role};
use shared::ids::{DistrictCode, EnterpriseCode};
use sqlx::PgPool;

/// A user as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Only an `active` user signs in and keeps its sessions.
    pub status: RecordStatus,
}

/// A user by name.
pub async fn user_by_name(pool: &PgPool, username: &str) -> anyhow::Result<Option<UserRow>> {
    sqlx::query_as(
        "SELECT id, username, password_hash, role, enterprise_code, district_code, \
         failed_logins, locked_until, status FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await
    .context("reading a user")
}

/// Creates a user.
pub async fn insert_user(
    pool: &PgPool,
    username: &str,
    password_hash: &str,
    role: &str,
    enterprise_code: Option<&EnterpriseCode>,
    district_code: Option<&DistrictCode>,
) -> Result<i64, WriteError> {
    let id = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, enterprise_code, district_code) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role)
    .bind(enterprise_code)
    .bind(district_code)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Replaces a user's password hash (the administrator from the environment).
pub async fn set_password(pool: &PgPool, user_id: i64, password_hash: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL, \
         updated_at = now() WHERE id = $1",
    )
    .bind(user_id)
    .bind(password_hash)
    .execute(pool)
    .await
    .context("setting a password")?;
    Ok(())
}

/// Counts a sign-in attempt of `username` from `source_addr` before its password is checked
/// (one statement, so parallel attempts are counted one by one): the attempts of the pair in
/// its window (the first one starts a window of `window`), and when the window ends.
pub async fn login_attempt(
    pool: &PgPool,
    username: &str,
    source_addr: &str,
    window: chrono::Duration,
) -> anyhow::Result<(i32, DateTime<Utc>)> {
    let (attempts, started): (i32, DateTime<Utc>) = sqlx::query_as(
        r#"
        INSERT INTO login_throttle AS t (username, source_addr, attempts) VALUES ($1, $2, 1)
        ON CONFLICT (username, source_addr) DO UPDATE SET
            attempts = CASE WHEN t.window_started <= now() - $3 THEN 1 ELSE t.attempts + 1 END,
            window_started = CASE WHEN t.window_started <= now() - $3 THEN now()
                                  ELSE t.window_started END
        RETURNING attempts, window_started
        "#,
    )
    .bind(username)
    .bind(source_addr)
    .bind(window)
    .fetch_one(pool)
    .await
    .context("counting a sign-in attempt")?;
    if attempts == 1 {
        // A new window: forget the pairs whose windows ended (a few at a time).
        sqlx::query(
            "DELETE FROM login_throttle WHERE ctid IN (SELECT ctid FROM login_throttle \
             WHERE window_started <= now() - $1 LIMIT 100)",
        )
        .bind(window)
        .execute(pool)
        .await
        .context("forgetting old sign-in attempts")?;
    }
    Ok((attempts, started + window))
}

/// A good sign-in of `username` from `source_addr`: its attempts there are forgotten.
pub async fn login_succeeded(
    pool: &PgPool,
    username: &str,
    source_addr: &str,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE username = $1 AND source_addr = $2")
        .bind(username)
        .bind(source_addr)
        .execute(pool)
        .await
        .context("forgetting sign-in attempts")?;
    Ok(())
}

/// Starts a session after a good login (and clears the failure count), from `source_addr`
/// when known. False (nothing started) when, meanwhile, the user was suspended or closed or
/// its password changed from `password_hash`, the one the login was checked against.
pub async fn start_session(
    pool: &PgPool,
    user_id: i64,
    password_hash: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    source_addr: Option<&str>,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await.context("opening a login transaction")?;
    let done = sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL \
         WHERE id = $1 AND password_hash = $2 AND status = 'active'",
    )
    .bind(user_id)
    .bind(password_hash)
    .execute(&mut *tx)
    .await
    .context("clearing failed logins")?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, expires_at, source_addr) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(expires_at)
    .bind(source_addr)
    .execute(&mut *tx)
    .await
    .context("starting a session")?;
    tx.commit().await.context("committing a login")?;
    Ok(true)
}

/// A live session and its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub enterprise_code: Option<EnterpriseCode>,
    pub district_code: Option<DistrictCode>,
    pub expires_at: DateTime<Utc>,
}

/// The session behind a token hash if it is neither expired, revoked nor idle longer than
/// `idle`, and its user is active (a suspended or closed user has no session); touching it (at most once a minute) keeps it alive.
pub async fn live_session(
    pool: &PgPool,
    token_hash: &str,
    idle: chrono::Duration,
) -> anyhow::Result<Option<SessionRow>> {
    sqlx::query_as(
        r#"
        WITH live AS (
            SELECT s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
              AND s.last_seen_at > now() - $2 AND u.status = 'active'
        ), touched AS (
            UPDATE sessions s SET last_seen_at = now() FROM live
            WHERE s.token_hash = live.token_hash AND s.last_seen_at < now() - interval '1 minute'
        )
        SELECT u.id AS user_id, u.username, u.role, u.enterprise_code, u.district_code,
               s.expires_at
        FROM live JOIN sessions s ON s.token_hash = live.token_hash JOIN users u ON u.id = s.user_id
        "#,
    )
    .bind(token_hash)
    .bind(idle)
    .fetch_optional(pool)
    .await
    .context("checking a session")
}

/// The signed-in user behind a bearer token (its session live and used within `idle`), or
/// `None`.
pub async fn user_for_token(
    pool: &PgPool,
    token: &str,
    idle: chrono::Duration,
) -> anyhow::Result<Option<User>> {
    user_for_token_hash(pool, digest(token), idle).await
}

/// The signed-in user behind a token's hash, as `user_for_token`.
pub async fn user_for_token_hash(
    pool: &PgPool,
    hash: String,
    idle: chrono::Duration,
) -> anyhow::Result<Option<User>> {
    let Some(row) = live_session(pool, &hash, idle).await? else {
        return Ok(None);
    };
    Ok(Some(User {
        id: row.user_id,
        username: row.username,
        role: row.role,
        enterprise_code: row.enterprise_code,
        district_code: row.district_code,
        expires_at: row.expires_at,
        token_hash: hash,
    }))
}

/// Ends a session.
pub async fn revoke_session(pool: &PgPool, token_hash: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .execute(pool)
    .await
    .context("ending a session")?;
    Ok(())
}

/// The key hashes of every device not revoked nor closed (the in-memory key set; a suspended
/// device's key stays in it, as it may be reinstated: `device_by_key` refuses it meanwhile).
pub async fn key_hashes(pool: &PgPool) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT key_hash FROM devices WHERE key_hash IS NOT NULL AND revoked_at IS NULL \
         AND status <> 'closed'",
    )
    .fetch_all(pool)
    .await
    .context("reading the device keys")
}

/// The device whose key hashes to `key_hash`, unless revoked, suspended or closed.
pub async fn device_by_key(pool: &PgPool, key_hash: &str) -> anyhow::Result<Option<Device>> {
    sqlx::query_as(
        "SELECT device_id, kind, enterprise_code, vehicle_plate, station_code FROM devices \
         WHERE key_hash = $1 AND revoked_at IS NULL AND status = 'active'",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .context("checking a device key")
}

/// Registers a device with its key's hash.
pub async fn insert_device(
    pool: &PgPool,
    device: &shared::auth::NewDevice,
    key_hash: &str,
    scope: &crate::access::Scope,
    by: &str,
) -> Result<(), WriteError> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "INSERT INTO devices (device_id, kind, enterprise_code, vehicle_plate, station_code, key_hash, terminal_no) \
         SELECT $1, $2, $3, $4, $5, $6, $9 WHERE EXISTS (SELECT 1 FROM enterprises x WHERE x.code = $3 \
         AND ($7::text IS NULL OR x.code = $7) AND ($8::text IS NULL OR x.district_code = $8))",
    )
    .bind(device.device_id.as_str())
    .bind(device.kind.name())
    .bind(device.enterprise_code.as_str())
    .bind(device.vehicle_plate.as_ref().map(|p| p.as_str()))
    .bind(device.station_code.as_ref().map(|s| s.as_str()))
    .bind(key_hash)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(device.terminal_no.as_deref())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(WriteError::MissingReference(
            "devices_enterprise_code_fkey".into(),
        ));
    }
    if device.kind == shared::auth::DeviceKind::Jt808 {
        // The terminal is its vehicle's GPS device: the vehicle's binding names it (a new
        // version of the vehicle, with its revision).
        let plate = device.vehicle_plate.as_ref().map(|p| p.as_str());
        let bound: Option<(i64, Option<String>)> = sqlx::query_as(
            "WITH old AS (SELECT gps_device_id FROM vehicles WHERE plate = $1 AND enterprise_code = $2 \
             AND status = 'active' FOR UPDATE) \
             UPDATE vehicles v SET gps_device_id = $3, version = v.version + 1 FROM old \
             WHERE v.plate = $1 RETURNING v.version, old.gps_device_id",
        )
        .bind(plate)
        .bind(device.enterprise_code.as_str())
        .bind(device.device_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version, before)) = bound else {
            return Err(WriteError::Invalid(
                shared::ErrorDetail::new(
                    shared::ErrorCode::UnknownReference,
                    "vehicle_plate: no active vehicle of the enterprise with that plate",
                )
                .with_field("vehicle_plate"),
            ));
        };
        let changes = shared::revision::changes(
            &serde_json::json!({ "gps_device_id": before }),
            &serde_json::json!({ "gps_device_id": device.device_id.as_str() }),
        );
        super::revisions::record(
            &mut tx,
            &super::revisions::NewRevision {
                kind: "vehicles",
                key: plate.unwrap_or_default(),
                version,
                by,
                reason: Some("jt808 terminal registered"),
                changes: &changes,
            },
        )
        .await
        .map_err(WriteError::Other)?;
    }
    tx.commit().await?;
    Ok(())
}

/// One audit record.
#[derive(Debug, Clone, Default, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub actor_kind: String,
    pub actor_enterprise: Option<EnterpriseCode>,
    pub actor_district: Option<DistrictCode>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub status: Option<i32>,
    pub source_addr: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// Appends audit records, in order, in one statement (the audit group writer's batch).
pub async fn audit_many(conn: &mut sqlx::PgConnection, rows: Vec<AuditRow>) -> anyhow::Result<()> {
    bind_audit(sqlx::query(&AUDIT_INSERT), rows)
        .execute(conn)
        .await
        .context("appending to the audit log")?;
    Ok(())
}

/// The audit log's columns as `bind_audit` and `bind_audit_one` bind them, and their types.
const AUDIT_COLUMNS: &str = "actor, actor_kind, actor_enterprise, actor_district, action, \
                             target, outcome, status, source_addr, details";
const AUDIT_TYPES: [&str; 10] = [
    "text", "text", "text", "text", "text", "text", "text", "int4", "text", "jsonb",
];

/// The statement appending audit records from ten arrays bound from `$first` on, in order
/// (`bind_audit` binds them); a `WITH` clause may precede it so that other rows commit in the
/// same statement.
pub fn audit_insert(first: usize) -> String {
    format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) SELECT {AUDIT_COLUMNS} \
         FROM UNNEST({}) WITH ORDINALITY AS t({AUDIT_COLUMNS}, n) ORDER BY n",
        super::typed_params(first, &AUDIT_TYPES, true)
    )
}

/// `audit_insert` for one record: ten scalars from `$first` on (`bind_audit_one` binds them).
/// A batch of one is the common case at moderate load; a VALUES row costs PostgreSQL less
/// set-up than unnesting ten one-element arrays.
pub fn audit_insert_one(first: usize) -> String {
    format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ({})",
        super::typed_params(first, &AUDIT_TYPES, false)
    )
}

/// Binds the ten values of `audit_insert_one`, after whatever `query` has bound already.
pub fn bind_audit_one(
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    row: AuditRow,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(row.actor)
        .bind(row.actor_kind)
        .bind(row.actor_enterprise)
        .bind(row.actor_district)
        .bind(row.action)
        .bind(row.target)
        .bind(row.outcome)
        .bind(row.status)
        .bind(row.source_addr)
        .bind(row.details)
}

static AUDIT_INSERT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| audit_insert(1));

/// Binds the ten arrays of `audit_insert`, after whatever `query` has bound already.
pub fn bind_audit(
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    rows: Vec<AuditRow>,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let col = |f: fn(&AuditRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let statuses: Vec<Option<i32>> = rows.iter().map(|r| r.status).collect();
    let actors = col(|r| r.actor.clone());
    let kinds = col(|r| Some(r.actor_kind.clone()));
    let enterprises = col(|r| r.actor_enterprise.as_ref().map(ToString::to_string));
    let districts = col(|r| r.actor_district.as_ref().map(ToString::to_string));
    let actions = col(|r| Some(r.action.clone()));
    let targets = col(|r| r.target.clone());
    let outcomes = col(|r| Some(r.outcome.clone()));
    let addrs = col(|r| r.source_addr.clone());
    let details: Vec<Option<serde_json::Value>> = rows.into_iter().map(|r| r.details).collect();
    query
        .bind(actors)
        .bind(kinds)
        .bind(enterprises)
        .bind(districts)
        .bind(actions)
        .bind(targets)
        .bind(outcomes)
        .bind(statuses)
        .bind(addrs)
        .bind(details)
}

/// Filters of the audit log.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
}

/// Audit records, newest first, within a district's enterprises (`district`) or all.
pub async fn audit_page(
    pool: &PgPool,
    filter: &AuditFilter,
    district: Option<&DistrictCode>,
    limit: i64,
) -> anyhow::Result<Vec<AuditRow>> {
    sqlx::query_as(
        r#"
        SELECT id, at, actor, actor_kind, actor_enterprise, actor_district, action, target,
               outcome, status, source_addr, details
        FROM audit_log
        WHERE ($1::text IS NULL OR actor = $1)
          AND ($2::text IS NULL OR action LIKE $2 || '%')
          AND ($3::timestamptz IS NULL OR at >= $3)
          AND ($4::timestamptz IS NULL OR at < $4)
          AND ($5::int8 IS NULL OR id < $5)
          AND ($6::text IS NULL OR actor_district = $6)
        ORDER BY id DESC
        LIMIT $7
        "#,
    )
    .bind(&filter.actor)
    .bind(&filter.action)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.before_id)
    .bind(district)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading the audit log")
}

/// The district of an enterprise.
pub async fn enterprise_district(pool: &PgPool, code: &str) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT district_code FROM enterprises WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await
        .context("reading an enterprise's district")
}

/// Issues a live-feed ticket (its hash kept) for the session of `token_hash`, valid until
/// `expires_at`; expired tickets are swept on the way.
pub async fn issue_ticket(
    pool: &PgPool,
    ticket_hash: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "WITH swept AS (DELETE FROM live_tickets WHERE expires_at < now() - interval '1 minute') \
         INSERT INTO live_tickets (ticket_hash, token_hash, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(ticket_hash)
    .bind(token_hash)
    .bind(expires_at)
    .execute(pool)
    .await
    .context("issuing a live ticket")?;
    Ok(())
}

/// Redeems a ticket: the token hash of its session if it exists and has not expired; it is
/// gone afterwards either way (single use, on any instance).
pub async fn redeem_ticket(pool: &PgPool, ticket_hash: &str) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "DELETE FROM live_tickets WHERE ticket_hash = $1 \
         RETURNING CASE WHEN expires_at > now() THEN token_hash END",
    )
    .bind(ticket_hash)
    .fetch_optional(pool)
    .await
    .map(Option::flatten)
    .context("redeeming a live ticket")
}

/// Makes a display: its `users` row (role `display`, a password that never verifies) and its
/// key's hash, in one transaction.
pub async fn insert_display(
    pool: &PgPool,
    name: &str,
    enterprise_code: Option<&EnterpriseCode>,
    district_code: Option<&DistrictCode>,
    key_hash: &str,
    created_by: &str,
) -> Result<(), WriteError> {
    let mut tx = pool.begin().await?;
    let user_id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, enterprise_code, district_code) \
         VALUES ($1, '!', 'display', $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(enterprise_code)
    .bind(district_code)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO displays (user_id, key_hash, created_by) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(key_hash)
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The displays whose scope lies within `scope`, by name.
pub async fn displays(
    pool: &PgPool,
    scope: &Scope,
) -> anyhow::Result<Vec<shared::auth::DisplayView>> {
    let rows: Vec<DisplayRow> = sqlx::query_as(
        "SELECT u.username AS name, u.enterprise_code, u.district_code, d.created_by, \
                d.created_at, d.last_used_at, d.revoked_at \
         FROM displays d JOIN users u ON u.id = d.user_id \
         WHERE ($1::text IS NULL OR u.enterprise_code = $1) \
           AND ($2::text IS NULL OR u.district_code = $2 \
                OR u.enterprise_code IN (SELECT code FROM enterprises WHERE district_code = $2)) \
         ORDER BY u.username",
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("listing displays")?;
    Ok(rows.into_iter().map(DisplayRow::view).collect())
}

#[derive(sqlx::FromRow)]
struct DisplayRow {
    name: String,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    created_by: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl DisplayRow {
    fn view(self) -> shared::auth::DisplayView {
        shared::auth::DisplayView {
            name: self.name,
            enterprise_code: self.enterprise_code,
            district_code: self.district_code,
            created_by: self.created_by,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// Revokes a display and ends its sessions at once; `false` when none by that name is within
/// `scope` or it was revoked already.
pub async fn revoke_display(pool: &PgPool, name: &str, scope: &Scope) -> anyhow::Result<bool> {
    let visible = displays(pool, scope).await?;
    if !visible
        .iter()
        .any(|d| d.name == name && d.revoked_at.is_none())
    {
        return Ok(false);
    }
    let mut tx = pool.begin().await.context("opening a revocation")?;
    sqlx::query(
        "UPDATE displays SET revoked_at = now() \
         WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(&mut *tx)
    .await
    .context("revoking a display")?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = now() \
         WHERE user_id = (SELECT id FROM users WHERE username = $1) AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(&mut *tx)
    .await
    .context("ending a display's sessions")?;
    tx.commit().await.context("committing a revocation")?;
    Ok(true)
}

/// The display (as its user row) whose key hashes to `key_hash`, unless revoked; its last use
/// is noted.
pub async fn display_by_key(pool: &PgPool, key_hash: &str) -> anyhow::Result<Option<UserRow>> {
    sqlx::query_as(
        "WITH used AS (
             UPDATE displays SET last_used_at = now()
             WHERE key_hash = $1 AND revoked_at IS NULL RETURNING user_id
         )
         SELECT u.id, u.username, u.password_hash, u.role, u.enterprise_code, u.district_code,
                u.failed_logins, u.locked_until, u.status
         FROM used JOIN users u ON u.id = used.user_id",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .context("checking a display key")
}
