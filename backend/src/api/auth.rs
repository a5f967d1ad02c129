//! Login, the signed-in user, logout; users and devices; the audit log.

use super::registry::{read_record, write_error};
use crate::access::{self, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::auth::AuditFilter;
use crate::store::status::{Collection, NewStatus};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use shared::auth::{
    check_password, DeviceKey, LoginRequest, LoginResponse, Me, NewDevice, NewUser, RecordStatus,
    Role,
};
use shared::cylinder::Page;
use shared::{ErrorCode, ErrorDetail};

/// What the audit log should name for a request the principal extractors did not see (a
/// login): the username tried.
#[derive(Debug, Clone)]
pub struct AuditActor(pub String);

/// `POST /api/v1/auth/login`. Every attempt is counted per (submitted name, source address)
/// before the password is checked, whether or not the name exists: past `max_failed_logins`
/// in `lockout_minutes` that pair is refused (`429 rate_limited`) until its window ends, while
/// the same account signs in from elsewhere. A known and an unknown name answer alike, after
/// the same Argon2 work.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body(content = shared::auth::LoginRequest, example = json!({"username": "duty01", "password": "a long pass phrase"})), responses((status = 200, description = "Signed in", body = shared::auth::LoginResponse)))]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: LoginRequest = read_record(&req, payload).await?;
    req.extensions_mut()
        .insert(AuditActor(body.username.clone()));
    let settings = &state.settings;
    // Names are at most 64 characters; a longer one is counted by its first 100.
    let name: String = body.username.chars().take(100).collect();
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    slow_down(&state, &name, &address).await?;
    let invalid = || ApiError::client(ErrorCode::InvalidCredentials, "wrong username or password");
    let user = store::auth::user_by_name(&state.pool, &body.username).await?;
    // An unknown name is checked against a hash nobody's password matches: the same work.
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = body.password;
    let good = web::block(move || access::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("checking a password: {e}")))?;
    let Some(user) = user.filter(|_| good) else {
        return Err(invalid());
    };
    // A suspended or closed account answers as a wrong password does (no enumeration), after
    // the same work.
    if user.status != RecordStatus::Active {
        return Err(invalid());
    }
    store::auth::login_succeeded(&state.pool, &name, &address).await?;
    let role = user.role;
    let token = access::new_secret();
    let expires_at = Utc::now() + Duration::hours(i64::from(settings.session_max_hours));
    let source = req.peer_addr().map(|a| a.ip().to_string());
    let started = store::auth::start_session(
        &state.pool,
        user.id,
        &user.password_hash,
        &access::digest(&token),
        expires_at,
        source.as_deref(),
    )
    .await?;
    if !started {
        // Suspended, closed or given a new password while this login was checked.
        return Err(invalid());
    }
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        role,
        enterprise_code: user.enterprise_code,
        district_code: user.district_code,
        username: user.username,
        expires_at,
    }))
}

/// Counts a sign-in attempt of `name` from `address` (a login, or a password change checking
/// the old one) before any password is checked; `429 rate_limited` past `max_failed_logins`
/// in the pair's window of `lockout_minutes`.
pub(super) async fn slow_down(state: &AppState, name: &str, address: &str) -> Result<(), ApiError> {
    let settings = &state.settings;
    let window = Duration::minutes(i64::from(settings.lockout_minutes.max(1)));
    let (attempts, window_ends) =
        store::auth::login_attempt(&state.pool, name, address, window).await?;
    if u32::try_from(attempts).unwrap_or(u32::MAX) > settings.max_failed_logins {
        return Err(ApiError::client(
            ErrorCode::RateLimited,
            format!(
                "too many failed sign-ins for this name from this address: wait until \
                 {window_ends}"
            ),
        ));
    }
    Ok(())
}

/// A valid Argon2id hash (the parameters `hash_password` uses) of a password nobody has.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$6d2JkqMqpk0P2e0mYp6pXq5zQ2y0Z3L1u2Yd5c9b8aQ";

/// `GET /api/v1/auth/me`.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])), responses((status = 200, description = "Who is signed in", body = shared::auth::Me)))]
pub async fn me(user: User, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Me {
        username: user.username,
        role: user.role,
        enterprise_code: user.enterprise_code,
        district_code: user.district_code,
        expires_at: user.expires_at,
        idle_minutes: state.settings.session_idle_minutes,
    })
}

