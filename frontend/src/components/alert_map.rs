//! Where an alert was raised, on the district base map: the whole city (so the officer sees
//! which part of it), the alert's district outlined, its place marked in the severity's colour
//! with the place's name.

use crate::canvas::{
    draw_districts, label, place_marker, prepare, trace_district, ui_font_px, Projection,
};
use crate::geo::{bounds, contains, District};
use crate::hooks::use_resize_count;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Alert map properties.
#[derive(Properties, PartialEq)]
pub struct AlertMapProps {
    pub districts: Rc<Vec<District>>,
    /// (lon, lat) of the alert's place, when it has one.
    pub place: Option<(f64, f64)>,
    /// What the mark says (the place's name, or the subject).
    pub label: AttrValue,
    /// The mark's colour and its halo's (CSS colours).
    pub colour: AttrValue,
    pub halo: AttrValue,
}

/// The small map of the duty console.
#[component]
pub fn AlertMap(props: &AlertMapProps) -> Html {
    let canvas = use_node_ref();
    let resized = use_resize_count();
    {
        let canvas = canvas.clone();
        let place = props.place;
        let deps = (
            props.districts.clone(),
            place.map(|(x, y)| (x.to_bits(), y.to_bits())),
            props.label.clone(),
            props.colour.clone(),
            props.halo.clone(),
            resized,
        );
        use_effect_with(deps, move |(districts, _, text, colour, halo, _)| {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                draw(&el, districts, place, text, (colour, halo));
            }
        });
    }
    let place = props.place.map(|(lon, lat)| format!("{lon},{lat}"));
    html! {
        <div class="map">
            <canvas ref={canvas} id="alert-map" data-place={place}></canvas>
        </div>
    }
}

fn draw(
    canvas: &HtmlCanvasElement,
    districts: &[District],
    place: Option<(f64, f64)>,
    text: &str,
    (colour, halo): (&str, &str),
) -> Option<()> {
    let s = prepare(canvas)?;
    let k = ui_font_px(&s) / 20.0;
    let projection = Projection::fit(bounds(districts)?, s.w, s.h, 16.0 * k);
    draw_districts(&s, &projection, districts);
    let (lon, lat) = place?;
    // The alert's district, outlined over the others.
    if let Some(d) = districts.iter().find(|d| contains(d, lon, lat)) {
        trace_district(&s, &projection, d);
        s.ctx.set_stroke_style_str(colour);
        s.ctx.set_line_width(2.5 * k);
        s.ctx.stroke();
    }
    let (x, y) = projection.project(lon, lat);
    place_marker(&s, x, y, k, colour, halo);
    label(&s, x, y, text, "#ffffff", k);
    Some(())
}
