//! HTTP calls to `/api/v1`. Errors keep their cause: the server's JSON error when it sent one.
//!
//! Every call goes through [`send`], the one place that adds `Authorization: Bearer <token>`
//! and that ends the session when the server answers 401 to a call that needs one.

use crate::services::token;
use chrono::NaiveDate;
use gloo_net::http::{Method, RequestBuilder, Response};
use shared::alert::{Alert, AlertKind, AlertNote, AlertStatus, Severity};
use shared::auth::{LoginRequest, LoginResponse, Me};
use shared::cylinder::{CylinderView, HistoryEntry, Page, PublicCylinder};
use shared::filling::StationFillingSummary;
use shared::registry::EnterpriseView;
use shared::stats::{ComplianceDistribution, GroupBy, Inventory};
use shared::{ErrorBody, ErrorCode};
use std::fmt;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request did not complete (network, server down).
    Network(String),
    /// The server answered with an error status, and its error body when it sent one.
    Server {
        status: u16,
        body: Option<ServerError>,
    },
    /// The answer was not what the contract says.
    Decode(String),
}

/// The server's error body as it came (`shared::ErrorDetail`), keeping a code newer than this
/// build by its name instead of losing the whole body.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerError {
    /// `None` for a code this build does not know; `name` has it.
    pub code: Option<ErrorCode>,
    /// The code's stable snake_case name.
    pub name: String,
    /// The server's message: English, for developers and logs.
    pub message: String,
    /// The field (or field path) the error is about.
    pub field: Option<String>,
}

impl ServerError {
    /// Reads `{"error": {"code", "message", "field"?}}`; `None` when the body is not one.
    pub fn from_json(body: &serde_json::Value) -> Option<Self> {
        let detail = body.get("error")?;
        let name = detail.get("code")?.as_str()?.to_owned();
        Some(Self {
            code: serde_json::from_value(serde_json::Value::String(name.clone())).ok(),
            name,
            message: detail
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            field: detail
                .get("field")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        })
    }
}

impl From<ErrorBody> for ServerError {
    fn from(body: ErrorBody) -> Self {
        Self {
            code: Some(body.error.code),
            name: body.error.code.name().to_owned(),
            message: body.error.message,
            field: body.error.field,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(e) => write!(f, "network: {e}"),
            Self::Server {
                status,
                body: Some(b),
            } => write!(f, "{status} {}: {}", b.name, b.message),
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

    /// Whether the server refused the session (missing, unknown, expired or idle token).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Server { status: 401, .. })
    }

    /// The server's error code, when it sent one this build knows.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Server { body: Some(b), .. } => b.code,
            _ => None,
        }
    }

    /// The field the server's error names, when it names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Server { body: Some(b), .. } => b.field.as_deref(),
            _ => None,
        }
    }

    /// The server's message, when it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::Server { body: Some(b), .. } => Some(&b.message),
            _ => None,
        }
    }

    /// A stable name of the failure (for `data-code` attributes and tests): the server's code
    /// when it sent one, else `http_<status>`, `network` or `unexpected_answer`.
    pub fn name(&self) -> String {
        match self {
            Self::Server { body: Some(b), .. } => b.name.clone(),
            Self::Server { status, body: None } => format!("http_{status}"),
            Self::Network(_) => "network".to_owned(),
            Self::Decode(_) => "unexpected_answer".to_owned(),
        }
    }
}

/// A document being fetched: loading, loaded, absent (404), or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Ready(T),
    NotFound,
    Failed(ApiError),
}

impl<T> From<Result<T, ApiError>> for Fetch<T> {
    fn from(result: Result<T, ApiError>) -> Self {
        match result {
            Ok(value) => Self::Ready(value),
            Err(e) if e.is_not_found() => Self::NotFound,
            Err(e) => Self::Failed(e),
        }
    }
}

/// A path segment or query value, percent-encoded.
pub fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Whether a path answers without a session: signing in, and what the public sees. Everything
/// else under `/api/v1` needs the token.
fn is_open(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    path == "/api/v1/auth/login"
        || path == "/api/v1/auth/display"
        || path == "/api/v1/health"
        || path == "/api/v1/basemap/districts"
        || path.starts_with("/api/v1/public/")
}

