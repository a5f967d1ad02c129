//! `GET /api/v1/stats/...`: figures within the user's scope.

use crate::auth::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use shared::stats::{
    ComplianceCounts, ComplianceDistribution, ComplianceGroup, GroupBy, Inventory,
};
use shared::ErrorCode;

/// `?enterprise_code=&district_code=&station_code=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    enterprise_code: Option<String>,
    district_code: Option<String>,
    station_code: Option<String>,
}

/// `GET /api/v1/stats/inventory`: the inventory table (seed 000 §3.7) for the city, a
/// district, an enterprise or a station.
pub async fn inventory(
    query: Result<web::Query<InventoryQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_deref(),
        query.district_code.as_deref(),
    )
    .await?;
    if let Some(code) = &query.station_code {
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
    let loss_after = chrono::Duration::days(i64::from(state.settings.loss_after_days));
    let rows = store::stats::inventory(
        &state.pool,
        &scope,
        query.station_code.as_deref(),
        Utc::now() - loss_after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(Inventory::of(rows)))
}

/// `?group_by=enterprise|district&enterprise_code=&district_code=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceQuery {
    #[serde(default)]
    group_by: GroupBy,
    enterprise_code: Option<String>,
    district_code: Option<String>,
}

/// `GET /api/v1/stats/compliance`: cylinders by worst compliance status, per enterprise or
/// district (seed 001 §4.1.12–14), today in Beijing time.
pub async fn compliance(
    query: Result<web::Query<ComplianceQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        query.enterprise_code.as_deref(),
        query.district_code.as_deref(),
    )
    .await?;
    let rows = store::stats::compliance(
        &state.pool,
        &scope,
        query.group_by == GroupBy::District,
        crate::rules::compliance::today_in_shanghai(),
        state.settings.due_soon_days,
    )
    .await?;
    let mut groups: Vec<ComplianceGroup> = Vec::new();
    let mut total = ComplianceCounts::new();
    for (key, status, n) in rows {
        *total.entry(status.clone()).or_default() += n;
        match groups.last_mut() {
            Some(g) if g.key == key => {
                g.counts.insert(status, n);
            }
            _ => groups.push(ComplianceGroup {
                key,
                counts: [(status, n)].into_iter().collect(),
            }),
        }
    }
    Ok(HttpResponse::Ok().json(ComplianceDistribution {
        group_by: query.group_by,
        groups,
        total,
    }))
}
