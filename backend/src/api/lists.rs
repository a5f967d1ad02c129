//! The lists behind the figures that count records rather than cylinders:
//! `GET /api/v1/fillings` (filling records), `GET /api/v1/fillings/decisions` (authorize
//! decisions), `GET /api/v1/history` (cylinders' history rows: deliveries, returns, moves) and
//! `GET /api/v1/customers` (customer accounts),
//! within the caller's scope, newest first, paged by cursor or whole as CSV.

use crate::auth::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use shared::cylinder::Page;
use shared::ErrorCode;

/// The most rows one CSV list holds; a longer list must be narrowed.
const CSV_MAX: usize = 200_000;
/// Rows read per query while writing a CSV list.
const CSV_PAGE: i64 = 5_000;

/// `?from=&to=&enterprise_code=&district_code=&station_code=&flagged=&late=&limit=&cursor=&format=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FillingsQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<String>,
    district_code: Option<String>,
    station_code: Option<String>,
    flagged: Option<bool>,
    /// Later than `late_filling_s`.
    late: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `?from=&to=&enterprise_code=&district_code=&station_code=&allowed=&rule=&limit=&cursor=&format=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<String>,
    district_code: Option<String>,
    station_code: Option<String>,
    allowed: Option<bool>,
    rule: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// A time window: from (inclusive) to (exclusive).
type Window = (DateTime<Utc>, DateTime<Utc>);

/// `from`/`to` as given (either may be open), `from` before `to`.
fn window(
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
) -> Result<Option<Window>, ApiError> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    let from = from.map_or(DateTime::<Utc>::MIN_UTC, |f| f.with_timezone(&Utc));
    let to = to.map_or(DateTime::<Utc>::MAX_UTC, |t| t.with_timezone(&Utc));
    if from >= to {
        return Err(ApiError::client(
            ErrorCode::InvalidQuery,
            "from must be before to",
        ));
    }
    Ok(Some((from, to)))
}

/// Whether the whole list is asked for as CSV.
fn wants_csv(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(ApiError::client(
            ErrorCode::InvalidQuery,
            format!("unknown format {other:?}; expected json or csv"),
        )),
    }
}

/// The scope asked for, and the station (which must be within it).
async fn scope_of(
    state: &AppState,
    user: &User,
    enterprise: Option<&str>,
    district: Option<&str>,
    station: Option<&str>,
) -> Result<crate::auth::Scope, ApiError> {
    let scope = super::alerts::narrowed(state, user, enterprise, district).await?;
    if let Some(code) = station {
        if store::filling::station_in_scope(&state.pool, code, &scope)
            .await?
            .is_none()
        {
            return Err(ApiError::client(
                ErrorCode::NotFound,
                format!("no station {code}"),
            ));
        }
    }
    Ok(scope)
}

/// A CSV download.
fn csv_response(writer: csv::Writer<Vec<u8>>, name: &str) -> Result<HttpResponse, ApiError> {
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing CSV: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

fn csv_error(e: csv::Error) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing CSV: {e}"))
}

fn too_long() -> ApiError {
    ApiError::client(
        ErrorCode::InvalidQuery,
        format!("more than {CSV_MAX} rows; narrow the list (from/to, station_code)"),
    )
}

/// `GET /api/v1/fillings`: filling records (window on the end of filling).
pub async fn fillings(
    query: Result<web::Query<FillingsQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let limit = super::page_limit(q.limit)?;
    let mut after = q.cursor.as_deref().map(super::parse_cursor).transpose()?;
    let filter = store::stats::FillingFilter {
        window: window(q.from, q.to)?,
        flagged: q.flagged,
        late: q.late,
        late_s: state.settings.late_filling_s,
    };
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_deref(),
        q.district_code.as_deref(),
        q.station_code.as_deref(),
    )
    .await?;
    let station = q.station_code.as_deref();
    if !csv {
        let mut items =
            store::stats::filling_list(&state.pool, &scope, station, &filter, after, limit + 1)
                .await?;
        let more = usize::try_from(limit).is_ok_and(|l| items.len() > l);
        if more {
            items.pop();
        }
        let next_cursor = more
            .then(|| items.last())
            .flatten()
            .map(|r| format!("{}_{}", r.ended_at.timestamp_micros(), r.id));
        return Ok(HttpResponse::Ok().json(Page { items, next_cursor }));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "id",
            "station_code",
            "gun_no",
            "cylinder_code",
            "staff_no",
            "started_at",
            "ended_at",
            "received_at",
            "late_s",
            "mass_before_kg",
            "mass_after_kg",
            "flags",
        ])
        .map_err(csv_error)?;
    let mut written = 0usize;
    loop {
        let page =
            store::stats::filling_list(&state.pool, &scope, station, &filter, after, CSV_PAGE)
                .await?;
        written += page.len();
        if written > CSV_MAX {
            return Err(too_long());
        }
        for r in &page {
            writer
                .write_record([
                    r.id.to_string(),
                    r.station_code.clone(),
                    r.gun_no.clone(),
                    r.cylinder_code.clone(),
                    r.staff_no.clone(),
                    r.started_at.to_rfc3339(),
                    r.ended_at.to_rfc3339(),
                    r.received_at.to_rfc3339(),
                    r.late_s.to_string(),
                    r.mass_before_kg.to_string(),
                    r.mass_after_kg.to_string(),
                    r.flags.join(" "),
                ])
                .map_err(csv_error)?;
        }
        match page.last() {
            Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE) => {
                after = Some((last.ended_at, last.id));
            }
            _ => break,
        }
    }
    csv_response(writer, "fillings.csv")
}

/// `GET /api/v1/fillings/decisions`: authorize decisions (window on the decision time).
pub async fn decisions(
    query: Result<web::Query<DecisionsQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let limit = super::page_limit(q.limit)?;
    let mut after = q.cursor.as_deref().map(super::parse_cursor).transpose()?;
    if let Some(rule) = &q.rule {
        let known = rule.len() == 3
            && rule.starts_with('R')
            && rule[1..].parse::<u8>().is_ok_and(|n| n <= 12);
        if !known {
            return Err(ApiError::client(
                ErrorCode::InvalidQuery,
                format!("unknown rule {rule:?}; expected R00 to R12"),
            ));
        }
    }
    let filter = store::stats::DecisionFilter {
        window: window(q.from, q.to)?,
        allowed: q.allowed,
        rule: q.rule.clone(),
    };
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_deref(),
        q.district_code.as_deref(),
        q.station_code.as_deref(),
    )
    .await?;
    let station = q.station_code.as_deref();
    if !csv {
        let mut items =
            store::stats::decision_list(&state.pool, &scope, station, &filter, after, limit + 1)
                .await?;
        let more = usize::try_from(limit).is_ok_and(|l| items.len() > l);
        if more {
            items.pop();
        }
        let next_cursor = more
            .then(|| items.last())
            .flatten()
            .map(|r| format!("{}_{}", r.decided_at.timestamp_micros(), r.id));
        return Ok(HttpResponse::Ok().json(Page { items, next_cursor }));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "id",
            "decided_at",
            "station_code",
            "gun_no",
            "cylinder_code",
            "tag_id",
            "medium",
            "staff_no",
            "allowed",
            "rules",
        ])
        .map_err(csv_error)?;
    let mut written = 0usize;
    loop {
        let page =
            store::stats::decision_list(&state.pool, &scope, station, &filter, after, CSV_PAGE)
                .await?;
        written += page.len();
        if written > CSV_MAX {
            return Err(too_long());
        }
        for r in &page {
            writer
                .write_record([
                    r.id.to_string(),
                    r.decided_at.to_rfc3339(),
                    r.station_code.clone(),
                    r.gun_no.clone(),
                    r.cylinder_code.clone().unwrap_or_default(),
                    r.tag_id.clone().unwrap_or_default(),
                    r.medium.clone(),
                    r.staff_no.clone(),
                    r.allowed.to_string(),
                    r.rules.join(" "),
                ])
                .map_err(csv_error)?;
        }
        match page.last() {
            Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE) => {
                after = Some((last.decided_at, last.id));
            }
            _ => break,
        }
    }
    csv_response(writer, "decisions.csv")
}

/// `?from=&to=&enterprise_code=&district_code=&kind=&op=&recovered=&from_site=&to_site=&limit=&cursor=&format=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<String>,
    district_code: Option<String>,
    kind: Option<String>,
    op: Option<String>,
    /// Collected empty or returned to a station afterwards.
    recovered: Option<bool>,
    /// `station:CODE` or `customer:CODE`; with `to_site`: the moves between the two.
    from_site: Option<String>,
    to_site: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `station:CODE` or `customer:CODE`.