/// Sends a request, with the session's token unless the path is open. A 401 to a call that
/// needs the token ends the session (the application goes to the sign-in page); there is no
/// point in asking without one.
async fn send(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<Response, ApiError> {
    send_as(method, path, body, None).await
}

/// `send` with a person's own token (`as_person`) instead of the session's: an action on a
/// wall signed in as its display. A 401 then ends nothing (the wall's session is fine).
async fn send_as(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    as_person: Option<&str>,
) -> Result<Response, ApiError> {
    send_with(method, path, body, as_person, &[]).await
}

/// `send` with extra request headers (`If-Match` of a registry edit).
pub async fn send_with_headers(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    send_with(method, path, body, None, headers).await
}

async fn send_with(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
    as_person: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let needs_token = !is_open(path) && as_person.is_none();
    let mut request = RequestBuilder::new(path).method(method);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(person) = as_person {
        request = request.header("Authorization", &format!("Bearer {person}"));
    } else if needs_token {
        let Some(token) = token::get() else {
            token::expired();
            return Err(ApiError::Server {
                status: 401,
                body: None,
            });
        };
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .json(body)
            .map_err(|e| ApiError::Decode(e.to_string()))?,
        None => request
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?,
    };
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    let body = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .as_ref()
        .and_then(ServerError::from_json);
    if status == 401 && needs_token {
        token::expired();
    }
    Err(ApiError::Server { status, body })
}

/// GETs a JSON document.
pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Method::GET, path, None)
        .await?
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Sends `body` as JSON with the session's token and decodes the answer.
pub async fn send_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let body = serde_json::to_value(body).map_err(|e| ApiError::Decode(e.to_string()))?;
    send(method, path, Some(&body))
        .await?
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// POSTs without a body with the session's token and decodes the answer.
pub async fn post_empty<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    send(Method::POST, path, None)
        .await?
        .json::<T>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// GETs a text document (a download) with the session's token.
pub async fn get_text(path: &str) -> Result<String, ApiError> {
    send(Method::GET, path, None)
        .await?
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Signs in. A wrong password is `401 invalid_credentials`; too many failed attempts for the
/// name from this address, or too many requests, `429 rate_limited` (the former's message says
/// until when).
pub async fn login(request: &LoginRequest) -> Result<LoginResponse, ApiError> {
    let body = serde_json::to_value(request).map_err(|e| ApiError::Decode(e.to_string()))?;
    send(Method::POST, "/api/v1/auth/login", Some(&body))
        .await?
        .json::<LoginResponse>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// A wall signs in with its display key.
pub async fn display_sign_in(key: &str) -> Result<LoginResponse, ApiError> {
    let body = serde_json::json!({ "key": key });
    send(Method::POST, "/api/v1/auth/display", Some(&body))
        .await?
        .json::<LoginResponse>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Who the token belongs to; a 401 ends the session.
pub async fn me() -> Result<Me, ApiError> {
    get_json("/api/v1/auth/me").await
}

/// Ends the session on the server (the caller forgets the token).
pub async fn logout() -> Result<(), ApiError> {
    send(Method::POST, "/api/v1/auth/logout", None)
        .await
        .map(|_| ())
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

/// A station's filling day (the server's today in Beijing time when `date` is `None`): counts,
/// refusals by rule and the newest decisions. A station outside the user's scope is a 404.
pub async fn station_summary(
    code: &str,
    date: Option<NaiveDate>,
) -> Result<StationFillingSummary, ApiError> {
    let query = date.map_or_else(String::new, |d| format!("?date={}", d.format("%Y-%m-%d")));
    get_json(&format!(
        "/api/v1/stations/{}/filling-summary{query}",
        encode(code)
    ))
    .await
}

/// What the QR code shows the public, by cylinder code or QR payload.
pub async fn public_cylinder(code: &str) -> Result<PublicCylinder, ApiError> {
    get_json(&format!("/api/v1/public/cylinders/{}", encode(code))).await
}

/// What `GET /api/v1/alerts` is asked for; `None` fields are not filtered on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    pub severity: Option<Severity>,
    pub district_code: Option<String>,
    pub enterprise_code: Option<String>,
    /// With `subject_id`: alerts about one thing (`station`, `cylinder` ...).
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// 1 to 1000; the server's default (100) when `None`.
    pub limit: Option<u32>,
}

impl AlertQuery {
    /// The query string, `?` included (empty when nothing is asked).
    fn to_query(&self) -> String {
        let pairs: Vec<String> = [
            ("status", self.status.map(|s| s.name().to_owned())),
            ("kind", self.kind.map(|k| k.name().to_owned())),
            ("severity", self.severity.map(|s| s.name().to_owned())),
            ("district_code", self.district_code.clone()),
            ("enterprise_code", self.enterprise_code.clone()),
            ("subject_type", self.subject_type.clone()),
            ("subject_id", self.subject_id.clone()),
            ("limit", self.limit.map(|l| l.to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode(&v?))))
        .collect();
        if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        }
    }
}

/// Alerts within the user's scope, newest activity first (one page).
pub async fn alerts(query: &AlertQuery) -> Result<Page<Alert>, ApiError> {
    get_json(&format!("/api/v1/alerts{}", query.to_query())).await
}

/// Acknowledges an open alert. A critical alert without a note is `400 invalid_field` (field
/// `note`), an alert that is not open `409 invalid_transition`, a role that may not handle
/// alerts `403 forbidden`; the answer is the alert's new state.
pub async fn acknowledge_alert(id: uuid::Uuid, note: &str) -> Result<Alert, ApiError> {
    handle_alert(id, "ack", note).await
}

/// Acknowledges an alert on a wall as the person who signs in there: their own sign-in for
/// this one action (the wall's display may not act), then their session ends again.
pub async fn acknowledge_alert_as_person(
    id: uuid::Uuid,
    note: &str,
    login: &LoginRequest,
) -> Result<Alert, ApiError> {
    let body = serde_json::to_value(login).map_err(|e| ApiError::Decode(e.to_string()))?;
    let person = send(Method::POST, "/api/v1/auth/login", Some(&body))
        .await?
        .json::<LoginResponse>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))?
        .token;
    let body = serde_json::to_value(AlertNote {
        note: note.to_owned(),
    })
    .map_err(|e| ApiError::Decode(e.to_string()))?;
    let answer = send_as(
        Method::POST,
        &format!("/api/v1/alerts/{id}/ack"),
        Some(&body),
        Some(&person),
    )
    .await;
    let _ = send_as(Method::POST, "/api/v1/auth/logout", None, Some(&person)).await;
    answer?
        .json::<Alert>()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Resolves an open or acknowledged alert; the note is required (`400 invalid_field`).
pub async fn resolve_alert(id: uuid::Uuid, note: &str) -> Result<Alert, ApiError> {
    handle_alert(id, "resolve", note).await
}

async fn handle_alert(id: uuid::Uuid, step: &str, note: &str) -> Result<Alert, ApiError> {
    let body = serde_json::to_value(AlertNote {
        note: note.to_owned(),
    })
    .map_err(|e| ApiError::Decode(e.to_string()))?;
    send(
        Method::POST,
        &format!("/api/v1/alerts/{id}/{step}"),
        Some(&body),
    )
    .await?
    .json::<Alert>()
    .await
    .map_err(|e| ApiError::Decode(e.to_string()))
}

/// Which part of the city a statistic covers: the whole city, or one district, enterprise or
/// station (by its code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsScope {
    City,
    District(String),
    Enterprise(String),
    Station(String),
}

