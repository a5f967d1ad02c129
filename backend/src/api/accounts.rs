//! Managing accounts (issue 20 item 14): suspend / reinstate / close a user (with a reason), list
//! and revoke its sessions, change one's own password. Every write is audited by the guard; a
//! status change's reason is added to its audit record (a password never is).
//!
//! Who manages whom: the administrator and city regulators any user but themselves; an
//! enterprise administrator its own enterprise's staff (another enterprise's users answer as if
//! they did not exist); nobody else anyone.

use super::guard::AuditDetails;
use super::registry::read_record;
use crate::access::{self, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::accounts::AccountRow;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;
use shared::auth::{
    check_password, AccountStatus, PasswordChange, RecordStatus, Role, SessionsRevoked,
    StatusChange, MAX_REASON_CHARS,
};
use shared::cylinder::Page;
use shared::{ErrorCode, ErrorDetail};

/// The roles that manage accounts at all.
const MANAGERS: [Role; 3] = [Role::Admin, Role::CityRegulator, Role::EnterpriseAdmin];

/// The account `username` if `user` may manage it: a user out of the manager's scope is "not
/// found", as the registry answers.
async fn managed(state: &AppState, user: &User, username: &str) -> Result<AccountRow, ApiError> {
    user.require(&MANAGERS)?;
    let not_found = || ApiError::client(ErrorCode::NotFound, format!("no user {username}"));
    let account = store::accounts::account(&state.pool, username)
        .await?
        .ok_or_else(not_found)?;
    match user.role {
        Role::Admin | Role::CityRegulator => Ok(account),
        Role::EnterpriseAdmin if account.enterprise_code == user.enterprise_code => {
            if account.role == Role::EnterpriseStaff {
                Ok(account)
            } else {
                Err(ApiError::client(
                    ErrorCode::Forbidden,
                    "an enterprise administrator manages its enterprise's staff accounts only",
                ))
            }
        }
        _ => Err(not_found()),
    }
}

/// A status change and what it may start from.
#[derive(Debug, Clone, Copy)]
enum Change {
    Suspend,
    Reinstate,
    Close,
}

impl Change {
    fn from(self) -> &'static [RecordStatus] {
        match self {
            Self::Suspend => &[RecordStatus::Active],
            Self::Reinstate => &[RecordStatus::Suspended],
            Self::Close => &[RecordStatus::Active, RecordStatus::Suspended],
        }
    }

    fn to(self) -> RecordStatus {
        match self {
            Self::Suspend => RecordStatus::Suspended,
            Self::Reinstate => RecordStatus::Active,
            Self::Close => RecordStatus::Closed,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
            Self::Close => "close",
        }
    }
}

async fn change_status(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
    change: Change,
) -> Result<HttpResponse, ApiError> {
    let username = path.into_inner();
    let account = managed(&state, &user, &username).await?;
    let body: StatusChange = read_record(&req, payload).await?;
    let Some(reason) = body.valid_reason() else {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                format!(
                    "reason: 1 to {MAX_REASON_CHARS} characters saying why, \
                     no control characters"
                ),
            )
            .with_field("reason"),
        ));
    };
    if account.id == user.id {
        return Err(ApiError::client(
            ErrorCode::Forbidden,
            format!("you cannot {} your own account", change.verb()),
        ));
    }
    let mut details = serde_json::Map::new();
    details.insert("username".into(), username.clone().into());
    details.insert("status".into(), change.to().name().into());
    details.insert("reason".into(), reason.into());
    req.extensions_mut().insert(AuditDetails(details));
    let refused = |now: RecordStatus| {
        ApiError::client(
            ErrorCode::InvalidTransition,
            format!(
                "{username} is {}: only {} accounts can be {}",
                now.name(),
                change
                    .from()
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(" or "),
                match change {
                    Change::Suspend => "suspended",
                    Change::Reinstate => "reinstated (a closed account is closed for ever)",
                    Change::Close => "closed",
                }
            ),
        )
    };
    if !change.from().contains(&account.status) {
        return Err(refused(account.status));
    }
    let Some(done) =
        store::accounts::set_status(&state.pool, account.id, change.from(), change.to(), reason)
            .await?
    else {
        // Changed by someone else meanwhile.
        let now = store::accounts::account(&state.pool, &username)
            .await?
            .map_or(account.status, |a| a.status);
        return Err(refused(now));
    };
    Ok(HttpResponse::Ok().json(AccountStatus {
        username: done.username,
        role: done.role,
        enterprise_code: done.enterprise_code,
        status: done.status,
        status_reason: done.status_reason,
        status_changed_at: done.status_changed_at,
    }))
}

/// `POST /api/v1/users/{username}/suspend` `{"reason"}`.
#[utoipa::path(post, path = "/api/v1/users/{username}/suspend", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user")), request_body(content = shared::auth::StatusChange, example = json!({"reason": "left the company"})), responses((status = 200, description = "Suspended: it cannot sign in and its sessions ended", body = shared::auth::AccountStatus)))]
pub async fn suspend(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_status(req, payload, path, user, state, Change::Suspend).await
}

