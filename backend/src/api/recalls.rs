//! Recalls (issue 22 item 3). A regulator recalls a set of cylinders — by code, by the station
//! and window they were filled in, by manufacturer and production batch, or an incident's
//! cylinder with its whole batch (`incident_batch`, as its context defines it); every recalled
//! cylinder is refused at every gun (`R16`, read fresh with the cylinder's facts, so a recall
//! takes effect at the next question) until an inspection after the recall is applied or a
//! regulator clears it. Progress (located / recovered / inspected / cleared) follows the
//! history as the pipeline applies it. An enterprise sees its own share of a recall, with each
//! cylinder's last known place; a district regulator the share of its district's enterprises.

use super::registry::read_record_up_to;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::recalls::Selection;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::auth::{Role, MAX_REASON_CHARS};
use shared::recall::{
    ClearRecall, NewRecall, Recall, RecallCreated, MAX_RECALL_CODES, RECALL_LIST_LIMIT,
};
use shared::{ErrorCode, ErrorDetail};

/// A recall's or a clearing's body: up to `MAX_RECALL_CODES` (100,000) codes of up to 64
/// characters each, quoted and separated (the registry's 256 KiB held about 23,000).
const MAX_RECALL_BYTES: usize = 8 * 1024 * 1024;

/// Who issues and clears recalls.
const REGULATORS: &[Role] = &[Role::Admin, Role::CityRegulator, Role::DistrictRegulator];

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Client(ErrorDetail::new(ErrorCode::InvalidField, message).with_field(field))
}

/// 1 to `MAX_REASON_CHARS` characters, no control characters.
fn one_line(field: &str, text: &str) -> Result<String, ApiError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_REASON_CHARS || t.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("{field}: 1 to {MAX_REASON_CHARS} characters, no control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// The one set a recall names; 400 naming the field when there is none or more than one.
fn selection(new: &NewRecall) -> Result<Selection<'_>, ApiError> {
    let codes = new.cylinder_codes.is_some();
    let filled = new.station_code.is_some() || new.filled_from.is_some() || new.filled_to.is_some();
    let batch = new.manufacturer.is_some() || new.production_batch.is_some();
    let incident_batch = new.incident_batch == Some(true);
    match (codes, filled, batch, incident_batch) {
        (false, false, false, true) => {
            if new.incident_id.is_none() {
                return Err(invalid(
                    "incident_id",
                    "a recall of an incident's batch names the incident: incident_id",
                ));
            }
            // Resolved once the incident is read.
            Ok(Selection::IncidentBatch {
                cylinder_id: 0,
                window: None,
            })
        }
        (true, false, false, false) => {
            let list = new.cylinder_codes.as_deref().unwrap_or_default();
            if list.is_empty() || list.len() > MAX_RECALL_CODES {
                return Err(invalid(
                    "cylinder_codes",
                    format!("cylinder_codes: 1 to {MAX_RECALL_CODES} codes"),
                ));
            }
            Ok(Selection::Codes(&[]))
        }
        (false, true, false, false) => {
            let (Some(station), Some(from), Some(to)) =
                (&new.station_code, new.filled_from, new.filled_to)
            else {
                let missing = if new.station_code.is_none() {
                    "station_code"
                } else if new.filled_from.is_none() {
                    "filled_from"
                } else {
                    "filled_to"
                };
                return Err(invalid(
                    missing,
                    "a recall by filling names station_code, filled_from and filled_to",
                ));
            };
            if to < from {
                return Err(invalid("filled_to", "filled_to is before filled_from"));
            }
            Ok(Selection::Filled {
                station_code: station.as_str(),
                from,
                to,
            })
        }
        (false, false, true, false) => {
            let (Some(m), Some(b)) = (&new.manufacturer, &new.production_batch) else {
                let missing = if new.manufacturer.is_none() {
                    "manufacturer"
                } else {
                    "production_batch"
                };
                return Err(invalid(
                    missing,
                    "a recall by batch names manufacturer and production_batch",
                ));
            };
            for (field, v) in [("manufacturer", m), ("production_batch", b)] {
                if v.trim().is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control)
                {
                    return Err(invalid(field, format!("{field}: 1 to 200 characters")));
                }
            }
            Ok(Selection::Batch {
                manufacturer: m.as_str(),
                production_batch: b.as_str(),
            })
        }
        _ => Err(invalid(
            "cylinder_codes",
            "a recall names exactly one set: cylinder_codes; station_code with filled_from and \
             filled_to; manufacturer with production_batch; or incident_batch with incident_id",
        )),
    }
}

