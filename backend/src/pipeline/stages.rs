//! The pipeline's stages, declared in order in one place ([`Stage::ALL`]). Each runs over the
//! whole batch in its own tracing span (`stage`) and its time goes to the
//! `cylwatch_pipeline_stage_seconds` histogram. `positions` and `fences` share one transaction
//! (a batch retried after a failure derives its moves again: were positions committed alone, the
//! retry would find no move to derive); `custody` has its own.

use super::fences::FenceStage;
use super::{custody, positions};
use crate::rules::{gps, history_alerts};
use crate::telemetry::metrics;
use anyhow::Context;
use chrono::{DateTime, Utc};
use redis::streams::StreamId;
use shared::events::Event;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::live::LiveMessage;
use sqlx::{PgPool, Postgres, Transaction};
use std::collections::HashMap;
use tracing::Instrument;

/// One stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// GPS plausibility filters (future, far past, jump, duplicate) → `filtered_fixes`; the
    /// newest plausible fix by event time → `vehicle_positions`; riding cylinders take the
    /// vehicle's position.
    Positions,
    /// Fences of the moves (R-tree): enter / exit / cross / dwell → `fence_transitions`;
    /// restricted zones, corridor exits, suspicious stops; commits with `positions`.
    Fences,
    /// Custody and BLE: history rows replayed in event-time order → `cylinder_events`,
    /// `cylinder_state`, site stock; then the alerts of the new history (unfit cylinders in
    /// circulation, illegal tags, unloading nowhere, overweight stock, controlled media,
    /// off-site delivery, uncertified staff).
    Custody,
}

impl Stage {
    /// The stages, in the order they run over a batch.
    pub const ALL: [Stage; 3] = [Stage::Positions, Stage::Fences, Stage::Custody];

    /// The stage's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Positions => "positions",
            Stage::Fences => "fences",
            Stage::Custody => "custody",
        }
    }

    /// Its place in the order, from 1.
    pub fn number(self) -> usize {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .map_or(0, |i| i + 1)
    }
}

/// One decoded stream entry.
pub struct Decoded<'a> {
    pub entry: &'a StreamId,
    pub payload: String,
    pub event: Event,
    pub enterprise: Option<EnterpriseCode>,
    /// When the API received the event (older entries carry none: when it is read).
    pub received_at: DateTime<Utc>,
}

/// What the stages hand on to each other over one batch.
struct Batch<'t> {
    events: Vec<Event>,
    enterprises: Vec<Option<EnterpriseCode>>,
    received: Vec<DateTime<Utc>>,
    /// The transaction `positions` opens and `fences` commits.
    tx: Option<Transaction<'t, Postgres>>,
    moves: Vec<positions::Move>,
    messages: Vec<LiveMessage>,
}

/// Runs every stage, in order, over the decoded entries; returns the live messages of what
/// changed.
pub async fn run(
    pool: &PgPool,
    gps_policy: &gps::Policy,
    custody_policy: &history_alerts::Policy,
    fences: &mut FenceStage,
    entries: &[Decoded<'_>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let mut batch = Batch {
        events: entries.iter().map(|d| d.event.clone()).collect(),
        enterprises: entries.iter().map(|d| d.enterprise.clone()).collect(),
        received: entries.iter().map(|d| d.received_at).collect(),
        tx: None,
        moves: Vec::new(),
        messages: Vec::new(),
    };
    for stage in Stage::ALL {
        let span = tracing::debug_span!(
            "stage",
            stage = stage.name(),
            number = stage.number(),
            entries = entries.len()
        );
        let started = std::time::Instant::now();
        let outcome = run_stage(stage, pool, gps_policy, custody_policy, fences, &mut batch)
            .instrument(span)
            .await;
        metrics().stage_done(stage.name(), started.elapsed(), outcome.is_ok());
        outcome.with_context(|| format!("stage {}", stage.name()))?;
    }
    Ok(batch.messages)
}

async fn run_stage<'t>(
    stage: Stage,
    pool: &'t PgPool,
    gps_policy: &gps::Policy,
    custody_policy: &history_alerts::Policy,
    fences: &mut FenceStage,
    batch: &mut Batch<'t>,
) -> anyhow::Result<()> {
    match stage {
        Stage::Positions => {
            let mut tx = pool
                .begin()
                .await
                .context("opening the positions transaction")?;
            let applied = positions::apply(
                &mut tx,
                gps_policy,
                &batch.events,
                &batch.enterprises,
                &batch.received,
            )
            .await?;
            batch.tx = Some(tx);
            batch.moves = applied.moves;
            batch.messages.extend(applied.messages);
        }
        Stage::Fences => {
            let mut tx = batch
                .tx
                .take()
                .context("the fences stage runs after positions")?;
            let owners: HashMap<String, (Option<EnterpriseCode>, Option<DistrictCode>)> = batch
                .messages
                .iter()
                .filter_map(|m| match m {
                    LiveMessage::Vehicle(v) => Some((
                        v.plate.to_string(),
                        (v.enterprise_code.clone(), v.district_code.clone()),
                    )),
                    _ => None,
                })
                .collect();
            let messages = fences.apply(pool, &mut tx, &batch.moves, &owners).await?;
            batch.messages.extend(messages);
            tx.commit()
                .await
                .context("committing positions and fences")?;
        }
        Stage::Custody => {
            let messages =
                custody::apply(pool, custody_policy, &batch.events, &batch.enterprises).await?;
            batch.messages.extend(messages);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Stage;

    #[test]
    fn stages_are_declared_in_order_with_distinct_names() {
        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, ["positions", "fences", "custody"]);
        assert_eq!(Stage::Custody.number(), 3);
    }
}
