//! HTTP calls to `/api/v1`. Errors keep their cause: the server's JSON error when it sent one.

use chrono::NaiveDate;
use gloo_net::http::Request;
use shared::cylinder::{CylinderView, HistoryEntry, Page, PublicCylinder};
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

impl ApiError {
    /// Whether the server said there is nothing at that path.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Server { status: 404, .. })
    }
}

/// A document being fetched: loading, loaded, absent (404), or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Ready(T),
    NotFound,
    Failed(String),
}

impl<T> From<Result<T, ApiError>> for Fetch<T> {
    fn from(result: Result<T, ApiError>) -> Self {
        match result {
            Ok(value) => Self::Ready(value),
            Err(e) if e.is_not_found() => Self::NotFound,
            Err(e) => Self::Failed(e.to_string()),
        }
    }
}

/// A path segment or query value, percent-encoded.
fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
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

/// One cylinder: its archive, compliance on `as_of` (the server's today when `None`) and where
/// it is.
pub async fn cylinder(code: &str, as_of: Option<NaiveDate>) -> Result<CylinderView, ApiError> {
    let query = as_of.map_or_else(String::new, |d| format!("?as_of={}", d.format("%Y-%m-%d")));
    get_json(&format!("/api/v1/cylinders/{}{query}", encode(code))).await
}

/// The most history lines one page shows; older cylinders with more get a notice instead of an
/// endless table.
pub const HISTORY_CAP: usize = 10_000;

/// A cylinder's whole history, oldest first (every page, up to [`HISTORY_CAP`] lines), and
/// whether more was left out.
pub async fn history(code: &str) -> Result<(Vec<HistoryEntry>, bool), ApiError> {
    let base = format!("/api/v1/cylinders/{}/history?limit=500", encode(code));
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}&cursor={}", encode(c)),
            None => base.clone(),
        };
        let page: Page<HistoryEntry> = get_json(&path).await?;
        entries.extend(page.items);
        match page.next_cursor {
            Some(next) if entries.len() < HISTORY_CAP && Some(&next) != cursor.as_ref() => {
                cursor = Some(next);
            }
            Some(_) => return Ok((entries, true)),
            None => return Ok((entries, false)),
        }
    }
}

/// What the QR code shows the public, by cylinder code or QR payload.
pub async fn public_cylinder(code: &str) -> Result<PublicCylinder, ApiError> {
    get_json(&format!("/api/v1/public/cylinders/{}", encode(code))).await
}
