//! Transfers of cylinders between enterprises (issue 21 item 4). A sale is the two companies'
//! act: the owner's administrator offers, the receiver's administrator accepts or declines,
//! the offerer cancels while it is offered. Regulators (and the administrator and duty
//! officers) read every transfer in their scope but make none: a regulator never moves a
//! company's property on its behalf.

use super::body::read_json;
use super::guard::AuditDetails;
use super::registry::write_error;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use shared::auth::Role;
use shared::cylinder::Page;
use shared::registry::parse;
use shared::transfer::{NewTransfer, Transfer, TransferStatus, MAX_TRANSFER_CYLINDERS};
use shared::{ErrorCode, ErrorDetail};
use std::collections::HashSet;

/// An offer of up to 10,000 codes of up to 64 characters, quoted.
const MAX_OFFER_BYTES: usize = 1024 * 1024;

fn field_error(code: ErrorCode, field: &str, message: String) -> ApiError {
    ApiError::Client(ErrorDetail::new(code, message).with_field(field))
}

/// The enterprise an administrator speaks for (only enterprise administrators offer, accept,
/// decline or cancel).
fn party(user: &User) -> Result<&str, ApiError> {
    user.require(&[Role::EnterpriseAdmin])?;
    user.enterprise_code
        .as_ref()
        .map(|e| e.as_str())
        .ok_or_else(|| ApiError::client(ErrorCode::Forbidden, "the user has no enterprise"))
}

fn audit(req: &HttpRequest, transfer: &Transfer) {
    let mut details = serde_json::Map::new();
    details.insert("transfer_id".into(), transfer.id.into());
    details.insert(
        "from_enterprise_code".into(),
        transfer.from_enterprise_code.as_str().into(),
    );
    details.insert(
        "to_enterprise_code".into(),
        transfer.to_enterprise_code.as_str().into(),
    );
    details.insert("status".into(), transfer.status.name().into());
    details.insert("cylinders".into(), transfer.cylinder_codes.len().into());
    req.extensions_mut().insert(AuditDetails(details));
}

/// `POST /api/v1/transfers`: the owner's administrator offers cylinders to another
/// enterprise.
#[utoipa::path(post, path = "/api/v1/transfers", tag = "cylinders", security(("bearer" = [])), request_body(content = shared::transfer::NewTransfer, example = json!({"cylinder_codes": ["431325", "431326"], "to_enterprise_code": "ENT2", "station_code": "ST9"})), responses((status = 201, description = "Offered: the receiver's administrator accepts it", body = shared::transfer::Transfer)))]
pub async fn offer(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let from = party(&user)?;
    let value = read_json(&req, payload, MAX_OFFER_BYTES).await?;
    if !value.is_object() {
        return Err(ApiError::client(
            ErrorCode::MalformedBody,
            "the body must be a JSON object",
        ));
    }
    let offer: NewTransfer = parse(value)?;
    let count = offer.cylinder_codes.len();
    if count == 0 || count > MAX_TRANSFER_CYLINDERS {
        return Err(field_error(
            ErrorCode::InvalidField,
            "cylinder_codes",
            format!("1 to {MAX_TRANSFER_CYLINDERS} cylinder codes, not {count}"),
        ));
    }
    let mut seen = HashSet::new();
    if let Some(twice) = offer
        .cylinder_codes
        .iter()
        .find(|c| !seen.insert(c.as_str()))
    {
        return Err(field_error(
            ErrorCode::InvalidField,
            "cylinder_codes",
            format!("cylinder {twice} is listed twice"),
        ));
    }
    if offer.to_enterprise_code.as_str() == from {
        return Err(field_error(
            ErrorCode::InvalidField,
            "to_enterprise_code",
            format!("{from} is the owner: a transfer goes to another enterprise"),
        ));
    }
    super::inactive::require_active_enterprise(&state, from).await?;
    let transfer = store::transfers::offer(&state.pool, from, &offer, &user.username)
        .await
        .map_err(|e| write_error(e, "transfer", "id"))?;
    audit(&req, &transfer);
    Ok(HttpResponse::Created().json(transfer))
}

