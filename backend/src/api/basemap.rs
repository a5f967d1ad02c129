//! `GET /api/v1/basemap/districts`: the configured district boundaries (GeoJSON), read once at
//! start so a deployment can ship its own approved map.

use crate::api::state::AppState;
use actix_web::{http::header, web, HttpResponse};

/// The district FeatureCollection, as configured.
#[utoipa::path(get, path = "/api/v1/basemap/districts", tag = "map", responses((status = 200, description = "The district boundaries (GeoJSON FeatureCollection)", content_type = "application/geo+json", body = Object)))]
pub async fn districts(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/geo+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(state.basemap.clone())
}
