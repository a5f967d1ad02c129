//! The map's drawing: the off-screen layer (districts, density cells, sites), the vehicles
//! and the alert pulses, each onto the canvas through the view's projection.

use super::frame::to_px;
use super::{Model, CUSTOMER_ZOOM, MAX_PULSES};
use crate::canvas::{draw_districts, set_font, ui_font_px, Projection, Surface};
use shared::alert::{Alert, AlertStatus, Severity};
use shared::density::{Density, Sites};
use shared::ids::GeoPoint;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// The districts, the density cells and the sites, drawn off-screen at the canvas's size.
pub(super) fn draw_layer(m: &Model, s: &Surface, p: &Projection) -> Option<HtmlCanvasElement> {
    let layer: HtmlCanvasElement = m.layer.clone().or_else(|| {
        web_sys::window()?
            .document()?
            .create_element("canvas")
            .ok()?
            .dyn_into()
            .ok()
    })?;
    layer.set_width(to_px(s.w));
    layer.set_height(to_px(s.h));
    let ctx: CanvasRenderingContext2d = layer.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_fill_style_str("#08111f");
    ctx.fill_rect(0.0, 0.0, s.w, s.h);
    let surface = Surface {
        ctx,
        w: s.w,
        h: s.h,
        dpr: s.dpr,
    };
    draw_districts(&surface, p, &m.districts);
    if let Some(d) = &m.density {
        draw_density(&surface, p, d);
    }
    draw_sites(
        &surface,
        p,
        m.stations.as_deref(),
        m.customers.as_deref(),
        m.view.zoom,
    );
    Some(layer)
}

/// Colours of the density ramp, from few cylinders to the most (translucent over the map).
const RAMP: [&str; 8] = [
    "rgba(40, 90, 170, 0.45)",
    "rgba(30, 130, 200, 0.5)",
    "rgba(20, 170, 200, 0.55)",
    "rgba(60, 200, 150, 0.6)",
    "rgba(170, 210, 60, 0.65)",
    "rgba(245, 200, 40, 0.7)",
    "rgba(255, 140, 30, 0.75)",
    "rgba(255, 70, 60, 0.8)",
];

/// Each cell coloured by its count on a log scale, one path per colour.
fn draw_density(s: &Surface, p: &Projection, d: &Density) {
    let ctx = &s.ctx;
    let half = d.cell_deg / 2.0;
    let mut by_colour: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); RAMP.len()];
    for c in &d.cells {
        let (x0, y0) = p.project(c.lon - half, c.lat + half);
        let (x1, y1) = p.project(c.lon + half, c.lat - half);
        if x1 < 0.0 || y1 < 0.0 || x0 > s.w || y0 > s.h {
            continue;
        }
        by_colour[ramp_index(c.count, d.max)].push((
            x0,
            y0,
            (x1 - x0).max(1.0),
            (y1 - y0).max(1.0),
        ));
    }
    for (colour, rects) in RAMP.iter().zip(by_colour) {
        if rects.is_empty() {
            continue;
        }
        ctx.begin_path();
        for (x, y, w, h) in rects {
            ctx.rect(x, y, w, h);
        }
        ctx.set_fill_style_str(colour);
        ctx.fill();
    }
}

/// A cell's colour on the ramp: its count against the largest cell's, on a log scale.
fn ramp_index(count: i64, max: i64) -> usize {
    let top = (1.0 + f(max.max(1))).ln();
    level_index(((1.0 + f(count)).ln() / top * 7.999).clamp(0.0, 7.0))
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn level_index(level: f64) -> usize {
    // Clamped to 0..=7 by the caller.
    level.floor().clamp(0.0, 7.0) as usize
}

/// Counts stay far below 2^52, where f64 is exact.
#[allow(clippy::cast_precision_loss)]
fn f(v: i64) -> f64 {
    v as f64
}

/// A station kind's colour.
fn station_colour(kind: &str) -> &'static str {
    match kind {
        "filling" => "#2ecc71",
        "warehouse" => "#b08cff",
        "inspection" => "#f5d90a",
        _ => "#5bc0ff",
    }
}