fn site(value: &str) -> Result<(String, String), ApiError> {
    match value.split_once(':') {
        Some((kind @ ("station" | "customer"), code)) if !code.is_empty() => {
            Ok((kind.to_owned(), code.to_owned()))
        }
        _ => Err(ApiError::client(
            ErrorCode::InvalidQuery,
            format!("site {value:?} is not station:CODE or customer:CODE"),
        )),
    }
}

/// A word of lower-case letters and underscores (a kind or an operation).
fn word(name: &str, value: Option<&String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v)
            if v.is_empty()
                || v.len() > 40
                || !v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Err(ApiError::client(
                ErrorCode::InvalidQuery,
                format!("{name} {v:?} is not a known word"),
            ))
        }
        other => Ok(other.cloned()),
    }
}

/// `<micros>_<event id>_<cylinder id>`.
fn history_cursor(cursor: &str) -> Result<store::stats::HistoryCursor, ApiError> {
    let bad = || {
        ApiError::client(
            ErrorCode::InvalidQuery,
            "cursor is not one this server gave",
        )
    };
    let (rest, cylinder) = cursor.rsplit_once('_').ok_or_else(bad)?;
    let (at, event) = super::parse_cursor(rest)?;
    Ok((at, event, cylinder.parse().map_err(|_| bad())?))
}