impl StatsScope {
    /// The scope as a query pair (`district_code=...`), `None` for the city.
    fn pair(&self) -> Option<String> {
        let (key, code) = match self {
            Self::City => return None,
            Self::District(c) => ("district_code", c),
            Self::Enterprise(c) => ("enterprise_code", c),
            Self::Station(c) => ("station_code", c),
        };
        Some(format!("{key}={}", encode(code)))
    }
}

/// The inventory table of a scope: a row per medium, the total, and each figure's list. A
/// station outside the user's scope (or unknown) is a 404.
pub async fn inventory(scope: &StatsScope) -> Result<Inventory, ApiError> {
    let query = scope.pair().map_or_else(String::new, |p| format!("?{p}"));
    get_json(&format!("/api/v1/stats/inventory{query}")).await
}

/// Cylinders by worst compliance status, grouped by district or enterprise, within a district,
/// an enterprise or a station (`scope`).
pub async fn compliance(
    group_by: GroupBy,
    scope: &StatsScope,
) -> Result<ComplianceDistribution, ApiError> {
    let group = match group_by {
        GroupBy::District => "district",
        GroupBy::Enterprise => "enterprise",
    };
    let scope = scope.pair().map_or_else(String::new, |p| format!("&{p}"));
    get_json(&format!("/api/v1/stats/compliance?group_by={group}{scope}")).await
}

/// One enterprise of the registry (its name and district), within the user's scope.
pub async fn enterprise(code: &str) -> Result<EnterpriseView, ApiError> {
    get_json(&format!("/api/v1/enterprises/{}", encode(code))).await
}

