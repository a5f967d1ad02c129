//! A typed client of the cylwatch HTTP API (`/work/shared/API.md`): requests and answers are
//! the `shared` crate's wire types, and a refusal keeps the server's JSON error body. The
//! simulator, the load generators and the end-to-end tests speak to the server through it.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use shared::auth::{DeviceKey, LoginRequest, LoginResponse, NewDevice};
use shared::cylinder::{HistoryEntry, Page};
use shared::density::Sites;
use shared::events::{Event, EventBatch, IngestResponse};
use shared::filling::{AuthorizeRequest, AuthorizeResponse, FillingResponse, NewFilling};
use shared::health::HealthReport;
use shared::registry::{
    Created, CylinderBatch, ImportReport, NewCustomer, NewEnterprise, NewGeofence, NewStaff,
    NewStation, NewVehicle,
};
use shared::stats::Inventory;
use shared::ErrorBody;
use std::time::Duration;

pub use reqwest;
pub use reqwest::Method;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not get an answer (connection refused, timeout...).
    #[error("{method} {path}: {source}")]
    Transport {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `body` is its JSON error when it sent one.
    #[error("{method} {path}: {status} {text}")]
    Status {
        method: Method,
        path: String,
        status: u16,
        body: Option<ErrorBody>,
        text: String,
    },
    /// A success answer that is not the expected type.
    #[error("{method} {path}: decoding the answer: {message}")]
    Decode {
        method: Method,
        path: String,
        message: String,
    },
}

impl Error {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error body of a refusal.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Status { body, .. } => body.as_ref(),
            _ => None,
        }
    }

    /// Whether the record exists already (409).
    pub fn is_conflict(&self) -> bool {
        self.status() == Some(409)
    }
}

