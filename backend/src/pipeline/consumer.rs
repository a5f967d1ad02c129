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
use super::{custody, positions};
use crate::bus::{connect_redis, sleep_or_shutdown, StreamKeys};
use crate::rules::gps;
use crate::rules::history_alerts;
use crate::store;
use anyhow::Context;
use chrono::{DateTime, Utc};
use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamInfoGroupsReply,
    StreamPendingReply, StreamReadOptions, StreamReadReply,
};
use redis::AsyncCommands;
use shared::events::Event;
use shared::live::LiveMessage;
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const COUNT: usize = 500;
const BLOCK_MS: usize = 1000;
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
    /// Stage 1: which fixes are plausible.
    pub gps: gps::Policy,
    /// Stages 2–3: how often to look for new fences, and the dwell limit.
    pub fence_reload: Duration,
    pub dwell: chrono::Duration,
    /// Suspicious stops.
    pub stops: crate::rules::stops::Policy,
    /// Stage 5: the custody stage's alert limits.
    pub custody: history_alerts::Policy,
    /// How long a partition stays this instance's after its last renewal.
    pub lease: Duration,
}

/// Holds a partition while the Redis key says so: `acquire_or_renew` returns 1 when the lease
/// is (now) this instance's, 0 when another holds it.
const LEASE: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0";
/// Gives a partition up if it is still this instance's.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

/// A partition this instance consumes: its task, told to stop by `stop`, and how long the
/// lease is known to hold (the task stops by itself past it: a lease not renewed in time may
/// already be another instance's).
struct Held {
    stop: watch::Sender<bool>,
    valid_until: watch::Sender<Instant>,
    task: tokio::task::JoinHandle<()>,
}

/// Runs until shutdown: takes its fair share of the stream's partitions (partitions ÷ live
/// instances, rounded up) as leases, renews them every third of the lease, consumes each held
/// partition in a task of its own, and gives up the ones beyond its share so that a new
/// instance gets some.
pub async fn run(
    pool: PgPool,
    client: redis::Client,
    keys: StreamKeys,
    options: ConsumerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut held: std::collections::BTreeMap<usize, Held> = std::collections::BTreeMap::new();
    let lease_ms = u64::try_from(options.lease.as_millis()).unwrap_or(u64::MAX);
    let every = options.lease / 3;
    'connect: loop {
        let Some(mut conn) = connect_redis(&client, "consumer leases", &mut shutdown).await else {
            break;
        };
        loop {
            let round_started = Instant::now();
            match lease_round(&mut conn, &keys, &options, lease_ms, &held).await {
                Ok((renewed, lost, share)) => {
                    for p in lost {
                        if let Some(h) = held.remove(&p) {
                            tracing::warn!(partition = p, "partition lease lost; stopping");
                            let _ = h.stop.send(true);
                        }
                    }
                    for p in renewed {
                        let until = round_started + options.lease.mul_f64(0.8);
                        match held.get(&p) {
                            Some(h) => {
                                let _ = h.valid_until.send(until);
                            }
                            None => {
                                tracing::info!(
                                    partition = p,
                                    consumer = options.name,
                                    "partition taken"
                                );
                                let (stop, stop_rx) = watch::channel(false);
                                let (valid_until, valid_rx) = watch::channel(until);
                                let task = tokio::spawn(run_partition(
                                    pool.clone(),
                                    client.clone(),
                                    keys.partition(p),
                                    options.clone(),
                                    stop_rx,
                                    valid_rx,
                                ));
                                held.insert(
                                    p,
                                    Held {
                                        stop,
                                        valid_until,
                                        task,
                                    },
                                );
                            }
                        }
                    }
                    // Beyond the fair share: finish the partition's batch, then give it up.
                    while held.len() > share {
                        let Some((p, h)) = held.pop_last() else { break };
                        let _ = h.stop.send(true);
                        let _ = h.task.await;
                        let _: redis::RedisResult<i32> = redis::cmd("EVAL")
                            .arg(RELEASE)
                            .arg(1)
                            .arg(keys.lease(p))
                            .arg(&options.name)
                            .query_async(&mut conn)
                            .await;
                        tracing::info!(partition = p, "partition given up to share the work");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "partition leases not renewed");
                    if sleep_or_shutdown(Duration::from_secs(1), &mut shutdown).await {
                        break 'connect;
                    }
                    continue 'connect;
                }
            }
            held.retain(|_, h| !h.task.is_finished());
            if sleep_or_shutdown(every, &mut shutdown).await {
                break 'connect;
            }
        }
    }
    // Shutdown: each task finishes its batch; the leases lapse (a restarted instance of the
    // same name takes them back at once).
    for (_, h) in std::mem::take(&mut held) {
        let _ = h.stop.send(true);
        let _ = h.task.await;
    }
}

