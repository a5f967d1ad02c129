//! A small district map on which a click picks a place (the duty console's new incident): the
//! city drawn as on the wall, the chosen place marked; a click reports the (lon, lat) under the
//! pointer, rounded to 6 decimals (about 0.1 m).

use crate::canvas::{draw_districts, place_marker, prepare, ui_font_px, Projection};
use crate::geo::{bounds, District};
use crate::hooks::use_resize_count;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// The picker's props.
#[derive(Properties, PartialEq)]
pub struct PlacePickerProps {
    pub districts: Rc<Vec<District>>,
    /// The place chosen (clicked or typed), marked on the map.
    pub place: Option<(f64, f64)>,
    /// A click on the map: the (lon, lat) there.
    pub on_pick: Callback<(f64, f64)>,
}

/// `v` rounded to 6 decimals.
pub fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The (lon, lat) under a click `css` pixels from the canvas's top left corner, on a map drawn
/// with `projection` at `dpr` device pixels per CSS pixel; rounded to 6 decimals.
pub fn place_at(projection: &Projection, dpr: f64, css: (f64, f64)) -> (f64, f64) {
    let (lon, lat) = projection.unproject(css.0 * dpr, css.1 * dpr);
    (round6(lon), round6(lat))
}

/// The map.
#[component]
pub fn PlacePicker(props: &PlacePickerProps) -> Html {
    let canvas = use_node_ref();
    let resized = use_resize_count();
    // The projection of the last drawing and its pixel ratio, for the clicks.
    let drawn = use_mut_ref(|| None::<(Projection, f64)>);
    {
        let (canvas, drawn) = (canvas.clone(), drawn.clone());
        let place = props.place;
        let deps = (
            props.districts.clone(),
            place.map(|(x, y)| (x.to_bits(), y.to_bits())),
            resized,
        );
        use_effect_with(deps, move |(districts, _, _)| {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                *drawn.borrow_mut() = draw(&el, districts, place);
            }
        });
    }
    let onclick = {
        let (canvas, drawn, on_pick) = (canvas.clone(), drawn.clone(), props.on_pick.clone());
        Callback::from(move |e: MouseEvent| pick(&canvas, &drawn, &on_pick, &e))
    };
    let place = props.place.map(|(lon, lat)| format!("{lon},{lat}"));
    html! {
        <div class="map place-picker">
            <canvas ref={canvas} id="new-place-map" data-place={place} {onclick}></canvas>
        </div>
    }
}

fn pick(
    canvas: &NodeRef,
    drawn: &Rc<RefCell<Option<(Projection, f64)>>>,
    on_pick: &Callback<(f64, f64)>,
    e: &MouseEvent,
) {
    let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
        return;
    };
    let rect = el.get_bounding_client_rect();
    let css = (
        f64::from(e.client_x()) - rect.left(),
        f64::from(e.client_y()) - rect.top(),
    );
    if let Some((projection, dpr)) = &*drawn.borrow() {
        on_pick.emit(place_at(projection, *dpr, css));
    }
}

fn draw(
    canvas: &HtmlCanvasElement,
    districts: &[District],
    place: Option<(f64, f64)>,
) -> Option<(Projection, f64)> {
    let s = prepare(canvas)?;
    let k = ui_font_px(&s) / 20.0;
    let projection = Projection::fit(bounds(districts)?, s.w, s.h, 12.0 * k);
    draw_districts(&s, &projection, districts);
    if let Some((lon, lat)) = place {
        let (x, y) = projection.project(lon, lat);
        place_marker(&s, x, y, k * 0.8, "#ff5a4f", "rgba(255, 90, 79, 0.35)");
    }
    Some((projection, s.dpr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_reads_as_the_place_under_it_at_any_pixel_ratio() {
        let city = (112.715088, 34.263287, 114.215085, 34.990077);
        for dpr in [1.0, 2.0] {
            let p = Projection::fit(city, 400.0 * dpr, 240.0 * dpr, 12.0 * dpr);
            // The middle of the canvas (in CSS pixels) is the middle of the city's box.
            let (lon, lat) = place_at(&p, dpr, (200.0, 120.0));
            assert!((lon - 113.4650865).abs() < 1e-6 && (lat - 34.626682).abs() < 1e-6);
            let (x, y) = p.project(113.62, 34.75);
            assert_eq!(place_at(&p, dpr, (x / dpr, y / dpr)), (113.62, 34.75));
        }
        assert_eq!(round6(113.123_456_789), 113.123457);
    }
}
