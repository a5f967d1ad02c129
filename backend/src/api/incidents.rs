//! Incidents (应急联动, issue 22): `POST /api/v1/incidents`, `GET /api/v1/incidents`,
//! `GET /api/v1/incidents/{id}`, `POST /api/v1/incidents/{id}/timeline`,
//! `POST /api/v1/incidents/{id}/status`, `GET /api/v1/incidents/{id}/context`.
//!
//! Duty officers, regulators (a district regulator within its district) and administrators open
//! and handle incidents; the enterprises an incident is about read it (without callers' and
//! customers' personal fields). Every write is audited by the guard middleware and lands on the
//! incident's append-only timeline.

use super::guard::AuditDetails;
use super::incident_context;
use super::registry::read_record;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::incidents::Viewer;
use crate::store;
use crate::store::incidents::{IncidentRow, NewIncident as NewRow};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use shared::auth::Role;
use shared::cylinder::Page;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::incident::{
    IncidentKind, IncidentNote, IncidentStatus, IncidentStatusChange, NewIncident, TimelineWhat,
    Transition,
};
use shared::{ErrorCode, ErrorDetail, GeoPoint};
use uuid::Uuid;

/// Roles that open and handle incidents and see personal fields.
pub(super) use crate::incidents::HANDLERS;

/// Descriptions and notes are at most this long (characters).
const MAX_TEXT: usize = 2000;
/// Callers' names and phone numbers are at most this long (characters).
const MAX_CALLER: usize = 64;

fn field_error(code: ErrorCode, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Client(ErrorDetail::new(code, message).with_field(field))
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    field_error(ErrorCode::InvalidField, field, message)
}

