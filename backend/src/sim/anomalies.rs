//! Injected anomalies, one kind after the other so that every alert kind shows up: each either
//! happens at once (a question at the gun, a late record, a back-dated delivery, a device that
//! dies) or is handed to the next filling or trip of an enterprise, and is written into the
//! ledger when it really happened.

use super::cycle::Sim;
use super::world::Fitness;
use rand::Rng;
use serde_json::json;
use shared::cylinder::Custody;

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

impl Sim {
    /// Licensed LPG enterprises, one picked at random.
    fn lpg_enterprise(&mut self) -> Option<usize> {
        let list: Vec<usize> = (0..self.w.enterprises.len())
            .filter(|&e| self.w.enterprises[e].licensed && self.w.enterprises[e].medium == "LPG")
            .collect();
        (!list.is_empty()).then(|| list[self.rng.random_range(0..list.len())])
    }

    /// A reserved cylinder of `fitness` (at a customer when `at_customer`), taken.
    fn reserved(&mut self, fitness: Fitness, at_customer: bool) -> Option<usize> {
        let c = self.w.cylinders.iter().position(|c| {
            c.reserved && c.fitness == fitness && c.customer.is_some() == at_customer && !c.filled
        })?;
        self.w.cylinders[c].filled = true;
        Some(c)
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
            "overweight_stock" => self.pending[e].hoard += 1,
            "unloaded_unknown_place" => self.pending[e].drop += 1,
            "suspicious_stop" => self.pending[e].idle += 1,
            "restricted_zone" => self.pending[e].zone += 1,
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
                let Some(c) = self.reserved(fitness, true) else {
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
                let body = json!({"tag_id": tag, "station_code": station, "gun_no": "G1",
                    "medium": "LPG", "staff_no": self.w.enterprises[e].fillers[0]});
                let key = self.devices[self.controller[e]].key.clone();
                let (status, answer) = self
                    .api
                    .as_device("/api/v1/fillings/authorize", &key, &body)
                    .await;
                if status != 200 || answer["allowed"] != json!(false) {
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
                // An enterprise whose licence expired tries to fill; else an unregistered
                // cylinder is put to the gun.
                let unlicensed = self.w.enterprises.iter().position(|x| !x.licensed);
                let (owner, fitness) = match unlicensed {
                    Some(u) if self.rng.random_bool(0.5) => (u, Fitness::Ok),
                    _ => (e, Fitness::Unregistered),
                };
                let Some(c) = self.w.cylinders.iter().position(|c| {
                    c.enterprise == owner
                        && c.fitness == fitness
                        && !c.reserved
                        && c.custody == Custody::InStockEmpty
                        && c.customer.is_none()
                }) else {
                    return false;
                };
                self.w.cylinders[c].reserved = true;
                self.to_refuse.push((owner, c));
            }
            "late_filling_record" => {
                let Some(c) = self.reserved(Fitness::Ok, false) else {
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
                let Some(c) = self.reserved(Fitness::Ok, false) else {
                    return false;
                };
                let owner = self.w.cylinders[c].enterprise;
                // A customer holding nothing: the old cylinder, still there on paper, keeps
                // within its limit whatever comes next.
                let Some(&customer) = self.ent_customers[owner].iter().find(|&&k| {
                    (self.w.customers[k].licensed || self.w.enterprises[owner].medium != "N2O")
                        && self.at_customer[k].is_empty()
                        && !self.lost_at[k]
                }) else {
                    return false;
                };
                // Delivered long ago and never seen since: the phone's old record surfaces.
                let long_ago = t - 100.0 * 86_400.0;
                let at = self.w.customers[customer].at;
                let code = self.w.customers[customer].code.clone();
                let phone = self.phone[owner];
                self.scan(
                    phone,
                    long_ago,
                    "deliver",
                    c,
                    json!({"customer_code": code, "lon": at.0, "lat": at.1}),
                );
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
                    return false;
                };
                let d = self.vehicles[v].gps_device;
                self.devices[d].silent = true;
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
