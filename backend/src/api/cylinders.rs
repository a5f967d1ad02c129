//! Cylinder archives: create one or many, CSV import and export, lookup by code or tag with
//! compliance and custody, and the history.

use super::body::{check_content_type, read_body, read_json};
use super::paged::csv_line;
use crate::access::{Scope, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::rules::compliance::{self, to_beijing, ComplianceFacts};
use crate::rules::custody;
use crate::store;
use crate::store::cylinders::CylinderRecord;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Role;
use shared::cylinder::{Custody, CylinderView, HistoryEntry, Page, PlaceRef, ScanOp};
use shared::history::HistoryOp;
use shared::ids::EnterpriseCode;
use shared::place::PlaceKind;
use shared::registry::{
    parse, CylinderArchive, ImportReport, RowError, CYLINDER_COLUMNS, CYLINDER_NUMBER_COLUMNS,
    CYLINDER_OPTIONAL_COLUMNS,
};
use shared::{ErrorCode, ErrorDetail, GeoPoint};

/// Who may archive cylinders (an enterprise admin only its own enterprise's).
const WRITERS: &[Role] = &[Role::Admin, Role::CityRegulator, Role::EnterpriseAdmin];

/// Most archives one JSON request may carry; bulk loads go through the CSV import.
const MAX_ITEMS: usize = 10_000;
/// Largest CSV import (about 400,000 archives).
const MAX_IMPORT_BYTES: usize = 128 * 1024 * 1024;

/// The 422 answer when rows are bad: nothing was written.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BadRows {
    error: ErrorDetail,
    errors: Vec<RowError>,
}

pub(crate) fn bad_rows(errors: Vec<RowError>, what: &str) -> HttpResponse {
    let error = ErrorDetail::new(
        ErrorCode::InvalidRows,
        format!(
            "{} bad {what}; nothing was written (see \"errors\")",
            errors.len()
        ),
    );
    HttpResponse::UnprocessableEntity().json(BadRows { error, errors })
}

pub(crate) fn row_error(row: usize, e: ErrorDetail) -> RowError {
    RowError {
        row,
        column: e.field,
        code: e.code,
        reason: e.message,
    }
}

fn parse_archive(value: serde_json::Value) -> Result<CylinderArchive, ErrorDetail> {
    let archive: CylinderArchive = parse(value)?;
    archive.check()?;
    Ok(archive)
}

/// `POST /api/v1/cylinders`: one archive, or `{"items": [...]}` (all or none).
#[utoipa::path(post, path = "/api/v1/cylinders", tag = "cylinders", security(("bearer" = [])), request_body(content = shared::schema::ArchiveOrBatch, description = "One archive (201 with its id) or {\"items\": [...]} (201 with a report; all or none)"), responses((status = 201, description = "Archived", content((shared::registry::Created = "application/json"), (shared::registry::ImportReport = "application/json"))), (status = 422, description = "Bad rows; nothing was written", body = BadRows)))]
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(WRITERS)?;
    let scope = user.scope();
    let mut value = read_json(&req, payload, state.settings.max_body_bytes).await?;
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::client(
            ErrorCode::MalformedBody,
            "the body must be an archive object or {\"items\": [...]}",
        ));
    };
    let Some(items) = object.remove("items") else {
        let archive = parse_archive(value)?;
        let mut errors =
            store::cylinders::conflicts(&state.pool, &[(0, archive.clone())], &scope).await?;
        if !errors.is_empty() {
            let e = errors.remove(0);
            let mut detail = ErrorDetail::new(e.code, e.reason);
            detail.field = e.column;
            return Err(ApiError::Client(detail));
        }
        insert(&state, std::slice::from_ref(&archive), &scope).await?;
        return Ok(HttpResponse::Created().json(shared::registry::Created {
            id: archive.code.as_str().to_owned(),
        }));
    };
    if let Some(extra) = object.keys().next() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::UnknownField,
                format!("unknown field \"{extra}\" beside \"items\""),
            )
            .with_field(extra.clone()),
        ));
    }
    let serde_json::Value::Array(items) = items else {
        return Err(ApiError::Client(
            ErrorDetail::new(ErrorCode::InvalidField, "\"items\" must be an array")
                .with_field("items"),
        ));
    };
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidBatchSize,
                format!("a batch holds 1 to {MAX_ITEMS} archives; import more as CSV"),
            )
            .with_field("items"),
        ));
    }
    let mut errors = Vec::new();
    let mut archives = Vec::new();
    for (row, item) in items.into_iter().enumerate() {
        match parse_archive(item) {
            Ok(a) => archives.push((row, a)),
            Err(e) => errors.push(row_error(row, e)),
        }
    }
    errors.extend(store::cylinders::conflicts(&state.pool, &archives, &scope).await?);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Ok(bad_rows(errors, "items"));
    }
    let archives: Vec<_> = archives.into_iter().map(|(_, a)| a).collect();
    insert(&state, &archives, &scope).await?;
    Ok(HttpResponse::Created().json(ImportReport {
        created: archives.len(),
        skipped: 0,
        errors: Vec::new(),
    }))
}

