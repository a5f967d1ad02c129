//! Injected anomalies, one kind after the other so that every alert kind shows up: each either
//! happens at once (a question at the gun, a late record, a back-dated delivery, a device that
//! dies) or is handed to the next filling or trip of an enterprise, and is written into the
//! ledger when it really happened.

use super::cycle::Sim;
use super::wire::{id, At};
use super::world::Fitness;
use rand::Rng;
use shared::cylinder::Custody;
use shared::filling::AuthorizeRequest;
use shared::registry::CylinderBatch;

/// Every alert kind the simulator injects, in turn.
pub const KINDS: [&str; 18] = [
    // Those that show at once first, so that a fresh demo has alerts within a minute.
    "illegal_tag",
    "filling_refused",
    "late_filling_record",
    "cylinder_lost",
    "overfill",
    "delivery_off_site",
    "staff_uncertified",
    "restricted_zone",
    "tare_mismatch",
    "cylinder_overdue",
    "overweight_stock",
    "unloaded_unknown_place",
    "controlled_medium_unlicensed",
    "cylinder_life_expired",
    "suspicious_stop",
    "device_silent",
    "cylinder_scrapped_in_use",
    "corridor_exit",
];

/// A dead tracker is repaired after this long (wall-clock seconds): longer than the
/// platform's default `device_silent_s` (1800), so its silence was raised first.
const REPAIRED_AFTER_S: f64 = 3600.0;

impl Sim {
    /// Licensed LPG enterprises, one picked at random.
    fn lpg_enterprise(&mut self) -> Option<usize> {
        let list: Vec<usize> = (0..self.w.enterprises.len())
            .filter(|&e| self.w.enterprises[e].licensed && self.w.enterprises[e].medium == "LPG")
            .collect();
        (!list.is_empty()).then(|| list[self.rng.random_range(0..list.len())])
    }

    /// A reserved cylinder of `fitness` (at a customer when `at_customer`) of a licensed LPG
    /// company (`owner` when given), taken.
    fn reserved(
        &mut self,
        fitness: Fitness,
        at_customer: bool,
        owner: Option<usize>,
    ) -> Option<usize> {
        let ents = &self.w.enterprises;
        let c = self.w.cylinders.iter().position(|c| {
            c.reserved
                && owner.is_none_or(|o| c.enterprise == o)
                && c.fitness == fitness
                && c.customer.is_some() == at_customer
                && !c.filled
                && ents[c.enterprise].licensed
                && ents[c.enterprise].medium == "LPG"
        })?;
        self.w.cylinders[c].filled = true;
        Some(c)
    }

    /// A reserved cylinder of `fitness` (see `reserved`; of enterprise `e` only when `own`);
    /// when the reserve is used up, as a company does, one bought for enterprise `e`
    /// (registered through the API) and given the history the anomaly needs: an unfit one
    /// delivered to a customer 55–80 days back (a scrapped one also scrapped 10–20 days back,
    /// the paperwork ahead of the cylinder), a fit one empty in stock. `kind` counts the
    /// replenishment in the ledger.
    async fn reserved_or_new(
        &mut self,
        kind: &str,
        e: usize,
        own: bool,
        fitness: Fitness,
        at_customer: bool,
    ) -> Option<usize> {
        if let Some(c) = self.reserved(fitness, at_customer, own.then_some(e)) {
            return Some(c);
        }
        // A customer holding nothing, of this company or the next licensed LPG one that has
        // one (which then buys the cylinder), found before buying.
        let (e, customer) = if at_customer {
            let (o, free) = self.free_customers(e)?;
            (o, Some(free[self.rng.random_range(0..free.len())]))
        } else {
            (e, None)
        };
        let c = self.new_cylinder(kind, e, fitness).await?;
        self.w.cylinders[c].reserved = true;
        self.w.cylinders[c].filled = true;
        if let Some(k) = customer {
            let day = 86_400.0;
            let back = self.rng.random_range(55.0..80.0);
            let (code, at) = (self.w.customers[k].code.clone(), self.w.customers[k].at);
            let phone = self.phone[e];
            self.scan(
                phone,
                self.t - back * day,
                "deliver",
                c,
                At::customer(&code, at),
            );
            self.w.cylinders[c].customer = Some(k);
            self.at_customer[k].push(c);
            if fitness == Fitness::Scrapped {
                let station = self.w.stations[self.w.cylinders[c].station].code.clone();
                let back = self.rng.random_range(10.0..20.0);
                let ctl = self.controller[e];
                self.scan(ctl, self.t - back * day, "scrap", c, At::station(&station));
            } else {
                self.w.cylinders[c].custody = Custody::AtCustomer;
            }
        }
        Some(c)
    }

