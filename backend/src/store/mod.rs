//! All SQL lives here, one module per aggregate.

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod custody;
pub mod cylinders;
pub mod density;
pub mod directories;
pub mod districts;
pub mod events;
pub mod fences;
pub mod filling;
pub mod group_commit;
pub mod group_read;
pub mod held;
pub mod incident_context;
pub mod incident_ops;
pub mod incidents;
pub mod licences;
pub mod lifecycle;
pub mod lookout;
pub mod mqtt;
pub mod proposals;
pub mod recalls;
pub mod records;
pub mod registry;
pub mod replay;
pub mod replica;
pub mod revisions;
pub mod stats;
pub mod status;
pub mod terminals;
pub mod transfers;
pub mod vehicles;

use anyhow::Context;
use shared::ErrorDetail;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

/// Why a write was refused: a unique or foreign-key constraint (named as PostgreSQL names
/// it), input the database found invalid, or a failure.
#[derive(Debug)]
pub enum WriteError {
    Duplicate(String),
    MissingReference(String),
    Invalid(ErrorDetail),
    Other(anyhow::Error),
}

impl From<sqlx::Error> for WriteError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.code().as_deref() {
                Some("23505") => return Self::Duplicate(constraint),
                Some("23503") => return Self::MissingReference(constraint),
                _ => {}
            }
        }
        Self::Other(anyhow::Error::new(error).context("writing to the registry"))
    }
}

/// Bind parameters `$first`, `$first+1`, … cast to `types`, comma-separated; as arrays
/// (`$n::text[]`) for statements that unnest a batch, as scalars for a VALUES row.
pub fn typed_params(first: usize, types: &[&str], arrays: bool) -> String {
    let suffix = if arrays { "[]" } else { "" };
    let params: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}{suffix}", first + i))
        .collect();
    params.join(", ")
}

impl From<anyhow::Error> for WriteError {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}
/// Opens the pool; fails when PostgreSQL cannot be reached.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect(url)
        .await
        .context("connecting to PostgreSQL")
}

/// Applies the migrations in `migrations/` (serialised across instances by sqlx's lock).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations")
        .run(pool)
        .await
        .context("applying migrations")
}

/// PostgreSQL's and PostGIS's versions.
pub async fn versions(pool: &PgPool) -> anyhow::Result<(String, String)> {
    sqlx::query_as("SELECT current_setting('server_version'), postgis_lib_version()")
        .fetch_one(pool)
        .await
        .context("reading PostgreSQL and PostGIS versions")
}
