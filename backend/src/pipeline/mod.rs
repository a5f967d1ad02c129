//! The event pipeline. The relay moves committed events from the outbox onto the Redis stream;
//! the consumer reads the stream in a consumer group and runs the stages in order, then
//! publishes what changed to the live channels:
//!
//! ```text
//! events + event_outbox ─relay─XADD─▶ {prefix}:events:{p} ─XREADGROUP─▶ stages ─PUBLISH─▶ {prefix}:live:<topic>
//! ```
//!
//! The stream is cut into `pipeline_partitions` partitions by vehicle; each partition is
//! consumed by one instance at a time (a lease in Redis), so a vehicle's events go through the
//! stages in order however many instances run.

pub mod consumer;
pub mod custody;
pub mod fences;
pub mod history_alerts;
pub mod lease;
pub mod licences;
pub mod lookout;
pub mod positions;
pub mod relay;
pub mod stages;
pub mod stream;