    /// The customers holding nothing (no cylinder, none lost there) of enterprise `e`, or of
    /// the next licensed LPG enterprise after it that has some.
    fn free_customers(&self, e: usize) -> Option<(usize, Vec<usize>)> {
        let n = self.w.enterprises.len();
        (0..n).map(|i| (e + i) % n).find_map(|o| {
            let ent = &self.w.enterprises[o];
            if !ent.licensed || ent.medium != "LPG" {
                return None;
            }
            let free: Vec<usize> = self.ent_customers[o]
                .iter()
                .copied()
                .filter(|&k| self.at_customer[k].is_empty() && !self.lost_at[k])
                .collect();
            (!free.is_empty()).then_some((o, free))
        })
    }

    /// A cylinder of `fitness` bought by enterprise `e` now: its archive registered through
    /// `POST /api/v1/cylinders`, dated so that its fitness holds today (sim time). None when
    /// the platform did not take it.
    async fn new_cylinder(&mut self, kind: &str, e: usize, fitness: Fitness) -> Option<usize> {
        let c = self.w.add_cylinder(e, fitness, &mut self.rng);
        let today = shared::time::to_beijing(self.time(self.t)).date_naive();
        let archive = self.w.archive(&self.w.cylinders[c], today, &mut self.rng);
        let answer = match archive {
            Ok(archive) => {
                let batch = CylinderBatch {
                    items: vec![archive],
                };
                self.api
                    .client
                    .create_cylinders(&batch)
                    .await
                    .map_err(Into::into)
            }
            Err(e) => Err(e),
        };
        self.filled_at.push(None);
        self.delivered_at.push(f64::NEG_INFINITY);
        match answer {
            Ok(a) if a.created == 1 => {
                *self.ledger.replenished.entry(kind.to_owned()).or_default() += 1;
                Some(c)
            }
            other => {
                tracing::warn!(?other, "registering a new cylinder failed");
                // Kept in the world (its index is taken) but out of every count: never used.
                self.w.cylinders[c].custody = Custody::Scrapped;
                self.w.cylinders[c].reserved = true;
                self.w.cylinders[c].filled = true;
                None
            }
        }
    }

