//! `POST /api/v1/events`: a batch of 1..=10,000 events. Each item is parsed on its own; the
//! valid ones are committed (with their outbox entries) before the answer, so `accepted` means
//! durable. A body that cannot be read as a batch, or a batch of which nothing is valid,
//! writes nothing and answers 4xx.

use super::body::{check_content_type, read_body};
use crate::access::Device;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::gateway::batch::{self, Checked};
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use shared::events::{parse_batch, IngestResponse, RejectedEvent};
use shared::{ErrorCode, ErrorDetail};

/// A staff number only another enterprise has.
pub use crate::gateway::batch::foreign_staff;

/// 422 body when every item was rejected: the error plus each item's reason.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AllRejected {
    error: ErrorDetail,
    rejected: Vec<RejectedEvent>,
}

/// Ingests one batch.
#[tracing::instrument(
    name = "ingest",
    skip_all,
    fields(events, accepted, duplicates, rejected)
)]
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("deviceKey" = [])), request_body(content = shared::schema::WireBatch, example = json!({"events": [{"id": "8f0c2a52-1f1e-4a77-9a53-0d1f2b7c9e10", "kind": "gps", "occurred_at": "2026-12-06T09:30:00+08:00", "vehicle_plate": "豫A12345", "lon": 113.66, "lat": 34.75, "speed_kmh": 42.0}, {"id": "1d7e9a40-5c2b-4f0e-8a3b-6e2f1c0d9b21", "kind": "scan", "occurred_at": "2026-12-06T09:31:00+08:00", "op": "load", "cylinder_code": "431325", "vehicle_plate": "豫A12345", "staff_no": "E1001"}]})), responses((status = 202, description = "Durable: the valid items are committed; each refused item is named", body = shared::events::IngestResponse), (status = 422, description = "No item of the batch was valid; nothing was written", body = AllRejected)))]
pub async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    device: Device,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_content_type(&req, "application/json")?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let items = parse_batch(&body)?;
    let span = tracing::Span::current();
    span.record("events", items.len());

    let Checked { events, rejected } = batch::check(&state.pool, &device, items).await?;
    span.record("rejected", rejected.len());
    if events.is_empty() {
        let first = rejected
            .first()
            .map(|r| r.error.message.clone())
            .unwrap_or_default();
        let body = AllRejected {
            error: ErrorDetail::new(
                ErrorCode::AllEventsRejected,
                format!("no event of the batch was valid; the first: {first}"),
            )
            .with_field("events"),
            rejected,
        };
        return Ok(HttpResponse::UnprocessableEntity().json(body));
    }

    let accepted = store::events::insert_new(
        &state.pool,
        &events,
        &device.device_id,
        &device.enterprise_code,
    )
    .await?;
    state.relay_wakeup.notify_one();
    let duplicates = events.len() - accepted;
    span.record("accepted", accepted);
    span.record("duplicates", duplicates);
    Ok(HttpResponse::Accepted().json(IngestResponse {
        accepted,
        duplicates,
        rejected,
    }))
}
