//! `GET /api/v1/stats/...`: figures within the user's scope.

use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use shared::ids::{DistrictCode, EnterpriseCode, StationCode};
use shared::stats::{
    AlertKindStats, AlertStats, Bucket, ComplianceCounts, ComplianceDistribution, ComplianceGroup,
    FillingBucket, FillingStats, Flow, Flows, GroupBy, Inventory, Links, Recovery, RecoveryStats,
    RuleCount, SiteRef, INVENTORY_COLUMNS,
};
use shared::ErrorCode;

/// `GET /api/v1/cylinders?` with these parameters (the absent ones left out), percent-encoded.
fn list_link(params: &[(&str, Option<&str>)]) -> String {
    format!("/api/v1/cylinders?{}", query_string(params))
}

/// `k=v&…` of the parameters given, percent-encoded.
fn query_string(params: &[(&str, Option<&str>)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
        .collect();
    query.join("&")
}

/// Percent-encodes a query value (unreserved characters and commas kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The lists behind one inventory row (or the total row).
fn inventory_links(medium: Option<&str>, scope: &[(&str, Option<&str>)]) -> Links {
    INVENTORY_COLUMNS
        .iter()
        .map(|(column, states)| {
            let custody = states.join(",");
            let mut params = vec![("medium", medium), ("custody", Some(custody.as_str()))];
            params.extend(scope.iter().copied());
            ((*column).to_owned(), list_link(&params))
        })
        .collect()
}

/// How cylinders are classified now: lost after `loss_after_days`, compliance today.
pub fn classify(state: &AppState) -> store::stats::Classify {
    store::stats::Classify::now(state.settings.loss_after_days, state.settings.due_soon_days)
}

/// A station asked for must be within the scope: otherwise it is not found.
pub(crate) async fn station_in_scope(
    state: &AppState,
    station: Option<&str>,
    scope: &crate::access::Scope,
) -> Result<(), ApiError> {
    let Some(code) = station else { return Ok(()) };
    match store::filling::station_in_scope(&state.pool, code, scope).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::client(
            ErrorCode::NotFound,
            format!("no station {code}"),
        )),
    }
}

/// `?enterprise_code=&district_code=&station_code=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryQuery {
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    station_code: Option<StationCode>,
}

/// `GET /api/v1/stats/inventory`: the inventory table (seed 000 §3.7) for the city, a
/// district, an enterprise or a station.
#[utoipa::path(get, path = "/api/v1/stats/inventory", tag = "statistics", security(("bearer" = [])), params(InventoryQuery), responses((status = 200, description = "The inventory table", body = shared::stats::Inventory)))]
pub async fn inventory(
    query: Result<web::Query<InventoryQuery>, actix_web::Error>,
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
    station_in_scope(&state, query.station_code.as_deref(), &scope).await?;
    let rows = store::stats::inventory(
        &state.pool,
        &scope,
        query.station_code.as_deref(),
        classify(&state),
    )
    .await?;
    let scope_params = [
        ("enterprise_code", query.enterprise_code.as_deref()),
        ("district_code", query.district_code.as_deref()),
        ("station_code", query.station_code.as_deref()),
    ];
    let mut table = Inventory::of(rows);
    for row in &mut table.rows {
        row.links = inventory_links(Some(&row.medium), &scope_params);
    }
    table.total_links = inventory_links(None, &scope_params);
    Ok(HttpResponse::Ok().json(table))
}

/// `?group_by=enterprise|district&enterprise_code=&district_code=&station_code=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplianceQuery {
    #[serde(default)]
    group_by: GroupBy,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    /// Only the cylinders registered at this station.
    station_code: Option<StationCode>,
}