    /// Injects one anomaly of `kind`; false when there was no candidate.
    pub async fn inject(&mut self, kind: &str) -> bool {
        let Some(e) = self.lpg_enterprise() else {
            return false;
        };
        let t = self.t;
        match kind {
            "overfill" => self.pending[e].overfill += 1,
            "tare_mismatch" => self.pending[e].tare += 1,
            "staff_uncertified" => self.pending[e].uncertified += 1,
            "delivery_off_site" => self.pending[e].off_site += 1,
            // On the first loaded truck on the road (any LPG company's).
            "overweight_stock" => self.flaws.hoard += 1,
            "unloaded_unknown_place" => self.flaws.drop += 1,
            "suspicious_stop" => self.flaws.idle += 1,
            "restricted_zone" => self.flaws.zone += 1,
            "controlled_medium_unlicensed" => {
                let Some(n2o) = self.w.enterprises.iter().position(|x| x.medium == "N2O") else {
                    return false;
                };
                self.pending[n2o].unlicensed += 1;
            }
            "cylinder_overdue" | "cylinder_life_expired" | "cylinder_scrapped_in_use" => {
                let fitness = match kind {
                    "cylinder_overdue" => Fitness::Overdue,
                    "cylinder_life_expired" => Fitness::LifeExpired,
                    _ => Fitness::Scrapped,
                };
                let Some(c) = self.reserved_or_new(kind, e, false, fitness, true).await else {
                    return false;
                };
                let owner = self.w.cylinders[c].enterprise;
                let kind = match fitness {
                    Fitness::Overdue => "cylinder_overdue",
                    Fitness::LifeExpired => "cylinder_life_expired",
                    _ => "cylinder_scrapped_in_use",
                };
                self.pending[owner].collect.push((c, kind));
            }
            "illegal_tag" => {
                let s = self.w.enterprises[e].filling_station;
                let station = self.w.stations[s].code.clone();
                let tag = format!("FFFF{:012X}", self.rng.random_range(0..u64::from(u32::MAX)));
                let question = || -> anyhow::Result<AuthorizeRequest> {
                    Ok(AuthorizeRequest {
                        cylinder_code: None,
                        tag_id: Some(id(&tag)?),
                        station_code: id(&station)?,
                        gun_no: id("G1")?,
                        medium: id("LPG")?,
                        staff_no: id(&self.w.enterprises[e].fillers[0])?,
                    })
                };
                let Ok(question) = question() else {
                    return false;
                };
                let key = self.devices[self.controller[e]].key.clone();
                let (_, answer, _) = self.api.authorize(&key, &question).await;
                if answer.is_none_or(|a| a.allowed) {
                    return false;
                }
                self.ledger.inject(
                    "illegal_tag",
                    "station",
                    &station,
                    "an unknown tag put to the gun",
                );
            }
            "filling_refused" => {
                // In turn: an unregistered cylinder (from the reserve, else one taken in) put
                // to a licensed company's gun, and a company whose licence expired trying to
                // fill one of its own.
                self.refusal_turn += 1;
                let unlicensed = if self.refusal_turn.is_multiple_of(2) {
                    self.w.enterprises.iter().position(|x| !x.licensed)
                } else {
                    None
                };
                let found = unlicensed.and_then(|u| {
                    let c = self.w.cylinders.iter().position(|c| {
                        c.enterprise == u
                            && c.fitness == Fitness::Ok
                            && !c.reserved
                            && c.custody == Custody::InStockEmpty
                            && c.customer.is_none()
                    })?;
                    Some((u, c))
                });
                let (owner, c) = match found {
                    Some(found) => found,
                    None => {
                        let Some(c) = self
                            .reserved_or_new(kind, e, false, Fitness::Unregistered, false)
                            .await
                        else {
                            return false;
                        };
                        (self.w.cylinders[c].enterprise, c)
                    }
                };
                self.w.cylinders[c].reserved = true;
                self.w.cylinders[c].filled = true;
                self.to_refuse.push((owner, c));
            }
            "late_filling_record" => {
                let Some(c) = self
                    .reserved_or_new(kind, e, false, Fitness::Ok, false)
                    .await
                else {
                    return false;
                };
                let owner = self.w.cylinders[c].enterprise;
                if !self.w.enterprises[owner].licensed {
                    return false;
                }
                let end = t - self.late_record_s;
                let staff = self.w.enterprises[owner].fillers[0].clone();
                self.record_filling(owner, c, end - 150.0, end, None, &staff)
                    .await;
                let s = self.w.enterprises[owner].filling_station;
                let station = self.w.stations[s].code.clone();
                self.ledger.inject(
                    "late_filling_record",
                    "station",
                    &station,
                    "a filling record uploaded long after the filling",
                );
            }
            "cylinder_lost" => {
                // A customer holding nothing, of this company or the next licensed LPG one
                // that has one: the old cylinder, still there on paper, keeps within its
                // limit whatever comes next.
                let Some((owner, free)) = self.free_customers(e) else {
                    return false;
                };
                let customer = free[0];
                let Some(c) = self
                    .reserved_or_new(kind, owner, true, Fitness::Ok, false)
                    .await
                else {
                    return false;
                };
                // Delivered long ago and never seen since: the phone's old record surfaces.
                let long_ago = t - 100.0 * 86_400.0;
                let at = self.w.customers[customer].at;
                let code = self.w.customers[customer].code.clone();
                let phone = self.phone[owner];
                self.scan(phone, long_ago, "deliver", c, At::customer(&code, at));
                self.w.cylinders[c].custody = Custody::Lost;
                self.lost_at[customer] = true;
                let cyl = self.w.cylinders[c].code.clone();
                self.ledger.inject(
                    "cylinder_lost",
                    "cylinder",
                    &cyl,
                    "delivered 100 days ago, never seen since",
                );
            }
            "device_silent" => {
                let Some(v) = self.vehicles.iter().position(|v| {
                    v.corridor.is_some() && v.index % 2 == 1 && !self.devices[v.gps_device].silent
                }) else {
                    // Every tracker that may die is dead: the one dead longest (at least
                    // REPAIRED_AFTER_S of wall clock, past the platform's default silence) is
                    // repaired and sends again, to die at a later turn.
                    let now = super::cycle::unix_now();
                    let dead = self
                        .vehicles
                        .iter()
                        .filter(|v| v.corridor.is_some() && v.index % 2 == 1)
                        .map(|v| v.gps_device)
                        .filter(|&d| now - self.devices[d].silent_since >= REPAIRED_AFTER_S)
                        .min_by(|&a, &b| {
                            self.devices[a]
                                .silent_since
                                .total_cmp(&self.devices[b].silent_since)
                        });
                    if let Some(d) = dead {
                        self.devices[d].silent = false;
                    }
                    return false;
                };
                let d = self.vehicles[v].gps_device;
                self.devices[d].silent = true;
                self.devices[d].silent_since = super::cycle::unix_now();
                let id = self.devices[d].id.clone();
                self.ledger
                    .inject("device_silent", "device", &id, "a vehicle's tracker died");
            }
            "corridor_exit" => {
                let Some(v) = self
                    .vehicles
                    .iter()
                    .position(|v| v.corridor.is_some() && v.index % 2 == 0 && !v.exit_pending)
                else {
                    return false;
                };
                self.vehicles[v].exit_pending = true;
            }
            _ => return false,
        }
        true
    }
}
