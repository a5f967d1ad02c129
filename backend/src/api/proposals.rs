//! Proposals (issue 21 item 1.3): what the gun's rules rest on is written by regulators only;
//! an enterprise proposes such a change of its enterprise, staff member or cylinder with a
//! reference to its document, and a regulator over it approves (the change is made as the
//! regulator's, its revision naming the proposal) or rejects it with a reason.

use super::edits::{self, EDITORS};
use super::registry::read_record;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::proposals::NewProposalRow;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};
use shared::auth::{RecordStatus, Role, MAX_REASON_CHARS};
use shared::record::{editable, immutable, NewProposal, ProposalDecision, RecordKind, Writer};
use shared::{ErrorCode, ErrorDetail};

/// The regulators, who decide.
const DECIDERS: [Role; 3] = [Role::Admin, Role::CityRegulator, Role::DistrictRegulator];

fn field_error(code: ErrorCode, field: &str, message: String) -> ApiError {
    ApiError::Client(ErrorDetail::new(code, message).with_field(field))
}

/// Only fields a regulator writes are proposed (the rest the enterprise changes itself).
fn check_proposed(kind: RecordKind, changes: &Map<String, Value>) -> Result<(), ApiError> {
    if changes.is_empty() {
        return Err(field_error(
            ErrorCode::MissingField,
            "changes",
            "changes names no field".to_owned(),
        ));
    }
    for field in changes.keys() {
        let path = format!("changes.{field}");
        if let Some(why) = immutable(kind, field) {
            return Err(field_error(
                ErrorCode::InvalidField,
                &path,
                format!("{field} {why}"),
            ));
        }
        match editable(kind, field) {
            None => {
                return Err(field_error(
                    ErrorCode::UnknownField,
                    &path,
                    format!("unknown field `{field}`: not a field that can be changed"),
                ))
            }
            Some(Writer::Manager) => {
                return Err(field_error(
                    ErrorCode::InvalidField,
                    &path,
                    format!("{field} is not a regulator's field: change it with PATCH"),
                ))
            }
            Some(Writer::Regulator) => {}
        }
    }
    Ok(())
}

async fn propose(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    user: User,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&shared::ids::EnterpriseCode>,
) -> Result<HttpResponse, ApiError> {
    user.require(&EDITORS)?;
    let stored = edits::found(&state, &user, kind, key, enterprise).await?;
    let body: NewProposal = read_record(&req, payload).await?;
    check_proposed(kind, &body.changes)?;
    if stored.status == RecordStatus::Closed {
        return Err(ApiError::client(
            ErrorCode::RecordInactive,
            "the record is closed: nothing is proposed for it",
        ));
    }
    // Checked now as it would be made, so a regulator decides on a change that can be made.
    edits::merged(
        &state,
        &user,
        kind,
        &stored.key,
        &stored.body,
        &body.changes,
    )?;
    let proposal = store::proposals::insert(
        &state.pool,
        &NewProposalRow {
            kind: kind.collection(),
            key: &stored.key,
            enterprise: stored.enterprise_code.as_ref().ok_or_else(|| {
                ApiError::from(anyhow::anyhow!(
                    "a {} record without an enterprise",
                    kind.collection()
                ))
            })?,
            changes: &body.changes,
            document_ref: body.document_ref.as_str(),
            by: &user.username,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(proposal))
}

macro_rules! propose_route {
    ($kind:expr, $name:ident, $path:literal, $param:literal, $what:literal) => {
        #[doc = concat!("`POST ", $path, "`: propose a change a regulator decides.")]
        #[utoipa::path(post, path = $path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what)), request_body = shared::record::NewProposal, responses((status = 201, description = "The proposal, pending", body = shared::record::Proposal)))]
        pub async fn $name(
            req: HttpRequest,
            payload: web::Payload,
            path: web::Path<String>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            propose(req, payload, state, user, $kind, &path.into_inner(), None).await
        }
    };
}

propose_route!(
    RecordKind::Enterprise,
    propose_enterprise,
    "/api/v1/enterprises/{code}/proposals",
    "code",
    "The enterprise's code"
);
propose_route!(
    RecordKind::Cylinder,
    propose_cylinder,
    "/api/v1/cylinders/{code}/proposals",
    "code",
    "The cylinder's code"
);

/// `POST /api/v1/staff/{staff_no}/proposals`: propose a certificate change a regulator decides.
#[utoipa::path(post, path = "/api/v1/staff/{staff_no}/proposals", tag = "registry", security(("bearer" = [])), params(("staff_no" = String, Path, description = "The staff number (unique per enterprise)"), edits::OwnerQuery), request_body = shared::record::NewProposal, responses((status = 201, description = "The proposal, pending", body = shared::record::Proposal)))]
pub async fn propose_staff(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    query: Result<web::Query<edits::OwnerQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let owner = edits::owner_query(query)?;
    let key = path.into_inner();
    propose(
        req,
        payload,
        state,
        user,
        RecordKind::Staff,
        &key,
        owner.as_ref(),
    )
    .await
}

/// `?status=`: `pending`, `approved` or `rejected`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    /// Only proposals in this state.
    pub status: Option<String>,
}

