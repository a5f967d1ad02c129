//! The wall's map layers: where the cylinders are, binned on a grid
//! (`GET /api/v1/stats/density`), and the sites (`GET /api/v1/sites`).

use serde::{Deserialize, Serialize};

/// One grid cell with cylinders in it: its centre and how many.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DensityCell {
    pub lon: f64,
    pub lat: f64,
    pub count: i64,
}

/// `GET /api/v1/stats/density?cell_deg=`: cylinders not scrapped with a known position, owned
/// within the scope, counted per cell of `cell_deg` × `cell_deg` degrees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Density {
    pub cell_deg: f64,
    /// Cylinders counted (the sum of the cells).
    pub total: i64,
    /// The largest cell's count.
    pub max: i64,
    pub cells: Vec<DensityCell>,
}

/// The coarsest and finest cells the endpoint bins on, and its default.
pub const CELL_DEG_MIN: f64 = 0.001;
pub const CELL_DEG_MAX: f64 = 1.0;
pub const CELL_DEG_DEFAULT: f64 = 0.01;

/// A station, warehouse or customer on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Site {
    /// `station` or `customer`.
    pub kind: String,
    /// The station's kind (`filling`, `distribution`, `warehouse`, `inspection`) or the
    /// customer's (`household`, `restaurant`, `industrial`).
    pub site_kind: String,
    pub code: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub enterprise_code: crate::ids::EnterpriseCode,
    /// Full cylinders there now, and the site's limit.
    pub full: i64,
    pub full_limit: i64,
}

/// `GET /api/v1/sites`: stations, and customers up to `SITES_CUSTOMER_CAP`, within the scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sites {
    pub sites: Vec<Site>,
    /// Whether customers were left out past the cap.
    pub truncated: bool,
}

/// How many customers `GET /api/v1/sites` lists at most.
pub const SITES_CUSTOMER_CAP: i64 = 20_000;

/// The cylinders riding on one vehicle now: full (on a delivery) and the others (empties coming
/// back, or any other custody the last reading left them in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VehicleLoad {
    pub plate: crate::ids::VehiclePlate,
    pub full: i64,
    pub other: i64,
}

/// `GET /api/v1/stats/vehicle-loads`: every vehicle with cylinders owned within the scope on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VehicleLoads {
    pub vehicles: Vec<VehicleLoad>,
}
