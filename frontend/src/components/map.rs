//! The wall's city map on one canvas: districts, a cylinder density layer (server-side grid
//! bins, so 100,000 cylinders are a few thousand cells), stations and warehouses (customers
//! once zoomed in), every vehicle live with its heading, and open alerts pulsing where they
//! were raised. Wheel to zoom, drag to pan, click a vehicle, site or cell for its details and
//! the pages behind it. No DOM node per marker.
//!
//! Drawing runs in `requestAnimationFrame`, only when something changed (or while alerts
//! pulse): the districts, cells and sites are drawn once per view into an off-screen layer
//! that each frame copies, then the vehicles and pulses go on top. With `?test-state` in the
//! URL what was drawn is written to a hidden `#vehicle-state` element for browser tests; with
//! `?bench` each frame's drawing time is pushed to `window.__cylwatch_draw_ms` for the
//! benchmark.

use crate::app::Route;
use crate::canvas::{draw_districts, prepare, set_font, ui_font_px, Projection, Surface};
use crate::format::cst;
use crate::geo::{bounds, District};
use crate::hooks::{use_polled, use_resize_count};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api;
use crate::state::{LiveContext, OpenAlerts, Vehicles};
use serde_json::json;
use shared::alert::{AlertStatus, Severity};
use shared::density::{Density, Site, Sites};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;
use yew_router::prelude::*;

mod draw;
use draw::{draw_layer, draw_pulses, draw_vehicles};

/// The density layer's cell, in degrees (about 1 km in Zhengzhou).
const CELL_DEG: f64 = 0.01;

/// How often the density layer is asked again, in milliseconds.
const LAYER_REFRESH_MS: u32 = 60_000;

/// How often the stations are asked again (for their stock), in milliseconds.
const STATIONS_REFRESH_MS: u32 = 300_000;

/// How often the customers are asked again: thousands of them, seldom changing, and each
/// answer a large allocation that the wasm heap keeps as its high-water mark.
const CUSTOMERS_REFRESH_MS: u32 = 3_600_000;

/// From this zoom on, customers are drawn too, and each loaded vehicle's load beside it.
const CUSTOMER_ZOOM: f64 = 3.0;

/// The most alerts that pulse at once (the newest).
const MAX_PULSES: usize = 300;

/// Map properties.
#[derive(Properties, PartialEq)]
pub struct CityMapProps {
    pub districts: Rc<Vec<District>>,
}

fn url_has(flag: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains(flag))
}

