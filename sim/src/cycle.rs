//! The daily cycle, tick by tick: filling stations check, ask, fill, check again and store;
//! vehicles load, drive (GPS every tick, the reader's tags every half minute), collect empties
//! and hand over full cylinders near each customer's address, and bring the empties home.
//! Devices batch per tick; phones go offline now and then and upload late and out of order;
//! some batches are resent with the same ids.

use super::city::City;
use super::http::Api;
use super::ledger::{Inventory, Ledger};
pub use super::trips::{Phase, Stop, Veh};
use super::wire::{id, At};
use super::world::{Fitness, World};
use anyhow::Context;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Map, Value};
use shared::cylinder::{Custody, ScanOp};
use shared::events::{Check, CheckStage, Conclusion, CylinderRef, Event, GpsFix, Inspection, Scan};
use shared::filling::{AuthorizeRequest, NewFilling};
use std::collections::VecDeque;
use uuid::Uuid;

/// A device and what it has not sent yet.
pub struct Device {
    pub id: String,
    pub key: String,
    pub queue: Vec<Event>,
    /// A phone out of coverage keeps its events until this sim time.
    pub offline_until: f64,
    pub may_go_offline: bool,
    pub silent: bool,
    /// When it fell silent (wall-clock Unix seconds).
    pub silent_since: f64,
    /// A vehicle's JT/T 808 terminal (`--transport jt808`): its GPS fixes go over the
    /// gateway, not HTTP.
    pub terminal: Option<std::sync::Arc<tokio::sync::Mutex<crate::jt808::Link>>>,
    /// A reader's MQTT connection (`--transport mqtt`): its batches go over the broker.
    pub mqtt: Option<std::sync::Arc<tokio::sync::Mutex<crate::mqtt::Link>>>,
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
        decision: Uuid,
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
    /// Full cylinders in stock at each distribution point or warehouse.
    pub depot_stock: Vec<Vec<usize>>,
    /// A truck is on its way to restock the distribution point.
    pub restocking: Vec<bool>,
    /// Customers holding, on paper, a cylinder lost long ago.
    pub lost_at: Vec<bool>,
    pub ent_customers: Vec<Vec<usize>>,
    pub pending: Vec<Pending>,
    /// Flaws of a delivery waiting for a loaded truck on the road (any LPG company's).
    pub flaws: super::flaws::Flaws,
    /// Unfit cylinders brought home: the gun will be asked and must refuse.
    pub to_refuse: Vec<(usize, usize)>,
    pub filled_at: Vec<Option<f64>>,
    /// When each cylinder was last handed over (sim time).
    pub delivered_at: Vec<f64>,
    pub ledger: Ledger,
    /// How late an injected late filling record is (seconds).
    pub late_record_s: f64,
    /// `filling_refused` injections so far (they alternate between two causes).
    pub refusal_turn: u64,
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

    /// Sim time `t` as the instant an event carries (to the millisecond).
    pub fn instant(&self, t: f64) -> DateTime<FixedOffset> {
        let at = self.time(t);
        DateTime::from_timestamp_millis(at.timestamp_millis())
            .unwrap_or(at)
            .fixed_offset()
    }