/// `POST /api/v1/auth/logout`.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])), responses((status = 204, description = "The token no longer works")))]
pub async fn logout(user: User, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    store::auth::revoke_session(&state.pool, &user.token_hash).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates a user after checking the password policy and the role's scope fields.
/// A user's (or a display's) name: 1 to 64 letters, digits, `.`, `_`, `-`, `@`.
pub fn check_username(name: &str, field: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                format!("{field}: 1 to 64 letters, digits, '.', '_', '-', '@'"),
            )
            .with_field(field),
        ))
    }
}

pub async fn create_user_record(state: &AppState, new: &NewUser) -> Result<i64, ApiError> {
    check_username(&new.username, "username")?;
    if new.role == Role::Display {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "a wall is made with POST /api/v1/displays, not as a user",
            )
            .with_field("role"),
        ));
    }
    check_password(&new.password).map_err(|e| {
        ApiError::Client(
            ErrorDetail::new(ErrorCode::WeakPassword, e.to_string()).with_field("password"),
        )
    })?;
    let needs_enterprise = matches!(new.role, Role::EnterpriseAdmin | Role::EnterpriseStaff);
    if needs_enterprise != new.enterprise_code.is_some() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "enterprise users, and only they, name their enterprise_code",
            )
            .with_field("enterprise_code"),
        ));
    }
    if (new.role == Role::DistrictRegulator) != new.district_code.is_some() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "district regulators, and only they, name their district_code",
            )
            .with_field("district_code"),
        ));
    }
    let hash = access::hash_password(&new.password)?;
    store::auth::insert_user(
        &state.pool,
        &new.username,
        &hash,
        new.role.name(),
        new.enterprise_code.as_ref(),
        new.district_code.as_ref(),
    )
    .await
    .map_err(|e| write_error(e, "user", "username"))
}

/// `POST /api/v1/users` (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "auth", security(("bearer" = [])), request_body = shared::auth::NewUser, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_user(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin])?;
    let new: NewUser = read_record(&req, payload).await?;
    create_user_record(&state, &new).await?;
    Ok(HttpResponse::Created().json(shared::registry::Created { id: new.username }))
}

/// `POST /api/v1/devices` (admin or the enterprise's admin): the key is shown once.
#[utoipa::path(post, path = "/api/v1/devices", tag = "auth", security(("bearer" = [])), request_body = shared::auth::NewDevice, responses((status = 201, description = "Created; the key is shown once", body = shared::auth::DeviceKey)))]
pub async fn create_device(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::EnterpriseAdmin])?;
    let device: NewDevice = read_record(&req, payload).await?;
    device.check()?;
    user.may_manage(device.enterprise_code.as_str())?;
    super::inactive::require_active_enterprise(&state, device.enterprise_code.as_str()).await?;
    if let Some(station) = &device.station_code {
        super::inactive::require_active_station(
            &state,
            station.as_str(),
            device.enterprise_code.as_str(),
        )
        .await?;
    }
    let key = access::new_secret();
    let hash = access::digest(&key);
    store::auth::insert_device(&state.pool, &device, &hash, &user.scope(), &user.username)
        .await
        .map_err(|e| write_error(e, "device", "device_id"))?;
    state.key_set.insert(hash);
    super::device_keys::to_broker(
        &state,
        device.device_id.as_str(),
        crate::store::mqtt::Action::Put,
        Some(&key),
    )
    .await?;
    Ok(HttpResponse::Created().json(DeviceKey {
        device_id: device.device_id,
        key,
    }))
}

