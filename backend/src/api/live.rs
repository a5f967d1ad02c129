//! `GET /api/v1/live`: the WebSocket upgrade.

use crate::error::ApiError;
use crate::live::session;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::ErrorCode;

/// Upgrades and hands the connection to a session task.
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
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
    ));
    Ok(response)
}
