//! Ingest sources other than the HTTP API, each its own component feeding the same parser,
//! the same outbox and the same pipeline (STYLE.md principle 10): the JT/T 808 gateway for
//! vehicle terminals.

pub mod batch;
pub mod jt808;
pub mod mqtt;
