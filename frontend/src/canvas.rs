//! Drawing the district base map on a canvas, shared by the live city map, a cylinder's
//! trajectory and the duty console's alert map: the projection, sizing the canvas to its box,
//! the districts and their names, and the marks drawn over them.

use crate::geo::District;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// lon/lat → canvas pixels (and back), keeping the aspect (equirectangular around the area's latitude).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    min_lon: f64,
    max_lat: f64,
    kx: f64,
    scale: f64,
    off_x: f64,
    off_y: f64,
}

impl Projection {
    /// Fits the box (min_lon, min_lat, max_lon, max_lat) into width × height with `pad` around.
    pub fn fit(b: (f64, f64, f64, f64), width: f64, height: f64, pad: f64) -> Self {
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

    /// The same map magnified `zoom` times and then moved by (`pan_x`, `pan_y`) pixels: what
    /// was at pixel p is at p × zoom + pan.
    pub fn zoomed(&self, zoom: f64, pan_x: f64, pan_y: f64) -> Self {
        Self {
            min_lon: self.min_lon,
            max_lat: self.max_lat,
            kx: self.kx,
            scale: self.scale * zoom,
            off_x: self.off_x * zoom + pan_x,
            off_y: self.off_y * zoom + pan_y,
        }
    }

    /// The pixel of (lon, lat).
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            self.off_x + (lon - self.min_lon) * self.kx * self.scale,
            self.off_y + (self.max_lat - lat) * self.scale,
        )
    }

    /// The (lon, lat) at pixel (x, y): the inverse of `project`.
    pub fn unproject(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.min_lon + (x - self.off_x) / (self.kx * self.scale),
            self.max_lat - (y - self.off_y) / self.scale,
        )
    }
}

/// A canvas ready to draw on: its context, size in device pixels, and the device pixel ratio.
pub struct Surface {
    pub ctx: CanvasRenderingContext2d,
    pub w: f64,
    pub h: f64,
    pub dpr: f64,
}

/// Sizes the canvas to its CSS box at the device's pixel ratio (sharp on a 4K wall) and paints
/// the background.
pub fn prepare(canvas: &HtmlCanvasElement) -> Option<Surface> {
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
    Some(Surface { ctx, w, h, dpr })
}

/// The districts, filled and outlined, with their names.
pub fn draw_districts(s: &Surface, projection: &Projection, districts: &[District]) {
    let ctx = &s.ctx;
    ctx.set_line_width(1.5 * s.dpr);
    for (i, d) in districts.iter().enumerate() {
        trace_district(s, projection, d);
        ctx.set_fill_style_str(if i % 2 == 0 { "#10233d" } else { "#0e1f36" });
        ctx.fill();
        ctx.set_stroke_style_str("#3a6ea5");
        ctx.stroke();
    }

    let font_px = (s.h / 55.0).clamp(11.0 * s.dpr, 40.0 * s.dpr);
    set_font(s, font_px);
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    ctx.set_fill_style_str("#8fb3d9");
    for d in districts {
        let (x, y) = projection.project(d.label.0, d.label.1);
        let _ = ctx.fill_text(&d.name, x, y);
    }
}

/// Makes a district's rings the current path (to fill or stroke).
pub fn trace_district(s: &Surface, projection: &Projection, district: &District) {
    let ctx = &s.ctx;
    ctx.begin_path();
    for ring in district.polygons.iter().flatten() {
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

/// The page's base font size in device pixels: the `--fs` of app.css (clamp(14px, 1.1vmin +
/// 0.4vw, 48px)) computed the same way, so labels on a canvas grow with the text around it.
pub fn ui_font_px(s: &Surface) -> f64 {
    let size = web_sys::window().and_then(|w| {
        let vw = w.inner_width().ok()?.as_f64()?;
        let vh = w.inner_height().ok()?.as_f64()?;
        Some((1.1 * vw.min(vh) / 100.0 + 0.4 * vw / 100.0).clamp(14.0, 48.0))
    });
    size.unwrap_or(16.0) * s.dpr
}

/// The UI's CJK font at `px` device pixels.
pub fn set_font(s: &Surface, px: f64) {
    s.ctx.set_font(&format!(
        "{px:.0}px \"Noto Sans CJK SC\", \"Microsoft YaHei\", sans-serif"
    ));
}

/// A filled dot of radius `r` (device pixels).
pub fn dot(s: &Surface, x: f64, y: f64, r: f64, colour: &str) {
    s.ctx.begin_path();
    let _ = s.ctx.arc(x, y, r, 0.0, std::f64::consts::TAU);
    s.ctx.set_fill_style_str(colour);
    s.ctx.fill();
}

/// A place that matters (where a cylinder is, where an alert was raised): a dot with a white
/// rim in a translucent halo; `k` scales it with the page's text.
pub fn place_marker(s: &Surface, x: f64, y: f64, k: f64, colour: &str, halo: &str) {
    dot(s, x, y, 16.0 * k, halo);
    dot(s, x, y, 9.0 * k, colour);
    s.ctx.set_stroke_style_str("#ffffff");
    s.ctx.set_line_width(2.0 * k);
    s.ctx.stroke();
}

/// A label up and to the right of a mark at (x, y).
pub fn label(s: &Surface, x: f64, y: f64, text: &str, colour: &str, k: f64) {
    set_font(s, 16.0 * k);
    s.ctx.set_text_align("left");
    s.ctx.set_text_baseline("middle");
    s.ctx.set_fill_style_str(colour);
    let _ = s.ctx.fill_text(text, x + 14.0 * k, y - 14.0 * k);
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_px(v: f64) -> u32 {
    // Clamped to a canvas's possible sizes first, so the cast cannot truncate or wrap.
    v.round().clamp(1.0, 16_384.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITY: (f64, f64, f64, f64) = (112.715088, 34.263287, 114.215085, 34.990077);

    #[test]
    fn a_pixel_reads_back_as_the_place_drawn_there() {
        let p = Projection::fit(CITY, 800.0, 500.0, 16.0);
        for (lon, lat) in [(113.62, 34.75), (112.8, 34.3), (114.2, 34.98)] {
            let (x, y) = p.project(lon, lat);
            let (lon2, lat2) = p.unproject(x, y);
            assert!(
                (lon - lon2).abs() < 1e-9 && (lat - lat2).abs() < 1e-9,
                "{lon},{lat}"
            );
        }
        // The middle of the canvas is the middle of the box; north is up, east is right.
        let (lon, lat) = p.unproject(400.0, 250.0);
        assert!((lon - 113.4650865).abs() < 1e-9 && (lat - 34.626682).abs() < 1e-9);
        let (east, north) = p.unproject(410.0, 240.0);
        assert!(east > lon && north > lat);
        // Zoomed and panned, still the inverse.
        let z = p.zoomed(3.0, -120.0, 40.0);
        let (x, y) = z.project(113.7, 34.8);
        let (lon, lat) = z.unproject(x, y);
        assert!((lon - 113.7).abs() < 1e-9 && (lat - 34.8).abs() < 1e-9);
    }
}
