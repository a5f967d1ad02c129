//! The stream consumer: XREADGROUP in the pipeline's group, stages in order, PUBLISH, XACK.
//!
//! - On start it first finishes the entries it had been given before a restart (its own
//!   pending list), then reads new ones.
//! - Entries pending too long on another consumer (an instance that died) are claimed
//!   (XAUTOCLAIM) and processed here.
//! - A batch that fails is retried entry by entry. While PostgreSQL does not answer nothing is
//!   counted (an outage is not the entries' fault); otherwise each failing entry's attempts
//!   are counted in `pipeline_failures`, and at `max_attempts` it goes to the dead-letter table
//!   with its error and is acknowledged — never dropped silently, never retried for ever.
//! - Processed entries are trimmed from the stream now and then (XTRIM MINID below the oldest
//!   entry still pending or undelivered in any group): trimming never removes pending work.
//!
//! Stages are idempotent (events by id, positions newest-wins, alerts by sighting): an entry
//! handled twice changes nothing twice.

use super::fences::FenceStage;
use super::lease::{self, Lease, LeaseOptions};
use super::stages::{self, Decoded};
use super::stream;
use crate::bus::{connect_redis, sleep_or_shutdown, Conn, Redis, StreamKeys};
use crate::rules::{gps, history_alerts};
use crate::store;
use crate::telemetry::metrics;
use chrono::{DateTime, Utc};
use redis::streams::StreamId;
use shared::events::Event;
use shared::ids::EnterpriseCode;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

/// Pause before a failed entry is tried again.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// How this instance consumes.
#[derive(Debug, Clone)]
pub struct ConsumerOptions {
    /// This consumer's name in the group (`instance_id`).
    pub name: String,
    pub max_attempts: u32,
    pub claim_idle: Duration,
    pub trim_every: Duration,
    /// The `positions` stage: which fixes are plausible.
    pub gps: gps::Policy,
    /// The `fences` stage: how often to look for new fences, the dwell limit, suspicious stops.
    pub fence_reload: Duration,
    pub dwell: chrono::Duration,
    pub stops: crate::rules::stops::Policy,
    /// The `custody` stage: the limits of the alerts of new history.
    pub custody: history_alerts::Policy,
    /// How long a partition stays this instance's after its last renewal.
    pub lease: Duration,
}

/// Runs until shutdown: holds this instance's share of the partitions (`lease`) and consumes
/// each held partition in a task of its own.
pub async fn run(
    pool: PgPool,
    client: Redis,
    keys: StreamKeys,
    options: ConsumerOptions,
    shutdown: watch::Receiver<bool>,
) {
    let lease_options = LeaseOptions {
        name: options.name.clone(),
        lease: options.lease,
    };
    lease::hold_partitions(
        client.clone(),
        keys.clone(),
        lease_options,
        shutdown,
        |p, stop, valid_until| {
            tokio::spawn(run_partition(
                pool.clone(),
                client.clone(),
                keys.partition(p),
                options.clone(),
                stop,
                valid_until,
            ))
        },
    )
    .await;
}

/// Consumes one partition until told to stop or its lease may have lapsed; reconnects to Redis
/// after failures.
async fn run_partition(
    pool: PgPool,
    client: Redis,
    keys: StreamKeys,
    options: ConsumerOptions,
    mut stop: watch::Receiver<bool>,
    valid_until: watch::Receiver<Instant>,
) {
    loop {
        let Some(mut conn) = connect_redis(&client, "consumer", &mut stop).await else {
            return;
        };
        let held = Lease {
            stop: &mut stop,
            valid_until: &valid_until,
        };
        match consume(&pool, &mut conn, &keys, &options, held).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), stream = keys.events, "pipeline consumer failed; restarting");
                if sleep_or_shutdown(Duration::from_secs(1), &mut stop).await {
                    return;
                }
            }
        }
    }
}

