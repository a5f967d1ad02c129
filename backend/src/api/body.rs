//! Reading request bodies: content type, size limit, JSON with a clear error.

use crate::error::ApiError;
use actix_web::{http::header, web, HttpRequest};
use futures_util::StreamExt;
use shared::{ErrorCode, ErrorDetail};
use std::time::Duration;

/// Reads a JSON body (at most `limit` bytes) into a value; not JSON is a 400.
pub async fn read_json(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<serde_json::Value, ApiError> {
    check_content_type(req, "application/json")?;
    let body = read_body(req, payload, limit).await?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::Client(ErrorDetail::new(
            ErrorCode::MalformedBody,
            format!("the body is not valid JSON: {e}"),
        ))
    })
}

/// Refuses a body declared as anything but `expected` (a missing header is accepted).
pub fn check_content_type(req: &HttpRequest, expected: &str) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == expected {
        Ok(())
    } else {
        Err(ApiError::client(
            ErrorCode::UnsupportedMediaType,
            format!("send {expected}, not \"{essence}\""),
        ))
    }
}

/// Reads the body, refusing it as soon as it passes `limit` bytes.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::client(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let within = req
        .app_data::<web::Data<crate::api::state::AppState>>()
        .map_or(DEFAULT_BODY_READ, |s| {
            Duration::from_secs(s.settings.body_read_s.max(1))
        });
    let read = async {
        let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::client(
                    ErrorCode::MalformedBody,
                    format!("the body could not be read: {e}"),
                )
            })?;
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(within, read).await.map_err(|_| {
        ApiError::client(
            ErrorCode::RequestTimeout,
            format!("the body did not arrive within {} s", within.as_secs()),
        )
    })?
}

/// The body deadline when no settings are at hand.
const DEFAULT_BODY_READ: Duration = Duration::from_secs(30);
