//! The lists behind the figures: `GET /api/v1/fillings` (filling records),
//! `GET /api/v1/fillings/decisions` (authorize decisions), `GET /api/v1/history` (cylinders'
//! history rows: deliveries, returns, moves), `GET /api/v1/customers` (customer accounts) and
//! `GET /api/v1/cylinders` (cylinders by custody and compliance, classified as the statistics
//! classify them), within the caller's scope, paged by cursor or whole as CSV.

use super::paged::{opt, wants_csv, Listing};
use super::QueryError;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use shared::cylinder::{Compliance, Custody};
use shared::history::{HistoryKind, HistoryOp};
use shared::ids::{DistrictCode, EnterpriseCode, StationCode};
use shared::place::PlaceKind;
use shared::registry::CustomerKind;
use shared::ErrorCode;
use std::sync::Arc;

/// `?from=&to=&enterprise_code=&district_code=&station_code=&flagged=&late=&limit=&cursor=&format=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FillingsQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    station_code: Option<StationCode>,
    flagged: Option<bool>,
    /// Later than `late_filling_s`.
    late: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `?from=&to=&enterprise_code=&district_code=&station_code=&allowed=&rule=&limit=&cursor=&format=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DecisionsQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    station_code: Option<StationCode>,
    allowed: Option<bool>,
    rule: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// A time window: from (inclusive) to (exclusive).
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The start of year 0000 (1 BC), the earliest instant RFC 3339 names.
const OPEN_FROM: DateTime<Utc> = match DateTime::from_timestamp(-62_167_219_200, 0) {
    Some(t) => t,
    None => DateTime::<Utc>::UNIX_EPOCH,
};
/// The start of year 10000, after every instant RFC 3339 names.
const OPEN_TO: DateTime<Utc> = match DateTime::from_timestamp(253_402_300_800, 0) {
    Some(t) => t,
    None => DateTime::<Utc>::UNIX_EPOCH,
};

/// `from`/`to` as given (either may be open), `from` before `to`.
fn window(
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
) -> Result<Option<Window>, ApiError> {
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    // An open end is the edge of what RFC 3339 can name (years 0000 to 9999), which
    // PostgreSQL's timestamptz holds (chrono's own MIN/MAX it does not).
    let from = from.map_or(OPEN_FROM, |f| f.with_timezone(&Utc));
    let to = to.map_or(OPEN_TO, |t| t.with_timezone(&Utc));
    if from >= to {
        return Err(QueryError::WindowOrder.into());
    }
    Ok(Some((from, to)))
}

/// The scope asked for, and the station (which must be within it).
async fn scope_of(
    state: &AppState,
    user: &User,
    enterprise: Option<&EnterpriseCode>,
    district: Option<&DistrictCode>,
    station: Option<&StationCode>,
) -> Result<crate::access::Scope, ApiError> {
    let scope = super::alerts::narrowed(state, user, enterprise, district).await?;
    super::stats::station_in_scope(state, station.map(StationCode::as_str), &scope).await?;
    Ok(scope)
}

/// `GET /api/v1/fillings`: filling records (window on the end of filling).
#[utoipa::path(get, path = "/api/v1/fillings", tag = "fillings", security(("bearer" = [])), params(FillingsQuery), responses((status = 200, description = "Filling records (or CSV with format=csv)", content((shared::cylinder::Page<shared::stats::FillingItem> = "application/json"), (String = "text/csv")))))]
pub async fn fillings(
    query: Result<web::Query<FillingsQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(super::parse_cursor).transpose()?;
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
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
        q.station_code.as_ref(),
    )
    .await?;
    let station = q.station_code.as_deref();
    let listing = Listing {
        what: "filling records",
        file: "fillings.csv",
        columns: &[
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
        ],
        cells: |r: &shared::stats::FillingItem| {
            vec![
                r.id.to_string(),
                r.station_code.to_string(),
                r.gun_no.clone(),
                r.cylinder_code.to_string(),
                r.staff_no.to_string(),
                r.started_at.to_rfc3339(),
                r.ended_at.to_rfc3339(),
                r.received_at.to_rfc3339(),
                r.late_s.to_string(),
                r.mass_before_kg.to_string(),
                r.mass_after_kg.to_string(),
                r.flags.join(" "),
            ]
        },
        after: |r| (r.ended_at, r.id),
        cursor: |r| format!("{}_{}", r.ended_at.timestamp_micros(), r.id),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, filter) = (
        state.reads.read().clone(),
        Arc::new(scope),
        Arc::new(filter),
    );
    let station = station.map(str::to_owned);
    listing
        .answer(
            csv,
            after,
            limit,
            move |after, n| {
                let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
                let station = station.clone();
                async move {
                    let station = station.as_deref();
                    store::stats::filling_list(&pool, &scope, station, &filter, after, n).await
                }
            },
            Some,
        )
        .await
}

/// `GET /api/v1/fillings/decisions`: authorize decisions (window on the decision time).
#[utoipa::path(get, path = "/api/v1/fillings/decisions", tag = "fillings", security(("bearer" = [])), params(DecisionsQuery), responses((status = 200, description = "Authorize decisions (or CSV with format=csv)", content((shared::cylinder::Page<shared::stats::DecisionItem> = "application/json"), (String = "text/csv")))))]
pub async fn decisions(
    query: Result<web::Query<DecisionsQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(super::parse_cursor).transpose()?;
    if let Some(rule) = &q.rule {
        let rules: Vec<&str> = shared::filling::FillingRule::ALL
            .iter()
            .map(|r| r.name())
            .filter(|name| name.starts_with('R'))
            .collect();
        if !rules.contains(&rule.as_str()) {
            return Err(ApiError::client(
                ErrorCode::InvalidQuery,
                format!(
                    "unknown rule {rule:?}; expected one of {}",
                    rules.join(", ")
                ),
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
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
        q.station_code.as_ref(),
    )
    .await?;
    let station = q.station_code.as_deref();
    let listing = Listing {
        what: "decisions",
        file: "decisions.csv",
        columns: &[
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
        ],
        cells: |r: &shared::stats::DecisionItem| {
            vec![
                r.id.to_string(),
                r.decided_at.to_rfc3339(),
                r.station_code.to_string(),
                r.gun_no.clone(),
                r.cylinder_code.as_deref().unwrap_or_default().to_owned(),
                r.tag_id.as_deref().unwrap_or_default().to_owned(),
                r.medium.clone(),
                r.staff_no.to_string(),
                r.allowed.to_string(),
                r.rules.join(" "),
            ]
        },
        after: |r| (r.decided_at, r.id),
        cursor: |r| format!("{}_{}", r.decided_at.timestamp_micros(), r.id),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, filter) = (
        state.reads.read().clone(),
        Arc::new(scope),
        Arc::new(filter),
    );
    let station = station.map(str::to_owned);
    listing
        .answer(
            csv,
            after,
            limit,
            move |after, n| {
                let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
                let station = station.clone();
                async move {
                    let station = station.as_deref();
                    store::stats::decision_list(&pool, &scope, station, &filter, after, n).await
                }
            },
            Some,
        )
        .await
}

/// `?from=&to=&enterprise_code=&district_code=&kind=&op=&recovered=&from_site=&to_site=&limit=&cursor=&format=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
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
fn site(value: &str) -> Result<(PlaceKind, String), ApiError> {
    match value.split_once(':') {
        Some((kind @ ("station" | "customer"), code)) if !code.is_empty() => {
            let kind = PlaceKind::from_name(kind).ok_or_else(|| not_a_site(value))?;
            Ok((kind, code.to_owned()))
        }
        _ => Err(not_a_site(value)),
    }
}

