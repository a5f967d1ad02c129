//! Where the map is looked from and what lies under the pointer, without the browser: zoom and
//! pan from the wheel and drags, the projection of a frame, and a click tested against the
//! vehicles, sites and density cells.

use super::CUSTOMER_ZOOM;
use crate::canvas::Projection;
use crate::format::cst;
use shared::density::{Density, Site, Sites};
use shared::live::VehicleState;
use std::collections::HashMap;

/// The most the map magnifies.
const MAX_ZOOM: f64 = 64.0;

/// How far the pointer moves (CSS pixels, summed over the drag) before a press is a drag, not
/// a click.
const DRAG_SLOP: f64 = 4.0;

/// How near a click must fall to a vehicle or site to pick it, in CSS pixels.
const HIT_RADIUS: f64 = 14.0;

/// The padding around the city at 1×, in CSS pixels.
const PAD: f64 = 24.0;

/// Metres in a degree of latitude.
pub(super) const METRES_PER_DEG_LAT: f64 = 111_320.0;

/// The share of the canvas's shorter side a focused incident's ring spans (its radius).
const FOCUS_SHARE: f64 = 0.2;

/// The view: magnification, shift (device pixels), device pixel ratio, and a drag in progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct View {
    pub zoom: f64,
    pub pan: (f64, f64),
    pub dpr: f64,
    /// Where a drag is (client CSS pixels) and how far it went.
    drag: Option<(f64, f64, f64)>,
    /// How far the last press moved before it was released.
    dragged: f64,
}

impl Default for View {
    fn default() -> Self {
        Self {
            zoom: 1.0,
            pan: (0.0, 0.0),
            dpr: 1.0,
            drag: None,
            dragged: 0.0,
        }
    }
}

impl View {
    /// A wheel turn at `at` (CSS pixels within the canvas): up magnifies 1.25×, down 0.8×,
    /// between 1× and 64×, keeping the point under the pointer in place; back at 1× the city is
    /// centred again.
    pub fn wheel(&mut self, delta_y: f64, at: (f64, f64)) {
        let k = if delta_y < 0.0 { 1.25 } else { 0.8 };
        let zoom = (self.zoom * k).clamp(1.0, MAX_ZOOM);
        let k = zoom / self.zoom;
        let (cx, cy) = self.device(at);
        self.pan = (cx - (cx - self.pan.0) * k, cy - (cy - self.pan.1) * k);
        self.zoom = zoom;
        if zoom <= 1.0 {
            self.pan = (0.0, 0.0);
        }
    }

    /// A button pressed at `at` (client CSS pixels): a drag may start.
    pub fn press(&mut self, at: (f64, f64)) {
        self.drag = Some((at.0, at.1, 0.0));
        self.dragged = 0.0;
    }

    /// The pointer moved to `at` (client CSS pixels); whether the map moved with it (only a
    /// magnified map pans, and only once the drag went past the slop).
    pub fn drag_to(&mut self, at: (f64, f64)) -> bool {
        let Some((x, y, moved)) = self.drag else {
            return false;
        };
        let (dx, dy) = (at.0 - x, at.1 - y);
        let moved = moved + dx.abs() + dy.abs();
        self.drag = Some((at.0, at.1, moved));
        self.dragged = moved;
        if moved > DRAG_SLOP && self.zoom > 1.0 {
            self.pan = (self.pan.0 + dx * self.dpr, self.pan.1 + dy * self.dpr);
            return true;
        }
        false
    }

    /// The button was released or the pointer left the map.
    pub fn release(&mut self) {
        self.drag = None;
    }

    /// Back to the whole city.
    pub fn reset(&mut self) {
        self.zoom = 1.0;
        self.pan = (0.0, 0.0);
    }

