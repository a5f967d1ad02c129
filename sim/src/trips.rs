//! The vehicles' side of the cycle: a trip loads full cylinders at the home filling station,
//! drives along streets (keeping clear of restricted zones), stops at each customer to collect
//! the empties and hand over full cylinders near the registered address, and brings the
//! empties home; patrol vehicles keep to their corridor. Injected anomalies ride along as
//! extra stops (a long loaded stop, a drop away from sites, a detour through a zone).

use super::city::{delta_m, offset};
use super::cycle::Sim;
use super::wire::{id, point, At};
use super::world::{round1, World};
use rand::Rng;
use shared::cylinder::Custody;
use shared::events::{BleSighting, Event, GpsFix};
use shared::ids::TagId;
use std::collections::VecDeque;

/// A distribution point holding fewer full cylinders than this is restocked...
const RESTOCK_BELOW: usize = 4;
/// ...up to this many...
pub const RESTOCK_TO: usize = 10;
/// ...by a truck leaving its filling station while at least this many are ready there.
const RESTOCK_MIN: usize = 4;

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
    /// A distribution point or warehouse: full cylinders put in its stock (a restocking
    /// trip), or some of its stock taken along for the round's customers.
    Depot {
        station: usize,
        drop: Vec<usize>,
        take: Vec<usize>,
    },
    Home,
}

