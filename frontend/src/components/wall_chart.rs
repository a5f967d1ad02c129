//! One chart of the wall, drawn with plotters on a canvas: columns over the hours of the day
//! (with a second series as a line), or labelled horizontal bars. Redrawn when its figures or
//! the window's size change; sized in device pixels so that it is sharp on a 4K wall.
//!
//! A click on a column or bar that has a list behind it (the same API list links the statistics'
//! figures carry) opens that list on the statistics page (`/stats?list=<path>&title=`). After
//! each drawing the plotting area is written to the canvas as `data-plot="left,top,width,height"`
//! (CSS pixels) with `data-slots` (columns or bars) and `data-links` (each slot's list, JSON), for
//! the browser tests.

use crate::app::Route;
use crate::canvas::{prepare, ui_font_px};
use crate::hooks::use_resize_count;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use std::cell::Cell;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// What a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartSpec {
    /// A value per hour of the day (0–23) as columns, and a second series as a line.
    Hours {
        columns: Vec<i64>,
        line: Vec<i64>,
        colour: (u8, u8, u8),
        line_colour: (u8, u8, u8),
        /// The list behind each hour's column (API path), and what it is called.
        links: Vec<Option<(String, String)>>,
    },
    /// Labelled bars, largest first as given, each in its colour.
    Bars(Vec<Bar>),
}

/// One horizontal bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub colour: (u8, u8, u8),
    /// The list behind the bar (an API list path), if there is one.
    pub link: Option<String>,
}

impl ChartSpec {
    /// Every value drawn, summed (what the tests compare with the API).
    pub fn sum(&self) -> i64 {
        match self {
            Self::Hours { columns, .. } => columns.iter().sum(),
            Self::Bars(bars) => bars.iter().map(|b| b.value).sum(),
        }
    }

    /// How many slots (hours or bars) the chart has.
    fn slots(&self) -> usize {
        match self {
            Self::Hours { .. } => 24,
            Self::Bars(bars) => bars.len(),
        }
    }

    /// The list behind slot `i` and its title (`chart` is the chart's own title).
    fn link(&self, i: usize, chart: &str) -> Option<(String, String)> {
        match self {
            Self::Hours { links, .. } => links.get(i).cloned().flatten(),
            Self::Bars(bars) => bars
                .get(i)
                .and_then(|b| Some((b.link.clone()?, format!("{chart} · {}", b.label)))),
        }
    }
}

/// Where the plotting area was drawn, in CSS pixels: left, top, width, height.
type Plot = (f64, f64, f64, f64);

/// Chart properties.
#[derive(Properties, PartialEq)]
pub struct WallChartProps {
    pub id: AttrValue,
    pub spec: Rc<ChartSpec>,
    /// The chart's title, which the lists behind it are called after.
    pub title: AttrValue,
}

/// The chart's canvas.
#[component]
pub fn WallChart(props: &WallChartProps) -> Html {
    let canvas = use_node_ref();
    let resized = use_resize_count();
    let navigator = use_navigator();
    let plot: Rc<Cell<Option<Plot>>> = (*use_memo((), |_| Rc::new(Cell::new(None)))).clone();
    {
        let canvas = canvas.clone();
        let plot = plot.clone();
        use_effect_with((props.spec.clone(), resized), move |(spec, _)| {
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                let drawn = draw(&el, spec);
                if drawn.is_none() {
                    web_sys::console::warn_1(&"wall chart: not drawn".into());
                }
                plot.set(drawn);
                if let Some((l, t, w, h)) = drawn {
                    let _ = el.set_attribute("data-plot", &format!("{l:.1},{t:.1},{w:.1},{h:.1}"));
                }
            }
        });
    }
    let onclick = {
        let spec = props.spec.clone();
        let title = props.title.clone();
        Callback::from(move |e: MouseEvent| {
            let (Some((l, t, w, h)), Some(nav)) = (plot.get(), navigator.as_ref()) else {
                return;
            };
            let (x, y) = (f64::from(e.offset_x()) - l, f64::from(e.offset_y()) - t);
            if x < 0.0 || y < 0.0 || x > w || y > h {
                return;
            }
            let n = spec.slots();
            let at = match &*spec {
                ChartSpec::Hours { .. } => x / w * index(n),
                ChartSpec::Bars(_) => y / h * index(n),
            };
            // Within the plotting area, so 0 ≤ at ≤ n.
            let slot = (0..n)
                .find(|i| at < index(i + 1))
                .unwrap_or(n.saturating_sub(1));
            if let Some((path, name)) = spec.link(slot, &title) {
                let query = [("list", path), ("title", name)];
                if nav.push_with_query(&Route::Stats, &query).is_err() {
                    web_sys::console::warn_1(&"wall chart: cannot open the list".into());
                }
            }
        })
    };
    let links: Vec<Option<String>> = (0..props.spec.slots())
        .map(|i| props.spec.link(i, "").map(|l| l.0))
        .collect();
    let clickable = links.iter().any(Option::is_some);
    html! {
        <canvas ref={canvas} id={props.id.clone()}
            class={classes!("wall-chart", clickable.then_some("clickable"))}
            data-sum={props.spec.sum().to_string()}
            data-slots={props.spec.slots().to_string()}
            data-links={serde_json::to_string(&links).unwrap_or_default()}
            {onclick}></canvas>
    }
}