async fn insert(
    state: &AppState,
    archives: &[CylinderArchive],
    scope: &Scope,
) -> Result<u64, ApiError> {
    store::cylinders::insert(&state.pool, archives, scope)
        .await
        .map_err(|e| super::registry::write_error(e, "cylinder", "code"))
}

/// `?skip_bad_rows=true` writes the good rows and reports the bad.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    skip_bad_rows: bool,
}

/// `POST /api/v1/cylinders/import` (text/csv, the archive's columns with a header line).
#[utoipa::path(post, path = "/api/v1/cylinders/import", tag = "cylinders", security(("bearer" = [])), params(ImportQuery), request_body(content = String, content_type = "text/csv", description = "The archive's columns with a header line"), responses((status = 200, description = "Imported", body = shared::registry::ImportReport), (status = 422, description = "Bad rows; nothing was written", body = BadRows)))]
pub async fn import(
    req: HttpRequest,
    payload: web::Payload,
    query: Result<web::Query<ImportQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(WRITERS)?;
    let query = query.map_err(super::QueryError::malformed)?;
    check_content_type(&req, "text/csv")?;
    let body = read_body(&req, payload, MAX_IMPORT_BYTES).await?;
    let (archives, mut errors) = parse_csv(&body)?;
    errors.extend(store::cylinders::conflicts(&state.pool, &archives, &user.scope()).await?);
    errors.sort_by_key(|e| e.row);
    if !errors.is_empty() && !query.skip_bad_rows {
        return Ok(bad_rows(errors, "rows"));
    }
    let bad: std::collections::HashSet<usize> = errors.iter().map(|e| e.row).collect();
    let good: Vec<CylinderArchive> = archives
        .into_iter()
        .filter(|(row, _)| !bad.contains(row))
        .map(|(_, a)| a)
        .collect();
    if !good.is_empty() {
        insert(&state, &good, &user.scope()).await?;
    }
    Ok(HttpResponse::Ok().json(ImportReport {
        created: good.len(),
        skipped: bad.len(),
        errors,
    }))
}

/// The good rows (with their line numbers) and the bad rows' errors.
pub type ParsedCsv = (Vec<(usize, CylinderArchive)>, Vec<RowError>);

