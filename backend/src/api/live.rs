//! `GET /api/v1/live`: the WebSocket upgrade, and `POST /api/v1/live/ticket`: the single-use
//! ticket that opens it without a token in the URL.

use crate::access::{digest, new_secret, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::live::session;
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use shared::live::LiveTicket;
use shared::ErrorCode;

/// How long a live-feed ticket opens a session.
const TICKET_VALID: chrono::Duration = chrono::Duration::seconds(30);

/// `POST /api/v1/live/ticket`: a single-use ticket for one live feed, valid 30 s.
#[utoipa::path(post, path = "/api/v1/live/ticket", tag = "live", security(("bearer" = [])), responses((status = 201, description = "A ticket for `GET /api/v1/live?ticket=`: single use, 30 s", body = shared::live::LiveTicket)))]
pub async fn ticket(user: User, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ticket = new_secret();
    let expires_at = Utc::now() + TICKET_VALID;
    store::auth::issue_ticket(&state.pool, &digest(&ticket), &user.token_hash, expires_at).await?;
    Ok(HttpResponse::Created().json(LiveTicket { ticket, expires_at }))
}

/// `?ticket=` of the upgrade.
#[derive(serde::Deserialize)]
struct TicketQuery {
    ticket: Option<String>,
}

/// Checks the origin and the ticket, upgrades and hands the connection to a session task. A
/// client without a ticket sends its token as the first message. No token in the URL.
#[utoipa::path(get, path = "/api/v1/live", tag = "live", params(("ticket" = Option<String>, Query, description = "A ticket from POST /api/v1/live/ticket (single use, 30 s); without it the first message must be {\"token\": \"...\"}")), responses((status = 101, description = "WebSocket: `subscribe` and live messages (README)")))]
pub async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_origin(&req, &state.settings.allowed_origins)?;
    let query = web::Query::<TicketQuery>::from_query(req.query_string())
        .map_err(|e| super::QueryError::Malformed(e.to_string()))?;
    let user = match &query.ticket {
        Some(ticket) => Some(redeem(&state, ticket).await?),
        None => None,
    };
    let (response, session, incoming) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::client(
            ErrorCode::MalformedBody,
            format!("expected a WebSocket upgrade: {e}"),
        )
    })?;
    let incoming = incoming.max_frame_size(64 * 1024);
    let limits = session::Limits {
        idle: chrono::Duration::minutes(i64::from(state.settings.session_idle_minutes)),
        per_user: state.settings.live_sessions_per_user,
        check: std::time::Duration::from_secs(u64::from(
            state.settings.live_session_check_s.max(1),
        )),
    };
    actix_web::rt::spawn(session::run(
        session,
        incoming,
        state.hub.clone(),
        state.pool.clone(),
        limits,
        user,
    ));
    Ok(response)
}

/// The user a ticket was issued to, if it is unused and unexpired and their session lives.
async fn redeem(state: &AppState, ticket: &str) -> Result<User, ApiError> {
    let refused = || {
        ApiError::client(
            ErrorCode::Unauthorized,
            "the ticket is unknown, used or expired; ask POST /api/v1/live/ticket for another",
        )
    };
    let token_hash = store::auth::redeem_ticket(&state.pool, &digest(ticket))
        .await?
        .ok_or_else(refused)?;
    let idle = chrono::Duration::minutes(i64::from(state.settings.session_idle_minutes));
    store::auth::user_for_token_hash(&state.pool, token_hash, idle)
        .await?
        .ok_or_else(refused)
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
