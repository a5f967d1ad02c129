//! Stages 1 and the live state of vehicles: GPS fixes are judged (future, far past, jumps,
//! duplicates: `rules::gps`) against the vehicle's newest applied fix, in event-time order per
//! vehicle; the filtered ones are kept with their reason, the others applied (newest by event
//! time wins). Reports the vehicles that moved.

use crate::rules::gps::{self, Filtered, Fix, Prior, Spot, Verdict};
use crate::store;
use chrono::{DateTime, Utc};
use shared::events::{Event, GpsFix};
use shared::live::LiveMessage;
use sqlx::PgPool;
use std::collections::HashMap;

/// Applies the batch's plausible fixes (each with the enterprise that reported it and when it
/// was received); one `vehicle` message per vehicle whose position changed.
pub async fn apply(
    pool: &PgPool,
    policy: &gps::Policy,
    events: &[Event],
    enterprises: &[Option<String>],
    received: &[DateTime<Utc>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let mut fixes: Vec<(&GpsFix, Option<&str>, DateTime<Utc>)> = events
        .iter()
        .zip(enterprises)
        .zip(received)
        .filter_map(|((e, enterprise), at)| match e {
            Event::Gps(fix) => Some((fix, enterprise.as_deref(), *at)),
            _ => None,
        })
        .collect();
    if fixes.is_empty() {
        return Ok(Vec::new());
    }
    fixes.sort_by(|a, b| {
        (a.0.vehicle_plate.as_str(), a.0.occurred_at, a.0.id).cmp(&(
            b.0.vehicle_plate.as_str(),
            b.0.occurred_at,
            b.0.id,
        ))
    });
    let plates: Vec<&str> = fixes.iter().map(|f| f.0.vehicle_plate.as_str()).collect();
    let mut priors: HashMap<String, Prior> = store::vehicles::priors(pool, &plates).await?;
    let mut keep = Vec::with_capacity(fixes.len());
    let mut filtered = Vec::new();
    for (fix, enterprise, received_at) in fixes {
        let plate = fix.vehicle_plate.as_str();
        let candidate = Fix {
            event_id: fix.id,
            at: fix.occurred_at.with_timezone(&Utc),
            lon: fix.point.lon(),
            lat: fix.point.lat(),
            received_at,
        };
        match gps::judge(&candidate, priors.get(plate), policy) {
            Verdict::Seen => {}
            Verdict::Filter(why) => {
                if let (Filtered::Jump(_), Some(prior)) = (why, priors.get_mut(plate)) {
                    if prior.jumped.is_none_or(|j| j.at < candidate.at) {
                        prior.jumped = Some(Spot {
                            at: candidate.at,
                            lon: candidate.lon,
                            lat: candidate.lat,
                        });
                    }
                }
                filtered.push((fix, why));
            }
            Verdict::Apply => {
                let newer = priors
                    .get(plate)
                    .is_none_or(|p| (p.at, p.event_id) < (candidate.at, candidate.event_id));
                if newer {
                    priors.insert(
                        plate.to_owned(),
                        Prior {
                            event_id: fix.id,
                            at: candidate.at,
                            lon: candidate.lon,
                            lat: candidate.lat,
                            jumped: None,
                        },
                    );
                }
                keep.push((fix, enterprise));
            }
        }
    }
    if !filtered.is_empty() {
        tracing::debug!(n = filtered.len(), "GPS fixes filtered");
        store::vehicles::keep_filtered(pool, &filtered).await?;
    }
    if keep.is_empty() {
        return Ok(Vec::new());
    }
    let moved = store::vehicles::apply_fixes(pool, &keep).await?;
    Ok(moved.into_iter().map(LiveMessage::Vehicle).collect())
}