/// Parses a CSV import: the archives of the good rows (with their line numbers) and an error
/// for each bad row. A file that is not a CSV of the archive's columns is refused whole.
/// Public for the property tests (`tests/properties/csv_import.rs`).
pub fn parse_csv(body: &[u8]) -> Result<ParsedCsv, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| {
            ApiError::client(
                ErrorCode::MalformedBody,
                format!("unreadable CSV header: {e}"),
            )
        })?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    for column in &header {
        if !CYLINDER_COLUMNS.contains(&column.as_str()) {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownField,
                    format!(
                        "unknown column \"{column}\"; the columns are {}",
                        CYLINDER_COLUMNS.join(",")
                    ),
                )
                .with_field(column.clone()),
            ));
        }
    }
    // Files written before the trailing optional columns existed still import.
    if let Some(missing) = CYLINDER_COLUMNS
        .iter()
        .filter(|c| !CYLINDER_OPTIONAL_COLUMNS.contains(c))
        .find(|c| !header.iter().any(|h| h == *c))
    {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::MissingField,
                format!("the CSV has no column \"{missing}\""),
            )
            .with_field(*missing),
        ));
    }
    let mut archives = Vec::new();
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row: line,
                    column: None,
                    code: ErrorCode::MalformedBody,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        match row_value(&header, &record).and_then(parse_archive) {
            Ok(a) => archives.push((line, a)),
            Err(e) => errors.push(row_error(line, e)),
        }
    }
    if archives.is_empty() && errors.is_empty() {
        return Err(ApiError::client(
            ErrorCode::InvalidBatchSize,
            "the CSV has no rows",
        ));
    }
    Ok((archives, errors))
}

/// A CSV row as the JSON object of an archive: empty cells are null, number columns numbers.
fn row_value(
    header: &[String],
    record: &csv::StringRecord,
) -> Result<serde_json::Value, ErrorDetail> {
    let mut object = serde_json::Map::new();
    for (column, cell) in header.iter().zip(record.iter()) {
        // A cell the export neutralised (`'=...`) is read as it was.
        let cell = super::paged::unneutralise(cell);
        let value = if cell.is_empty() {
            serde_json::Value::Null
        } else if CYLINDER_NUMBER_COLUMNS.contains(&column.as_str()) {
            let number: f64 = cell.trim().parse().map_err(|_| {
                ErrorDetail::new(
                    ErrorCode::InvalidField,
                    format!("{column} must be a number, not \"{cell}\""),
                )
                .with_field(column.clone())
            })?;
            if column == "design_life_years" {
                serde_json::json!(cell.trim().parse::<u64>().map_err(|_| {
                    ErrorDetail::new(
                        ErrorCode::InvalidField,
                        format!("{column} must be a whole number"),
                    )
                    .with_field(column.clone())
                })?)
            } else {
                serde_json::json!(number)
            }
        } else {
            serde_json::Value::String(cell.to_owned())
        };
        object.insert(column.clone(), value);
    }
    Ok(serde_json::Value::Object(object))
}

/// `?enterprise_code=` limits the export to one owner.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    enterprise_code: Option<EnterpriseCode>,
}

/// `GET /api/v1/cylinders/export` (text/csv), streamed in pages.
#[utoipa::path(get, path = "/api/v1/cylinders/export", tag = "cylinders", security(("bearer" = [])), params(ExportQuery), responses((status = 200, description = "The archives as CSV (the import's columns)", content_type = "text/csv", body = String)))]
pub async fn export(
    query: Result<web::Query<ExportQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let slot = state.exports.take(&user)?;
    let owner = query.into_inner().enterprise_code;
    let scope = user.scope();
    if let Some(code) = &owner {
        if !store::cylinders::enterprise_exists(&state.pool, code, &scope).await? {
            return Err(ApiError::client(
                ErrorCode::NotFound,
                format!("no enterprise {code}"),
            ));
        }
    }
    let header = csv_line(CYLINDER_COLUMNS.iter().map(|c| (*c).to_owned()))?;
    let pool = state.pool.clone();
    let pages = futures_util::stream::unfold(Some(0_i64), move |after| {
        let pool = pool.clone();
        let owner = owner.clone();
        let scope = scope.clone();
        async move {
            let after = after?;
            match export_page(&pool, owner.as_ref(), after, &scope).await {
                Ok(None) => None,
                Ok(Some((bytes, last))) => Some((Ok(bytes), Some(last))),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "export failed mid-stream");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        None,
                    ))
                }
            }
        }
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(header) }),
        pages,
    );
    Ok(super::paged::csv_response("cylinders.csv", slot, body))
}

