//! `GET /api/v1/health`: PostgreSQL, PostGIS, Redis and the stream's lag; 503 when a dependency
//! is down. Each probe is bounded in time so a hung dependency cannot hang the check. Only a
//! signed-in administrator reads the report (versions, errors, backlog); anybody else learns
//! up or down.

use crate::api::state::AppState;
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use redis::streams::StreamInfoGroupsReply;
use redis::AsyncCommands;
use shared::auth::Role;
use shared::health::{DependencyHealth, HealthReport, HealthStatus, StreamHealth};
use std::time::Duration;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

fn up(version: Option<String>) -> DependencyHealth {
    DependencyHealth {
        ok: true,
        version,
        error: None,
    }
}

fn down(error: String) -> DependencyHealth {
    DependencyHealth {
        ok: false,
        version: None,
        error: Some(error),
    }
}

async fn bounded<T>(
    probe: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {PROBE_TIMEOUT:?}"))?
}

/// The health report.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, description = "Every dependency answers (the report for an administrator, the status for anybody else)", body = shared::health::HealthAnswer), (status = 503, description = "A dependency is down (likewise)", body = shared::health::HealthAnswer)))]
pub async fn health(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let report = report(&state).await;
    let status = if report.status == "ok" {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE
    };
    if is_admin(&req, &state).await {
        HttpResponse::build(status).json(report)
    } else {
        HttpResponse::build(status).json(HealthStatus {
            status: report.status,
        })
    }
}

/// Readiness for a load balancer's health check: 200 while PostgreSQL answers, 503 when it does
/// not. Redis is not asked: the filling decision and ingest need only PostgreSQL, so a Redis
/// fault must not take every instance out of the balancer (issue 24). The answer is the bare
/// status, for anybody.
#[utoipa::path(get, path = "/api/v1/health/ready", tag = "health", responses((status = 200, description = "PostgreSQL answers: the instance may take traffic", body = shared::health::HealthStatus), (status = 503, description = "PostgreSQL does not answer", body = shared::health::HealthStatus)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match bounded(store::versions(&state.pool)).await {
        Ok(_) => HttpResponse::Ok().json(HealthStatus {
            status: "ok".into(),
        }),
        Err(_) => HttpResponse::ServiceUnavailable().json(HealthStatus {
            status: "unavailable".into(),
        }),
    }
}

/// Whether the request carries a live administrator's token (a missing or bad one is simply
/// not: health answers everybody).
async fn is_admin(req: &HttpRequest, state: &AppState) -> bool {
    let Some(token) = super::extract::bearer(req) else {
        return false;
    };
    super::extract::user_for_token(state, &token)
        .await
        .is_ok_and(|user| user.role == Role::Admin)
}

async fn report(state: &AppState) -> HealthReport {
    let (postgres, postgis, outbox) = match bounded(store::versions(&state.pool)).await {
        Ok((pg, gis)) => {
            let outbox = bounded(store::events::outbox_len(&state.pool)).await.ok();
            (up(Some(pg)), up(Some(gis)), outbox)
        }
        Err(e) => (
            down(format!("{e:#}")),
            down("PostgreSQL is down".into()),
            None,
        ),
    };
    let mut stream = StreamHealth {
        outbox,
        lag: None,
        pending: None,
        length: None,
    };
    let redis = match bounded(redis_probe(state, &mut stream)).await {
        Ok(version) => up(Some(version)),
        Err(e) => down(format!("{e:#}")),
    };
    let ok = postgres.ok && postgis.ok && redis.ok;
    HealthReport {
        status: if ok { "ok" } else { "unavailable" }.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        postgres,
        postgis,
        redis,
        stream,
        replica: state
            .reads
            .has_replica()
            .then(|| shared::health::ReplicaHealth {
                serving_reads: state.reads.serving_from_replica(),
                lag_ms: state.reads.lag_ms(),
            }),
    }
}

async fn redis_probe(state: &AppState, stream: &mut StreamHealth) -> anyhow::Result<String> {
    let mut conn = state.redis.connect().await?;
    // One answer from one Redis; from a cluster one per master, by address.
    let info: redis::Value = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await?;
    let version = redis_version(&info).unwrap_or_else(|| "unknown".to_owned());
    // Summed over the stream's partitions.
    for p in 0..state.keys.partitions {
        let key = state.keys.stream(p);
        let length: u64 = conn.xlen(&key).await?;
        stream.length = Some(stream.length.unwrap_or(0) + length);
        if length > 0 {
            let groups: StreamInfoGroupsReply = conn.xinfo_groups(&key).await?;
            if let Some(group) = groups.groups.iter().find(|g| g.name == state.keys.group) {
                let add = |total: Option<u64>, n: Option<u64>| match (total, n) {
                    (None, None) => None,
                    (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
                };
                stream.pending = add(stream.pending, u64::try_from(group.pending).ok());
                stream.lag = add(stream.lag, group.lag.and_then(|l| u64::try_from(l).ok()));
            }
        }
    }
    Ok(version)
}

/// The `redis_version` an INFO answer names (the first one of a cluster's answers).
fn redis_version(info: &redis::Value) -> Option<String> {
    use redis::Value;
    match info {
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("redis_version:"))
                .map(|v| v.trim().to_owned())
        }),
        Value::SimpleString(text) | Value::VerbatimString { text, .. } => {
            redis_version(&Value::BulkString(text.clone().into_bytes()))
        }
        Value::Array(items) | Value::Set(items) => items.iter().find_map(redis_version),
        Value::Map(pairs) => pairs.iter().find_map(|(_, v)| redis_version(v)),
        _ => None,
    }
}
