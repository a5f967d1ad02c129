//! The workload: GPS devices of a few hundred vehicles, scanners driving a few thousand
//! cylinders round valid custody cycles (fill → load → deliver → collect_empty → return_in …),
//! scans of tags no cylinder has, cylinders made unfit (a `scrap` scan) while filling controllers
//! ask `authorize` about them. Every device retries a batch with the SAME event ids until it is
//! acknowledged (a `202`); each acknowledged event and each authorize answer is recorded with
//! its time.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub use super::api::Api;

pub const STATION: &str = "ST1";

/// How big a run is.
#[derive(Debug, Clone)]
pub struct Plan {
    pub vehicles: usize,
    pub cylinders: usize,
    /// Cylinders never filled, each with a passed pre-fill check: the guns may fill them until
    /// a `scrap` scan makes them unfit.
    pub gun_cylinders: usize,
    pub customers: usize,
    pub illegal_tags: usize,
    pub gps_devices: usize,
    /// How many of the GPS devices publish their batches over MQTT (QoS 1, to the suite's
    /// Mosquitto) instead of HTTP.
    pub mqtt_gps: usize,
    /// Vehicles 0.. that report over JT/T 808 instead (a terminal each, a fix a second), not
    /// through the GPS devices.
    pub jt808_vehicles: usize,
    pub scan_devices: usize,
    pub controllers: usize,
    pub batch: usize,
    /// Events per second offered by all devices together (each device paces its batches).
    pub rate: f64,
    /// The workload stops after this many events or this long, whichever comes first.
    pub max_events: u64,
    pub duration: Duration,
}

pub fn plate(i: usize) -> String {
    format!("豫A{:05}", i + 1)
}
pub fn cylinder_code(i: usize) -> String {
    format!("CH{:06}", i + 1)
}
pub fn customer_code(i: usize) -> String {
    format!("C{}", i + 1)
}
pub fn illegal_tag(i: usize) -> String {
    format!("ILL-{:05}", i + 1)
}

/// A custody step the workload sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Fill,
    Load(usize),
    Deliver(usize),
    Collect(usize),
    ReturnIn,
    Scrap,
}