/// What was clicked.
#[derive(Debug, Clone, PartialEq)]
enum Selection {
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

/// Everything the frame loop draws from; shared by the component and its callbacks.
struct Model {
    districts: Rc<Vec<District>>,
    vehicles: Option<Vehicles>,
    alerts: Option<OpenAlerts>,
    density: Option<Rc<Density>>,
    stations: Option<Rc<Sites>>,
    customers: Option<Rc<Sites>>,
    zoom: f64,
    pan: (f64, f64),
    /// The off-screen layer (districts, cells, sites) must be drawn again.
    dirty: bool,
    /// Something on top (vehicles, alerts) changed.
    changed: bool,
    layer: Option<HtmlCanvasElement>,
    last_pulse: f64,
    /// Where a drag is (CSS pixels) and how far it went.
    drag: Option<(f64, f64, f64)>,
    dragged: f64,
    projection: Option<Projection>,
    dpr: f64,
    test_state: Option<web_sys::Element>,
    bench: bool,
}

impl Model {
    fn new(districts: Rc<Vec<District>>) -> Self {
        Self {
            districts,
            vehicles: None,
            alerts: None,
            density: None,
            stations: None,
            customers: None,
            zoom: 1.0,
            pan: (0.0, 0.0),
            dirty: true,
            changed: true,
            layer: None,
            last_pulse: 0.0,
            drag: None,
            dragged: 0.0,
            projection: None,
            dpr: 1.0,
            test_state: None,
            bench: false,
        }
    }
}

type Shared = Rc<RefCell<Model>>;

/// The frame callback handed to `requestAnimationFrame`.
type FrameFn = Closure<dyn FnMut(f64)>;

/// The live city map.
#[component]
pub fn CityMap(props: &CityMapProps) -> Html {
    let lang = use_lang().lang;
    let canvas = use_node_ref();
    let state_ref = use_node_ref();
    let live = use_context::<LiveContext>();
    let resized = use_resize_count();
    let test_state = use_memo((), |_| url_has("test-state"));
    let selected = use_state(|| None::<Selection>);
    let density = use_polled(LAYER_REFRESH_MS, || api::density(CELL_DEG));
    let stations = use_polled(STATIONS_REFRESH_MS, api::stations);
    let customers = use_polled(CUSTOMERS_REFRESH_MS, api::customers);
    let model: Shared = {
        let districts = props.districts.clone();
        (*use_memo((), move |_| Rc::new(RefCell::new(Model::new(districts))))).clone()
    };

    // Keep the model in step with what the page knows.
    {
        let model = model.clone();
        let live = live.clone();
        let version = live.as_ref().map_or(0, |l| l.version);
        use_effect_with(version, move |_| {
            let mut m = model.borrow_mut();
            if let Some(l) = &live {
                m.vehicles = Some(l.vehicles.clone());
                m.alerts = Some(l.alerts.clone());
            }
            m.changed = true;
        });
    }
    {
        let model = model.clone();
        use_effect_with(
            (
                density.clone(),
                stations.clone(),
                customers.clone(),
                props.districts.clone(),
                resized,
            ),
            move |(density, stations, customers, districts, _)| {
                let mut m = model.borrow_mut();
                m.density = density.clone();
                m.stations = stations.clone();
                m.customers = customers.clone();
                m.districts = districts.clone();
                m.dirty = true;
                m.changed = true;
            },
        );
    }
    // The frame loop, for the life of the component.
    {
        let model = model.clone();
        let canvas = canvas.clone();
        let state_ref = state_ref.clone();
        use_effect_with((), move |_| {
            {
                let mut m = model.borrow_mut();
                m.test_state = state_ref.cast::<web_sys::Element>();
                m.bench = url_has("bench");
                if m.bench {
                    // The benchmark reads the wasm heap's size (it only grows) from here.
                    if let Some(w) = web_sys::window() {
                        let _ = js_sys::Reflect::set(
                            &w,
                            &"__cylwatch_wasm_memory".into(),
                            &wasm_bindgen::memory(),
                        );
                    }
                }
            }
            let alive = Rc::new(std::cell::Cell::new(true));
            let frame: Rc<RefCell<Option<FrameFn>>> = Rc::new(RefCell::new(None));
            let next = frame.clone();
            let flag = alive.clone();
            *frame.borrow_mut() = Some(Closure::new(move |t: f64| {
                if !flag.get() {
                    return;
                }
                if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                    tick(&model, &el, t);
                }
                if let (Some(w), Some(f)) = (web_sys::window(), next.borrow().as_ref()) {
                    let _ = w.request_animation_frame(f.as_ref().unchecked_ref());
                }
            }));
            if let (Some(w), Some(f)) = (web_sys::window(), frame.borrow().as_ref()) {
                let _ = w.request_animation_frame(f.as_ref().unchecked_ref());
            }
            move || {
                alive.set(false);
                // Breaks the closure's reference to itself.
                frame.borrow_mut().take();
            }
        });
    }

