//! The directories (issue 21 item 5): `GET /api/v1/enterprises`, `/stations`, `/staff`,
//! `/vehicles`, `/devices` and `/users`, each a page of compact summaries (or the whole list as
//! CSV) within the caller's scope, searched by `q` (a code's prefix or any part of a name) and
//! filtered by `district_code`, `enterprise_code`, `status` and, for enterprises and staff,
//! `licence_expiring_within_days`. `GET /api/v1/customers` (`lists::customers`) takes `q` and
//! `status` through `search_of` too. Every parameter is checked here, and a bad one is a 400
//! `invalid_query` naming it.

use super::paged::{opt, wants_csv, Listing};
use crate::access::{Scope, User};
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store::{self, directories::Search};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use shared::auth::{RecordStatus, Role};
use shared::directory::{
    DeviceSummary, EnterpriseSummary, StaffSummary, StationSummary, UserSummary, VehicleSummary,
    MAX_EXPIRING_DAYS, MAX_QUERY_CHARS,
};
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::{ErrorCode, ErrorDetail};
use std::future::Future;
use std::sync::Arc;

/// `?q=&district_code=&enterprise_code=&status=&limit=&cursor=&format=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// A code's prefix, or any part of the name (1 to 64 characters).
    q: Option<String>,
    /// The enterprise's district.
    district_code: Option<String>,
    enterprise_code: Option<String>,
    /// `active`, `suspended` or `closed`.
    status: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(value_type = Option<i64>)]
    limit: Option<String>,
    cursor: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// `DirectoryQuery` and `licence_expiring_within_days`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LicensedQuery {
    /// A code's prefix, or any part of the name (1 to 64 characters).
    q: Option<String>,
    /// The enterprise's district.
    district_code: Option<String>,
    enterprise_code: Option<String>,
    /// `active`, `suspended` or `closed`.
    status: Option<String>,
    /// Only records whose licence (enterprises: filling or gas licence; staff: certificate)
    /// expires within this many days from today in Beijing, already expired included (0 to
    /// 3650).
    #[param(value_type = Option<i64>)]
    licence_expiring_within_days: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(value_type = Option<i64>)]
    limit: Option<String>,
    cursor: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

impl From<DirectoryQuery> for LicensedQuery {
    fn from(q: DirectoryQuery) -> Self {
        Self {
            q: q.q,
            district_code: q.district_code,
            enterprise_code: q.enterprise_code,
            status: q.status,
            licence_expiring_within_days: None,
            limit: q.limit,
            cursor: q.cursor,
            format: q.format,
        }
    }
}

/// A refused parameter.
fn bad(field: &str, message: String) -> ApiError {
    ApiError::Client(ErrorDetail::new(ErrorCode::InvalidQuery, message).with_field(field))
}

/// `q` and `status` as searched (shared with `GET /api/v1/customers`).
pub fn search_of(q: Option<&str>, status: Option<&str>) -> Result<Search, ApiError> {
    let q = q
        .map(|q| {
            let q = q.trim();
            let chars = q.chars().count();
            if chars == 0 || chars > MAX_QUERY_CHARS {
                Err(bad(
                    "q",
                    format!("q must be 1 to {MAX_QUERY_CHARS} characters"),
                ))
            } else if q.chars().any(char::is_control) {
                Err(bad("q", "q must not hold control characters".to_owned()))
            } else {
                Ok(q.to_owned())
            }
        })
        .transpose()?;
    let status = status
        .map(|s| {
            RecordStatus::from_name(s).ok_or_else(|| {
                bad(
                    "status",
                    format!("unknown status {s:?}; expected active, suspended or closed"),
                )
            })
        })
        .transpose()?;
    Ok(Search {
        q,
        status,
        expiring_within_days: None,
    })
}

/// A directory's request, checked.
struct Asked {
    scope: Scope,
    search: Search,
    limit: i64,
    cursor: Option<String>,
    csv: bool,
}

