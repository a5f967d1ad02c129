//! `GET /metrics` on the metrics listener (`metrics_addr`): every metric of this instance in the
//! OpenMetrics text format, with the outbox's and the dead-letter table's sizes read now.

use crate::store;
use crate::telemetry::metrics;
use actix_web::{web, HttpResponse};
use sqlx::PgPool;

/// The scrape.
pub async fn scrape(pool: web::Data<PgPool>) -> HttpResponse {
    let backlog = async {
        let outbox = store::events::outbox_len(&pool).await?;
        let dead = store::events::dead_letters(&pool).await?;
        Ok::<_, anyhow::Error>((outbox, dead))
    };
    match backlog.await {
        Ok((outbox, dead)) => metrics().set_backlog(outbox, dead),
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "metrics: backlog not read"),
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics().render())
}