/// One round: the heartbeat, the held leases renewed, free ones taken up to the fair share.
/// Returns the partitions held after the round, those lost, and the share.
async fn lease_round(
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    lease_ms: u64,
    held: &std::collections::BTreeMap<usize, Held>,
) -> anyhow::Result<(Vec<usize>, Vec<usize>, usize)> {
    let now_ms = Utc::now().timestamp_millis();
    let alive_since = now_ms - i64::try_from(lease_ms).unwrap_or(i64::MAX);
    let ((), (), alive): ((), (), usize) = redis::pipe()
        .zadd(keys.instances(), &options.name, now_ms)
        .zrembyscore(keys.instances(), "-inf", alive_since)
        .zcard(keys.instances())
        .query_async(conn)
        .await
        .context("instance heartbeat")?;
    let share = keys.partitions.div_ceil(alive.max(1));
    let lease = |p: usize| {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(LEASE)
            .arg(1)
            .arg(keys.lease(p))
            .arg(&options.name)
            .arg(lease_ms);
        cmd
    };
    let (mut renewed, mut lost) = (Vec::new(), Vec::new());
    for &p in held.keys() {
        let mine: i32 = lease(p)
            .query_async(conn)
            .await
            .context("renewing a partition lease")?;
        if mine == 1 {
            renewed.push(p);
        } else {
            lost.push(p);
        }
    }
    for p in 0..keys.partitions {
        if renewed.len() >= share {
            break;
        }
        if held.contains_key(&p) {
            continue;
        }
        let mine: i32 = lease(p)
            .query_async(conn)
            .await
            .context("taking a partition lease")?;
        if mine == 1 {
            renewed.push(p);
        }
    }
    Ok((renewed, lost, share))
}

/// Consumes one partition until told to stop or its lease may have lapsed; reconnects to Redis
/// after failures.
async fn run_partition(
    pool: PgPool,
    client: redis::Client,
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

/// Whether a partition task may go on: not told to stop, lease renewed recently enough.
struct Lease<'a> {
    stop: &'a mut watch::Receiver<bool>,
    valid_until: &'a watch::Receiver<Instant>,
}

impl Lease<'_> {
    fn holds(&self) -> bool {
        !*self.stop.borrow() && Instant::now() < *self.valid_until.borrow()
    }
}

async fn consume(
    pool: &PgPool,
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    held: Lease<'_>,
) -> anyhow::Result<()> {
    ensure_group(conn, keys).await?;
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
        let claimed = claim(conn, keys, options, Duration::ZERO).await?;
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
            let claimed = claim(conn, keys, options, options.claim_idle).await?;
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
            if let Err(e) = trim(conn, keys).await {
                tracing::warn!(error = %format!("{e:#}"), "stream trim failed");
            }
        }
        let from_pending = pending_due.is_some_and(|at| at <= Instant::now());
        let mut read = StreamReadOptions::default()
            .group(&keys.group, consumer)
            .count(COUNT);
        if !from_pending {
            let block = pending_due.map_or(BLOCK_MS, |at| {
                let left = at.saturating_duration_since(Instant::now()).as_millis();
                usize::try_from(left).unwrap_or(BLOCK_MS).clamp(1, BLOCK_MS)
            });
            read = read.block(block);
        }
        let start = if from_pending { "0" } else { ">" };
        let (streams, ids) = ([keys.events.as_str()], [start]);
        let reply: Option<StreamReadReply> = tokio::select! {
            r = conn.xread_options(&streams, &ids, &read) => r.context("XREADGROUP")?,
            _ = held.stop.changed() => return Ok(()),
        };
        let entries: Vec<StreamId> = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default();
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

async fn ensure_group(conn: &mut MultiplexedConnection, keys: &StreamKeys) -> anyhow::Result<()> {
    let created: redis::RedisResult<()> = conn
        .xgroup_create_mkstream(&keys.events, &keys.group, "0")
        .await;
    match created {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e).context("XGROUP CREATE"),
    }
}

/// Takes over entries idle longer than `idle` on any consumer of the group (this one's
/// included: they come back to be processed).
async fn claim(
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    idle: Duration,
) -> anyhow::Result<Vec<StreamId>> {
    let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    let reply: StreamAutoClaimReply = conn
        .xautoclaim_options(
            &keys.events,
            &keys.group,
            &options.name,
            idle_ms,
            "0-0",
            StreamAutoClaimOptions::default().count(COUNT),
        )
        .await
        .context("XAUTOCLAIM")?;
    Ok(reply.claimed)
}

