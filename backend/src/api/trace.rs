//! Around every request: a `request` span with its id, route pattern, method, principal kind,
//! status and latency; one log line when it is answered (`cylwatch::http`), and its time in
//! the `cylwatch_http_request_duration_seconds` histogram. The raw query string is never
//! logged (it may carry secrets); the id goes back as `X-Request-Id`.

use crate::access::Principal;
use crate::telemetry::metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tracing::Instrument;

/// Request ids: this process's start (ms) and a counter, unique across restarts.
fn next_request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| chrono::Utc::now().timestamp_millis());
    format!("{start:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware.
pub async fn trace(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = next_request_id();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "(unrouted)".to_owned());
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let span = tracing::info_span!(
        "request",
        id = %id,
        route = %route,
        method = %method,
        principal = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let outcome = next.call(req).instrument(span.clone()).await;
    let latency = started.elapsed();
    let status = match &outcome {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let principal = match &outcome {
        Ok(res) => match res.request().extensions().get::<Principal>() {
            Some(Principal::User(_)) => "user",
            Some(Principal::Device(_)) => "device",
            None => "none",
        },
        Err(_) => "none",
    };
    span.record("principal", tracing::field::display(principal));
    span.record("status", status);
    // Microseconds are enough.
    span.record(
        "latency_ms",
        (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0,
    );
    // Static files are many and dull: debug; the API: info.
    if route.starts_with("/api/") {
        tracing::info!(target: "cylwatch::http", parent: &span, path, "answered");
    } else {
        tracing::debug!(target: "cylwatch::http", parent: &span, path, "answered");
    }
    metrics().request_done(&route, &method, status, latency);
    let mut res = outcome?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