async fn consume(
    pool: &PgPool,
    conn: &mut Conn,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    held: Lease<'_>,
) -> anyhow::Result<()> {
    stream::ensure_group(conn, keys).await?;
    let consumer = options.name.as_str();
    let mut fences = FenceStage::new(options.fence_reload, options.dwell, options.stops);
    // Look for a dead consumer's entries a few times per idle period, at most every 5 s.
    let claim_every =
        (options.claim_idle / 3).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let mut last_claim: Option<Instant> = None;
    // The partition was another instance's (or this one's before a restart): whatever that
    // consumer left pending is taken over at once, before anything new — the lease says it is
    // no longer working on it.
    loop {
        let claimed = stream::claim(conn, keys, consumer, Duration::ZERO).await?;
        if claimed.is_empty() {
            break;
        }
        tracing::info!(
            consumer,
            entries = claimed.len(),
            stream = keys.events,
            "took over pending entries"
        );
        process(pool, conn, keys, options, &mut fences, &claimed).await?;
    }
    let mut last_trim = Instant::now();
    // Own pending entries ("0") first and whenever a failed entry is due for another
    // attempt; new ones (">") otherwise, so that one failing entry does not hold up the rest.
    let mut pending_due = Some(Instant::now());
    loop {
        if !held.holds() {
            return Ok(());
        }
        if last_claim.is_none_or(|at| at.elapsed() >= claim_every) {
            last_claim = Some(Instant::now());
            let claimed = stream::claim(conn, keys, consumer, options.claim_idle).await?;
            if !claimed.is_empty() {
                tracing::warn!(
                    consumer,
                    entries = claimed.len(),
                    "claimed a silent consumer's entries"
                );
                if process(pool, conn, keys, options, &mut fences, &claimed).await? {
                    pending_due = pending_due.or(Some(Instant::now() + RETRY_AFTER));
                }
            }
        }
        if last_trim.elapsed() >= options.trim_every {
            last_trim = Instant::now();
            if let Err(e) = stream::trim(conn, keys).await {
                tracing::warn!(error = %format!("{e:#}"), "stream trim failed");
            }
        }
        let from_pending = pending_due.is_some_and(|at| at <= Instant::now());
        let block = pending_due.map_or(stream::BLOCK_MS, |at| {
            let left = at.saturating_duration_since(Instant::now()).as_millis();
            usize::try_from(left)
                .unwrap_or(stream::BLOCK_MS)
                .clamp(1, stream::BLOCK_MS)
        });
        let entries = tokio::select! {
            r = stream::read(conn, keys, consumer, from_pending, block) => r?,
            _ = held.stop.changed() => return Ok(()),
        };
        if entries.is_empty() {
            if from_pending {
                tracing::info!(consumer, "pending entries done; reading new entries");
                pending_due = None;
            }
            continue;
        }
        if process(pool, conn, keys, options, &mut fences, &entries).await? {
            // Some entries failed and stay pending: they are read again shortly.
            pending_due = Some(Instant::now() + RETRY_AFTER);
        } else if from_pending {
            // More of the pending list may follow.
            pending_due = Some(Instant::now());
        }
    }
}