/// Checks every parameter (naming the one refused) and narrows the caller's scope to the
/// enterprise and district asked for (404 outside it).
async fn asked(state: &AppState, user: &User, q: LicensedQuery) -> Result<Asked, ApiError> {
    let mut search = search_of(q.q.as_deref(), q.status.as_deref())?;
    search.expiring_within_days = q
        .licence_expiring_within_days
        .as_deref()
        .map(|days| match days.parse::<i32>() {
            Ok(d) if (0..=MAX_EXPIRING_DAYS).contains(&d) => Ok(d),
            _ => Err(bad(
                "licence_expiring_within_days",
                format!("licence_expiring_within_days must be a whole number of days from 0 to {MAX_EXPIRING_DAYS}"),
            )),
        })
        .transpose()?;
    let limit = q
        .limit
        .as_deref()
        .map(|l| {
            l.parse::<i64>()
                .map_err(|_| bad("limit", "limit must be between 1 and 1000".to_owned()))
        })
        .transpose()?;
    let limit = super::page_limit(limit).map_err(|e| bad("limit", e.to_string()))?;
    if q.cursor
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > 200)
    {
        return Err(bad(
            "cursor",
            "cursor is not one this server gave".to_owned(),
        ));
    }
    let csv = wants_csv(q.format.as_deref()).map_err(|e| bad("format", e.to_string()))?;
    let enterprise = q
        .enterprise_code
        .map(|c| {
            EnterpriseCode::try_from(c.clone())
                .map_err(|e| bad("enterprise_code", format!("enterprise_code {c:?}: {e}")))
        })
        .transpose()?;
    let district = q
        .district_code
        .map(|c| {
            DistrictCode::try_from(c.clone())
                .map_err(|e| bad("district_code", format!("district_code {c:?}: {e}")))
        })
        .transpose()?;
    let scope =
        super::alerts::narrowed(state, user, enterprise.as_ref(), district.as_ref()).await?;
    Ok(Asked {
        scope,
        search,
        limit,
        cursor: q.cursor,
        csv,
    })
}

/// A page of `R` (or all of them as CSV, holding one of the user's export slots).
async fn answer<R, C, F, Fut>(
    state: &AppState,
    user: &User,
    csv: bool,
    after: Option<C>,
    limit: i64,
    listing: Listing<R, C>,
    read: F,
) -> Result<HttpResponse, ApiError>
where
    R: Serialize + 'static,
    C: 'static,
    F: FnMut(Option<C>, i64) -> Fut + 'static,
    Fut: Future<Output = anyhow::Result<Vec<R>>> + 'static,
{
    let slot = state.exports.for_csv(user, csv)?;
    listing.answer(slot, after, limit, read, Some).await
}

/// The pool (a fresh replica's when there is one), scope and search a directory's reader
/// needs on every page.
fn reader_parts(state: &AppState, asked: Asked) -> (sqlx::PgPool, Arc<Scope>, Arc<Search>) {
    (
        state.reads.read().clone(),
        Arc::new(asked.scope),
        Arc::new(asked.search),
    )
}

/// `GET /api/v1/enterprises`: the enterprises within the scope, by code.
#[utoipa::path(get, path = "/api/v1/enterprises", tag = "registry", security(("bearer" = [])), params(LicensedQuery), responses((status = 200, description = "Enterprises (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::EnterpriseSummary> = "application/json"), (String = "text/csv")))))]
pub async fn enterprises(
    query: Result<web::Query<LicensedQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q).await?;
    let (csv, limit, cursor) = (asked.csv, asked.limit, asked.cursor.clone());
    let listing = Listing {
        what: "enterprises",
        file: "enterprises.csv",
        columns: &[
            "code",
            "name",
            "district_code",
            "status",
            "version",
            "filling_licence_no",
            "filling_licence_expires",
            "gas_licence_no",
            "gas_licence_expires",
        ],
        cells: |r: &EnterpriseSummary| {
            vec![
                r.code.clone(),
                r.name.clone(),
                r.district_code.to_string(),
                r.status.name().to_owned(),
                r.version.to_string(),
                opt(r.filling_licence_no.as_ref()),
                opt(r.filling_licence_expires.as_ref()),
                opt(r.gas_licence_no.as_ref()),
                opt(r.gas_licence_expires.as_ref()),
            ]
        },
        after: |r| r.code.clone(),
        cursor: |r| r.code.clone(),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        cursor,
        limit,
        listing,
        move |after: Option<String>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                store::directories::enterprises(&pool, &scope, &search, after.as_deref(), n).await
            }
        },
    )
    .await
}

