//! `GET /api/v1/openapi.json`: the contract as this server answers it (`assets/openapi.json`,
//! compiled in; a test keeps it in step with the routing table).

use actix_web::HttpResponse;

const DOCUMENT: &str = include_str!("../../../assets/openapi.json");

/// The OpenAPI document (no sign-in: it describes, it holds no data).
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT)
}
