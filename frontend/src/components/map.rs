//! The city map on a canvas: districts, their names, and every vehicle as a marker with its
//! heading. One canvas, no DOM node per marker. With `?test-state` in the URL the markers'
//! positions are also written to a hidden `#vehicle-state` element for browser tests.

use crate::geo::{bounds, District};
use crate::state::LiveContext;
use serde_json::json;
use shared::live::VehicleState;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Where a vehicle was drawn (CSS pixels), for the test-only state element.
#[derive(serde::Serialize)]
struct DrawnMarker {
    plate: String,
    lon: f64,
    lat: f64,
    x: f64,
    y: f64,
}

/// Map properties.
#[derive(Properties, PartialEq)]
pub struct CityMapProps {
    pub districts: Rc<Vec<District>>,
}

/// lon/lat → canvas pixels, keeping the aspect (equirectangular around the city's latitude).
struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    off_x: f64,
    off_y: f64,
}

impl Projection {
    fn fit(b: (f64, f64, f64, f64), width: f64, height: f64, pad: f64) -> Self {
        let (min_lon, min_lat, max_lon, max_lat) = b;
        let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let (w, h) = ((max_lon - min_lon) * kx, max_lat - min_lat);
        let scale = ((width - 2.0 * pad) / w)
            .min((height - 2.0 * pad) / h)
            .max(1e-9);
        Self {
            min_lon,
            max_lat,
            kx,
            scale,
            off_x: (width - w * scale) / 2.0,
            off_y: (height - h * scale) / 2.0,
        }
    }

    fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            self.off_x + (lon - self.min_lon) * self.kx * self.scale,
            self.off_y + (self.max_lat - lat) * self.scale,
        )
    }
}

fn test_state_enabled() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("test-state"))
}

/// The live city map.
#[component]
pub fn CityMap(props: &CityMapProps) -> Html {
    let canvas = use_node_ref();
    let live = use_context::<LiveContext>();
    let resized = use_state(|| 0_u32);
    let test_state = use_memo((), |_| test_state_enabled());
    let state_ref = use_node_ref();

    // Redraw when the window changes size.
    {
        let resized = resized.clone();
        use_effect_with((), move |_| {
            let window = web_sys::window();
            let listener = Closure::<dyn Fn()>::new(move || resized.set(*resized + 1));
            if let Some(w) = &window {
                let _ =
                    w.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "resize",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    let version = live.as_ref().map_or(0, |l| l.version);
    {
        let canvas = canvas.clone();
        let districts = props.districts.clone();
        let live = live.clone();
        let state_ref = state_ref.clone();
        use_effect_with((version, districts, *resized), move |(_, districts, _)| {
            let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let vehicles: Vec<VehicleState> = live
                .map(|l| l.vehicles.borrow().values().cloned().collect())
                .unwrap_or_default();
            let drawn = draw(&el, districts, &vehicles);
            if let (Some(drawn), Some(pre)) = (drawn, state_ref.cast::<web_sys::Element>()) {
                pre.set_text_content(Some(&json!({ "vehicles": drawn }).to_string()));
            }
        });
    }

    let count = live.as_ref().map_or(0, |l| l.vehicles.borrow().len());
    html! {
        <div class="map">
            <canvas ref={canvas} id="city-map" data-vehicle-count={count.to_string()}></canvas>
            if *test_state {
                <pre id="vehicle-state" ref={state_ref} hidden=true></pre>
            }
        </div>
    }
}

/// Draws everything; returns each marker's plate, lon/lat and pixel position.
fn draw(
    canvas: &HtmlCanvasElement,
    districts: &[District],
    vehicles: &[VehicleState],
) -> Option<Vec<DrawnMarker>> {
    let dpr = web_sys::window()?.device_pixel_ratio().max(1.0);
    let css_w = f64::from(canvas.client_width().max(1));
    let css_h = f64::from(canvas.client_height().max(1));
    let (w, h) = (css_w * dpr, css_h * dpr);
    let (pw, ph) = (to_px(w), to_px(h));
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_fill_style_str("#08111f");
    ctx.fill_rect(0.0, 0.0, w, h);
    let projection = Projection::fit(bounds(districts)?, w, h, 24.0 * dpr);

    // Districts.
    ctx.set_line_width(1.5 * dpr);
    for (i, d) in districts.iter().enumerate() {
        ctx.begin_path();
        for rings in &d.polygons {
            for ring in rings {
                for (j, &(lon, lat)) in ring.iter().enumerate() {
                    let (x, y) = projection.project(lon, lat);
                    if j == 0 {
                        ctx.move_to(x, y);
                    } else {
                        ctx.line_to(x, y);
                    }
                }
                ctx.close_path();
            }
        }
        ctx.set_fill_style_str(if i % 2 == 0 { "#10233d" } else { "#0e1f36" });
        ctx.fill();
        ctx.set_stroke_style_str("#3a6ea5");
        ctx.stroke();
    }

    // District names.
    let font_px = (h / 55.0).clamp(11.0 * dpr, 40.0 * dpr);
    ctx.set_font(&format!(
        "{font_px:.0}px \"Noto Sans CJK SC\", \"Microsoft YaHei\", sans-serif"
    ));
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    ctx.set_fill_style_str("#8fb3d9");
    for d in districts {
        let (x, y) = projection.project(d.label.0, d.label.1);
        let _ = ctx.fill_text(&d.name, x, y);
    }

    // Vehicles: a dot and a short line along the heading.
    let r = (h / 260.0).clamp(3.0 * dpr, 14.0 * dpr);
    let mut drawn = Vec::with_capacity(vehicles.len());
    for v in vehicles {
        let (x, y) = projection.project(v.lon, v.lat);
        if let Some(heading) = v.heading {
            let a = heading.to_radians();
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x + a.sin() * r * 2.2, y - a.cos() * r * 2.2);
            ctx.set_stroke_style_str("#ffd27a");
            ctx.set_line_width(r / 2.0);
            ctx.stroke();
        }
        ctx.begin_path();
        let _ = ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
        ctx.set_fill_style_str(if v.speed_kmh.unwrap_or(0.0) > 1.0 {
            "#ffb020"
        } else {
            "#ff7a45"
        });
        ctx.fill();
        drawn.push(DrawnMarker {
            plate: v.plate.to_string(),
            lon: v.lon,
            lat: v.lat,
            x: x / dpr,
            y: y / dpr,
        });
    }
    Some(drawn)
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_px(v: f64) -> u32 {
    // Clamped to a canvas's possible sizes first, so the cast cannot truncate or wrap.
    v.round().clamp(1.0, 16_384.0) as u32
}
