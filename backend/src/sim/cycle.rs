//! The daily cycle, tick by tick: filling stations check, ask, fill, check again and store;
//! vehicles load, drive (GPS every tick, the reader's tags every half minute), collect empties
//! and hand over full cylinders near each customer's address, and bring the empties home.
//! Devices batch per tick; phones go offline now and then and upload late and out of order;
//! some batches are resent with the same ids.

use super::city::{delta_m, offset, City};
use super::http::Api;
use super::ledger::{Inventory, Ledger};
use super::world::{point, round1, round6, Fitness, World, INSPECTION_BODY};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use shared::cylinder::Custody;
use std::collections::VecDeque;

/// A device and what it has not sent yet.
pub struct Device {
    pub id: String,
    pub key: String,
    pub queue: Vec<Value>,
    /// A phone out of coverage keeps its events until this sim time.
    pub offline_until: f64,
    pub may_go_offline: bool,
    pub silent: bool,
}

/// Where a stop is and what happens there.
#[derive(Debug, Clone)]
pub enum Stop {
    Customer {
        customer: usize,
        deliver: Vec<usize>,
        collect: bool,
        off_site: bool,
    },
    /// A cylinder put down away from every site.
    Drop {
        at: (f64, f64),
        cylinder: usize,
    },
    /// Standing loaded away from sites for `secs`.
    Idle {
        at: (f64, f64),
        secs: f64,
    },
    /// Driving through (a restricted zone's centre, a point out of the corridor).
    Via {
        at: (f64, f64),
        why: &'static str,
    },
    Home,
}

