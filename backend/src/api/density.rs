//! The wall's map layers: `GET /api/v1/stats/density` (cylinder positions binned on a grid, so
//! that 100,000 cylinders draw as a few thousand cells) and `GET /api/v1/sites` (stations and
//! customers with their full stock) and `GET /api/v1/stats/vehicle-loads` (cylinders on each
//! vehicle), within the user's scope like the other statistics.

use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use shared::density::{
    Density, Sites, VehicleLoads, CELL_DEG_DEFAULT, CELL_DEG_MAX, CELL_DEG_MIN, SITES_CUSTOMER_CAP,
};
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::{ErrorCode, ErrorDetail};

/// `?cell_deg=&enterprise_code=&district_code=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DensityQuery {
    cell_deg: Option<f64>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
}

/// `GET /api/v1/stats/density`.
#[utoipa::path(get, path = "/api/v1/stats/density", tag = "statistics", security(("bearer" = [])), params(DensityQuery), responses((status = 200, description = "Cylinder density cells", body = shared::density::Density)))]
pub async fn density(
    query: Result<web::Query<DensityQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let cell_deg = query.cell_deg.unwrap_or(CELL_DEG_DEFAULT);
    if !(CELL_DEG_MIN..=CELL_DEG_MAX).contains(&cell_deg) {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidQuery,
                format!("cell_deg must be between {CELL_DEG_MIN} and {CELL_DEG_MAX}"),
            )
            .with_field("cell_deg"),
        ));
    }
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_ref(),
        query.district_code.as_ref(),
    )
    .await?;
    let cells = store::density::cells(&state.pool, &scope, cell_deg).await?;
    Ok(HttpResponse::Ok().json(Density {
        cell_deg,
        total: cells.iter().map(|c| c.count).sum(),
        max: cells.iter().map(|c| c.count).max().unwrap_or(0),
        cells,
    }))
}

/// `?enterprise_code=&district_code=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScopeQuery {
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
}

/// Which sites `GET /api/v1/sites` lists.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    Station,
    Customer,
}

/// `?kind=station|customer&enterprise_code=&district_code=` (both kinds without `kind`).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SitesQuery {
    kind: Option<SiteKind>,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
}

/// `GET /api/v1/sites`.
#[utoipa::path(get, path = "/api/v1/sites", tag = "registry", security(("bearer" = [])), params(SitesQuery), responses((status = 200, description = "Stations and customers on the map", body = shared::density::Sites)))]
pub async fn sites(
    query: Result<web::Query<SitesQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_ref(),
        query.district_code.as_ref(),
    )
    .await?;
    let mut sites = store::density::sites(
        &state.pool,
        &scope,
        query.kind != Some(SiteKind::Customer),
        query.kind != Some(SiteKind::Station),
    )
    .await?;
    let customers = sites.iter().filter(|s| s.kind == "customer").count();
    let truncated = i64::try_from(customers).unwrap_or(i64::MAX) > SITES_CUSTOMER_CAP;
    if truncated {
        sites.pop();
    }
    Ok(HttpResponse::Ok().json(Sites { sites, truncated }))
}

/// `GET /api/v1/stats/vehicle-loads?enterprise_code=&district_code=`.
#[utoipa::path(get, path = "/api/v1/stats/vehicle-loads", tag = "statistics", security(("bearer" = [])), params(ScopeQuery), responses((status = 200, description = "What each vehicle carries", body = shared::density::VehicleLoads)))]
pub async fn vehicle_loads(
    query: Result<web::Query<ScopeQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_ref(),
        query.district_code.as_ref(),
    )
    .await?;
    let vehicles = store::density::vehicle_loads(&state.pool, &scope).await?;
    Ok(HttpResponse::Ok().json(VehicleLoads { vehicles }))
}