    /// Looks at (`lon`, `lat`) in the middle of a `w` × `h` device-pixel canvas showing
    /// `extent`, magnified so that a circle of `radius_m` spans a fifth of the shorter side
    /// (within 1× to 64×).
    pub fn focus(
        &mut self,
        extent: (f64, f64, f64, f64),
        (w, h): (f64, f64),
        (lon, lat): (f64, f64),
        radius_m: f64,
    ) {
        let base = Self {
            dpr: self.dpr,
            ..Self::default()
        }
        .projection(extent, w, h);
        let (x, y) = base.project(lon, lat);
        let (_, north) = base.project(lon, lat + radius_m / METRES_PER_DEG_LAT);
        let r = (y - north).abs().max(1e-9);
        let zoom = (w.min(h) * FOCUS_SHARE / r).clamp(1.0, MAX_ZOOM);
        self.zoom = zoom;
        self.pan = (w / 2.0 - x * zoom, h / 2.0 - y * zoom);
    }

    /// Where a click at `at` (CSS pixels within the canvas) falls in device pixels, unless it
    /// ends a drag.
    pub fn click(&self, at: (f64, f64)) -> Option<(f64, f64)> {
        (self.dragged <= DRAG_SLOP).then(|| self.device(at))
    }

    fn device(&self, at: (f64, f64)) -> (f64, f64) {
        (at.0 * self.dpr, at.1 * self.dpr)
    }

    /// The projection of a `w` × `h` device-pixel canvas showing `extent` (min_lon, min_lat,
    /// max_lon, max_lat) through this view.
    pub fn projection(&self, extent: (f64, f64, f64, f64), w: f64, h: f64) -> Projection {
        Projection::fit(extent, w, h, PAD * self.dpr).zoomed(self.zoom, self.pan.0, self.pan.1)
    }
}

/// What was clicked.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Selection {
    Vehicle {
        plate: String,
        speed_kmh: Option<f64>,
        enterprise: Option<String>,
        at: String,
        /// Full cylinders and the others on it.
        load: (i64, i64),
    },
    Site(Site),
    Cell {
        lon: f64,
        lat: f64,
        count: i64,
    },
}

impl Selection {
    /// A vehicle as its details box shows it (the time of its fix in Beijing time).
    fn vehicle(v: &VehicleState) -> Self {
        Self::Vehicle {
            load: v.load.map_or((0, 0), |l| (l.full, l.other)),
            plate: v.plate.to_string(),
            speed_kmh: v.speed_kmh,
            enterprise: v.enterprise_code.as_ref().map(ToString::to_string),
            at: v
                .occurred_at
                .with_timezone(&cst())
                .format("%H:%M:%S")
                .to_string(),
        }
    }
}

/// What a click can pick, as the last frame drew it.
pub(super) struct Scene<'a> {
    pub vehicles: Option<&'a HashMap<String, VehicleState>>,
    pub stations: Option<&'a Sites>,
    /// Drawn (and so picked) only from `CUSTOMER_ZOOM` on.
    pub customers: Option<&'a Sites>,
    pub density: Option<&'a Density>,
}

