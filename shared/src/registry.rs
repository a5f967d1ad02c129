//! The registry's wire types: enterprises, stations, customers, staff, vehicles, geofences and
//! cylinder archives (seed 004 Appendix A). Each is parsed from JSON by [`parse`], which names
//! the failing field, then checked across fields by its `check`.

use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{
    CustomerCode, DeviceId, DistrictCode, EnterpriseCode, GeoPoint, StaffNo, StationCode,
    VehiclePlate,
};
use crate::medium::Medium;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;

mod archive;
pub use archive::*;

/// Parses a JSON value into `T`, naming the field of the first error (`items[3].tare_kg`).
pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ErrorDetail> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let code = if message.starts_with("missing field") {
            ErrorCode::MissingField
        } else if message.starts_with("unknown field") {
            ErrorCode::UnknownField
        } else {
            ErrorCode::InvalidField
        };
        // A missing field is reported at its parent; name the field itself.
        let field = match (code, message.split('`').nth(1)) {
            (ErrorCode::MissingField | ErrorCode::UnknownField, Some(name)) if path == "." => {
                name.to_owned()
            }
            (ErrorCode::MissingField, Some(name)) => format!("{path}.{name}"),
            _ => path,
        };
        ErrorDetail::new(code, message).with_field(field)
    })
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::InvalidField, message).with_field(field)
}

/// Free text of a registry record (a name, an address, a licence number): 1 to 200
/// characters, no control characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

/// Why text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be blank")]
    Blank,
    #[error("must be at most 200 characters")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
}

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = TextError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.trim().is_empty() {
            return Err(TextError::Blank);
        }
        if value.chars().count() > 200 {
            return Err(TextError::TooLong);
        }
        if value.chars().any(char::is_control) {
            return Err(TextError::Control);
        }
        Ok(Self(value))
    }
}

impl From<Text> for String {
    fn from(value: Text) -> Self {
        value.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `POST /api/v1/enterprises`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEnterprise {
    pub code: EnterpriseCode,
    pub name: Text,
    pub credit_code: Text,
    pub district_code: DistrictCode,
    pub address: Text,
    #[serde(default)]
    pub filling_licence_no: Option<Text>,
    #[serde(default)]
    pub filling_licence_expires: Option<NaiveDate>,
    /// The filling licence's first valid day (R01 refuses before it); absent: valid until
    /// its expiry. The licence covers the enterprise's `media` (R15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filling_licence_valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub gas_licence_no: Option<Text>,
    #[serde(default)]
    pub gas_licence_expires: Option<NaiveDate>,
    pub media: Vec<Medium>,
}

impl NewEnterprise {
    /// Cross-field rules: a licence number and its expiry come together; a filling licence's
    /// first day is that of a licence, and not after its last.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        if self.filling_licence_no.is_some() != self.filling_licence_expires.is_some() {
            return Err(invalid(
                "filling_licence_expires",
                "filling_licence_no and filling_licence_expires come together",
            ));
        }
        match (self.filling_licence_valid_from, self.filling_licence_expires) {
            (Some(_), None) => {
                return Err(invalid(
                    "filling_licence_valid_from",
                    "filling_licence_valid_from needs a filling licence (filling_licence_no and filling_licence_expires)",
                ))
            }
            (Some(from), Some(to)) if to < from => {
                return Err(invalid(
                    "filling_licence_valid_from",
                    "the filling licence ends (filling_licence_expires) before it starts (filling_licence_valid_from)",
                ))
            }
            _ => {}
        }
        if self.gas_licence_no.is_some() != self.gas_licence_expires.is_some() {
            return Err(invalid(
                "gas_licence_expires",
                "gas_licence_no and gas_licence_expires come together",
            ));
        }
        Ok(())
    }
}

/// `GET /api/v1/enterprises/{code}`: the record and its live counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseView {
    #[serde(flatten)]
    pub enterprise: NewEnterprise,
    pub counts: EnterpriseCounts,
    /// The record's version (also its `ETag`; a `PATCH` names it in `If-Match`).
    pub version: i64,
    pub status: crate::auth::RecordStatus,
}

/// What an enterprise has in the registry now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseCounts {
    pub stations: i64,
    pub customers: i64,
    pub staff: i64,
    pub vehicles: i64,
    pub cylinders: i64,
    pub cylinders_scrapped: i64,
}

/// What a station is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StationKind {
    Filling,
    Distribution,
    Warehouse,
    Inspection,
}

