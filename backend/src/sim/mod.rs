//! The city simulator: vehicles driving around Zhengzhou, reporting GPS fixes to a running
//! server through `POST /api/v1/events`, exactly as devices would (batches, retries with the
//! same event ids after a failure). Deterministic from `--seed`, except for wall-clock times.

pub mod city;
pub mod fence_bench;
pub mod ingest_load;
pub mod live_load;
pub mod load;
pub mod vehicle;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use city::City;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shared::events::IngestResponse;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vehicle::SimVehicle;

/// `cylwatch simulate` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// Number of vehicles.
    #[arg(long, default_value_t = 60)]
    pub vehicles: usize,
    /// Seconds between two fixes of a vehicle.
    #[arg(long, default_value_t = 2.0)]
    pub interval_s: f64,
    /// Random seed: the same seed gives the same plates, depots and routes.
    #[arg(long, default_value_t = 20_261_122)]
    pub seed: u64,
    /// District boundaries (GeoJSON) to drive in.
    #[arg(
        long,
        default_value = "assets/basemap/zhengzhou_districts.wgs84.geojson"
    )]
    pub basemap: PathBuf,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// The device key to send events with. Without it the simulator enrols itself: it signs
    /// in as the administrator, registers its enterprise and a gateway device.
    #[arg(long, env = "CYLWATCH_SIM_DEVICE_KEY", hide_env_values = true)]
    pub device_key: Option<String>,
    /// The administrator to enrol with.
    #[arg(long, env = "CYLWATCH_ADMIN_USER")]
    pub admin_user: Option<String>,
    #[arg(long, env = "CYLWATCH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// The enterprise the simulated fleet belongs to (created when missing).
    #[arg(long, default_value = "SIM")]
    pub enterprise: String,
}

/// Batches not yet acknowledged are kept (and resent with the same ids) up to this many.
const MAX_BACKLOG: usize = 200;

/// Runs the simulation until `duration_s` passes or the process is interrupted.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.interval_s > 0.05, "--interval-s must be above 0.05");
    let city = City::load(&args.basemap)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut fleet = make_fleet(&city, args.vehicles, &mut rng);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let api = args.api.trim_end_matches('/');
    let key = match &args.device_key {
        Some(key) => key.clone(),
        None => enrol(&client, api, &args).await?,
    };
    let url = format!("{api}/api/v1/events");
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(args.interval_s));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut backlog: VecDeque<Value> = VecDeque::new();
    let mut report = Report::default();
    let mut last_report = Instant::now();
    tracing::info!(vehicles = fleet.len(), url, "simulating");
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        if args
            .duration_s
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d)
        {
            break;
        }
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, false);
        let events: Vec<Value> = fleet
            .iter_mut()
            .map(|v| {
                v.step(args.interval_s, &city, &mut rng);
                gps_event(v, &now)
            })
            .collect();
        backlog.push_back(json!({ "events": events }));
        while backlog.len() > MAX_BACKLOG {
            backlog.pop_front();
            report.dropped_batches += 1;
        }
        // Oldest first; stop at the first failure and retry next tick with the same ids.
        while let Some(batch) = backlog.front() {
            match send(&client, &url, &key, batch).await {
                Ok(answer) => {
                    report.add(&answer);
                    backlog.pop_front();
                }
                Err(e) => {
                    report.failed_requests += 1;
                    tracing::warn!(error = %format!("{e:#}"), backlog = backlog.len(), "send failed; will retry");
                    break;
                }
            }
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            tracing::info!(?report, "sent so far");
            last_report = Instant::now();
        }
    }
    tracing::info!(?report, "simulation finished");
    Ok(())
}

fn make_fleet(city: &City, n: usize, rng: &mut StdRng) -> Vec<SimVehicle> {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|i| {
            let tail: String = (0..4)
                .map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())]))
                .collect();
            // Plates unique by construction: the index is part of them.
            let plate = format!("豫A{}{:02}", tail, i % 100);
            let depot = city.random_point_in(rng.random_range(0..city.districts.len()), rng);
            SimVehicle::new(format!("{plate}{}", i / 100), depot)
        })
        .collect()
}

fn gps_event(v: &SimVehicle, now: &str) -> Value {
    // Paths follow the seed; ids do not: a second run on the same database must not collide
    // with the first run's events (they would count as duplicates and change nothing).
    let id = uuid::Uuid::new_v4();
    json!({
        "id": id, "kind": "gps", "occurred_at": now, "vehicle_plate": v.plate,
        "lon": (v.lon * 1e6).round() / 1e6, "lat": (v.lat * 1e6).round() / 1e6,
        "speed_kmh": (v.speed_kmh * 10.0).round() / 10.0, "heading": v.heading.round() % 360.0,
    })
}

/// Signs in as the administrator, makes sure the fleet's enterprise exists and registers a
/// gateway device for it (unbound: it reports for every vehicle of the enterprise); returns
/// the device's key.
async fn enrol(client: &reqwest::Client, api: &str, args: &SimArgs) -> anyhow::Result<String> {
    let (Some(user), Some(password)) = (&args.admin_user, &args.admin_password) else {
        anyhow::bail!("give --device-key, or --admin-user and --admin-password to enrol");
    };
    let login: Value = client
        .post(format!("{api}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .context("signing in")?
        .error_for_status()
        .context("signing in as the administrator")?
        .json()
        .await
        .context("reading the login answer")?;
    let token = login["token"]
        .as_str()
        .context("no token in the login answer")?;
    let enterprise = json!({"code": args.enterprise, "name": "模拟燃气有限公司",
        "credit_code": "91410100SIMULATED", "district_code": "410105", "address": "郑州市金水区",
        "filling_licence_no": "SIM-F-001", "filling_licence_expires": "2030-12-31",
        "gas_licence_no": "SIM-G-001", "gas_licence_expires": "2030-12-31", "media": ["LPG"]});
    let response = client
        .post(format!("{api}/api/v1/enterprises"))
        .bearer_auth(token)
        .json(&enterprise)
        .send()
        .await
        .context("registering the enterprise")?;
    anyhow::ensure!(
        response.status().is_success() || response.status().as_u16() == 409,
        "registering the enterprise: {}",
        response.status()
    );
    let device_id = format!(
        "sim-gateway-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let device: Value = client
        .post(format!("{api}/api/v1/devices"))
        .bearer_auth(token)
        .json(&json!({"device_id": device_id, "kind": "gps", "enterprise_code": args.enterprise}))
        .send()
        .await
        .context("registering the gateway device")?
        .error_for_status()
        .context("registering the gateway device")?
        .json()
        .await
        .context("reading the device key")?;
    let key = device["key"]
        .as_str()
        .context("no key in the device answer")?;
    tracing::info!(device_id, enterprise = args.enterprise, "enrolled");
    Ok(key.to_owned())
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    batch: &Value,
) -> anyhow::Result<IngestResponse> {
    let response = client
        .post(url)
        .header("x-device-key", key)
        .json(batch)
        .send()
        .await
        .context("POST events")?;
    let status = response.status();
    anyhow::ensure!(
        status.as_u16() == 202,
        "server answered {status}: {}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.context("reading the ingest answer")
}

/// What the simulator sent and what the server acknowledged.
#[derive(Debug, Default)]
struct Report {
    accepted: usize,
    duplicates: usize,
    rejected: usize,
    failed_requests: usize,
    dropped_batches: usize,
}

impl Report {
    fn add(&mut self, answer: &IngestResponse) {
        self.accepted += answer.accepted;
        self.duplicates += answer.duplicates;
        self.rejected += answer.rejected.len();
    }
}
