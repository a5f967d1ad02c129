//! CSV bulk registration (issue 21 item 6): `POST /api/v1/customers/import`, `/staff/import`
//! and `/vehicles/import` (`text/csv` with a header line, the record's fields as columns; a
//! customer's `location` as `lon` and `lat`). All or nothing: every row is checked as its single
//! `POST` checks it (who may write for its enterprise, the record's own rules, a customer's
//! district; and the enterprise must be active, `409 record_inactive` for one record), then all
//! are written in one transaction; any bad row (a duplicate in the file or in the registry
//! included) is a `422 invalid_rows` listing each one with its line (the header being line 1)
//! and column, and nothing is written.

use super::body::{check_content_type, read_body};
use super::cylinders::{bad_rows, row_error};
use super::registry::{place_district, write_error};
use crate::access::{Scope, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store::{self, WriteError};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use shared::auth::{RecordStatus, Role};
use shared::registry::{parse, ImportReport, NewCustomer, NewStaff, NewVehicle, RowError};
use shared::{ErrorCode, ErrorDetail};
use sqlx::Acquire;
use std::collections::HashSet;

/// Who may register in bulk (an enterprise admin only its own enterprise's records).
const WRITERS: &[Role] = &[Role::Admin, Role::CityRegulator, Role::EnterpriseAdmin];
/// Most rows one import holds.
pub const MAX_ROWS: usize = 10_000;
/// Largest import.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// One kind of record as a CSV.
struct Sheet {
    /// What the rows are, in the 422 message ("customer rows").
    what: &'static str,
    /// One record, for messages ("customer").
    one: &'static str,
    /// The key column (named in a duplicate's error).
    key: &'static str,
    columns: &'static [&'static str],
    required: &'static [&'static str],
    /// Columns read as numbers.
    numbers: &'static [&'static str],
}

const CUSTOMERS: Sheet = Sheet {
    what: "customer rows",
    one: "customer",
    key: "code",
    columns: &[
        "code",
        "enterprise_code",
        "name",
        "kind",
        "phone",
        "address",
        "lon",
        "lat",
        "district_code",
        "full_stock_limit",
        "licence_no",
    ],
    required: &[
        "code",
        "enterprise_code",
        "name",
        "kind",
        "phone",
        "address",
        "lon",
        "lat",
        "district_code",
    ],
    numbers: &["lon", "lat", "full_stock_limit"],
};

const STAFF: Sheet = Sheet {
    what: "staff rows",
    one: "staff member",
    key: "staff_no",
    columns: &[
        "staff_no",
        "enterprise_code",
        "name",
        "role",
        "certificate_no",
        "certificate_expires",
    ],
    required: &["staff_no", "enterprise_code", "name", "role"],
    numbers: &[],
};

const VEHICLES: Sheet = Sheet {
    what: "vehicle rows",
    one: "vehicle",
    key: "plate",
    columns: &[
        "plate",
        "enterprise_code",
        "gps_device_id",
        "reader_device_id",
    ],
    required: &["plate", "enterprise_code"],
    numbers: &[],
};

/// Rows with their line numbers, and the errors of the others.
type Checked<T> = (Vec<(usize, T)>, Vec<RowError>);

/// The CSV's rows as JSON objects with their line numbers, and the rows that could not be read.
fn read_rows(sheet: &Sheet, body: &[u8]) -> Result<Checked<serde_json::Value>, ApiError> {
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
    let mut seen = HashSet::new();
    for column in &header {
        if !sheet.columns.contains(&column.as_str()) || !seen.insert(column.as_str()) {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownField,
                    format!(
                        "unknown or repeated column \"{column}\"; the columns are {}",
                        sheet.columns.join(",")
                    ),
                )
                .with_field(column.clone()),
            ));
        }
    }
    if let Some(missing) = sheet.required.iter().find(|c| !seen.contains(**c)) {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::MissingField,
                format!("the CSV has no column \"{missing}\""),
            )
            .with_field(*missing),
        ));
    }
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        if rows.len() + errors.len() >= MAX_ROWS {
            return Err(ApiError::client(
                ErrorCode::InvalidBatchSize,
                format!("at most {MAX_ROWS} rows per import"),
            ));
        }
        match record {
            Ok(record) => match row_value(sheet, &header, &record) {
                Ok(value) => rows.push((line, value)),
                Err(e) => errors.push(row_error(line, e)),
            },
            Err(e) => errors.push(RowError {
                row: line,
                column: None,
                code: ErrorCode::MalformedBody,
                reason: format!("unreadable row: {e}"),
            }),
        }
    }
    if rows.is_empty() && errors.is_empty() {
        return Err(ApiError::client(
            ErrorCode::InvalidBatchSize,
            "the CSV has no rows",
        ));
    }
    Ok((rows, errors))
}

