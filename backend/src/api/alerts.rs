//! `GET /api/v1/alerts`, `GET /api/v1/alerts/{id}`, `POST /api/v1/alerts/{id}/ack` and
//! `/resolve`. Everyone signed in sees the alerts of their scope; duty officers, regulators and
//! administrators handle them. Acknowledging a critical alert and resolving any alert take a
//! note; every handling is audited with its note.

use super::guard::AuditDetails;
use super::registry::read_record;
use crate::access::User;
use crate::alerts::{push, view};
use crate::api::state::AppState;
use crate::error::{ApiError, ModuleError};
use crate::store;
use crate::store::alerts::{AlertRow, Filter};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use shared::alert::{AlertKind, AlertNote, AlertStatus, Severity};
use shared::auth::Role;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::place::SubjectKind;
use shared::ErrorCode;
use std::sync::Arc;
use uuid::Uuid;

/// Roles that acknowledge and resolve alerts.
const HANDLERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::DutyOfficer,
];

/// A note is at most this long (characters).
const MAX_NOTE: usize = 2000;

/// `?status=&kind=&severity=&enterprise_code=&district_code=&subject_type=&subject_id=&limit=&cursor=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<AlertStatus>,
    kind: Option<AlertKind>,
    severity: Option<Severity>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    subject_type: Option<SubjectKind>,
    subject_id: Option<String>,
    /// Opened at or after (RFC 3339).
    from: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Opened before (RFC 3339).
    to: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Acknowledged at some point (`true`) or never (`false`).
    acknowledged: Option<bool>,
    /// Resolved (`true`) or not (`false`).
    resolved: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
    /// `csv`: the whole list as CSV (at most `paged::CSV_MAX` alerts) instead of a page.
    format: Option<String>,
}

/// The columns of an alert list as CSV, in order.
const CSV_COLUMNS: [&str; 16] = [
    "id",
    "kind",
    "severity",
    "status",
    "subject_type",
    "subject_id",
    "enterprise_code",
    "district_code",
    "place_name",
    "opened_at",
    "last_seen_at",
    "count",
    "ack_by",
    "ack_at",
    "resolved_by",
    "resolved_at",
];

fn csv_cells(r: &AlertRow) -> [String; 16] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let time =
        |t: &Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    [
        r.id.to_string(),
        r.kind.name().to_owned(),
        r.severity.name().to_owned(),
        r.status.name().to_owned(),
        r.subject_type.name().to_owned(),
        r.subject_id.clone(),
        r.enterprise_code.as_deref().unwrap_or_default().to_owned(),
        r.district_code.as_deref().unwrap_or_default().to_owned(),
        opt(&r.place_name),
        r.opened_at.to_rfc3339(),
        r.last_seen_at.to_rfc3339(),
        r.count.to_string(),
        opt(&r.ack_by),
        time(&r.ack_at),
        opt(&r.resolved_by),
        time(&r.resolved_at),
    ]
}

/// `GET /api/v1/alerts`: newest activity first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])), params(ListQuery), responses((status = 200, description = "A page of alerts, newest activity first (or CSV with format=csv)", content((shared::cylinder::Page<shared::alert::Alert> = "application/json"), (String = "text/csv")))))]
pub async fn list(
    query: Result<web::Query<ListQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(query.limit)?;
    let after = query
        .cursor
        .as_deref()
        .map(super::parse_cursor)
        .transpose()?;
    let scope = narrowed(
        &state,
        &user,
        query.enterprise_code.as_ref(),
        query.district_code.as_ref(),
    )
    .await?;
    let filter = Filter {
        status: query.status,
        kind: query.kind,
        severity: query.severity,
        subject_type: query.subject_type,
        subject_id: query.subject_id.clone(),
        unresolved: false,
        opened_from: query.from.map(|t| t.with_timezone(&chrono::Utc)),
        opened_to: query.to.map(|t| t.with_timezone(&chrono::Utc)),
        acknowledged: query.acknowledged,
        resolved: query.resolved,
    };
    let csv = super::paged::wants_csv(query.format.as_deref())?;
    let listing = super::paged::Listing {
        what: "alerts",
        file: "alerts.csv",
        columns: &CSV_COLUMNS,
        cells: |r| csv_cells(r).to_vec(),
        after: |r| (r.last_seen_at, r.id),
        cursor: |r| format!("{}_{}", r.last_seen_at.timestamp_micros(), r.id),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, filter) = (state.pool.clone(), Arc::new(scope), Arc::new(filter));
    listing
        .answer(
            csv,
            after,
            limit,
            move |after, n| {
                let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
                async move { store::alerts::list(&pool, &scope, &filter, after, n).await }
            },
            |row| Some(view(row)),
        )
        .await
}

/// `GET /api/v1/alerts/{id}`.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, description = "The alert (uuid)")), responses((status = 200, description = "The alert", body = shared::alert::Alert)))]
pub async fn get(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, &user, &path).await?;
    Ok(HttpResponse::Ok().json(view(row)))
}

/// `POST /api/v1/alerts/{id}/ack` `{"note"}`: open → acknowledged.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, description = "The alert (uuid)")), request_body = shared::alert::AlertNote, responses((status = 200, description = "Acknowledged", body = shared::alert::Alert)))]
pub async fn ack(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    handle(req, payload, path, user, state, Step::Ack).await
}