/// The vehicle, site or cell under (x, y) (device pixels): the nearest vehicle within reach,
/// else the nearest site, else the cell containing the point.
pub(super) fn hit(p: &Projection, view: &View, scene: &Scene, x: f64, y: f64) -> Option<Selection> {
    let near = |lon: f64, lat: f64, r: f64| {
        let (px, py) = p.project(lon, lat);
        let d = (px - x).hypot(py - y);
        (d <= r).then_some(d)
    };
    let r = HIT_RADIUS * view.dpr;
    if let Some(vehicles) = scene.vehicles {
        let best = vehicles
            .values()
            .filter_map(|v| near(v.lon, v.lat, r).map(|d| (d, v)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, v)) = best {
            return Some(Selection::vehicle(v));
        }
    }
    let customers = scene.customers.filter(|_| view.zoom >= CUSTOMER_ZOOM);
    let best = [scene.stations, customers]
        .into_iter()
        .flatten()
        .flat_map(|s| s.sites.iter())
        .filter_map(|s| near(s.lon, s.lat, r).map(|d| (d, s)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, s)) = best {
        return Some(Selection::Site(s.clone()));
    }
    let d = scene.density?;
    let half = d.cell_deg / 2.0;
    d.cells
        .iter()
        .find(|c| {
            let (x0, y0) = p.project(c.lon - half, c.lat + half);
            let (x1, y1) = p.project(c.lon + half, c.lat - half);
            x >= x0 && x <= x1 && y >= y0 && y <= y1
        })
        .map(|c| Selection::Cell {
            lon: c.lon,
            lat: c.lat,
            count: c.count,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::density::DensityCell;

    /// A square city of 0.1° around (113.6, 34.7) on an 800 × 800 canvas at 2 device pixels
    /// per CSS pixel.
    const EXTENT: (f64, f64, f64, f64) = (113.55, 34.65, 113.65, 34.75);

    fn view() -> View {
        View {
            dpr: 2.0,
            ..View::default()
        }
    }

    fn projection(v: &View) -> Projection {
        v.projection(EXTENT, 800.0, 800.0)
    }

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6
    }

    #[test]
    fn a_focus_centres_the_place_and_its_ring_spans_a_fifth_of_the_canvas() {
        let mut v = view();
        v.focus(EXTENT, (800.0, 600.0), (113.61, 34.72), 500.0);
        let p = v.projection(EXTENT, 800.0, 600.0);
        assert!(close(p.project(113.61, 34.72), (400.0, 300.0)));
        let (_, north) = p.project(113.61, 34.72 + 500.0 / METRES_PER_DEG_LAT);
        assert!((300.0 - north - 120.0).abs() < 1e-6, "{north}");
        assert!(v.zoom > 1.0 && v.zoom <= MAX_ZOOM);
        // A tiny radius is clamped at the most the map magnifies, still centred.
        v.focus(EXTENT, (800.0, 600.0), (113.6, 34.7), 0.01);
        assert_eq!(v.zoom, MAX_ZOOM);
        let p = v.projection(EXTENT, 800.0, 600.0);
        assert!(close(p.project(113.6, 34.7), (400.0, 300.0)));
        v.reset();
        assert_eq!((v.zoom, v.pan), (1.0, (0.0, 0.0)));
    }

    fn vehicle(plate: &str, lon: f64, lat: f64) -> VehicleState {
        serde_json::from_value(json!({
            "plate": plate, "lon": lon, "lat": lat, "speed_kmh": 31.6,
            "occurred_at": "2026-05-01T02:03:04Z", "enterprise_code": "ENT-1",
            "load": {"full": 3, "other": 2}
        }))
        .unwrap()
    }

    fn site(kind: &str, code: &str, lon: f64, lat: f64) -> Site {
        Site {
            kind: kind.into(),
            site_kind: "filling".into(),
            code: code.into(),
            name: code.into(),
            lon,
            lat,
            enterprise_code: "ENT-1".parse().unwrap(),
            full: 0,
            full_limit: 10,
        }
    }

    fn sites(list: Vec<Site>) -> Sites {
        Sites {
            sites: list,
            truncated: false,
        }
    }

    fn picked(s: Option<Selection>) -> String {
        match s {
            Some(Selection::Vehicle { plate, .. }) => format!("vehicle {plate}"),
            Some(Selection::Site(site)) => format!("{} {}", site.kind, site.code),
            Some(Selection::Cell { count, .. }) => format!("cell {count}"),
            None => "nothing".into(),
        }
    }

    #[test]
    fn the_wheel_zooms_about_the_pointer_between_one_and_sixty_four_times() {
        let mut v = view();
        let at = (100.0, 300.0);
        let device = (200.0, 600.0);
        let (lon, lat) = (113.58, 34.72);
        let before = projection(&v).project(lon, lat);
        v.wheel(-1.0, at);
        assert_eq!(v.zoom, 1.25);
        // What was under the pointer stays there; what was elsewhere moves away from it.
        let after = projection(&v).project(lon, lat);
        let scaled = (
            device.0 + (before.0 - device.0) * 1.25,
            device.1 + (before.1 - device.1) * 1.25,
        );
        assert!(close(after, scaled), "{after:?} {scaled:?}");

        for _ in 0..40 {
            v.wheel(-1.0, at);
        }
        assert_eq!(v.zoom, 64.0);
        // Zooming out all the way centres the city again; a wheel without a direction zooms out.
        for _ in 0..40 {
            v.wheel(0.0, at);
        }
        assert_eq!((v.zoom, v.pan), (1.0, (0.0, 0.0)));
    }

    #[test]
    fn a_drag_pans_a_magnified_map_once_past_the_slop_and_is_not_a_click() {
        let mut v = view();
        // Not magnified: nothing pans, though the drag still counts against a click.
        v.press((10.0, 10.0));
        assert!(!v.drag_to((20.0, 10.0)));
        assert_eq!(v.pan, (0.0, 0.0));
        v.release();
        assert_eq!(v.click((5.0, 5.0)), None);

        v.wheel(-1.0, (0.0, 0.0));
        let pan = v.pan;
        v.press((10.0, 10.0));
        assert_eq!(v.click((5.0, 5.0)), Some((10.0, 10.0)));
        assert!(!v.drag_to((12.0, 11.0)), "3 px is within the slop");
        assert!(v.drag_to((14.0, 11.0)));
        assert_eq!(v.pan, (pan.0 + 4.0, pan.1));
        v.release();
        assert!(!v.drag_to((50.0, 50.0)), "no drag after the release");
        assert_eq!(v.click((5.0, 5.0)), None);

        v.reset();
        assert_eq!((v.zoom, v.pan), (1.0, (0.0, 0.0)));
        // A new press forgets the last drag.
        v.press((1.0, 1.0));
        assert_eq!(v.click((5.0, 5.0)), Some((10.0, 10.0)));
    }

    #[test]
    fn a_click_picks_the_nearest_vehicle_then_the_nearest_site_then_the_cell() {
        let mut v = view();
        let p = projection(&v);
        let vehicles: HashMap<String, VehicleState> = [
            vehicle("豫A00001", 113.600, 34.700),
            vehicle("豫A00002", 113.601, 34.700),
        ]
        .into_iter()
        .map(|v| (v.plate.to_string(), v))
        .collect();
        let stations = sites(vec![site("station", "ST-1", 113.620, 34.700)]);
        let customers = sites(vec![site("customer", "CU-1", 113.580, 34.700)]);
        let density = Density {
            cell_deg: 0.01,
            total: 12,
            max: 12,
            cells: vec![DensityCell {
                lon: 113.58,
                lat: 34.72,
                count: 12,
            }],
        };
        let scene = Scene {
            vehicles: Some(&vehicles),
            stations: Some(&stations),
            customers: Some(&customers),
            density: Some(&density),
        };
        let at = |lon, lat, dx| {
            let (x, y) = p.project(lon, lat);
            (x + dx, y)
        };
        let pick = |v: &View, (x, y): (f64, f64)| picked(hit(&p, v, &scene, x, y));

        // The nearer of two vehicles; within 14 CSS (28 device) pixels only.
        assert_eq!(pick(&v, at(113.6012, 34.7, 0.0)), "vehicle 豫A00002");
        assert_eq!(pick(&v, at(113.6, 34.7, -5.0)), "vehicle 豫A00001");
        assert_eq!(pick(&v, at(113.62, 34.7, 27.0)), "station ST-1");
        assert_eq!(pick(&v, at(113.62, 34.7, 29.0)), "nothing");
        // Customers are drawn, and so picked, only from CUSTOMER_ZOOM on.
        assert_eq!(pick(&v, at(113.58, 34.7, 0.0)), "nothing");
        v.zoom = CUSTOMER_ZOOM;
        assert_eq!(pick(&v, at(113.58, 34.7, 0.0)), "customer CU-1");
        // Anywhere within a cell's square.
        assert_eq!(pick(&v, at(113.584, 34.724, 0.0)), "cell 12");
        assert_eq!(pick(&v, at(113.586, 34.72, 0.0)), "nothing");

        let empty = Scene {
            vehicles: None,
            stations: None,
            customers: None,
            density: None,
        };
        let (x, y) = at(113.6, 34.7, 0.0);
        assert_eq!(hit(&p, &v, &empty, x, y), None);
    }

    #[test]
    fn a_vehicle_is_shown_with_its_load_and_the_time_of_its_fix_in_beijing() {
        assert_eq!(
            Selection::vehicle(&vehicle("豫A00001", 113.6, 34.7)),
            Selection::Vehicle {
                plate: "豫A00001".into(),
                speed_kmh: Some(31.6),
                enterprise: Some("ENT-1".into()),
                at: "10:03:04".into(),
                load: (3, 2),
            }
        );
    }
}
