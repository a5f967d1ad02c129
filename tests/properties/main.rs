//! Property tests over the server's pure parts with thousands of generated cases each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod csv_import;
mod filling_rules;
