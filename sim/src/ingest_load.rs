//! `cylwatch-sim load-ingest`: the durable ingest rate of `POST /api/v1/events` end to end, and
//! the rows of the same events as CSV for a raw `COPY` baseline (`bench/ingest.sh`).
//!
//! The events are GPS fixes of `--vehicles` vehicles, deterministic from `--seed` and
//! `--start-at` (ids included), so that `--write-csv` and a later send produce the same rows.
//! Event j is fix `j / vehicles` of vehicle `j % vehicles`: a batch holds a few fixes of every
//! vehicle, in event-time order, one second apart per vehicle, each a step of a few metres
//! (nothing the GPS filters refuse).
//!
//! Sending: the batches are serialized before the clock starts; `--concurrency` senders each
//! post the next unsent batch when their previous one is answered. The rate runs from the
//! first request to the last `202` (each `202` means committed with its outbox rows). Then,
//! with `--wait-applied-s`, `GET /api/v1/health` is polled until the outbox, the stream's lag
//! and its pending entries are all zero: the time the pipeline needed to apply everything,
//! from the same first request. One line of JSON is printed on stdout.

use crate::measure::{millis, percentile, seconds};
use crate::wire;
use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use cylwatch_client::{reqwest, Auth, Client, Method};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shared::events::{Event, EventBatch, GpsFix};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// `cylwatch-sim load-ingest` options.
#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// The key of an (unbound) device of the vehicles' enterprise; not needed with
    /// `--write-csv`.
    #[arg(long, env = "CYLWATCH_LOAD_DEVICE_KEY", hide_env_values = true)]
    pub device_key: Option<String>,
    /// An administrator's bearer token for `GET /api/v1/health` (needed by
    /// `--wait-applied-s`: the backlog figures are shown to an administrator only).
    #[arg(long, env = "CYLWATCH_LOAD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Events in all.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Events per request.
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    /// Senders, each with one request in flight.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Vehicles the fixes belong to.
    #[arg(long, default_value_t = 100)]
    pub vehicles: usize,
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Event time of the first fix (RFC 3339); give the same value to `--write-csv` and to
    /// the send. It must lie less than `gps_max_age_h` before the send.
    #[arg(long)]
    pub start_at: DateTime<Utc>,
    /// Write the events as CSV rows of the `events` table (id, kind, occurred_at,
    /// vehicle_plate, location as EWKT, payload as the server stores it, device_id,
    /// enterprise_code) to this file and exit without sending.
    #[arg(long)]
    pub write_csv: Option<PathBuf>,
    /// The device id and enterprise written in the CSV rows (what the server writes for the
    /// device that sends).
    #[arg(long, default_value = "gateway")]
    pub device_id: String,
    #[arg(long, default_value = "ENT1")]
    pub enterprise: String,
    /// After the last `202`, wait up to this many seconds for the pipeline to apply every
    /// event (outbox, stream lag and pending entries all zero); 0: do not wait.
    #[arg(long, default_value_t = 600.0)]
    pub wait_applied_s: f64,
    /// A request not answered within this many seconds fails the run.
    #[arg(long, default_value_t = 60.0)]
    pub timeout_s: f64,
}

/// The events, in sending order.
fn events(args: &IngestArgs) -> anyhow::Result<Vec<Event>> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let vehicles = args.vehicles.max(1);
    let mut at: Vec<(f64, f64)> = (0..vehicles)
        .map(|_| {
            (
                rng.random_range(113.55..113.75),
                rng.random_range(34.70..34.80),
            )
        })
        .collect();
    let mut out = Vec::with_capacity(args.events);
    for j in 0..args.events {
        let v = j % vehicles;
        let k = j / vehicles;
        let Some(p) = at.get_mut(v) else { continue };
        // About 5 m per step: far below gps_noise_m, so never a jump.
        p.0 += rng.random_range(-0.00005..0.00005);
        p.1 += rng.random_range(-0.00005..0.00005);
        let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
        let offset = i64::try_from(k)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1_000)
            .saturating_add(i64::try_from(v).unwrap_or(0));
        let occurred = args.start_at + chrono::Duration::milliseconds(offset);
        // To the millisecond, as a device sends it.
        let occurred =
            DateTime::from_timestamp_millis(occurred.timestamp_millis()).unwrap_or(occurred);
        out.push(Event::Gps(GpsFix {
            id,
            occurred_at: occurred.fixed_offset(),
            vehicle_plate: wire::id(&format!("豫B{v:05}"))?,
            point: wire::point(*p)?,
            speed_kmh: Some(18.0),
            heading: Some(90.0),
            alarms: Vec::new(),
        }));
    }
    Ok(out)
}

/// The rows the server would write for these events, as CSV for `psql \copy ... (FORMAT csv)`.
fn write_csv(args: &IngestArgs, path: &std::path::Path, items: Vec<Event>) -> anyhow::Result<()> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)
        .with_context(|| format!("creating {}", path.display()))?;
    for event in items {
        let location = event
            .point()
            .map(|p| format!("SRID=4326;POINT({} {})", p.lon(), p.lat()))
            .unwrap_or_default();
        let payload = serde_json::to_string(&event).context("serializing an event")?;
        out.write_record([
            event.id().to_string(),
            event.kind().to_string(),
            event
                .occurred_at()
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            event
                .vehicle_plate()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            location,
            payload,
            args.device_id.clone(),
            args.enterprise.clone(),
        ])
        .context("writing a CSV row")?;
    }
    out.flush().context("flushing the CSV")?;
    Ok(())
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    let n = f64::from(u32::try_from(count).unwrap_or(u32::MAX));
    (n / secs * 10.0).round() / 10.0
}