/// `POST /api/v1/users/{username}/reinstate` `{"reason"}`.
#[utoipa::path(post, path = "/api/v1/users/{username}/reinstate", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user")), request_body(content = shared::auth::StatusChange, example = json!({"reason": "back from leave"})), responses((status = 200, description = "Active again: it may sign in", body = shared::auth::AccountStatus)))]
pub async fn reinstate(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_status(req, payload, path, user, state, Change::Reinstate).await
}

/// `POST /api/v1/users/{username}/close` `{"reason"}`: for ever.
#[utoipa::path(post, path = "/api/v1/users/{username}/close", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user")), request_body(content = shared::auth::StatusChange, example = json!({"reason": "left the company"})), responses((status = 200, description = "Closed for ever: its sessions ended", body = shared::auth::AccountStatus)))]
pub async fn close(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    change_status(req, payload, path, user, state, Change::Close).await
}

/// `GET /api/v1/users/{username}/sessions` paging.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// At most this many (1 to 1000, default 100).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
}

/// `GET /api/v1/users/{username}/sessions`: its live sessions, newest first.
#[utoipa::path(get, path = "/api/v1/users/{username}/sessions", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user"), SessionsQuery), responses((status = 200, description = "Its live sessions, newest first (never a token)", body = shared::cylinder::Page<shared::auth::SessionInfo>)))]
pub async fn sessions(
    path: web::Path<String>,
    query: Result<web::Query<SessionsQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let account = managed(&state, &user, &path).await?;
    let query = query.map_err(super::QueryError::malformed)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::client(
            ErrorCode::InvalidQuery,
            "limit must be between 1 and 1000",
        ));
    }
    let idle = Duration::minutes(i64::from(state.settings.session_idle_minutes));
    let rows =
        store::accounts::sessions(&state.pool, account.id, idle, query.cursor, limit + 1).await?;
    let (items, next_cursor) = super::paged::trim_page(rows, limit, |s| s.id.to_string());
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// `POST /api/v1/users/{username}/sessions/{id}/revoke`: that session ends at once.
#[utoipa::path(post, path = "/api/v1/users/{username}/sessions/{id}/revoke", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user"), ("id" = i64, Path, description = "The session's id")), responses((status = 204, description = "The session ended")))]
pub async fn revoke_session(
    path: web::Path<(String, String)>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (username, id) = path.into_inner();
    let account = managed(&state, &user, &username).await?;
    let no_session = || {
        ApiError::client(
            ErrorCode::NotFound,
            format!("{username} has no live session {id}"),
        )
    };
    let id: i64 = id.parse().map_err(|_| no_session())?;
    if store::accounts::revoke_session(&state.pool, account.id, id).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(no_session())
    }
}

/// `POST /api/v1/users/{username}/sessions/revoke`: all its sessions end at once (the caller's
/// own too, when it names itself).
#[utoipa::path(post, path = "/api/v1/users/{username}/sessions/revoke", tag = "auth", security(("bearer" = [])), params(("username" = String, Path, description = "The user")), responses((status = 200, description = "Its sessions ended", body = shared::auth::SessionsRevoked)))]
pub async fn revoke_sessions(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let account = managed(&state, &user, &path).await?;
    let revoked = store::accounts::revoke_sessions(&state.pool, account.id, None).await?;
    Ok(HttpResponse::Ok().json(SessionsRevoked { revoked }))
}

/// `POST /api/v1/auth/password` `{"old_password", "new_password"}`: any signed-in user's own.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body(content = shared::auth::PasswordChange, example = json!({"old_password": "the old pass phrase", "new_password": "A new pass phrase 2026"})), responses((status = 204, description = "Changed; every other session of the user ended")))]
pub async fn change_password(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if user.role == Role::Display {
        return Err(ApiError::client(
            ErrorCode::Forbidden,
            "a display signs in with its key and has no password",
        ));
    }
    let body: PasswordChange = read_record(&req, payload).await?;
    let wrong = || {
        ApiError::Client(
            ErrorDetail::new(ErrorCode::InvalidField, "the old password is wrong")
                .with_field("old_password"),
        )
    };
    let Some(row) = store::auth::user_by_name(&state.pool, &user.username).await? else {
        return Err(ApiError::client(
            ErrorCode::Unauthorized,
            access::SIGN_IN_AGAIN,
        ));
    };
    // A stolen token cannot guess the password: checking the old one counts as a sign-in
    // attempt of the user from this address (the same slow-down as the login's).
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    super::auth::slow_down(&state, &user.username, &address).await?;
    if !access::verify_password(&body.old_password, &row.password_hash) {
        return Err(wrong());
    }
    store::auth::login_succeeded(&state.pool, &user.username, &address).await?;
    check_password(&body.new_password).map_err(|e| {
        ApiError::Client(
            ErrorDetail::new(ErrorCode::WeakPassword, e.to_string()).with_field("new_password"),
        )
    })?;
    if body.new_password == body.old_password {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "the new password must differ from the old one",
            )
            .with_field("new_password"),
        ));
    }
    let hash = access::hash_password(&body.new_password)?;
    if !store::accounts::change_password(
        &state.pool,
        row.id,
        &row.password_hash,
        &hash,
        &user.token_hash,
    )
    .await?
    {
        // Changed by another request meanwhile: the old password checked is no longer it.
        return Err(wrong());
    }
    Ok(HttpResponse::NoContent().finish())
}