/// `GET /api/v1/proposals[?status=]`: the proposals within the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "registry", security(("bearer" = [])), params(ProposalQuery), responses((status = 200, description = "Proposals, newest first (at most 500)", body = Vec<shared::record::Proposal>)))]
pub async fn list(
    query: Result<web::Query<ProposalQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&EDITORS)?;
    let query = query.map_err(super::QueryError::malformed)?;
    let status = query.into_inner().status;
    if let Some(status) = &status {
        if !["pending", "approved", "rejected"].contains(&status.as_str()) {
            return Err(field_error(
                ErrorCode::InvalidQuery,
                "status",
                "status is pending, approved or rejected".to_owned(),
            ));
        }
    }
    let list = store::proposals::list(&state.pool, &user.scope(), status.as_deref()).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The pending proposal `id` within a regulator's scope: 404 outside it, 409 when decided.
async fn pending(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<shared::record::Proposal, ApiError> {
    user.require(&DECIDERS)?;
    let not_found = || ApiError::client(ErrorCode::NotFound, "no such proposal");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let proposal = store::proposals::get(&state.pool, id, &user.scope())
        .await?
        .ok_or_else(not_found)?;
    if proposal.status != "pending" {
        return Err(ApiError::client(
            ErrorCode::InvalidTransition,
            format!("the proposal was {} already", proposal.status),
        ));
    }
    Ok(proposal)
}

fn decision_reason(
    decision: &ProposalDecision,
    required: bool,
) -> Result<Option<String>, ApiError> {
    let reason = decision
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match reason {
        None if required => Err(field_error(
            ErrorCode::MissingField,
            "reason",
            format!("reason: 1 to {MAX_REASON_CHARS} characters saying why"),
        )),
        Some(r) if r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control) => {
            Err(field_error(
                ErrorCode::InvalidField,
                "reason",
                format!(
                    "reason: 1 to {MAX_REASON_CHARS} characters saying why, no control characters"
                ),
            ))
        }
        _ => Ok(reason.map(str::to_owned)),
    }
}

/// `POST /api/v1/proposals/{id}/approve`: a regulator makes the proposed change.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/approve", tag = "registry", security(("bearer" = [])), params(("id" = String, Path, description = "The proposal")), request_body = shared::record::ProposalDecision, responses((status = 200, description = "Approved: the change is made, its revision names the proposal", body = shared::record::Proposal)))]
pub async fn approve(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let proposal = pending(&state, &user, &path.into_inner()).await?;
    let decision: ProposalDecision = read_record(&req, payload).await?;
    let note = decision_reason(&decision, false)?;
    let kind = RecordKind::from_collection(&proposal.record_kind).ok_or_else(|| {
        ApiError::from(anyhow::anyhow!(
            "proposal {} names no kind of record: {}",
            proposal.id,
            proposal.record_kind
        ))
    })?;
    let key = if kind == RecordKind::Staff {
        let prefix = format!("{}/", proposal.enterprise_code);
        proposal
            .record_key
            .strip_prefix(&prefix)
            .unwrap_or(&proposal.record_key)
            .to_owned()
    } else {
        proposal.record_key.clone()
    };
    let enterprise = (kind == RecordKind::Staff).then_some(&proposal.enterprise_code);
    let stored = edits::found(&state, &user, kind, &key, enterprise).await?;
    edits::check_fields(kind, &user, &proposal.changes)?;
    edits::check_status(kind, &user, stored.status, &proposal.changes)?;
    let reason = match note {
        Some(note) => format!(
            "proposal {} ({}): {note}",
            proposal.id, proposal.document_ref
        ),
        None => format!("proposal {} ({})", proposal.id, proposal.document_ref),
    };
    let approves = Some((reason.as_str(), proposal.id));
    edits::apply(
        &req,
        &state,
        &user,
        kind,
        stored,
        &proposal.changes,
        approves,
    )
    .await?;
    let decided = store::proposals::get(&state.pool, proposal.id, &user.scope())
        .await?
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, "no such proposal"))?;
    Ok(HttpResponse::Ok().json(decided))
}

/// `POST /api/v1/proposals/{id}/reject` with `{"reason"}`: a regulator refuses it.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/reject", tag = "registry", security(("bearer" = [])), params(("id" = String, Path, description = "The proposal")), request_body = shared::record::ProposalDecision, responses((status = 200, description = "Rejected, with the reason", body = shared::record::Proposal)))]
pub async fn reject(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let proposal = pending(&state, &user, &path.into_inner()).await?;
    let decision: ProposalDecision = read_record(&req, payload).await?;
    let reason = decision_reason(&decision, true)?.unwrap_or_default();
    if !store::proposals::reject(&state.pool, proposal.id, &user.username, &reason).await? {
        return Err(ApiError::client(
            ErrorCode::InvalidTransition,
            "the proposal was decided already",
        ));
    }
    let decided = store::proposals::get(&state.pool, proposal.id, &user.scope())
        .await?
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, "no such proposal"))?;
    Ok(HttpResponse::Ok().json(decided))
}