/// Who a request speaks as.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// Nobody (login, health, public pages).
    None,
    /// A signed-in user: `Authorization: Bearer <token>`.
    Bearer(&'a str),
    /// A device: `X-Device-Key: <key>`.
    Device(&'a str),
}

/// The server at `base`, as the user whose token it holds (if any).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// A client of `base` (`http://host:port`) with its own connection pool: a 30 s timeout
    /// and idle connections dropped after 3 s, below the server's keep-alive (5 s), so that no
    /// request goes out on a connection the server is closing.
    pub fn new(base: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .pool_idle_timeout(Duration::from_secs(3))
            .build()?;
        Ok(Self::with_http(http, base))
    }

    /// A client of `base` over an HTTP client configured by the caller.
    pub fn with_http(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// The same client speaking as the user with `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The bearer token sent with user calls, if signed in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The underlying HTTP client (shares the pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path` (`/api/v1/...`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn user(&self) -> Auth<'_> {
        self.token.as_deref().map_or(Auth::None, Auth::Bearer)
    }

    /// A request to `path` speaking as `auth`.
    pub fn request(&self, method: Method, path: &str, auth: Auth<'_>) -> reqwest::RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Device(key) => request.header("x-device-key", key),
        }
    }

    /// Sends a request and decodes a success answer as `R`; an error status keeps the
    /// server's error body.
    async fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<R, Error> {
        let response = request.send().await.map_err(|source| Error::Transport {
            method: method.clone(),
            path: path.to_owned(),
            source,
        })?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|source| Error::Transport {
            method: method.clone(),
            path: path.to_owned(),
            source,
        })?;
        if !(200..300).contains(&status) {
            return Err(Error::Status {
                method,
                path: path.to_owned(),
                status,
                body: serde_json::from_slice(&bytes).ok(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            method,
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// POSTs `body` to `path` as `auth`; the answer as `R`.
    pub async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        path: &str,
        auth: Auth<'_>,
        body: &B,
    ) -> Result<R, Error> {
        let request = self.request(Method::POST, path, auth).json(body);
        self.call(Method::POST, path, request).await
    }

    /// GETs `path` as the signed-in user; the answer as `R`.
    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, Error> {
        let request = self.request(Method::GET, path, self.user());
        self.call(Method::GET, path, request).await
    }

    /// Any JSON request: the status and the answer as JSON (`null` when it is not JSON),
    /// whatever the status. For callers that look at refusals themselves (the tests).
    pub async fn send_json<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        auth: Auth<'_>,
    ) -> Result<(u16, Value), Error> {
        let mut request = self.request(method.clone(), path, auth);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send_raw(method, path, request).await
    }

    /// POSTs raw bytes with a content type: the status and the answer as JSON.
    pub async fn send_bytes(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
        auth: Auth<'_>,
    ) -> Result<(u16, Value), Error> {
        let request = self
            .request(Method::POST, path, auth)
            .header("content-type", content_type)
            .body(body);
        self.send_raw(Method::POST, path, request).await
    }

    /// GETs `path` as text: the status and the body.
    pub async fn get_text(&self, path: &str, auth: Auth<'_>) -> Result<(u16, String), Error> {
        let response = self
            .request(Method::GET, path, auth)
            .send()
            .await
            .map_err(|source| Error::Transport {
                method: Method::GET,
                path: path.to_owned(),
                source,
            })?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.unwrap_or_default()))
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Value), Error> {
        let response = request.send().await.map_err(|source| Error::Transport {
            method,
            path: path.to_owned(),
            source,
        })?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, Error> {
        self.post("/api/v1/auth/login", Auth::None, request).await
    }

    /// Signs in; the same client speaking as that user.
    pub async fn sign_in(self, username: &str, password: &str) -> Result<Self, Error> {
        let login = self
            .login(&LoginRequest {
                username: username.to_owned(),
                password: password.to_owned(),
            })
            .await?;
        Ok(self.with_token(login.token))
    }

    /// `GET /api/v1/health`: the report, also when the server says it is unavailable (503).
    pub async fn health(&self) -> Result<HealthReport, Error> {
        let path = "/api/v1/health";
        match self.get(path).await {
            Err(Error::Status {
                status: 503,
                text,
                method,
                ..
            }) => serde_json::from_str(&text).map_err(|e| Error::Decode {
                method,
                path: path.to_owned(),
                message: e.to_string(),
            }),
            other => other,
        }
    }

    /// `POST` of one registry record as the signed-in user.
    pub async fn create<B: Serialize + ?Sized>(
        &self,
        path: &str,
        record: &B,
    ) -> Result<Created, Error> {
        self.post(path, self.user(), record).await
    }

    /// `POST /api/v1/enterprises`.
    pub async fn create_enterprise(&self, record: &NewEnterprise) -> Result<Created, Error> {
        self.create("/api/v1/enterprises", record).await
    }

    /// `POST /api/v1/stations`.
    pub async fn create_station(&self, record: &NewStation) -> Result<Created, Error> {
        self.create("/api/v1/stations", record).await
    }

    /// `POST /api/v1/customers`.
    pub async fn create_customer(&self, record: &NewCustomer) -> Result<Created, Error> {
        self.create("/api/v1/customers", record).await
    }

    /// `POST /api/v1/staff`.
    pub async fn create_staff(&self, record: &NewStaff) -> Result<Created, Error> {
        self.create("/api/v1/staff", record).await
    }

    /// `POST /api/v1/vehicles`.
    pub async fn create_vehicle(&self, record: &NewVehicle) -> Result<Created, Error> {
        self.create("/api/v1/vehicles", record).await
    }

    /// `POST /api/v1/geofences`.
    pub async fn create_geofence(&self, record: &NewGeofence) -> Result<Created, Error> {
        self.create("/api/v1/geofences", record).await
    }

    /// `POST /api/v1/devices`: the device's key (shown this once).
    pub async fn create_device(&self, record: &NewDevice) -> Result<DeviceKey, Error> {
        self.post("/api/v1/devices", self.user(), record).await
    }

    /// `POST /api/v1/cylinders` with `{"items": [...]}`.
    pub async fn create_cylinders(&self, batch: &CylinderBatch) -> Result<ImportReport, Error> {
        self.post("/api/v1/cylinders", self.user(), batch).await
    }

    /// `POST /api/v1/events` as the device with `key` (`202`), each event in its wire form.
    pub async fn post_events(&self, key: &str, events: &[Event]) -> Result<IngestResponse, Error> {
        let events: Vec<Value> = events.iter().map(Event::to_wire).collect();
        self.post(
            "/api/v1/events",
            Auth::Device(key),
            &EventBatch { events: &events },
        )
        .await
    }

    /// `POST /api/v1/fillings/authorize` as the gun's controller with `key`.
    pub async fn authorize(
        &self,
        key: &str,
        question: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, Error> {
        self.post("/api/v1/fillings/authorize", Auth::Device(key), question)
            .await
    }

    /// `POST /api/v1/fillings` as the controller with `key`.
    pub async fn post_filling(
        &self,
        key: &str,
        record: &NewFilling,
    ) -> Result<FillingResponse, Error> {
        self.post("/api/v1/fillings", Auth::Device(key), record)
            .await
    }

    /// `GET /api/v1/cylinders/{code}/history?limit=`: the first page.
    pub async fn history(&self, code: &str, limit: u32) -> Result<Page<HistoryEntry>, Error> {
        self.get(&format!("/api/v1/cylinders/{code}/history?limit={limit}"))
            .await
    }

    /// `GET /api/v1/stats/inventory`.
    pub async fn inventory(&self) -> Result<Inventory, Error> {
        self.get("/api/v1/stats/inventory").await
    }

    /// `GET /api/v1/sites?kind=`.
    pub async fn sites(&self, kind: &str) -> Result<Sites, Error> {
        self.get(&format!("/api/v1/sites?kind={kind}")).await
    }

    /// `POST /api/v1/users` (an administrator): the account is created, not signed in.
    pub async fn create_user(&self, record: &shared::auth::NewUser) -> Result<Value, Error> {
        self.post("/api/v1/users", self.user(), record).await
    }

    /// `POST /api/v1/incidents` (a duty officer, regulator or administrator).
    pub async fn open_incident(
        &self,
        incident: &shared::incident::NewIncident,
    ) -> Result<shared::incident::Incident, Error> {
        self.post("/api/v1/incidents", self.user(), incident).await
    }

    /// `GET /api/v1/incidents/{id}`.
    pub async fn incident(&self, id: &str) -> Result<shared::incident::Incident, Error> {
        self.get(&format!("/api/v1/incidents/{id}")).await
    }
}
