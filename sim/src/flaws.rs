//! Flaws of a delivery (a restaurant taking more full cylinders than it may keep, a full
//! cylinder left away from every site, a loaded truck standing long away from sites, a drive
//! through a restricted zone), put on the first (loaded) truck on the road; unfit cylinders at customers collected by the first
//! truck of their company on the road.
//!
//! They wait for no particular company: a truck of any licensed LPG company that is driving
//! with enough full cylinders on board takes the flaw as its next stop at once. Handed to one
//! company's next round instead, a flaw could wait for the rest of a short run (that company's
//! fillings held up at the gate, its trucks empty) and never happen.

use super::city::delta_m;
use super::cycle::Sim;
use super::trips::{Phase, Stop};

/// Flaws waiting for a loaded truck.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flaws {
    pub hoard: u32,
    pub drop: u32,
    pub idle: u32,
    pub zone: u32,
}

impl Sim {
    /// Puts each waiting flaw on a loaded truck of a licensed LPG company that is on the road,
    /// as its next stop (rerouted there from where it is).
    pub fn place_flaws(&mut self) {
        let collects = self.pending.iter().any(|p| !p.collect.is_empty());
        if !collects && self.flaws == Flaws::default() {
            return;
        }
        for v in 0..self.vehicles.len() {
            if matches!(self.vehicles[v].phase, Phase::Stopped { .. }) {
                // At its next stop: the flaw (if any) is done.
                self.vehicles[v].flaw_ahead = false;
            }
            let veh = &self.vehicles[v];
            let ent = &self.w.enterprises[veh.enterprise];
            let on_road = veh.phase == Phase::Driving && veh.corridor.is_none();
            // One flaw at a time: a drop could take a hoard's cylinder, or leave a long stop
            // unloaded.
            if !on_road || veh.flaw_ahead {
                continue;
            }
            let e = veh.enterprise;
            let lpg = ent.licensed && ent.medium == "LPG";
            if !self.pending[e].collect.is_empty() {
                // Unfit cylinders at the company's customers: this truck of the company
                // collects them on its way (rather than a truck of its next round).
                let collect = std::mem::take(&mut self.pending[e].collect);
                self.collect_first(v, collect);
            } else if !lpg {
                continue;
            } else if self.flaws.hoard > 0 && self.hoard_on(v) {
                self.flaws.hoard -= 1;
            } else if self.flaws.drop > 0 && self.drop_from(v) {
                self.flaws.drop -= 1;
            } else if self.flaws.idle > 0 && self.idle_on(v) {
                self.flaws.idle -= 1;
            } else if self.flaws.zone > 0 {
                self.flaws.zone -= 1;
                self.through_zone(v);
            } else {
                continue;
            }
            self.vehicles[v].flaw_ahead = true;
            let home =
                self.w.stations[self.w.enterprises[self.vehicles[v].enterprise].filling_station].at;
            let next = self.vehicles[v]
                .stops
                .front()
                .map_or(home, |s| s.place(&self.w, home));
            self.route_to(v, next);
        }
    }

    /// The company's restaurant already holding the most full cylinders gets enough of this
    /// truck's to hold more than it may keep; false when the truck carries too few.
    fn hoard_on(&mut self, v: usize) -> bool {
        let e = self.vehicles[v].enterprise;
        let Some(customer) = self.ent_customers[e]
            .iter()
            .copied()
            .filter(|&c| self.w.customers[c].kind == "restaurant")
            .max_by_key(|&c| self.full_at(c))
        else {
            return false;
        };
        let limit = usize::try_from(self.w.customers[customer].limit).unwrap_or(4);
        let n = (limit + 1).saturating_sub(self.full_at(customer)).max(2);
        if self.can_steal(v) < n {
            return false;
        }
        let Some(deliver) = self.steal(v, n) else {
            return false;
        };
        let code = self.w.customers[customer].code.clone();
        let why = "a restaurant hoarding full cylinders";
        self.ledger
            .allow("overweight_stock", "customer", &code, why);
        self.vehicles[v].stops.push_front(Stop::Customer {
            customer,
            deliver,
            collect: false,
            off_site: false,
        });
        true
    }

    /// One full cylinder of this truck's is left where it drives now, away from every site.
    fn drop_from(&mut self, v: usize) -> bool {
        let Some(mut taken) = self.steal(v, 1) else {
            return false;
        };
        let at = self.nowhere(self.vehicles[v].pos);
        let cylinder = taken.remove(0);
        self.vehicles[v]
            .stops
            .push_front(Stop::Drop { at, cylinder });
        true
    }

    /// A long stop away from every site, loaded (and so at the stop: nothing is taken off
    /// before it).
    fn idle_on(&mut self, v: usize) -> bool {
        if self.vehicles[v].cargo.is_empty() {
            return false;
        }
        let plate = self.vehicles[v].plate.clone();
        let at = self.nowhere(self.vehicles[v].pos);
        let why = "a loaded stop away from sites";
        self.ledger.allow("suspicious_stop", "vehicle", &plate, why);
        self.vehicles[v]
            .stops
            .push_front(Stop::Idle { at, secs: 1500.0 });
        true
    }

    /// The truck drives through the restricted zone nearest before its next stop.
    fn through_zone(&mut self, v: usize) {
        let pos = self.vehicles[v].pos;
        let at = self
            .w
            .zones
            .iter()
            .map(|z| z.at)
            .min_by(|a, b| {
                let (ax, ay) = delta_m(pos, *a);
                let (bx, by) = delta_m(pos, *b);
                ax.hypot(ay).total_cmp(&bx.hypot(by))
            })
            .unwrap_or(pos);
        let plate = self.vehicles[v].plate.clone();
        let why = "driven through a restricted zone";
        self.ledger.allow("restricted_zone", "vehicle", &plate, why);
        self.vehicles[v].stops.push_front(Stop::Via {
            at,
            why: "restricted_zone",
        });
    }
}