async fn export_page(
    pool: &sqlx::PgPool,
    owner: Option<&EnterpriseCode>,
    after: i64,
    scope: &Scope,
) -> anyhow::Result<Option<(web::Bytes, i64)>> {
    let records = store::cylinders::page_for_export(pool, owner, after, 5_000, scope).await?;
    let Some(last) = records.last().map(|r| r.id) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for record in &records {
        let value = serde_json::to_value(record.archive()?)?;
        let cells = CYLINDER_COLUMNS.iter().map(|c| match value.get(*c) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        });
        out.extend_from_slice(&csv_line(cells)?);
    }
    Ok(Some((web::Bytes::from(out), last)))
}

/// `?as_of=YYYY-MM-DD`: compliance on that date (default: today in Beijing).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    as_of: Option<NaiveDate>,
}

/// `GET /api/v1/cylinders/{code}`.
#[utoipa::path(get, path = "/api/v1/cylinders/{code}", tag = "cylinders", security(("bearer" = [])), params(("code" = String, Path, description = "The cylinder"), AsOfQuery), responses((status = 200, description = "The cylinder", body = shared::cylinder::CylinderView)))]
pub async fn get(
    path: web::Path<String>,
    query: Result<web::Query<AsOfQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let code = path.into_inner();
    let record = find(&state, Some(&code), None, &user.scope()).await?;
    let view = view(&state, record, query.as_of)?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            shared::revision::etag(view.version),
        ))
        .json(view))
}

/// `GET /api/v1/cylinders/by-tag/{tag_id}`.
#[utoipa::path(get, path = "/api/v1/cylinders/by-tag/{tag_id}", tag = "cylinders", security(("bearer" = [])), params(("tag_id" = String, Path, description = "A tag bound to the cylinder"), AsOfQuery), responses((status = 200, description = "The cylinder", body = shared::cylinder::CylinderView)))]
pub async fn get_by_tag(
    path: web::Path<String>,
    query: Result<web::Query<AsOfQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let tag = path.into_inner();
    let record = find(&state, None, Some(&tag), &user.scope()).await?;
    Ok(HttpResponse::Ok().json(view(&state, record, query.as_of)?))
}

/// The cylinder with that code or tag within `scope`, or a 404 (outside the scope too, so
/// codes cannot be probed).
pub async fn find(
    state: &AppState,
    code: Option<&str>,
    tag: Option<&str>,
    scope: &Scope,
) -> Result<CylinderRecord, ApiError> {
    let mut record = store::cylinders::record(&state.pool, code, tag, scope)
        .await?
        .ok_or_else(|| {
            let what = code
                .map(|c| format!("no cylinder {c}"))
                .or_else(|| tag.map(|t| format!("no cylinder with tag {t}")))
                .unwrap_or_default();
            ApiError::client(ErrorCode::NotFound, what)
        })?;
    // A cylinder bought while at the seller's customer (a transfer): its new owner does not
    // learn the seller's customer, nor where it is, until the cylinder moves.
    let foreign_customer = record
        .place_enterprise
        .as_deref()
        .is_some_and(|p| scope.enterprise().is_some_and(|e| e != p));
    if foreign_customer {
        record.place_kind = None;
        record.place_code = None;
        record.place_name = None;
        record.lon = None;
        record.lat = None;
    }
    Ok(record)
}