/// `GET /api/v1/stations`: the stations of the enterprises within the scope, by code.
#[utoipa::path(get, path = "/api/v1/stations", tag = "registry", security(("bearer" = [])), params(DirectoryQuery), responses((status = 200, description = "Stations (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::StationSummary> = "application/json"), (String = "text/csv")))))]
pub async fn stations(
    query: Result<web::Query<DirectoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q.into()).await?;
    let (csv, limit, cursor) = (asked.csv, asked.limit, asked.cursor.clone());
    let listing = Listing {
        what: "stations",
        file: "stations.csv",
        columns: &[
            "code",
            "name",
            "enterprise_code",
            "kind",
            "district_code",
            "status",
            "version",
        ],
        cells: |r: &StationSummary| {
            vec![
                r.code.clone(),
                r.name.clone(),
                r.enterprise_code.to_string(),
                r.kind.clone(),
                opt(r.district_code.as_ref()),
                r.status.name().to_owned(),
                r.version.to_string(),
            ]
        },
        after: |r| r.code.clone(),
        cursor: |r| r.code.clone(),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        cursor,
        limit,
        listing,
        move |after: Option<String>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                store::directories::stations(&pool, &scope, &search, after.as_deref(), n).await
            }
        },
    )
    .await
}

/// `<enterprise_code>/<staff_no>` (codes hold no `/`).
fn staff_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    cursor
        .split_once('/')
        .filter(|(e, s)| !e.is_empty() && !s.is_empty())
        .map(|(e, s)| (e.to_owned(), s.to_owned()))
        .ok_or_else(|| bad("cursor", "cursor is not one this server gave".to_owned()))
}

/// `GET /api/v1/staff`: the staff of the enterprises within the scope, by enterprise and staff
/// number.
#[utoipa::path(get, path = "/api/v1/staff", tag = "registry", security(("bearer" = [])), params(LicensedQuery), responses((status = 200, description = "Staff (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::StaffSummary> = "application/json"), (String = "text/csv")))))]
pub async fn staff(
    query: Result<web::Query<LicensedQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q).await?;
    let after = asked.cursor.as_deref().map(staff_cursor).transpose()?;
    let (csv, limit) = (asked.csv, asked.limit);
    let listing = Listing {
        what: "staff",
        file: "staff.csv",
        columns: &[
            "staff_no",
            "name",
            "enterprise_code",
            "role",
            "district_code",
            "status",
            "version",
            "certificate_no",
            "certificate_expires",
        ],
        cells: |r: &StaffSummary| {
            vec![
                r.staff_no.to_string(),
                r.name.clone(),
                r.enterprise_code.to_string(),
                r.role.clone(),
                r.district_code.to_string(),
                r.status.name().to_owned(),
                r.version.to_string(),
                opt(r.certificate_no.as_ref()),
                opt(r.certificate_expires.as_ref()),
            ]
        },
        after: |r| (r.enterprise_code.to_string(), r.staff_no.to_string()),
        cursor: |r| format!("{}/{}", r.enterprise_code, r.staff_no),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        after,
        limit,
        listing,
        move |after: Option<(String, String)>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                let after = after.as_ref().map(|(e, s)| (e.as_str(), s.as_str()));
                store::directories::staff(&pool, &scope, &search, after, n).await
            }
        },
    )
    .await
}