impl Stop {
    pub(super) fn place(&self, w: &World, home: (f64, f64)) -> (f64, f64) {
        match self {
            Self::Customer { customer, .. } => w.customers[*customer].at,
            Self::Drop { at, .. } | Self::Idle { at, .. } | Self::Via { at, .. } => *at,
            Self::Depot { station, .. } => w.stations[*station].at,
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
    /// Its next stop is an injected flaw (see `flaws`): no other is put on it before.
    pub flaw_ahead: bool,
}

impl Sim {
    /// One vehicle's tick.
    pub fn vehicle_step(&mut self, v: usize) {
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
                        // Handing over and taking back cylinders, paying: two to five minutes.
                        _ => self.rng.random_range(120.0..300.0),
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
                        if self.vehicles[v].corridor.is_none() {
                            self.apply_pending(v);
                        }
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
        let fix = self.gps_event(t, veh);
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
            let tags: anyhow::Result<Vec<TagId>> = veh
                .cargo
                .iter()
                .map(|c| id(&self.w.cylinders[*c].tag))
                .collect();
            let ble = tags.and_then(|tag_ids| {
                Ok(Event::Ble(BleSighting {
                    id: Self::id(),
                    occurred_at: self.instant(t + 3.0),
                    vehicle_plate: id(&veh.plate)?,
                    tag_ids,
                }))
            });
            let gw = self.gateway[veh.enterprise];
            self.push(gw, ble);
            self.vehicles[v].last_ble = t;
            self.vehicles[v].cargo_changed = false;
        }
    }

    /// The vehicle's GPS fix now.
    fn gps_event(&self, t: f64, veh: &Veh) -> anyhow::Result<Event> {
        Ok(Event::Gps(GpsFix {
            id: Self::id(),
            occurred_at: self.instant(t),
            vehicle_plate: id(&veh.plate)?,
            point: point(veh.pos)?,
            speed_kmh: Some(round1(veh.speed_kmh)),
            heading: Some(veh.heading.round() % 360.0),
            alarms: Vec::new(),
        }))
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

    /// At home: restock a distribution point that runs short, or load full cylinders (every
    /// other round also some of a distribution point's) and plan the round of customers.
    fn plan_trip(&mut self, v: usize) {
        let t = self.t;
        let e = self.vehicles[v].enterprise;
        let s = self.w.enterprises[e].filling_station;
        let capacity = if self.w.enterprises[e].medium == "N2O" {
            6
        } else {
            8
        };
        let home = self.w.stations[s].at;
        let depots: Vec<usize> = (0..self.w.stations.len())
            .filter(|&d| self.w.stations[d].enterprise == e && self.w.stations[d].kind != "filling")
            .collect();
        let available = self.fulls[s].len();
        // A distribution point (or warehouse) whose full stock fell below RESTOCK_BELOW, and
        // no truck on its way there: this trip brings it up to RESTOCK_TO and comes back.
        let short = depots
            .iter()
            .copied()
            .find(|&d| !self.restocking[d] && self.depot_stock[d].len() < RESTOCK_BELOW);
        if let Some(d) = short.filter(|_| available >= RESTOCK_MIN) {
            let n = (RESTOCK_TO - self.depot_stock[d].len())
                .min(capacity)
                .min(available);
            let drop = self.load_at_home(v, n);
            self.restocking[d] = true;
            self.vehicles[v].stops = VecDeque::from([
                Stop::Depot {
                    station: d,
                    drop,
                    take: Vec::new(),
                },
                Stop::Home,
            ]);
            self.apply_pending(v);
            let first = self.vehicles[v]
                .stops
                .front()
                .map(|s| s.place(&self.w, home))
                .unwrap_or(home);
            self.route_to(v, first);
            return;
        }
        // Every other round starts at a distribution point holding full cylinders and takes
        // up to half a load of them to its customers.
        let stocked: Vec<usize> = depots
            .iter()
            .copied()
            .filter(|&d| !self.depot_stock[d].is_empty())
            .collect();
        let depot = (!stocked.is_empty() && self.rng.random_bool(0.5))
            .then(|| stocked[self.rng.random_range(0..stocked.len())]);
        let take: Vec<usize> = match depot {
            Some(d) => {
                let n = self.depot_stock[d].len().min(capacity / 2);
                self.depot_stock[d].drain(..n).collect()
            }
            None => Vec::new(),
        };
        if available == 0 && take.is_empty() && self.pending[e].collect.is_empty() {
            self.vehicles[v].phase = Phase::Home { until: t + 300.0 };
            return;
        }
        let mut load = self.load_at_home(v, available.min(capacity - take.len()));
        load.extend(take.iter().copied());
        // Up to six customers, visited nearest first.
        let regular: Vec<usize> = self.ent_customers[e]
            .iter()
            .copied()
            .filter(|&c| self.w.customers[c].licensed || self.w.enterprises[e].medium != "N2O")
            .collect();
        let mut chosen: Vec<usize> = Vec::new();
        let mut tries = 0;
        while !load.is_empty() && !regular.is_empty() && chosen.len() < 6 && tries < 30 {
            tries += 1;
            let customer = regular[self.rng.random_range(0..regular.len())];
            if !chosen.contains(&customer) {
                chosen.push(customer);
            }
            if chosen.len() * 2 >= load.len() {
                break;
            }
        }
        let mut stops = VecDeque::new();
        let mut here = depot.map_or(home, |d| self.w.stations[d].at);
        while !chosen.is_empty() {
            let (i, _) = chosen
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    let (dx, dy) = delta_m(here, self.w.customers[c].at);
                    (i, dx.hypot(dy))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((0, 0.0));
            let customer = chosen.swap_remove(i);
            here = self.w.customers[customer].at;
            let n = match self.w.customers[customer].kind {
                "industrial" => 2,
                "restaurant" => self.rng.random_range(1..=2),
                _ => 1,
            }
            .min(load.len());
            let deliver: Vec<usize> = load.drain(..n).collect();
            stops.push_back(Stop::Customer {
                customer,
                deliver,
                collect: true,
                off_site: false,
            });
        }
        // Whatever found no customer rides along and comes back (to the filling station).
        stops.push_back(Stop::Home);
        if let Some(station) = depot {
            stops.push_front(Stop::Depot {
                station,
                drop: Vec::new(),
                take,
            });
        }
        self.vehicles[v].stops = stops;
        self.apply_pending(v);
        let first = self.vehicles[v]
            .stops
            .front()
            .map(|s| s.place(&self.w, home))
            .unwrap_or(home);
        self.route_to(v, first);
    }

    /// Loads `n` full cylinders at the home filling station onto the truck (scans `load`).
    fn load_at_home(&mut self, v: usize, n: usize) -> Vec<usize> {
        let t = self.t;
        let e = self.vehicles[v].enterprise;
        let s = self.w.enterprises[e].filling_station;
        let load: Vec<usize> = (0..n).filter_map(|_| self.fulls[s].pop_front()).collect();
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
                At::station(&station).vehicle(&plate).staff(&driver),
            );
            self.w.cylinders[c].custody = Custody::InTransitDelivery;
        }
        self.vehicles[v].cargo.extend(load.iter().copied());
        self.vehicles[v].cargo_changed = true;
        load
    }

