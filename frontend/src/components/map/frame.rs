//! One animation frame of the map: whether it draws, the drawing itself in order (the
//! off-screen layer when stale, then the vehicles and pulses on top), and what the frame
//! reports to browser tests (`?test-state`) and to the benchmark (`?bench`).

use super::draw::{draw_focus, draw_layer, draw_pulses, draw_vehicles, DrawnMarker};
use super::{Model, Shared};
use crate::canvas::{prepare, Projection};
use crate::geo::bounds;
use serde_json::json;
use shared::density::Sites;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// How often the alert pulses move on, in milliseconds.
const PULSE_MS: f64 = 40.0;

/// One animation frame: draws when something changed, or to move the pulses on.
pub(super) fn tick(model: &Shared, canvas: &HtmlCanvasElement, t: f64) {
    let mut m = model.borrow_mut();
    let pulsing = m
        .alerts
        .as_ref()
        .is_some_and(|a| a.borrow().values().any(|a| a.place.is_some()));
    let sized = canvas.width() == to_px(f64::from(canvas.client_width()) * dpr())
        && canvas.height() == to_px(f64::from(canvas.client_height()) * dpr());
    if !must_draw(&m, pulsing, sized, t) {
        return;
    }
    let started = now_ms();
    let Some(surface) = prepare(canvas) else {
        return;
    };
    m.view.dpr = surface.dpr;
    let Some(extent) = bounds(&m.districts) else {
        return;
    };
    // A focus is applied once, and again when the canvas changes size (still centred).
    if m.focus != m.focus_applied || (m.focus.is_some() && !sized) {
        apply_focus(&mut m, canvas, extent, (surface.w, surface.h));
    }
    let projection = m.view.projection(extent, surface.w, surface.h);
    if m.dirty || !sized || m.layer.is_none() {
        m.layer = draw_layer(&m, &surface, &projection);
        m.dirty = false;
    }
    if let Some(layer) = &m.layer {
        let _ = surface
            .ctx
            .draw_image_with_html_canvas_element(layer, 0.0, 0.0);
    }
    let drawn = draw_vehicles(
        &m,
        &surface,
        &projection,
        m.test_state.is_some() && m.changed,
    );
    draw_focus(&m, &surface, &projection);
    draw_pulses(&m, &surface, &projection, t);
    m.last_pulse = t;
    if let (Some(drawn), Some(el)) = (drawn, &m.test_state) {
        let state = test_state(&m, &drawn, &projection, surface.dpr);
        el.set_text_content(Some(&state));
    }
    m.changed = false;
    m.projection = Some(projection);
    if m.bench {
        record_draw(now_ms() - started);
    }
}

/// Looks at the focused incident (or back at the whole city) and says so on the canvas:
/// `data-zoom-state` (`incident` or `city`), `data-focus` (the incident's id) and `data-zoom`.
fn apply_focus(
    m: &mut Model,
    canvas: &HtmlCanvasElement,
    extent: (f64, f64, f64, f64),
    size: (f64, f64),
) {
    match &m.focus {
        Some(f) => m.view.focus(extent, size, (f.lon, f.lat), f.radius_m),
        None => m.view.reset(),
    }
    m.focus_applied = m.focus.clone();
    m.dirty = true;
    let (state, id) = m
        .focus
        .as_ref()
        .map_or(("city", String::new()), |f| ("incident", f.id.to_string()));
    let _ = canvas.set_attribute("data-zoom-state", state);
    let _ = canvas.set_attribute("data-focus", &id);
    let _ = canvas.set_attribute("data-zoom", &format!("{:.2}", m.view.zoom));
}

/// Whether a frame at `t` draws: the layer or what is on top changed, the canvas no longer
/// fits its box, or alerts with a place pulse and their next step is due.
fn must_draw(m: &Model, pulsing: bool, sized: bool, t: f64) -> bool {
    let pulse_due = pulsing && t - m.last_pulse >= PULSE_MS;
    m.dirty || m.changed || pulse_due || !sized
}

