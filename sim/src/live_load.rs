//! `cylwatch-sim load-live`: event-to-WebSocket latency with many live clients (`bench/live.sh`).
//!
//! Opens `--clients` WebSocket sessions on `GET /api/v1/live` (the token as the first
//! message; at most `--connect-concurrency` handshakes at a time) and waits for each one's snapshot. Then posts
//! GPS fixes open loop at `--rate` per second for `--duration-s` (fix i is due at
//! `start + i/rate`, one fix per `POST /api/v1/events`, its `occurred_at` the send time): fix i
//! is the next position of vehicle `i % vehicles`, a step of about 10 m east, so that plate and
//! lon/lat name the fix. Every client notes when each `vehicle` message arrives; afterwards
//! each arrival is matched to its fix and timed from just before that fix's POST.
//!
//! Reported over all (fix, client) pairs: p50/p90/p99/max latency and the pairs missed (a
//! session that fell behind gets a fresh snapshot instead of the messages it missed: those
//! count as missed, and the snapshots as `resyncs`); per fix, the latency to its first client
//! and the spread from its first to its last client (the fan-out's share); the POST's own
//! latency. One line of JSON on stdout.

use crate::measure::{millis, percentile, seconds};
use crate::wire;
use anyhow::Context;
use chrono::{DateTime, Utc};
use cylwatch_client::{reqwest, Client};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::events::{Event, GpsFix};
use shared::GeoPoint;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// `cylwatch-sim load-live` options.
#[derive(Debug, Clone, clap::Args)]
pub struct LiveArgs {
    /// Base URL of the server (http://host:port).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// A bearer token of a user who sees every vehicle (the administrator).
    #[arg(long, env = "CYLWATCH_LOAD_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The key of an unbound device of the vehicles' enterprise.
    #[arg(long, env = "CYLWATCH_LOAD_DEVICE_KEY", hide_env_values = true)]
    pub device_key: String,
    /// WebSocket clients.
    #[arg(long, default_value_t = 1_000)]
    pub clients: usize,
    /// WebSocket handshakes in flight at most while connecting.
    #[arg(long, default_value_t = 32)]
    pub connect_concurrency: usize,
    /// Fixes posted per second.
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
    /// Seconds of posting.
    #[arg(long, default_value_t = 30.0)]
    pub duration_s: f64,
    /// Vehicles the fixes go round.
    #[arg(long, default_value_t = 100)]
    pub vehicles: usize,
    /// After the last fix, wait at most this long for the messages still on their way.
    #[arg(long, default_value_t = 10.0)]
    pub grace_s: f64,
    #[arg(long, default_value_t = 5)]
    pub seed: u64,
}

/// One fix to post.
struct Fix {
    vehicle: u16,
    lon: f64,
    lat: f64,
}

/// What a client noted of one `vehicle` message.
struct Arrival {
    vehicle: u16,
    lon: u64,
    lat: u64,
    at: Instant,
}

/// What one client saw.
#[derive(Default)]
struct ClientLog {
    arrivals: Vec<Arrival>,
    /// Snapshots after the first: the session fell behind (or Redis resubscribed).
    resyncs: u64,
    /// The session ended before the run did.
    dropped: bool,
}

#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    plate: Option<Cow<'a, str>>,
    #[serde(default)]
    lon: Option<f64>,
    #[serde(default)]
    lat: Option<f64>,
}

fn plate(v: usize) -> String {
    format!("豫L{v:05}")
}