/// `POST /api/v1/stations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStation {
    pub code: StationCode,
    pub enterprise_code: EnterpriseCode,
    pub name: Text,
    pub kind: StationKind,
    pub location: GeoPoint,
    #[serde(default = "default_radius")]
    pub radius_m: f64,
    /// Most full cylinders the site may hold (at most [`MAX_STOCK_LIMIT`]).
    #[cfg_attr(feature = "openapi", schema(maximum = 1_000_000))]
    pub full_stock_limit: u32,
    /// The district its location lies in on the base map: filled in when absent, refused
    /// (`district_mismatch`) when another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<DistrictCode>,
}

fn default_radius() -> f64 {
    100.0
}

/// The largest `full_stock_limit` of a station or customer: no real site holds a million full
/// cylinders, and the column is a 32-bit integer.
pub const MAX_STOCK_LIMIT: u32 = 1_000_000;

fn check_stock_limit(limit: u32) -> Result<(), ErrorDetail> {
    if limit > MAX_STOCK_LIMIT {
        return Err(invalid(
            "full_stock_limit",
            format!("full_stock_limit must be at most {MAX_STOCK_LIMIT}"),
        ));
    }
    Ok(())
}

impl NewStation {
    /// The site fence must be a plausible size, and the stock limit too.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        check_radius("radius_m", self.radius_m, MAX_SITE_RADIUS_M)?;
        check_stock_limit(self.full_stock_limit)
    }
}

/// The largest radius of a station's circle or of an enterprise's fence (5 km): a site, not a
/// city.
pub const MAX_SITE_RADIUS_M: f64 = 5_000.0;

/// The largest radius of a regulator's city-wide circle fence (50 km).
pub const MAX_CITY_RADIUS_M: f64 = 50_000.0;

/// The most vertices a geofence's polygon may have, over all its rings.
pub const MAX_POLYGON_VERTICES: usize = 2_000;

fn invalid_geometry(field: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::InvalidGeometry, message).with_field(field)
}

/// A radius below 1 m is impossible (400); one above `max` is not allowed (422).
fn check_radius(field: &str, radius: f64, max: f64) -> Result<(), ErrorDetail> {
    if !(radius.is_finite() && radius >= 1.0) {
        return Err(invalid(
            field,
            format!("{field} must be between 1 and {max}"),
        ));
    }
    if radius > max {
        return Err(invalid_geometry(
            field,
            format!("{field} must be at most {max} (metres)"),
        ));
    }
    Ok(())
}

/// Who a customer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    Household,
    Restaurant,
    Industrial,
}

crate::place::names!(CustomerKind {
    Household => "household",
    Restaurant => "restaurant",
    Industrial => "industrial",
});

/// `POST /api/v1/customers` (real-name: 实名制).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    pub code: CustomerCode,
    pub enterprise_code: EnterpriseCode,
    pub name: Text,
    pub kind: CustomerKind,
    pub phone: Text,
    pub address: Text,
    pub location: GeoPoint,
    /// The district its location lies in on the base map (else `district_mismatch`).
    pub district_code: DistrictCode,
    /// Most full cylinders the customer may hold (at most [`MAX_STOCK_LIMIT`]).
    #[serde(default = "default_customer_limit")]
    #[cfg_attr(feature = "openapi", schema(maximum = 1_000_000))]
    pub full_stock_limit: u32,
    /// A licence for controlled media (N2O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<Text>,
    /// That licence's last valid day (valid through it); absent: no end recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_expires: Option<NaiveDate>,
}

fn default_customer_limit() -> u32 {
    2
}

impl NewCustomer {
    /// The stock limit must be plausible; a licence's end needs the licence.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        if self.licence_expires.is_some() && self.licence_no.is_none() {
            return Err(invalid(
                "licence_expires",
                "licence_expires needs licence_no (the licence it ends)",
            ));
        }
        check_stock_limit(self.full_stock_limit)
    }
}

/// A staff member's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Filler,
    Driver,
    /// 押运员: rides with dangerous goods (needs the driver's certificate kind).
    Escort,
    Warehouse,
    Inspector,
    Repair,
}