fn not_a_site(value: &str) -> ApiError {
    ApiError::client(
        ErrorCode::InvalidQuery,
        format!("site {value:?} is not station:CODE or customer:CODE"),
    )
}

/// `?kind=`: a history row's kind.
fn history_kind(value: Option<&str>) -> Result<Option<HistoryKind>, ApiError> {
    value
        .map(|v| {
            HistoryKind::from_name(v).ok_or_else(|| {
                ApiError::client(
                    ErrorCode::InvalidQuery,
                    format!("kind {v:?} is not a known word"),
                )
            })
        })
        .transpose()
}

/// `?op=`: an operation that exists (for `kind`, when given).
fn history_op(
    kind: Option<HistoryKind>,
    value: Option<&str>,
) -> Result<Option<&'static str>, ApiError> {
    value
        .map(|v| {
            HistoryOp::known_op(kind, v).ok_or_else(|| {
                ApiError::client(
                    ErrorCode::InvalidQuery,
                    format!("op {v:?} is not a known word"),
                )
            })
        })
        .transpose()
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
#[utoipa::path(get, path = "/api/v1/history", tag = "cylinders", security(("bearer" = [])), params(HistoryQuery), responses((status = 200, description = "History rows (or CSV with format=csv)", content((shared::cylinder::Page<shared::stats::HistoryItem> = "application/json"), (String = "text/csv")))))]
pub async fn history(
    query: Result<web::Query<HistoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(history_cursor).transpose()?;
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
    let kind = history_kind(q.kind.as_deref())?;
    let filter = store::stats::HistoryFilter {
        window: window(q.from, q.to)?,
        kind,
        op: history_op(kind, q.op.as_deref())?,
        recovered: q.recovered,
        moved,
    };
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
        None,
    )
    .await?;
    let listing = Listing {
        what: "history rows",
        file: "history.csv",
        columns: &[
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
        ],
        cells: |(_, r): &(i64, shared::stats::HistoryItem)| {
            vec![
                r.cylinder_code.to_string(),
                r.event_id.to_string(),
                r.kind.clone(),
                opt(r.op.as_ref()),
                r.occurred_at.to_rfc3339(),
                opt(r.station_code.as_ref()),
                opt(r.customer_code.as_ref()),
                opt(r.to_station_code.as_ref()),
                opt(r.vehicle_plate.as_ref()),
                opt(r.staff_no.as_ref()),
            ]
        },
        after: |(id, r)| (r.occurred_at, r.event_id, *id),
        cursor: |(id, r)| format!("{}_{}_{id}", r.occurred_at.timestamp_micros(), r.event_id),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, filter) = (
        state.reads.read().clone(),
        Arc::new(scope),
        Arc::new(filter),
    );
    listing
        .answer(
            csv,
            after,
            limit,
            move |after, n| {
                let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
                async move { store::stats::history_list(&pool, &scope, &filter, after, n).await }
            },
            |(_, r)| Some(r),
        )
        .await
}