    /// Full cylinders on the truck that [`Self::steal`] may take: (riding along for no
    /// customer, those riding along in the customers' deliveries).
    fn stealable(&self, v: usize) -> (Vec<usize>, usize) {
        let cargo = &self.vehicles[v].cargo;
        let assigned: Vec<usize> = self.vehicles[v]
            .stops
            .iter()
            .flat_map(|s| match s {
                Stop::Customer { deliver, .. } => deliver.clone(),
                Stop::Drop { cylinder, .. } => vec![*cylinder],
                Stop::Depot { drop, .. } => drop.clone(),
                _ => Vec::new(),
            })
            .collect();
        let riding: Vec<usize> = cargo
            .iter()
            .copied()
            .filter(|&c| {
                self.w.cylinders[c].custody == Custody::InTransitDelivery && !assigned.contains(&c)
            })
            .collect();
        let in_deliveries: usize = self.vehicles[v]
            .stops
            .iter()
            .map(|s| match s {
                Stop::Customer { deliver, .. } => {
                    deliver.iter().filter(|c| cargo.contains(c)).count()
                }
                _ => 0,
            })
            .sum();
        (riding, in_deliveries)
    }

    /// How many full cylinders [`Self::steal`] could take from the truck now.
    pub(super) fn can_steal(&self, v: usize) -> usize {
        let (riding, in_deliveries) = self.stealable(v);
        riding.len() + in_deliveries
    }

    /// Full cylinders on the truck taken from the last customers' deliveries, `n` of them,
    /// or none (those for a distribution point and those not yet loaded stay). Those riding
    /// along for no customer go first.
    pub(super) fn steal(&mut self, v: usize, n: usize) -> Option<Vec<usize>> {
        let cargo = self.vehicles[v].cargo.clone();
        let (mut riding, in_deliveries) = self.stealable(v);
        if riding.len() + in_deliveries < n || n == 0 {
            return None;
        }
        let mut taken = Vec::new();
        while taken.len() < n {
            match riding.pop() {
                Some(c) => taken.push(c),
                None => break,
            }
        }
        for stop in self.vehicles[v].stops.iter_mut().rev() {
            if let Stop::Customer { deliver, .. } = stop {
                while taken.len() < n {
                    match deliver.iter().rposition(|c| cargo.contains(c)) {
                        Some(i) => taken.push(deliver.remove(i)),
                        None => break,
                    }
                }
            }
        }
        (taken.len() == n).then_some(taken)
    }

    /// Full cylinders at a customer as the platform counts them (a scrapped one is not).
    pub(super) fn full_at(&self, customer: usize) -> usize {
        self.at_customer[customer]
            .iter()
            .filter(|&&c| self.w.cylinders[c].custody == Custody::AtCustomer)
            .count()
    }

    /// Puts the enterprise's pending anomalies into this truck's remaining round: extra stops
    /// in front, or a flaw on its next handover.
    pub fn apply_pending(&mut self, v: usize) {
        let e = self.vehicles[v].enterprise;
        let mut p = std::mem::take(&mut self.pending[e]);
        if p.off_site > 0 {
            let next = self.vehicles[v].stops.iter_mut().find(
                |s| matches!(s, Stop::Customer { deliver, off_site: false, .. } if !deliver.is_empty()),
            );
            if let Some(Stop::Customer { off_site, .. }) = next {
                *off_site = true;
                p.off_site -= 1;
            }
        }
        if p.unlicensed > 0 {
            let consignee = self.ent_customers[e].iter().copied().find(|&c| {
                !self.w.customers[c].licensed && self.w.customers[c].kind == "industrial"
            });
            if let Some(customer) = consignee {
                if let Some(deliver) = self.steal(v, 1) {
                    p.unlicensed -= 1;
                    self.vehicles[v].stops.push_front(Stop::Customer {
                        customer,
                        deliver,
                        collect: false,
                        off_site: false,
                    });
                }
            }
        }
        // The truck passes by the customers holding unfit cylinders first (pushed last: in
        // front of the other extra stops, a long stop or a detour).
        let collect = std::mem::take(&mut p.collect);
        self.pending[e] = p;
        self.collect_first(v, collect);
    }

    /// The truck passes by the customers holding these unfit cylinders first.
    pub(super) fn collect_first(&mut self, v: usize, collect: Vec<(usize, &'static str)>) {
        for (c, kind) in collect {
            if let Some(customer) = self.w.cylinders[c].customer {
                let code = self.w.cylinders[c].code.clone();
                let why = "an unfit cylinder collected from a customer";
                self.ledger.allow(kind, "cylinder", &code, why);
                self.vehicles[v].stops.push_front(Stop::Customer {
                    customer,
                    deliver: Vec::new(),
                    collect: true,
                    off_site: false,
                });
            }
        }
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
