//! The map's drawing: the off-screen layer (districts, density cells, sites), the vehicles
//! and the alert pulses, each onto the canvas through the view's projection.

use super::*;

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
        m.zoom,
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
    let top = (1.0 + f(d.max.max(1))).ln();
    let half = d.cell_deg / 2.0;
    let mut by_colour: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); RAMP.len()];
    for c in &d.cells {
        let level = ((1.0 + f(c.count)).ln() / top * 7.999).clamp(0.0, 7.0);
        let (x0, y0) = p.project(c.lon - half, c.lat + half);
        let (x1, y1) = p.project(c.lon + half, c.lat - half);
        if x1 < 0.0 || y1 < 0.0 || x0 > s.w || y0 > s.h {
            continue;
        }
        by_colour[level_index(level)].push((x0, y0, (x1 - x0).max(1.0), (y1 - y0).max(1.0)));
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
    if m.zoom >= CUSTOMER_ZOOM {
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
pub(super) fn draw_pulses(m: &Model, s: &Surface, p: &Projection, t: f64) {
    let Some(alerts) = &m.alerts else { return };
    let alerts = alerts.borrow();
    let mut placed: Vec<_> = alerts
        .values()
        .filter(|a| a.status != AlertStatus::Resolved)
        .filter_map(|a| a.place.as_ref().map(|pl| (a, pl)))
        .collect();
    if placed.is_empty() {
        return;
    }
    placed.sort_by_key(|a| std::cmp::Reverse(a.0.last_seen_at));
    placed.truncate(MAX_PULSES);
    let ctx = &s.ctx;
    let k = ui_font_px(s) / 16.0;
    let phase = (t % 1200.0) / 1200.0;
    for (alert, place) in placed {
        let (x, y) = p.project(place.lon(), place.lat());
        let colour = match alert.severity {
            Severity::Critical => (255, 77, 79),
            Severity::High => (255, 140, 26),
            Severity::Medium => (245, 217, 10),
            Severity::Low => (91, 155, 213),
        };
        let open = alert.status == AlertStatus::Open;
        let ring = if open { 8.0 + 22.0 * phase } else { 10.0 } * k;
        let alpha = if open { 0.9 * (1.0 - phase) } else { 0.5 };
        ctx.begin_path();
        let _ = ctx.arc(x, y, ring, 0.0, std::f64::consts::TAU);
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
