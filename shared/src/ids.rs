//! Newtype ids and value types, each parsed once at the boundary.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A vehicle's number plate, e.g. `豫A12345`: 1 to 20 characters, no control characters,
/// no surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VehiclePlate(String);

/// Why a plate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlateError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters", max = VehiclePlate::MAX_CHARS)]
    TooLong,
    #[error("must not contain control characters or surrounding spaces")]
    BadCharacters,
}

impl VehiclePlate {
    /// Longest plate accepted, in characters.
    pub const MAX_CHARS: usize = 20;

    /// The plate as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VehiclePlate {
    type Error = PlateError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.is_empty() {
            return Err(PlateError::Empty);
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(PlateError::TooLong);
        }
        if value.trim() != value || value.chars().any(char::is_control) {
            return Err(PlateError::BadCharacters);
        }
        Ok(Self(value))
    }
}

impl From<VehiclePlate> for String {
    fn from(value: VehiclePlate) -> Self {
        value.0
    }
}

impl std::ops::Deref for VehiclePlate {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for VehiclePlate {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VehiclePlate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a code (cylinder number, tag id, station code...) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_CODE_CHARS} characters")]
    TooLong,
    #[error("may hold only ASCII letters, digits, '-', '_' and '.'")]
    BadCharacters,
}

/// Longest code accepted, in characters.
pub const MAX_CODE_CHARS: usize = 64;

fn check_code(value: &str) -> Result<(), CodeError> {
    if value.is_empty() {
        return Err(CodeError::Empty);
    }
    if value.len() > MAX_CODE_CHARS {
        return Err(CodeError::TooLong);
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(CodeError::BadCharacters);
    }
    Ok(())
}

/// Declares a code newtype: 1 to 64 of `[A-Za-z0-9._-]`, safe in a URL path segment and a CSV
/// cell.
macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The code as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = CodeError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                check_code(&value)?;
                Ok(Self(value))
            }
        }

        impl std::str::FromStr for $name {
            type Err = CodeError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::try_from(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Hash and Eq agree with `str`'s (the derive hashes the one `String`), so a map keyed
        // by the code can be read with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }


        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

code_type!(
    /// A cylinder's unique number (气瓶唯一性瓶号), e.g. the steel-stamp number `431325`.
    CylinderCode
);
code_type!(
    /// An RFID/NFC tag id bound to one cylinder.
    TagId
);
code_type!(
    /// An enterprise's code in the registry.
    EnterpriseCode
);
code_type!(
    /// A station's (filling, distribution, warehouse, inspection) code.
    StationCode
);
code_type!(
    /// A customer's code.
    CustomerCode
);
code_type!(
    /// A staff member's number within the registry.
    StaffNo
);
code_type!(
    /// A device's id (GPS unit, reader, controller, phone).
    DeviceId
);
code_type!(
    /// An administrative district code (GB/T 2260), e.g. `410105` for 金水区.
    DistrictCode
);

/// A WGS84 point: longitude in [-180, 180], latitude in [-90, 90], both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPoint")]
pub struct GeoPoint {
    lon: f64,
    lat: f64,
}

#[derive(Deserialize)]
struct RawPoint {
    lon: f64,
    lat: f64,
}

/// Why a point was refused; names the coordinate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    #[error("lon must be a number between -180 and 180")]
    Lon,
    #[error("lat must be a number between -90 and 90")]
    Lat,
}

impl PointError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Lon => "lon",
            Self::Lat => "lat",
        }
    }
}

impl GeoPoint {
    /// A checked point.
    pub fn new(lon: f64, lat: f64) -> Result<Self, PointError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(PointError::Lon);
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(PointError::Lat);
        }
        Ok(Self { lon, lat })
    }

    /// Longitude, degrees east.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Latitude, degrees north.
    pub fn lat(&self) -> f64 {
        self.lat
    }
}

impl TryFrom<RawPoint> for GeoPoint {
    type Error = PointError;

    fn try_from(raw: RawPoint) -> Result<Self, Self::Error> {
        Self::new(raw.lon, raw.lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates() {
        assert!(VehiclePlate::try_from("豫A12345".to_owned()).is_ok());
        assert_eq!(
            VehiclePlate::try_from(String::new()),
            Err(PlateError::Empty)
        );
        assert_eq!(
            VehiclePlate::try_from(" 豫A1".to_owned()),
            Err(PlateError::BadCharacters)
        );
        assert_eq!(
            VehiclePlate::try_from("a\nb".to_owned()),
            Err(PlateError::BadCharacters)
        );
        assert_eq!(
            VehiclePlate::try_from("x".repeat(21)),
            Err(PlateError::TooLong)
        );
        assert!(VehiclePlate::try_from("京".repeat(20)).is_ok());
    }

    #[test]
    fn codes() {
        assert!(CylinderCode::try_from("431325".to_owned()).is_ok());
        assert!(TagId::try_from("E200-3412.ab_9".to_owned()).is_ok());
        assert_eq!(CylinderCode::try_from(String::new()), Err(CodeError::Empty));
        assert_eq!(
            CylinderCode::try_from("a/b".to_owned()),
            Err(CodeError::BadCharacters)
        );
        assert_eq!(
            StationCode::try_from("站1".to_owned()),
            Err(CodeError::BadCharacters)
        );
        assert_eq!(TagId::try_from("x".repeat(65)), Err(CodeError::TooLong));
        let parsed: Result<CylinderCode, _> = serde_json::from_str("\" 1\"");
        assert!(parsed.is_err());
    }

    #[test]
    fn points() {
        assert!(GeoPoint::new(113.62, 34.75).is_ok());
        assert_eq!(GeoPoint::new(180.5, 0.0), Err(PointError::Lon));
        assert_eq!(GeoPoint::new(0.0, -90.01), Err(PointError::Lat));
        assert_eq!(GeoPoint::new(f64::NAN, 0.0), Err(PointError::Lon));
        assert!(GeoPoint::new(-180.0, 90.0).is_ok());
    }
}