/// Stations as squares (red rim when over their full-stock limit), customers as small dots
/// once zoomed in.
fn draw_sites(
    s: &Surface,
    p: &Projection,
    stations: Option<&Sites>,
    customers: Option<&Sites>,
    zoom: f64,
) {
    let ctx = &s.ctx;
    let k = ui_font_px(s) / 16.0;
    if let Some(customers) = customers.filter(|_| zoom >= CUSTOMER_ZOOM) {
        ctx.begin_path();
        for c in &customers.sites {
            let (x, y) = p.project(c.lon, c.lat);
            ctx.rect(x - 2.5 * k, y - 2.5 * k, 5.0 * k, 5.0 * k);
        }
        ctx.set_fill_style_str("#8fb3d9");
        ctx.fill();
    }
    let Some(stations) = stations else { return };
    let size = 7.0 * k;
    for st in &stations.sites {
        let (x, y) = p.project(st.lon, st.lat);
        ctx.set_fill_style_str(station_colour(&st.site_kind));
        ctx.fill_rect(x - size, y - size, 2.0 * size, 2.0 * size);
        ctx.set_line_width(2.0 * k);
        ctx.set_stroke_style_str(if st.full > st.full_limit {
            "#ff4d4f"
        } else {
            "#ffffff"
        });
        ctx.stroke_rect(x - size, y - size, 2.0 * size, 2.0 * size);
    }
    if zoom >= CUSTOMER_ZOOM {
        set_font(s, 12.0 * k);
        ctx.set_text_align("left");
        ctx.set_text_baseline("middle");
        ctx.set_fill_style_str("#e6f0ff");
        for st in &stations.sites {
            let (x, y) = p.project(st.lon, st.lat);
            let _ = ctx.fill_text(&st.name, x + size * 1.5, y);
        }
    }
}

/// Where a vehicle was drawn (CSS pixels), for the test-only state element.
#[derive(serde::Serialize)]
pub(super) struct DrawnMarker {
    plate: String,
    lon: f64,
    lat: f64,
    x: f64,
    y: f64,
}

/// Every vehicle: one path for the moving, one for the standing, one for the headings.
pub(super) fn draw_vehicles(
    m: &Model,
    s: &Surface,
    p: &Projection,
    report: bool,
) -> Option<Vec<DrawnMarker>> {
    let vehicles = m.vehicles.as_ref()?.borrow();
    let ctx = &s.ctx;
    let r = (s.h / 260.0).clamp(3.0 * s.dpr, 14.0 * s.dpr);
    let mut drawn = report.then(|| Vec::with_capacity(vehicles.len()));
    ctx.begin_path();
    for v in vehicles.values() {
        let Some(heading) = v.heading else { continue };
        let (x, y) = p.project(v.lon, v.lat);
        let a = heading.to_radians();
        ctx.move_to(x, y);
        ctx.line_to(x + a.sin() * r * 2.2, y - a.cos() * r * 2.2);
    }
    ctx.set_stroke_style_str("#ffd27a");
    ctx.set_line_width(r / 2.0);
    ctx.stroke();
    for moving in [true, false] {
        ctx.begin_path();
        for v in vehicles
            .values()
            .filter(|v| (v.speed_kmh.unwrap_or(0.0) > 1.0) == moving)
        {
            let (x, y) = p.project(v.lon, v.lat);
            ctx.move_to(x + r, y);
            let _ = ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
            if let Some(list) = &mut drawn {
                list.push(DrawnMarker {
                    plate: v.plate.to_string(),
                    lon: v.lon,
                    lat: v.lat,
                    x: x / s.dpr,
                    y: y / s.dpr,
                });
            }
        }
        ctx.set_fill_style_str(if moving { "#ffb020" } else { "#ff7a45" });
        ctx.fill();
    }
    if m.view.zoom >= CUSTOMER_ZOOM {
        set_font(s, r * 2.2);
        ctx.set_text_align("left");
        ctx.set_text_baseline("middle");
        ctx.set_fill_style_str("#ffe7b0");
        for v in vehicles.values() {
            let Some(load) = v.load.filter(|l| l.total() > 0) else {
                continue;
            };
            let (x, y) = p.project(v.lon, v.lat);
            if x < 0.0 || y < 0.0 || x > s.w || y > s.h {
                continue;
            }
            let _ = ctx.fill_text(&load.total().to_string(), x + r * 1.6, y - r * 1.4);
        }
    }
    drawn
}

