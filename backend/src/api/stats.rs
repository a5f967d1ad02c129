//! `GET /api/v1/stats/...`: figures within the user's scope.

use crate::auth::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use shared::stats::Inventory;
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