/// Runs the stages over a batch, publishes the changes, acknowledges what is done. Returns
/// whether some entries failed and stay pending for another attempt. An error means the
/// batch could not be judged (PostgreSQL or Redis unavailable): nothing was counted.
async fn process(
    pool: &PgPool,
    conn: &mut Conn,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    fences: &mut FenceStage,
    entries: &[StreamId],
) -> anyhow::Result<bool> {
    let mut decoded = Vec::with_capacity(entries.len());
    let mut done: Vec<&str> = Vec::with_capacity(entries.len());
    // The events of the entries done: applied ones leave the outbox, dead-lettered ones stay
    // there marked dead (not applied), before the entries are acknowledged.
    let mut applied_ids: Vec<Uuid> = Vec::with_capacity(entries.len());
    let mut dead_ids: Vec<Uuid> = Vec::new();
    for entry in entries {
        let payload: Option<String> = entry.get("event");
        let parsed = payload
            .as_deref()
            .ok_or_else(|| "entry has no \"event\" field".to_owned())
            .and_then(|p| serde_json::from_str::<Event>(p).map_err(|e| e.to_string()))
            .and_then(|event| {
                let enterprise = entry
                    .get::<String>("enterprise")
                    .map(|e| {
                        EnterpriseCode::try_from(e.clone())
                            .map_err(|why| format!("enterprise {e:?}: {why}"))
                    })
                    .transpose()?;
                Ok((event, enterprise))
            });
        match parsed {
            Ok((event, enterprise)) => decoded.push(Decoded {
                entry,
                payload: payload.unwrap_or_default(),
                event,
                enterprise,
                received_at: entry
                    .get::<i64>("received")
                    .and_then(DateTime::from_timestamp_millis)
                    .unwrap_or_else(Utc::now),
            }),
            Err(error) => {
                tracing::error!(id = %entry.id, error, "undecodable stream entry; dead-lettered");
                store::events::dead_letter(
                    pool,
                    &entry.id,
                    payload.as_deref().unwrap_or(""),
                    &error,
                )
                .await?;
                metrics().entries("dead_lettered", 1);
                dead_ids.extend(payload.as_deref().and_then(event_id_of));
                done.push(&entry.id);
            }
        }
    }
    let mut retry = false;
    match stages::run(pool, &options.gps, &options.custody, fences, &decoded).await {
        Ok(messages) => {
            stream::publish(conn, keys, &messages).await?;
            applied(&decoded);
            applied_ids.extend(decoded.iter().map(|d| d.event.id()));
            let ids: Vec<&str> = decoded.iter().map(|d| d.entry.id.as_str()).collect();
            store::events::clear_failures(pool, &ids).await?;
            done.extend(ids);
        }
        Err(batch_error) => {
            if sqlx::query("SELECT 1").execute(pool).await.is_err() {
                return Err(batch_error.context("PostgreSQL unavailable"));
            }
            tracing::warn!(error = %format!("{batch_error:#}"), "batch failed; retrying entry by entry");
            for one in decoded.chunks(1) {
                let Some(d) = one.first() else { continue };
                match stages::run(pool, &options.gps, &options.custody, fences, one).await {
                    Ok(messages) => {
                        stream::publish(conn, keys, &messages).await?;
                        applied(one);
                        applied_ids.push(d.event.id());
                        store::events::clear_failures(pool, &[d.entry.id.as_str()]).await?;
                        done.push(&d.entry.id);
                    }
                    Err(e) => {
                        let error = format!("{e:#}");
                        let attempts =
                            store::events::count_failure(pool, &d.entry.id, &error).await?;
                        if attempts >= i64::from(options.max_attempts) {
                            tracing::error!(id = %d.entry.id, attempts, error, "stream entry failed too often; dead-lettered");
                            store::events::dead_letter(pool, &d.entry.id, &d.payload, &error)
                                .await?;
                            metrics().entries("dead_lettered", 1);
                            dead_ids.push(d.event.id());
                            done.push(&d.entry.id);
                        } else {
                            tracing::warn!(id = %d.entry.id, attempts, error, "stream entry failed; will retry");
                            retry = true;
                        }
                    }
                }
            }
        }
    }
    store::events::applied(pool, &applied_ids).await?;
    store::events::dead(pool, &dead_ids).await?;
    stream::ack(conn, keys, &done).await?;
    Ok(retry)
}

/// The event id of an entry that did not decode, if its payload names one.
fn event_id_of(payload: &str) -> Option<Uuid> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    Uuid::parse_str(value.get("id")?.as_str()?).ok()
}

/// Counts entries applied, with each one's time from receipt.
fn applied(entries: &[Decoded<'_>]) {
    let now = Utc::now();
    metrics().applied(
        entries
            .iter()
            .map(|d| (now - d.received_at).to_std().unwrap_or_default()),
    );
}
