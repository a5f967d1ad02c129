//! `ApiError`: every error a handler returns, rendered as the contract's JSON error body.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::{ErrorBody, ErrorCode, ErrorDetail};
use std::fmt;

/// A handler's error: a client error with its code, or an unexpected failure (500, logged with
/// its context, never shown to the client).
#[derive(Debug)]
pub enum ApiError {
    Client(ErrorDetail),
    Unavailable(anyhow::Error),
    Internal(anyhow::Error),
}

impl ApiError {
    /// A client error.
    pub fn client(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Client(ErrorDetail::new(code, message))
    }
}

/// A module's own error: each variant names its code in the one list (`shared::ErrorCode`) and
/// the field it is about, and its `Display` is the message (meilisearch's `ErrorCode` trait).
/// Any such error converts into an `ApiError` with `?`.
pub trait ModuleError: fmt::Display {
    /// The code the client sees.
    fn code(&self) -> ErrorCode;
    /// The request field it is about, if one.
    fn field(&self) -> Option<&str> {
        None
    }
}

impl<E: ModuleError> From<E> for ApiError {
    fn from(error: E) -> Self {
        let detail = ErrorDetail::new(error.code(), error.to_string());
        Self::Client(match error.field() {
            Some(field) => detail.with_field(field),
            None => detail,
        })
    }
}

impl From<ErrorDetail> for ApiError {
    fn from(detail: ErrorDetail) -> Self {
        Self::Client(detail)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        // A pool that cannot hand out a connection means the database is away, not a bug.
        let unavailable = error.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<sqlx::Error>(),
                Some(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed)
            )
        });
        if unavailable {
            Self::Unavailable(error)
        } else {
            Self::Internal(error)
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(d) => write!(f, "{}: {}", d.code.name(), d.message),
            Self::Unavailable(e) => write!(f, "unavailable: {e:#}"),
            Self::Internal(e) => write!(f, "internal: {e:#}"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        let code = match self {
            Self::Client(d) => d.code,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        };
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let detail = match self {
            Self::Client(d) => d.clone(),
            Self::Unavailable(e) => {
                tracing::warn!(error = %format!("{e:#}"), "dependency unavailable");
                ErrorDetail::new(
                    ErrorCode::ServiceUnavailable,
                    "a dependency is unavailable; retry later",
                )
            }
            Self::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                ErrorDetail::new(
                    ErrorCode::Internal,
                    "internal error; the server log has the details",
                )
            }
        };
        HttpResponse::build(self.status_code()).json(ErrorBody { error: detail })
    }
}

/// A JSON error response for a code and message, outside a handler's `Result`.
pub fn error_response(code: ErrorCode, message: impl Into<String>) -> HttpResponse {
    ApiError::client(code, message).error_response()
}