/// The fixes of the run: fix i moves vehicle `i % vehicles` about 10 m east of its last.
fn plan(args: &LiveArgs, rng: &mut StdRng) -> (Vec<Fix>, Vec<(f64, f64)>) {
    let vehicles = args.vehicles.clamp(1, usize::from(u16::MAX));
    let origins: Vec<(f64, f64)> = (0..vehicles)
        .map(|_| {
            (
                (rng.random_range(113.55..113.75) * 1e4_f64).round() / 1e4,
                (rng.random_range(34.70..34.80) * 1e4_f64).round() / 1e4,
            )
        })
        .collect();
    let total = f64::from(args.rate) * args.duration_s;
    let mut fixes = Vec::new();
    let mut i = 0usize;
    while f64::from(u32::try_from(i).unwrap_or(u32::MAX)) < total {
        let v = i % vehicles;
        let step = f64::from(u32::try_from(i / vehicles + 1).unwrap_or(u32::MAX));
        let (lon, lat) = origins.get(v).copied().unwrap_or_default();
        fixes.push(Fix {
            vehicle: u16::try_from(v).unwrap_or(u16::MAX),
            lon: ((lon + step * 0.0001) * 1e6).round() / 1e6,
            lat,
        });
        i += 1;
    }
    (fixes, origins)
}

/// A fix of the vehicle now (to the microsecond).
fn gps(plate: &str, lon: f64, lat: f64) -> anyhow::Result<Event> {
    let now = Utc::now();
    let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    Ok(Event::Gps(GpsFix {
        id: uuid::Uuid::new_v4(),
        occurred_at: now.fixed_offset(),
        vehicle_plate: wire::id(plate)?,
        point: GeoPoint::new(lon, lat)?,
        speed_kmh: Some(18.0),
        heading: Some(90.0),
        alarms: Vec::new(),
    }))
}

/// Posts one batch; true on a 202 with every event accepted.
async fn post(client: &Client, key: &str, events: &[Event]) -> bool {
    client
        .post_events(key, events)
        .await
        .is_ok_and(|a| a.accepted == events.len())
}