    /// Queues an event on the device; one the simulator built wrong is not sent but counted
    /// as rejected (with the reason), which the end-to-end test does not allow.
    pub fn push(&mut self, device: usize, event: anyhow::Result<Event>) {
        match event {
            Ok(event) => self.devices[device].queue.push(event),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "an event the simulator made is invalid");
                self.api.note(|r| {
                    r.rejected += 1;
                    r.rejections.push(json!({"invalid": format!("{e:#}")}));
                });
            }
        }
    }

    /// A new event id.
    pub fn id() -> Uuid {
        Uuid::new_v4()
    }

    /// A scan event by `device`.
    pub fn scan(&mut self, device: usize, t: f64, op: &str, cylinder: usize, at: At) {
        let event = self.scan_event(t, op, cylinder, at);
        self.push(device, event);
    }

    fn scan_event(&self, t: f64, op: &str, cylinder: usize, at: At) -> anyhow::Result<Event> {
        Ok(Event::Scan(Scan {
            id: Self::id(),
            occurred_at: self.instant(t),
            op: ScanOp::from_name(op).with_context(|| format!("scan op {op}"))?,
            cylinder: CylinderRef::CylinderCode(id(&self.w.cylinders[cylinder].code)?),
            station_code: at.station.as_deref().map(id).transpose()?,
            customer_code: at.customer.as_deref().map(id).transpose()?,
            to_station_code: None,
            vehicle_plate: at.vehicle.as_deref().map(id).transpose()?,
            staff_no: at.staff.as_deref().map(id).transpose()?,
            point: at
                .point
                .map(|(lon, lat)| shared::GeoPoint::new(lon, lat))
                .transpose()?,
            mass_before_kg: None,
            mass_after_kg: None,
        }))
    }

    /// A passed check of `cylinder` at `station` (its items all fine).
    pub fn check_event(
        &self,
        t: f64,
        stage: CheckStage,
        cylinder: usize,
        station: &str,
        staff: &str,
        items: &[&str],
    ) -> anyhow::Result<Event> {
        let items: Map<String, Value> = items
            .iter()
            .map(|item| ((*item).to_owned(), Value::from("ok")))
            .collect();
        Ok(Event::Check(Check {
            id: Self::id(),
            occurred_at: self.instant(t),
            stage,
            cylinder_code: id(&self.w.cylinders[cylinder].code)?,
            station_code: id(station)?,
            staff_no: id(staff)?,
            passed: true,
            items,
        }))
    }

    fn check(&mut self, e: usize, t: f64, stage: CheckStage, cylinder: usize, staff: &str) {
        let station = self.w.stations[self.w.enterprises[e].filling_station]
            .code
            .clone();
        let items = ["appearance", "valve", "residual", "label"];
        let event = self.check_event(t, stage, cylinder, &station, staff, &items);
        let c = self.controller[e];
        self.push(c, event);
    }

    /// The gun's question about `cylinder` at `station`.
    pub fn question(
        &self,
        cylinder: usize,
        station: &str,
        gun: &str,
        staff: &str,
    ) -> anyhow::Result<AuthorizeRequest> {
        let c = &self.w.cylinders[cylinder];
        Ok(AuthorizeRequest {
            cylinder_code: Some(id(&c.code)?),
            tag_id: None,
            station_code: id(station)?,
            gun_no: id(gun)?,
            medium: id(c.medium)?,
            staff_no: id(staff)?,
        })
    }

    /// One tick: stations, vehicles, then every device uploads.
    pub async fn tick(&mut self) {
        for e in 0..self.w.enterprises.len() {
            self.station_step(e).await;
        }
        for v in 0..self.vehicles.len() {
            self.vehicle_step(v);
        }
        self.place_flaws();
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
                if let Some(terminal) = &devices[*d].terminal {
                    let fixes: Vec<GpsFix> = batch
                        .iter()
                        .filter_map(|e| match e {
                            Event::Gps(f) => Some(f.clone()),
                            _ => None,
                        })
                        .collect();
                    let mut link = terminal.lock().await;
                    for chunk in fixes.chunks(50) {
                        api.count_sent("gps", chunk.len());
                        let mut tries = 0;
                        loop {
                            match link.send(chunk).await {
                                Ok(true) => {
                                    // Committed (new or known already: the gateway
                                    // does not tell which).
                                    let n = u64::try_from(chunk.len()).unwrap_or(0);
                                    api.note(|r| {
                                        *r.acknowledged.entry("gps".into()).or_default() += n;
                                        r.accepted += n;
                                    });
                                    break;
                                }
                                Ok(false) => {
                                    api.note(|r| r.rejected += 1);
                                    break;
                                }
                                Err(e) if tries >= 5 => {
                                    tracing::warn!(error = %e, "jt808 fixes not sent");
                                    api.note(|r| r.failed_requests += 1);
                                    break;
                                }
                                Err(_) => {
                                    tries += 1;
                                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                                }
                            }
                        }
                    }
                    return (devices[*d].id.clone(), unix_now());
                }
                for chunk in batch.chunks(5_000) {
                    for _ in 0..*times {
                        let mut tries = 0;
                        while tries < 5 {
                            let sent = match &devices[*d].mqtt {
                                Some(link) => api.events_over_mqtt(link, chunk).await,
                                None => api.events(key, chunk).await,
                            };
                            if sent.is_ok() {
                                break;
                            }
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
                    // The filler asks once the platform shows the check in the cylinder's
                    // history (rule R10 reads applied history), or after a minute anyway.
                    let code = self.w.cylinders[cylinder].code.clone();
                    let shown = self.api.shows_check(&code, self.time(at)).await;
                    if !shown && unix_now() < wall + 60.0 {
                        keep.push(Fill::Checked {
                            cylinder,
                            at,
                            wall,
                            staff,
                        });
                        continue;
                    }
                    if !shown {
                        self.api.note(|r| r.asked_before_check_applied += 1);
                    }
                    let station = self.w.stations[s].code.clone();
                    let gun = format!("G{}", 1 + cylinder % 2);
                    let key = self.devices[controller].key.clone();
                    let (status, answer, json) =
                        match self.question(cylinder, &station, &gun, &staff) {
                            Ok(question) => self.api.authorize(&key, &question).await,
                            Err(e) => (0, None, Value::from(format!("{e:#}"))),
                        };
                    if let Some(answer) = answer.filter(|a| a.allowed) {
                        self.api.note(|r| r.fillings_allowed += 1);
                        // Fillings end on a tick, so that the record leaves at once.
                        let ticks = (self.rng.random_range(90.0..170.0) / dt).ceil();
                        keep.push(Fill::Filling {
                            cylinder,
                            start: t,
                            end: t + ticks * dt,
                            decision: answer.decision_id,
                            staff,
                        });
                    } else {
                        self.api.note(|r| r.fillings_refused += 1);
                        let code = &self.w.cylinders[cylinder].code;
                        tracing::warn!(code, status, answer = %json, "the gun refused a cylinder the simulator holds fit");
                        self.ledger
                            .unexpected_refusals
                            .push(json!({"cylinder": code, "status": status, "answer": json}));
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
                    self.check(e, end + 5.0, CheckStage::Post, cylinder, &filler);
                    let station = self.w.stations[s].code.clone();
                    self.scan(
                        controller,
                        end + 10.0,
                        "store_in",
                        cylinder,
                        At::station(&station).staff(&filler),
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
                    self.scan(controller, t, "store_in", cylinder, At::station(&station));
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
                self.scan(controller, t, "send_inspection", c, At::station(&station));
                self.w.cylinders[c].custody = Custody::AtInspection;
                let today = self.time(t).date_naive();
                let ev = self.inspection_event(t + 600.0, c, today);
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
                // Staff alerts name the enterprise with the number (numbers are per
                // enterprise).
                self.ledger.inject(
                    "staff_uncertified",
                    "staff",
                    &format!("{}/{staff}", self.w.enterprises[e].code),
                    "a pre-fill check signed by a filler whose certificate expired",
                );
            }
            self.check(e, t, CheckStage::Pre, c, &staff);
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
        decision: Option<Uuid>,
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
        let record = self.filling_record(FillingFacts {
            cylinder: c,
            station: s,
            licence_no: format!("豫充{:04}", e + 1),
            gun: format!("G{}", 1 + c % 2),
            staff,
            start,
            end,
            masses: (round2(before), round2(before + net)),
            decision,
        });
        let key = self.devices[self.controller[e]].key.clone();
        let (status, answer, json) = match record {
            Ok(record) => self.api.filling(&key, &record).await,
            Err(e) => (0, None, Value::from(format!("{e:#}"))),
        };
        if let Some(answer) = answer {
            self.api.note(|r| {
                r.filling_records += 1;
                for f in answer.flags {
                    *r.flagged_records.entry(f.name().to_owned()).or_default() += 1;
                }
            });
        } else {
            tracing::warn!(status, answer = %json, "filling record refused");
        }
        self.w.cylinders[c].custody = Custody::InStockFull;
        self.w.cylinders[c].filled = true;
        self.filled_at[c] = Some(end);
    }

    /// A filling record of the cylinder at the station.
    fn filling_record(&self, f: FillingFacts<'_>) -> anyhow::Result<NewFilling> {
        Ok(NewFilling {
            decision_id: f.decision,
            cylinder_code: id(&self.w.cylinders[f.cylinder].code)?,
            station_code: id(&self.w.stations[f.station].code)?,
            licence_no: id(&f.licence_no)?,
            gun_no: id(&f.gun)?,
            staff_no: id(f.staff)?,
            staff_name: id("充装工")?,
            started_at: self.instant(f.start),
            ended_at: self.instant(f.end),
            mass_before_kg: f.masses.0,
            mass_after_kg: f.masses.1,
        })
    }

    /// A passed periodic inspection of the cylinder on `day`, due again in four years.
    fn inspection_event(&self, t: f64, c: usize, day: NaiveDate) -> anyhow::Result<Event> {
        let code = &self.w.cylinders[c].code;
        Ok(Event::Inspection(Inspection {
            id: Self::id(),
            occurred_at: self.instant(t),
            cylinder_code: id(code)?,
            conclusion: Conclusion::Pass,
            inspected_on: day,
            next_inspection_on: Some(day + Duration::days(4 * 365)),
            report_no: format!("JY{code}"),
            inspection_body: "郑州市特种设备检验所".to_owned(),
            inspector: "检验员".to_owned(),
        }))
    }

    /// Unfit cylinders brought home are put to the gun, which must refuse them.
    async fn refusals(&mut self) {
        for (e, c) in std::mem::take(&mut self.to_refuse) {
            let s = self.w.enterprises[e].filling_station;
            let station = self.w.stations[s].code.clone();
            let key = self.devices[self.controller[e]].key.clone();
            let filler = self.w.enterprises[e].fillers[0].clone();
            let (status, answer, json) = match self.question(c, &station, "G1", &filler) {
                Ok(question) => self.api.authorize(&key, &question).await,
                Err(e) => (0, None, Value::from(format!("{e:#}"))),
            };
            if answer.is_some_and(|a| !a.allowed) {
                self.api.note(|r| r.fillings_refused += 1);
                self.ledger.inject(
                    "filling_refused",
                    "station",
                    &station,
                    "an unfit cylinder put to the gun",
                );
            } else {
                let code = &self.w.cylinders[c].code;
                tracing::warn!(code, status, answer = %json, "the gun did not refuse an unfit cylinder");
                self.ledger
                    .unexpected_refusals
                    .push(json!({"expected_refusal": code, "status": status, "answer": json}));
            }
        }
    }

    /// Each cylinder's custody as the simulator knows it, when not in stock empty.
    pub fn custody(&self) -> std::collections::BTreeMap<String, &'static str> {
        self.w
            .cylinders
            .iter()
            .filter(|c| c.custody != Custody::InStockEmpty)
            .map(|c| (c.code.clone(), c.custody.name()))
            .collect()
    }

    /// Full cylinders in stock at each station (by code, every station of the city) as the
    /// simulator knows it.
    pub fn station_stock(&self) -> std::collections::BTreeMap<String, i64> {
        let mut out: std::collections::BTreeMap<String, i64> = self
            .w
            .stations
            .iter()
            .map(|s| (s.code.clone(), 0))
            .collect();
        for c in &self.w.cylinders {
            if c.custody == Custody::InStockFull {
                let s = c.depot.unwrap_or(c.station);
                *out.entry(self.w.stations[s].code.clone()).or_default() += 1;
            }
        }
        out
    }

    /// The inventory per medium as the simulator knows it.
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

/// What a filling record says, beside the cylinder's archive.
pub struct FillingFacts<'a> {
    pub cylinder: usize,
    pub station: usize,
    pub licence_no: String,
    pub gun: String,
    pub staff: &'a str,
    pub start: f64,
    pub end: f64,
    /// Masses before and after filling (kg).
    pub masses: (f64, f64),
    pub decision: Option<Uuid>,
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