/// A row as the JSON object of its record: an empty cell is an absent field, number columns
/// numbers, `lon` and `lat` the `location`.
fn row_value(
    sheet: &Sheet,
    header: &[String],
    record: &csv::StringRecord,
) -> Result<serde_json::Value, ErrorDetail> {
    let mut object = serde_json::Map::new();
    let mut location = serde_json::Map::new();
    for (column, cell) in header.iter().zip(record.iter()) {
        // A cell an export neutralised (`'=...`) is read as it was.
        let cell = super::paged::unneutralise(cell);
        if cell.is_empty() {
            continue;
        }
        let value = if sheet.numbers.contains(&column.as_str()) {
            let number = if column == "full_stock_limit" {
                cell.trim().parse::<u64>().ok().map(serde_json::Value::from)
            } else {
                cell.trim().parse::<f64>().ok().map(serde_json::Value::from)
            };
            number.ok_or_else(|| {
                ErrorDetail::new(
                    ErrorCode::InvalidField,
                    format!("{column} must be a number, not \"{cell}\""),
                )
                .with_field(column.clone())
            })?
        } else {
            serde_json::Value::String(cell.to_owned())
        };
        if column == "lon" || column == "lat" {
            location.insert(column.clone(), value);
        } else {
            object.insert(column.clone(), value);
        }
    }
    if !location.is_empty() {
        object.insert("location".to_owned(), serde_json::Value::Object(location));
    }
    Ok(serde_json::Value::Object(object))
}

/// A client error as a row's error (an internal one stays the answer).
fn as_row(line: usize, error: ApiError) -> Result<RowError, ApiError> {
    match error {
        ApiError::Client(detail) => {
            // `location.lon` is the CSV's `lon`.
            let detail = match detail.field.as_deref() {
                Some(f) if f.starts_with("location.") => {
                    let column = f.trim_start_matches("location.").to_owned();
                    detail.with_field(column)
                }
                _ => detail,
            };
            Ok(row_error(line, detail))
        }
        other => Err(other),
    }
}

/// The records of the rows that parse and pass `check` (which answers the record's key and
/// enterprise), with their enterprise, and an error for every other row (a key repeated in the
/// file included).
fn records<T: DeserializeOwned>(
    sheet: &Sheet,
    rows: Vec<(usize, serde_json::Value)>,
    mut errors: Vec<RowError>,
    mut check: impl FnMut(&T) -> Result<(String, String), ApiError>,
) -> Result<Checked<(String, T)>, ApiError> {
    let mut good = Vec::new();
    let mut keys = HashSet::new();
    for (line, value) in rows {
        let record: T = match parse(value) {
            Ok(r) => r,
            Err(e) => {
                errors.push(as_row(line, ApiError::Client(e))?);
                continue;
            }
        };
        let (key, enterprise) = match check(&record) {
            Ok(key) => key,
            Err(e) => {
                errors.push(as_row(line, e)?);
                continue;
            }
        };
        if !keys.insert(key) {
            errors.push(RowError {
                row: line,
                column: Some(sheet.key.to_owned()),
                code: ErrorCode::AlreadyExists,
                reason: format!("the {} is in the file twice", sheet.key),
            });
            continue;
        }
        good.push((line, (enterprise, record)));
    }
    errors.sort_by_key(|e| e.row);
    Ok((good, errors))
}

/// Writes one record on a connection (a transaction's savepoint).
type Insert<T> = for<'c> fn(
    &'c mut sqlx::PgConnection,
    &'c T,
    &'c Scope,
) -> BoxFuture<'c, Result<(), WriteError>>;

/// Writes every record in one transaction, each under a savepoint so that every refused row is
/// named; commits only when none was.
async fn write_all<T>(
    state: &AppState,
    sheet: &Sheet,
    scope: &Scope,
    records: &[(usize, T)],
    insert: Insert<T>,
) -> Result<Vec<RowError>, ApiError> {
    let mut tx = state.pool.begin().await.map_err(anyhow::Error::from)?;
    let mut errors = Vec::new();
    for (line, record) in records {
        let mut savepoint = tx.begin().await.map_err(anyhow::Error::from)?;
        match insert(&mut savepoint, record, scope).await {
            Ok(()) => savepoint.commit().await.map_err(anyhow::Error::from)?,
            Err(e) => {
                savepoint.rollback().await.map_err(anyhow::Error::from)?;
                errors.push(as_row(*line, write_error(e, sheet.one, sheet.key))?);
            }
        }
    }
    if errors.is_empty() {
        tx.commit().await.map_err(anyhow::Error::from)?;
    } else {
        tx.rollback().await.map_err(anyhow::Error::from)?;
    }
    Ok(errors)
}

