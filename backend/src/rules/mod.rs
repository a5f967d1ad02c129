//! Pure decision code: no I/O, unit-tested on timed sequences.

pub mod compliance;
pub mod custody;
pub mod cylinder_alerts;
pub mod fences;
pub mod filling;
pub mod gps;
