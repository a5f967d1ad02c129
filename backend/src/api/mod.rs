//! HTTP handlers, one resource per module, and the routing table.

pub mod basemap;
pub mod events;
pub mod health;
pub mod live;

use crate::error::error_response;
use actix_web::{web, HttpRequest, HttpResponse, Route};
use shared::ErrorCode;

/// Mounts `/api/v1/...`; unknown paths answer a JSON 404, known paths with the wrong method a
/// JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(resource("/health", web::get().to(health::health)))
            .service(resource("/events", web::post().to(events::ingest)))
            .service(resource("/live", web::get().to(live::upgrade)))
            .service(resource(
                "/basemap/districts",
                web::get().to(basemap::districts),
            ))
            .default_service(web::to(not_found)),
    );
}

fn resource(path: &str, route: Route) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    error_response(
        ErrorCode::NotFound,
        format!("no endpoint {} {}", req.method(), req.path()),
    )
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    error_response(
        ErrorCode::MethodNotAllowed,
        format!("{} does not accept {}", req.path(), req.method()),
    )
}