/// `?enterprise_code=&district_code=&kind=&limit=&cursor=&format=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomersQuery {
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    kind: Option<String>,
    /// A code's prefix, or any part of the name (1 to 64 characters).
    q: Option<String>,
    /// `active`, `suspended` or `closed`.
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `GET /api/v1/customers`: the customer accounts (开户) of the enterprises within the scope,
/// by code (the list behind the registration figures' customer counts).
#[utoipa::path(get, path = "/api/v1/customers", tag = "registry", security(("bearer" = [])), params(CustomersQuery), responses((status = 200, description = "Customer accounts (or CSV with format=csv)", content((shared::cylinder::Page<shared::stats::CustomerItem> = "application/json"), (String = "text/csv")))))]
pub async fn customers(
    query: Result<web::Query<CustomersQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(q.limit)?;
    let kind = q
        .kind
        .as_deref()
        .map(|kind| {
            CustomerKind::from_name(kind).ok_or_else(|| {
                ApiError::client(
                    ErrorCode::InvalidQuery,
                    format!("unknown kind {kind:?}; expected household, restaurant or industrial"),
                )
            })
        })
        .transpose()?;
    let search = super::directories::search_of(q.q.as_deref(), q.status.as_deref())?;
    let csv = wants_csv(q.format.as_deref())?;
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
        None,
    )
    .await?;
    let listing = Listing {
        what: "customers",
        file: "customers.csv",
        columns: &[
            "code",
            "enterprise_code",
            "name",
            "kind",
            "phone",
            "address",
            "district_code",
            "opened_at",
        ],
        cells: |c: &shared::stats::CustomerItem| {
            vec![
                c.code.clone(),
                c.enterprise_code.to_string(),
                c.name.clone(),
                c.kind.clone(),
                c.phone.clone(),
                c.address.clone(),
                c.district_code.to_string(),
                c.opened_at.to_rfc3339(),
            ]
        },
        after: |c| c.code.clone(),
        cursor: |c| c.code.clone(),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, kind) = (state.reads.read().clone(), Arc::new(scope), kind);
    let search = Arc::new(search);
    listing
        .answer(
            csv,
            q.cursor.clone(),
            limit,
            move |after: Option<String>, n| {
                let (pool, scope, kind) = (pool.clone(), scope.clone(), kind);
                let search = search.clone();
                async move {
                    let (kind, after) = (kind.map(CustomerKind::name), after.as_deref());
                    store::directories::customers(&pool, &scope, kind, &search, after, n).await
                }
            },
            Some,
        )
        .await
}

/// `GET /api/v1/cylinders?medium=&custody=a,b&compliance=a,b&enterprise_code=&district_code=&station_code=&limit=&cursor=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CylindersQuery {
    medium: Option<shared::medium::Medium>,
    custody: Option<String>,
    compliance: Option<String>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    station_code: Option<StationCode>,
    /// With (`true`) or without (`false`) usage registration.
    registered: Option<bool>,
    /// Tag read in the field at least once (`true`) or never (`false`).
    seen: Option<bool>,
    limit: Option<i64>,
    cursor: Option<String>,
    /// `csv`: the whole list as CSV (at most `paged::CSV_MAX` cylinders) instead of a page.
    format: Option<String>,
}

