//! What the lookout reads: devices gone silent, cylinders not seen for long outside their
//! owner's sites, and the open alerts of both whose condition may have ended.

use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::auth::DeviceKind;
use shared::cylinder::Custody;
use shared::ids::{CylinderCode, DeviceId, DistrictCode, EnterpriseCode, StationCode};
use shared::place::PlaceKind;
use shared::VehiclePlate;
use sqlx::PgPool;

/// A device that has sent events before and none since `since`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SilentDevice {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub enterprise_code: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub vehicle_plate: Option<VehiclePlate>,
    pub station_code: Option<StationCode>,
    pub last_seen_at: DateTime<Utc>,
}

/// Live devices silent since before `since`.
pub async fn silent_devices(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<SilentDevice>> {
    sqlx::query_as(
        "SELECT d.device_id, d.kind, d.enterprise_code, e.district_code, d.vehicle_plate, \
                d.station_code, d.last_seen_at \
         FROM devices d JOIN enterprises e ON e.code = d.enterprise_code \
         WHERE d.revoked_at IS NULL AND d.last_seen_at < $1 ORDER BY d.device_id",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .context("reading silent devices")
}

/// A cylinder not seen since before the cut-off, with what `rules::custody::effective` needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unseen {
    pub code: CylinderCode,
    pub owner: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub custody: Custody,
    pub at_owner_site: bool,
    pub last_seen_at: DateTime<Utc>,
    pub place_kind: Option<PlaceKind>,
    pub place_code: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Cylinders (not scrapped) last seen before `since`, at most `limit`.
pub async fn unseen_cylinders(
    pool: &PgPool,
    since: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<Unseen>> {
    sqlx::query_as(
        "SELECT c.code, c.owner_enterprise_code AS owner, e.district_code, s.custody, \
                coalesce(s.place_kind = 'station' AND ps.enterprise_code = c.owner_enterprise_code \
                         AND s.custody IN ('in_stock_empty', 'in_stock_full'), false) AS at_owner_site, \
                s.last_seen_at, s.place_kind, s.place_code, \
                ST_X(s.location) AS lon, ST_Y(s.location) AS lat \
         FROM cylinder_state s JOIN cylinders c ON c.id = s.cylinder_id \
         JOIN enterprises e ON e.code = c.owner_enterprise_code \
         LEFT JOIN stations ps ON s.place_kind = 'station' AND ps.code = s.place_code \
         WHERE s.custody <> 'scrapped' AND s.last_seen_at < $1 \
         ORDER BY s.last_seen_at LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading cylinders not seen for long")
}

/// Subjects of unresolved alerts of `kind` whose condition has not ended, with the newest
/// activity of the device or cylinder they name (to see whether it came back).
pub async fn open_subjects(
    pool: &PgPool,
    kind: &str,
) -> anyhow::Result<Vec<(String, Option<DateTime<Utc>>)>> {
    sqlx::query_as(
        "SELECT a.subject_id, coalesce(d.last_seen_at, s.last_seen_at) \
         FROM alerts a \
         LEFT JOIN devices d ON a.subject_type = 'device' AND d.device_id = a.subject_id \
         LEFT JOIN cylinders c ON a.subject_type = 'cylinder' AND c.code = a.subject_id \
         LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
         WHERE a.kind = $1 AND a.status <> 'resolved' AND a.condition_ended_at IS NULL",
    )
    .bind(kind)
    .fetch_all(pool)
    .await
    .context("reading open alerts' subjects")
}

/// Forgets sightings counted before `before` (a stream entry is never redelivered that late).
pub async fn forget_sightings(pool: &PgPool, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let done = sqlx::query("DELETE FROM alert_sightings WHERE counted_at < $1")
        .bind(before)
        .execute(pool)
        .await
        .context("forgetting old alert sightings")?;
    Ok(done.rows_affected())
}