/// Reads, checks and writes an import of `sheet`.
async fn import<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    user: &User,
    state: &AppState,
    sheet: &Sheet,
    check: impl FnMut(&T) -> Result<(String, String), ApiError>,
    insert: Insert<T>,
) -> Result<HttpResponse, ApiError> {
    user.require(WRITERS)?;
    check_content_type(req, "text/csv")?;
    let body = read_body(req, payload, MAX_BYTES).await?;
    let (rows, errors) = read_rows(sheet, &body)?;
    let (good, mut errors) = records(sheet, rows, errors, check)?;
    // A suspended or closed enterprise gets no new records (issue 21 item 2), in bulk neither.
    let named: Vec<String> = good.iter().map(|(_, (e, _))| e.clone()).collect();
    let statuses = store::directories::enterprise_statuses(&state.pool, &named).await?;
    let mut good_rows = Vec::with_capacity(good.len());
    for (line, (enterprise, record)) in good {
        match statuses.get(&enterprise) {
            Some(status) if *status != RecordStatus::Active => errors.push(RowError {
                row: line,
                column: Some("enterprise_code".to_owned()),
                code: ErrorCode::RecordInactive,
                reason: format!(
                    "enterprise {enterprise} is {}: it gets no new records",
                    status.name()
                ),
            }),
            _ => good_rows.push((line, record)),
        }
    }
    errors.sort_by_key(|e| e.row);
    let good = good_rows;
    if !errors.is_empty() {
        return Ok(bad_rows(errors, sheet.what));
    }
    let errors = write_all(state, sheet, &user.scope(), &good, insert).await?;
    if !errors.is_empty() {
        return Ok(bad_rows(errors, sheet.what));
    }
    Ok(HttpResponse::Ok().json(ImportReport {
        created: good.len(),
        skipped: 0,
        errors: Vec::new(),
    }))
}

/// `POST /api/v1/customers/import`.
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "registry", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "code,enterprise_code,name,kind,phone,address,lon,lat,district_code[,full_stock_limit][,licence_no] with a header line"), responses((status = 200, description = "All registered", body = shared::registry::ImportReport), (status = 422, description = "Bad rows; nothing was written", body = super::cylinders::BadRows)))]
pub async fn customers(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let checker = user.clone();
    import(
        &req,
        payload,
        &user,
        &state,
        &CUSTOMERS,
        |c: &NewCustomer| {
            checker.may_manage(c.enterprise_code.as_str())?;
            super::certified::licence_by_regulator(&checker, c)?;
            c.check()?;
            place_district(&state, c.location, Some(&c.district_code))?;
            Ok((
                c.code.as_str().to_owned(),
                c.enterprise_code.as_str().to_owned(),
            ))
        },
        |conn, c, scope| Box::pin(store::registry::insert_customer(conn, c, scope)),
    )
    .await
}

/// `POST /api/v1/staff/import`.
#[utoipa::path(post, path = "/api/v1/staff/import", tag = "registry", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "staff_no,enterprise_code,name,role[,certificate_no,certificate_expires] with a header line"), responses((status = 200, description = "All registered", body = shared::registry::ImportReport), (status = 422, description = "Bad rows; nothing was written", body = super::cylinders::BadRows)))]
pub async fn staff(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let checker = user.clone();
    import(
        &req,
        payload,
        &user,
        &state,
        &STAFF,
        |s: &NewStaff| {
            checker.may_manage(s.enterprise_code.as_str())?;
            super::certified::certificates_by_regulator(&checker, s)?;
            s.check()?;
            let enterprise = s.enterprise_code.as_str().to_owned();
            Ok((format!("{enterprise}/{}", s.staff_no.as_str()), enterprise))
        },
        |conn, s, scope| Box::pin(store::registry::insert_staff(conn, s, scope)),
    )
    .await
}

/// `POST /api/v1/vehicles/import`.
#[utoipa::path(post, path = "/api/v1/vehicles/import", tag = "registry", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "plate,enterprise_code[,gps_device_id][,reader_device_id] with a header line"), responses((status = 200, description = "All registered", body = shared::registry::ImportReport), (status = 422, description = "Bad rows; nothing was written", body = super::cylinders::BadRows)))]
pub async fn vehicles(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let checker = user.clone();
    import(
        &req,
        payload,
        &user,
        &state,
        &VEHICLES,
        |v: &NewVehicle| {
            checker.may_manage(v.enterprise_code.as_str())?;
            super::certified::permit_by_regulator(&checker, v)?;
            v.check()?;
            Ok((
                v.plate.as_str().to_owned(),
                v.enterprise_code.as_str().to_owned(),
            ))
        },
        |conn, v, scope| Box::pin(store::registry::insert_vehicle(conn, v, scope)),
    )
    .await
}