/// The columns of a list, in order.
const CYLINDER_COLUMNS: [&str; 9] = [
    "code",
    "medium",
    "custody",
    "compliance",
    "owner_enterprise_code",
    "district_code",
    "place_kind",
    "place_code",
    "last_seen_at",
];

fn cylinder_cells(r: &store::stats::Listed) -> Vec<String> {
    vec![
        r.code.to_string(),
        r.medium.code().to_owned(),
        r.custody.name().to_owned(),
        r.compliance.name().to_owned(),
        r.owner.to_string(),
        r.district_code.as_deref().unwrap_or_default().to_owned(),
        r.place_kind
            .map(PlaceKind::name)
            .unwrap_or_default()
            .to_owned(),
        r.place_code.clone().unwrap_or_default(),
        r.last_seen_at
            .map(|t| crate::rules::compliance::to_beijing(t).to_rfc3339())
            .unwrap_or_default(),
    ]
}

/// `GET /api/v1/cylinders`: the list behind a figure — cylinders within scope by effective
/// custody (`lost` included) and worst compliance status, classified as the statistics
/// classify them; by code, `?cursor=` the last code of the previous page.
#[utoipa::path(get, path = "/api/v1/cylinders", tag = "cylinders", security(("bearer" = [])), params(CylindersQuery), responses((status = 200, description = "Cylinders behind a figure (or CSV with format=csv)", content((shared::cylinder::Page<shared::stats::CylinderItem> = "application/json"), (String = "text/csv")))))]
pub async fn cylinders(
    query: Result<web::Query<CylindersQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let limit = super::page_limit(q.limit)?;
    let names =
        |list: &Option<String>, known: &[&str], what: &str| -> Result<Vec<String>, ApiError> {
            let names: Vec<String> = list
                .as_deref()
                .map(|l| l.split(',').map(|n| n.trim().to_owned()).collect())
                .unwrap_or_default();
            match names.iter().find(|n| !known.contains(&n.as_str())) {
                Some(bad) => Err(ApiError::client(
                    ErrorCode::InvalidQuery,
                    format!(
                        "unknown {what} {bad:?}; expected some of {}",
                        known.join(", ")
                    ),
                )),
                None => Ok(names),
            }
        };
    let custody_names: Vec<&str> = Custody::ALL.iter().map(|c| c.name()).collect();
    let compliance_names: Vec<&str> = Compliance::ALL.iter().map(|c| c.name()).collect();
    let filter = store::stats::ListFilter {
        medium: q.medium.map(|m| m.code().to_owned()),
        custody: names(&q.custody, &custody_names, "custody")?,
        compliance: names(&q.compliance, &compliance_names, "compliance")?,
        registered: q.registered,
        seen: q.seen,
    };
    let scope = scope_of(
        &state,
        &user,
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
        q.station_code.as_ref(),
    )
    .await?;
    let csv = wants_csv(q.format.as_deref())?;
    let listing = Listing {
        what: "cylinders",
        file: "cylinders.csv",
        columns: &CYLINDER_COLUMNS,
        cells: cylinder_cells,
        after: |r| r.code.to_string(),
        cursor: |r| r.code.to_string(),
    };
    let csv = state.exports.for_csv(&user, csv)?;
    let (pool, scope, filter) = (
        state.reads.read().clone(),
        Arc::new(scope),
        Arc::new(filter),
    );
    let (station, now) = (q.station_code.clone(), super::stats::classify(&state));
    listing
        .answer(
            csv,
            q.cursor.clone(),
            limit,
            move |after: Option<String>, n| {
                let (pool, scope, filter) = (pool.clone(), scope.clone(), filter.clone());
                let station = station.clone();
                async move {
                    let (station, after) = (station.as_deref(), after.as_deref());
                    store::stats::list(&pool, &scope, station, now, &filter, after, n).await
                }
            },
            |r| {
                Some(shared::stats::CylinderItem {
                    code: r.code.into(),
                    medium: r.medium.into(),
                    custody: r.custody,
                    compliance: r.compliance.name().to_owned(),
                    owner_enterprise_code: r.owner,
                    district_code: r.district_code,
                    place_kind: r.place_kind,
                    place_code: r.place_code,
                    last_seen_at: r.last_seen_at,
                })
            },
        )
        .await
}
