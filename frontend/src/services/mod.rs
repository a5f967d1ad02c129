//! Talking to the server: HTTP (`api`) and the live WebSocket (`live`), both in `shared` types,
//! and the session token both send (`token`).

pub mod api;
pub mod incidents;
pub mod live;
pub mod registry;
pub mod token;
