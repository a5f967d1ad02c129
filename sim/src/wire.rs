//! The simulator's own names (codes, plates, texts, places) as the `shared` wire types, and
//! the optional fields of a scan.

use anyhow::Context;
use shared::GeoPoint;

/// A code, plate or text of the simulator's world as its checked wire type.
pub fn id<T>(value: &str) -> anyhow::Result<T>
where
    T: TryFrom<String>,
    T::Error: std::fmt::Display,
{
    T::try_from(value.to_owned()).map_err(|e| anyhow::anyhow!("{value:?}: {e}"))
}

/// A place, its coordinates rounded to six decimals (about 0.1 m) as devices report them.
pub fn point(at: (f64, f64)) -> anyhow::Result<GeoPoint> {
    GeoPoint::new(round6(at.0), round6(at.1)).with_context(|| format!("the point {at:?}"))
}

/// Rounded to six decimals.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Where a scan was made and by whom: its optional fields.
#[derive(Debug, Clone, Default)]
pub struct At {
    pub station: Option<String>,
    pub customer: Option<String>,
    pub vehicle: Option<String>,
    pub staff: Option<String>,
    /// Where the phone was (`lon`/`lat`), as given.
    pub point: Option<(f64, f64)>,
}

impl At {
    /// At a station.
    pub fn station(code: &str) -> Self {
        Self {
            station: Some(code.to_owned()),
            ..Self::default()
        }
    }

    /// At a customer, the phone at `point`.
    pub fn customer(code: &str, point: (f64, f64)) -> Self {
        Self {
            customer: Some(code.to_owned()),
            point: Some(point),
            ..Self::default()
        }
    }

    /// Signed by a staff member.
    pub fn staff(mut self, no: &str) -> Self {
        self.staff = Some(no.to_owned());
        self
    }

    /// With a vehicle.
    pub fn vehicle(mut self, plate: &str) -> Self {
        self.vehicle = Some(plate.to_owned());
        self
    }
}
