//! Pure decision code: no I/O, unit-tested on timed sequences.

pub mod compliance;
pub mod custody;
pub mod districts;
pub mod fences;
pub mod filling;
pub mod gps;
pub mod history_alerts;
pub mod licences;
pub mod stops;