    let onwheel = {
        let model = model.clone();
        Callback::from(move |e: WheelEvent| {
            let mut m = model.borrow_mut();
            let k = if e.delta_y() < 0.0 { 1.25 } else { 0.8 };
            let zoom = (m.zoom * k).clamp(1.0, 64.0);
            let k = zoom / m.zoom;
            let (cx, cy) = (
                f64::from(e.offset_x()) * m.dpr,
                f64::from(e.offset_y()) * m.dpr,
            );
            m.pan = (cx - (cx - m.pan.0) * k, cy - (cy - m.pan.1) * k);
            m.zoom = zoom;
            if zoom <= 1.0 {
                m.pan = (0.0, 0.0);
            }
            m.dirty = true;
        })
    };
    let onmousedown = {
        let model = model.clone();
        Callback::from(move |e: MouseEvent| {
            let mut m = model.borrow_mut();
            m.drag = Some((f64::from(e.client_x()), f64::from(e.client_y()), 0.0));
            m.dragged = 0.0;
        })
    };
    let onmousemove = {
        let model = model.clone();
        Callback::from(move |e: MouseEvent| {
            let mut m = model.borrow_mut();
            let Some((x, y, moved)) = m.drag else { return };
            let (nx, ny) = (f64::from(e.client_x()), f64::from(e.client_y()));
            let (dx, dy) = (nx - x, ny - y);
            let moved = moved + dx.abs() + dy.abs();
            m.drag = Some((nx, ny, moved));
            m.dragged = moved;
            if moved > 4.0 && m.zoom > 1.0 {
                let dpr = m.dpr;
                m.pan = (m.pan.0 + dx * dpr, m.pan.1 + dy * dpr);
                m.dirty = true;
            }
        })
    };
    let onmouseup = {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| model.borrow_mut().drag = None)
    };
    let onclick = {
        let model = model.clone();
        let selected = selected.clone();
        Callback::from(move |e: MouseEvent| {
            let m = model.borrow();
            if m.dragged > 4.0 {
                return;
            }
            let (x, y) = (
                f64::from(e.offset_x()) * m.dpr,
                f64::from(e.offset_y()) * m.dpr,
            );
            selected.set(hit(&m, x, y));
        })
    };
    let reset = {
        let model = model.clone();
        Callback::from(move |_: MouseEvent| {
            let mut m = model.borrow_mut();
            m.zoom = 1.0;
            m.pan = (0.0, 0.0);
            m.dirty = true;
        })
    };
    let close = {
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| selected.set(None))
    };

    let count = live.as_ref().map_or(0, |l| l.vehicles.borrow().len());
    let (cylinders, cells) = density
        .as_ref()
        .map_or((0, 0), |d| (d.total, d.cells.len()));
    html! {
        <div class="map wall-city-map">
            <canvas ref={canvas} id="city-map" data-vehicle-count={count.to_string()}
                data-cylinders={cylinders.to_string()} data-cells={cells.to_string()}
                {onwheel} {onmousedown} {onmousemove} {onmouseup} onmouseleave={Callback::from({
                    let model = model.clone();
                    move |_: MouseEvent| model.borrow_mut().drag = None
                })} {onclick}></canvas>
            <div class="map-legend" id="map-legend">
                <span class="legend-density"></span>
                { format!("{} · {cylinders} {}", lang.t(Key::DensityLayer), lang.t(Key::CylindersUnit)) }
                <span class="legend-site"></span>{ lang.t(Key::SiteStation) }
                <span class="legend-vehicle"></span>{ lang.t(Key::VehicleLabel) }
            </div>
            <button type="button" class="lang map-reset" id="map-reset" onclick={reset}>{ lang.t(Key::ResetView) }</button>
            if let Some(s) = &*selected {
                <div class="map-details" id="map-details">
                    <button type="button" class="lang map-details-close" onclick={close}>{ "×" }</button>
                    { details(lang, s) }
                </div>
            }
            if *test_state {
                <pre id="vehicle-state" ref={state_ref} hidden=true></pre>
            }
        </div>
    }
}

/// The details box of what was clicked, with the pages behind it.
fn details(lang: Lang, s: &Selection) -> Html {
    match s {
        Selection::Vehicle {
            plate,
            speed_kmh,
            enterprise,
            at,
            load,
        } => html! {
            <div data-kind="vehicle" data-code={plate.clone()} data-load={(load.0 + load.1).to_string()}>
                <h3>{ lang.t(Key::VehicleLabel) }{ " " }{ plate }</h3>
                <p class="map-load">
                    { lang.t(Key::Load) }{ format!(": {} ", load.0 + load.1) }{ lang.t(Key::CylindersUnit) }
                    { format!(" ({} {} · {} {})", lang.t(Key::LoadFull), load.0, lang.t(Key::LoadOther), load.1) }
                </p>
                <p>{ lang.t(Key::Speed) }{ format!(": {:.0} km/h", speed_kmh.unwrap_or(0.0)) }</p>
                <p>{ lang.t(Key::LastUpdate) }{ ": " }{ at }</p>
                if let Some(code) = enterprise {
                    <Link<Route> to={Route::StatsEnterprise { code: code.clone() }} classes="map-link-enterprise">
                        { lang.t(Key::LevelEnterprise) }{ " " }{ code.clone() }
                    </Link<Route>>
                }
            </div>
        },
        Selection::Site(site) => {
            let station = site.kind == "station";
            html! {
                <div data-kind={site.kind.clone()} data-code={site.code.clone()}>
                    <h3>{ if station { lang.t(Key::SiteStation) } else { lang.t(Key::SiteCustomer) } }{ " " }{ &site.name }</h3>
                    <p>{ &site.code }</p>
                    <p class={classes!((site.full > site.full_limit).then_some("bad"))}>
                        { lang.t(Key::FullStock) }{ format!(": {} / {}", site.full, site.full_limit) }
                    </p>
                    <div class="map-links">
                        if station {
                            <Link<Route> to={Route::Station { code: site.code.clone() }} classes="map-link-station">
                                { lang.t(Key::ViewStation) }
                            </Link<Route>>
                            <Link<Route> to={Route::StatsStation { code: site.code.clone() }} classes="map-link-station-stats">
                                { lang.t(Key::OpenStatistics) }
                            </Link<Route>>
                        }
                        <Link<Route> to={Route::StatsEnterprise { code: site.enterprise_code.clone() }} classes="map-link-enterprise">
                            { lang.t(Key::LevelEnterprise) }{ " " }{ site.enterprise_code.clone() }
                        </Link<Route>>
                    </div>
                </div>
            }
        }
        Selection::Cell { lon, lat, count } => html! {
            <div data-kind="cell">
                <h3>{ lang.t(Key::DensityLayer) }</h3>
                <p><b>{ count }</b>{ " " }{ lang.t(Key::CylindersUnit) }</p>
                <p>{ format!("{lon:.3}, {lat:.3}") }</p>
            </div>
        },
    }
}

