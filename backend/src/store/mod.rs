//! All SQL lives here, one module per aggregate.

pub mod events;
pub mod vehicles;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

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
