//! The city map on a canvas: districts, their names, and every vehicle as a marker with its
//! heading. One canvas, no DOM node per marker. With `?test-state` in the URL the markers'
//! positions are also written to a hidden `#vehicle-state` element for browser tests.

use crate::canvas::{draw_districts, prepare, Projection};
use crate::geo::{bounds, District};
use crate::hooks::use_resize_count;
use crate::state::LiveContext;
use serde_json::json;
use shared::live::VehicleState;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
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
    let resized = use_resize_count();
    let test_state = use_memo((), |_| test_state_enabled());
    let state_ref = use_node_ref();

    let version = live.as_ref().map_or(0, |l| l.version);
    {
        let canvas = canvas.clone();
        let districts = props.districts.clone();
        let live = live.clone();
        let state_ref = state_ref.clone();
        use_effect_with((version, districts, resized), move |(_, districts, _)| {
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
    let surface = prepare(canvas)?;
    let (h, dpr) = (surface.h, surface.dpr);
    let projection = Projection::fit(bounds(districts)?, surface.w, h, 24.0 * dpr);
    draw_districts(&surface, &projection, districts);
    let ctx = &surface.ctx;

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