/// Removes the entries every group is done with: those below the oldest entry still pending
/// in, or not yet delivered to, any group.
async fn trim(conn: &mut MultiplexedConnection, keys: &StreamKeys) -> anyhow::Result<()> {
    let groups: StreamInfoGroupsReply = conn
        .xinfo_groups(&keys.events)
        .await
        .context("XINFO GROUPS")?;
    let mut keep_from: Option<(u64, u64)> = None;
    for group in &groups.groups {
        let pending: StreamPendingReply = conn
            .xpending(&keys.events, &group.name)
            .await
            .context("XPENDING")?;
        let oldest = match &pending {
            StreamPendingReply::Data(data) => data.start_id.as_str(),
            _ => group.last_delivered_id.as_str(),
        };
        let Some(id) = parse_id(oldest) else {
            return Ok(()); // unreadable: trim nothing
        };
        keep_from = Some(keep_from.map_or(id, |k| k.min(id)));
    }
    let Some((ms, seq)) = keep_from else {
        return Ok(());
    };
    let removed: usize = redis::cmd("XTRIM")
        .arg(&keys.events)
        .arg("MINID")
        .arg(format!("{ms}-{seq}"))
        .query_async(conn)
        .await
        .context("XTRIM")?;
    if removed > 0 {
        tracing::debug!(removed, "processed entries trimmed from the stream");
    }
    Ok(())
}

fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// One decoded entry.
struct Decoded<'a> {
    entry: &'a StreamId,
    payload: String,
    event: Event,
    enterprise: Option<String>,
    /// When the API received the event (older entries carry none: when it is read).
    received_at: DateTime<Utc>,
}

/// Runs the stages over a batch, publishes the changes, acknowledges what is done. Returns
/// whether some entries failed and stay pending for another attempt. An error means the
/// batch could not be judged (PostgreSQL or Redis unavailable): nothing was counted.
async fn process(
    pool: &PgPool,
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    options: &ConsumerOptions,
    fences: &mut FenceStage,
    entries: &[StreamId],
) -> anyhow::Result<bool> {
    let mut decoded = Vec::with_capacity(entries.len());
    let mut done: Vec<&str> = Vec::with_capacity(entries.len());
    for entry in entries {
        let payload: Option<String> = entry.get("event");
        let parsed = payload
            .as_deref()
            .ok_or_else(|| "entry has no \"event\" field".to_owned())
            .and_then(|p| serde_json::from_str::<Event>(p).map_err(|e| e.to_string()));
        match parsed {
            Ok(event) => decoded.push(Decoded {
                entry,
                payload: payload.unwrap_or_default(),
                event,
                enterprise: entry.get::<String>("enterprise"),
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
                done.push(&entry.id);
            }
        }
    }
    let mut retry = false;
    match stages(pool, &options.gps, &options.custody, fences, &decoded).await {
        Ok(messages) => {
            publish(conn, keys, &messages).await?;
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
                match stages(pool, &options.gps, &options.custody, fences, one).await {
                    Ok(messages) => {
                        publish(conn, keys, &messages).await?;
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
    if !done.is_empty() {
        let _: usize = conn
            .xack(&keys.events, &keys.group, &done)
            .await
            .context("XACK")?;
    }
    Ok(retry)
}

/// The stages, in order, over decoded entries.
async fn stages(
    pool: &PgPool,
    policy: &gps::Policy,
    custody_policy: &history_alerts::Policy,
    fences: &mut FenceStage,
    batch: &[Decoded<'_>],
) -> anyhow::Result<Vec<LiveMessage>> {
    let events: Vec<Event> = batch.iter().map(|d| d.event.clone()).collect();
    let enterprises: Vec<Option<String>> = batch.iter().map(|d| d.enterprise.clone()).collect();
    let received: Vec<DateTime<Utc>> = batch.iter().map(|d| d.received_at).collect();
    // Positions and fences in one transaction: a batch retried after a failure derives its
    // moves again (were positions committed alone, the retry would find no move to derive).
    let mut tx = pool
        .begin()
        .await
        .context("opening the positions transaction")?;
    let applied = positions::apply(&mut tx, policy, &events, &enterprises, &received).await?;
    let owners = applied
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
    let mut messages = applied.messages;
    messages.extend(fences.apply(pool, &mut tx, &applied.moves, &owners).await?);
    tx.commit()
        .await
        .context("committing positions and fences")?;
    messages.extend(custody::apply(pool, custody_policy, &events, &enterprises).await?);
    Ok(messages)
}

async fn publish(
    conn: &mut MultiplexedConnection,
    keys: &StreamKeys,
    messages: &[LiveMessage],
) -> anyhow::Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for message in messages {
        let topic = match message {
            LiveMessage::Vehicle(_) | LiveMessage::Snapshot { .. } => "vehicles",
            LiveMessage::Alert(_) => "alerts",
            LiveMessage::Cylinder(_) | LiveMessage::Site(_) => "cylinders",
            LiveMessage::Stats(_) => "stats",
        };
        let text = serde_json::to_string(message).context("serializing a live message")?;
        pipe.cmd("PUBLISH")
            .arg(format!("{}{topic}", keys.live))
            .arg(text)
            .ignore();
    }
    let _: () = pipe
        .query_async(conn)
        .await
        .context("PUBLISH live messages")?;
    Ok(())
}
