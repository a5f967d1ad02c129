//! `GET /api/v1/live`: the WebSocket upgrade.

use super::extract;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::live::session;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::ErrorCode;

/// Checks the origin and the token, upgrades and hands the connection to a session task. A
/// client that cannot put the token in the URL sends it as the first message.
#[utoipa::path(get, path = "/api/v1/live", tag = "live", responses((status = 101, description = "WebSocket: the token as `Authorization: Bearer`, `?token=` or the first message; then `subscribe` and live messages (README)")))]
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_origin(&req, &state.settings.allowed_origins)?;
    let user = match extract::bearer(&req) {
        Some(token) => Some(extract::user_for_token(&state, &token).await?),
        None => None,
    };
    let (response, session, incoming) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::client(
            ErrorCode::MalformedBody,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    let incoming = incoming.max_frame_size(64 * 1024);
    actix_web::rt::spawn(session::run(
        session,
        incoming,
        state.hub.subscribe(),
        state.pool.clone(),
        chrono::Duration::minutes(i64::from(state.settings.session_idle_minutes)),
        user,
    ));
    Ok(response)
}

/// A browser page may open the feed only from the server's own origin or an allowed one
/// (cross-site WebSocket hijacking); clients that send no `Origin` are not browsers.
fn check_origin(req: &HttpRequest, allowed: &str) -> Result<(), ApiError> {
    let Some(origin) = req.headers().get("origin").and_then(|o| o.to_str().ok()) else {
        return Ok(());
    };
    let host = req.connection_info().host().to_owned();
    let same = origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host);
    let listed = allowed
        .split(',')
        .map(str::trim)
        .any(|a| !a.is_empty() && a.trim_end_matches('/') == origin.trim_end_matches('/'));
    if same || listed {
        Ok(())
    } else {
        Err(ApiError::client(
            ErrorCode::Forbidden,
            format!("origin {origin} may not open the live feed"),
        ))
    }
}
