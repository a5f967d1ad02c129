//! `GET /api/v1/health`.

use serde::{Deserialize, Serialize};

/// One dependency's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DependencyHealth {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How far the event pipeline is behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamHealth {
    /// Accepted events not yet appended to the Redis stream.
    pub outbox: Option<i64>,
    /// Stream entries not yet delivered to the pipeline's consumer group.
    pub lag: Option<u64>,
    /// Entries delivered but not yet acknowledged.
    pub pending: Option<u64>,
    /// Entries in the stream.
    pub length: Option<u64>,
}

/// The read replica (`database_replica_url`), when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicaHealth {
    /// Lists and history reads go to it now (its lag is within the bound); otherwise to the
    /// primary.
    pub serving_reads: bool,
    /// Its last measured lag behind the primary, in ms (none: it does not answer).
    pub lag_ms: Option<u64>,
}

/// The whole answer; `status` is `ok` (200) or `unavailable` (503).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthReport {
    pub status: String,
    pub version: String,
    pub postgres: DependencyHealth,
    pub postgis: DependencyHealth,
    pub redis: DependencyHealth,
    pub stream: StreamHealth,
    /// Absent without a replica. Not part of `status`: a replica down only sends the reads
    /// to the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<ReplicaHealth>,
}

/// What anybody but a signed-in administrator is told: up (`ok`, 200) or not (`unavailable`,
/// 503), nothing about versions, errors or load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HealthStatus {
    pub status: String,
}

/// The answer of `GET /api/v1/health`: the whole report for an administrator, the status for
/// anybody else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum HealthAnswer {
    Report(Box<HealthReport>),
    Status(HealthStatus),
}
