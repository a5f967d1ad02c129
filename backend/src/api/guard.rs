//! Around every `/api/v1` request: the rate limit of the public and login endpoints, and the
//! audit record of every write and every login (who, when, what, target, outcome, source).
//! Being middleware, a new route is audited without doing anything.

use super::auth::AuditActor;
use crate::access::Principal;
use crate::api::state::AppState;
use crate::error::error_response;
use crate::store::auth::AuditRow;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use shared::ErrorCode;

/// Whether a request counts against the per-address limit, judged on the path as the router
/// decodes it (`/api/v1/%70ublic/...` is the public lookup too).
fn limited(path: &str) -> bool {
    path.starts_with("/api/v1/public/")
        || path == "/api/v1/auth/login"
        || path == "/api/v1/auth/display"
        || path == "/api/v1/auth/password"
}

/// What a handler adds to its request's audit record (a duty officer's note ...), set as a
/// request extension.
#[derive(Debug, Clone)]
pub struct AuditDetails(pub serde_json::Map<String, serde_json::Value>);

/// The middleware.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let path = req.match_info().as_str().to_owned();
    let peer = req.peer_addr().map(|a| a.ip());
    if let (Some(state), Some(ip)) = (&state, peer) {
        if limited(&path) && !state.limiter.allow(ip) {
            let response = error_response(
                ErrorCode::RateLimited,
                "too many requests from this address; retry in a minute",
            );
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    let method = req.method().clone();
    let audited = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        || path == "/api/v1/auth/login";
    let response = next.call(req).await?;
    let written = response.request().extensions().get::<Audited>().is_some();
    if let (true, false, Some(state)) = (audited, written, state) {
        let row = audit_row(response.request(), response.status());
        // A refusal of no one is counted after the first of its window (`api::refusals`).
        if row.actor.is_none()
            && response.status().is_client_error()
            && !state
                .refusals
                .first(peer, &row.action, response.status().as_u16())
        {
            return Ok(response.map_into_left_body());
        }
        let action = row.action.clone();
        if let Err(e) = state.audit.write(row).await {
            tracing::error!(error = %format!("{e:#}"), action, "audit record lost");
        }
    }
    Ok(response.map_into_left_body())
}

/// Set by a handler that wrote its request's audit record itself, in the same transaction as
/// what it audits (a filling decision): the middleware does not write a second.
#[derive(Debug, Clone, Copy)]
pub struct Audited;

/// The audit record of a request answered with `status`: the principal (or the actor a login
/// names), the route, the outcome, the source address, the query and what the handler added.
pub fn audit_row(request: &HttpRequest, status: StatusCode) -> AuditRow {
    let (method, path, peer) = (
        request.method(),
        request.path(),
        request.peer_addr().map(|a| a.ip()),
    );
    let extensions = request.extensions();
    let mut row = AuditRow {
        actor_kind: "anonymous".into(),
        ..AuditRow::default()
    };
    match extensions.get::<Principal>() {
        Some(Principal::User(user)) => {
            row.actor = Some(user.username.clone());
            row.actor_kind = "user".into();
            row.actor_enterprise = user.enterprise_code.clone();
            row.actor_district = user.district_code.clone();
        }
        Some(Principal::Device(device)) => {
            row.actor = Some(device.device_id.to_string());
            row.actor_kind = "device".into();
            row.actor_enterprise = Some(device.enterprise_code.clone());
        }
        None => row.actor = extensions.get::<AuditActor>().map(|a| a.0.clone()),
    }
    row.action = format!(
        "{method} {}",
        request.match_pattern().unwrap_or_else(|| path.to_owned())
    );
    row.target = Some(path.to_owned());
    row.status = Some(i32::from(status.as_u16()));
    row.outcome = if status.is_success() {
        "ok"
    } else if status.is_client_error() {
        "refused"
    } else {
        "failed"
    }
    .into();
    row.source_addr = peer.map(|ip| ip.to_string());
    let query = redacted(request.query_string());
    let mut details = serde_json::Map::new();
    if !query.is_empty() {
        details.insert("query".into(), query.into());
    }
    if let Some(AuditDetails(extra)) = extensions.get::<AuditDetails>() {
        details.extend(extra.clone());
    }
    if !details.is_empty() {
        row.details = Some(serde_json::Value::Object(details));
    }
    row
}

/// Query parameters whose values are secrets: never kept in the audit log.
const SECRET_PARAMS: [&str; 5] = ["token", "ticket", "key", "password", "secret"];

/// The query string with the values of secret parameters replaced by `[redacted]`.
fn redacted(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if SECRET_PARAMS
                    .iter()
                    .any(|secret| key.to_ascii_lowercase().contains(secret)) =>
            {
                format!("{key}=[redacted]")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn secrets_in_a_query_are_not_kept() {
        assert_eq!(
            redacted("limit=5&token=abc&Ticket=x&device_key=k"),
            "limit=5&token=[redacted]&Ticket=[redacted]&device_key=[redacted]"
        );
        assert_eq!(redacted("from=2026-01-01"), "from=2026-01-01");
    }
}