/// `GET /api/v1/vehicles`: the vehicles of the enterprises within the scope, by plate.
#[utoipa::path(get, path = "/api/v1/vehicles", tag = "registry", security(("bearer" = [])), params(DirectoryQuery), responses((status = 200, description = "Vehicles (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::VehicleSummary> = "application/json"), (String = "text/csv")))))]
pub async fn vehicles(
    query: Result<web::Query<DirectoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q.into()).await?;
    let (csv, limit, cursor) = (asked.csv, asked.limit, asked.cursor.clone());
    let listing = Listing {
        what: "vehicles",
        file: "vehicles.csv",
        columns: &[
            "plate",
            "enterprise_code",
            "district_code",
            "gps_device_id",
            "reader_device_id",
            "status",
            "version",
        ],
        cells: |r: &VehicleSummary| {
            vec![
                r.plate.to_string(),
                r.enterprise_code.to_string(),
                r.district_code.to_string(),
                opt(r.gps_device_id.as_ref()),
                opt(r.reader_device_id.as_ref()),
                r.status.name().to_owned(),
                r.version.to_string(),
            ]
        },
        after: |r| r.plate.to_string(),
        cursor: |r| r.plate.to_string(),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        cursor,
        limit,
        listing,
        move |after: Option<String>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                store::directories::vehicles(&pool, &scope, &search, after.as_deref(), n).await
            }
        },
    )
    .await
}

/// `GET /api/v1/devices`: the devices of the enterprises within the scope, by id (never a key
/// or its hash).
#[utoipa::path(get, path = "/api/v1/devices", tag = "registry", security(("bearer" = [])), params(DirectoryQuery), responses((status = 200, description = "Devices (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::DeviceSummary> = "application/json"), (String = "text/csv")))))]
pub async fn devices(
    query: Result<web::Query<DirectoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q.into()).await?;
    let (csv, limit, cursor) = (asked.csv, asked.limit, asked.cursor.clone());
    let listing = Listing {
        what: "devices",
        file: "devices.csv",
        columns: &[
            "device_id",
            "kind",
            "enterprise_code",
            "district_code",
            "vehicle_plate",
            "station_code",
            "status",
            "version",
            "last_seen_at",
        ],
        cells: |r: &DeviceSummary| {
            vec![
                r.device_id.to_string(),
                r.kind.name().to_owned(),
                r.enterprise_code.to_string(),
                r.district_code.to_string(),
                opt(r.vehicle_plate.as_ref()),
                opt(r.station_code.as_ref()),
                r.status.name().to_owned(),
                r.version.to_string(),
                r.last_seen_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            ]
        },
        after: |r| r.device_id.to_string(),
        cursor: |r| r.device_id.to_string(),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        cursor,
        limit,
        listing,
        move |after: Option<String>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                store::directories::devices(&pool, &scope, &search, after.as_deref(), n).await
            }
        },
    )
    .await
}

/// `GET /api/v1/users`: the accounts an administrator, a regulator (a district's: its
/// regulators and its enterprises' users) or an enterprise's administrator (its own) oversees,
/// by username (never a password's hash).
#[utoipa::path(get, path = "/api/v1/users", tag = "auth", security(("bearer" = [])), params(DirectoryQuery), responses((status = 200, description = "Accounts (or CSV with format=csv)", content((shared::cylinder::Page<shared::directory::UserSummary> = "application/json"), (String = "text/csv")))))]
pub async fn users(
    query: Result<web::Query<DirectoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[
        Role::Admin,
        Role::CityRegulator,
        Role::DistrictRegulator,
        Role::EnterpriseAdmin,
    ])?;
    let q = query.map_err(super::QueryError::malformed)?.into_inner();
    let asked = asked(&state, &user, q.into()).await?;
    let (csv, limit, cursor) = (asked.csv, asked.limit, asked.cursor.clone());
    let listing = Listing {
        what: "users",
        file: "users.csv",
        columns: &[
            "username",
            "role",
            "enterprise_code",
            "district_code",
            "status",
            "version",
            "created_at",
        ],
        cells: |r: &UserSummary| {
            vec![
                r.username.clone(),
                r.role.name().to_owned(),
                opt(r.enterprise_code.as_ref()),
                opt(r.district_code.as_ref()),
                r.status.name().to_owned(),
                r.version.to_string(),
                r.created_at.to_rfc3339(),
            ]
        },
        after: |r| r.username.clone(),
        cursor: |r| r.username.clone(),
    };
    let (pool, scope, search) = reader_parts(&state, asked);
    answer(
        &state,
        &user,
        csv,
        cursor,
        limit,
        listing,
        move |after: Option<String>, n| {
            let (pool, scope, search) = (pool.clone(), scope.clone(), search.clone());
            async move {
                store::directories::users(&pool, &scope, &search, after.as_deref(), n).await
            }
        },
    )
    .await
}
