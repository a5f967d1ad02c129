//! What every handler shares.

use crate::config::Settings;
use crate::live::LiveHub;
use crate::pipeline::StreamKeys;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::Notify;

/// Shared application state (cheap to clone).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    pub redis: redis::Client,
    pub keys: StreamKeys,
    pub hub: LiveHub,
    /// Live messages from outside the pipeline (alerts).
    pub publisher: crate::live::publish::Publisher,
    /// Rung after each commit so the relay moves the new events at once.
    pub relay_wakeup: Arc<Notify>,
    /// The district GeoJSON, as read from `basemap_path`.
    pub basemap: actix_web::web::Bytes,
    /// Requests per address and minute on the public and login endpoints.
    pub limiter: crate::api::guard::RateLimiter,
}
