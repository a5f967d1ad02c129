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

use crate::canvas::Projection;
use crate::geo::District;
use crate::hooks::{use_polled, use_resize_count};
use crate::i18n::{use_lang, Key, Lang};
use crate::services::api;
use crate::state::{LiveContext, OpenAlerts, Vehicles};
use shared::density::{Density, Sites};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

mod details;
mod draw;
mod frame;
mod view;
use details::details;
use view::{hit, Scene, Selection, View};

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

/// An incident the map looks at: its place and the radius of its ring.
#[derive(Debug, Clone, PartialEq)]
pub struct Focus {
    pub id: uuid::Uuid,
    pub lon: f64,
    pub lat: f64,
    pub radius_m: f64,
}

/// Map properties.
#[derive(Properties, PartialEq)]
pub struct CityMapProps {
    pub districts: Rc<Vec<District>>,
    /// An open incident to zoom to, with its ring; `None` is the whole city.
    #[prop_or_default]
    pub focus: Option<Focus>,
}

fn url_has(flag: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains(flag))
}

/// Everything the frame loop draws from; shared by the component and its callbacks.
struct Model {
    districts: Rc<Vec<District>>,
    vehicles: Option<Vehicles>,
    alerts: Option<OpenAlerts>,
    density: Option<Rc<Density>>,
    stations: Option<Rc<Sites>>,
    customers: Option<Rc<Sites>>,
    /// The incident looked at, and the one the view was last set for.
    focus: Option<Focus>,
    focus_applied: Option<Focus>,
    view: View,
    /// The off-screen layer (districts, cells, sites) must be drawn again.
    dirty: bool,
    /// Something on top (vehicles, alerts) changed.
    changed: bool,
    layer: Option<HtmlCanvasElement>,
    last_pulse: f64,
    /// The last frame's projection, which clicks are tested against.
    projection: Option<Projection>,
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
            focus: None,
            focus_applied: None,
            view: View::default(),
            dirty: true,
            changed: true,
            layer: None,
            last_pulse: 0.0,
            projection: None,
            test_state: None,
            bench: false,
        }
    }

    /// What lies under (x, y) (device pixels) as the last frame drew it.
    fn hit(&self, (x, y): (f64, f64)) -> Option<Selection> {
        let p = self.projection.as_ref()?;
        let vehicles = self.vehicles.as_ref().map(|v| v.borrow());
        let scene = Scene {
            vehicles: vehicles.as_deref(),
            stations: self.stations.as_deref(),
            customers: self.customers.as_deref(),
            density: self.density.as_deref(),
        };
        hit(p, &self.view, &scene, x, y)
    }
}

type Shared = Rc<RefCell<Model>>;

/// The frame callback handed to `requestAnimationFrame`.
type FrameFn = Closure<dyn FnMut(f64)>;

/// What the map's layers are drawn from, as last fetched.
type Layers = (Option<Rc<Density>>, Option<Rc<Sites>>, Option<Rc<Sites>>);

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
    let layers = (density.clone(), stations, customers);
    let model = use_model(&props.districts, live.as_ref(), layers, resized);
    {
        let model = model.clone();
        use_effect_with(props.focus.clone(), move |focus| {
            let mut m = model.borrow_mut();
            m.focus.clone_from(focus);
            m.changed = true;
        });
    }
    use_frame_loop(&model, &canvas, &state_ref);
    let pointer = Pointer::new(&model, &selected);
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
                data-zoom-state="city"
                data-cylinders={cylinders.to_string()} data-cells={cells.to_string()}
                onwheel={pointer.wheel} onmousedown={pointer.press} onmousemove={pointer.drag}
                onmouseup={pointer.release.clone()} onmouseleave={pointer.release}
                onclick={pointer.click}></canvas>
            { legend(lang, cylinders) }
            <button type="button" class="lang map-reset" id="map-reset" onclick={pointer.reset}>{ lang.t(Key::ResetView) }</button>
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

/// The model the frame loop draws from, kept in step with the live feed (vehicles and alerts),
/// the fetched layers, the districts and the window's size.
#[hook]
fn use_model(
    districts: &Rc<Vec<District>>,
    live: Option<&LiveContext>,
    layers: Layers,
    resized: u32,
) -> Shared {
    let model: Shared = {
        let districts = districts.clone();
        (*use_memo((), move |_| Rc::new(RefCell::new(Model::new(districts))))).clone()
    };
    {
        let model = model.clone();
        let live = live.cloned();
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
        let (density, stations, customers) = layers;
        use_effect_with(
            (density, stations, customers, districts.clone(), resized),
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
    model
}

/// The frame loop, for the life of the component: each animation frame draws the model onto
/// the canvas when something changed (`frame::tick`).
#[hook]
fn use_frame_loop(model: &Shared, canvas: &NodeRef, state_ref: &NodeRef) {
    let (model, canvas, state_ref) = (model.clone(), canvas.clone(), state_ref.clone());
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
                frame::tick(&model, &el, t);
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

/// The canvas's pointer handlers: wheel to zoom, drag to pan, click to pick, and the reset
/// button. Each changes the view; the frame loop draws what changed.
struct Pointer {
    wheel: Callback<WheelEvent>,
    press: Callback<MouseEvent>,
    drag: Callback<MouseEvent>,
    release: Callback<MouseEvent>,
    click: Callback<MouseEvent>,
    reset: Callback<MouseEvent>,
}

impl Pointer {
    fn new(model: &Shared, selected: &UseStateHandle<Option<Selection>>) -> Self {
        let on = |f: fn(&mut Model, &MouseEvent)| {
            let model = model.clone();
            Callback::from(move |e: MouseEvent| f(&mut model.borrow_mut(), &e))
        };
        let wheel = {
            let model = model.clone();
            Callback::from(move |e: WheelEvent| {
                let mut m = model.borrow_mut();
                m.view.wheel(e.delta_y(), offset(&e));
                m.dirty = true;
            })
        };
        let click = {
            let (model, selected) = (model.clone(), selected.clone());
            Callback::from(move |e: MouseEvent| {
                let m = model.borrow();
                if let Some(at) = m.view.click(offset(&e)) {
                    selected.set(m.hit(at));
                }
            })
        };
        Self {
            wheel,
            press: on(|m, e| m.view.press(client(e))),
            drag: on(|m, e| {
                if m.view.drag_to(client(e)) {
                    m.dirty = true;
                }
            }),
            release: on(|m, _| m.view.release()),
            click,
            reset: on(|m, _| {
                m.view.reset();
                m.dirty = true;
            }),
        }
    }
}

/// Where a pointer event is within the canvas, in CSS pixels.
fn offset(e: &MouseEvent) -> (f64, f64) {
    (f64::from(e.offset_x()), f64::from(e.offset_y()))
}

/// Where a pointer event is within the window, in CSS pixels.
fn client(e: &MouseEvent) -> (f64, f64) {
    (f64::from(e.client_x()), f64::from(e.client_y()))
}

/// The legend: the density layer with its total, sites and vehicles.
fn legend(lang: Lang, cylinders: i64) -> Html {
    html! {
        <div class="map-legend" id="map-legend">
            <span class="legend-density"></span>
            { format!("{} · {cylinders} {}", lang.t(Key::DensityLayer), lang.t(Key::CylindersUnit)) }
            <span class="legend-site"></span>{ lang.t(Key::SiteStation) }
            <span class="legend-vehicle"></span>{ lang.t(Key::VehicleLabel) }
        </div>
    }
}
