//! Stages 1 and the live state of vehicles: GPS fixes are judged (future, far past, jumps,
//! duplicates: `rules::gps`) against the vehicle's newest applied fix, in event-time order per
//! vehicle; the filtered ones are kept with their reason, the others applied (newest by event
//! time wins). Reports the vehicles that moved, and each move forward (for the fence stage).

use crate::rules::gps::{self, Filtered, Fix, Prior, Spot, Verdict};
use crate::store;
use chrono::{DateTime, Utc};
use shared::events::{Event, GpsFix};
use shared::ids::EnterpriseCode;
use shared::live::LiveMessage;
use shared::VehiclePlate;
use sqlx::PgConnection;
use std::collections::HashMap;

/// A vehicle's step forward in event time: from its previous position (if any) to a new one.
#[derive(Debug, Clone)]
pub struct Move {
    pub plate: VehiclePlate,
    pub event_id: uuid::Uuid,
    pub from: Option<(f64, f64)>,
    pub to: (f64, f64),
    pub at: DateTime<Utc>,
    /// The alarms the fix reported (its terminal's).
    pub alarms: Vec<shared::events::VehicleAlarm>,
}

/// What the stage produced: one `vehicle` message (with its load) per vehicle whose position
/// changed, and the
/// moves forward in event-time order per vehicle.
#[derive(Debug, Default)]
pub struct Applied {
    pub messages: Vec<LiveMessage>,
    pub moves: Vec<Move>,
}

/// Applies the batch's plausible fixes (each with the enterprise that reported it and when it
/// was received).
pub async fn apply(
    conn: &mut PgConnection,
    policy: &gps::Policy,
    events: &[Event],
    enterprises: &[Option<EnterpriseCode>],
    received: &[DateTime<Utc>],
) -> anyhow::Result<Applied> {
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
        return Ok(Applied::default());
    }
    fixes.sort_by(|a, b| {
        (a.0.vehicle_plate.as_str(), a.0.occurred_at, a.0.id).cmp(&(
            b.0.vehicle_plate.as_str(),
            b.0.occurred_at,
            b.0.id,
        ))
    });
    let plates: Vec<&str> = fixes.iter().map(|f| f.0.vehicle_plate.as_str()).collect();
    let mut priors: HashMap<String, Prior> = store::vehicles::priors(conn, &plates).await?;
    let mut keep = Vec::with_capacity(fixes.len());
    let mut filtered = Vec::new();
    let mut moves = Vec::new();
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
                    moves.push(Move {
                        plate: fix.vehicle_plate.clone(),
                        event_id: fix.id,
                        from: priors.get(plate).map(|p| (p.lon, p.lat)),
                        to: (candidate.lon, candidate.lat),
                        at: candidate.at,
                        alarms: fix.alarms.clone(),
                    });
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
        store::vehicles::keep_filtered(conn, &filtered).await?;
    }
    if keep.is_empty() {
        return Ok(Applied::default());
    }
    let mut moved = store::vehicles::apply_fixes(conn, &keep).await?;
    // Stage 4 for positions: what rides a vehicle is where the vehicle is; the cylinders moved
    // along are the vehicle's load on its live message.
    let loads = store::vehicles::carry_cylinders(conn, &moved).await?;
    for v in &mut moved {
        v.load = Some(loads.get(v.plate.as_str()).copied().unwrap_or_default());
    }
    Ok(Applied {
        messages: moved.into_iter().map(LiveMessage::Vehicle).collect(),
        moves,
    })
}