impl Stop {
    fn place(&self, w: &World, home: (f64, f64)) -> (f64, f64) {
        match self {
            Self::Customer { customer, .. } => w.customers[*customer].at,
            Self::Drop { at, .. } | Self::Idle { at, .. } | Self::Via { at, .. } => *at,
            Self::Home => home,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    Home { until: f64 },
    Driving,
    Stopped { since: f64, until: f64, done: bool },
}

/// A vehicle in motion.
pub struct Veh {
    pub index: usize,
    pub enterprise: usize,
    pub pos: (f64, f64),
    pub heading: f64,
    pub speed_kmh: f64,
    pub cruise_kmh: f64,
    pub phase: Phase,
    pub route: VecDeque<(f64, f64)>,
    pub stops: VecDeque<Stop>,
    pub cargo: Vec<usize>,
    pub driver: String,
    pub last_ble: f64,
    pub cargo_changed: bool,
    /// The device its GPS goes through (the enterprise's gateway, or its own tracker).
    pub gps_device: usize,
    /// A patrol vehicle (no cargo) keeps to this box: (min, max) corners.
    pub corridor: Option<((f64, f64), (f64, f64))>,
    pub plate: String,
    /// The next patrol leaves the corridor (an injected anomaly).
    pub exit_pending: bool,
    /// Since when it has stood still loaded, and where.
    pub still_since: Option<(f64, (f64, f64))>,
}

/// One cylinder on its way through a filling station.
pub enum Fill {
    Checked {
        cylinder: usize,
        at: f64,
        wall: f64,
        staff: String,
    },
    Filling {
        cylinder: usize,
        start: f64,
        end: f64,
        decision: Value,
        staff: String,
    },
    Inspecting {
        cylinder: usize,
        back: f64,
    },
    /// Full and stored: loadable once its store-in scan is in the past.
    Storing {
        cylinder: usize,
        ready: f64,
    },
}

/// Knobs of the cycle.
#[derive(Debug, Clone)]
pub struct CycleOptions {
    pub tick_s: f64,
    /// Seconds (wall clock) between a pre-fill check's upload and the gun's question, so that
    /// the platform has applied the check.
    pub gate_s: f64,
    pub offline_share: f64,
    pub resend_share: f64,
}

/// Pending injections per enterprise, applied by the next filling, delivery or trip.
#[derive(Debug, Default, Clone)]
pub struct Pending {
    pub overfill: u32,
    pub tare: u32,
    pub uncertified: u32,
    pub off_site: u32,
    pub hoard: u32,
    pub drop: u32,
    pub idle: u32,
    pub zone: u32,
    pub unlicensed: u32,
    /// Reserved unfit cylinders to collect from their customers: (cylinder, alert kind).
    pub collect: Vec<(usize, &'static str)>,
}

pub struct Sim {
    pub w: World,
    pub city: City,
    pub rng: StdRng,
    pub api: Api,
    pub opts: CycleOptions,
    pub t0: DateTime<Utc>,
    pub t: f64,
    pub devices: Vec<Device>,
    pub gateway: Vec<usize>,
    pub phone: Vec<usize>,
    pub controller: Vec<usize>,
    pub inspector: usize,
    pub vehicles: Vec<Veh>,
    pub fills: Vec<Vec<Fill>>,
    pub empties: Vec<VecDeque<usize>>,
    pub fulls: Vec<VecDeque<usize>>,
    pub at_customer: Vec<Vec<usize>>,
    pub ent_customers: Vec<Vec<usize>>,
    pub pending: Vec<Pending>,
    /// Unfit cylinders brought home: the gun will be asked and must refuse.
    pub to_refuse: Vec<(usize, usize)>,
    pub filled_at: Vec<Option<f64>>,
    pub ledger: Ledger,
    /// How late an injected late filling record is (seconds).
    pub late_record_s: f64,
}

const REFILL_AFTER_S: f64 = 24.0 * 3600.0 + 600.0;

impl Sim {
    /// Sim time `t` as RFC 3339.
    pub fn at(&self, t: f64) -> String {
        self.time(t).to_rfc3339_opts(SecondsFormat::Millis, false)
    }

    pub fn time(&self, t: f64) -> DateTime<Utc> {
        let d = signed_secs(t);
        self.t0 + d
    }

    pub fn push(&mut self, device: usize, event: Value) {
        self.devices[device].queue.push(event);
    }

    fn id() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A scan event by the phone of enterprise `e`.
    pub fn scan(&mut self, device: usize, t: f64, op: &str, cylinder: usize, extra: Value) {
        let mut e = json!({"id": Self::id(), "kind": "scan", "op": op, "occurred_at": self.at(t),
            "cylinder_code": self.w.cylinders[cylinder].code});
        if let (Some(o), Value::Object(more)) = (e.as_object_mut(), extra) {
            o.extend(more);
        }
        self.push(device, e);
    }

    fn check(&mut self, e: usize, t: f64, stage: &str, cylinder: usize, staff: &str) {
        let station = self.w.stations[self.w.enterprises[e].filling_station]
            .code
            .clone();
        let ev = json!({"id": Self::id(), "kind": "check", "occurred_at": self.at(t), "stage": stage,
            "cylinder_code": self.w.cylinders[cylinder].code, "station_code": station,
            "staff_no": staff, "passed": true,
            "items": {"appearance": "ok", "valve": "ok", "residual": "ok", "label": "ok"}});
        let c = self.controller[e];
        self.push(c, ev);
    }

    /// One tick: stations, vehicles, then every device uploads.
    pub async fn tick(&mut self) {
        for e in 0..self.w.enterprises.len() {
            self.station_step(e).await;
        }
        for v in 0..self.vehicles.len() {
            self.vehicle_step(v);
        }
        self.refusals().await;
        self.flush(false).await;
        self.t += self.opts.tick_s;
    }

    /// Uploads the devices' queues, all devices at once; `all` also empties offline phones'
    /// buffers.
    pub async fn flush(&mut self, all: bool) {
        let t = self.t;
        let mut sends = Vec::new();
        for d in 0..self.devices.len() {
            let dev = &mut self.devices[d];
            if dev.silent {
                dev.queue.clear();
                continue;
            }
            if !all && dev.may_go_offline {
                if t < dev.offline_until {
                    continue;
                }
                if self.rng.random_bool(self.opts.offline_share) {
                    dev.offline_until = t + self.rng.random_range(120.0..900.0);
                    continue;
                }
            }
            if dev.queue.is_empty() {
                continue;
            }
            let mut batch = std::mem::take(&mut dev.queue);
            if dev.may_go_offline && batch.len() > 1 {
                // Buffered on the phone: uploaded in whatever order it kept them.
                batch.shuffle(&mut self.rng);
            }
            // A lost answer: the device sends the same events again.
            let times = if self.rng.random_bool(self.opts.resend_share) {
                2
            } else {
                1
            };
            sends.push((d, batch, times));
        }
        let api = &self.api;
        let devices = &self.devices;
        let results =
            futures_util::future::join_all(sends.iter().map(|(d, batch, times)| async move {
                let key = &devices[*d].key;
                for chunk in batch.chunks(5_000) {
                    for _ in 0..*times {
                        let mut tries = 0;
                        while api.events(key, chunk).await.is_err() && tries < 5 {
                            tries += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    }
                }
                if *times > 1 {
                    api.note(|r| r.resent_batches += 1);
                }
                (devices[*d].id.clone(), unix_now())
            }))
            .await;
        for (id, at) in results {
            self.ledger.sent(&id, at);
        }
    }

    /// A filling station's tick (licensed enterprises only fill).
    async fn station_step(&mut self, e: usize) {
        let t = self.t;
        let dt = self.opts.tick_s;
        let s = self.w.enterprises[e].filling_station;
        let controller = self.controller[e];
        let mut fills = std::mem::take(&mut self.fills[e]);
        let mut keep = Vec::with_capacity(fills.len());
        for fill in fills.drain(..) {
            match fill {
                Fill::Checked {
                    cylinder,
                    at,
                    wall,
                    staff,
                } if t >= at + 45.0 && unix_now() >= wall + self.opts.gate_s => {
                    let body = json!({"cylinder_code": self.w.cylinders[cylinder].code,
                        "station_code": self.w.stations[s].code, "gun_no": format!("G{}", 1 + cylinder % 2),
                        "medium": self.w.cylinders[cylinder].medium, "staff_no": staff});
                    let (status, answer) = self
                        .api
                        .as_device(
                            "/api/v1/fillings/authorize",
                            &self.devices[controller].key,
                            &body,
                        )
                        .await;
                    if status == 200 && answer["allowed"] == json!(true) {
                        self.api.note(|r| r.fillings_allowed += 1);
                        // Fillings end on a tick, so that the record leaves at once.
                        let ticks = (self.rng.random_range(90.0..170.0) / dt).ceil();
                        keep.push(Fill::Filling {
                            cylinder,
                            start: t,
                            end: t + ticks * dt,
                            decision: answer["decision_id"].clone(),
                            staff,
                        });
                    } else {
                        self.api.note(|r| r.fillings_refused += 1);
                        self.ledger.unexpected_refusals.push(json!({"cylinder": self.w.cylinders[cylinder].code, "status": status, "answer": answer}));
                        // Set aside: a refused cylinder is not asked for again.
                        self.w.cylinders[cylinder].reserved = true;
                    }
                }
                Fill::Filling {
                    cylinder,
                    start,
                    end,
                    decision,
                    staff,
                } if t >= end => {
                    self.record_filling(e, cylinder, start, end, Some(decision), &staff)
                        .await;
                    let filler = staff.clone();
                    self.check(e, end + 5.0, "post", cylinder, &filler);
                    let station = self.w.stations[s].code.clone();
                    self.scan(
                        controller,
                        end + 10.0,
                        "store_in",
                        cylinder,
                        json!({"station_code": station, "staff_no": filler}),
                    );
                    keep.push(Fill::Storing {
                        cylinder,
                        ready: end + 15.0,
                    });
                }
                Fill::Storing { cylinder, ready } if t >= ready => {
                    self.fulls[s].push_back(cylinder)
                }
                Fill::Inspecting { cylinder, back } if t >= back => {
                    let station = self.w.stations[s].code.clone();
                    self.scan(
                        controller,
                        t,
                        "store_in",
                        cylinder,
                        json!({"station_code": station}),
                    );
                    self.w.cylinders[cylinder].custody = Custody::InStockEmpty;
                    self.w.cylinders[cylinder].fitness = Fitness::Ok;
                    self.empties[s].push_back(cylinder);
                }
                other => keep.push(other),
            }
        }
        self.fills[e] = keep;
        if !self.w.enterprises[e].licensed {
            return;
        }
        let fleet = self
            .vehicles
            .iter()
            .filter(|v| v.enterprise == e && v.corridor.is_none())
            .count();
        let target = fleet * 12 + 10;
        let guns = 2 + usize::try_from(self.w.stations[s].limit).unwrap_or(0) / 400;
        let mut tries = self.empties[s].len();
        let busy = |fills: &[Fill]| {
            fills
                .iter()
                .filter(|f| matches!(f, Fill::Checked { .. } | Fill::Filling { .. }))
                .count()
        };
        while busy(&self.fills[e]) < guns
            && self.fulls[s].len() + self.fills[e].len() < target
            && tries > 0
        {
            tries -= 1;
            let Some(c) = self.empties[s].pop_front() else {
                break;
            };
            if self.filled_at[c].is_some_and(|f| t - f < REFILL_AFTER_S) {
                self.empties[s].push_back(c);
                continue;
            }
            if self.w.cylinders[c].fitness == Fitness::DueSoon {
                // Due for its periodic inspection: sent out, inspected, back in stock.
                let station = self.w.stations[s].code.clone();
                self.scan(
                    controller,
                    t,
                    "send_inspection",
                    c,
                    json!({"station_code": station}),
                );
                self.w.cylinders[c].custody = Custody::AtInspection;
                let today = self.time(t).date_naive();
                let ev = json!({"id": Self::id(), "kind": "inspection", "occurred_at": self.at(t + 600.0),
                    "cylinder_code": self.w.cylinders[c].code, "conclusion": "pass",
                    "inspected_on": today.to_string(),
                    "next_inspection_on": (today + Duration::days(4 * 365)).to_string(),
                    "report_no": format!("JY{}", &self.w.cylinders[c].code), "inspection_body": "郑州市特种设备检验所",
                    "inspector": "检验员"});
                let inspector = self.inspector;
                self.push(inspector, ev);
                self.fills[e].push(Fill::Inspecting {
                    cylinder: c,
                    back: t + 900.0,
                });
                continue;
            }
            let mut staff = self.w.enterprises[e].fillers[c % 3].clone();
            if self.pending[e].uncertified > 0 {
                self.pending[e].uncertified -= 1;
                staff = self.w.enterprises[e].uncertified.clone();
                self.ledger.inject(
                    "staff_uncertified",
                    "staff",
                    &staff,
                    "a pre-fill check signed by a filler whose certificate expired",
                );
            }
            self.check(e, t, "pre", c, &staff);
            let filler = self.w.enterprises[e].fillers[c % 3].clone();
            self.fills[e].push(Fill::Checked {
                cylinder: c,
                at: t,
                wall: unix_now(),
                staff: filler,
            });
        }
    }

    /// Posts a filling record (masses with noise; flaws when injected).
    pub async fn record_filling(
        &mut self,
        e: usize,
        c: usize,
        start: f64,
        end: f64,
        decision: Option<Value>,
        staff: &str,
    ) {
        let s = self.w.enterprises[e].filling_station;
        let (tare, max_fill) = (self.w.cylinders[c].tare_kg, self.w.cylinders[c].max_fill_kg);
        let mut before = tare + self.rng.random_range(0.0..0.4);
        let mut net = max_fill * self.rng.random_range(0.93..0.99);
        let code = self.w.cylinders[c].code.clone();
        if self.pending[e].overfill > 0 {
            self.pending[e].overfill -= 1;
            net = max_fill + self.rng.random_range(0.8..2.5);
            self.ledger.inject(
                "overfill",
                "cylinder",
                &code,
                "net mass above the allowed fill mass",
            );
        } else if self.pending[e].tare > 0 {
            self.pending[e].tare -= 1;
            before = tare + self.rng.random_range(2.5..4.0);
            self.ledger.inject(
                "tare_mismatch",
                "cylinder",
                &code,
                "mass before filling far from the archived tare",
            );
        }
        let mut body = json!({"cylinder_code": code, "station_code": self.w.stations[s].code,
            "licence_no": format!("豫充{:04}", e + 1), "gun_no": format!("G{}", 1 + c % 2), "staff_no": staff,
            "staff_name": "充装工", "started_at": self.at(start), "ended_at": self.at(end),
            "mass_before_kg": round2(before), "mass_after_kg": round2(before + net)});
        if let Some(d) = decision {
            body["decision_id"] = d;
        }
        let key = self.devices[self.controller[e]].key.clone();
        let (status, answer) = self.api.as_device("/api/v1/fillings", &key, &body).await;
        if status == 201 {
            let flags: Vec<String> = answer["flags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect();
            self.api.note(|r| {
                r.filling_records += 1;
                for f in flags {
                    *r.flagged_records.entry(f).or_default() += 1;
                }
            });
        } else {
            tracing::warn!(status, %answer, "filling record refused");
        }
        self.w.cylinders[c].custody = Custody::InStockFull;
        self.w.cylinders[c].filled = true;
        self.filled_at[c] = Some(end);
    }

    /// Unfit cylinders brought home are put to the gun, which must refuse them.
    async fn refusals(&mut self) {
        for (e, c) in std::mem::take(&mut self.to_refuse) {
            let s = self.w.enterprises[e].filling_station;
            let station = self.w.stations[s].code.clone();
            let body = json!({"cylinder_code": self.w.cylinders[c].code, "station_code": station,
                "gun_no": "G1", "medium": self.w.cylinders[c].medium, "staff_no": self.w.enterprises[e].fillers[0]});
            let key = self.devices[self.controller[e]].key.clone();
            let (status, answer) = self
                .api
                .as_device("/api/v1/fillings/authorize", &key, &body)
                .await;
            if status == 200 && answer["allowed"] == json!(false) {
                self.api.note(|r| r.fillings_refused += 1);
                self.ledger.inject(
                    "filling_refused",
                    "station",
                    &station,
                    "an unfit cylinder put to the gun",
                );
            } else {
                self.ledger.unexpected_refusals.push(json!({"expected_refusal": self.w.cylinders[c].code, "status": status, "answer": answer}));
            }
        }
    }

    fn vehicle_step(&mut self, v: usize) {
        let t = self.t;
        let dt = self.opts.tick_s;
        let e = self.vehicles[v].enterprise;
        let home = self.w.stations[self.w.enterprises[e].filling_station].at;
        match self.vehicles[v].phase {
            Phase::Home { until } if t >= until => {
                if self.vehicles[v].corridor.is_some() {
                    self.patrol(v);
                } else {
                    self.plan_trip(v);
                }
            }
            Phase::Home { .. } => self.vehicles[v].speed_kmh = 0.0,
            Phase::Driving => {
                self.drive(v, dt);
                if self.vehicles[v].route.is_empty() {
                    let dwell = match self.vehicles[v].stops.front() {
                        Some(Stop::Idle { secs, .. }) => *secs,
                        Some(Stop::Via { .. }) => 0.0,
                        _ => self.rng.random_range(60.0..180.0),
                    };
                    self.vehicles[v].phase = Phase::Stopped {
                        since: t,
                        until: t + dwell,
                        done: false,
                    };
                }
            }
            Phase::Stopped { since, until, done } => {
                self.vehicles[v].speed_kmh = 0.0;
                if !done {
                    self.act_at_stop(v, since);
                    self.vehicles[v].phase = Phase::Stopped {
                        since,
                        until,
                        done: true,
                    };
                } else if t >= until {
                    if let Some(Stop::Idle { secs, .. }) = self.vehicles[v].stops.front() {
                        let why = format!(
                            "loaded, stood {} min away from every site",
                            (secs / 60.0).round()
                        );
                        let plate = self.vehicles[v].plate.clone();
                        self.ledger
                            .inject("suspicious_stop", "vehicle", &plate, &why);
                    }
                    let finished = self.vehicles[v].stops.pop_front();
                    if matches!(finished, Some(Stop::Home)) {
                        let rest = self.rng.random_range(300.0..1200.0);
                        self.vehicles[v].phase = Phase::Home { until: t + rest };
                    } else {
                        let next = self.vehicles[v]
                            .stops
                            .front()
                            .map(|s| s.place(&self.w, home))
                            .unwrap_or(home);
                        self.route_to(v, next);
                    }
                }
            }
        }
        self.report_position(v);
    }

    /// GPS every tick; the reader's tags every 30 s when loaded or at once after a change.
    fn report_position(&mut self, v: usize) {
        let t = self.t;
        let veh = &self.vehicles[v];
        let fix = json!({"id": Self::id(), "kind": "gps", "occurred_at": self.at(t), "vehicle_plate": veh.plate,
            "lon": round6(veh.pos.0), "lat": round6(veh.pos.1), "speed_kmh": round1(veh.speed_kmh),
            "heading": veh.heading.round() % 360.0});
        let (pos, plate, device) = (veh.pos, veh.plate.clone(), veh.gps_device);
        self.push(device, fix);
        // A loaded vehicle standing still for long is a cause of `suspicious_stop` (the
        // platform judges whether it stood at a site).
        let loaded = !self.vehicles[v].cargo.is_empty();
        match self.vehicles[v].still_since {
            Some((since, at)) if loaded && delta_m(at, pos).0.hypot(delta_m(at, pos).1) < 100.0 => {
                if t - since >= 15.0 * 60.0 {
                    let phase = format!(
                        "{:?} {:?}",
                        self.vehicles[v].phase,
                        self.vehicles[v].stops.front()
                    );
                    tracing::warn!(plate, phase, "loaded and standing still");
                    self.ledger
                        .allow("suspicious_stop", "vehicle", &plate, "stood still loaded");
                }
            }
            _ => self.vehicles[v].still_since = loaded.then_some((t, pos)),
        }
        for z in &self.w.zones {
            let (dx, dy) = delta_m(z.at, pos);
            if dx.hypot(dy) <= z.radius_m + 80.0 {
                self.ledger.allow(
                    "restricted_zone",
                    "vehicle",
                    &plate,
                    "a route grazed the zone",
                );
            }
        }
        let veh = &self.vehicles[v];
        let due = !veh.cargo.is_empty() && t - veh.last_ble >= 30.0;
        if veh.cargo_changed || due {
            let tags: Vec<&str> = veh
                .cargo
                .iter()
                .map(|c| self.w.cylinders[*c].tag.as_str())
                .collect();
            let ble = json!({"id": Self::id(), "kind": "ble", "occurred_at": self.at(t + 3.0),
                "vehicle_plate": veh.plate, "tag_ids": tags});
            let gw = self.gateway[veh.enterprise];
            self.push(gw, ble);
            self.vehicles[v].last_ble = t;
            self.vehicles[v].cargo_changed = false;
        }
    }

    fn drive(&mut self, v: usize, dt: f64) {
        let noise = self.rng.random_range(-4.0..=4.0);
        let veh = &mut self.vehicles[v];
        let speed = (veh.cruise_kmh + noise).max(8.0);
        let mut budget = speed / 3.6 * dt;
        while budget > 0.0 {
            let Some(&next) = veh.route.front() else {
                break;
            };
            let (dx, dy) = delta_m(veh.pos, next);
            let dist = dx.hypot(dy);
            if dist > 0.5 {
                veh.heading = (dx.atan2(dy).to_degrees() + 360.0) % 360.0;
            }
            if dist <= budget {
                veh.pos = next;
                budget -= dist;
                veh.route.pop_front();
            } else {
                veh.pos = offset(veh.pos.0, veh.pos.1, dx / dist * budget, dy / dist * budget);
                budget = 0.0;
            }
        }
        veh.speed_kmh = speed;
    }

    /// Streets: an east-west then a north-south leg or the other way round, whichever keeps
    /// clear of the restricted zones (unless the target is in one).
    pub fn route_to(&mut self, v: usize, to: (f64, f64)) {
        let from = self.vehicles[v].pos;
        let corners = [(to.0, from.1), (from.0, to.1)];
        let clear = |c: (f64, f64)| {
            self.w.zones.iter().all(|z| {
                seg_dist(z.at, from, c) > z.radius_m + 150.0
                    && seg_dist(z.at, c, to) > z.radius_m + 150.0
            })
        };
        let first = usize::from(self.rng.random_bool(0.5));
        let corner = if clear(corners[first]) {
            corners[first]
        } else {
            corners[1 - first]
        };
        let veh = &mut self.vehicles[v];
        veh.route = VecDeque::from([corner, to]);
        veh.cruise_kmh = self.rng.random_range(22.0..45.0);
        veh.phase = Phase::Driving;
    }

    /// At home: load full cylinders and plan the round of customers.
    fn plan_trip(&mut self, v: usize) {
        let t = self.t;
        let e = self.vehicles[v].enterprise;
        let s = self.w.enterprises[e].filling_station;
        let capacity = if self.w.enterprises[e].medium == "N2O" {
            6
        } else {
            12
        };
        let mut stops = VecDeque::new();
        let mut p = std::mem::take(&mut self.pending[e]);
        // Special collections first: the truck passes by the customers holding unfit cylinders.
        for (c, kind) in p.collect.drain(..) {
            if let Some(customer) = self.w.cylinders[c].customer {
                let code = self.w.cylinders[c].code.clone();
                self.ledger.allow(
                    kind,
                    "cylinder",
                    &code,
                    "an unfit cylinder collected from a customer",
                );
                stops.push_back(Stop::Customer {
                    customer,
                    deliver: Vec::new(),
                    collect: true,
                    off_site: false,
                });
            }
        }
        let available = self.fulls[s].len();
        if available == 0 && stops.is_empty() {
            self.pending[e] = p;
            self.vehicles[v].phase = Phase::Home { until: t + 300.0 };
            return;
        }
        let mut load: Vec<usize> = (0..available.min(capacity))
            .filter_map(|_| self.fulls[s].pop_front())
            .collect();
        let plate = self.vehicles[v].plate.clone();
        let driver = self.vehicles[v].driver.clone();
        let phone = self.phone[e];
        let station = self.w.stations[s].code.clone();
        for &c in &load {
            self.scan(
                phone,
                t + 1.0,
                "load",
                c,
                json!({"station_code": station, "vehicle_plate": plate, "staff_no": driver}),
            );
            self.w.cylinders[c].custody = Custody::InTransitDelivery;
        }
        self.vehicles[v].cargo.extend(load.iter().copied());
        self.vehicles[v].cargo_changed = true;
        let home = self.w.stations[s].at;
        if p.idle > 0 && !load.is_empty() {
            p.idle -= 1;
            let at = self.nowhere(home);
            self.ledger.allow(
                "suspicious_stop",
                "vehicle",
                &plate,
                "a loaded stop away from sites",
            );
            stops.push_front(Stop::Idle { at, secs: 1500.0 });
        }
        if p.zone > 0 {
            p.zone -= 1;
            // The zone nearest home: the truck passes through it on its way.
            let at = self
                .w
                .zones
                .iter()
                .map(|z| z.at)
                .min_by(|a, b| {
                    let (ax, ay) = delta_m(home, *a);
                    let (bx, by) = delta_m(home, *b);
                    ax.hypot(ay).total_cmp(&bx.hypot(by))
                })
                .unwrap_or(home);
            self.ledger.allow(
                "restricted_zone",
                "vehicle",
                &plate,
                "driven through a restricted zone",
            );
            stops.push_front(Stop::Via {
                at,
                why: "restricted_zone",
            });
        }
        if p.drop > 0 && !load.is_empty() {
            p.drop -= 1;
            let at = self.nowhere(home);
            let cylinder = load.remove(0);
            stops.push_back(Stop::Drop { at, cylinder });
        }
        let customers = self.ent_customers[e].clone();
        if p.unlicensed > 0 && !load.is_empty() {
            if let Some(&customer) = customers.iter().find(|&&c| {
                !self.w.customers[c].licensed && self.w.customers[c].kind == "industrial"
            }) {
                p.unlicensed -= 1;
                let cyl = load.remove(0);
                stops.push_back(Stop::Customer {
                    customer,
                    deliver: vec![cyl],
                    collect: false,
                    off_site: false,
                });
            }
        }
        if p.hoard > 0 {
            // The restaurant already holding the most: it takes more than it may keep.
            let restaurant = customers
                .iter()
                .copied()
                .filter(|&c| self.w.customers[c].kind == "restaurant")
                .max_by_key(|&c| self.at_customer[c].len());
            if let Some(customer) = restaurant {
                let limit = usize::try_from(self.w.customers[customer].limit).unwrap_or(4);
                let n = (limit + 1)
                    .saturating_sub(self.at_customer[customer].len())
                    .max(2);
                if load.len() >= n {
                    p.hoard -= 1;
                    let deliver: Vec<usize> = load.drain(..n).collect();
                    let code = self.w.customers[customer].code.clone();
                    self.ledger.allow(
                        "overweight_stock",
                        "customer",
                        &code,
                        "a restaurant hoarding full cylinders",
                    );
                    stops.push_back(Stop::Customer {
                        customer,
                        deliver,
                        collect: false,
                        off_site: false,
                    });
                }
            }
        }
        let regular: Vec<usize> = customers
            .iter()
            .copied()
            .filter(|&c| self.w.customers[c].licensed || self.w.enterprises[e].medium != "N2O")
            .collect();
        let mut visited = Vec::new();
        while !load.is_empty() && !regular.is_empty() && visited.len() < 12 {
            let customer = regular[self.rng.random_range(0..regular.len())];
            if visited.contains(&customer)
                || stops
                    .iter()
                    .any(|s| matches!(s, Stop::Customer { customer: c, .. } if *c == customer))
            {
                visited.push(customer);
                continue;
            }
            visited.push(customer);
            let n = match self.w.customers[customer].kind {
                "industrial" => 2,
                "restaurant" => self.rng.random_range(1..=2),
                _ => 1,
            }
            .min(load.len());
            let deliver: Vec<usize> = load.drain(..n).collect();
            let off_site = p.off_site > 0;
            if off_site {
                p.off_site -= 1;
            }
            stops.push_back(Stop::Customer {
                customer,
                deliver,
                collect: true,
                off_site,
            });
        }
        // Whatever found no customer rides along and comes back.
        stops.push_back(Stop::Home);
        self.pending[e] = p;
        self.vehicles[v].stops = stops;
        let first = self.vehicles[v]
            .stops
            .front()
            .map(|s| s.place(&self.w, home))
            .unwrap_or(home);
        self.route_to(v, first);
    }

    /// A patrol vehicle drives between points of its corridor.
    fn patrol(&mut self, v: usize) {
        let Some((lo, hi)) = self.vehicles[v].corridor else {
            return;
        };
        let margin = 0.002;
        let mut to = (
            self.rng.random_range(lo.0 + margin..hi.0 - margin),
            self.rng.random_range(lo.1 + margin..hi.1 - margin),
        );
        let mut why = "patrol";
        if self.vehicles[v].exit_pending {
            self.vehicles[v].exit_pending = false;
            to.0 = hi.0 + 0.015;
            why = "corridor_exit";
            let plate = self.vehicles[v].plate.clone();
            self.ledger
                .allow("corridor_exit", "vehicle", &plate, "left its corridor");
        }
        self.vehicles[v].stops = VecDeque::from([Stop::Via { at: to, why }, Stop::Home]);
        self.route_to(v, to);
        // A patrol's legs are the box's own lines: no zone avoidance needed inside it.
        self.vehicles[v].route = VecDeque::from([(to.0, self.vehicles[v].pos.1), to]);
    }

    /// A point in town at least 600 m from every site and zone.
    pub fn nowhere(&mut self, near: (f64, f64)) -> (f64, f64) {
        for _ in 0..200 {
            let p = self
                .city
                .random_point_near(near.0, near.1, 4_000.0, &mut self.rng);
            let far = |q: (f64, f64), m: f64| {
                let (dx, dy) = delta_m(p, q);
                dx.hypot(dy) > m
            };
            if self.w.customers.iter().all(|c| far(c.at, 600.0))
                && self.w.stations.iter().all(|s| far(s.at, 600.0))
                && self.w.zones.iter().all(|z| far(z.at, z.radius_m + 600.0))
            {
                return p;
            }
        }
        offset(near.0, near.1, 3_000.0, 3_000.0)
    }

    fn act_at_stop(&mut self, v: usize, since: f64) {
        let t = self.t.max(since);
        let e = self.vehicles[v].enterprise;
        let phone = self.phone[e];
        let plate = self.vehicles[v].plate.clone();
        let driver = self.vehicles[v].driver.clone();
        let Some(stop) = self.vehicles[v].stops.front().cloned() else {
            return;
        };
        let pos = self.vehicles[v].pos;
        match stop {
            Stop::Customer {
                customer,
                deliver,
                collect,
                off_site,
            } => {
                let code = self.w.customers[customer].code.clone();
                if collect {
                    let held = std::mem::take(&mut self.at_customer[customer]);
                    for c in held {
                        self.scan(
                            phone,
                            t + 1.0,
                            "collect_empty",
                            c,
                            json!({"customer_code": code, "vehicle_plate": plate,
                            "staff_no": driver, "lon": round6(pos.0), "lat": round6(pos.1)}),
                        );
                        let cyl = &mut self.w.cylinders[c];
                        cyl.customer = None;
                        let kind = match cyl.fitness {
                            Fitness::Overdue => Some("cylinder_overdue"),
                            Fitness::LifeExpired => Some("cylinder_life_expired"),
                            Fitness::Scrapped => Some("cylinder_scrapped_in_use"),
                            _ => None,
                        };
                        if cyl.custody != Custody::Scrapped {
                            cyl.custody = Custody::InTransitReturn;
                        }
                        if let Some(kind) = kind {
                            let code = cyl.code.clone();
                            self.ledger.inject(
                                kind,
                                "cylinder",
                                &code,
                                "an unfit cylinder collected and brought back",
                            );
                        }
                        self.vehicles[v].cargo.push(c);
                    }
                }
                let hoarding = !collect && self.w.customers[customer].kind == "restaurant";
                for c in &deliver {
                    let at = if off_site {
                        let a = self.rng.random_range(0.0..std::f64::consts::TAU);
                        let d = self.rng.random_range(450.0..900.0);
                        offset(pos.0, pos.1, d * a.cos(), d * a.sin())
                    } else {
                        let a = self.rng.random_range(0.0..std::f64::consts::TAU);
                        let d = self.rng.random_range(0.0..15.0);
                        offset(pos.0, pos.1, d * a.cos(), d * a.sin())
                    };
                    self.scan(
                        phone,
                        t + 2.0,
                        "deliver",
                        *c,
                        json!({"customer_code": code, "vehicle_plate": plate,
                        "staff_no": driver, "lon": round6(at.0), "lat": round6(at.1)}),
                    );
                    let cyl = &mut self.w.cylinders[*c];
                    cyl.custody = Custody::AtCustomer;
                    cyl.customer = Some(customer);
                    self.at_customer[customer].push(*c);
                    self.vehicles[v].cargo.retain(|x| x != c);
                    if cyl.medium == "N2O" && !self.w.customers[customer].licensed {
                        self.ledger.inject(
                            "controlled_medium_unlicensed",
                            "customer",
                            &code,
                            "N2O handed to a consignee without a licence",
                        );
                    }
                }
                if off_site && !deliver.is_empty() {
                    self.ledger.inject(
                        "delivery_off_site",
                        "customer",
                        &code,
                        "handed over far from the registered address",
                    );
                }
                if hoarding
                    && i64::try_from(self.at_customer[customer].len()).unwrap_or(0)
                        > self.w.customers[customer].limit
                {
                    self.ledger.inject(
                        "overweight_stock",
                        "customer",
                        &code,
                        "a restaurant hoarding full cylinders",
                    );
                }
                self.vehicles[v].cargo_changed = true;
            }
            Stop::Drop { cylinder, .. } => {
                self.vehicles[v].cargo.retain(|x| *x != cylinder);
                self.w.cylinders[cylinder].custody = Custody::AtCustomer;
                self.vehicles[v].cargo_changed = true;
                self.ledger.inject(
                    "unloaded_unknown_place",
                    "vehicle",
                    &plate,
                    "a full cylinder left the truck away from every site",
                );
            }
            Stop::Via { why, .. } => {
                if why == "restricted_zone" {
                    self.ledger.inject(
                        "restricted_zone",
                        "vehicle",
                        &plate,
                        "driven through a restricted zone",
                    );
                }
                if why == "corridor_exit" {
                    self.ledger
                        .inject("corridor_exit", "vehicle", &plate, "left its corridor");
                }
            }
            Stop::Idle { .. } => {}
            Stop::Home => {
                let s = self.w.enterprises[e].filling_station;
                let station = self.w.stations[s].code.clone();
                for c in std::mem::take(&mut self.vehicles[v].cargo) {
                    let custody = self.w.cylinders[c].custody;
                    if custody == Custody::InTransitDelivery {
                        self.scan(phone, t + 1.0, "unload", c, json!({"station_code": station, "vehicle_plate": plate, "staff_no": driver}));
                        self.w.cylinders[c].custody = Custody::InStockFull;
                        self.fills[e].push(Fill::Storing {
                            cylinder: c,
                            ready: t + 10.0,
                        });
                        continue;
                    }
                    self.scan(phone, t + 1.0, "return_in", c, json!({"station_code": station, "vehicle_plate": plate, "staff_no": driver}));
                    let cyl = &mut self.w.cylinders[c];
                    if custody != Custody::Scrapped {
                        cyl.custody = Custody::InStockEmpty;
                    }
                    match cyl.fitness {
                        Fitness::Ok | Fitness::DueSoon if !cyl.reserved => {
                            self.empties[s].push_back(c)
                        }
                        Fitness::Overdue | Fitness::LifeExpired | Fitness::Scrapped => {
                            self.to_refuse.push((e, c))
                        }
                        _ => {}
                    }
                }
                self.vehicles[v].cargo_changed = true;
            }
        }
    }

    /// The inventory per medium as the simulator knows it.
    pub fn custody(&self) -> std::collections::BTreeMap<String, &'static str> {
        self.w
            .cylinders
            .iter()
            .filter(|c| c.custody != Custody::InStockEmpty)
            .map(|c| (c.code.clone(), c.custody.name()))
            .collect()
    }

    pub fn inventory(&self) -> std::collections::BTreeMap<String, Inventory> {
        let mut out = std::collections::BTreeMap::<String, Inventory>::new();
        for c in &self.w.cylinders {
            let row = out.entry(c.medium.to_owned()).or_default();
            match c.custody {
                Custody::InTransitDelivery => {
                    row.shipped += 1;
                    row.in_transit += 1;
                }
                Custody::AtCustomer => {
                    row.shipped += 1;
                    row.delivered += 1;
                }
                Custody::InTransitReturn => row.returning += 1,
                Custody::Lost => row.lost += 1,
                _ => {}
            }
            if c.custody != Custody::Scrapped {
                row.total += 1;
            }
        }
        out
    }
}

/// Distance in metres from `p` to the segment a-b.
fn seg_dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (bx, by) = delta_m(a, b);
    let (px, py) = delta_m(a, p);
    let len2 = bx * bx + by * by;
    let k = if len2 > 0.0 {
        ((px * bx + py * by) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (px - k * bx).hypot(py - k * by)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Wall-clock Unix seconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Seconds (negative: back) as a duration.
pub fn signed_secs(x: f64) -> Duration {
    let d = std::time::Duration::try_from_secs_f64(x.abs())
        .ok()
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_default();
    if x < 0.0 {
        -d
    } else {
        d
    }
}

/// A count as a float (counts beyond 4 billion saturate).
pub fn count_f64(n: u64) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The inspection body's code, for the setup.
pub const INSPECTOR: &str = INSPECTION_BODY;

/// A point as JSON, for the setup.
pub fn at_json(at: (f64, f64)) -> Value {
    point(at)
}