/// What an acknowledged event was.
#[derive(Debug, Clone)]
pub enum Kind {
    Gps {
        vehicle: usize,
        lon: f64,
        lat: f64,
    },
    Scan {
        cylinder: usize,
        op: Op,
    },
    /// A scan of a tag no cylinder has.
    Illegal {
        tag: usize,
    },
    /// A passed pre-fill check.
    Check {
        cylinder: usize,
    },
    /// A filling record (`POST /api/v1/fillings`, answered `201`): it fills like a `fill`
    /// scan; `Acked::id` is the record's id as answered, `occurred_at` its end.
    Filling {
        cylinder: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Acked {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub acked: Instant,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub cylinder: usize,
    pub sent: Instant,
    pub allowed: bool,
    pub rules: Vec<String>,
}

/// Everything the workload saw.
#[derive(Default)]
pub struct Record {
    pub acked: Mutex<Vec<Acked>>,
    pub answers: Mutex<Vec<Answer>>,
    /// Batches sent again after an error, a timeout or a non-202 answer.
    pub retries: AtomicU64,
    pub generated: AtomicU64,
    /// Events sent and never acknowledged (the workload gave up): may or may not be stored.
    pub unacked: Mutex<Vec<Uuid>>,
    pub authorize_errors: AtomicU64,
    /// Filling records never answered `201` (the workload gave up).
    pub unacked_fillings: AtomicU64,
    /// The events acknowledged by the broker (a PUBACK): stored once the server has read them.
    pub mqtt_acked: Mutex<Vec<Uuid>>,
    /// MQTT publishes sent again (no PUBACK with success).
    pub mqtt_retries: AtomicU64,
    /// JT/T 808 fixes sent again (no success answer).
    pub jt808_retries: AtomicU64,
}

/// Registers ENT1, its station, customers, certified filler and the cylinders.
pub async fn registry(api: &Api, plan: &Plan) {
    let ent = json!({"code": "ENT1", "name": "ENT1 燃气有限公司", "credit_code": "91410100MA000000X1",
           "district_code": "410105", "address": "郑州市金水区", "filling_licence_no": "豫充-001",
           "filling_licence_expires": "2030-12-31", "gas_licence_no": "豫燃-001",
           "gas_licence_expires": "2030-12-31", "media": ["LPG"]});
    let station = json!({"code": STATION, "enterprise_code": "ENT1", "name": "一号充装站",
           "kind": "filling", "location": {"lon": 113.62, "lat": 34.75}, "radius_m": 150,
           "full_stock_limit": 1_000_000});
    let staff = json!({"staff_no": "S1", "enterprise_code": "ENT1", "name": "陈荣华",
           "role": "filler", "certificate_no": "TS-1", "certificate_expires": "2030-01-01"});
    for (path, body) in [
        ("/api/v1/enterprises", ent),
        ("/api/v1/stations", station),
        ("/api/v1/staff", staff),
    ] {
        let (status, answer) = api.admin_post(path, &body).await;
        assert!(status == 201 || status == 409, "{path}: {answer}");
    }
    for c in 0..plan.customers {
        let body = json!({"code": customer_code(c), "enterprise_code": "ENT1", "name": "客户",
            "kind": "restaurant", "phone": "13800000000", "address": "金水路1号",
            "location": {"lon": 113.66 + 0.01 * f64::from(u32::try_from(c).unwrap_or(0)), "lat": 34.76},
            "district_code": "410105"});
        let (status, answer) = api.admin_post("/api/v1/customers", &body).await;
        assert!(status == 201 || status == 409, "customer: {answer}");
    }
    let all = plan.cylinders + plan.gun_cylinders;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let api = api.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = usize::try_from(next.fetch_add(1, Ordering::Relaxed)).expect("index");
                if i >= all {
                    return;
                }
                let code = cylinder_code(i);
                let body = json!({"code": code, "tag_id": format!("T{code}"), "medium": "LPG",
                    "tare_kg": 16.4, "volume_l": 35.5, "working_pressure_mpa": 2.1,
                    "test_pressure_mpa": 3.2, "wall_thickness_mm": 2.6, "max_fill_kg": 14.5,
                    "design_life_years": 15, "manufacturer": "江苏民生重工有限公司",
                    "manufactured_on": "2020-04-01", "product_standard": "GB 5842",
                    "manufacture_licence_no": "TS2210001", "last_inspected_on": "2024-04-01",
                    "next_inspection_on": "2028-04-01", "registration_no": format!("豫A-LPG-{i}"),
                    "registered_on": "2020-05-01", "registration_authority": "郑州市市场监督管理局",
                    "owner_enterprise_code": "ENT1", "station_code": STATION});
                let (status, answer) = api.admin_post("/api/v1/cylinders", &body).await;
                assert!(status == 201 || status == 409, "cylinder {code}: {answer}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("registering cylinders");
    }
}

/// Strictly increasing event times per subject (a vehicle, a cylinder).
struct Clock(Mutex<Vec<DateTime<Utc>>>);

impl Clock {
    fn new(n: usize) -> Self {
        Self(Mutex::new(vec![DateTime::<Utc>::MIN_UTC; n]))
    }
    fn next(&self, i: usize) -> DateTime<Utc> {
        let mut all = self.0.lock().expect("clock");
        // Microseconds, as PostgreSQL keeps them: two times of a subject never tie there.
        let now =
            DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now);
        let t = if now > all[i] {
            now
        } else {
            all[i] + chrono::Duration::milliseconds(1)
        };
        all[i] = t;
        t
    }
}

fn scan_event(id: Uuid, cylinder: usize, op: Op, at: DateTime<Utc>) -> Value {
    let code = cylinder_code(cylinder);
    let t = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (name, extra) = match op {
        Op::Fill => ("fill", json!({"station_code": STATION, "staff_no": "S1"})),
        Op::Load(v) => ("load", json!({"vehicle_plate": plate(v)})),
        Op::Deliver(c) => ("deliver", json!({"customer_code": customer_code(c)})),
        Op::Collect(v) => ("collect_empty", json!({"vehicle_plate": plate(v)})),
        Op::ReturnIn => ("return_in", json!({"station_code": STATION})),
        Op::Scrap => ("scrap", json!({"station_code": STATION})),
    };
    let mut e = json!({"id": id, "kind": "scan", "op": name, "cylinder_code": code,
                       "occurred_at": t});
    if let (Some(e), Value::Object(more)) = (e.as_object_mut(), extra) {
        e.extend(more);
    }
    e
}

/// The next step of a cylinder's cycle after `last`.
fn next_op(last: Option<Op>, rng: &mut StdRng, plan: &Plan) -> Op {
    let v = rng.random_range(0..plan.vehicles);
    match last {
        None | Some(Op::ReturnIn) => Op::Fill,
        Some(Op::Fill) => Op::Load(v),
        Some(Op::Load(_)) => Op::Deliver(rng.random_range(0..plan.customers)),
        Some(Op::Deliver(_)) => Op::Collect(v),
        Some(Op::Collect(_)) | Some(Op::Scrap) => Op::ReturnIn,
    }
}

/// Runs the workload until it is done (its quota or time, and every batch acknowledged).
pub async fn run(api: Api, plan: Plan, seed: u64, record: Arc<Record>, faults_on: Arc<AtomicBool>) {
    let start = Instant::now();
    let give_up = start + plan.duration + Duration::from_secs(600);
    let stop = Arc::new(AtomicBool::new(false));
    let quota_left = {
        let record = record.clone();
        let plan = plan.clone();
        move |n: u64| {
            record.generated.fetch_add(n, Ordering::Relaxed) + n <= plan.max_events
                && start.elapsed() < plan.duration
        }
    };
    let vehicle_clock = Arc::new(Clock::new(plan.vehicles));
    let cylinder_clock = Arc::new(Clock::new(plan.cylinders + plan.gun_cylinders));
    let mut tasks = Vec::new();
    // Pre-fill checks of the guns' cylinders, acknowledged before the guns ask.
    let scanner = api.device("gps", None).await;
    let checks: Vec<(Uuid, usize, DateTime<Utc>)> = (0..plan.gun_cylinders)
        .map(|g| {
            let c = plan.cylinders + g;
            (Uuid::new_v4(), c, cylinder_clock.next(c))
        })
        .collect();
    for chunk in checks.chunks(plan.batch.max(1)) {
        let events: Vec<Value> = chunk
            .iter()
            .map(|(id, c, at)| {
                json!({"id": id, "kind": "check", "stage": "pre", "cylinder_code": cylinder_code(*c),
                       "station_code": STATION, "staff_no": "S1", "passed": true,
                       "items": {"valve": "ok"},
                       "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)})
            })
            .collect();
        let at = api
            .send_until_acked(&scanner, &events, &record, give_up)
            .await
            .expect("the guns' checks acknowledged");
        let mut acked = record.acked.lock().expect("record");
        for (id, c, t) in chunk {
            acked.push(Acked {
                id: *id,
                occurred_at: *t,
                acked: at,
                kind: Kind::Check { cylinder: *c },
            });
        }
    }
    // JT/T 808 terminals, registered with their vehicles before the faults.
    let jt808_vehicles = if api.jt808_ports.is_empty() {
        0
    } else {
        plan.jt808_vehicles.min(plan.vehicles)
    };
    for v in 0..jt808_vehicles {
        let (device_id, no) = crate::terminal::terminal(v);
        let (status, answer) = api
            .admin_post(
                "/api/v1/vehicles",
                &json!({"plate": plate(v), "enterprise_code": "ENT1"}),
            )
            .await;
        assert!(status == 201 || status == 409, "vehicle: {answer}");
        let (status, answer) = api
            .admin_post(
                "/api/v1/devices",
                &json!({"device_id": device_id, "kind": "jt808", "terminal_no": no,
                        "enterprise_code": "ENT1", "vehicle_plate": plate(v)}),
            )
            .await;
        assert!(status == 201 || status == 409, "terminal: {answer}");
    }
    faults_on.store(true, Ordering::Relaxed);
    for v in 0..jt808_vehicles {
        let (ports, record, quota) = (api.jt808_ports.clone(), record.clone(), quota_left.clone());
        tasks.push(tokio::spawn(async move {
            crate::terminal::run(
                v,
                ports,
                Duration::from_secs(1),
                seed,
                &record,
                quota,
                give_up,
            )
            .await;
        }));
    }
    // GPS devices.
    for d in 0..plan.gps_devices {
        let (api, plan, record, clock, quota) = (
            api.clone(),
            plan.clone(),
            record.clone(),
            vehicle_clock.clone(),
            quota_left.clone(),
        );
        // The first `mqtt_gps` devices publish over MQTT (readers: as the simulator's).
        let mqtt = d < plan.mqtt_gps && api.mqtt_port.is_some();
        let (id, key) = api
            .device_with_id(if mqtt { "reader" } else { "gps" }, None)
            .await;
        let via = if mqtt { Via::Mqtt(id) } else { Via::Http };
        let mut pace = pacer(&plan);
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ (0x1000 + d as u64));
            let mine: Vec<usize> = (jt808_vehicles..plan.vehicles)
                .filter(|v| v % plan.gps_devices == d)
                .collect();
            if mine.is_empty() {
                return;
            }
            while quota(u64::try_from(plan.batch).unwrap_or(1)) {
                pace.tick().await;
                let mut batch = Vec::new();
                let mut kinds = Vec::new();
                for _ in 0..plan.batch {
                    let v = mine[rng.random_range(0..mine.len())];
                    let (lon, lat) = (
                        113.5 + rng.random_range(0.0..0.3),
                        34.6 + rng.random_range(0.0..0.3),
                    );
                    let (id, at) = (Uuid::new_v4(), clock.next(v));
                    batch.push(json!({"id": id, "kind": "gps",
                        "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        "vehicle_plate": plate(v), "lon": lon, "lat": lat, "speed_kmh": 30.0,
                        "heading": 90}));
                    kinds.push((
                        id,
                        at,
                        Kind::Gps {
                            vehicle: v,
                            lon,
                            lat,
                        },
                    ));
                }
                settle_via(&api, &via, &key, &batch, kinds, &record, give_up).await;
            }
        }));
    }
    // Scanners: the cylinders' custody cycles and scans of unknown tags.
    for d in 0..plan.scan_devices {
        let (api, plan, record, clock, quota) = (
            api.clone(),
            plan.clone(),
            record.clone(),
            cylinder_clock.clone(),
            quota_left.clone(),
        );
        let key = api.device("gps", None).await;
        let gun = api.device("controller", Some(STATION)).await;
        let mut pace = pacer(&plan);
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ (0x2000 + d as u64));
            let mine: Vec<usize> = (0..plan.cylinders)
                .filter(|c| c % plan.scan_devices == d)
                .collect();
            let mut last: Vec<Option<Op>> = vec![None; mine.len()];
            if mine.is_empty() {
                return;
            }
            while quota(u64::try_from(plan.batch).unwrap_or(1)) {
                pace.tick().await;
                let mut batch = Vec::new();
                let mut kinds = Vec::new();
                let mut picked: Vec<usize> = (0..mine.len()).collect();
                picked.shuffle(&mut rng);
                for &k in picked.iter().take(plan.batch) {
                    let c = mine[k];
                    let op = next_op(last[k], &mut rng, &plan);
                    last[k] = Some(op);
                    let (id, at) = (Uuid::new_v4(), clock.next(c));
                    if op == Op::Fill && c.is_multiple_of(4) {
                        // A quarter of the cylinders are filled by a gun's record.
                        let started = at - chrono::Duration::seconds(90);
                        let body = json!({"cylinder_code": cylinder_code(c), "station_code": STATION,
                            "licence_no": "豫充-001", "gun_no": format!("G{d}"), "staff_no": "S1",
                            "staff_name": "陈荣华",
                            "started_at": started.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                            "ended_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                            "mass_before_kg": 16.4, "mass_after_kg": 30.4});
                        match api.record_until_kept(&gun, &body, &record, give_up).await {
                            Some((id, acked)) => record.acked.lock().expect("record").push(Acked {
                                id,
                                occurred_at: at,
                                acked,
                                kind: Kind::Filling { cylinder: c },
                            }),
                            None => {
                                record.unacked_fillings.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        continue;
                    }
                    batch.push(scan_event(id, c, op, at));
                    kinds.push((id, at, Kind::Scan { cylinder: c, op }));
                }
                if plan.illegal_tags > 0 && rng.random_bool(0.2) {
                    let tag = rng.random_range(0..plan.illegal_tags);
                    let (id, at) = (Uuid::new_v4(), Utc::now());
                    batch.push(json!({"id": id, "kind": "scan", "op": "load",
                        "tag_id": illegal_tag(tag), "vehicle_plate": plate(0),
                        "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)}));
                    kinds.push((id, at, Kind::Illegal { tag }));
                }
                if !batch.is_empty() {
                    settle(&api, &key, &batch, kinds, &record, give_up).await;
                }
            }
        }));
    }
    // The scrapper: makes most of the guns' cylinders unfit over the run, one at a time.
    {
        let (api, plan, record, clock, stop) = (
            api.clone(),
            plan.clone(),
            record.clone(),
            cylinder_clock.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ 0x3000);
            let mut order: Vec<usize> = (0..plan.gun_cylinders).collect();
            order.shuffle(&mut rng);
            let scrapped = plan.gun_cylinders * 4 / 5;
            let every = plan.duration / u32::try_from(scrapped.max(1) + 1).unwrap_or(1);
            for g in order.into_iter().take(scrapped) {
                tokio::time::sleep(every.min(Duration::from_secs(5))).await;
                let done = record.generated.load(Ordering::Relaxed) >= plan.max_events
                    || start.elapsed() >= plan.duration;
                if done || stop.load(Ordering::Relaxed) {
                    return;
                }
                let c = plan.cylinders + g;
                let (id, at) = (Uuid::new_v4(), clock.next(c));
                let batch = vec![scan_event(id, c, Op::Scrap, at)];
                let kinds = vec![(
                    id,
                    at,
                    Kind::Scan {
                        cylinder: c,
                        op: Op::Scrap,
                    },
                )];
                settle(&api, &scanner, &batch, kinds, &record, give_up).await;
            }
        }));
    }
    // Filling controllers asking about the guns' cylinders.
    let mut guns = Vec::new();
    for d in 0..plan.controllers {
        let (api, plan, record, stop) = (api.clone(), plan.clone(), record.clone(), stop.clone());
        let key = api.device("controller", Some(STATION)).await;
        guns.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed ^ (0x4000 + d as u64));
            while !stop.load(Ordering::Relaxed) {
                let c = plan.cylinders + rng.random_range(0..plan.gun_cylinders.max(1));
                let body = json!({"cylinder_code": cylinder_code(c), "station_code": STATION,
                    "gun_no": format!("G{d}"), "medium": "LPG", "staff_no": "S1"});
                let sent = Instant::now();
                match api
                    .post("/api/v1/fillings/authorize", &body, ("x-device-key", &key))
                    .await
                {
                    Some((200, answer)) => {
                        let rules = answer["reasons"]
                            .as_array()
                            .map(|r| {
                                r.iter()
                                    .filter_map(|r| r["rule"].as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                        record.answers.lock().expect("record").push(Answer {
                            cylinder: c,
                            sent,
                            allowed: answer["allowed"] == json!(true),
                            rules,
                        });
                    }
                    _ => {
                        record.authorize_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for t in tasks.drain(..) {
        t.await.expect("a workload task");
    }
    stop.store(true, Ordering::Relaxed);
    for t in guns {
        t.await.expect("a controller task");
    }
}

/// Each device's batch period: the devices together offer `plan.rate` events per second.
fn pacer(plan: &Plan) -> tokio::time::Interval {
    let devices = (plan.gps_devices + plan.scan_devices).max(1);
    let per_batch =
        f64::from(u32::try_from(plan.batch * devices).unwrap_or(u32::MAX)) / plan.rate.max(1.0);
    let mut every = tokio::time::interval(Duration::from_secs_f64(per_batch));
    // A batch that waited through a fault is not followed by a burst.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

/// How a device sends.
enum Via {
    Http,
    /// Over MQTT, as the device with this id.
    Mqtt(String),
}

async fn settle(
    api: &Api,
    key: &str,
    batch: &[Value],
    kinds: Vec<(Uuid, DateTime<Utc>, Kind)>,
    record: &Record,
    give_up: Instant,
) {
    settle_via(api, &Via::Http, key, batch, kinds, record, give_up).await;
}

async fn settle_via(
    api: &Api,
    via: &Via,
    key: &str,
    batch: &[Value],
    kinds: Vec<(Uuid, DateTime<Utc>, Kind)>,
    record: &Record,
    give_up: Instant,
) {
    let acked = match via {
        Via::Http => api.send_until_acked(key, batch, record, give_up).await,
        Via::Mqtt(device) => {
            let at = api
                .publish_until_acked(device, key, batch, record, give_up)
                .await;
            if at.is_some() {
                let mut ids = record.mqtt_acked.lock().expect("record");
                ids.extend(kinds.iter().map(|k| k.0));
            }
            at
        }
    };
    match acked {
        Some(at) => {
            let mut acked = record.acked.lock().expect("record");
            for (id, occurred_at, kind) in kinds {
                acked.push(Acked {
                    id,
                    occurred_at,
                    acked: at,
                    kind,
                });
            }
        }
        None => record
            .unacked
            .lock()
            .expect("record")
            .extend(kinds.into_iter().map(|k| k.0)),
    }
}
