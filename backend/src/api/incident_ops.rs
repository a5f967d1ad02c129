//! Running an incident (issue 22 items 4 and 6): responder units
//! (`POST`/`GET /api/v1/responder-units`), their tasks (`POST /api/v1/incidents/{id}/tasks`,
//! `POST /api/v1/incidents/{id}/tasks/{task_id}/status`), the owning enterprises'
//! acknowledgement (`POST /api/v1/incidents/{id}/ack`) and the downloads
//! (`GET /api/v1/incidents/{id}/report.csv`, `GET /api/v1/incidents/{id}/timeline.json`).
//!
//! Units do not sign in: regulators register them, duty officers and regulators record what
//! they report. Every task and every move of one lands on the incident's timeline and is
//! pushed on the live `incident` topic; so is each acknowledgement. Only the enterprises an
//! incident is about acknowledge it (a regulator or duty officer: 403 `forbidden`).

use super::incidents::{answer, audit, find, HANDLERS};
use super::registry::read_record;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::incidents::Viewer;
use crate::rules::compliance::to_beijing;
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::auth::Role;
use shared::incident::{
    IncidentStatus, NewResponderUnit, NewTask, ResponderUnit, TaskStatusChange,
};
use shared::{ErrorCode, ErrorDetail};
use uuid::Uuid;

/// Who registers responder units (city-wide records: not a district regulator).
const REGISTRARS: [Role; 2] = [Role::Admin, Role::CityRegulator];

/// Who acknowledges for an enterprise.
const ACKNOWLEDGERS: [Role; 2] = [Role::EnterpriseAdmin, Role::EnterpriseStaff];

/// Task descriptions and notes are at most this long (characters).
const MAX_TEXT: usize = 2000;

fn field_error(code: ErrorCode, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Client(ErrorDetail::new(code, message).with_field(field))
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    field_error(ErrorCode::InvalidField, field, message)
}

/// A required text: trimmed, 1 to `max` characters; no control characters unless `multiline`
/// (which still refuses all but line breaks and tabs).
fn text(value: &str, field: &str, max: usize, multiline: bool) -> Result<String, ApiError> {
    let value = value.trim();
    let bad_char = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if value.is_empty() || value.chars().count() > max || value.chars().any(bad_char) {
        return Err(invalid(
            field,
            format!("{field}: 1 to {max} characters, no control characters"),
        ));
    }
    Ok(value.to_owned())
}

fn unit_view(u: store::incident_ops::UnitRow) -> ResponderUnit {
    ResponderUnit {
        kind: u.kind,
        code: u.code,
        name: u.name,
        phone: u.phone,
        created_by: u.created_by,
        created_at: to_beijing(u.created_at),
    }
}

/// `POST /api/v1/responder-units` (regulators): registers a unit.
#[utoipa::path(post, path = "/api/v1/responder-units", tag = "incidents", security(("bearer" = [])), request_body(content = shared::incident::NewResponderUnit, example = json!({"code": "FIRE-JS", "name": "金水区消防救援站", "kind": "fire", "phone": "119"})), responses((status = 201, description = "Registered", body = shared::incident::ResponderUnit), (status = 409, description = "The code is taken (nothing changed)", body = shared::ErrorBody)))]
pub async fn create_unit(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&REGISTRARS)?;
    let body: NewResponderUnit = read_record(&req, payload).await?;
    let code = body.code.trim();
    if code.is_empty()
        || code.chars().count() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("code", "code: 1 to 32 letters, digits, '-' or '_'"));
    }
    let name = text(&body.name, "name", 100, false)?;
    let phone = body.phone.trim();
    if !(3..=32).contains(&phone.chars().count())
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        return Err(invalid(
            "phone",
            "phone: 3 to 32 digits, spaces, '+' or '-'",
        ));
    }
    let inserted = store::incident_ops::insert_unit(
        &state.pool,
        code,
        &name,
        body.kind.name(),
        phone,
        &user.username,
    )
    .await?;
    if !inserted {
        return Err(field_error(
            ErrorCode::AlreadyExists,
            "code",
            format!("a responder unit {code} is already registered"),
        ));
    }
    let unit = store::incident_ops::unit(&state.pool, code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("responder unit {code} vanished after insert"))?;
    Ok(HttpResponse::Created().json(unit_view(unit)))
}

/// `GET /api/v1/responder-units` (regulators, duty officers, administrators).
#[utoipa::path(get, path = "/api/v1/responder-units", tag = "incidents", security(("bearer" = [])), responses((status = 200, description = "Every unit, by code", body = Vec<shared::incident::ResponderUnit>)))]
pub async fn list_units(user: User, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let units: Vec<ResponderUnit> = store::incident_ops::units(&state.pool)
        .await?
        .into_iter()
        .map(unit_view)
        .collect();
    Ok(HttpResponse::Ok().json(units))
}

