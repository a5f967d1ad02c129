//! The simulated city (issue 8): a synthetic Zhengzhou — enterprises, stations, customers,
//! staff, vehicles and cylinders with a realistic compliance mix — that drives a running
//! server through its public API exactly as devices would, deterministic from `--seed`
//! (except event ids and wall-clock times). It runs at real time (the demo) or faster, up to
//! as fast as possible (load), injects one anomaly of each alert kind in turn, and keeps a
//! ground-truth ledger of what it did (`--ledger`), which the end-to-end test compares with
//! the platform's alerts and inventory.

pub mod anomalies;
pub mod city;
pub mod cycle;
pub mod flaws;
pub mod http;
pub mod incident;
pub mod ingest_load;
pub mod jt808;
pub mod jt808_load;
pub mod ledger;
pub mod live_load;
pub mod load;
mod measure;
pub mod mqtt;
pub mod recall_load;
mod stops;
pub mod trips;
pub mod wire;
pub mod world;

use anyhow::Context;
use chrono::Utc;
use city::City;
use cycle::{CycleOptions, Device, Phase, Sim, Veh};
use http::Api;
use ledger::Ledger;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::auth::{DeviceKind, NewDevice};
use shared::cylinder::Custody;
use shared::events::CheckStage;
use shared::registry::{GeofenceKind, NewGeofence, NewVehicle};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wire::At;
use world::{Fitness, Sizes, World};

/// `cylwatch-sim simulate` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub api: String,
    /// Random seed: the same seed gives the same city, routes and anomalies.
    #[arg(long, default_value_t = 20_261_122)]
    pub seed: u64,
    /// Gas companies (one of them trades N2O; about one in eight let a licence expire).
    #[arg(long, default_value_t = 20)]
    pub enterprises: usize,
    /// Stations: one filling station per company, the rest distribution points and warehouses.
    #[arg(long, default_value_t = 100)]
    pub stations: usize,
    /// Delivery vehicles.
    #[arg(long, default_value_t = 500)]
    pub vehicles: usize,
    /// Customers (households, restaurants, industrial users), real-name, in the districts.
    #[arg(long, default_value_t = 50_000)]
    pub customers: usize,
    /// Cylinders (up to 3 million).
    #[arg(long, default_value_t = 100_000)]
    pub cylinders: usize,
    /// Share of the fit cylinders already at customers when the run starts (their delivery
    /// is uploaded as history dated 1–20 days back).
    #[arg(long, default_value_t = 0.4)]
    pub at_customers: f64,
    /// Share of the fit cylinders in stock that start the run full (filled, checked and
    /// stored 2–6 hours earlier), so that trucks leave at once.
    #[arg(long, default_value_t = 0.15)]
    pub full_in_stock: f64,
    /// Seconds between two GPS fixes of a vehicle (one tick of the simulation).
    #[arg(long, alias = "interval-s", default_value_t = 5.0)]
    pub tick_s: f64,
    /// Simulated seconds per wall-clock second: 1 is real time (the demo); 0 is as fast as
    /// possible (load). Above 1 needs --duration-s: the run then ends at the present.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Stop after this many simulated seconds (default: run until interrupted).
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// At most this many events per wall-clock second (0: no limit).
    #[arg(long, default_value_t = 0.0)]
    pub max_rate: f64,
    /// One injected anomaly every this many simulated seconds, the alert kinds in turn
    /// (0: none).
    #[arg(long, default_value_t = 20.0)]
    pub anomaly_every_s: f64,
    /// How late an injected late filling record is, in seconds (must exceed the server's
    /// `late_filling_s` plus, faster than real time, the run's lag behind the present).
    #[arg(long, default_value_t = 300.0)]
    pub late_record_s: f64,
    /// Share of ticks a phone goes out of coverage (buffers, then uploads out of order).
    #[arg(long, default_value_t = 0.01)]
    pub offline_share: f64,
    /// Share of batches sent twice with the same ids (an answer lost on the way).
    #[arg(long, default_value_t = 0.02)]
    pub resend_share: f64,
    /// How devices report, per kind, comma-separated: `http` (everything over `POST
    /// /api/v1/events`), `jt808` (each vehicle its own JT/T 808 terminal, over the server's
    /// gateway at `--jt808-addr`), `mqtt` (the readers — handheld scanners and the inspection
    /// body's reader — publish over the broker at `--mqtt-url`). `jt808,mqtt`: both.
    #[arg(long, default_value = "http", value_delimiter = ',', value_parser = ["http", "jt808", "mqtt"])]
    pub transport: Vec<String>,
    /// The MQTT broker (`mqtt_url` of the server), for `--transport mqtt`.
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    pub mqtt_url: String,
    /// host:port of the server's JT/T 808 gateway (`jt808_addr`), for `--transport jt808`.
    #[arg(long, default_value = "127.0.0.1:7808")]
    pub jt808_addr: String,
    /// Cylinders set aside per anomaly kind that needs one (unfit ones at customers, fit
    /// ones in stock) at the start; a kind whose reserve is used up buys new cylinders as it
    /// goes (default: a two-hundredth of the cylinders, 4 to 500).
    #[arg(long)]
    pub reserve: Option<usize>,
    /// Open one incident (a leak reported by phone at a customer, by a duty officer the
    /// simulator registers) after this many simulated seconds (issue 22; default: none).
    #[arg(long)]
    pub incident_after_s: Option<f64>,
    /// Write the ground-truth ledger and the report here (JSON) at the end.
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// District boundaries (GeoJSON) to place the city in.
    #[arg(
        long,
        default_value = "assets/basemap/zhengzhou_districts.wgs84.geojson"
    )]
    pub basemap: PathBuf,
    /// The administrator who registers the city and its devices.
    #[arg(long, env = "CYLWATCH_ADMIN_USER")]
    pub admin_user: Option<String>,
    #[arg(long, env = "CYLWATCH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

