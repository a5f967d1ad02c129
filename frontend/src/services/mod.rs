//! Talking to the server: HTTP (`api`) and the live WebSocket (`live`), both in `shared` types.

pub mod api;
pub mod live;
