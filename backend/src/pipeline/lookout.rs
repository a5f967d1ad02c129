//! The lookout: what no event says, found by looking now and then — devices that went silent and
//! cylinders that became lost (not seen for `loss_after_days` outside their owner's sites,
//! `rules::custody::effective`). Each raises its alert once per silence or loss; when the device
//! or cylinder is seen again the open alert is marked as no longer holding. It also forgets
//! alert sightings older than `sighting_retention_days`.

use crate::bus::publish::Publisher;
use crate::rules::custody::effective;
use crate::store;
use crate::store::alerts::NewAlert;
use chrono::Utc;
use shared::alert::AlertKind;
use shared::cylinder::Custody;
use shared::place::SubjectKind;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// Cylinders looked at per pass at most (the oldest first).
const LOST_PER_PASS: i64 = 10_000;

/// The lookout's limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct LookoutOptions {
    pub every: Duration,
    /// Sightings are remembered this long (against counting one twice).
    pub sightings_kept: chrono::Duration,
    pub device_silent_after: chrono::Duration,
    pub loss_after: chrono::Duration,
}

/// Runs a pass every `every` until shutdown.
pub async fn run(
    pool: PgPool,
    publisher: Publisher,
    options: LookoutOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(options.every) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = pass(&pool, &publisher, &options).await {
            tracing::warn!(error = %format!("{e:#}"), "lookout pass failed");
        }
    }
}

async fn pass(
    pool: &PgPool,
    publisher: &Publisher,
    options: &LookoutOptions,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let silent_since = now - options.device_silent_after;
    for d in store::lookout::silent_devices(pool, silent_since).await? {
        let kind = AlertKind::DeviceSilent;
        let alert = NewAlert {
            kind,
            severity: kind.severity(),
            subject_type: SubjectKind::Device,
            subject_id: d.device_id.to_string(),
            enterprise_code: Some(d.enterprise_code.clone()),
            district_code: d.district_code.clone(),
            place: None,
            place_name: d
                .vehicle_plate
                .as_ref()
                .map(ToString::to_string)
                .or(d.station_code.as_ref().map(ToString::to_string)),
            seen_at: now,
            evidence: serde_json::json!({
                "device_id": d.device_id, "kind": d.kind, "last_seen_at": d.last_seen_at,
                "vehicle_plate": d.vehicle_plate, "station_code": d.station_code,
                "silent_after_s": options.device_silent_after.num_seconds(),
            }),
            // One sighting per silence: the same silence seen again counts once.
            sighting: format!(
                "silent:{}:{}",
                d.device_id,
                d.last_seen_at.timestamp_micros()
            ),
        };
        crate::alerts::raise(pool, publisher, alert).await;
    }
    let unseen_since = now - options.loss_after;
    for c in store::lookout::unseen_cylinders(pool, unseen_since, LOST_PER_PASS).await? {
        let lost = effective(
            c.custody,
            c.at_owner_site,
            Some(c.last_seen_at),
            now,
            options.loss_after,
        ) == Custody::Lost;
        if !lost {
            continue;
        }
        let kind = AlertKind::CylinderLost;
        let alert = NewAlert {
            kind,
            severity: kind.severity(),
            subject_type: SubjectKind::Cylinder,
            subject_id: c.code.to_string(),
            enterprise_code: Some(c.owner.clone()),
            district_code: c.district_code.clone(),
            place: c.lon.zip(c.lat),
            place_name: c.place_code.clone(),
            seen_at: now,
            evidence: serde_json::json!({
                "last_seen_at": c.last_seen_at, "custody": c.custody,
                "place_kind": c.place_kind, "place_code": c.place_code,
                "loss_after_days": options.loss_after.num_days(),
            }),
            sighting: format!("lost:{}:{}", c.code, c.last_seen_at.timestamp_micros()),
        };
        crate::alerts::raise(pool, publisher, alert).await;
    }
    let forgotten = store::lookout::forget_sightings(pool, now - options.sightings_kept).await?;
    if forgotten > 0 {
        tracing::debug!(forgotten, "old alert sightings forgotten");
    }
    // Seen again: the condition ended.
    for (kind, cut_off) in [
        (AlertKind::DeviceSilent, silent_since),
        (AlertKind::CylinderLost, unseen_since),
    ] {
        let subject_type = if kind == AlertKind::DeviceSilent {
            SubjectKind::Device
        } else {
            SubjectKind::Cylinder
        };
        for (subject, last_seen) in store::lookout::open_subjects(pool, kind.name()).await? {
            if last_seen.is_some_and(|seen| seen >= cut_off) {
                if let Some(row) =
                    store::alerts::condition_ended(pool, kind, subject_type, &subject, now).await?
                {
                    crate::alerts::push(publisher, row);
                }
            }
        }
    }
    Ok(())
}
