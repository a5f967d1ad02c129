//! Text PostgreSQL cannot store: a NUL character in a path segment or a query parameter is
//! refused before any handler sees it (`400`, naming the path parameter or query key), instead
//! of reaching a statement that fails with a 500. And a bearer token in the query string
//! (`?token=`) is refused the same way (`400`, field `token`). A request target cannot hold a raw NUL byte,
//! so a NUL arrives as `%00`: that is all a request without one costs.

use crate::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;
use shared::{ErrorCode, ErrorDetail};

/// The middleware.
pub async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let nul = |raw: &str| raw.contains(NUL);
    if !nul(req.uri().path()) && req.query_string().is_empty() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let query = req.query_string();
    let refused = nul_in_path(&req)
        .or_else(|| nul_in_query(query))
        .or_else(|| token_in_query(query));
    if let Some(error) = refused {
        let response = error.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// A bearer token in the query string (`?token=`, however encoded): refused everywhere, so
/// that no client learns to put one where logs, histories and `Referer`s keep it.
fn token_in_query(query: &str) -> Option<ApiError> {
    query.split('&').find_map(|pair| {
        let key = pair.split('=').next().unwrap_or_default();
        (percent_decoded(key) == b"token").then(|| {
            ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::InvalidQuery,
                    "a token never goes in a URL: send Authorization: Bearer <token>; the live \
                     feed takes a ticket (POST /api/v1/live/ticket) or a first message",
                )
                .with_field("token"),
            )
        })
    })
}

/// NUL, percent-encoded.
const NUL: &str = "%00";

fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// A path segment holding NUL, named by the route's parameter at that place.
fn nul_in_path(req: &ServiceRequest) -> Option<ApiError> {
    let raw = req.uri().path();
    if !raw.contains(NUL) {
        return None;
    }
    let pattern = req.match_pattern().unwrap_or_default();
    let names: Vec<&str> = pattern.split('/').collect();
    let field = raw
        .split('/')
        .enumerate()
        .find(|(_, segment)| segment.contains(NUL))
        .and_then(|(i, _)| names.get(i))
        .and_then(|n| n.strip_prefix('{')?.strip_suffix('}'))
        .unwrap_or("path");
    Some(ApiError::Client(
        ErrorDetail::new(
            ErrorCode::InvalidField,
            format!("{field} holds a NUL character"),
        )
        .with_field(field),
    ))
}

/// A query parameter (name or value) holding NUL, named by its key.
fn nul_in_query(query: &str) -> Option<ApiError> {
    let pair = query.split('&').find(|pair| pair.contains(NUL))?;
    let key = pair.split('=').next().unwrap_or_default();
    let key = String::from_utf8_lossy(&percent_decoded(key)).replace('\0', "");
    Some(ApiError::Client(
        ErrorDetail::new(
            ErrorCode::InvalidQuery,
            format!("the query parameter {key} holds a NUL character"),
        )
        .with_field(key),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_in_query_values_and_keys_however_encoded() {
        assert!(nul_in_query("a=1&b=2").is_none());
        assert!(nul_in_query("a=%zz&b=%2").is_none());
        let Some(ApiError::Client(e)) = nul_in_query("limit=5&enterprise_code=a%00b") else {
            panic!("not found");
        };
        assert_eq!(e.field.as_deref(), Some("enterprise_code"));
        assert!(nul_in_query("x%00y=1").is_some());
        assert_eq!(percent_decoded("a%41%4a%"), b"aAJ%");
    }
}