/// A required text: trimmed, not empty, at most `max` characters.
fn text(value: &str, field: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(invalid(
            field,
            format!("{field} is at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn privileged(user: &User) -> bool {
    crate::incidents::privileged(user)
}

/// The incident with that id within the user's scope; outside it, as if there were none.
pub(super) async fn find(state: &AppState, user: &User, id: &str) -> Result<IncidentRow, ApiError> {
    let not_found = || ApiError::client(ErrorCode::NotFound, format!("no incident {id}"));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    store::incidents::get(&state.pool, &user.scope(), id)
        .await?
        .ok_or_else(not_found)
}

/// The implicated cylinder named by code, tag or serial number (at most one of them), within
/// the user's scope: its code, id, owner and last known place.
async fn cylinder_of(
    state: &AppState,
    user: &User,
    body: &NewIncident,
) -> Result<Option<store::cylinders::CylinderRecord>, ApiError> {
    let named: Vec<(&str, &str)> = [
        ("cylinder_code", body.cylinder_code.as_deref()),
        ("tag_id", body.tag_id.as_deref()),
        ("serial_no", body.serial_no.as_deref()),
    ]
    .into_iter()
    .filter_map(|(field, v)| v.map(|v| (field, v.trim())))
    .collect();
    let (field, value) = match named.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        [_, (second, _), ..] => {
            return Err(invalid(
                second,
                "name the cylinder by one of cylinder_code, tag_id or serial_no",
            ))
        }
    };
    let unknown = || {
        field_error(
            ErrorCode::UnknownReference,
            field,
            format!("{field} names no known cylinder"),
        )
    };
    if value.is_empty() || value.chars().count() > 64 {
        return Err(unknown());
    }
    let code = match field {
        "serial_no" => store::incidents::code_by_serial(&state.pool, value)
            .await?
            .ok_or_else(unknown)?,
        _ => value.to_owned(),
    };
    let (code, tag) = match field {
        "tag_id" => (None, Some(code.as_str())),
        _ => (Some(code.as_str()), None),
    };
    store::cylinders::record(&state.pool, code, tag, &user.scope())
        .await?
        .map(Some)
        .ok_or_else(unknown)
}

/// `POST /api/v1/incidents`: opens an incident.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])), request_body = shared::incident::NewIncident, responses((status = 201, description = "Opened", body = shared::incident::Incident)))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let body: NewIncident = read_record(&req, payload).await?;
    let description = text(&body.description, "description", MAX_TEXT)?;
    let caller = match &body.caller {
        Some(c) => Some((
            text(&c.name, "caller.name", MAX_CALLER)?,
            text(&c.phone, "caller.phone", MAX_CALLER)?,
        )),
        None => None,
    };
    let cylinder = cylinder_of(&state, &user, &body).await?;
    let alert = match &body.alert_id {
        Some(id) => {
            let unknown = || {
                field_error(
                    ErrorCode::UnknownReference,
                    "alert_id",
                    "alert_id names no known alert",
                )
            };
            Some(
                store::alerts::get(&state.pool, &user.scope(), *id)
                    .await?
                    .ok_or_else(unknown)?,
            )
        }
        None => None,
    };
    // An alert about a cylinder implicates it when no cylinder was named.
    let cylinder = match (cylinder, &alert) {
        (Some(c), _) => Some(c),
        (None, Some(a)) if a.subject_type == shared::place::SubjectKind::Cylinder => {
            store::cylinders::record(&state.pool, Some(&a.subject_id), None, &user.scope()).await?
        }
        (None, _) => None,
    };
    let place = match (&body.place, &cylinder, &alert) {
        (Some(p), _, _) => Some((p.lon(), p.lat())),
        (None, Some(c), _) if c.lon.is_some() && c.lat.is_some() => c.lon.zip(c.lat),
        (None, _, Some(a)) => a.lon.zip(a.lat),
        _ => None,
    };
    if place.is_none() && cylinder.is_none() && alert.is_none() {
        return Err(invalid(
            "place",
            "an incident needs a place, a cylinder (cylinder_code, tag_id or serial_no) or an alert_id",
        ));
    }
    let district = match place {
        Some((lon, lat)) if !state.districts.is_empty() => match state.districts.at(lon, lat) {
            Some(d) => Some(d.to_owned()),
            None if body.place.is_some() => {
                return Err(invalid("place", "the place lies outside the city"))
            }
            None => None,
        },
        _ => None,
    };
    // A district regulator opens incidents in its district (or about its district's cylinders).
    if user.role == Role::DistrictRegulator {
        let own = user.district_code.as_ref().map(|d| d.as_str().to_owned());
        if cylinder.is_none() && alert.is_none() && district != own {
            return Err(field_error(
                ErrorCode::Forbidden,
                "place",
                "the place lies outside your district",
            ));
        }
    }
    let mut enterprises: Vec<EnterpriseCode> = cylinder
        .iter()
        .map(|c| c.owner_enterprise_code.clone())
        .chain(alert.iter().filter_map(|a| a.enterprise_code.clone()))
        .collect();
    enterprises.sort();
    enterprises.dedup();
    let id = Uuid::new_v4();
    let row = NewRow {
        id,
        kind: body.kind.name(),
        level: body.level.name(),
        description: &description,
        cylinder_id: cylinder.as_ref().map(|c| c.id),
        alert_id: alert.as_ref().map(|a| a.id),
        place,
        district_code: district.as_deref(),
        enterprise_codes: enterprises,
        caller: caller.as_ref().map(|(n, p)| (n.as_str(), p.as_str())),
        opened_by: &user.username,
    };
    let mut tx = state.pool.begin().await.map_err(anyhow::Error::from)?;
    store::incidents::insert(&mut tx, &row).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    let stored = store::incidents::get(&state.pool, &crate::access::Scope::system(), id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("incident {id} vanished after insert"))?;
    // The snapshot: the whole context as it was when the incident was opened (each list up
    // to its longest page: a record of what was there, not a screen).
    let full = Viewer {
        scope: crate::access::Scope::system(),
        privileged: true,
    };
    let context = incident_context::assemble(
        &state,
        &stored,
        &full,
        incident_context::DEFAULT_RADIUS_M,
        shared::incident::MAX_CONTEXT_LIMIT,
    )
    .await?;
    let context = serde_json::to_value(&context).map_err(anyhow::Error::from)?;
    store::incidents::save_context(&state.pool, id, &context, None).await?;
    let mut details = serde_json::Map::new();
    details.insert("incident_id".into(), id.to_string().into());
    details.insert("kind".into(), body.kind.name().into());
    req.extensions_mut().insert(AuditDetails(details));
    crate::incidents::publish(&state.pool, &state.publisher, id).await;
    answer(&state, &user, id, HttpResponse::Created()).await
}

/// `?kind=&status=&enterprise_code=&from=&to=&limit=&cursor=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<IncidentKind>,
    /// One status, several separated by commas (`open,responding`), or `active` (every status
    /// but `closed`: what a console or the wall loads on connect).
    status: Option<String>,
    /// Incidents about this enterprise.
    enterprise_code: Option<EnterpriseCode>,
    /// Incidents in this district or about its enterprises (within the asker's scope).
    district_code: Option<DistrictCode>,
    /// Opened at or after (RFC 3339).
    from: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Opened before (RFC 3339).
    to: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Words found (case-insensitively) in the description, the cylinder's code or a timeline
    /// note (1 to 100 characters).
    q: Option<String>,
    /// `lon,lat`: incidents whose place is within `radius_m` of it.
    near: Option<String>,
    /// Metres around `near` (default 500, 1 to 50000).
    radius_m: Option<f64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn query_error(field: &str, message: impl Into<String>) -> ApiError {
    field_error(ErrorCode::InvalidQuery, field, message)
}

/// `status=`: the statuses it names (`active`: all but closed).
fn statuses(raw: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim) {
        if name == "active" {
            out.extend(
                [
                    IncidentStatus::Open,
                    IncidentStatus::Responding,
                    IncidentStatus::Contained,
                ]
                .map(|s| s.name().to_owned()),
            );
            continue;
        }
        let status = IncidentStatus::from_name(name).ok_or_else(|| {
            query_error(
                "status",
                "status: open, responding, contained, closed or active, or several separated by commas",
            )
        })?;
        out.push(status.name().to_owned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `near=lon,lat&radius_m=`.
fn near(state: &AppState, q: &ListQuery) -> Result<Option<(f64, f64, f64)>, ApiError> {
    let Some(raw) = q.near.as_deref() else {
        return match q.radius_m {
            Some(_) => Err(query_error("radius_m", "radius_m goes with near=lon,lat")),
            None => Ok(None),
        };
    };
    let bad = || query_error("near", "near: lon,lat of a place in the city");
    let (lon, lat) = raw.split_once(',').ok_or_else(bad)?;
    let lon: f64 = lon.trim().parse().map_err(|_| bad())?;
    let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
    let point = GeoPoint::new(lon, lat).map_err(|_| bad())?;
    if !state.districts.is_empty() && state.districts.at(point.lon(), point.lat()).is_none() {
        return Err(bad());
    }
    let radius = q.radius_m.unwrap_or(incident_context::DEFAULT_RADIUS_M);
    if !(1.0..=50_000.0).contains(&radius) {
        return Err(query_error(
            "radius_m",
            "radius_m must be between 1 and 50000",
        ));
    }
    Ok(Some((point.lon(), point.lat(), radius)))
}

/// `GET /api/v1/incidents`: newest first; also the search of closed incidents
/// (`status=closed&kind=&enterprise_code=&district_code=&from=&to=&q=&near=&radius_m=`).
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])), params(ListQuery), responses((status = 200, description = "A page of incidents, newest first (timelines, tasks and recalls left out; acknowledgements in)", body = shared::cylinder::Page<shared::incident::Incident>)))]
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
    let from = query.from.map(|t| t.with_timezone(&chrono::Utc));
    let to = query.to.map(|t| t.with_timezone(&chrono::Utc));
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(super::QueryError::WindowOrder.into());
        }
    }
    let statuses = statuses(query.status.as_deref())?;
    let q = match query.q.as_deref().map(str::trim) {
        None => None,
        Some(q) if q.is_empty() || q.chars().count() > 100 || q.chars().any(char::is_control) => {
            return Err(query_error("q", "q: 1 to 100 characters"))
        }
        Some(q) => Some(q.to_owned()),
    };
    let near = near(&state, &query)?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_ref(),
        query.district_code.as_ref(),
    )
    .await?;
    let filter = store::incidents::Filter {
        kind: query.kind.map(|k| k.name().to_owned()),
        statuses,
        q,
        near,
        from,
        to,
    };
    let rows = store::incidents::list(&state.pool, &scope, &filter, after, limit + 1).await?;
    let (rows, next_cursor) = super::paged::trim_page(rows, limit, |r| {
        format!("{}_{}", r.opened_at.timestamp_micros(), r.id)
    });
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut acks = crate::incidents::acks_of(&state.pool, &ids).await?;
    let viewer = Viewer::of(&user);
    let items = rows
        .into_iter()
        .map(|r| {
            let parts = crate::incidents::Parts {
                acks: acks.remove(&r.id).unwrap_or_default(),
                ..Default::default()
            };
            crate::incidents::assemble(r, parts, &viewer)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// `GET /api/v1/incidents/{id}`: the incident with its timeline.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), responses((status = 200, description = "The incident with its timeline", body = shared::incident::Incident)))]
pub async fn get(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = find(&state, &user, &path).await?;
    answer(&state, &user, row.id, HttpResponse::Ok()).await
}

/// `POST /api/v1/incidents/{id}/timeline` `{"note"}`: a note on the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/timeline", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), request_body = shared::incident::IncidentNote, responses((status = 201, description = "Noted: the incident with its timeline", body = shared::incident::Incident)))]
pub async fn note(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let row = find(&state, &user, &path).await?;
    let body: IncidentNote = read_record(&req, payload).await?;
    let note = text(&body.note, "note", MAX_TEXT)?;
    store::incidents::add_note(&state.pool, row.id, &user.username, &note).await?;
    audit(&req, row.id, "note", &note);
    crate::incidents::publish(&state.pool, &state.publisher, row.id).await;
    answer(&state, &user, row.id, HttpResponse::Created()).await
}

/// `POST /api/v1/incidents/{id}/status` `{"status","note"?}`: forward only; `responding` from
/// contained or closed reopens it.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/status", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)")), request_body = shared::incident::IncidentStatusChange, responses((status = 200, description = "Moved: the incident with its timeline", body = shared::incident::Incident)))]
pub async fn status(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&HANDLERS)?;
    let row = find(&state, &user, &path).await?;
    let body: IncidentStatusChange = read_record(&req, payload).await?;
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(text(n, "note", MAX_TEXT)?),
    };
    let from = row.status;
    let what = match from.transition(body.status) {
        Some(Transition::Forward) => TimelineWhat::Status,
        Some(Transition::Reopen) => TimelineWhat::Reopened,
        None => {
            return Err(field_error(
                ErrorCode::InvalidTransition,
                "status",
                format!(
                    "an incident moves forward only (open → responding → contained → closed), \
                     or is reopened to responding; not {} → {}",
                    from.name(),
                    body.status.name()
                ),
            ))
        }
    };
    let moved = store::incidents::set_status(
        &state.pool,
        row.id,
        from.name(),
        body.status.name(),
        what.name(),
        &user.username,
        note.as_deref(),
    )
    .await?;
    if !moved {
        return Err(field_error(
            ErrorCode::InvalidTransition,
            "status",
            "the incident's status changed meanwhile; read it again",
        ));
    }
    audit(&req, row.id, what.name(), body.status.name());
    crate::incidents::publish(&state.pool, &state.publisher, row.id).await;
    answer(&state, &user, row.id, HttpResponse::Ok()).await
}

