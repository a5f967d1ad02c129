//! End-to-end API tests: the real binary, real PostgreSQL/PostGIS, real Redis, real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod access;
mod accounts;
mod alerts;
mod backup;
mod cluster;
mod contract;
mod custody;
mod cylinders;
mod density;
mod directories;
mod edits;
mod errors;
mod filling;
mod fusion;
mod geo;
mod hardening;
mod health;
mod incident_ops;
mod incidents;
mod incidents_batch;
mod incidents_nearby;
mod ingest;
mod jt808;
mod licence_pass;
mod licences;
mod lifecycle;
mod live;
mod malformed;
mod metrics;
mod mqtt;
mod mqtt_durability;
mod pipeline;
mod proposals;
mod recalls;
mod redis_cluster;
mod registry;
mod replica;
mod scope;
mod scope_devices;
mod security;
mod serving;
mod sim;
mod stale_facts;
mod starvation;
mod stats;
mod status;
mod status_use;
mod tokens;
mod transfers;
mod transfers_split;
mod vouched;
mod walls;