/// What the browser tests read from `#vehicle-state`: the vehicles drawn, the zoom, where each
/// station is (CSS pixels) and how many density cells there are.
fn test_state(m: &Model, drawn: &[DrawnMarker], p: &Projection, dpr: f64) -> String {
    let stations = station_points(m.stations.as_deref(), p, dpr);
    let cells = m.density.as_ref().map_or(0, |d| d.cells.len());
    let focus = m.focus.as_ref().map(|f| {
        let (x, y) = p.project(f.lon, f.lat);
        json!({ "id": f.id, "x": x / dpr, "y": y / dpr, "radius_m": f.radius_m })
    });
    json!({ "vehicles": drawn, "zoom": m.view.zoom, "stations": stations, "cells": cells,
            "focus": focus })
    .to_string()
}

/// Each station's code and place in CSS pixels.
fn station_points(stations: Option<&Sites>, p: &Projection, dpr: f64) -> Vec<serde_json::Value> {
    stations.map_or_else(Vec::new, |s| {
        s.sites
            .iter()
            .filter(|s| s.kind == "station")
            .map(|s| {
                let (x, y) = p.project(s.lon, s.lat);
                json!({ "code": s.code, "x": x / dpr, "y": y / dpr })
            })
            .collect()
    })
}

/// A high-resolution clock in milliseconds.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn dpr() -> f64 {
    web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0))
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(super) fn to_px(v: f64) -> u32 {
    // Clamped to a canvas's possible sizes first, so the cast cannot truncate or wrap.
    v.round().clamp(1.0, 16_384.0) as u32
}

/// Appends a frame's drawing time to `window.__cylwatch_draw_ms` (made on first use).
fn record_draw(ms: f64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = wasm_bindgen::JsValue::from_str("__cylwatch_draw_ms");
    let list = js_sys::Reflect::get(&window, &key)
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .unwrap_or_else(|| {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&window, &key, &a);
            a
        });
    // The benchmark empties it as it reads; bounded all the same.
    if list.length() < 100_000 {
        list.push(&ms.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::density::Site;
    use std::rc::Rc;

    #[test]
    fn a_frame_draws_when_something_changed_the_canvas_was_resized_or_pulses_are_due() {
        let mut m = Model::new(Rc::default());
        assert!(must_draw(&m, false, true, 0.0), "the first frame");
        m.dirty = false;
        m.changed = false;
        m.last_pulse = 1000.0;
        assert!(!must_draw(&m, false, true, 5000.0));
        assert!(must_draw(&m, false, false, 1001.0), "resized");
        assert!(!must_draw(&m, true, true, 1039.0), "pulses wait 40 ms");
        assert!(must_draw(&m, true, true, 1040.0));
        m.changed = true;
        assert!(must_draw(&m, false, true, 1001.0));
        m.changed = false;
        m.dirty = true;
        assert!(must_draw(&m, false, true, 1001.0));
    }

    #[test]
    fn the_test_state_names_the_vehicles_the_zoom_the_stations_in_css_pixels_and_the_cells() {
        let site = |kind: &str, code: &str| Site {
            kind: kind.into(),
            site_kind: "filling".into(),
            code: code.into(),
            name: code.into(),
            lon: 113.6,
            lat: 34.7,
            enterprise_code: "ENT-1".parse().unwrap(),
            full: 0,
            full_limit: 1,
        };
        let mut m = Model::new(Rc::default());
        m.view.zoom = 2.0;
        m.stations = Some(Rc::new(Sites {
            sites: vec![site("station", "ST-1"), site("customer", "CU-1")],
            truncated: false,
        }));
        let p = Projection::fit((113.5, 34.6, 113.7, 34.8), 800.0, 800.0, 0.0);
        let (x, y) = p.project(113.6, 34.7);
        let state: serde_json::Value = serde_json::from_str(&test_state(&m, &[], &p, 2.0)).unwrap();
        assert_eq!(
            state,
            json!({
                "vehicles": [], "zoom": 2.0, "cells": 0, "focus": null,
                "stations": [{"code": "ST-1", "x": x / 2.0, "y": y / 2.0}]
            })
        );
    }
}
