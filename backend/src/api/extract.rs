//! How a request proves who it is: users by bearer token, devices by key (`X-Device-Key`).
//! The extractors put the [`Principal`] into the request's extensions for the audit log.

use crate::access::{digest, Device, Principal, User, SIGN_IN_AGAIN};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use shared::ErrorCode;

fn unauthorized(message: &str) -> ApiError {
    ApiError::client(ErrorCode::Unauthorized, message)
}

/// The bearer token of a request: `Authorization: Bearer <token>` only. A token never
/// travels in a URL (`?token=` is refused by `api::text`): URLs end up in logs, histories and
/// `Referer`s. The live feed takes a ticket or a first message instead.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The user behind a token, or 401.
pub async fn user_for_token(state: &AppState, token: &str) -> Result<User, ApiError> {
    let idle = chrono::Duration::minutes(i64::from(state.settings.session_idle_minutes));
    store::auth::user_for_token(&state.pool, token, idle)
        .await?
        .ok_or_else(|| unauthorized(SIGN_IN_AGAIN))
}

fn app_state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no app state")))
}

impl FromRequest for User {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let token = bearer(&req).ok_or_else(|| {
                unauthorized("send Authorization: Bearer <token> (POST /api/v1/auth/login)")
            })?;
            let user = user_for_token(state, &token).await?;
            req.extensions_mut().insert(Principal::User(user.clone()));
            Ok(user)
        })
    }
}

/// The `X-Device-Key` of a request, or 401.
pub fn device_key(req: &HttpRequest) -> Result<String, ApiError> {
    req.headers()
        .get("x-device-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| unauthorized("send X-Device-Key: <key> (POST /api/v1/devices)"))
}

/// Whether a key (by its hash) may be a live device's: refused from memory when the key set
/// does not hold it (a junk key costs no database round trip; the set reloads at most once a
/// second).
pub async fn may_be_device(state: &AppState, hash: &str) -> bool {
    state.devices.get(hash).is_some()
        || state
            .key_set
            .may_hold(hash, || store::auth::key_hashes(&state.pool))
            .await
}

/// "unknown or revoked device key", 401.
pub fn unknown_key() -> ApiError {
    unauthorized("unknown or revoked device key")
}

/// The live device with that key, or 401.
pub async fn device_for_key(state: &AppState, key: &str) -> Result<Device, ApiError> {
    device_for_hash(state, &digest(key)).await
}

/// The live device whose key hashes to `hash`, or 401.
pub async fn device_for_hash(state: &AppState, hash: &str) -> Result<Device, ApiError> {
    if let Some(device) = state.devices.get(hash) {
        return Ok(device);
    }
    if !state
        .key_set
        .may_hold(hash, || store::auth::key_hashes(&state.pool))
        .await
    {
        return Err(unknown_key());
    }
    let device = store::auth::device_by_key(&state.pool, hash)
        .await?
        .ok_or_else(unknown_key)?;
    state.devices.put(hash, device.clone());
    Ok(device)
}

impl FromRequest for Device {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let key = device_key(&req)?;
            let device = device_for_key(state, &key).await?;
            req.extensions_mut()
                .insert(Principal::Device(device.clone()));
            Ok(device)
        })
    }
}