/// `POST /api/v1/recalls` (regulators; a district regulator recalls within its district).
#[utoipa::path(post, path = "/api/v1/recalls", tag = "recalls", security(("bearer" = [])), request_body(content = shared::recall::NewRecall, example = json!({"reason": "leak at a customer; same filling batch", "station_code": "ST1", "filled_from": "2026-12-06T08:00:00Z", "filled_to": "2026-12-06T12:00:00Z"})), responses((status = 201, description = "Recalled: every cylinder is refused at the guns (R16) from now until inspected or cleared", body = shared::recall::RecallCreated), (status = 422, description = "The set names no cylinder (nothing written)", body = shared::ErrorBody)))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(REGULATORS)?;
    let new: NewRecall = read_record_up_to(&req, payload, MAX_RECALL_BYTES).await?;
    let reason = one_line("reason", &new.reason)?;
    let scope = user.scope();
    let codes: Vec<String> = new
        .cylinder_codes
        .iter()
        .flatten()
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut selection = selection(&new)?;
    let mut implicated = None;
    if let Some(incident) = new.incident_id {
        // An incident the regulator may see (scoped as the incident routes are).
        let Some(row) = store::incidents::get(&state.pool, &scope, incident).await? else {
            return Err(ApiError::Client(
                ErrorDetail::new(ErrorCode::UnknownReference, "incident_id: no such incident")
                    .with_field("incident_id"),
            ));
        };
        implicated = row.cylinder_id;
    }
    // The incident's batch: its cylinder, the window of its last filling (as its context
    // shows it), its production batch.
    let window;
    if let Selection::IncidentBatch { .. } = selection {
        let Some(cylinder_id) = implicated else {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    "incident_batch: the incident names no cylinder, so it has no batch",
                )
                .with_field("incident_batch"),
            ));
        };
        let last = store::incident_context::last_filling(&state.pool, cylinder_id).await?;
        window = last.and_then(|f| {
            super::incident_context::filling_window(
                f.station_code.as_ref().map(|s| s.as_str()),
                f.ended_at,
                f.medium.as_deref().unwrap_or_default(),
            )
        });
        selection = Selection::IncidentBatch {
            cylinder_id,
            window: window.as_ref(),
        };
    }
    if let Selection::Codes(_) = selection {
        let unknown = store::recalls::unknown_codes(&state.pool, &codes, &scope).await?;
        if let Some(first) = unknown.first() {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    format!(
                        "cylinder_codes: no cylinder {first} (and {} more unknown)",
                        unknown.len() - 1
                    ),
                )
                .with_field("cylinder_codes"),
            ));
        }
        selection = Selection::Codes(&codes);
    }
    let criteria = serde_json::to_value(&new).unwrap_or_default();
    let id = uuid::Uuid::new_v4();
    let count = store::recalls::create(
        &state.pool,
        &store::recalls::NewRecall {
            id,
            reason: &reason,
            incident_id: new.incident_id,
            criteria: &criteria,
            by: &user.username,
            selection,
        },
        &scope,
    )
    .await?;
    if count == 0 {
        let field = if new.cylinder_codes.is_some() {
            "cylinder_codes"
        } else if new.incident_batch == Some(true) {
            "incident_batch"
        } else if new.station_code.is_some() {
            "station_code"
        } else {
            "production_batch"
        };
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::UnknownReference,
                "the recall names no cylinder: nothing recalled",
            )
            .with_field(field),
        ));
    }
    if let Some(incident) = new.incident_id {
        // On the incident's timeline, and pushed with its new recall (issue 22 item 5).
        store::incident_ops::recall_issued(&state.pool, incident, id, &reason, &user.username)
            .await?;
        crate::incidents::publish(&state.pool, &state.publisher, incident).await;
    }
    Ok(HttpResponse::Created().json(RecallCreated { id, count }))
}

fn parse_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::client(ErrorCode::NotFound, "no such recall"))
}

/// `GET /api/v1/recalls/{id}`: the recall, its progress and its cylinders with their last
/// known place — over the share the asker may see (none: 404).
#[utoipa::path(get, path = "/api/v1/recalls/{id}", tag = "recalls", security(("bearer" = [])), params(("id" = String, Path, description = "The recall")), responses((status = 200, description = "The recall and its progress", body = shared::recall::Recall)))]
pub async fn get(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path.into_inner())?;
    let scope = user.scope();
    let (row, progress) = store::recalls::find(&state.pool, id, &scope)
        .await?
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, "no such recall"))?;
    let cylinders = store::recalls::cylinders(&state.pool, id, &scope, RECALL_LIST_LIMIT).await?;
    Ok(HttpResponse::Ok().json(Recall {
        id: row.id,
        reason: row.reason,
        incident_id: row.incident_id,
        criteria: row.criteria,
        created_by: row.created_by,
        created_at: row.created_at,
        progress,
        cylinders,
    }))
}

/// `GET /api/v1/recalls`: the ids of the recalls the asker sees any of, newest first.
#[utoipa::path(get, path = "/api/v1/recalls", tag = "recalls", security(("bearer" = [])), responses((status = 200, description = "Recall ids, newest first (at most 500)", body = Vec<uuid::Uuid>)))]
pub async fn list(user: User, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let ids = store::recalls::list(&state.pool, &user.scope()).await?;
    Ok(HttpResponse::Ok().json(ids))
}

/// `POST /api/v1/recalls/{id}/clear` (regulators): these cylinders are no longer refused.
#[utoipa::path(post, path = "/api/v1/recalls/{id}/clear", tag = "recalls", security(("bearer" = [])), params(("id" = String, Path, description = "The recall")), request_body = shared::recall::ClearRecall, responses((status = 200, description = "Cleared; the recall's progress", body = shared::recall::Recall)))]
pub async fn clear(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(REGULATORS)?;
    let id = parse_id(&path.into_inner())?;
    let scope = user.scope();
    if store::recalls::find(&state.pool, id, &scope)
        .await?
        .is_none()
    {
        return Err(ApiError::client(ErrorCode::NotFound, "no such recall"));
    }
    let body: ClearRecall = read_record_up_to(&req, payload, MAX_RECALL_BYTES).await?;
    let note = one_line("note", &body.note)?;
    if body.cylinder_codes.is_empty() || body.cylinder_codes.len() > MAX_RECALL_CODES {
        return Err(invalid(
            "cylinder_codes",
            format!("cylinder_codes: 1 to {MAX_RECALL_CODES} codes"),
        ));
    }
    let codes: Vec<String> = body
        .cylinder_codes
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let missing = store::recalls::not_recalled(&state.pool, id, &codes, &scope).await?;
    if let Some(first) = missing.first() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::UnknownReference,
                format!("cylinder_codes: {first} is not in this recall"),
            )
            .with_field("cylinder_codes"),
        ));
    }
    store::recalls::clear(&state.pool, id, &codes, &user.username, &note).await?;
    get(web::Path::from(id.to_string()), user, state).await
}