/// Open alerts with a place: a ring growing and fading once a second, coloured by severity.
/// The focused incident: its ring (the context's radius) and a mark at its place.
pub(super) fn draw_focus(m: &Model, s: &Surface, p: &Projection) {
    let Some(f) = &m.focus else { return };
    let (x, y) = p.project(f.lon, f.lat);
    let (_, north) = p.project(f.lon, f.lat + f.radius_m / super::view::METRES_PER_DEG_LAT);
    let r = (y - north).abs();
    let ctx = &s.ctx;
    let k = ui_font_px(s) / 16.0;
    ctx.begin_path();
    let _ = ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
    ctx.set_fill_style_str("rgba(255, 77, 79, 0.12)");
    ctx.fill();
    ctx.set_stroke_style_str("rgba(255, 77, 79, 0.9)");
    ctx.set_line_width(2.5 * k);
    ctx.stroke();
    ctx.begin_path();
    let _ = ctx.arc(x, y, 7.0 * k, 0.0, std::f64::consts::TAU);
    ctx.set_fill_style_str("#ff4d4f");
    ctx.fill();
    ctx.set_stroke_style_str("#ffffff");
    ctx.set_line_width(2.0 * k);
    ctx.stroke();
}

pub(super) fn draw_pulses(m: &Model, s: &Surface, p: &Projection, t: f64) {
    let Some(alerts) = &m.alerts else { return };
    let alerts = alerts.borrow();
    let placed = pulsing(&alerts);
    if placed.is_empty() {
        return;
    }
    let ctx = &s.ctx;
    let k = ui_font_px(s) / 16.0;
    let phase = (t % 1200.0) / 1200.0;
    for (alert, place) in placed {
        let (x, y) = p.project(place.lon(), place.lat());
        let colour = severity_rgb(alert.severity);
        let (ring, alpha) = pulse_ring(alert.status == AlertStatus::Open, phase);
        ctx.begin_path();
        let _ = ctx.arc(x, y, ring * k, 0.0, std::f64::consts::TAU);
        ctx.set_stroke_style_str(&format!(
            "rgba({}, {}, {}, {alpha:.2})",
            colour.0, colour.1, colour.2
        ));
        ctx.set_line_width(3.0 * k);
        ctx.stroke();
        ctx.begin_path();
        let _ = ctx.arc(x, y, 5.0 * k, 0.0, std::f64::consts::TAU);
        ctx.set_fill_style_str(&format!("rgb({}, {}, {})", colour.0, colour.1, colour.2));
        ctx.fill();
    }
}

/// The alerts that pulse: unresolved, with a place, the newest `MAX_PULSES` by last activity.
fn pulsing(alerts: &HashMap<uuid::Uuid, Alert>) -> Vec<(&Alert, &GeoPoint)> {
    let mut placed: Vec<_> = alerts
        .values()
        .filter(|a| a.status != AlertStatus::Resolved)
        .filter_map(|a| a.place.as_ref().map(|pl| (a, pl)))
        .collect();
    placed.sort_by_key(|a| std::cmp::Reverse(a.0.last_seen_at));
    placed.truncate(MAX_PULSES);
    placed
}

