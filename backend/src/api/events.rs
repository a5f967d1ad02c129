//! `POST /api/v1/events`: a batch of 1..=10,000 events. Each item is parsed on its own; the
//! valid ones are committed (with their outbox entries) before the answer, so `accepted` means
//! durable. A body that cannot be read as a batch, or a batch of which nothing is valid,
//! writes nothing and answers 4xx.

use super::body::{check_content_type, read_body};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use shared::events::{parse_batch, IngestResponse, RejectedEvent};
use shared::{ErrorCode, ErrorDetail};

/// 422 body when every item was rejected: the error plus each item's reason.
#[derive(Serialize)]
struct AllRejected {
    error: ErrorDetail,
    rejected: Vec<RejectedEvent>,
}

/// Ingests one batch.
#[tracing::instrument(
    name = "ingest",
    skip_all,
    fields(events, accepted, duplicates, rejected)
)]
pub async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_content_type(&req, "application/json")?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let items = parse_batch(&body)?;
    let span = tracing::Span::current();
    span.record("events", items.len());

    let mut events = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match item {
            Ok(event) => events.push(event),
            Err(error) => rejected.push(RejectedEvent { index, error }),
        }
    }
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

    let accepted = store::events::insert_new(&state.pool, &events).await?;
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
