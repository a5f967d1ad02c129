//! `GET /api/v1/stats/...`: figures within the user's scope.

use crate::auth::User;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use shared::stats::{
    AlertKindStats, AlertStats, Bucket, ComplianceCounts, ComplianceDistribution, ComplianceGroup,
    FillingBucket, FillingStats, GroupBy, Inventory, RuleCount,
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

/// `?from=&to=` (RFC 3339; default the last 24 hours) and the scope filters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    bucket: Bucket,
    enterprise_code: Option<String>,
    district_code: Option<String>,
    station_code: Option<String>,
}

/// The window asked for: `from` before `to`, at most `max_days` long.
fn window(q: &WindowQuery, max_days: i64) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = q.to.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let from = q
        .from
        .map_or(to - chrono::Duration::days(1), |f| f.with_timezone(&Utc));
    if from >= to || to - from > chrono::Duration::days(max_days) {
        return Err(ApiError::client(
            ErrorCode::InvalidQuery,
            format!("from must be before to, at most {max_days} days apart"),
        ));
    }
    Ok((from, to))
}

/// The scope of a window query (station included).
async fn window_scope(
    state: &AppState,
    user: &User,
    q: &WindowQuery,
) -> Result<crate::auth::Scope, ApiError> {
    let scope = super::alerts::narrowed(
        state,
        user,
        q.enterprise_code.as_deref(),
        q.district_code.as_deref(),
    )
    .await?;
    if let Some(code) = &q.station_code {
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

/// `GET /api/v1/stats/fillings?from=&to=&bucket=hour|day`: fillings, flagged and late records,
/// decisions and refusals per bucket (Beijing time; every bucket, empty ones too; at most 31
/// days by the hour, 366 by the day), and refusals by rule over the window.
pub async fn fillings(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let span = window(&q, if q.bucket == Bucket::Hour { 31 } else { 366 })?;
    let scope = window_scope(&state, &user, &q).await?;
    let unit = if q.bucket == Bucket::Hour {
        "hour"
    } else {
        "day"
    };
    let station = q.station_code.as_deref();
    let rows = store::stats::fillings(
        &state.pool,
        &scope,
        station,
        span,
        unit,
        state.settings.late_filling_s,
    )
    .await?;
    let beijing = FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no UTC+8")))?;
    let buckets = rows
        .into_iter()
        .filter_map(|(start, fillings, flagged, late, decisions, refusals)| {
            Some(FillingBucket {
                start: start.and_local_timezone(beijing).single()?,
                fillings,
                flagged,
                late,
                decisions,
                refusals,
            })
        })
        .collect();
    let refusals_by_rule = store::stats::refusals_by_rule(&state.pool, &scope, station, span)
        .await?
        .into_iter()
        .map(|(rule, count)| RuleCount { rule, count })
        .collect();
    Ok(HttpResponse::Ok().json(FillingStats {
        bucket: q.bucket,
        buckets,
        refusals_by_rule,
    }))
}

/// `GET /api/v1/stats/alerts?from=&to=`: alerts opened in the window (at most 366 days) per
/// kind, with the mean time to acknowledge.
pub async fn alerts(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(|e| ApiError::client(ErrorCode::InvalidQuery, e.to_string()))?;
    let span = window(&q, 366)?;
    let scope = window_scope(&state, &user, &q).await?;
    let kinds = store::stats::alerts(&state.pool, &scope, span)
        .await?
        .into_iter()
        .map(
            |(kind, opened, acknowledged, resolved, open, mean_ack_s)| AlertKindStats {
                kind,
                opened,
                acknowledged,
                resolved,
                open,
                mean_ack_s,
            },
        )
        .collect();
    Ok(HttpResponse::Ok().json(AlertStats { kinds }))
}
