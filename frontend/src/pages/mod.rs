//! One module per page.

pub mod alerts;
pub mod cylinder;
pub mod directory;
pub mod enterprise;
pub mod incident;
pub mod incident_report;
pub mod incidents;
pub mod login;
pub mod public;
pub mod responder_units;
pub mod station;
pub mod stats;
pub mod wall;
