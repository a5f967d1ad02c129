//! What every handler shares.

use crate::auth::Device;
use crate::cache::TtlCache;
use crate::config::Settings;
use crate::live::LiveHub;
use crate::pipeline::StreamKeys;
use crate::store::auth::AuditRow;
use crate::store::filling::{CylinderKey, CylinderRow, DecisionRow, StationRow};
use crate::store::group_commit::GroupWriter;
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
    /// Audit records, written in shared commits.
    pub audit: GroupWriter<AuditRow>,
    /// Filling decisions with their audit records, written in shared commits.
    pub decisions: GroupWriter<(DecisionRow, AuditRow)>,
    /// Cylinders' filling facts, read in shared statements.
    pub facts: crate::store::group_read::GroupReader<CylinderKey, CylinderRow>,
    /// Devices by key hash (cleared when a device is revoked here).
    pub devices: TtlCache<Device>,
    /// Stations with their enterprise's licences, by code.
    pub stations: TtlCache<StationRow>,
    /// Filling decisions being made now (load shedding).
    pub authorize_in_flight: std::sync::atomic::AtomicUsize,
}
