//! cylwatch: real-time supervision of gas cylinders. The server library; `main.rs` is a thin
//! command line over it.

pub mod access;
pub mod alerts;
pub mod api;
pub mod bus;
pub mod cache;
pub mod config;
pub mod error;
pub mod gateway;
pub mod incidents;
pub mod layers;
pub mod live;
pub mod pipeline;
pub mod rules;
pub mod startup;
pub mod store;
pub mod telemetry;
