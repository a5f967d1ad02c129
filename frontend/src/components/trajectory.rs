//! A cylinder's trajectory on the district map: a line through the places of its history in
//! event-time order, with arrows along it, its start, and a marker where it is now. The view is
//! zoomed to the trajectory (a few kilometres would be a dot on the whole city).

use crate::canvas::{
    dot, draw_districts, label, place_marker, prepare, ui_font_px, Projection, Surface,
};
use crate::geo::{bounds, District};
use crate::hooks::use_resize_count;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Trajectory properties.
#[derive(Properties, PartialEq)]
pub struct TrajectoryProps {
    pub districts: Rc<Vec<District>>,
    /// (lon, lat) of the history's located entries, oldest first.
    pub track: Rc<Vec<(f64, f64)>>,
    /// Where the cylinder is now.
    pub position: Option<(f64, f64)>,
    pub start_label: AttrValue,
    pub position_label: AttrValue,
}

/// The trajectory map.
#[component]
pub fn Trajectory(props: &TrajectoryProps) -> Html {
    let canvas = use_node_ref();
    let resized = use_resize_count();
    {
        let canvas = canvas.clone();
        let deps = (
            props.districts.clone(),
            props.track.clone(),
            props.position.map(|(x, y)| (x.to_bits(), y.to_bits())),
            props.start_label.clone(),
            props.position_label.clone(),
            resized,
        );
        let position = props.position;
        use_effect_with(deps, move |(districts, track, _, start, here, _)| {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                draw(&el, districts, track, position, (start, here));
            }
        });
    }
    html! {
        <div class="map">
            <canvas ref={canvas} id="trajectory" data-points={props.track.len().to_string()}></canvas>
        </div>
    }
}

/// The smallest span shown, in degrees of latitude (about 3 km), so that one station does not
/// fill the screen.
const MIN_SPAN: f64 = 0.03;

fn draw(
    canvas: &HtmlCanvasElement,
    districts: &[District],
    track: &[(f64, f64)],
    position: Option<(f64, f64)>,
    labels: (&str, &str),
) -> Option<()> {
    let s = prepare(canvas)?;
    // Sizes follow the page's text: a 4K wall at one device pixel per CSS pixel too.
    let k = ui_font_px(&s) / 20.0;
    let points: Vec<(f64, f64)> = track.iter().copied().chain(position).collect();
    let view = view_box(&points).or_else(|| bounds(districts))?;
    let projection = Projection::fit(view, s.w, s.h, 40.0 * k);
    draw_districts(&s, &projection, districts);

    // Consecutive scans at one place are one vertex of the line.
    let mut line: Vec<(f64, f64)> = track
        .iter()
        .map(|&(x, y)| projection.project(x, y))
        .collect();
    line.dedup_by(|a, b| (a.0 - b.0).hypot(a.1 - b.1) < 0.5);
    let ctx = &s.ctx;
    ctx.set_line_join("round");
    ctx.set_line_cap("round");
    if line.len() > 1 {
        ctx.begin_path();
        for (i, &(x, y)) in line.iter().enumerate() {
            if i == 0 {
                ctx.move_to(x, y);
            } else {
                ctx.line_to(x, y);
            }
        }
        ctx.set_stroke_style_str("#4fc3f7");
        ctx.set_line_width(3.0 * k);
        ctx.stroke();
        for w in line.windows(2) {
            arrow(&s, w[0], w[1], 9.0 * k);
        }
    }
    for &(x, y) in &line {
        dot(&s, x, y, 4.0 * k, "#4fc3f7");
    }
    let here = position.map(|(lon, lat)| projection.project(lon, lat));
    if let Some(&(x, y)) = line.first() {
        dot(&s, x, y, 7.0 * k, "#2ecc71");
        // Where it started and where it is may be one place: one label then.
        let apart = here.is_none_or(|(hx, hy)| (hx - x).hypot(hy - y) > 30.0 * k);
        if apart {
            label(&s, x, y, labels.0, "#2ecc71", k);
        }
    }
    if let Some((x, y)) = here {
        place_marker(&s, x, y, k, "#ffb020", "rgba(255, 176, 32, 0.25)");
        label(&s, x, y, labels.1, "#ffd27a", k);
    }
    Some(())
}

/// The box around the points, grown to at least `MIN_SPAN` each way.
fn view_box(points: &[(f64, f64)]) -> Option<(f64, f64, f64, f64)> {
    let (a, b, c, d) = points.iter().fold(None, |acc, &(x, y)| {
        Some(match acc {
            None => (x, y, x, y),
            Some((a, b, c, d)) => (
                f64::min(a, x),
                f64::min(b, y),
                f64::max(c, x),
                f64::max(d, y),
            ),
        })
    })?;
    let grow = |lo: f64, hi: f64, min: f64| {
        let pad = ((min - (hi - lo)) / 2.0).max(0.0);
        (lo - pad, hi + pad)
    };
    let kx = ((b + d) / 2.0).to_radians().cos().max(0.1);
    let (a, c) = grow(a, c, MIN_SPAN / kx);
    let (b, d) = grow(b, d, MIN_SPAN);
    Some((a, b, c, d))
}

/// An arrowhead halfway along a segment, pointing the way the cylinder went.
fn arrow(s: &Surface, from: (f64, f64), to: (f64, f64), size: f64) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = dx.hypot(dy);
    if len < size * 3.0 {
        return;
    }
    let (ux, uy) = (dx / len, dy / len);
    let (mx, my) = (from.0 + dx / 2.0, from.1 + dy / 2.0);
    let ctx = &s.ctx;
    ctx.begin_path();
    ctx.move_to(mx + ux * size, my + uy * size);
    ctx.line_to(
        mx - ux * size - uy * size * 0.7,
        my - uy * size + ux * size * 0.7,
    );
    ctx.line_to(
        mx - ux * size + uy * size * 0.7,
        my - uy * size - ux * size * 0.7,
    );
    ctx.close_path();
    ctx.set_fill_style_str("#4fc3f7");
    ctx.fill();
}
