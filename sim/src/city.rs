//! The simulated city's geography: district polygons from the base map and random points in them.

use anyhow::Context;
use geo::{BoundingRect, Contains, Coord, LineString, MultiPolygon, Point, Polygon, Rect};
use rand::Rng;
use serde_json::Value;
use std::path::Path;

/// One district: its name and boundary.
pub struct District {
    pub name: String,
    /// The administrative code (`adcode`), e.g. 410105.
    pub code: String,
    pub shape: MultiPolygon<f64>,
    pub bounds: Rect<f64>,
}

/// Every district of the base map.
pub struct City {
    pub districts: Vec<District>,
}

impl City {
    /// Reads a GeoJSON FeatureCollection of (Multi)Polygons with a `name` property.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let json: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let features = json["features"]
            .as_array()
            .context("no \"features\" array")?;
        let mut districts = Vec::new();
        for feature in features {
            let name = feature["properties"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_owned();
            let code = feature["properties"]["adcode"]
                .as_str()
                .unwrap_or("410100")
                .to_owned();
            let geometry = &feature["geometry"];
            let polygons = match geometry["type"].as_str() {
                Some("Polygon") => vec![polygon(&geometry["coordinates"])?],
                Some("MultiPolygon") => geometry["coordinates"]
                    .as_array()
                    .context("MultiPolygon coordinates")?
                    .iter()
                    .map(polygon)
                    .collect::<anyhow::Result<_>>()?,
                other => anyhow::bail!("district {name}: unsupported geometry {other:?}"),
            };
            let shape = MultiPolygon::new(polygons);
            let bounds = shape
                .bounding_rect()
                .with_context(|| format!("district {name} is empty"))?;
            districts.push(District {
                name,
                code,
                shape,
                bounds,
            });
        }
        anyhow::ensure!(!districts.is_empty(), "{} has no districts", path.display());
        Ok(Self { districts })
    }

    /// Whether a point lies in some district.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let p = Point::new(lon, lat);
        self.districts
            .iter()
            .any(|d| d.bounds.contains(&p) && d.shape.contains(&p))
    }

    /// The code of the district a point lies in, as the server finds it (it refuses a site
    /// whose district is another).
    pub fn district_at(&self, lon: f64, lat: f64) -> Option<&str> {
        let p = Point::new(lon, lat);
        self.districts
            .iter()
            .find(|d| d.bounds.contains(&p) && d.shape.contains(&p))
            .map(|d| d.code.as_str())
    }

    /// A random point inside district `index`.
    pub fn random_point_in(&self, index: usize, rng: &mut impl Rng) -> (f64, f64) {
        let d = &self.districts[index % self.districts.len()];
        let (min, max) = (d.bounds.min(), d.bounds.max());
        for _ in 0..10_000 {
            let lon = rng.random_range(min.x..=max.x);
            let lat = rng.random_range(min.y..=max.y);
            if d.shape.contains(&Point::new(lon, lat)) {
                return (lon, lat);
            }
        }
        let c = d.bounds.center();
        (c.x, c.y)
    }

    /// A random point in the city within `radius_m` of (lon, lat), or the point itself.
    pub fn random_point_near(
        &self,
        lon: f64,
        lat: f64,
        radius_m: f64,
        rng: &mut impl Rng,
    ) -> (f64, f64) {
        for _ in 0..1_000 {
            let dx = rng.random_range(-radius_m..=radius_m);
            let dy = rng.random_range(-radius_m..=radius_m);
            let (plon, plat) = offset(lon, lat, dx, dy);
            if self.contains(plon, plat) {
                return (plon, plat);
            }
        }
        (lon, lat)
    }
}

fn polygon(rings: &Value) -> anyhow::Result<Polygon<f64>> {
    let mut rings = rings.as_array().context("polygon rings")?.iter().map(ring);
    let exterior = rings.next().context("polygon without a ring")??;
    Ok(Polygon::new(
        exterior,
        rings.collect::<anyhow::Result<_>>()?,
    ))
}

fn ring(coords: &Value) -> anyhow::Result<LineString<f64>> {
    coords
        .as_array()
        .context("ring coordinates")?
        .iter()
        .map(|c| {
            let x = c[0].as_f64().context("longitude")?;
            let y = c[1].as_f64().context("latitude")?;
            Ok(Coord { x, y })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map(LineString::new)
}

const M_PER_DEG_LAT: f64 = 110_574.0;

fn m_per_deg_lon(lat: f64) -> f64 {
    111_320.0 * lat.to_radians().cos()
}

/// (lon, lat) moved by dx metres east and dy metres north.
pub fn offset(lon: f64, lat: f64, dx: f64, dy: f64) -> (f64, f64) {
    (lon + dx / m_per_deg_lon(lat), lat + dy / M_PER_DEG_LAT)
}

/// Metres east and north from a to b (equirectangular: fine at city scale).
pub fn delta_m(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (
        (b.0 - a.0) * m_per_deg_lon(a.1),
        (b.1 - a.1) * M_PER_DEG_LAT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        let (lon, lat) = offset(113.62, 34.75, 1000.0, -500.0);
        let (dx, dy) = delta_m((113.62, 34.75), (lon, lat));
        assert!(
            (dx - 1000.0).abs() < 1.0 && (dy + 500.0).abs() < 1.0,
            "{dx} {dy}"
        );
    }

    #[test]
    fn zhengzhou_districts_load_and_contain_their_points() -> anyhow::Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/basemap/zhengzhou_districts.wgs84.geojson");
        let city = City::load(&path)?;
        assert_eq!(city.districts.len(), 12);
        assert!(city.districts.iter().any(|d| d.name == "金水区"));
        // Zhengzhou railway station is in the city; Beijing is not.
        assert!(city.contains(113.658, 34.745));
        assert!(!city.contains(116.40, 39.90));
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for i in 0..12 {
            let (lon, lat) = city.random_point_in(i, &mut rng);
            assert!(city.contains(lon, lat));
        }
        Ok(())
    }

    use rand::SeedableRng;
}
