//! HTTP calls to `/api/v1`. Errors keep their cause: the server's JSON error when it sent one.

use gloo_net::http::Request;
use shared::ErrorBody;
use std::fmt;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request did not complete (network, server down).
    Network(String),
    /// The server answered with an error body.
    Server {
        status: u16,
        body: Option<ErrorBody>,
    },
    /// The answer was not what the contract says.
    Decode(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(e) => write!(f, "network: {e}"),
            Self::Server {
                status,
                body: Some(b),
            } => write!(f, "{status} {}: {}", b.error.code.name(), b.error.message),
            Self::Server { status, body: None } => write!(f, "HTTP {status}"),
            Self::Decode(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

/// GETs a JSON document.
pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if !response.ok() {
        let status = response.status();
        let body = response.json::<ErrorBody>().await.ok();
        return Err(ApiError::Server { status, body });
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// The district boundaries configured on the server.
pub async fn districts() -> Result<serde_json::Value, ApiError> {
    get_json("/api/v1/basemap/districts").await
}