/// A closed incident takes no new tasks nor task updates (reopen it first).
fn refuse_closed(row: &store::incidents::IncidentRow) -> Result<(), ApiError> {
    if row.status == IncidentStatus::Closed {
        return Err(ApiError::client(
            ErrorCode::RecordInactive,
            "the incident is closed; reopen it (status responding) first",
        ));
    }
    Ok(())
}

/// `POST /api/v1/incidents/{id}/tasks` `{"unit_code","what","due_at"}`: assigns a task.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), request_body(content = shared::incident::NewTask, example = json!({"unit_code": "FIRE-JS", "what": "关阀、疏散、警戒", "due_at": "2026-12-07T12:30:00+08:00"})), responses((status = 201, description = "Assigned (on the timeline)", body = shared::incident::IncidentTask), (status = 409, description = "The incident is closed", body = shared::ErrorBody)))]
pub async fn create_task(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let row = find(&state, &user, &path).await?;
    let body: NewTask = read_record(&req, payload).await?;
    let what = text(&body.what, "what", MAX_TEXT, true)?;
    let due_at = body.due_at.with_timezone(&chrono::Utc);
    if due_at <= chrono::Utc::now() {
        return Err(invalid("due_at", "due_at must lie in the future"));
    }
    let unit_code = body.unit_code.trim();
    let unit = match unit_code.chars().count() {
        1..=32 => store::incident_ops::unit(&state.pool, unit_code).await?,
        _ => None,
    }
    .ok_or_else(|| {
        field_error(
            ErrorCode::UnknownReference,
            "unit_code",
            "unit_code names no registered responder unit",
        )
    })?;
    refuse_closed(&row)?;
    let id = Uuid::new_v4();
    store::incident_ops::insert_task(
        &state.pool,
        row.id,
        id,
        &unit.code,
        &what,
        due_at,
        &user.username,
    )
    .await?;
    audit(&req, row.id, "task_assigned", &unit.code);
    crate::incidents::publish(&state.pool, &state.publisher, row.id).await;
    task_answer(&state, row.id, id, HttpResponse::Created()).await
}

async fn task_answer(
    state: &AppState,
    incident: Uuid,
    task: Uuid,
    mut builder: actix_web::HttpResponseBuilder,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::system();
    let parts = crate::incidents::parts(&state.pool, incident, &viewer).await?;
    let task = parts
        .tasks
        .into_iter()
        .find(|t| t.id == task)
        .ok_or_else(|| anyhow::anyhow!("task {task} vanished"))?;
    Ok(builder.json(task))
}

/// `POST /api/v1/incidents/{id}/tasks/{task_id}/status` `{"status","note"?}`: what the unit
/// reported. Forward only (`assigned → en_route → on_scene → done`, steps may be skipped), or
/// `cancelled` from any but `done`.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks/{task_id}/status", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)"), ("task_id" = String, Path, description = "The task (uuid)")), request_body = shared::incident::TaskStatusChange, responses((status = 200, description = "Moved (on the timeline)", body = shared::incident::IncidentTask), (status = 409, description = "Not a forward move, or the incident is closed", body = shared::ErrorBody)))]
pub async fn task_status(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<(String, String)>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let (incident, task) = path.into_inner();
    let row = find(&state, &user, &incident).await?;
    let no_task = || ApiError::client(ErrorCode::NotFound, format!("no task {task}"));
    let task_id = Uuid::parse_str(&task).map_err(|_| no_task())?;
    let task = store::incident_ops::task(&state.pool, row.id, task_id)
        .await?
        .ok_or_else(no_task)?;
    let body: TaskStatusChange = read_record(&req, payload).await?;
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(text(n, "note", MAX_TEXT, true)?),
    };
    let from = task.status;
    if !from.may_move_to(body.status) {
        return Err(field_error(
            ErrorCode::InvalidTransition,
            "status",
            format!(
                "a task moves forward only (assigned → en_route → on_scene → done) or is \
                 cancelled before it is done; not {} → {}",
                from.name(),
                body.status.name()
            ),
        ));
    }
    refuse_closed(&row)?;
    let moved = store::incident_ops::set_task_status(
        &state.pool,
        row.id,
        &task,
        from.name(),
        body.status.name(),
        note.as_deref(),
        &user.username,
    )
    .await?;
    if !moved {
        return Err(field_error(
            ErrorCode::InvalidTransition,
            "status",
            "the task's status changed meanwhile; read it again",
        ));
    }
    audit(&req, row.id, "task_status", body.status.name());
    crate::incidents::publish(&state.pool, &state.publisher, row.id).await;
    task_answer(&state, row.id, task.id, HttpResponse::Ok()).await
}