/// One batch sent: when it was answered (after the first request) and how long it took.
struct Sent {
    done: Duration,
    latency: Duration,
}

/// Runs the load (or writes the CSV) and prints one line of JSON.
pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    anyhow::ensure!((1..=10_000).contains(&args.batch), "--batch is 1 to 10000");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be above 0");
    let items = events(&args)?;
    if let Some(path) = &args.write_csv {
        let n = items.len();
        write_csv(&args, path, items)?;
        println!(
            "{}",
            json!({"written": n, "csv": path.display().to_string()})
        );
        return Ok(());
    }
    let key = args
        .device_key
        .clone()
        .context("give --device-key (or --write-csv)")?;
    let bodies: Vec<Vec<u8>> = items
        .chunks(args.batch)
        .map(|chunk| {
            let events: Vec<Value> = chunk.iter().map(Event::to_wire).collect();
            serde_json::to_vec(&EventBatch { events: &events })
        })
        .collect::<Result<_, _>>()
        .context("serializing the batches")?;
    let events_n = items.len();
    drop(items);
    let timeout = seconds(args.timeout_s, "--timeout-s")?;
    let wait_applied = seconds(args.wait_applied_s, "--wait-applied-s")?;
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let mut client = Client::with_http(http, &args.api);
    if let Some(token) = &args.token {
        client = client.with_token(token);
    }
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut senders: JoinSet<anyhow::Result<(Vec<Sent>, usize)>> = JoinSet::new();
    for _ in 0..args.concurrency {
        let (client, key) = (client.clone(), key.clone());
        let (bodies, next) = (Arc::clone(&bodies), Arc::clone(&next));
        senders.spawn(async move {
            let mut mine = Vec::new();
            let mut accepted = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let sent = Instant::now();
                // The bodies were serialized before the clock started: the figure is the
                // server's, not this generator's JSON.
                let response = client
                    .request(Method::POST, "/api/v1/events", Auth::Device(&key))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .with_context(|| format!("POST batch {i}"))?;
                let status = response.status();
                let text = response.text().await.context("reading an answer")?;
                anyhow::ensure!(status.as_u16() == 202, "batch {i}: {status} {text:.300}");
                let answer: shared::events::IngestResponse =
                    serde_json::from_str(&text).context("reading an ingest answer")?;
                anyhow::ensure!(
                    answer.rejected.is_empty(),
                    "batch {i}: rejected {:?}",
                    answer.rejected.first()
                );
                accepted += answer.accepted;
                let now = Instant::now();
                mine.push(Sent {
                    done: now.saturating_duration_since(start),
                    latency: now.saturating_duration_since(sent),
                });
            }
            Ok((mine, accepted))
        });
    }
    let mut sent = Vec::new();
    let mut accepted = 0usize;
    while let Some(done) = senders.join_next().await {
        let (mine, n) = done.context("a sender failed")??;
        sent.extend(mine);
        accepted += n;
    }
    let committed = sent.iter().map(|s| s.done).max().unwrap_or_default();
    let applied = if wait_applied.is_zero() {
        None
    } else {
        wait_until_applied(&client, start, wait_applied).await?
    };
    let mut latencies: Vec<Duration> = sent.iter().map(|s| s.latency).collect();
    latencies.sort_unstable();
    let summary = json!({
        "events": events_n,
        "batch": args.batch,
        "batches": latencies.len(),
        "concurrency": args.concurrency,
        "accepted": accepted,
        "duplicates": events_n.saturating_sub(accepted),
        "committed_s": (committed.as_secs_f64() * 1000.0).round() / 1000.0,
        "committed_per_s": per_second(accepted, committed),
        "applied_s": applied.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
        "applied_per_s": applied.map(|d| per_second(accepted, d)),
        "batch_p50_ms": millis(percentile(&latencies, 500)),
        "batch_p99_ms": millis(percentile(&latencies, 990)),
        "batch_max_ms": millis(latencies.last().copied().unwrap_or_default()),
    });
    println!("{summary}");
    Ok(())
}

/// Polls health every 50 ms until the outbox, the stream's lag and pending entries are all
/// zero; the time since `start`, or `None` when `limit` passed first.
async fn wait_until_applied(
    client: &Client,
    start: Instant,
    limit: Duration,
) -> anyhow::Result<Option<Duration>> {
    let until = Instant::now() + limit;
    loop {
        let stream = client.health().await.context("GET health")?.stream;
        if stream.outbox == Some(0) && stream.lag == Some(0) && stream.pending == Some(0) {
            return Ok(Some(Instant::now().saturating_duration_since(start)));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> IngestArgs {
        IngestArgs {
            api: String::new(),
            device_key: None,
            token: None,
            events: 250,
            batch: 100,
            concurrency: 1,
            vehicles: 10,
            seed: 3,
            start_at: "2026-11-30T08:00:00Z".parse().unwrap(),
            write_csv: None,
            device_id: "gateway".into(),
            enterprise: "ENT1".into(),
            wait_applied_s: 0.0,
            timeout_s: 1.0,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_valid_events() {
        let a = events(&args()).unwrap();
        assert_eq!(a, events(&args()).unwrap());
        assert_eq!(a.len(), 250);
        for item in a {
            shared::events::parse_event(item.to_wire()).unwrap();
        }
    }
}