/// `GET /api/v1/stats/compliance`: cylinders by worst compliance status, per enterprise or
/// district (seed 001 §4.1.12–14), today in Beijing time.
#[utoipa::path(get, path = "/api/v1/stats/compliance", tag = "statistics", security(("bearer" = [])), params(ComplianceQuery), responses((status = 200, description = "Cylinders by compliance", body = shared::stats::ComplianceDistribution)))]
pub async fn compliance(
    query: Result<web::Query<ComplianceQuery>, actix_web::Error>,
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
    station_in_scope(&state, query.station_code.as_deref(), &scope).await?;
    let rows = store::stats::compliance(
        &state.pool,
        &scope,
        query.station_code.as_deref(),
        query.group_by == GroupBy::District,
        classify(&state),
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
                links: Links::new(),
            }),
        }
    }
    let key_param = if query.group_by == GroupBy::District {
        "district_code"
    } else {
        "enterprise_code"
    };
    for g in &mut groups {
        g.links = g
            .counts
            .keys()
            .map(|status| {
                let link = list_link(&[
                    ("compliance", Some(status.as_str())),
                    (key_param, Some(g.key.as_str())),
                    ("station_code", query.station_code.as_deref()),
                ]);
                (status.clone(), link)
            })
            .collect();
    }
    Ok(HttpResponse::Ok().json(ComplianceDistribution {
        group_by: query.group_by,
        groups,
        total,
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

/// `GET /api/v1/stats/registration`: per enterprise, customer accounts by kind (开户数), cylinders
/// in use and how many have their usage registration (实名制开户进度), and tag issuance (发卡率):
/// tags issued, read in the field, voided with scrapped cylinders.
#[utoipa::path(get, path = "/api/v1/stats/registration", tag = "statistics", security(("bearer" = [])), params(ScopeQuery), responses((status = 200, description = "Registrations per enterprise", body = shared::stats::RegistrationStats)))]
pub async fn registration(
    query: Result<web::Query<ScopeQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let scope = super::alerts::narrowed(
        &state,
        &user,
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
    )
    .await?;
    let counts = store::stats::registration(&state.pool, &scope, classify(&state)).await?;
    let mut customers: std::collections::BTreeMap<
        EnterpriseCode,
        std::collections::BTreeMap<String, i64>,
    > = std::collections::BTreeMap::new();
    for (enterprise, kind, n) in store::stats::customers_by_kind(&state.pool, &scope).await? {
        customers.entry(enterprise).or_default().insert(kind, n);
    }
    let mut by_enterprise: std::collections::BTreeMap<EnterpriseCode, (i64, i64, i64, i64)> =
        counts
            .into_iter()
            .map(|(e, cylinders, registered, seen, void)| (e, (cylinders, registered, seen, void)))
            .collect();
    for enterprise in customers.keys() {
        by_enterprise.entry(enterprise.clone()).or_default();
    }
    let links = |enterprise: Option<&str>| -> Links {
        let with = |extra: Option<(&'static str, &'static str)>| {
            let mut params = vec![("enterprise_code", enterprise)];
            if enterprise.is_none() {
                params.push(("district_code", q.district_code.as_deref()));
            }
            params.push(("custody", Some(IN_USE)));
            if let Some((k, v)) = extra {
                params.push((k, Some(v)));
            }
            list_link(&params)
        };
        let customers = {
            let mut params = vec![("enterprise_code", enterprise)];
            if enterprise.is_none() {
                params.push(("district_code", q.district_code.as_deref()));
            }
            format!("/api/v1/customers?{}", query_string(&params))
        };
        [
            ("cylinders", with(None)),
            ("unregistered", with(Some(("registered", "false")))),
            ("tags_never_seen", with(Some(("seen", "false")))),
            ("customers", customers),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    };
    let mut total = (std::collections::BTreeMap::<String, i64>::new(), 0, 0, 0, 0);
    let mut groups = Vec::new();
    for (enterprise, (cylinders, registered, seen, void)) in by_enterprise {
        let kinds = customers.remove(&enterprise).unwrap_or_default();
        for (kind, n) in &kinds {
            *total.0.entry(kind.clone()).or_default() += n;
        }
        total.1 += cylinders;
        total.2 += registered;
        total.3 += seen;
        total.4 += void;
        let mut g = shared::stats::Registration::of(
            Some(enterprise.clone()),
            kinds,
            cylinders,
            registered,
            seen,
            void,
        );
        g.links = links(Some(&enterprise));
        groups.push(g);
    }
    let mut total =
        shared::stats::Registration::of(None, total.0, total.1, total.2, total.3, total.4);
    total.links = links(q.enterprise_code.as_deref());
    Ok(HttpResponse::Ok().json(shared::stats::RegistrationStats { groups, total }))
}

/// Every custody but scrapped: the cylinders in use.
const IN_USE: &str =
    "in_stock_empty,in_stock_full,in_transit_delivery,at_customer,in_transit_return,at_inspection,lost";

/// `?from=&to=` (RFC 3339; default the last 24 hours) and the scope filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    bucket: Bucket,
    enterprise_code: Option<EnterpriseCode>,
    district_code: Option<DistrictCode>,
    station_code: Option<StationCode>,
}

/// The window asked for: `from` before `to`, at most `max_days` long (default: the last day).
fn window(q: &WindowQuery, max_days: i64) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    window_or(q, 1, max_days)
}

/// The window asked for, by default the last `default_days`.
fn window_or(
    q: &WindowQuery,
    default_days: i64,
    max_days: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = q.to.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let from = q
        .from
        .map_or(to - chrono::Duration::days(default_days), |f| {
            f.with_timezone(&Utc)
        });
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
) -> Result<crate::access::Scope, ApiError> {
    let scope = super::alerts::narrowed(
        state,
        user,
        q.enterprise_code.as_ref(),
        q.district_code.as_ref(),
    )
    .await?;
    station_in_scope(state, q.station_code.as_deref(), &scope).await?;
    Ok(scope)
}

/// `GET /api/v1/stats/fillings?from=&to=&bucket=hour|day`: fillings, flagged and late records,
/// decisions and refusals per bucket (Beijing time; every bucket, empty ones too; at most 31
/// days by the hour, 366 by the day), and refusals by rule over the window.
#[utoipa::path(get, path = "/api/v1/stats/fillings", tag = "statistics", security(("bearer" = [])), params(WindowQuery), responses((status = 200, description = "Fillings per bucket", body = shared::stats::FillingStats)))]
pub async fn fillings(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
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
    let step = if q.bucket == Bucket::Hour {
        chrono::Duration::hours(1)
    } else {
        chrono::Duration::days(1)
    };
    // The list behind a count: the same scope, the bucket's window (within the asked one).
    let link = |path: &str, from: DateTime<Utc>, to: DateTime<Utc>, extra: Option<(&str, &str)>| {
        let (from, to) = (from.to_rfc3339(), to.to_rfc3339());
        let mut params = vec![
            ("from", Some(from.as_str())),
            ("to", Some(to.as_str())),
            ("enterprise_code", q.enterprise_code.as_deref()),
            ("district_code", q.district_code.as_deref()),
            ("station_code", station),
        ];
        if let Some((k, v)) = extra {
            params.push((k, Some(v)));
        }
        format!("/api/v1/{path}?{}", query_string(&params))
    };
    let buckets = rows
        .into_iter()
        .filter_map(|(start, fillings, flagged, late, decisions, refusals)| {
            let start = start.and_local_timezone(beijing).single()?;
            let from = start.with_timezone(&Utc).max(span.0);
            let to = (start.with_timezone(&Utc) + step).min(span.1);
            let links = [
                ("fillings", link("fillings", from, to, None)),
                (
                    "flagged",
                    link("fillings", from, to, Some(("flagged", "true"))),
                ),
                ("late", link("fillings", from, to, Some(("late", "true")))),
                ("decisions", link("fillings/decisions", from, to, None)),
                (
                    "refusals",
                    link("fillings/decisions", from, to, Some(("allowed", "false"))),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            Some(FillingBucket {
                start,
                fillings,
                flagged,
                late,
                decisions,
                refusals,
                links,
            })
        })
        .collect();
    let refusals_by_rule = store::stats::refusals_by_rule(&state.pool, &scope, station, span)
        .await?
        .into_iter()
        .map(|(rule, count)| RuleCount {
            link: Some(link(
                "fillings/decisions",
                span.0,
                span.1,
                Some(("rule", rule.as_str())),
            )),
            rule,
            count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(FillingStats {
        bucket: q.bucket,
        buckets,
        refusals_by_rule,
    }))
}

/// `GET /api/v1/stats/alerts?from=&to=`: alerts opened in the window (at most 366 days) per
/// kind, with the mean time to acknowledge.
#[utoipa::path(get, path = "/api/v1/stats/alerts", tag = "statistics", security(("bearer" = [])), params(WindowQuery), responses((status = 200, description = "Alerts per kind", body = shared::stats::AlertStats)))]
pub async fn alerts(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let span = window(&q, 366)?;
    let scope = window_scope(&state, &user, &q).await?;
    let (from, to) = (span.0.to_rfc3339(), span.1.to_rfc3339());
    let kinds = store::stats::alerts(&state.pool, &scope, span)
        .await?
        .into_iter()
        .map(|(kind, opened, acknowledged, resolved, open, mean_ack_s)| {
            let link = |extra: Option<(&str, &str)>| {
                let mut params = vec![
                    ("kind", Some(kind.as_str())),
                    ("from", Some(from.as_str())),
                    ("to", Some(to.as_str())),
                    ("enterprise_code", q.enterprise_code.as_deref()),
                    ("district_code", q.district_code.as_deref()),
                ];
                if let Some((k, v)) = extra {
                    params.push((k, Some(v)));
                }
                format!("/api/v1/alerts?{}", query_string(&params))
            };
            let links = [
                ("opened", link(None)),
                ("acknowledged", link(Some(("acknowledged", "true")))),
                ("resolved", link(Some(("resolved", "true")))),
                ("open", link(Some(("status", "open")))),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            AlertKindStats {
                kind,
                opened,
                acknowledged,
                resolved,
                open,
                mean_ack_s,
                links,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(AlertStats { kinds }))
}

/// `GET /api/v1/stats/recovery?from=&to=` (default the last 30 days, at most 366): per owner
/// enterprise, cylinders delivered in the window and how many came back since.
#[utoipa::path(get, path = "/api/v1/stats/recovery", tag = "statistics", security(("bearer" = [])), params(WindowQuery), responses((status = 200, description = "Recovery per owner", body = shared::stats::RecoveryStats)))]
pub async fn recovery(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let span = window_or(&q, 30, 366)?;
    let scope = window_scope(&state, &user, &q).await?;
    let rate = |delivered: i64, returned: i64| {
        (delivered > 0).then(|| {
            f64::from(u32::try_from(returned).unwrap_or(u32::MAX))
                / f64::from(u32::try_from(delivered).unwrap_or(u32::MAX))
        })
    };
    let (from, to) = (span.0.to_rfc3339(), span.1.to_rfc3339());
    let links = |enterprise: Option<&str>| -> Links {
        let base = |recovered: Option<&str>| {
            let mut params = vec![
                ("kind", Some("scan")),
                ("op", Some("deliver")),
                ("from", Some(from.as_str())),
                ("to", Some(to.as_str())),
                ("enterprise_code", enterprise),
            ];
            if enterprise.is_none() {
                params.push(("district_code", q.district_code.as_deref()));
            }
            params.push(("recovered", recovered));
            format!("/api/v1/history?{}", query_string(&params))
        };
        [("delivered", base(None)), ("returned", base(Some("true")))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    };
    let mut total = Recovery {
        enterprise_code: String::new(),
        delivered: 0,
        returned: 0,
        rate: None,
        links: links(q.enterprise_code.as_deref()),
    };
    let groups = store::stats::recovery(&state.pool, &scope, span)
        .await?
        .into_iter()
        .map(|(enterprise_code, delivered, returned)| {
            total.delivered += delivered;
            total.returned += returned;
            Recovery {
                links: links(Some(&enterprise_code)),
                enterprise_code,
                delivered,
                returned,
                rate: rate(delivered, returned),
            }
        })
        .collect();
    total.rate = rate(total.delivered, total.returned);
    Ok(HttpResponse::Ok().json(RecoveryStats { groups, total }))
}

/// `GET /api/v1/stats/flows?from=&to=` (default the last 30 days, at most 366): cylinders moving
/// between sites, the largest 500 flows.
#[utoipa::path(get, path = "/api/v1/stats/flows", tag = "statistics", security(("bearer" = [])), params(WindowQuery), responses((status = 200, description = "Flows between sites", body = shared::stats::Flows)))]
pub async fn flows(
    query: Result<web::Query<WindowQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.map_err(super::QueryError::malformed)?;
    let span = window_or(&q, 30, 366)?;
    let scope = window_scope(&state, &user, &q).await?;
    let (from, to) = (span.0.to_rfc3339(), span.1.to_rfc3339());
    let flows = store::stats::flows(&state.pool, &scope, span, 500)
        .await?
        .into_iter()
        .map(|(from_kind, from_code, to_kind, to_code, count)| {
            let (from_site, to_site) = (
                format!("{from_kind}:{from_code}"),
                format!("{to_kind}:{to_code}"),
            );
            let link = format!(
                "/api/v1/history?{}",
                query_string(&[
                    ("from", Some(from.as_str())),
                    ("to", Some(to.as_str())),
                    ("enterprise_code", q.enterprise_code.as_deref()),
                    ("district_code", q.district_code.as_deref()),
                    ("from_site", Some(from_site.as_str())),
                    ("to_site", Some(to_site.as_str())),
                ])
            );
            Flow {
                from: SiteRef {
                    kind: from_kind,
                    code: from_code,
                },
                to: SiteRef {
                    kind: to_kind,
                    code: to_code,
                },
                count,
                link: Some(link),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Flows { flows }))
}
