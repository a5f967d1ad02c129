//! Types that cross the wire: ids, events, live messages, error codes. No I/O; compiles for
//! native and wasm32.

pub mod alert;
pub mod auth;
pub mod certificate;
pub mod cylinder;
#[cfg(feature = "sqlx")]
mod db;
pub mod density;
pub mod directory;
pub mod error;
pub mod events;
pub mod filling;
pub mod health;
pub mod history;
pub mod ids;
pub mod incident;
pub mod lifecycle;
pub mod live;
pub mod medium;
pub mod place;
pub mod recall;
pub mod record;
pub mod registry;
pub mod revision;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod stats;
pub mod status;
pub mod time;
pub mod transfer;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use ids::{GeoPoint, VehiclePlate};
