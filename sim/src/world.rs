//! The simulated city's registry: enterprises, stations, customers, staff, vehicles and
//! cylinders with a realistic compliance mix, generated deterministically from the seed, and
//! registered through the public registry API.

use super::city::{delta_m, offset, City};
use super::http::Api;
use super::wire::{id, point};
use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::Rng;
use shared::cylinder::Custody;
use shared::registry::{
    CustomerKind, CylinderArchive, CylinderBatch, GeofenceKind, NewCustomer, NewEnterprise,
    NewGeofence, NewStaff, NewStation, NewVehicle, StaffRole, StationKind,
};

/// How big the city is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub enterprises: usize,
    pub stations: usize,
    pub vehicles: usize,
    pub customers: usize,
    pub cylinders: usize,
}

/// Why a cylinder is (or is not) fit to fill, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fitness {
    Ok,
    DueSoon,
    Overdue,
    LifeExpired,
    Scrapped,
    Unregistered,
}

pub struct Enterprise {
    pub code: String,
    pub medium: &'static str,
    /// Licences valid today; an enterprise whose licence expired never gets a filling allowed.
    pub licensed: bool,
    pub district: String,
    pub home: (f64, f64),
    pub filling_station: usize,
    /// Staff numbers: fillers, drivers, and one whose certificate expired.
    pub fillers: Vec<String>,
    pub drivers: Vec<String>,
    pub uncertified: String,
}

pub struct Station {
    pub code: String,
    pub enterprise: usize,
    pub kind: &'static str,
    pub at: (f64, f64),
    pub limit: i64,
}

pub struct Customer {
    pub code: String,
    pub enterprise: usize,
    pub kind: &'static str,
    pub at: (f64, f64),
    /// The district its point lies in.
    pub district: String,
    pub limit: i64,
    pub licensed: bool,
}

pub struct Vehicle {
    pub plate: String,
    pub enterprise: usize,
}

pub struct Cylinder {
    pub code: String,
    pub tag: String,
    pub enterprise: usize,
    pub station: usize,
    pub medium: &'static str,
    pub tare_kg: f64,
    pub max_fill_kg: f64,
    pub fitness: Fitness,
    /// What the simulator knows is true of it now.
    pub custody: Custody,
    pub customer: Option<usize>,
    /// Reserved for an injected anomaly: the regular cycle leaves it alone.
    pub reserved: bool,
    /// In stock at this distribution point or warehouse (in stock elsewhere: at its own
    /// filling station, `station`).
    pub depot: Option<usize>,
    /// Filled during this run (sim time): not again within 24 h; or, reserved, taken by an
    /// injected anomaly.
    pub filled: bool,
}

/// A circle vehicles must keep out of.
pub struct Zone {
    pub name: String,
    pub at: (f64, f64),
    pub radius_m: f64,
}

pub struct World {
    pub enterprises: Vec<Enterprise>,
    pub stations: Vec<Station>,
    pub customers: Vec<Customer>,
    pub vehicles: Vec<Vehicle>,
    pub cylinders: Vec<Cylinder>,
    pub zones: Vec<Zone>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞", "平",
];
const SHOPS: &[&str] = &[
    "烩面馆",
    "包子铺",
    "胡辣汤",
    "火锅店",
    "饭店",
    "面馆",
    "烧烤",
];

