//! The base map's districts, without I/O: which district a point lies in. A station's or
//! customer's district is the one its point lies in, never what a client claims.

use super::fences::from_geojson;
use geo::{BoundingRect, Covers, Intersects, MultiPolygon, Point, Rect};
use shared::ids::DistrictCode;

/// One district of the base map.
#[derive(Debug, Clone)]
pub struct District {
    /// The administrative code (`adcode`), e.g. `410105`.
    pub code: DistrictCode,
    pub shape: MultiPolygon<f64>,
    bounds: Rect<f64>,
}

/// Every district of the base map, in its order.
#[derive(Debug, Clone, Default)]
pub struct Districts {
    districts: Vec<District>,
}

/// Why a base map cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BasemapError {
    #[error("the base map is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the base map is not a GeoJSON FeatureCollection")]
    NotACollection,
    #[error("feature {0} has no district code (property \"adcode\")")]
    NoCode(usize),
    /// A code the server could not write or read back as a district's (it is stored on every
    /// station, customer and alert in the district).
    #[error("feature {0}: district code {1:?} {2}")]
    BadCode(usize, String, shared::ids::CodeError),
    #[error("feature {0} ({1}) is not a non-empty Polygon or MultiPolygon")]
    NoShape(usize, String),
    #[error("the base map has no districts")]
    Empty,
}

impl Districts {
    /// The districts of a GeoJSON FeatureCollection whose features carry their code in the
    /// `adcode` property (a string or a number).
    pub fn from_geojson(bytes: &[u8]) -> Result<Self, BasemapError> {
        let json: serde_json::Value = serde_json::from_slice(bytes)?;
        let features = json["features"]
            .as_array()
            .ok_or(BasemapError::NotACollection)?;
        let mut districts = Vec::with_capacity(features.len());
        for (i, feature) in features.iter().enumerate() {
            let code = match &feature["properties"]["adcode"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(BasemapError::NoCode(i)),
            };
            let shape = from_geojson(&feature["geometry"])
                .ok_or_else(|| BasemapError::NoShape(i, code.clone()))?;
            let bounds = shape
                .bounding_rect()
                .ok_or_else(|| BasemapError::NoShape(i, code.clone()))?;
            let code = DistrictCode::try_from(code.clone())
                .map_err(|e| BasemapError::BadCode(i, code, e))?;
            districts.push(District {
                code,
                shape,
                bounds,
            });
        }
        if districts.is_empty() {
            return Err(BasemapError::Empty);
        }
        Ok(Self { districts })
    }

    /// How many districts there are.
    pub fn len(&self) -> usize {
        self.districts.len()
    }

    /// Whether there are none (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.districts.is_empty()
    }

    /// The districts whose area covers the point (two on a shared border, else one or none).
    pub fn covering(&self, lon: f64, lat: f64) -> impl Iterator<Item = &str> {
        let point = Point::new(lon, lat);
        self.districts
            .iter()
            .filter(move |d| d.bounds.intersects(&point) && d.shape.covers(&point))
            .map(|d| d.code.as_str())
    }

    /// The district the point lies in (the first in base-map order on a shared border).
    pub fn at(&self, lon: f64, lat: f64) -> Option<&str> {
        self.covering(lon, lat).next()
    }

    /// The district of a place at (`lon`, `lat`) that claims `claimed` (or nothing): the
    /// claimed one if the point lies in it, else why not.
    pub fn place(&self, lon: f64, lat: f64, claimed: Option<&str>) -> Result<String, PlaceError> {
        let found = self.at(lon, lat).ok_or(PlaceError::Outside)?;
        match claimed {
            None => Ok(found.to_owned()),
            Some(claimed) if self.covering(lon, lat).any(|d| d == claimed) => {
                Ok(claimed.to_owned())
            }
            Some(_) => Err(PlaceError::Elsewhere(found.to_owned())),
        }
    }
}

/// Why a place's district was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceError {
    /// The point lies in no district of the base map.
    Outside,
    /// The point lies in this other district.
    Elsewhere(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Districts {
        let json = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"adcode": "000001"}, "geometry": {"type": "Polygon",
             "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]}},
            {"type": "Feature", "properties": {"adcode": 2}, "geometry": {"type": "MultiPolygon",
             "coordinates": [[[[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 0.0]]]]}}
        ]});
        Districts::from_geojson(json.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_point_lies_in_its_district() {
        let d = map();
        assert_eq!(d.at(0.5, 0.5), Some("000001"));
        assert_eq!(d.at(1.5, 0.5), Some("2"));
        assert_eq!(d.at(3.0, 0.5), None);
        assert_eq!(d.place(0.5, 0.5, None), Ok("000001".to_owned()));
        assert_eq!(d.place(0.5, 0.5, Some("000001")), Ok("000001".to_owned()));
        assert_eq!(
            d.place(0.5, 0.5, Some("2")),
            Err(PlaceError::Elsewhere("000001".to_owned()))
        );
        assert_eq!(d.place(3.0, 0.5, None), Err(PlaceError::Outside));
        // On the shared border either district is right.
        assert_eq!(d.place(1.0, 0.5, Some("2")), Ok("2".to_owned()));
    }

    #[test]
    fn a_base_map_without_codes_is_refused() {
        let json = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "x"}, "geometry": {"type": "Polygon",
             "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}}]});
        assert!(Districts::from_geojson(json.to_string().as_bytes()).is_err());
        assert!(Districts::from_geojson(b"{}").is_err());
    }

    /// A code written on every site in the district is a district code, or the map is refused
    /// at start (not a directory that fails to read later).
    #[test]
    fn a_base_map_with_a_code_that_is_no_code_is_refused() {
        for code in ["", "41 01", "4101/05"] {
            let json = serde_json::json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"adcode": code}, "geometry": {"type": "Polygon",
                 "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}}]});
            assert!(
                matches!(
                    Districts::from_geojson(json.to_string().as_bytes()),
                    Err(BasemapError::BadCode(0, _, _))
                ),
                "{code:?}"
            );
        }
    }
}