/// `?status=&limit=&cursor=` of the transfer list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// `offered`, `accepted`, `declined` or `cancelled`.
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/transfers`: the transfers an enterprise is a party to; a district regulator's
/// with a party in its district; the city's for everyone else. Newest first.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "cylinders", security(("bearer" = [])), params(TransferQuery), responses((status = 200, description = "Transfers, newest first", body = shared::cylinder::Page<shared::transfer::Transfer>)))]
pub async fn list(
    query: Result<web::Query<TransferQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(query.limit)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(TransferStatus::from_name(s).ok_or_else(|| {
            field_error(
                ErrorCode::InvalidQuery,
                "status",
                format!("unknown status {s:?}; expected offered, accepted, declined or cancelled"),
            )
        })?),
    };
    let before = match query.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| super::QueryError::Cursor)?),
    };
    let mut items =
        store::transfers::list(&state.pool, &user.scope(), status, before, limit + 1).await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = more
        .then(|| items.last().map(|t| t.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// The transfer `id` within the user's scope, else 404.
async fn find(state: &AppState, user: &User, id: &str) -> Result<Transfer, ApiError> {
    let not_found = || ApiError::client(ErrorCode::NotFound, format!("no transfer {id}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    store::transfers::get(&state.pool, id, &user.scope())
        .await?
        .ok_or_else(not_found)
}

/// `GET /api/v1/transfers/{id}`.
#[utoipa::path(get, path = "/api/v1/transfers/{id}", tag = "cylinders", security(("bearer" = [])), params(("id" = String, Path, description = "The transfer")), responses((status = 200, description = "The transfer", body = shared::transfer::Transfer)))]
pub async fn get(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let transfer = find(&state, &user, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(transfer))
}

/// Which party may make a decision.
#[derive(Clone, Copy)]
enum Side {
    Offerer,
    Receiver,
}

/// The transfer, when the user is the administrator of its `side`: another party's user
/// is refused (403), anyone else answered as if it did not exist (404).
async fn decidable(
    state: &AppState,
    user: &User,
    id: &str,
    side: Side,
) -> Result<Transfer, ApiError> {
    let transfer = find(state, user, id).await?;
    let own = party(user)?;
    let (allowed, who) = match side {
        Side::Offerer => (&transfer.from_enterprise_code, "the offering"),
        Side::Receiver => (&transfer.to_enterprise_code, "the receiving"),
    };
    if allowed.as_str() != own {
        return Err(ApiError::client(
            ErrorCode::Forbidden,
            format!("only {who} enterprise's administrator may do this"),
        ));
    }
    // A decided transfer is said so by the store, under its lock.
    Ok(transfer)
}

/// `POST /api/v1/transfers/{id}/accept`: the receiver's administrator takes the cylinders.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/accept", tag = "cylinders", security(("bearer" = [])), params(("id" = String, Path, description = "The transfer")), responses((status = 200, description = "Accepted: every cylinder is the receiver's, registered at its station", body = shared::transfer::Transfer)))]
pub async fn accept(
    req: HttpRequest,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offered = decidable(&state, &user, &path.into_inner(), Side::Receiver).await?;
    super::inactive::require_active_enterprise(&state, offered.to_enterprise_code.as_str()).await?;
    let transfer = store::transfers::accept(&state.pool, offered.id, &user.username)
        .await
        .map_err(|e| write_error(e, "transfer", "id"))?;
    audit(&req, &transfer);
    Ok(HttpResponse::Ok().json(transfer))
}

/// `POST /api/v1/transfers/{id}/decline`: the receiver's administrator refuses; nothing moves.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/decline", tag = "cylinders", security(("bearer" = [])), params(("id" = String, Path, description = "The transfer")), responses((status = 200, description = "Declined", body = shared::transfer::Transfer)))]
pub async fn decline(
    req: HttpRequest,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offered = decidable(&state, &user, &path.into_inner(), Side::Receiver).await?;
    close(&req, &state, &user, offered.id, TransferStatus::Declined).await
}

/// `POST /api/v1/transfers/{id}/cancel`: the offerer withdraws its offer; nothing moves.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/cancel", tag = "cylinders", security(("bearer" = [])), params(("id" = String, Path, description = "The transfer")), responses((status = 200, description = "Cancelled", body = shared::transfer::Transfer)))]
pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offered = decidable(&state, &user, &path.into_inner(), Side::Offerer).await?;
    close(&req, &state, &user, offered.id, TransferStatus::Cancelled).await
}

async fn close(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    id: i64,
    status: TransferStatus,
) -> Result<HttpResponse, ApiError> {
    let transfer = store::transfers::close(&state.pool, id, status, &user.username)
        .await
        .map_err(|e| write_error(e, "transfer", "id"))?;
    audit(req, &transfer);
    Ok(HttpResponse::Ok().json(transfer))
}