const BACKGROUND: RGBColor = RGBColor(0x0b, 0x16, 0x28);
const AXIS: RGBColor = RGBColor(0x3a, 0x6e, 0xa5);
const GRID: RGBColor = RGBColor(0x1d, 0x35, 0x57);
const TEXT: RGBColor = RGBColor(0xe6, 0xf0, 0xff);
const MUTED: RGBColor = RGBColor(0x8f, 0xb3, 0xd9);
const FONT: &str = "Noto Sans CJK SC";

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Draws the chart; returns its plotting area in CSS pixels.
fn draw(canvas: &HtmlCanvasElement, spec: &ChartSpec) -> Option<Plot> {
    let surface = prepare(canvas)?;
    let font = ui_font_px(&surface) * 0.95;
    let backend = CanvasBackend::with_canvas_object(canvas.clone())?;
    let root = backend.into_drawing_area();
    root.fill(&BACKGROUND).ok()?;
    let (xs, ys) = match spec {
        ChartSpec::Hours {
            columns,
            line,
            colour,
            line_colour,
            ..
        } => hours(&root, font, columns, line, rgb(*colour), rgb(*line_colour)),
        ChartSpec::Bars(bars) => hbars(&root, font, bars),
    }?;
    root.present().ok()?;
    let css = |v: i32| f64::from(v) / surface.dpr;
    Some((
        css(xs.start),
        css(ys.start),
        css(xs.end - xs.start),
        css(ys.end - ys.start),
    ))
}

/// A plotting area's pixel ranges (device pixels), as plotters gives them.
type Area = (std::ops::Range<i32>, std::ops::Range<i32>);

/// Counts stay far below 2^52, where f64 is exact.
#[allow(clippy::cast_precision_loss)]
fn f(v: i64) -> f64 {
    v as f64
}

fn index(i: usize) -> f64 {
    f64::from(u32::try_from(i).unwrap_or(u32::MAX))
}

fn hours(
    root: &DrawingArea<CanvasBackend, plotters::coord::Shift>,
    font: f64,
    columns: &[i64],
    line: &[i64],
    colour: RGBColor,
    line_colour: RGBColor,
) -> Option<Area> {
    let max = columns
        .iter()
        .chain(line)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let top = f(max);
    let label = (FONT, font).into_font().color(&MUTED);
    let mut chart = ChartBuilder::on(root)
        .margin(font * 0.5)
        .x_label_area_size(font * 1.6)
        .y_label_area_size(font * 3.0)
        .build_cartesian_2d(0.0..24.0, 0.0..top)
        .ok()?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(BACKGROUND)
        .axis_style(AXIS)
        .x_labels(9)
        .y_labels(usize::try_from(max).unwrap_or(4).clamp(1, 4) + 1)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(label)
        .draw()
        .ok()?;
    chart
        .draw_series(columns.iter().enumerate().map(|(h, v)| {
            let x = index(h);
            Rectangle::new([(x + 0.12, 0.0), (x + 0.88, f(*v))], colour.filled())
        }))
        .ok()?;
    if line.iter().any(|v| *v > 0) {
        chart
            .draw_series(LineSeries::new(
                line.iter()
                    .enumerate()
                    .map(|(h, v)| (index(h) + 0.5, f(*v))),
                line_colour.stroke_width(3),
            ))
            .ok()?;
    }
    Some(chart.plotting_area().get_pixel_range())
}

fn hbars(
    root: &DrawingArea<CanvasBackend, plotters::coord::Shift>,
    font: f64,
    bars: &[Bar],
) -> Option<Area> {
    if bars.is_empty() {
        return Some((0..0, 0..0));
    }
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let n = index(bars.len());
    let mut chart = ChartBuilder::on(root)
        .margin(font * 0.4)
        .build_cartesian_2d(0.0..f(max) * 1.0, n..0.0)
        .ok()?;
    // Bars behind their labels: the label on the left of the bar's row, the value at the right.
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let y = index(i);
            Rectangle::new(
                [(0.0, y + 0.15), (f(b.value.max(0)), y + 0.85)],
                rgb(b.colour).mix(0.85).filled(),
            )
        }))
        .ok()?;
    let left = (FONT, font)
        .into_font()
        .color(&TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let right = (FONT, font * 1.05)
        .into_font()
        .style(FontStyle::Bold)
        .color(&TEXT)
        .pos(Pos::new(HPos::Right, VPos::Center));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            Text::new(
                b.label.clone(),
                (f(max) * 0.01, index(i) + 0.5),
                left.clone(),
            )
        }))
        .ok()?;
    chart
        .draw_series(
            bars.iter().enumerate().map(|(i, b)| {
                Text::new(b.value.to_string(), (f(max), index(i) + 0.5), right.clone())
            }),
        )
        .ok()?;
    Some(chart.plotting_area().get_pixel_range())
}
