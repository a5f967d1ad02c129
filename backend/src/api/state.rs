//! What every handler shares.

use crate::access::Device;
use crate::bus::StreamKeys;
use crate::cache::TtlCache;
use crate::config::Settings;
use crate::live::LiveHub;
use crate::store::auth::AuditRow;
use crate::store::filling::{CylinderKey, CylinderRow, DecisionRow, StationRow};
use crate::store::group_commit::GroupWriter;
use crate::store::group_read::GroupReader;
use sqlx::PgPool;
use std::sync::Arc;
use tokio::sync::Notify;

/// Shared application state (cheap to clone).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: PgPool,
    /// Where lists and history reads go: a fresh replica, else the primary (`pool`).
    pub reads: crate::store::replica::ReadPools,
    pub redis: crate::bus::Redis,
    pub keys: StreamKeys,
    pub hub: LiveHub,
    /// Live messages from outside the pipeline (alerts).
    pub publisher: crate::bus::publish::Publisher,
    /// Rung after each commit so the relay moves the new events at once.
    pub relay_wakeup: Arc<Notify>,
    /// Wakes the JT/T 808 gateway's sweep: a device's status changed through this instance
    /// (connected terminals no longer active are cut off at once).
    pub terminal_sweep: Arc<Notify>,
    /// The MQTT broker's side of the registry (devices' credentials), when `mqtt_url` is set.
    pub broker: Option<Arc<crate::gateway::mqtt::control::Broker>>,
    /// Rung after a registry edit or status change: the licence pass looks again at once (a
    /// renewed licence's alert no longer holds).
    pub licence_wakeup: Arc<Notify>,
    /// The district GeoJSON, as read from `basemap_path`.
    pub basemap: actix_web::web::Bytes,
    /// The base map's districts: where a station or customer lies.
    pub districts: Arc<crate::rules::districts::Districts>,
    /// Requests per address and minute on the public and login endpoints.
    pub limiter: crate::api::limiter::RateLimiter,
    /// CSV lists and exports running now, per user.
    pub exports: crate::api::paged::ExportSlots,
    /// Audit records, written in shared commits.
    pub audit: GroupWriter<AuditRow>,
    /// Refused anonymous requests counted after the first of each window.
    pub refusals: Arc<crate::api::refusals::RefusalTally>,
    /// Devices by key hash (cleared when a device is revoked here).
    pub devices: TtlCache<Device>,
    /// The hashes of the live device keys: junk keys are refused from memory.
    pub key_set: crate::cache::KeySet,
    /// Stations with their enterprise's licences, by code.
    pub stations: TtlCache<StationRow>,
    /// Filling decisions being made now (load shedding).
    pub authorize_in_flight: std::sync::atomic::AtomicUsize,
}

/// A filling-decision lane: the tasks that read cylinders' facts in shared statements and keep
/// decisions (with their audit records) in shared commits. Each HTTP worker has its own, run
/// on the worker's thread, so that a question's hand-offs to them and back wake no other
/// thread; each task keeps its own connection (`store::held`).
pub struct DecisionLane {
    pub facts: GroupReader<CylinderKey, CylinderRow>,
    pub decisions: GroupWriter<(DecisionRow, AuditRow)>,
}

impl DecisionLane {
    /// Fact readers per lane: one gathers the next batch while the other's statement runs.
    pub const READERS: usize = 2;
    /// PostgreSQL connections a lane keeps once used.
    pub const CONNECTIONS: usize = Self::READERS + 1;

    /// Starts the lane's tasks on the current thread's runtime (an HTTP worker's).
    pub fn spawn(pool: &PgPool) -> Self {
        Self {
            facts: GroupReader::spawn(
                pool.clone(),
                "cylinder facts",
                Self::READERS,
                |conn, keys| Box::pin(crate::store::filling::cylinders(conn, keys)),
            ),
            decisions: GroupWriter::spawn(pool.clone(), "filling decisions", |conn, rows| {
                Box::pin(crate::store::filling::keep_decisions(conn, rows))
            }),
        }
    }
}
