//! District geometry for drawing and counting: parsed from the GeoJSON the server serves.

use serde_json::Value;

/// A ring of (lon, lat).
pub type Ring = Vec<(f64, f64)>;

/// One district: name, polygons (outer ring first, then holes), and where its label goes.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub name: String,
    /// The administrative division code (`adcode`), which alerts and users name a district by.
    pub code: Option<String>,
    pub polygons: Vec<Vec<Ring>>,
    pub label: (f64, f64),
    /// (min_lon, min_lat, max_lon, max_lat), to skip the ring test for far points.
    pub bbox: (f64, f64, f64, f64),
}

/// The districts of a FeatureCollection; features that are not (Multi)Polygons are skipped.
pub fn parse_districts(json: &Value) -> Vec<District> {
    let Some(features) = json["features"].as_array() else {
        return Vec::new();
    };
    features
        .iter()
        .filter_map(|f| {
            let name = f["properties"]["name"].as_str()?.to_owned();
            // A string in our base map; a number in some other GeoJSON sources.
            let adcode = &f["properties"]["adcode"];
            let code = adcode
                .as_str()
                .map(str::to_owned)
                .or_else(|| adcode.as_u64().map(|c| c.to_string()));
            let coords = &f["geometry"]["coordinates"];
            let polygons: Vec<Vec<Ring>> = match f["geometry"]["type"].as_str()? {
                "Polygon" => vec![polygon(coords)],
                "MultiPolygon" => coords.as_array()?.iter().map(polygon).collect(),
                _ => return None,
            };
            let label = label_point(&polygons)?;
            let bbox = bbox_of(polygons.iter().flatten().flatten())?;
            Some(District {
                name,
                code,
                polygons,
                label,
                bbox,
            })
        })
        .collect()
}

fn polygon(rings: &Value) -> Vec<Ring> {
    rings
        .as_array()
        .map(|rs| rs.iter().map(ring).collect())
        .unwrap_or_default()
}

fn ring(points: &Value) -> Ring {
    points
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Signed area and centroid of a ring (shoelace).
fn area_centroid(ring: &Ring) -> (f64, (f64, f64)) {
    let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for w in ring.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        let cross = x0 * y1 - x1 * y0;
        a += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    if a.abs() < f64::EPSILON {
        return (0.0, ring.first().copied().unwrap_or_default());
    }
    (a / 2.0, (cx / (3.0 * a), cy / (3.0 * a)))
}

/// The centroid of the largest outer ring (good enough for a label).
fn label_point(polygons: &[Vec<Ring>]) -> Option<(f64, f64)> {
    polygons
        .iter()
        .filter_map(|p| p.first())
        .map(area_centroid)
        .max_by(|a, b| a.0.abs().total_cmp(&b.0.abs()))
        .map(|(_, c)| c)
}

/// Whether (lon, lat) lies in the district (even-odd rule over all rings).
pub fn contains(district: &District, lon: f64, lat: f64) -> bool {
    let (x0, y0, x1, y1) = district.bbox;
    if lon < x0 || lon > x1 || lat < y0 || lat > y1 {
        return false;
    }
    district.polygons.iter().any(|rings| {
        let inside = |ring: &Ring| {
            let mut inside = false;
            for w in ring.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                if (y0 > lat) != (y1 > lat) && lon < (x1 - x0) * (lat - y0) / (y1 - y0) + x0 {
                    inside = !inside;
                }
            }
            inside
        };
        rings.first().is_some_and(inside) && !rings.iter().skip(1).any(inside)
    })
}

/// (min_lon, min_lat, max_lon, max_lat) of all districts.
pub fn bounds(districts: &[District]) -> Option<(f64, f64, f64, f64)> {
    bbox_of(
        districts
            .iter()
            .flat_map(|d| d.polygons.iter().flatten().flatten()),
    )
}

fn bbox_of<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> Option<(f64, f64, f64, f64)> {
    points.fold(None, |acc, &(x, y)| {
        Some(match acc {
            None => (x, y, x, y),
            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
        })
    })
}
