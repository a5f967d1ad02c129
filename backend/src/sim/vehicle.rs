//! One simulated vehicle: drives along grid-like streets (east-west then north-south legs)
//! between places near its depot, stops a while, and drives on.

use super::city::{delta_m, offset, City};
use rand::Rng;
use std::collections::VecDeque;

/// A vehicle's state in the simulation.
pub struct SimVehicle {
    pub plate: String,
    pub lon: f64,
    pub lat: f64,
    pub speed_kmh: f64,
    pub heading: f64,
    depot: (f64, f64),
    route: VecDeque<(f64, f64)>,
    cruise_kmh: f64,
    dwell_s: f64,
}

/// How far from its depot a vehicle's trips go, in metres.
const TRIP_RADIUS_M: f64 = 6_000.0;

impl SimVehicle {
    /// A vehicle parked at its depot.
    pub fn new(plate: String, depot: (f64, f64)) -> Self {
        Self {
            plate,
            lon: depot.0,
            lat: depot.1,
            speed_kmh: 0.0,
            heading: 0.0,
            depot,
            route: VecDeque::new(),
            cruise_kmh: 30.0,
            dwell_s: 0.0,
        }
    }

    /// Advances the vehicle by `dt` seconds.
    pub fn step(&mut self, dt: f64, city: &City, rng: &mut impl Rng) {
        if self.dwell_s > 0.0 {
            self.dwell_s -= dt;
            self.speed_kmh = 0.0;
            return;
        }
        if self.route.is_empty() {
            self.plan(city, rng);
        }
        let speed = (self.cruise_kmh + rng.random_range(-5.0..=5.0)).max(5.0);
        let mut budget_m = speed / 3.6 * dt;
        while budget_m > 0.0 {
            let Some(&next) = self.route.front() else {
                break;
            };
            let (dx, dy) = delta_m((self.lon, self.lat), next);
            let dist = dx.hypot(dy);
            if dist > 0.5 {
                self.heading = (dx.atan2(dy).to_degrees() + 360.0) % 360.0;
            }
            if dist <= budget_m {
                (self.lon, self.lat) = next;
                budget_m -= dist;
                self.route.pop_front();
            } else {
                (self.lon, self.lat) = offset(
                    self.lon,
                    self.lat,
                    dx / dist * budget_m,
                    dy / dist * budget_m,
                );
                budget_m = 0.0;
            }
        }
        self.speed_kmh = speed;
        if self.route.is_empty() {
            // Arrived: a stop to load or hand over cylinders.
            self.dwell_s = rng.random_range(20.0..=120.0);
            self.speed_kmh = 0.0;
        }
    }

    /// A new trip: to a random place near the depot (or home, one trip in three).
    fn plan(&mut self, city: &City, rng: &mut impl Rng) {
        let target = if rng.random_bool(1.0 / 3.0) {
            self.depot
        } else {
            city.random_point_near(self.depot.0, self.depot.1, TRIP_RADIUS_M, rng)
        };
        // Streets: an east-west leg then a north-south leg, with the corner nudged so that
        // not every vehicle turns at the same meridian.
        let corner = if rng.random_bool(0.5) {
            (target.0, self.lat)
        } else {
            (self.lon, target.1)
        };
        self.route = VecDeque::from([corner, target]);
        self.cruise_kmh = rng.random_range(20.0..=50.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::path::Path;

    #[test]
    fn vehicles_move_at_plausible_speeds_and_stay_in_town() -> anyhow::Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/basemap/zhengzhou_districts.wgs84.geojson");
        let city = City::load(&path)?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let depot = city.random_point_in(3, &mut rng);
        let mut v = SimVehicle::new("豫A00001".into(), depot);
        let mut moved = 0.0;
        for _ in 0..1000 {
            let before = (v.lon, v.lat);
            v.step(2.0, &city, &mut rng);
            let (dx, dy) = delta_m(before, (v.lon, v.lat));
            let step = dx.hypot(dy);
            assert!(step <= 56.0 / 3.6 * 2.0 + 1e-6, "jumped {step} m in 2 s");
            moved += step;
            let (ox, oy) = delta_m(depot, (v.lon, v.lat));
            assert!(ox.abs() <= TRIP_RADIUS_M + 1.0 && oy.abs() <= TRIP_RADIUS_M + 1.0);
        }
        assert!(moved > 5_000.0, "moved only {moved} m in 2000 s");
        Ok(())
    }
}