/// `GET /api/v1/history`: history rows of the cylinders owned within the scope (the lists
/// behind the recovery and flow figures).
pub async fn history(
    query: Result<web::Query<HistoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let limit = super::page_limit(q.limit)?;
    let mut after = q.cursor.as_deref().map(history_cursor).transpose()?;
    let moved = match (&q.from_site, &q.to_site) {
        (None, None) => None,
        (Some(a), Some(b)) => Some((site(a)?, site(b)?)),
        _ => {
            return Err(ApiError::client(
                ErrorCode::InvalidQuery,
                "from_site and to_site go together",
            ))
        }
    };
    let filter = store::stats::HistoryFilter {
        window: window(q.from, q.to)?,
        kind: word("kind", q.kind.as_ref())?,
        op: word("op", q.op.as_ref())?,
        recovered: q.recovered,
        moved,
    };
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_deref(),
        q.district_code.as_deref(),
        None,
    )
    .await?;
    let cursor_of = |(id, r): &(i64, shared::stats::HistoryItem)| {
        format!("{}_{}_{id}", r.occurred_at.timestamp_micros(), r.event_id)
    };
    if !csv {
        let mut rows =
            store::stats::history_list(&state.pool, &scope, &filter, after, limit + 1).await?;
        let more = usize::try_from(limit).is_ok_and(|l| rows.len() > l);
        if more {
            rows.pop();
        }
        let next_cursor = more.then(|| rows.last()).flatten().map(cursor_of);
        let items: Vec<_> = rows.into_iter().map(|(_, r)| r).collect();
        return Ok(HttpResponse::Ok().json(Page { items, next_cursor }));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "cylinder_code",
            "event_id",
            "kind",
            "op",
            "occurred_at",
            "station_code",
            "customer_code",
            "to_station_code",
            "vehicle_plate",
            "staff_no",
        ])
        .map_err(csv_error)?;
    let mut written = 0usize;
    loop {
        let page =
            store::stats::history_list(&state.pool, &scope, &filter, after, CSV_PAGE).await?;
        written += page.len();
        if written > CSV_MAX {
            return Err(too_long());
        }
        for (_, r) in &page {
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            writer
                .write_record([
                    r.cylinder_code.clone(),
                    r.event_id.to_string(),
                    r.kind.clone(),
                    opt(&r.op),
                    r.occurred_at.to_rfc3339(),
                    opt(&r.station_code),
                    opt(&r.customer_code),
                    opt(&r.to_station_code),
                    opt(&r.vehicle_plate),
                    opt(&r.staff_no),
                ])
                .map_err(csv_error)?;
        }
        match page.last() {
            Some((id, last)) if i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE) => {
                after = Some((last.occurred_at, last.event_id, *id));
            }
            _ => break,
        }
    }
    csv_response(writer, "history.csv")
}

/// `?enterprise_code=&district_code=&kind=&limit=&cursor=&format=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersQuery {
    enterprise_code: Option<String>,
    district_code: Option<String>,
    kind: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `GET /api/v1/customers`: the customer accounts (开户) of the enterprises within the scope,
/// by code (the list behind the registration figures' customer counts).
pub async fn customers(
    query: Result<web::Query<CustomersQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let limit = super::page_limit(q.limit)?;
    if let Some(kind) = &q.kind {
        if !["household", "restaurant", "industrial"].contains(&kind.as_str()) {
            return Err(ApiError::client(
                ErrorCode::InvalidQuery,
                format!("unknown kind {kind:?}; expected household, restaurant or industrial"),
            ));
        }
    }
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_deref(),
        q.district_code.as_deref(),
        None,
    )
    .await?;
    let kind = q.kind.as_deref();
    if !csv {
        let mut items =
            store::stats::customer_list(&state.pool, &scope, kind, q.cursor.as_deref(), limit + 1)
                .await?;
        let more = usize::try_from(limit).is_ok_and(|l| items.len() > l);
        if more {
            items.pop();
        }
        let next_cursor = more.then(|| items.last()).flatten().map(|c| c.code.clone());
        return Ok(HttpResponse::Ok().json(Page { items, next_cursor }));
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "code",
            "enterprise_code",
            "name",
            "kind",
            "phone",
            "address",
            "district_code",
            "opened_at",
        ])
        .map_err(csv_error)?;
    let (mut after, mut written) = (None::<String>, 0usize);
    loop {
        let page =
            store::stats::customer_list(&state.pool, &scope, kind, after.as_deref(), CSV_PAGE)
                .await?;
        written += page.len();
        if written > CSV_MAX {
            return Err(too_long());
        }
        for c in &page {
            writer
                .write_record([
                    c.code.as_str(),
                    c.enterprise_code.as_str(),
                    c.name.as_str(),
                    c.kind.as_str(),
                    c.phone.as_str(),
                    c.address.as_str(),
                    c.district_code.as_str(),
                    &c.opened_at.to_rfc3339(),
                ])
                .map_err(csv_error)?;
        }
        match page.last() {
            Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == CSV_PAGE) => {
                after = Some(last.code.clone());
            }
            _ => break,
        }
    }
    csv_response(writer, "customers.csv")
}
