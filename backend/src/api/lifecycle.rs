//! Cylinder lifecycle operations (issue 21 item 4): replacing a cylinder's tag.

use super::registry::{read_record, write_error};
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::auth::{Role, MAX_REASON_CHARS};
use shared::lifecycle::{ReplaceTag, TagReplacement};
use shared::{ErrorCode, ErrorDetail};

/// Who may replace a tag: the owner enterprise's admin, or a city regulator or admin (the
/// same as who archives cylinders).
const REPLACERS: &[Role] = &[Role::Admin, Role::CityRegulator, Role::EnterpriseAdmin];

/// `POST /api/v1/cylinders/{code}/replace-tag`: binds a new tag; the old one is void for ever.
#[utoipa::path(post, path = "/api/v1/cylinders/{code}/replace-tag", tag = "cylinders", security(("bearer" = [])), params(("code" = String, Path, description = "The cylinder")), request_body(content = shared::lifecycle::ReplaceTag, example = json!({"tag_id": "E2003412AB02", "reason": "tag damaged"})), responses((status = 200, description = "Replaced: the old tag is void for ever, the cylinder's version went up by one", body = shared::lifecycle::TagReplacement)))]
pub async fn replace_tag(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(REPLACERS)?;
    let scope = user.scope();
    let code = path.into_inner();
    // Another enterprise's cylinder answers as no cylinder.
    let record = super::cylinders::find(&state, Some(&code), None, &scope).await?;
    let body: ReplaceTag = read_record(&req, payload).await?;
    // A suspended or closed enterprise gets no new tag bound, as it gets no new records.
    super::inactive::require_active_enterprise(&state, record.owner_enterprise_code.as_str())
        .await?;
    let reason = body.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON_CHARS
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                format!(
                    "reason: 1 to {MAX_REASON_CHARS} characters saying why, no control characters"
                ),
            )
            .with_field("reason"),
        ));
    }
    let replaced = store::lifecycle::replace_tag(
        &state.pool,
        record.id,
        &body.tag_id,
        reason,
        &user.username,
        &scope,
    )
    .await
    .map_err(|e| write_error(e, "cylinder", "code"))?;
    Ok(HttpResponse::Ok().json(TagReplacement {
        code: record.code,
        old_tag_id: replaced.old_tag_id,
        tag_id: body.tag_id,
        version: replaced.version,
        reason: reason.to_owned(),
        by: user.username.clone(),
        at: replaced.at,
    }))
}