/// `POST /api/v1/devices/{device_id}/revoke`: closes the device (status `closed`, for ever:
/// its version bumped, a revision kept); the key stops working at once on this instance (its
/// device cache is cleared), within `registry_cache_s` on others.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/revoke", tag = "auth", security(("bearer" = [])), params(("device_id" = String, Path, description = "The device")), responses((status = 204, description = "Revoked")))]
pub async fn revoke_device(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::EnterpriseAdmin])?;
    let device_id = path.into_inner();
    let scope = user.scope();
    let no_device = || ApiError::client(ErrorCode::NotFound, format!("no live device {device_id}"));
    let found = store::status::find(&state.pool, Collection::Devices, &device_id, None, &scope)
        .await?
        .pop()
        .filter(|d| d.status != RecordStatus::Closed)
        .ok_or_else(no_device)?;
    let close = NewStatus {
        to: RecordStatus::Closed,
        reason: "revoked",
        by: &user.username,
        // A close keeps whoever suspended it; these flags only mark suspensions.
        by_regulator: false,
        by_city: false,
    };
    if store::status::set(&state.pool, Collection::Devices, &found, &close)
        .await?
        .is_none()
    {
        // Changed meanwhile (revoked or closed by another request).
        return Err(no_device());
    }
    state.devices.clear();
    state.terminal_sweep.notify_one();
    super::device_keys::to_broker(&state, &device_id, crate::store::mqtt::Action::Delete, None)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/audit` filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
    cursor: Option<i64>,
}

/// `GET /api/v1/audit` (admin and regulators; a district regulator sees its district's).
#[utoipa::path(get, path = "/api/v1/audit", tag = "auth", security(("bearer" = [])), params(AuditQuery), responses((status = 200, description = "Audit records, newest first", body = shared::cylinder::Page<crate::store::auth::AuditRow>)))]
pub async fn audit(
    query: Result<web::Query<AuditQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::CityRegulator, Role::DistrictRegulator])?;
    let query = query.map_err(super::QueryError::malformed)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::client(
            ErrorCode::InvalidQuery,
            "limit must be between 1 and 1000",
        ));
    }
    let filter = AuditFilter {
        actor: query.actor.clone(),
        action: query.action.clone(),
        from: query.from,
        to: query.to,
        before_id: query.cursor,
    };
    let scope = user.scope();
    let rows = store::auth::audit_page(&state.pool, &filter, scope.district(), limit + 1).await?;
    let (items, next_cursor) = super::paged::trim_page(rows, limit, |r| r.id.to_string());
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Creates the administrator from the settings, or resets its password when it changed.
pub async fn ensure_admin(state: &AppState) -> anyhow::Result<()> {
    let settings = &state.settings;
    let (Some(username), Some(password)) = (&settings.admin_user, &settings.admin_password) else {
        tracing::warn!(
            "no CYLWATCH_ADMIN_USER / CYLWATCH_ADMIN_PASSWORD: no administrator created"
        );
        return Ok(());
    };
    check_password(password.expose())
        .map_err(|e| anyhow::anyhow!("CYLWATCH_ADMIN_PASSWORD is refused: {e}"))?;
    match store::auth::user_by_name(&state.pool, username).await? {
        Some(existing) if existing.role == Role::Admin => {
            if !access::verify_password(password.expose(), &existing.password_hash) {
                store::auth::set_password(
                    &state.pool,
                    existing.id,
                    &access::hash_password(password.expose())?,
                )
                .await?;
                tracing::info!(username, "administrator password reset from the settings");
            }
            Ok(())
        }
        Some(_) => {
            anyhow::bail!("CYLWATCH_ADMIN_USER {username} exists and is not an administrator")
        }
        None => {
            let new = NewUser {
                username: username.clone(),
                password: password.expose().clone(),
                role: Role::Admin,
                enterprise_code: None,
                district_code: None,
            };
            match create_user_record(state, &new).await {
                Ok(_) => {
                    tracing::info!(username, "administrator created");
                    Ok(())
                }
                // Another instance created it at the same moment.
                Err(ApiError::Client(e)) if e.code == ErrorCode::AlreadyExists => Ok(()),
                Err(e) => anyhow::bail!("creating the administrator: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown name costs a full Argon2 verification only if the dummy hash parses with the
    /// parameters real hashes have.
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let parsed = argon2::PasswordHash::new(DUMMY_HASH).unwrap();
        let real = access::hash_password("Abcdefghij1").unwrap();
        let real = argon2::PasswordHash::new(&real).unwrap();
        assert_eq!(parsed.algorithm, real.algorithm);
        assert_eq!(parsed.params, real.params);
        assert!(!access::verify_password("Abcdefghij1", DUMMY_HASH));
    }
}