/// Compliance on `as_of` and custody now, from a stored record.
pub fn view(
    state: &AppState,
    record: CylinderRecord,
    as_of: Option<NaiveDate>,
) -> Result<CylinderView, ApiError> {
    let settings = &state.settings;
    let archive = record.archive()?;
    let as_of = as_of.unwrap_or_else(compliance::today_in_shanghai);
    let facts = ComplianceFacts {
        next_inspection_on: archive.next_inspection_on,
        life_ends_on: archive.life_ends_on(),
        registered: archive.registration_no.is_some(),
        scrapped: record
            .scrapped_at
            .is_some_and(|at| to_beijing(at).date_naive() <= as_of),
    };
    let statuses = compliance::statuses(&facts, as_of, settings.due_soon_days);
    let stored = record.custody.unwrap_or(Custody::InStockEmpty);
    let custody = custody::effective(
        stored,
        record.at_owner_site,
        record.last_seen_at,
        Utc::now(),
        Duration::days(i64::from(settings.loss_after_days)),
    );
    let custody_place = match (&record.place_kind, &record.place_code) {
        (Some(kind), Some(code)) => Some(PlaceRef {
            kind: kind.name().to_owned(),
            code: code.clone(),
            name: record.place_name.clone(),
        }),
        _ if record.custody.is_none() => Some(PlaceRef {
            kind: PlaceKind::Station.name().to_owned(),
            code: record.station_code.to_string(),
            name: record.station_name.clone(),
        }),
        _ => None,
    };
    let position = match (record.lon, record.lat) {
        (Some(lon), Some(lat)) => GeoPoint::new(lon, lat).ok(),
        _ => None,
    };
    Ok(CylinderView {
        life_ends_on: archive.life_ends_on(),
        qr_payload: format!("{}{}", settings.region_code, archive.code),
        archive,
        as_of,
        compliance: statuses
            .first()
            .copied()
            .unwrap_or(shared::cylinder::Compliance::Ok),
        compliance_all: statuses,
        custody,
        custody_place,
        position,
        last_seen_at: record.last_seen_at.map(to_beijing),
        last_filled_at: record.last_filled_at.map(to_beijing),
        flagged_events: i64::from(record.flagged.unwrap_or(0)),
        owner_name: record.owner_name,
        station_name: record.station_name,
        version: record.version,
    })
}

/// `?limit=&cursor=` of a history.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/cylinders/{code}/history`: event-time order, oldest first.
#[utoipa::path(get, path = "/api/v1/cylinders/{code}/history", tag = "cylinders", security(("bearer" = [])), params(("code" = String, Path, description = "The cylinder"), PageQuery), responses((status = 200, description = "Its history, oldest first", body = shared::cylinder::Page<shared::cylinder::HistoryEntry>)))]
pub async fn history(
    path: web::Path<String>,
    query: Result<web::Query<PageQuery>, actix_web::Error>,
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
    let code = path.into_inner();
    let scope = user.scope();
    let record = find(&state, Some(&code), None, &scope).await?;
    // A fresh replica's, when there is one (`database_replica_url`).
    let reads = state.reads.read();
    let rows =
        store::custody::history(reads, record.id, after, limit + 1, scope.enterprise()).await?;
    let items: Vec<HistoryEntry> = rows.into_iter().map(entry).collect::<Result<_, _>>()?;
    let (items, next_cursor) = super::paged::trim_page(items, limit, |e| {
        format!(
            "{}_{}",
            e.occurred_at.with_timezone(&Utc).timestamp_micros(),
            e.id
        )
    });
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

fn entry(row: store::custody::HistoryRow) -> Result<HistoryEntry, ApiError> {
    let custody_after = row.custody_after;
    let target_place = match row.op {
        HistoryOp::Scan(ScanOp::Fill) | HistoryOp::Filling => row.station_name.clone(),
        _ => row.customer_name.clone().or(row.to_station_name.clone()),
    };
    Ok(HistoryEntry {
        id: row.event_id,
        kind: row.op.kind().name().to_owned(),
        op: Some(row.op.op().to_owned()),
        occurred_at: to_beijing(row.occurred_at),
        received_at: to_beijing(row.received_at),
        station_code: row.station_code,
        place: row.station_name,
        target_place,
        location: match (row.lon, row.lat) {
            (Some(lon), Some(lat)) => GeoPoint::new(lon, lat).ok(),
            _ => None,
        },
        staff_no: row.staff_no,
        staff_name: row.staff_name.or_else(|| {
            row.details
                .as_ref()
                .and_then(|d| d.get("staff_name"))
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        }),
        vehicle_plate: row.vehicle_plate,
        mass_before_kg: row.mass_before_kg,
        mass_after_kg: row.mass_after_kg,
        custody_after,
        flag: row.flag,
        details: row.details.unwrap_or(serde_json::Value::Null),
    })
}
