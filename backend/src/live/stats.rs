//! The wall's figures pushed every few seconds on the `stats` topic: the city's inventory and
//! its unresolved alerts by severity. City-wide: the hub gives them only to sessions that see
//! the whole city.

use crate::access::Scope;
use crate::bus::publish::Publisher;
use crate::store;
use shared::live::{CityStats, LiveMessage, Topic};
use shared::stats::Inventory;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;

/// Publishes the figures every `every` until shutdown.
pub async fn run(
    pool: PgPool,
    publisher: Publisher,
    every: Duration,
    loss_after_days: u32,
    due_soon_days: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        match figures(&pool, loss_after_days, due_soon_days).await {
            Ok(stats) => publisher.send(Topic::Stats, &LiveMessage::Stats(Box::new(stats))),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "wall figures not computed"),
        }
    }
}

/// The city's figures now.
pub async fn figures(
    pool: &PgPool,
    loss_after_days: u32,
    due_soon_days: u32,
) -> anyhow::Result<CityStats> {
    let city = Scope::system();
    let classify = store::stats::Classify::now(loss_after_days, due_soon_days);
    let now = classify.now;
    let rows = store::stats::inventory(pool, &city, None, classify).await?;
    let open_alerts = store::stats::open_alerts(pool, &city)
        .await?
        .into_iter()
        .collect();
    Ok(CityStats {
        inventory: Inventory::of(rows),
        open_alerts,
        at: now,
    })
}

/// Brings the statistics counters up to date every `every` until shutdown, so that a figure
/// asked for finds little left to do.
pub async fn refresh(
    pool: PgPool,
    every: Duration,
    loss_after_days: u32,
    due_soon_days: u32,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let c = store::stats::Classify::now(loss_after_days, due_soon_days);
        if let Err(e) = store::stats::refresh(&pool, c).await {
            tracing::warn!(error = %format!("{e:#}"), "statistics counters not refreshed");
        }
    }
}