/// `POST /api/v1/incidents/{id}/ack` (the users of an enterprise the incident is about; no
/// body): acknowledges it for that enterprise. Again: `200` with nothing new.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/ack", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), responses((status = 201, description = "Acknowledged (on the timeline): the incident", body = shared::incident::Incident), (status = 200, description = "Acknowledged before: the incident, unchanged", body = shared::incident::Incident), (status = 403, description = "Not an enterprise's user (regulators and duty officers do not acknowledge)", body = shared::ErrorBody)))]
pub async fn ack(
    req: HttpRequest,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Outside the scope first (another enterprise: 404), then the role.
    let row = find(&state, &user, &path).await?;
    user.require(&ACKNOWLEDGERS)?;
    let enterprise = user
        .enterprise_code
        .as_ref()
        .map(|e| e.as_str().to_owned())
        .filter(|e| row.enterprise_codes.iter().any(|c| c.as_str() == e))
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, format!("no incident {}", row.id)))?;
    let new = store::incident_ops::ack(&state.pool, row.id, &enterprise, &user.username).await?;
    if !new {
        return answer(&state, &user, row.id, HttpResponse::Ok()).await;
    }
    audit(&req, row.id, "acknowledged", &enterprise);
    crate::incidents::publish(&state.pool, &state.publisher, row.id).await;
    answer(&state, &user, row.id, HttpResponse::Created()).await
}

/// The CSV report's columns.
const REPORT_COLUMNS: [&str; 19] = [
    "code",
    "owner_enterprise_code",
    "medium",
    "compliance",
    "custody",
    "place_kind",
    "place_code",
    "lon",
    "lat",
    "last_seen_at",
    "implicated_by",
    "recall_id",
    "recalled_at",
    "located_at",
    "recovered_at",
    "inspected_at",
    "cleared_at",
    "recall_state",
    "incident_id",
];

fn at(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| to_beijing(t).to_rfc3339()).unwrap_or_default()
}

/// `GET /api/v1/incidents/{id}/report.csv`: the implicated cylinders (the incident's own, then
/// those of its recalls) within the asker's share, with their owner, medium, compliance, last
/// known place and recall state. UTF-8 with a byte-order mark (for Excel), as a download.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/report.csv", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), responses((status = 200, description = "The implicated cylinders (text/csv, UTF-8 with BOM, attachment)", content((String = "text/csv")))))]
pub async fn report_csv(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, &user, &path).await?;
    let _slot = state.exports.take(&user)?;
    let rows = store::incident_ops::report(&state.pool, row.id, &user.scope()).await?;
    let mut out: Vec<u8> = "\u{feff}".as_bytes().to_vec();
    out.extend_from_slice(&super::paged::csv_line(
        REPORT_COLUMNS.iter().map(|c| (*c).to_owned()),
    )?);
    for r in rows {
        let compliance = super::incident_context::compliance_of(
            &state,
            r.next_inspection_on,
            r.manufactured_on,
            r.design_life_years,
            r.registered,
            r.scrapped_at,
        );
        let recall = r.source != "incident";
        let recall_state = match (
            recall,
            r.cleared_at,
            r.inspected_at,
            r.recovered_at,
            r.located_at,
        ) {
            (false, ..) => "",
            (true, Some(_), ..) => "cleared",
            (true, None, Some(_), ..) => "inspected",
            (true, None, None, Some(_), _) => "recovered",
            (true, None, None, None, Some(_)) => "located",
            (true, None, None, None, None) => "open",
        };
        let cells = [
            r.code.into(),
            r.owner_enterprise_code.into(),
            r.medium,
            compliance.name().to_owned(),
            r.custody.map(|c| c.name().to_owned()).unwrap_or_default(),
            r.place_kind
                .map(|k| k.name().to_owned())
                .unwrap_or_default(),
            r.place_code.unwrap_or_default(),
            r.lon.map(|v| format!("{v:.6}")).unwrap_or_default(),
            r.lat.map(|v| format!("{v:.6}")).unwrap_or_default(),
            at(r.last_seen_at),
            if recall { "recall" } else { "incident" }.to_owned(),
            if recall { r.source } else { String::new() },
            at(r.recalled_at),
            at(r.located_at),
            at(r.recovered_at),
            at(r.inspected_at),
            at(r.cleared_at),
            recall_state.to_owned(),
            row.id.to_string(),
        ];
        out.extend_from_slice(&super::paged::csv_line(cells)?);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"incident-{}-report.csv\"", row.id),
        ))
        .body(out))
}

/// `GET /api/v1/incidents/{id}/timeline.json`: the incident with its timeline, tasks,
/// acknowledgements and recalls, as the asker's GET answers it, as a download.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline.json", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), responses((status = 200, description = "The incident, its timeline, tasks and acknowledgements (attachment)", body = shared::incident::Incident)))]
pub async fn timeline_json(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, &user, &path).await?;
    let incident = crate::incidents::view(&state.pool, &Viewer::of(&user), row.id)
        .await?
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, format!("no incident {}", row.id)))?;
    let body = serde_json::to_vec_pretty(&incident).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"incident-{}-timeline.json\"", row.id),
        ))
        .body(body))
}
