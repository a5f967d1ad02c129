//! What a vehicle does where it stops: hands over and takes back cylinders at a customer, its
//! reader reporting what is on board; drops or takes at a distribution point; unloads at home;
//! the injected extra stops (a drop away from sites, a zone, a corridor exit) written into the
//! ledger when they really happen.

use super::city::offset;
use super::cycle::{Fill, Sim};
use super::trips::Stop;
use super::wire::{round6, At};
use super::world::Fitness;
use rand::Rng;
use shared::cylinder::Custody;

impl Sim {
    /// Acts at the vehicle's current stop (once per stop), at `since` or later.
    pub(super) fn act_at_stop(&mut self, v: usize, since: f64) {
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
                    // What another truck handed over this very tick stays: its scans are
                    // dated after these.
                    let (fresh, held): (Vec<usize>, Vec<usize>) =
                        std::mem::take(&mut self.at_customer[customer])
                            .into_iter()
                            .partition(|&c| self.delivered_at[c] >= t);
                    self.at_customer[customer] = fresh;
                    for c in held {
                        self.scan(
                            phone,
                            t + 1.0,
                            "collect_empty",
                            c,
                            At::customer(&code, (round6(pos.0), round6(pos.1)))
                                .vehicle(&plate)
                                .staff(&driver),
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
                        At::customer(&code, (round6(at.0), round6(at.1)))
                            .vehicle(&plate)
                            .staff(&driver),
                    );
                    let cyl = &mut self.w.cylinders[*c];
                    cyl.custody = Custody::AtCustomer;
                    cyl.customer = Some(customer);
                    self.delivered_at[*c] = t;
                    self.ledger
                        .handovers
                        .insert(cyl.code.clone(), plate.clone());
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
                    && i64::try_from(self.full_at(customer)).unwrap_or(0)
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
            Stop::Depot {
                station,
                drop,
                take,
            } => {
                let code = self.w.stations[station].code.clone();
                if !drop.is_empty() {
                    self.restocking[station] = false;
                }
                for c in drop {
                    self.scan(
                        phone,
                        t + 1.0,
                        "unload",
                        c,
                        At::station(&code).vehicle(&plate).staff(&driver),
                    );
                    self.w.cylinders[c].custody = Custody::InStockFull;
                    self.w.cylinders[c].depot = Some(station);
                    self.vehicles[v].cargo.retain(|x| *x != c);
                    self.depot_stock[station].push(c);
                    *self
                        .ledger
                        .depot_moves
                        .entry("restocked".into())
                        .or_default() += 1;
                }
                for c in take {
                    self.scan(
                        phone,
                        t + 2.0,
                        "load",
                        c,
                        At::station(&code).vehicle(&plate).staff(&driver),
                    );
                    self.w.cylinders[c].custody = Custody::InTransitDelivery;
                    self.w.cylinders[c].depot = None;
                    self.vehicles[v].cargo.push(c);
                    *self.ledger.depot_moves.entry("taken".into()).or_default() += 1;
                }
                self.vehicles[v].cargo_changed = true;
            }
            Stop::Home => {
                let s = self.w.enterprises[e].filling_station;
                let station = self.w.stations[s].code.clone();
                for c in std::mem::take(&mut self.vehicles[v].cargo) {
                    let custody = self.w.cylinders[c].custody;
                    if custody == Custody::InTransitDelivery {
                        self.scan(
                            phone,
                            t + 1.0,
                            "unload",
                            c,
                            At::station(&station).vehicle(&plate).staff(&driver),
                        );
                        self.w.cylinders[c].custody = Custody::InStockFull;
                        self.fills[e].push(Fill::Storing {
                            cylinder: c,
                            ready: t + 10.0,
                        });
                        continue;
                    }
                    self.scan(
                        phone,
                        t + 1.0,
                        "return_in",
                        c,
                        At::station(&station).vehicle(&plate).staff(&driver),
                    );
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
}