pub(super) fn audit(req: &HttpRequest, id: Uuid, what: &str, value: &str) {
    let mut details = serde_json::Map::new();
    details.insert("incident_id".into(), id.to_string().into());
    details.insert(what.to_owned(), value.into());
    req.extensions_mut().insert(AuditDetails(details));
}

/// The whole incident as `user` may see it (as `GET /api/v1/incidents/{id}` answers it).
pub(super) async fn answer(
    state: &AppState,
    user: &User,
    id: Uuid,
    mut builder: actix_web::HttpResponseBuilder,
) -> Result<HttpResponse, ApiError> {
    let incident = crate::incidents::view(&state.pool, &Viewer::of(user), id)
        .await?
        .ok_or_else(|| ApiError::client(ErrorCode::NotFound, format!("no incident {id}")))?;
    Ok(builder.json(incident))
}

/// `?radius_m=` (default 500, 50..=5000).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContextQuery {
    /// Metres around the incident (default 500, 50 to 5000).
    #[param(value_type = Option<f64>)]
    radius_m: Option<String>,
    /// The most rows of each list, nearest (or first) first (default 100, 1 to 500); each
    /// list's total is given beside it.
    #[param(value_type = Option<i64>)]
    limit: Option<String>,
}

/// `GET /api/v1/incidents/{id}/context`: recomputed now, for the asker's scope.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/context", tag = "incidents", security(("bearer" = [])), params(("id" = String, Path, description = "The incident (uuid)"), ContextQuery), responses((status = 200, description = "The incident's context", body = shared::incident::IncidentContext)))]
pub async fn context(
    path: web::Path<String>,
    query: Result<web::Query<ContextQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    // Parsed here, not by the extractor, so that a value that is not a number is refused
    // naming its field too.
    let radius = match query.radius_m.as_deref() {
        None => incident_context::DEFAULT_RADIUS_M,
        Some(raw) => raw.trim().parse::<f64>().unwrap_or(f64::NAN),
    };
    if !(incident_context::MIN_RADIUS_M..=incident_context::MAX_RADIUS_M).contains(&radius) {
        return Err(field_error(
            ErrorCode::InvalidQuery,
            "radius_m",
            format!(
                "radius_m must be between {} and {}",
                incident_context::MIN_RADIUS_M,
                incident_context::MAX_RADIUS_M
            ),
        ));
    }
    let limit = match query.limit.as_deref() {
        None => shared::incident::CONTEXT_LIMIT,
        Some(raw) => raw.trim().parse::<i64>().unwrap_or(0),
    };
    if !(1..=shared::incident::MAX_CONTEXT_LIMIT).contains(&limit) {
        return Err(field_error(
            ErrorCode::InvalidQuery,
            "limit",
            format!(
                "limit must be between 1 and {}",
                shared::incident::MAX_CONTEXT_LIMIT
            ),
        ));
    }
    let row = find(&state, &user, &path).await?;
    let viewer = Viewer {
        scope: user.scope(),
        privileged: privileged(&user),
    };
    let context = incident_context::assemble(&state, &row, &viewer, radius, limit).await?;
    Ok(HttpResponse::Ok().json(context))
}
