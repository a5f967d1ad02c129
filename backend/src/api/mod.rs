//! HTTP handlers, one resource per module, and the routing table.

pub mod basemap;
pub mod events;
pub mod health;
pub mod live;

use crate::error::error_response;
use actix_web::{web, HttpRequest, HttpResponse};
use shared::ErrorCode;

/// Mounts `/api/v1/...`; unknown API paths answer a JSON 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/health", web::get().to(health::health))
            .route("/events", web::post().to(events::ingest))
            .route("/live", web::get().to(live::upgrade))
            .route("/basemap/districts", web::get().to(basemap::districts))
            .default_service(web::to(api_not_found)),
    );
}

async fn api_not_found(req: HttpRequest) -> HttpResponse {
    error_response(
        ErrorCode::NotFound,
        format!("no endpoint {} {}", req.method(), req.path()),
    )
}