/// `POST /api/v1/alerts/{id}/resolve` `{"note"}`: open or acknowledged → resolved.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "alerts", security(("bearer" = [])), params(("id" = String, Path, description = "The alert (uuid)")), request_body = shared::alert::AlertNote, responses((status = 200, description = "Resolved", body = shared::alert::Alert)))]
pub async fn resolve(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    handle(req, payload, path, user, state, Step::Resolve).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Ack,
    Resolve,
}

async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
    step: Step,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let body: AlertNote = read_record(&req, payload).await?;
    let note = body.note.trim().to_owned();
    if note.chars().count() > MAX_NOTE {
        return Err(HandleError::NoteTooLong.into());
    }
    let row = find(&state, &user, &path).await?;
    check_note(step, row.severity, &note)?;
    let done = match step {
        Step::Ack => store::alerts::acknowledge(&state.pool, row.id, &user.username, &note).await?,
        Step::Resolve => store::alerts::resolve(&state.pool, row.id, &user.username, &note).await?,
    };
    let Some(done) = done else {
        return Err(match step {
            Step::Ack => HandleError::NotOpen,
            Step::Resolve => HandleError::AlreadyResolved,
        }
        .into());
    };
    let mut details = serde_json::Map::new();
    details.insert("alert_id".into(), done.id.to_string().into());
    details.insert("kind".into(), done.kind.name().into());
    details.insert("note".into(), note.into());
    req.extensions_mut().insert(AuditDetails(details));
    let alert = view(done.clone());
    push(&state.publisher, done);
    Ok(HttpResponse::Ok().json(alert))
}

/// The user's scope narrowed to an enterprise and/or district; another enterprise or district
/// answers as if it did not exist, as the registry does.
pub async fn narrowed(
    state: &AppState,
    user: &User,
    enterprise: Option<&EnterpriseCode>,
    district: Option<&DistrictCode>,
) -> Result<crate::access::Scope, ApiError> {
    let scope = user
        .scope()
        .narrow(
            enterprise.map(EnterpriseCode::as_str),
            district.map(DistrictCode::as_str),
        )
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, "no such enterprise or district"))?;
    if let Some(code) = enterprise {
        if !store::cylinders::enterprise_exists(&state.pool, code, &scope).await? {
            return Err(ApiError::client(
                ErrorCode::NotFound,
                format!("no enterprise {code}"),
            ));
        }
    }
    Ok(scope)
}

/// Why an alert was not acknowledged or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum HandleError {
    #[error("a note is at most {MAX_NOTE} characters")]
    NoteTooLong,
    #[error("acknowledging a critical alert takes a note")]
    CriticalAckWithoutNote,
    #[error("resolving an alert takes a note saying how")]
    ResolveWithoutNote,
    #[error("only an open alert can be acknowledged")]
    NotOpen,
    #[error("the alert is resolved already")]
    AlreadyResolved,
}

impl ModuleError for HandleError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NoteTooLong | Self::CriticalAckWithoutNote | Self::ResolveWithoutNote => {
                ErrorCode::InvalidField
            }
            Self::NotOpen | Self::AlreadyResolved => ErrorCode::InvalidTransition,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::NoteTooLong | Self::CriticalAckWithoutNote | Self::ResolveWithoutNote => {
                Some("note")
            }
            Self::NotOpen | Self::AlreadyResolved => None,
        }
    }
}

/// Whether the (trimmed) note is enough for the step: resolving always takes one, and so does
/// acknowledging a critical alert.
fn check_note(step: Step, severity: Severity, note: &str) -> Result<(), HandleError> {
    match (note.is_empty(), step, severity) {
        (true, Step::Resolve, _) => Err(HandleError::ResolveWithoutNote),
        (true, Step::Ack, Severity::Critical) => Err(HandleError::CriticalAckWithoutNote),
        _ => Ok(()),
    }
}

/// The alert with that id within the user's scope; outside it, as if there were none.
async fn find(state: &AppState, user: &User, id: &str) -> Result<AlertRow, ApiError> {
    let not_found = || ApiError::client(ErrorCode::NotFound, format!("no alert {id}"));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    store::alerts::get(&state.pool, &user.scope(), id)
        .await?
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolving_always_and_acknowledging_a_critical_alert_take_a_note() {
        for severity in [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(
                check_note(Step::Resolve, severity, ""),
                Err(HandleError::ResolveWithoutNote)
            );
            assert_eq!(check_note(Step::Resolve, severity, "换瓶"), Ok(()));
            assert_eq!(check_note(Step::Ack, severity, "已通知"), Ok(()));
        }
        assert_eq!(
            check_note(Step::Ack, Severity::Critical, ""),
            Err(HandleError::CriticalAckWithoutNote)
        );
        assert_eq!(check_note(Step::Ack, Severity::High, ""), Ok(()));
    }

    #[test]
    fn each_refusal_has_its_code_and_field() {
        let detail = |e: HandleError| match ApiError::from(e) {
            ApiError::Client(d) => (d.code, d.field),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            detail(HandleError::CriticalAckWithoutNote),
            (ErrorCode::InvalidField, Some("note".to_owned()))
        );
        assert_eq!(
            detail(HandleError::AlreadyResolved),
            (ErrorCode::InvalidTransition, None)
        );
    }
}