/// `POST /api/v1/staff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub staff_no: StaffNo,
    pub enterprise_code: EnterpriseCode,
    pub name: Text,
    pub role: StaffRole,
    /// One certificate of the role's kind (`shared::certificate::required_certificate`), as
    /// before the list: on input it joins `certificates` (renewing the one of that number);
    /// on output, the role's certificate with the latest end. For a role that needs none,
    /// kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_no: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_expires: Option<NaiveDate>,
    /// The person's certificates (a `PATCH` replaces the list).
    #[serde(default)]
    pub certificates: Vec<crate::certificate::Certificate>,
}

impl NewStaff {
    /// A certificate number and its expiry come together; each listed certificate's period
    /// runs forward, none twice.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        if self.certificate_no.is_some() != self.certificate_expires.is_some() {
            return Err(invalid(
                "certificate_expires",
                "certificate_no and certificate_expires come together",
            ));
        }
        crate::certificate::check_certificates(&self.certificates)
    }

    /// The first certificate field it gives (`certificates`, `certificate_no`,
    /// `certificate_expires`), if any: a regulator's to write (R14 rests on them).
    pub fn certificate_field(&self) -> Option<&'static str> {
        if !self.certificates.is_empty() {
            Some("certificates")
        } else if self.certificate_no.is_some() {
            Some("certificate_no")
        } else if self.certificate_expires.is_some() {
            Some("certificate_expires")
        } else {
            None
        }
    }

    /// The record as stored: the one-certificate fields folded into the list (a certificate
    /// of the role's kind; the one of the same number renewed), the list in its order, and
    /// the one-certificate fields the role's certificate with the latest end.
    pub fn normalized(mut self) -> Self {
        use crate::certificate::{required_certificate, sorted, Certificate};
        let Some(kind) = required_certificate(self.role) else {
            self.certificates = sorted(self.certificates);
            return self;
        };
        if let (Some(number), Some(valid_to)) =
            (self.certificate_no.take(), self.certificate_expires.take())
        {
            match self
                .certificates
                .iter_mut()
                .find(|c| c.kind == kind && c.number == number)
            {
                Some(same) => same.valid_to = valid_to,
                None => self.certificates.push(Certificate {
                    kind,
                    number,
                    valid_from: None,
                    valid_to,
                }),
            }
        }
        self.certificates = sorted(self.certificates);
        let latest = self
            .certificates
            .iter()
            .filter(|c| c.kind == kind)
            .max_by_key(|c| c.valid_to);
        self.certificate_no = latest.map(|c| c.number.clone());
        self.certificate_expires = latest.map(|c| c.valid_to);
        self
    }
}

/// `POST /api/v1/vehicles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVehicle {
    pub plate: VehiclePlate,
    pub enterprise_code: EnterpriseCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps_device_id: Option<DeviceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_device_id: Option<DeviceId>,
    /// Its road transport permit (道路运输证) and the permit's last valid day: together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_permit_no: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_permit_expires: Option<NaiveDate>,
}

impl NewVehicle {
    /// A permit number and its expiry come together.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        if self.transport_permit_no.is_some() != self.transport_permit_expires.is_some() {
            return Err(invalid(
                "transport_permit_expires",
                "transport_permit_no and transport_permit_expires come together",
            ));
        }
        Ok(())
    }
}

/// What a geofence is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GeofenceKind {
    Site,
    Restricted,
    Corridor,
}

/// `POST /api/v1/geofences`: a GeoJSON polygon, or a circle (`center` + `radius_m`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewGeofence {
    pub name: Text,
    pub kind: GeofenceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
    /// For a corridor: the vehicles that must keep to it (an enterprise's corridor: its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vehicle_plates: Vec<VehiclePlate>,
    /// The enterprise whose vehicles the fence applies to; absent: every vehicle (drawn by the
    /// admin or a city regulator only, as is every `restricted` zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_code: Option<EnterpriseCode>,
}

impl NewGeofence {
    /// Whether the fence applies to every vehicle (no enterprise: a regulator's city-wide fence)
    /// rather than to one enterprise's vehicles.
    pub fn is_city_wide(&self) -> bool {
        self.enterprise_code.is_none()
    }