/// One client: connect, wait for the snapshot (then report ready), note every vehicle
/// message until `stop`.
async fn client(
    url: String,
    hello: Arc<String>,
    plates: Arc<HashMap<String, u16>>,
    connecting: Arc<Semaphore>,
    ready: Arc<AtomicUsize>,
    received: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<ClientLog> {
    let mut permit = Some(connecting.acquire_owned().await.context("semaphore")?);
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .context("WebSocket connect")?;
    ws.send(Message::text(hello.as_str()))
        .await
        .context("sending the token")?;
    let mut log = ClientLog::default();
    let mut snapshots = 0u64;
    let mut arrivals = Vec::new();
    loop {
        let msg = tokio::select! {
            m = ws.next() => m,
            _ = stop.changed() => break,
        };
        let text = match msg {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_)) | Err(_)) | None => {
                log.dropped = true;
                break;
            }
            Some(Ok(_)) => continue,
        };
        let at = Instant::now();
        let Ok(m) = serde_json::from_str::<Incoming<'_>>(text.as_str()) else {
            continue;
        };
        match m.kind.as_ref() {
            "snapshot" => {
                snapshots += 1;
                if snapshots == 1 {
                    // The handshake and the snapshot are done: let the next client connect.
                    permit = None;
                    ready.fetch_add(1, Ordering::Relaxed);
                }
            }
            "vehicle" => {
                let vehicle = m.plate.as_deref().and_then(|p| plates.get(p)).copied();
                if let (Some(vehicle), Some(lon), Some(lat)) = (vehicle, m.lon, m.lat) {
                    arrivals.push(Arrival {
                        vehicle,
                        lon: lon.to_bits(),
                        lat: lat.to_bits(),
                        at,
                    });
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
    drop(permit);
    let _ = ws.close(None).await;
    log.resyncs = snapshots.saturating_sub(1);
    log.arrivals = arrivals;
    Ok(log)
}

/// Runs the clients and the fixes, prints one line of JSON.
pub async fn run(args: LiveArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.rate > 0 && args.rate <= 10_000, "--rate is 1 to 10000");
    anyhow::ensure!(args.clients > 0, "--clients must be above 0");
    anyhow::ensure!(
        seconds(args.duration_s, "--duration-s")? > Duration::ZERO,
        "--duration-s must be above 0"
    );
    let grace = seconds(args.grace_s, "--grace-s")?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let (fixes, origins) = plan(&args, &mut rng);
    let plates: Arc<HashMap<String, u16>> = Arc::new(
        (0..origins.len())
            .map(|v| (plate(v), u16::try_from(v).unwrap_or(u16::MAX)))
            .collect(),
    );
    let api = args.api.trim_end_matches('/').to_owned();
    // No token in the URL: each client sends it as its first message.
    let ws_url = format!("{}/api/v1/live", api.replacen("http", "ws", 1));
    let hello = Arc::new(serde_json::json!({ "token": args.token }).to_string());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")?;
    let http = Client::with_http(http, &api);

    // Every vehicle at its origin first, so that the snapshots carry them and the measured
    // fixes are moves of known vehicles.
    let first = origins
        .iter()
        .enumerate()
        .map(|(v, (lon, lat))| gps(&plate(v), *lon, *lat))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        post(&http, &args.device_key, &first).await,
        "posting the vehicles' first positions failed"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Connect the clients.
    let connecting = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let ready = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let connect_started = Instant::now();
    let mut clients: JoinSet<anyhow::Result<ClientLog>> = JoinSet::new();
    for _ in 0..args.clients {
        clients.spawn(client(
            ws_url.clone(),
            Arc::clone(&hello),
            Arc::clone(&plates),
            Arc::clone(&connecting),
            Arc::clone(&ready),
            Arc::clone(&received),
            stop_rx.clone(),
        ));
    }
    let mut failed_early = 0usize;
    let connect_deadline = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::Relaxed) + failed_early < args.clients
        && Instant::now() < connect_deadline
    {
        while let Some(done) = clients.try_join_next() {
            // A client that ended before the run: its connection failed.
            let _ = done;
            failed_early += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_s = connect_started.elapsed();
    let connected = ready.load(Ordering::Relaxed);
    // Let the sessions settle (their snapshot sent, their hub receivers waiting).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received_before = received.load(Ordering::Relaxed);

    // Post the fixes open loop.
    let period = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let start = Instant::now() + Duration::from_millis(20);
    let mut posts: JoinSet<(usize, Instant, bool, Duration)> = JoinSet::new();
    let fixes = Arc::new(fixes);
    for i in 0..fixes.len() {
        let due = start + period.mul_f64(f64::from(u32::try_from(i).unwrap_or(u32::MAX)));
        tokio::time::sleep_until(due).await;
        let (http, key, fixes) = (http.clone(), args.device_key.clone(), Arc::clone(&fixes));
        posts.spawn(async move {
            let Some(fix) = fixes.get(i) else {
                return (i, Instant::now(), false, Duration::ZERO);
            };
            let Ok(event) = gps(&plate(usize::from(fix.vehicle)), fix.lon, fix.lat) else {
                return (i, Instant::now(), false, Duration::ZERO);
            };
            let sent = Instant::now();
            let ok = post(&http, &key, &[event]).await;
            (i, sent, ok, sent.elapsed())
        });
    }
    let posting_s = start.elapsed();
    let mut sent_at: Vec<Option<Instant>> = vec![None; fixes.len()];
    let mut post_latencies = Vec::new();
    let mut post_failures = 0usize;
    while let Some(done) = posts.join_next().await {
        let (i, at, ok, took) = done.context("a post task failed")?;
        post_latencies.push(took);
        if ok {
            if let Some(slot) = sent_at.get_mut(i) {
                *slot = Some(at);
            }
        } else {
            post_failures += 1;
        }
    }
    let fixes_ok = sent_at.iter().filter(|s| s.is_some()).count();
    let expected = u64::try_from(fixes_ok.saturating_mul(connected)).unwrap_or(u64::MAX);
    let grace_end = Instant::now() + grace;
    while received.load(Ordering::Relaxed) - received_before < expected
        && Instant::now() < grace_end
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);

    // Match arrivals to fixes.
    let index: HashMap<(u16, u64, u64), usize> = fixes
        .iter()
        .enumerate()
        .map(|(i, f)| ((f.vehicle, f.lon.to_bits(), f.lat.to_bits()), i))
        .collect();
    let mut latencies = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut resyncs = 0u64;
    let mut dropped = 0usize;
    let mut failed = failed_early;
    let mut unmatched = 0u64;
    let mut duplicates = 0u64;
    // Per fix, its first and last arrival over the clients: the pipeline's share and the
    // fan-out's.
    let mut first: Vec<Option<Duration>> = vec![None; fixes.len()];
    let mut last: Vec<Option<Duration>> = vec![None; fixes.len()];
    while let Some(done) = clients.join_next().await {
        let log = match done {
            Ok(Ok(log)) => log,
            Ok(Err(_)) | Err(_) => {
                failed += 1;
                continue;
            }
        };
        resyncs += log.resyncs;
        dropped += usize::from(log.dropped);
        let mut seen = vec![false; fixes.len()];
        for a in log.arrivals {
            let Some(&i) = index.get(&(a.vehicle, a.lon, a.lat)) else {
                unmatched += 1;
                continue;
            };
            let (Some(flag), Some(Some(sent))) = (seen.get_mut(i), sent_at.get(i)) else {
                continue;
            };
            if *flag {
                duplicates += 1;
                continue;
            }
            *flag = true;
            let latency = a.at.saturating_duration_since(*sent);
            latencies.push(latency);
            if let (Some(lo), Some(hi)) = (first.get_mut(i), last.get_mut(i)) {
                *lo = Some(lo.map_or(latency, |d| d.min(latency)));
                *hi = Some(hi.map_or(latency, |d| d.max(latency)));
            }
        }
    }
    latencies.sort_unstable();
    post_latencies.sort_unstable();
    let mut firsts: Vec<Duration> = first.iter().flatten().copied().collect();
    let mut spreads: Vec<Duration> = first
        .iter()
        .zip(&last)
        .filter_map(|(lo, hi)| Some(hi.as_ref()?.saturating_sub(*lo.as_ref()?)))
        .collect();
    firsts.sort_unstable();
    spreads.sort_unstable();
    let matched = u64::try_from(latencies.len()).unwrap_or(u64::MAX);
    let summary = json!({
        "clients": args.clients,
        "connected": connected,
        "failed_clients": failed,
        "dropped_sessions": dropped,
        "connect_s": (connect_s.as_secs_f64() * 1000.0).round() / 1000.0,
        "rate": args.rate,
        "posting_s": (posting_s.as_secs_f64() * 1000.0).round() / 1000.0,
        "fixes": fixes.len(),
        "fixes_ok": fixes_ok,
        "post_failures": post_failures,
        "pairs_expected": expected,
        "pairs_received": matched,
        "missed": expected.saturating_sub(matched),
        "resyncs": resyncs,
        "unmatched_messages": unmatched,
        "duplicate_messages": duplicates,
        "p50_ms": millis(percentile(&latencies, 500)),
        "p90_ms": millis(percentile(&latencies, 900)),
        "p99_ms": millis(percentile(&latencies, 990)),
        "p999_ms": millis(percentile(&latencies, 999)),
        "max_ms": millis(latencies.last().copied().unwrap_or_default()),
        "first_client_p50_ms": millis(percentile(&firsts, 500)),
        "first_client_p99_ms": millis(percentile(&firsts, 990)),
        "spread_p50_ms": millis(percentile(&spreads, 500)),
        "spread_p99_ms": millis(percentile(&spreads, 990)),
        "post_p50_ms": millis(percentile(&post_latencies, 500)),
        "post_p99_ms": millis(percentile(&post_latencies, 990)),
    });
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_are_told_apart_by_plate_and_place() {
        let args = LiveArgs {
            api: String::new(),
            token: String::new(),
            device_key: String::new(),
            clients: 1,
            connect_concurrency: 1,
            rate: 50,
            duration_s: 30.0,
            vehicles: 100,
            grace_s: 1.0,
            seed: 5,
        };
        let (fixes, origins) = plan(&args, &mut StdRng::seed_from_u64(5));
        assert_eq!(fixes.len(), 1500);
        assert_eq!(origins.len(), 100);
        let keys: std::collections::HashSet<_> = fixes
            .iter()
            .map(|f| (f.vehicle, f.lon.to_bits(), f.lat.to_bits()))
            .collect();
        assert_eq!(keys.len(), fixes.len());
    }
}
