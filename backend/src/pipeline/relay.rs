//! Outbox → Redis stream. PostgreSQL holds the truth; the relay catches up after a Redis outage.
//! An event stays in the outbox until the pipeline has applied it: when Redis comes back
//! without a partition's stream (restarted empty: its epoch marker is gone), everything
//! relayed and not applied is relayed again, and so is anything relayed `pipeline_relay_again_s`
//! ago and still not applied once every partition's consumers have read their whole stream
//! (then it was lost some way the marker did not show; while they are behind it is only
//! waiting, and relaying a backlog again would feed it: found by the fault suite's hour, where
//! each minute re-queued hundreds of thousands of waiting events and the pipeline never caught
//! up). An event may thus reach the stream twice: the stages are idempotent.

use crate::bus::{connect_redis, sleep_or_shutdown, Conn, Redis, StreamKeys};
use crate::store;
use crate::telemetry::metrics;
use anyhow::Context;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

const BATCH: i64 = 1000;
/// How often the outbox is looked at when nobody rings (events committed by other instances).
const POLL: Duration = Duration::from_millis(500);
/// How often the relay checks the stream's epoch marker.
const MARKER_EVERY: Duration = Duration::from_secs(1);

/// Runs until shutdown; reconnects to Redis after any failure.
pub async fn run(
    pool: PgPool,
    client: Redis,
    keys: StreamKeys,
    wakeup: Arc<Notify>,
    relay_again: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    // How often the relay looks for events relayed `relay_again` ago and not applied.
    let look_every = (relay_again / 5).clamp(Duration::from_millis(200), Duration::from_secs(60));
    loop {
        let Some(mut conn) = connect_redis(&client, "relay", &mut shutdown).await else {
            return;
        };
        metrics().relay_connected(true);
        if let Err(e) = after_connect(&pool, &mut conn, &keys).await {
            tracing::warn!(error = %format!("{e:#}"), "relay failed; reconnecting");
            metrics().relay_connected(false);
            if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
                return;
            }
            continue;
        }
        let mut looked_again = tokio::time::Instant::now();
        let mut marker_seen = tokio::time::Instant::now();
        loop {
            // An idle relay sends nothing to Redis: look at the marker every second, so that a
            // Redis that restarted empty is noticed even when no new event arrives.
            if marker_seen.elapsed() >= MARKER_EVERY {
                marker_seen = tokio::time::Instant::now();
                if let Err(e) = after_connect(&pool, &mut conn, &keys).await {
                    tracing::warn!(error = %format!("{e:#}"), "relay failed; reconnecting");
                    metrics().relay_connected(false);
                    break;
                }
            }
            if looked_again.elapsed() >= look_every {
                looked_again = tokio::time::Instant::now();
                match caught_up(&mut conn, &keys).await {
                    Ok(true) => match store::events::relay_again(&pool, relay_again).await {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(
                            n,
                            "events relayed long ago and not applied; relaying them again"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %format!("{e:#}"), "looking for unapplied events failed")
                        }
                    },
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "relay failed; reconnecting");
                        metrics().relay_connected(false);
                        break;
                    }
                }
            }
            if let Err(e) = drain(&pool, &mut conn, &keys).await {
                tracing::warn!(error = %format!("{e:#}"), "relay failed; reconnecting");
                metrics().relay_connected(false);
                break;
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
        }
        if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
            return;
        }
    }
}

/// On every (re)connection and every second: a Redis without a partition's epoch marker has
/// lost that partition's stream (or never had one; in a cluster one master may restart empty
/// while the others keep theirs): whatever was relayed and is not applied goes on the stream
/// again.
async fn after_connect(pool: &PgPool, conn: &mut Conn, keys: &StreamKeys) -> anyhow::Result<()> {
    let now = chrono::Utc::now().to_rfc3339();
    let mut lost = Vec::new();
    for p in 0..keys.partitions {
        let created: Option<String> = redis::cmd("SET")
            .arg(keys.epoch(p))
            .arg(&now)
            .arg("NX")
            .query_async(conn)
            .await
            .context("setting a partition's epoch marker")?;
        if created.is_some() {
            lost.push(p);
        }
    }
    if !lost.is_empty() {
        let n = store::events::relay_again(pool, Duration::ZERO).await?;
        if n > 0 {
            tracing::warn!(
                n,
                partitions = ?lost,
                "Redis lost the event stream; relaying again the events not yet applied"
            );
        }
    }
    Ok(())
}

/// Whether every partition's consumer group has read its whole stream (nothing waits there
/// unread): only then is an event relayed long ago and not applied lost rather than waiting.
/// A stream that does not exist holds nothing; one without the group, or whose lag Redis
/// cannot tell, is not caught up.
async fn caught_up(conn: &mut Conn, keys: &StreamKeys) -> anyhow::Result<bool> {
    for p in 0..keys.partitions {
        let key = keys.stream(p);
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(conn)
            .await
            .context("EXISTS")?;
        if !exists {
            continue;
        }
        let groups: redis::streams::StreamInfoGroupsReply =
            redis::AsyncCommands::xinfo_groups(conn, &key)
                .await
                .context("XINFO GROUPS")?;
        let lag = groups
            .groups
            .iter()
            .find(|g| g.name == keys.group)
            .and_then(|g| g.lag);
        if lag != Some(0) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Moves everything in the outbox onto the stream; returns how many entries.
async fn drain(pool: &PgPool, conn: &mut Conn, keys: &StreamKeys) -> anyhow::Result<usize> {
    let mut moved = 0;
    loop {
        let batch = store::events::take_outbox(pool, BATCH).await?;
        let n = batch.payloads.len();
        if n == 0 {
            return Ok(moved);
        }
        // One pipeline per partition: in a cluster each goes to its partition's master.
        let mut pipes: Vec<Option<redis::Pipeline>> = vec![None; keys.partitions];
        for (payload, enterprise, received_ms) in &batch.payloads {
            let p = keys.partition_of(payload);
            let xadd = pipes
                .get_mut(p)
                .context("an event's partition out of range")?
                .get_or_insert_with(redis::pipe)
                .cmd("XADD")
                .arg(keys.stream(p))
                .arg("*")
                .arg("event")
                .arg(payload)
                .arg("received")
                .arg(received_ms);
            if let Some(enterprise) = enterprise {
                xadd.arg("enterprise").arg(enterprise);
            }
            xadd.ignore();
        }
        for pipe in pipes.iter().flatten() {
            let _: () = pipe
                .query_async(conn)
                .await
                .context("XADD to the event stream")?;
        }
        batch
            .tx
            .commit()
            .await
            .context("committing the outbox batch")?;
        moved += n;
        metrics().relayed(u64::try_from(n).unwrap_or(u64::MAX));
        tracing::debug!(n, "relayed events");
        if n < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(moved);
        }
    }
}