    /// Exactly one shape; a polygon's type is Polygon or MultiPolygon, each ring closed with at
    /// least four positions of valid coordinates, at most [`MAX_POLYGON_VERTICES`] in all (the
    /// database checks self-intersection); a circle at most [`MAX_SITE_RADIUS_M`] for an
    /// enterprise's fence, [`MAX_CITY_RADIUS_M`] for a city-wide one; only corridors list
    /// vehicles.
    pub fn check(&self) -> Result<(), ErrorDetail> {
        match (&self.geometry, self.center, self.radius_m) {
            (Some(geometry), None, None) => check_polygons(geometry)?,
            (None, Some(_), Some(radius)) => {
                let max = if self.is_city_wide() {
                    MAX_CITY_RADIUS_M
                } else {
                    MAX_SITE_RADIUS_M
                };
                check_radius("radius_m", radius, max)?
            }
            _ => {
                return Err(invalid(
                    "geometry",
                    "give either \"geometry\" or both \"center\" and \"radius_m\"",
                ))
            }
        }
        if self.kind != GeofenceKind::Corridor && !self.vehicle_plates.is_empty() {
            return Err(invalid(
                "vehicle_plates",
                "only corridor geofences list vehicles",
            ));
        }
        Ok(())
    }
}

/// A GeoJSON Polygon or MultiPolygon's structure: closed rings of at least four valid
/// positions, at most [`MAX_POLYGON_VERTICES`] positions in all.
fn check_polygons(geometry: &serde_json::Value) -> Result<(), ErrorDetail> {
    let kind = geometry.get("type").and_then(|t| t.as_str());
    let coordinates = geometry.get("coordinates").and_then(|c| c.as_array());
    let polygons: Vec<(String, &serde_json::Value)> = match (kind, coordinates) {
        (Some("Polygon"), Some(_)) => {
            vec![("geometry.coordinates".to_owned(), &geometry["coordinates"])]
        }
        (Some("MultiPolygon"), Some(list)) => list
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("geometry.coordinates[{i}]"), p))
            .collect(),
        (Some("Polygon" | "MultiPolygon"), None) => {
            return Err(invalid(
                "geometry.coordinates",
                "geometry.coordinates must be an array",
            ))
        }
        _ => {
            return Err(invalid(
                "geometry.type",
                "geometry must be a GeoJSON Polygon or MultiPolygon",
            ))
        }
    };
    if polygons.is_empty() {
        return Err(invalid_geometry(
            "geometry.coordinates",
            "a MultiPolygon needs at least one polygon",
        ));
    }
    let mut vertices = 0usize;
    for (path, polygon) in polygons {
        let rings = polygon
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid(&path, format!("{path} must be a non-empty array of rings")))?;
        for (r, ring) in rings.iter().enumerate() {
            let field = format!("{path}[{r}]");
            let positions = ring
                .as_array()
                .ok_or_else(|| invalid(&field, format!("{field} must be an array of positions")))?;
            vertices = vertices.saturating_add(positions.len());
            if vertices > MAX_POLYGON_VERTICES {
                return Err(invalid_geometry(
                    "geometry",
                    format!("geometry must have at most {MAX_POLYGON_VERTICES} vertices"),
                ));
            }
            let mut points = Vec::with_capacity(positions.len());
            for position in positions {
                let xy = position.as_array().and_then(|p| match p.as_slice() {
                    [x, y, ..] => Some((x.as_f64()?, y.as_f64()?)),
                    _ => None,
                });
                match xy {
                    Some((lon, lat))
                        if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
                    {
                        points.push((lon, lat))
                    }
                    _ => {
                        return Err(invalid(
                            &field,
                            format!("{field} holds a position that is not [lon, lat] in range"),
                        ))
                    }
                }
            }
            if points.len() < 4 {
                return Err(invalid_geometry(
                    &field,
                    format!("{field} must have at least four positions"),
                ));
            }
            if points.first() != points.last() {
                return Err(invalid_geometry(
                    &field,
                    format!("{field} must be closed: its last position repeats its first"),
                ));
            }
        }
    }
    Ok(())
}