fn person(rng: &mut StdRng) -> String {
    format!(
        "{}{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

/// The districts' codes, in base-map order.
pub fn district_codes(city: &City) -> Vec<String> {
    city.districts.iter().map(|d| d.code.clone()).collect()
}

impl World {
    /// The city of `sizes`, the same for the same seed. `today` dates the compliance mix.
    pub fn generate(city: &City, sizes: Sizes, today: NaiveDate, rng: &mut StdRng) -> Self {
        let districts = district_codes(city);
        // The urban districts (the first six) get most of the city.
        let urban = districts.len().min(6);
        let n_ent = sizes.enterprises.max(2);
        let mut enterprises = Vec::with_capacity(n_ent);
        let mut stations = Vec::new();
        for e in 0..n_ent {
            let d = if e < urban * 2 {
                e % urban
            } else {
                e % districts.len()
            };
            let home = city.random_point_in(d, rng);
            // The last enterprise is an industrial-gas company with N2O; one in eight LPG
            // companies has let a licence expire.
            let medium = if e == n_ent - 1 { "N2O" } else { "LPG" };
            let licensed = !(n_ent >= 5 && e % 8 == 3);
            let code = format!("E{:02}", e + 1);
            stations.push(Station {
                code: format!("{code}-F"),
                enterprise: e,
                kind: "filling",
                at: home,
                limit: 0,
            });
            enterprises.push(Enterprise {
                code,
                medium,
                licensed,
                district: districts[d].clone(),
                home,
                filling_station: stations.len() - 1,
                fillers: Vec::new(),
                drivers: Vec::new(),
                uncertified: String::new(),
            });
        }
        // Distribution points and warehouses around each company's filling station.
        let mut k = 0;
        while stations.len() < sizes.stations.max(n_ent) {
            let e = k % n_ent;
            let (lon, lat) = enterprises[e].home;
            let at = city.random_point_near(lon, lat, 6_000.0, rng);
            let kind = if k % 3 == 2 {
                "warehouse"
            } else {
                "distribution"
            };
            stations.push(Station {
                code: format!(
                    "{}-{}{:02}",
                    enterprises[e].code,
                    &kind[..1].to_uppercase(),
                    k / n_ent + 1
                ),
                enterprise: e,
                kind,
                at,
                limit: 300,
            });
            k += 1;
        }
        let mut customers: Vec<Customer> = Vec::with_capacity(sizes.customers);
        // Customers at least 60 m apart (a tag left within 50 m of two of them would go to
        // either): a grid of 100 m cells remembers who is where.
        let mut grid: std::collections::HashMap<(u64, u64), Vec<usize>> =
            std::collections::HashMap::new();
        // Cells by the bits of their whole-numbered coordinates (metres / 100 from a corner
        // south-west of the city, so never negative).
        let cell = |at: (f64, f64), i: f64, j: f64| {
            let (x, y) = delta_m((113.0, 34.0), at);
            (
                ((x / 100.0).floor() + i).to_bits(),
                ((y / 100.0).floor() + j).to_bits(),
            )
        };
        for i in 0..sizes.customers.max(n_ent * 4) {
            let e = i % n_ent;
            let (lon, lat) = enterprises[e].home;
            // Not within a station's circle: a tag left there would count as back in stock
            // (the platform places it at the station, not the customer).
            let mut at = city.random_point_near(lon, lat, 5_000.0, rng);
            for _ in 0..20 {
                let steps = [-1.0, 0.0, 1.0];
                let near_customer = steps.iter().any(|&i| {
                    steps.iter().any(|&j| {
                        grid.get(&cell(at, i, j)).is_some_and(|list| {
                            list.iter().any(|&k| {
                                let (dx, dy) = delta_m(customers[k].at, at);
                                dx.hypot(dy) < 60.0
                            })
                        })
                    })
                });
                let clear = !near_customer
                    && stations.iter().all(|s| {
                        let (dx, dy) = delta_m(s.at, at);
                        dx.hypot(dy) > 250.0
                    });
                if clear {
                    break;
                }
                at = city.random_point_near(lon, lat, 5_000.0, rng);
            }
            let industrial_gas = enterprises[e].medium == "N2O";
            let roll = rng.random_range(0..100);
            let (kind, limit) = if industrial_gas || roll >= 97 {
                ("industrial", 10)
            } else if roll >= 85 {
                ("restaurant", 3)
            } else {
                ("household", 2)
            };
            // The N2O company's first two consignees hold no licence: deliveries to them are
            // injected anomalies only.
            let licensed = industrial_gas && i / n_ent >= 2;
            grid.entry(cell(at, 0.0, 0.0))
                .or_default()
                .push(customers.len());
            let district = city
                .district_at(at.0, at.1)
                .map_or_else(|| enterprises[e].district.clone(), str::to_owned);
            customers.push(Customer {
                code: format!("{}-C{:06}", enterprises[e].code, i / n_ent + 1),
                enterprise: e,
                kind,
                at,
                district,
                limit,
                licensed,
            });
        }
        let mut vehicles = Vec::with_capacity(sizes.vehicles);
        for i in 0..sizes.vehicles.max(n_ent) {
            let e = i % n_ent;
            vehicles.push(Vehicle {
                plate: format!("豫A{}{:03}", &enterprises[e].code[1..], i / n_ent + 1),
                enterprise: e,
            });
        }
        for (e, ent) in enterprises.iter_mut().enumerate() {
            let fleet = vehicles.iter().filter(|v| v.enterprise == e).count();
            ent.fillers = (1..=3).map(|n| format!("{}-F{n:02}", ent.code)).collect();
            ent.drivers = (1..=fleet.max(1))
                .map(|n| format!("{}-D{n:03}", ent.code))
                .collect();
            ent.uncertified = format!("{}-X01", ent.code);
        }
        let mut cylinders = Vec::with_capacity(sizes.cylinders);
        for i in 0..sizes.cylinders.max(n_ent * 20) {
            let e = i % n_ent;
            let medium = enterprises[e].medium;
            let roll = rng.random_range(0..1000);
            let fitness = match roll {
                0..=879 => Fitness::Ok,
                880..=919 => Fitness::DueSoon,
                920..=949 => Fitness::Overdue,
                950..=959 => Fitness::LifeExpired,
                960..=969 => Fitness::Scrapped,
                _ => Fitness::Unregistered,
            };
            let (tare_kg, max_fill_kg) = masses(medium, rng);
            cylinders.push(Cylinder {
                code: format!("ZZ{}{:07}", &enterprises[e].code[1..], i / n_ent + 1),
                tag: format!("E2801160{:02}{:014X}", e + 1, i),
                enterprise: e,
                station: enterprises[e].filling_station,
                medium,
                tare_kg,
                max_fill_kg,
                fitness,
                custody: if fitness == Fitness::Scrapped {
                    Custody::Scrapped
                } else {
                    Custody::InStockEmpty
                },
                customer: None,
                reserved: false,
                depot: None,
                filled: false,
            });
        }
        // Full stock limits: a station holds at most its own cylinders' worth.
        for (s, station) in stations.iter_mut().enumerate() {
            if station.kind == "filling" {
                let own = cylinders.iter().filter(|c| c.station == s).count();
                station.limit = i64::try_from(own).unwrap_or(i64::MAX).max(50);
            }
        }
        let zones = (0..3)
            .map(|z| {
                let at = city.random_point_in(z % urban, rng);
                Zone {
                    name: format!("禁行区{}", z + 1),
                    at,
                    radius_m: 250.0,
                }
            })
            .collect();
        let _ = today;
        Self {
            enterprises,
            stations,
            customers,
            vehicles,
            cylinders,
            zones,
        }
    }

    /// Registers everything (as the administrator), in dependency order.
    pub async fn register(
        &self,
        api: &Api,
        today: NaiveDate,
        rng: &mut StdRng,
    ) -> anyhow::Result<()> {
        let later = |days: i64| today + Duration::days(days);
        let past = |days: i64| today - Duration::days(days);
        for (i, e) in self.enterprises.iter().enumerate() {
            let expires = if e.licensed {
                later(400 + 30 * i64::try_from(i).unwrap_or(0))
            } else {
                past(12)
            };
            let record = NewEnterprise {
                code: id(&e.code)?,
                name: id(&format!("郑州{}燃气有限公司", e.code))?,
                credit_code: id(&format!("91410100MA{:08}", i + 1))?,
                district_code: id(&e.district)?,
                address: id(&format!("郑州市{}号", 100 + i))?,
                filling_licence_no: Some(id(&format!("豫充{:04}", i + 1))?),
                filling_licence_expires: Some(expires),
                filling_licence_valid_from: None,
                gas_licence_no: Some(id(&format!("豫燃{:04}", i + 1))?),
                gas_licence_expires: Some(later(700)),
                media: vec![id(e.medium)?],
            };
            api.create("/api/v1/enterprises", &record).await?;
        }
        // The inspection body: inspections come only from an enterprise that runs one.
        let body = NewEnterprise {
            code: id(INSPECTION_BODY)?,
            name: id("郑州市特种设备检验所")?,
            credit_code: id("12410100MB0000000X")?,
            district_code: id(&self.enterprises[0].district)?,
            address: id("郑州市金水区")?,
            filling_licence_no: None,
            filling_licence_expires: None,
            filling_licence_valid_from: None,
            gas_licence_no: None,
            gas_licence_expires: None,
            media: vec![id("LPG")?, id("N2O")?],
        };
        api.create("/api/v1/enterprises", &body).await?;
        let home = self.enterprises[0].home;
        let station = NewStation {
            code: id(&format!("{INSPECTION_BODY}-I"))?,
            enterprise_code: id(INSPECTION_BODY)?,
            name: id("气瓶定期检验站")?,
            kind: StationKind::Inspection,
            location: point(offset(home.0, home.1, 800.0, 800.0))?,
            radius_m: 120.0,
            full_stock_limit: 500,
            district_code: None,
        };
        api.create("/api/v1/stations", &station).await?;
        for s in &self.stations {
            let (name, kind) = match s.kind {
                "filling" => ("充装站", StationKind::Filling),
                "warehouse" => ("仓库", StationKind::Warehouse),
                _ => ("供应站", StationKind::Distribution),
            };
            let station = NewStation {
                code: id(&s.code)?,
                enterprise_code: id(&self.enterprises[s.enterprise].code)?,
                name: id(&format!("{}{name}", s.code))?,
                kind,
                location: point(s.at)?,
                radius_m: 120.0,
                full_stock_limit: u32::try_from(s.limit)?,
                district_code: None,
            };
            api.create("/api/v1/stations", &station).await?;
        }
        let mut records = Vec::with_capacity(self.customers.len());
        for c in &self.customers {
            let (name, kind) = match c.kind {
                "restaurant" => (
                    format!("{}{}", person(rng), SHOPS[rng.random_range(0..SHOPS.len())]),
                    CustomerKind::Restaurant,
                ),
                "industrial" => (
                    format!("{}工贸有限公司", &c.code[c.code.len() - 4..]),
                    CustomerKind::Industrial,
                ),
                _ => (person(rng), CustomerKind::Household),
            };
            let phone = format!("13{:09}", rng.random_range(0..1_000_000_000_u64));
            let address = format!(
                "郑州市{}路{}号",
                GIVEN[rng.random_range(0..GIVEN.len())],
                rng.random_range(1..300)
            );
            records.push(NewCustomer {
                code: id(&c.code)?,
                enterprise_code: id(&self.enterprises[c.enterprise].code)?,
                name: id(&name)?,
                kind,
                phone: id(&phone)?,
                address: id(&address)?,
                location: point(c.at)?,
                district_code: id(&c.district)?,
                full_stock_limit: u32::try_from(c.limit)?,
                licence_no: if c.licensed {
                    Some(id(&format!("豫危化{}", &c.code))?)
                } else {
                    None
                },
                licence_expires: None,
            });
        }
        api.create_all("/api/v1/customers", &records, 16).await?;
        let mut records = Vec::new();
        for e in &self.enterprises {
            let staff = e
                .fillers
                .iter()
                .map(|n| (n, StaffRole::Filler, true))
                .chain(e.drivers.iter().map(|n| (n, StaffRole::Driver, true)))
                .chain(std::iter::once((&e.uncertified, StaffRole::Filler, false)));
            for (no, role, certified) in staff {
                let expires = if certified {
                    later(365 + rng.random_range(0..700))
                } else {
                    past(40)
                };
                records.push(NewStaff {
                    staff_no: id(no)?,
                    enterprise_code: id(&e.code)?,
                    name: id(&person(rng))?,
                    role,
                    certificate_no: Some(id(&format!("TS{no}"))?),
                    certificate_expires: Some(expires),
                    certificates: Vec::new(),
                });
            }
        }
        api.create_all("/api/v1/staff", &records, 16).await?;
        let records = self
            .vehicles
            .iter()
            .map(|v| {
                Ok(NewVehicle {
                    plate: id(&v.plate)?,
                    enterprise_code: id(&self.enterprises[v.enterprise].code)?,
                    gps_device_id: None,
                    reader_device_id: None,
                    transport_permit_no: None,
                    transport_permit_expires: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        api.create_all("/api/v1/vehicles", &records, 16).await?;
        for z in &self.zones {
            let zone = NewGeofence {
                name: id(&z.name)?,
                kind: GeofenceKind::Restricted,
                geometry: None,
                center: Some(point(z.at)?),
                radius_m: Some(z.radius_m),
                vehicle_plates: Vec::new(),
                enterprise_code: None,
            };
            api.create("/api/v1/geofences", &zone).await?;
        }
        // Archives in batches of 5,000, two batches at a time.
        for pair in self.cylinders.chunks(10_000) {
            let batches = pair
                .chunks(5_000)
                .map(|chunk| {
                    let items = chunk
                        .iter()
                        .map(|c| self.archive(c, today, rng))
                        .collect::<anyhow::Result<_>>()?;
                    Ok(CylinderBatch { items })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            api.create_cylinders(&batches, 2)
                .await
                .context("registering cylinders")?;
        }
        Ok(())
    }

    /// A cylinder bought during the run (a reserve replenished): the next index, owned by
    /// enterprise `e` and registered at its filling station, empty in stock (scrapped if
    /// `fitness` says so). Its code `ZZ<company>R<index>` and its tag (by index) never clash
    /// with the generated ones.
    pub fn add_cylinder(&mut self, e: usize, fitness: Fitness, rng: &mut StdRng) -> usize {
        let i = self.cylinders.len();
        let ent = &self.enterprises[e];
        let medium = ent.medium;
        let (tare_kg, max_fill_kg) = masses(medium, rng);
        self.cylinders.push(Cylinder {
            code: format!("ZZ{}R{i:07}", &ent.code[1..]),
            tag: format!("E2801160{:02}{i:014X}", e + 1),
            enterprise: e,
            station: ent.filling_station,
            medium,
            tare_kg,
            max_fill_kg,
            fitness,
            custody: if fitness == Fitness::Scrapped {
                Custody::Scrapped
            } else {
                Custody::InStockEmpty
            },
            customer: None,
            reserved: false,
            depot: None,
            filled: false,
        });
        i
    }

    /// A cylinder's archive; its dates make its fitness true today.
    pub fn archive(
        &self,
        c: &Cylinder,
        today: NaiveDate,
        rng: &mut StdRng,
    ) -> anyhow::Result<CylinderArchive> {
        let days = |d: i64| today + Duration::days(d);
        let life = 15;
        let (made, next) = match c.fitness {
            Fitness::Ok | Fitness::Scrapped | Fitness::Unregistered => (
                days(-rng.random_range(200..3_600)),
                days(rng.random_range(60..1_400)),
            ),
            Fitness::DueSoon => (
                days(-rng.random_range(700..3_600)),
                days(rng.random_range(3..25)),
            ),
            Fitness::Overdue => (
                days(-rng.random_range(1_500..3_600)),
                days(-rng.random_range(2..9)),
            ),
            // Its design life ended 20 to 50 days ago (calendar years, leap days and all).
            Fitness::LifeExpired => (
                today
                    .checked_sub_months(chrono::Months::new(12 * 15))
                    .unwrap_or(today)
                    - Duration::days(rng.random_range(20..50)),
                days(rng.random_range(60..300)),
            ),
        };
        let made = if c.fitness == Fitness::LifeExpired {
            made
        } else {
            made.with_day(1).unwrap_or(made)
        };
        let registered = c.fitness != Fitness::Unregistered;
        let n2o = c.medium == "N2O";
        Ok(CylinderArchive {
            code: id(&c.code)?,
            tag_id: id(&c.tag)?,
            medium: id(c.medium)?,
            tare_kg: c.tare_kg,
            volume_l: if n2o { 40.0 } else { 35.5 },
            working_pressure_mpa: if n2o { 15.0 } else { 2.1 },
            test_pressure_mpa: if n2o { 22.5 } else { 3.2 },
            wall_thickness_mm: if n2o { 5.4 } else { 2.6 },
            max_fill_kg: c.max_fill_kg,
            design_life_years: life,
            manufacturer: id("江苏民生重工有限公司")?,
            manufactured_on: made,
            product_standard: id(if n2o { "GB/T 5099" } else { "GB 5842" })?,
            manufacture_licence_no: id("TS2210001")?,
            last_inspected_on: (next - Duration::days(365 * 4)).max(made),
            next_inspection_on: next,
            registration_no: registered
                .then(|| id(&format!("豫A{}", c.code)))
                .transpose()?,
            registered_on: registered.then(|| made + Duration::days(20)),
            registration_authority: registered.then(|| id("郑州市市场监督管理局")).transpose()?,
            owner_enterprise_code: id(&self.enterprises[c.enterprise].code)?,
            station_code: id(&self.stations[c.station].code)?,
            serial_no: None,
            production_batch: None,
        })
    }
}

/// A new cylinder's tare and allowed fill mass (kg).
fn masses(medium: &str, rng: &mut StdRng) -> (f64, f64) {
    if medium == "N2O" {
        (round1(rng.random_range(52.0..58.0)), 30.0)
    } else {
        (round1(rng.random_range(15.5..17.5)), 14.5)
    }
}

/// The enterprise that runs the inspection station.
pub const INSPECTION_BODY: &str = "INSP";

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::{json, Value};
    use std::path::Path;

    fn city() -> City {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/basemap/zhengzhou_districts.wgs84.geojson");
        City::load(&path).unwrap_or_else(|e| panic!("{e:#}"))
    }

    const SIZES: Sizes = Sizes {
        enterprises: 8,
        stations: 30,
        vehicles: 40,
        customers: 2_000,
        cylinders: 20_000,
    };

    #[test]
    fn the_same_seed_makes_the_same_city() {
        let (city, today) = (
            city(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
        );
        let a = World::generate(&city, SIZES, today, &mut StdRng::seed_from_u64(7));
        let b = World::generate(&city, SIZES, today, &mut StdRng::seed_from_u64(7));
        let c = World::generate(&city, SIZES, today, &mut StdRng::seed_from_u64(8));
        let places = |w: &World| w.customers.iter().map(|c| c.at).collect::<Vec<_>>();
        let mix = |w: &World| w.cylinders.iter().map(|c| c.fitness).collect::<Vec<_>>();
        assert_eq!(places(&a), places(&b));
        assert_eq!(mix(&a), mix(&b));
        assert_ne!(places(&a), places(&c));
        let mut codes: Vec<&str> = a.cylinders.iter().map(|c| c.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), a.cylinders.len(), "cylinder codes are unique");
    }

    #[test]
    fn cylinders_bought_during_the_run_are_new_and_as_unfit_as_asked() {
        let (city, today) = (
            city(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
        );
        let rng = &mut StdRng::seed_from_u64(5);
        let mut w = World::generate(&city, SIZES, today, rng);
        let before = w.cylinders.len();
        let date = |v: &Value, key: &str| {
            v[key]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .unwrap_or_else(|| panic!("{key} in {v}"))
        };
        for (e, fitness) in [
            (0, Fitness::Ok),
            (1, Fitness::Overdue),
            (2, Fitness::LifeExpired),
            (3, Fitness::Scrapped),
            (4, Fitness::Unregistered),
        ] {
            let c = w.add_cylinder(e, fitness, rng);
            assert_eq!(c, w.cylinders.len() - 1);
            let cyl = &w.cylinders[c];
            assert_eq!(cyl.enterprise, e);
            assert_eq!(cyl.station, w.enterprises[e].filling_station);
            let scrapped = fitness == Fitness::Scrapped;
            assert_eq!(cyl.custody == Custody::Scrapped, scrapped);
            // The archive as it goes on the wire.
            let a = serde_json::to_value(w.archive(cyl, today, rng).unwrap()).unwrap();
            assert_eq!(a["code"], json!(cyl.code));
            assert_eq!(a["owner_enterprise_code"], json!(w.enterprises[e].code));
            let next = date(&a, "next_inspection_on");
            assert_eq!(next < today, fitness == Fitness::Overdue, "{a}");
            let made = date(&a, "manufactured_on");
            let end_of_life = made
                .checked_add_months(chrono::Months::new(12 * 15))
                .unwrap_or(made);
            assert_eq!(end_of_life < today, fitness == Fitness::LifeExpired, "{a}");
            assert_eq!(
                a["registration_no"].is_null(),
                fitness == Fitness::Unregistered
            );
        }
        let mut codes: Vec<&str> = w.cylinders.iter().map(|c| c.code.as_str()).collect();
        let mut tags: Vec<&str> = w.cylinders.iter().map(|c| c.tag.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(codes.len(), before + 5, "codes stay unique");
        assert_eq!(tags.len(), before + 5, "tags stay unique");
    }

    #[test]
    fn the_compliance_mix_and_the_places_are_plausible() {
        let (city, today) = (
            city(),
            NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
        );
        let w = World::generate(&city, SIZES, today, &mut StdRng::seed_from_u64(3));
        let share = |f: Fitness| {
            let n = w.cylinders.iter().filter(|c| c.fitness == f).count();
            f64::from(u32::try_from(n).unwrap_or(0)) / 20_000.0
        };
        assert!((0.85..0.91).contains(&share(Fitness::Ok)));
        for f in [Fitness::DueSoon, Fitness::Overdue, Fitness::Unregistered] {
            assert!((0.02..0.06).contains(&share(f)), "{f:?}: {}", share(f));
        }
        for f in [Fitness::LifeExpired, Fitness::Scrapped] {
            assert!((0.005..0.02).contains(&share(f)), "{f:?}: {}", share(f));
        }
        assert!(w.enterprises.iter().any(|e| !e.licensed));
        assert!(w.enterprises.iter().any(|e| e.medium == "N2O"));
        // Customers are in town, apart from each other and outside stations' circles.
        for c in w.customers.iter().take(300) {
            assert!(city.contains(c.at.0, c.at.1));
            for s in &w.stations {
                let (dx, dy) = delta_m(s.at, c.at);
                assert!(dx.hypot(dy) > 120.0, "{} inside {}", c.code, s.code);
            }
        }
    }
}
