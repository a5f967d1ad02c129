//! Stage: vehicle positions. Applies GPS fixes to the live state (newest by event time wins)
//! and reports the vehicles that moved.

use crate::store;
use shared::events::Event;
use shared::live::LiveMessage;
use sqlx::PgPool;

/// Applies the batch's fixes (each with the enterprise that reported it); one `vehicle` message
/// per vehicle whose position changed.
pub async fn apply(
    pool: &PgPool,
    events: &[Event],
    enterprises: &[Option<String>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let fixes: Vec<_> = events
        .iter()
        .zip(enterprises)
        .filter_map(|(e, enterprise)| match e {
            Event::Gps(fix) => Some((fix, enterprise.as_deref())),
            _ => None,
        })
        .collect();
    if fixes.is_empty() {
        return Ok(Vec::new());
    }
    let moved = store::vehicles::apply_fixes(pool, &fixes).await?;
    Ok(moved.into_iter().map(LiveMessage::Vehicle).collect())
}