/// A created record's handle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn archive() -> serde_json::Value {
        json!({"code": "431325", "tag_id": "E2000017", "medium": "LPG", "tare_kg": 16.4,
               "volume_l": 35.5, "working_pressure_mpa": 2.1, "test_pressure_mpa": 3.2,
               "wall_thickness_mm": 2.6, "max_fill_kg": 14.5, "design_life_years": 8,
               "manufacturer": "017", "manufactured_on": "2005-04-01",
               "product_standard": "GB 5842", "manufacture_licence_no": "TS2210",
               "last_inspected_on": "2009-03-01", "next_inspection_on": "2013-03-01",
               "registration_no": "豫A-0001", "registered_on": "2005-05-01",
               "registration_authority": "郑州市市场监督管理局",
               "owner_enterprise_code": "ENT1", "station_code": "ST1"})
    }

    fn error_of(value: serde_json::Value) -> (ErrorCode, Option<String>) {
        let result = parse::<CylinderArchive>(value).and_then(|a| a.check().map(|()| a));
        match result {
            Ok(a) => panic!("accepted {a:?}"),
            Err(e) => (e.code, e.field),
        }
    }

    #[test]
    fn parses_an_archive_and_names_bad_fields() {
        let a: CylinderArchive = parse(archive()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(a.check(), Ok(()));
        assert_eq!(a.life_ends_on().to_string(), "2013-04-01");
        let with = |k: &str, v: serde_json::Value| {
            let mut x = archive();
            x[k] = v;
            x
        };
        let field = |f: &str| Some(f.to_owned());
        assert_eq!(
            error_of(with("medium", json!("XE"))),
            (ErrorCode::InvalidField, field("medium"))
        );
        assert_eq!(
            error_of(with("tare_kg", json!("16"))),
            (ErrorCode::InvalidField, field("tare_kg"))
        );
        assert_eq!(
            error_of(with("tare_kg", json!(-1))),
            (ErrorCode::InvalidField, field("tare_kg"))
        );
        assert_eq!(
            error_of(with("next_inspection_on", json!("2008-01-01"))),
            (ErrorCode::InvalidField, field("next_inspection_on"))
        );
        assert_eq!(
            error_of(with("registered_on", json!(null))),
            (ErrorCode::InvalidField, field("registration_no"))
        );
        assert_eq!(
            error_of(with("colour", json!("red"))),
            (ErrorCode::UnknownField, field("colour"))
        );
        let mut without = archive();
        without.as_object_mut().map(|m| m.remove("tag_id"));
        assert_eq!(
            error_of(without),
            (ErrorCode::MissingField, field("tag_id"))
        );
        let batch = json!({"items": [archive(), with("volume_l", json!(true))]});
        let e = parse::<CylinderBatch>(batch).err();
        assert_eq!(e.and_then(|e| e.field), field("items[1].volume_l"));
    }

    #[test]
    fn geofence_shapes() {
        let fence =
            |v: serde_json::Value| parse::<NewGeofence>(v).and_then(|g| g.check().map(|()| g));
        assert!(fence(json!({"name": "站", "kind": "site",
            "center": {"lon": 113.6, "lat": 34.7}, "radius_m": 100}))
        .is_ok());
        assert!(fence(json!({"name": "禁区", "kind": "restricted",
            "geometry": {"type": "Polygon", "coordinates": [[[113.6,34.7],[113.7,34.7],[113.7,34.8],[113.6,34.7]]]}})).is_ok());
        assert!(fence(json!({"name": "x", "kind": "site"})).is_err());
        let code = |v: serde_json::Value| fence(v).err().map(|e| (e.code, e.field));
        let geometry = |f: &str| Some((ErrorCode::InvalidGeometry, Some(f.to_owned())));
        assert_eq!(
            code(json!({"name": "x", "kind": "site", "enterprise_code": "E1",
                "center": {"lon": 113.6, "lat": 34.7}, "radius_m": 5001})),
            geometry("radius_m")
        );
        assert_eq!(
            code(json!({"name": "x", "kind": "restricted",
                "center": {"lon": 113.6, "lat": 34.7}, "radius_m": 5001})),
            None
        );
        assert_eq!(
            code(
                json!({"name": "x", "kind": "site", "geometry": {"type": "Polygon",
                "coordinates": [[[113.6,34.7],[113.7,34.7],[113.7,34.8],[113.6,34.8]]]}})
            ),
            geometry("geometry.coordinates[0]")
        );
        let ring: Vec<serde_json::Value> = (0..=MAX_POLYGON_VERTICES)
            .map(|i| {
                json!([
                    113.6,
                    34.7 + f64::from(u32::try_from(i).unwrap_or(0)) * 1e-5
                ])
            })
            .collect();
        assert_eq!(
            code(json!({"name": "x", "kind": "site",
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]}})),
            geometry("geometry")
        );
        assert!(fence(json!({"name": "x", "kind": "site",
            "geometry": {"type": "Point", "coordinates": [1, 2]}}))
        .is_err());
        assert!(fence(
            json!({"name": "x", "kind": "site", "vehicle_plates": ["豫A1"],
            "center": {"lon": 113.6, "lat": 34.7}, "radius_m": 100})
        )
        .is_err());
    }
}
