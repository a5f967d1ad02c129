//! Command-hall walls (issue 20 item 15): a wall signs in with its own display key, not a
//! person's password, and stays signed in for months — it signs in again with the key when its
//! session ends. A display is read-only and scoped like a user (the city, a district, an
//! enterprise); acting on the wall takes a person's own sign-in. Displays are made, listed
//! (with their last use) and revoked (at once, its sessions ended) by administrators:
//! admin and city regulator for any scope, a district regulator for its district, an
//! enterprise admin for its enterprise.

use super::auth::AuditActor;
use super::registry::{read_record, write_error};
use crate::access::{self, Scope, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use shared::auth::{DisplayKey, DisplaySignIn, LoginResponse, NewDisplay, Role};
use shared::{ErrorCode, ErrorDetail};

/// Who manages displays.
const MANAGERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::EnterpriseAdmin,
];

/// The scope a display would have, if the user may give it that one.
fn display_scope(user: &User, new: &NewDisplay) -> Result<Scope, ApiError> {
    if new.enterprise_code.is_some() && new.district_code.is_some() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "a display shows an enterprise or a district (or, with neither, the city)",
            )
            .with_field("district_code"),
        ));
    }
    user.scope()
        .narrow(
            new.enterprise_code.as_ref().map(|c| c.as_str()),
            new.district_code.as_ref().map(|c| c.as_str()),
        )
        .ok_or_else(|| {
            ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    "enterprise_code or district_code names a record that does not exist",
                )
                .with_field("enterprise_code"),
            )
        })
}

/// `POST /api/v1/displays`: a wall's credential; the key is shown once.
#[utoipa::path(post, path = "/api/v1/displays", tag = "auth", security(("bearer" = [])), request_body = shared::auth::NewDisplay, responses((status = 201, description = "Created; the key is shown once", body = shared::auth::DisplayKey)))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&MANAGERS)?;
    let new: NewDisplay = read_record(&req, payload).await?;
    super::auth::check_username(&new.name, "name")?;
    let scope = display_scope(&user, &new)?;
    if let Some(code) = scope.enterprise() {
        if !store::cylinders::enterprise_exists(&state.pool, code, &scope).await? {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    "enterprise_code names a record that does not exist",
                )
                .with_field("enterprise_code"),
            ));
        }
    }
    let key = access::new_secret();
    // An enterprise's display is scoped by the enterprise alone (checked above to lie within
    // the maker's district, if the maker has one).
    let district = scope.enterprise().map_or(scope.district(), |_| None);
    store::auth::insert_display(
        &state.pool,
        &new.name,
        scope.enterprise(),
        district,
        &access::digest(&key),
        &user.username,
    )
    .await
    .map_err(|e| write_error(e, "display or user", "name"))?;
    Ok(HttpResponse::Created().json(DisplayKey {
        name: new.name,
        key,
    }))
}

/// `GET /api/v1/displays`: the displays within the user's scope, with their last use.
#[utoipa::path(get, path = "/api/v1/displays", tag = "auth", security(("bearer" = [])), responses((status = 200, description = "The displays, by name", body = Vec<shared::auth::DisplayView>)))]
pub async fn list(user: User, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user.require(&MANAGERS)?;
    let displays = store::auth::displays(&state.pool, &user.scope()).await?;
    Ok(HttpResponse::Ok().json(displays))
}

/// `POST /api/v1/displays/{name}/revoke`: its key stops working and its sessions end at once.
#[utoipa::path(post, path = "/api/v1/displays/{name}/revoke", tag = "auth", security(("bearer" = [])), params(("name" = String, Path, description = "The display")), responses((status = 204, description = "Revoked; its walls are signed out")))]
pub async fn revoke(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&MANAGERS)?;
    if store::auth::revoke_display(&state.pool, &path, &user.scope()).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::client(
            ErrorCode::NotFound,
            format!("no display {path} to revoke"),
        ))
    }
}

/// `POST /api/v1/auth/display` `{"key"}`: a wall signs in; answered like a login.
#[utoipa::path(post, path = "/api/v1/auth/display", tag = "auth", request_body = shared::auth::DisplaySignIn, responses((status = 200, description = "Signed in as the display (read-only)", body = shared::auth::LoginResponse)))]
pub async fn sign_in(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body: DisplaySignIn = read_record(&req, payload).await?;
    let Some(display) =
        store::auth::display_by_key(&state.pool, &access::digest(&body.key)).await?
    else {
        return Err(ApiError::client(
            ErrorCode::InvalidCredentials,
            "unknown or revoked display key",
        ));
    };
    req.extensions_mut()
        .insert(AuditActor(display.username.clone()));
    let token = access::new_secret();
    let expires_at = Utc::now() + Duration::hours(i64::from(state.settings.session_max_hours));
    let source = req.peer_addr().map(|a| a.ip().to_string());
    let started = store::auth::start_session(
        &state.pool,
        display.id,
        &display.password_hash,
        &access::digest(&token),
        expires_at,
        source.as_deref(),
    )
    .await?;
    if !started {
        // Its account was suspended or closed (`POST /api/v1/users/{name}/suspend`).
        return Err(ApiError::client(
            ErrorCode::InvalidCredentials,
            "unknown or revoked display key",
        ));
    }
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        role: display.role,
        enterprise_code: display.enterprise_code,
        district_code: display.district_code,
        username: display.username,
        expires_at,
    }))
}