/// The vehicle, site or cell under (x, y) (device pixels), nearest first.
fn hit(m: &Model, x: f64, y: f64) -> Option<Selection> {
    let p = m.projection.as_ref()?;
    let near = |lon: f64, lat: f64, r: f64| {
        let (px, py) = p.project(lon, lat);
        let d = (px - x).hypot(py - y);
        (d <= r).then_some(d)
    };
    let r = 14.0 * m.dpr;
    if let Some(vehicles) = &m.vehicles {
        let vehicles = vehicles.borrow();
        let best = vehicles
            .values()
            .filter_map(|v| near(v.lon, v.lat, r).map(|d| (d, v)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, v)) = best {
            return Some(Selection::Vehicle {
                load: v.load.map_or((0, 0), |l| (l.full, l.other)),
                plate: v.plate.to_string(),
                speed_kmh: v.speed_kmh,
                enterprise: v.enterprise_code.clone(),
                at: v
                    .occurred_at
                    .with_timezone(&cst())
                    .format("%H:%M:%S")
                    .to_string(),
            });
        }
    }
    let customers = m.customers.as_ref().filter(|_| m.zoom >= CUSTOMER_ZOOM);
    let best = [m.stations.as_ref(), customers]
        .into_iter()
        .flatten()
        .flat_map(|s| s.sites.iter())
        .filter_map(|s| near(s.lon, s.lat, r).map(|d| (d, s)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, s)) = best {
        return Some(Selection::Site(s.clone()));
    }
    let d = m.density.as_ref()?;
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

/// One animation frame: draws when something changed, or to move the pulses on.
fn tick(model: &Shared, canvas: &HtmlCanvasElement, t: f64) {
    let mut m = model.borrow_mut();
    let pulsing = m
        .alerts
        .as_ref()
        .is_some_and(|a| a.borrow().values().any(|a| a.place.is_some()));
    let pulse_due = pulsing && t - m.last_pulse >= 40.0;
    let sized = canvas.width() == to_px(f64::from(canvas.client_width()) * dpr())
        && canvas.height() == to_px(f64::from(canvas.client_height()) * dpr());
    if !(m.dirty || m.changed || pulse_due || !sized) {
        return;
    }
    let started = now_ms();
    let Some(surface) = prepare(canvas) else {
        return;
    };
    m.dpr = surface.dpr;
    let Some(extent) = bounds(&m.districts) else {
        return;
    };
    let base = Projection::fit(extent, surface.w, surface.h, 24.0 * surface.dpr);
    let projection = base.zoomed(m.zoom, m.pan.0, m.pan.1);
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
    draw_pulses(&m, &surface, &projection, t);
    m.last_pulse = t;
    if let (Some(drawn), Some(el)) = (drawn, &m.test_state) {
        let stations: Vec<_> = m.stations.as_ref().map_or_else(Vec::new, |s| {
            s.sites
                .iter()
                .filter(|s| s.kind == "station")
                .map(|s| {
                    let (x, y) = projection.project(s.lon, s.lat);
                    json!({ "code": s.code, "x": x / surface.dpr, "y": y / surface.dpr })
                })
                .collect()
        });
        let cells = m.density.as_ref().map_or(0, |d| d.cells.len());
        el.set_text_content(Some(
            &json!({ "vehicles": drawn, "zoom": m.zoom, "stations": stations, "cells": cells })
                .to_string(),
        ));
    }
    m.changed = false;
    m.projection = Some(projection);
    if m.bench {
        record_draw(now_ms() - started);
    }
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
fn to_px(v: f64) -> u32 {
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