/// Patrol vehicles with their own tracker and corridor (for `device_silent`, `corridor_exit`).
const PATROLS: usize = 4;

/// Runs the simulation until `duration_s` (simulated) passes or the process is interrupted.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.tick_s >= 0.5, "--tick-s must be at least 0.5");
    anyhow::ensure!(
        args.speed <= 1.0 || args.duration_s.is_some() || args.speed == 0.0,
        "faster than real time needs --duration-s"
    );
    anyhow::ensure!(
        args.speed != 0.0 || args.duration_s.is_some(),
        "--speed 0 needs --duration-s"
    );
    let (Some(user), Some(password)) = (&args.admin_user, &args.admin_password) else {
        anyhow::bail!("give --admin-user and --admin-password (or CYLWATCH_ADMIN_*)");
    };
    let city = City::load(&args.basemap)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let api = Api::login(&args.api, user, password).await?;
    // Sim time 0: now at real time; earlier when faster, so the run ends at the present
    // (the platform refuses records from the future).
    let d = args.duration_s.unwrap_or(0.0);
    let lead = if args.speed == 0.0 {
        d
    } else if args.speed > 1.0 {
        d - d / args.speed
    } else {
        0.0
    };
    let t0 = Utc::now() - cycle::signed_secs(lead);
    let today = shared::time::to_beijing(Utc::now()).date_naive();
    let sizes = Sizes {
        enterprises: args.enterprises,
        stations: args.stations,
        vehicles: args.vehicles,
        customers: args.customers,
        cylinders: args.cylinders.min(3_000_000),
    };
    let setup = Instant::now();
    let mut w = World::generate(&city, sizes, today, &mut rng);
    let first = &w.enterprises[0].code;
    if api.has_enterprise(first).await? {
        anyhow::bail!(
            "this database holds a simulated city already (enterprise {first}); its state is \
             not this run's: start on a fresh database (scripts/demo makes one)"
        );
    }
    let per_kind = args
        .reserve
        .unwrap_or((w.cylinders.len() / 200).clamp(4, 500));
    reserve(&mut w, per_kind, &mut rng);
    w.register(&api, today, &mut rng).await?;
    tracing::info!(
        enterprises = w.enterprises.len(),
        stations = w.stations.len(),
        customers = w.customers.len(),
        vehicles = w.vehicles.len(),
        cylinders = w.cylinders.len(),
        seconds = setup.elapsed().as_secs_f64(),
        "city registered"
    );
    let mut sim = enrol(w, city, rng, api, &args, t0).await?;
    backfill(&mut sim, args.at_customers, args.full_in_stock).await;
    // The first pre-fill checks must not queue behind the history in the pipeline.
    if !sim.api.caught_up(Duration::from_secs(300)).await {
        tracing::warn!("the platform has not applied the history after 5 minutes; going on");
    }
    tracing::info!(
        seconds = setup.elapsed().as_secs_f64(),
        "history uploaded and applied; the day begins"
    );
    let started = Instant::now();
    let mut next_anomaly = args.anomaly_every_s / 2.0;
    let mut turn = 0;
    let mut last_log = Instant::now();
    let mut sent_before = 0;
    let mut incident_due = args.incident_after_s;
    loop {
        if args.duration_s.is_some_and(|d| sim.t >= d) {
            break;
        }
        if incident_due.is_some_and(|at| sim.t >= at) {
            incident_due = None;
            // What the incident is about is in the platform before the call comes in.
            sim.flush(true).await;
            match incident::inject(&mut sim, &args.api).await {
                Ok(Some(id)) => sim.ledger.incidents.push(id.to_string()),
                Ok(None) => tracing::warn!("no customer holds a cylinder; no incident injected"),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "incident not injected"),
            }
        }
        if args.anomaly_every_s > 0.0 {
            while sim.t >= next_anomaly {
                let kind = anomalies::KINDS[turn % anomalies::KINDS.len()];
                if !sim.inject(kind).await {
                    sim.ledger.skip(kind);
                }
                turn += 1;
                next_anomaly += args.anomaly_every_s;
            }
        }
        let tick = Instant::now();
        sim.tick().await;
        // Pace: real time (or `speed` times it), and at most `max_rate` events a second.
        let mut wait = Duration::ZERO;
        if args.speed > 0.0 {
            let due = Duration::from_secs_f64(sim.t / args.speed);
            wait = due.saturating_sub(started.elapsed());
        }
        if args.max_rate > 0.0 {
            let sent: u64 = sim
                .api
                .report
                .lock()
                .map(|r| r.sent.values().sum())
                .unwrap_or(0);
            let need =
                Duration::from_secs_f64(cycle::count_f64(sent - sent_before) / args.max_rate);
            wait = wait.max(need.saturating_sub(tick.elapsed()));
            sent_before = sent;
        }
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        if last_log.elapsed() >= Duration::from_secs(10) {
            if let Ok(r) = sim.api.report.lock() {
                tracing::info!(sim_s = sim.t, sent = ?r.sent, accepted = r.accepted,
                    duplicates = r.duplicates, rejected = r.rejected,
                    refused = r.fillings_refused, "sent so far");
            }
            last_log = Instant::now();
        }
    }
    sim.flush(true).await;
    sim.ledger.inventory = sim.inventory();
    sim.ledger.station_full = sim.station_stock();
    if sim.w.cylinders.len() <= 100_000 {
        sim.ledger.custody = sim.custody();
    }
    let wall = started.elapsed().as_secs_f64();
    let report = {
        let r = sim
            .api
            .report
            .lock()
            .map_err(|_| anyhow::anyhow!("report poisoned"))?;
        let total: u64 = r.sent.values().sum();
        json!({"simulated_s": sim.t, "wall_s": wall, "events_per_s": cycle::count_f64(total) / wall.max(1e-3),
               "report": &*r})
    };
    println!("{report}");
    if let Some(path) = &args.ledger {
        let out = json!({"run": report, "ledger": sim.ledger,
                         "started_at": sim.at(0.0), "ended_at": sim.at(sim.t)});
        std::fs::write(path, serde_json::to_vec_pretty(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Sets `per_kind` cylinders aside for each anomaly that needs one: unfit ones placed at
/// customers (to be collected), fit ones kept in stock (a late record, a long-lost delivery;
/// twice `per_kind`). When a reserve is used up the anomaly buys its cylinder
/// (`Sim::reserved_or_new`).
fn reserve(w: &mut World, per_kind: usize, rng: &mut StdRng) {
    let mut taken = vec![false; w.customers.len()];
    for (fitness, count) in [
        (Fitness::Overdue, per_kind),
        (Fitness::LifeExpired, per_kind),
        (Fitness::Scrapped, per_kind),
        (Fitness::Ok, per_kind * 2),
        (Fitness::Unregistered, per_kind),
    ] {
        let mut n = 0;
        for c in 0..w.cylinders.len() {
            if n >= count {
                break;
            }
            let e = w.cylinders[c].enterprise;
            let ent = &w.enterprises[e];
            if w.cylinders[c].fitness != fitness
                || w.cylinders[c].reserved
                || !ent.licensed
                || ent.medium != "LPG"
            {
                continue;
            }
            w.cylinders[c].reserved = true;
            n += 1;
            if matches!(fitness, Fitness::Ok | Fitness::Unregistered) {
                continue;
            }
            // A customer of the owner holding nothing else.
            let free: Vec<usize> = (0..w.customers.len())
                .filter(|&k| w.customers[k].enterprise == e && !taken[k])
                .collect();
            if free.is_empty() {
                continue;
            }
            let k = free[rng.random_range(0..free.len())];
            taken[k] = true;
            w.cylinders[c].customer = Some(k);
        }
    }
}

/// Registers the devices and the patrol vehicles; the simulation at sim time 0.
async fn enrol(
    w: World,
    city: City,
    mut rng: StdRng,
    api: Api,
    args: &SimArgs,
    t0: chrono::DateTime<Utc>,
) -> anyhow::Result<Sim> {
    let run = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut devices = Vec::new();
    let mut add = |id: String, key: String, phone: bool| {
        devices.push(Device {
            id,
            key,
            queue: Vec::new(),
            offline_until: 0.0,
            may_go_offline: phone,
            silent: false,
            silent_since: 0.0,
            terminal: None,
            mqtt: None,
        });
        devices.len() - 1
    };
    let (mut gateway, mut phone, mut controller) = (Vec::new(), Vec::new(), Vec::new());
    for e in &w.enterprises {
        let station = &w.stations[e.filling_station].code;
        for (role, kind, bound, list) in [
            ("gw", DeviceKind::Gps, None, &mut gateway),
            ("ph", DeviceKind::Phone, None, &mut phone),
            (
                "ctl",
                DeviceKind::Controller,
                Some(station),
                &mut controller,
            ),
        ] {
            let id = format!("sim-{run}-{}-{role}", e.code);
            let device = NewDevice {
                device_id: wire::id(&id)?,
                kind,
                enterprise_code: wire::id(&e.code)?,
                vehicle_plate: None,
                station_code: bound.map(|s| wire::id(s)).transpose()?,
                terminal_no: None,
            };
            let key = api.device(&device).await?;
            list.push(add(id, key, role == "ph"));
        }
    }
    let id = format!("sim-{run}-{}", world::INSPECTION_BODY);
    let device = NewDevice {
        device_id: wire::id(&id)?,
        kind: DeviceKind::Reader,
        enterprise_code: wire::id(world::INSPECTION_BODY)?,
        vehicle_plate: None,
        station_code: None,
        terminal_no: None,
    };
    let key = api.device(&device).await?;
    let inspector = add(id, key, false);
    let mut vehicles = Vec::new();
    // With `--transport jt808`, each vehicle its own terminal (numbers unique to this run).
    let mut terminals = Vec::new();
    let run_no = rng.random_range(100_000u32..1_000_000);
    for (i, v) in w.vehicles.iter().enumerate() {
        let e = v.enterprise;
        let home = w.stations[w.enterprises[e].filling_station].at;
        let n = w.vehicles[..i].iter().filter(|x| x.enterprise == e).count();
        let gps_device = if args.transport.iter().any(|t| t == "jt808") {
            let id = format!("sim-{run}-t{i}");
            let terminal_no = format!("{run_no}{i:06}");
            let device = NewDevice {
                device_id: wire::id(&id)?,
                kind: DeviceKind::Jt808,
                enterprise_code: wire::id(&w.enterprises[e].code)?,
                vehicle_plate: Some(wire::id(&v.plate)?),
                station_code: None,
                terminal_no: Some(terminal_no.clone()),
            };
            let key = api.device(&device).await?;
            let d = add(id, key, false);
            terminals.push((d, terminal_no));
            d
        } else {
            gateway[e]
        };
        vehicles.push(veh(
            i,
            e,
            home,
            v.plate.clone(),
            w.enterprises[e].drivers[n % w.enterprises[e].drivers.len()].clone(),
            gps_device,
            // The first trips leave within the first 45 s.
            rng.random_range(0.0..45.0),
        ));
    }
    // Patrol vehicles of licensed LPG companies, each with its tracker and corridor.
    let owners: Vec<usize> = (0..w.enterprises.len())
        .filter(|&e| w.enterprises[e].licensed && w.enterprises[e].medium == "LPG")
        .collect();
    for p in 0..PATROLS.min(owners.len() * PATROLS) {
        let e = owners[p % owners.len()];
        let ent = &w.enterprises[e];
        let plate = format!("豫A{}P{:02}", &ent.code[1..], p + 1);
        let device_id = format!("sim-{run}-trk-{p}");
        let home = w.stations[ent.filling_station].at;
        let vehicle = NewVehicle {
            plate: wire::id(&plate)?,
            enterprise_code: wire::id(&ent.code)?,
            gps_device_id: None,
            reader_device_id: None,
            transport_permit_no: None,
            transport_permit_expires: None,
        };
        api.create("/api/v1/vehicles", &vehicle).await?;
        let device = NewDevice {
            device_id: wire::id(&device_id)?,
            kind: DeviceKind::Gps,
            enterprise_code: wire::id(&ent.code)?,
            vehicle_plate: Some(wire::id(&plate)?),
            station_code: None,
            terminal_no: None,
        };
        let key = api.device(&device).await?;
        let d = add(device_id, key, false);
        let (lo, hi) = (
            (home.0 - 0.02, home.1 - 0.015),
            (home.0 + 0.02, home.1 + 0.015),
        );
        let ring = [lo, (hi.0, lo.1), hi, (lo.0, hi.1), lo];
        let coords: Vec<[f64; 2]> = ring.iter().map(|p| [p.0, p.1]).collect();
        let corridor = NewGeofence {
            name: wire::id(&format!("{plate}运输走廊"))?,
            kind: GeofenceKind::Corridor,
            // GeoJSON, which the contract carries as it is.
            geometry: Some(json!({"type": "Polygon", "coordinates": [coords]})),
            center: None,
            radius_m: None,
            vehicle_plates: vec![wire::id(&plate)?],
            enterprise_code: None,
        };
        api.create("/api/v1/geofences", &corridor).await?;
        let driver = ent.drivers[0].clone();
        let mut v = veh(p, e, home, plate, driver, d, rng.random_range(0.0..600.0));
        v.corridor = Some((lo, hi));
        vehicles.push(v);
    }
    if args.transport.iter().any(|t| t == "mqtt") {
        for &d in phone.iter().chain(std::iter::once(&inspector)) {
            if let Some(dev) = devices.get_mut(d) {
                let link = mqtt::Link::connect(&args.mqtt_url, &dev.id, &dev.key)?;
                dev.mqtt = Some(std::sync::Arc::new(tokio::sync::Mutex::new(link)));
            }
        }
    }
    for (d, terminal_no) in terminals {
        if let Some(dev) = devices.get_mut(d) {
            dev.terminal = Some(std::sync::Arc::new(tokio::sync::Mutex::new(
                jt808::Link::new(&args.jt808_addr, &terminal_no),
            )));
        }
    }
    let n_st = w.stations.len();
    let mut empties = vec![VecDeque::new(); n_st];
    for (i, c) in w.cylinders.iter().enumerate() {
        if matches!(c.fitness, Fitness::Ok | Fitness::DueSoon) && !c.reserved {
            empties[c.station].push_back(i);
        }
    }
    let mut ent_customers = vec![Vec::new(); w.enterprises.len()];
    for (i, c) in w.customers.iter().enumerate() {
        ent_customers[c.enterprise].push(i);
    }
    let n_ent = w.enterprises.len();
    let n_cust = w.customers.len();
    let n_cyl = w.cylinders.len();
    Ok(Sim {
        w,
        city,
        rng,
        api,
        opts: CycleOptions {
            tick_s: args.tick_s,
            gate_s: 2.0,
            offline_share: args.offline_share.clamp(0.0, 1.0),
            resend_share: args.resend_share.clamp(0.0, 1.0),
        },
        t0,
        t: 0.0,
        devices,
        gateway,
        phone,
        controller,
        inspector,
        vehicles,
        fills: (0..n_ent).map(|_| Vec::new()).collect(),
        empties,
        fulls: vec![VecDeque::new(); n_st],
        at_customer: vec![Vec::new(); n_cust],
        depot_stock: vec![Vec::new(); n_st],
        restocking: vec![false; n_st],
        lost_at: vec![false; n_cust],
        ent_customers,
        pending: vec![Default::default(); n_ent],
        flaws: Default::default(),
        to_refuse: Vec::new(),
        filled_at: vec![None; n_cyl],
        delivered_at: vec![f64::NEG_INFINITY; n_cyl],
        ledger: Ledger::default(),
        late_record_s: args.late_record_s,
        refusal_turn: 0,
    })
}

fn veh(
    index: usize,
    enterprise: usize,
    home: (f64, f64),
    plate: String,
    driver: String,
    gps_device: usize,
    rest: f64,
) -> Veh {
    Veh {
        index,
        enterprise,
        pos: home,
        heading: 0.0,
        speed_kmh: 0.0,
        cruise_kmh: 30.0,
        phase: Phase::Home { until: rest },
        route: VecDeque::new(),
        stops: VecDeque::new(),
        cargo: Vec::new(),
        driver,
        last_ble: 0.0,
        cargo_changed: false,
        gps_device,
        corridor: None,
        plate,
        exit_pending: false,
        still_since: None,
        flaw_ahead: false,
    }
}

/// The history before the start, uploaded late as devices would: scrapped cylinders'
/// scrapping, deliveries of the cylinders now at customers (1–20 days back; the reserved
/// unfit ones 55–80 days back, before they became unfit and short of being lost), fillings
/// of some in stock, and some of those brought to the distribution points.
async fn backfill(sim: &mut Sim, share: f64, full_share: f64) {
    let day = 86_400.0;
    for c in 0..sim.w.cylinders.len() {
        let e = sim.w.cylinders[c].enterprise;
        let phone = sim.phone[e];
        let fitness = sim.w.cylinders[c].fitness;
        let reserved = sim.w.cylinders[c].reserved;
        let mut customer = sim.w.cylinders[c].customer;
        if customer.is_none()
            && !reserved
            && fitness == Fitness::Ok
            && sim.rng.random_bool(share.clamp(0.0, 1.0))
        {
            let list = &sim.ent_customers[e];
            let k = list[sim.rng.random_range(0..list.len())];
            let ok = sim.at_customer[k].is_empty()
                && (sim.w.customers[k].licensed || sim.w.enterprises[e].medium != "N2O");
            if ok {
                customer = Some(k);
                sim.w.cylinders[c].customer = Some(k);
            }
        }
        if let Some(k) = customer {
            let back = if reserved {
                sim.rng.random_range(55.0..80.0)
            } else {
                sim.rng.random_range(1.0..20.0)
            };
            let (code, at) = (sim.w.customers[k].code.clone(), sim.w.customers[k].at);
            sim.scan(phone, -back * day, "deliver", c, At::customer(&code, at));
            sim.at_customer[k].push(c);
            if sim.w.cylinders[c].custody != Custody::Scrapped {
                sim.w.cylinders[c].custody = Custody::AtCustomer;
            }
        }
        let stocked = customer.is_none() && !reserved && sim.w.enterprises[e].licensed;
        if stocked && fitness == Fitness::Ok && sim.rng.random_bool(full_share.clamp(0.0, 1.0)) {
            // Filled (a fill scan: the record itself is long filed), checked and stored.
            let s = sim.w.cylinders[c].station;
            let station = sim.w.stations[s].code.clone();
            let staff = sim.w.enterprises[e].fillers[c % 3].clone();
            let at = -sim.rng.random_range(2.0..6.0) * 3600.0;
            let ctl = sim.controller[e];
            let st = At::station(&station).staff(&staff);
            sim.scan(ctl, at, "fill", c, st.clone());
            let items = ["leak", "mass"];
            let check = sim.check_event(at + 300.0, CheckStage::Post, c, &station, &staff, &items);
            sim.push(ctl, check);
            sim.scan(ctl, at + 600.0, "store_in", c, st);
            sim.w.cylinders[c].custody = Custody::InStockFull;
            sim.filled_at[c] = Some(at);
            sim.fulls[s].push_back(c);
        }
        if fitness == Fitness::Scrapped {
            let station = sim.w.stations[sim.w.cylinders[c].station].code.clone();
            let back = sim.rng.random_range(10.0..20.0);
            let ctl = sim.controller[e];
            sim.scan(ctl, -back * day, "scrap", c, At::station(&station));
        }
        let ctl = sim.controller[e];
        if sim.devices[phone].queue.len() >= 5_000 || sim.devices[ctl].queue.len() >= 5_000 {
            sim.flush(true).await;
        }
    }
    // Each distribution point and warehouse of a licensed company holds some of the full
    // ones (up to a third of its filling station's), brought there 20 minutes after the
    // filling.
    for d in 0..sim.w.stations.len() {
        let e = sim.w.stations[d].enterprise;
        if sim.w.stations[d].kind == "filling" || !sim.w.enterprises[e].licensed {
            continue;
        }
        let s = sim.w.enterprises[e].filling_station;
        let n = trips::RESTOCK_TO.min(sim.fulls[s].len() / 3);
        let Some(v) = sim.w.vehicles.iter().position(|v| v.enterprise == e) else {
            continue;
        };
        let plate = sim.w.vehicles[v].plate.clone();
        let driver = sim.w.enterprises[e].drivers[0].clone();
        let (from, to) = (
            sim.w.stations[s].code.clone(),
            sim.w.stations[d].code.clone(),
        );
        let phone = sim.phone[e];
        for _ in 0..n {
            let Some(c) = sim.fulls[s].pop_back() else {
                break;
            };
            let at = sim.filled_at[c].unwrap_or(-7200.0);
            sim.scan(
                phone,
                at + 1200.0,
                "load",
                c,
                At::station(&from).vehicle(&plate).staff(&driver),
            );
            sim.scan(
                phone,
                at + 2400.0,
                "unload",
                c,
                At::station(&to).vehicle(&plate).staff(&driver),
            );
            sim.w.cylinders[c].depot = Some(d);
            sim.depot_stock[d].push(c);
        }
    }
    sim.flush(true).await;
    // Only what is empty in stock now waits for the gun.
    let in_stock: Vec<bool> = sim
        .w
        .cylinders
        .iter()
        .map(|c| c.custody == Custody::InStockEmpty && c.customer.is_none())
        .collect();
    for queue in &mut sim.empties {
        queue.retain(|&c| in_stock[c]);
    }
}