/// A pulse's ring at `phase` (0 to 1) of its cycle: its radius (in pixels of a 16 px font)
/// and opacity. An open alert's ring grows and fades; an acknowledged one's stays, dimmer.
fn pulse_ring(open: bool, phase: f64) -> (f64, f64) {
    if open {
        (8.0 + 22.0 * phase, 0.9 * (1.0 - phase))
    } else {
        (10.0, 0.5)
    }
}

/// A severity's colour (the feed's, in app.css).
fn severity_rgb(severity: Severity) -> (u8, u8, u8) {
    match severity {
        Severity::Critical => (255, 77, 79),
        Severity::High => (255, 140, 26),
        Severity::Medium => (245, 217, 10),
        Severity::Low => (91, 155, 213),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn alert(n: u128, status: &str, seen: u32, place: bool) -> Alert {
        let mut a = json!({
            "id": Uuid::from_u128(n), "kind": "overfill", "severity": "high", "status": status,
            "subject": {"type": "cylinder", "id": "CYL-1"},
            "opened_at": "2026-05-01T00:00:00+08:00",
            "last_seen_at": format!("2026-05-01T{:02}:{:02}:{:02}+08:00", seen / 3600, seen / 60 % 60, seen % 60),
            "count": 1, "evidence": {}
        });
        if place {
            a["place"] = json!({"lon": 113.6, "lat": 34.7});
        }
        serde_json::from_value(a).unwrap()
    }

    #[test]
    fn the_newest_unresolved_alerts_with_a_place_pulse_and_no_more_than_the_cap() {
        let mut alerts: HashMap<Uuid, Alert> = (0..400)
            .map(|n| alert(n, "open", u32::try_from(n).unwrap(), true))
            .map(|a| (a.id, a))
            .collect();
        for a in [
            alert(1000, "resolved", 9000, true),
            alert(1001, "open", 9001, false),
            alert(1002, "acknowledged", 9002, true),
        ] {
            alerts.insert(a.id, a);
        }
        let pulses = pulsing(&alerts);
        assert_eq!(pulses.len(), MAX_PULSES);
        let ids: Vec<u128> = pulses.iter().map(|(a, _)| a.id.as_u128()).collect();
        assert_eq!(ids[..3], [1002, 399, 398]);
        assert_eq!(ids[MAX_PULSES - 1], 101);
        assert!(pulsing(&HashMap::new()).is_empty());
    }

    #[test]
    fn an_open_alert_rings_out_and_fades_while_an_acknowledged_one_stays() {
        assert_eq!(pulse_ring(true, 0.0), (8.0, 0.9));
        assert_eq!(pulse_ring(true, 0.5), (19.0, 0.45));
        let (r, a) = pulse_ring(true, 0.999);
        assert!(r > 29.9 && a < 0.001);
        assert_eq!(pulse_ring(false, 0.0), pulse_ring(false, 0.7));
        assert_eq!(severity_rgb(Severity::Critical), (255, 77, 79));
    }

    #[test]
    fn cells_are_coloured_on_a_log_scale_from_the_first_colour_to_the_last() {
        assert_eq!(ramp_index(0, 1000), 0);
        assert_eq!(ramp_index(1, 1000), 0);
        assert_eq!(ramp_index(1000, 1000), RAMP.len() - 1);
        // Log scale: 10 of 1000 is a third of the way up, not a hundredth.
        assert_eq!(ramp_index(10, 1000), 2);
        assert_eq!(ramp_index(100, 1000), 5);
        // An empty layer (max 0) and a count over the max stay on the ramp.
        assert_eq!(ramp_index(0, 0), 0);
        assert_eq!(ramp_index(5000, 1000), RAMP.len() - 1);
        let levels: Vec<usize> = (0..=1000).map(|c| ramp_index(c, 1000)).collect();
        assert!(levels.windows(2).all(|w| w[0] <= w[1]));
    }
}