/// One cylinder of a list behind a figure (`GET /api/v1/cylinders?...`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct ListedCylinder {
    pub code: String,
    pub medium: String,
    /// A `Custody` wire name (`lost` included).
    pub custody: String,
    /// The worst `Compliance` wire name today.
    pub compliance: String,
    pub owner_enterprise_code: String,
    #[serde(default)]
    pub district_code: Option<String>,
    #[serde(default)]
    pub place_kind: Option<String>,
    #[serde(default)]
    pub place_code: Option<String>,
    #[serde(default)]
    pub last_seen_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// Whether `path` is a list the statistics link to: only those are fetched with the token.
pub fn is_list_path(path: &str) -> bool {
    path.starts_with("/api/v1/cylinders?") && !path.contains('#')
}

/// Whether `path` is a list of records behind a figure other than cylinders (history rows,
/// filling records, decisions, alerts): one of the server's own list paths, with a query.
pub fn is_record_path(path: &str) -> bool {
    [
        "/api/v1/history?",
        "/api/v1/fillings?",
        "/api/v1/fillings/decisions?",
        "/api/v1/alerts?",
        "/api/v1/customers?",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        && !path.contains('#')
}

/// One page of the records at `path` (a figure's link), after `cursor`, `limit` long, as the
/// server wrote them (`{"items": [...], "next_cursor"}`).
pub async fn record_list(
    path: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<serde_json::Value>, ApiError> {
    if !is_record_path(path) {
        return Err(ApiError::Decode(format!("not a list of records: {path}")));
    }
    let cursor = cursor.map_or_else(String::new, |c| format!("&cursor={}", encode(c)));
    get_json(&format!("{path}&limit={limit}{cursor}")).await
}

/// One page of the list at `path` (a figure's link), after `cursor`, `limit` cylinders long.
pub async fn cylinder_list(
    path: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page<ListedCylinder>, ApiError> {
    if !is_list_path(path) {
        return Err(ApiError::Decode(format!("not a cylinder list: {path}")));
    }
    let cursor = cursor.map_or_else(String::new, |c| format!("&cursor={}", encode(c)));
    get_json(&format!("{path}&limit={limit}{cursor}")).await
}

/// The whole list at `path` as CSV text (`&format=csv`; the server refuses lists over 200,000).
pub async fn cylinder_list_csv(path: &str) -> Result<String, ApiError> {
    if !is_list_path(path) {
        return Err(ApiError::Decode(format!("not a cylinder list: {path}")));
    }
    send(Method::GET, &format!("{path}&format=csv"), None)
        .await?
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// The start of today in Beijing time, as the statistics' `from` takes it.
pub fn today_start() -> String {
    // Beijing's wall clock is UTC+8 all year: shift, then read the UTC fields.
    let beijing = js_sys::Date::new(&(js_sys::Date::now() + 8.0 * 3_600_000.0).into());
    format!(
        "{:04}-{:02}-{:02}T00:00:00+08:00",
        beijing.get_utc_full_year(),
        beijing.get_utc_month() + 1,
        beijing.get_utc_date()
    )
}

/// Today's fillings per hour (Beijing time) and refusals by rule, city-wide within the scope.
pub async fn fillings_today() -> Result<shared::stats::FillingStats, ApiError> {
    get_json(&format!(
        "/api/v1/stats/fillings?bucket=hour&from={}",
        encode(&today_start())
    ))
    .await
}

/// Today's alerts per kind within the scope.
pub async fn alert_stats_today() -> Result<shared::stats::AlertStats, ApiError> {
    get_json(&format!(
        "/api/v1/stats/alerts?from={}",
        encode(&today_start())
    ))
    .await
}

/// Today's flows of cylinders between sites (largest first), within the scope.
pub async fn flows_today() -> Result<shared::stats::Flows, ApiError> {
    get_json(&format!(
        "/api/v1/stats/flows?from={}",
        encode(&today_start())
    ))
    .await
}

/// Cylinder positions within the scope binned on a grid of `cell_deg` degrees.
pub async fn density(cell_deg: f64) -> Result<shared::density::Density, ApiError> {
    get_json(&format!("/api/v1/stats/density?cell_deg={cell_deg}")).await
}

/// The stations within the scope, with their full stock.
pub async fn stations() -> Result<shared::density::Sites, ApiError> {
    get_json("/api/v1/sites?kind=station").await
}

/// The customers within the scope (up to the server's cap), with their full stock.
pub async fn customers() -> Result<shared::density::Sites, ApiError> {
    get_json("/api/v1/sites?kind=customer").await
}
