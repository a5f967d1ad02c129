//! The live feed: one WebSocket to `/api/v1/live` (the session's token as the first message:
//! a token never goes in a URL), reopened with back-off whenever it
//! closes (backend restart, network loss), each message decoded into
//! `shared::live::LiveMessage`. A browser cannot see why an upgrade failed, so after every
//! close `/auth/me` tells a dead session (stop, sign in again) from a server that is away
//! (keep trying).

use crate::services::{api, token};
use crate::state::{ConnStatus, LiveAction, LiveContext};
use futures::future::Either;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::sleep;
use shared::live::LiveMessage;
use shared::{ErrorBody, ErrorCode};
use std::time::Duration;

/// The WebSocket URL on the page's own host.
fn live_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/api/v1/live", location.host().ok()?))
}

/// The first message: who the session is.
fn hello(token: &str) -> String {
    serde_json::json!({ "token": token }).to_string()
}

/// Whether a message is the server's `{"error": {"code": "unauthorized"}}`.
fn is_session_end(text: &str) -> bool {
    serde_json::from_str::<ErrorBody>(text).is_ok_and(|b| b.error.code == ErrorCode::Unauthorized)
}

/// How long messages are gathered before the page applies them, in milliseconds.
const BATCH_MS: f64 = 200.0;

/// Applies the gathered messages; the first of a connection also says the feed is live.
fn flush(
    live: &LiveContext,
    batch: &mut Vec<LiveMessage>,
    opened: &mut bool,
    delay: &mut Duration,
) {
    if batch.is_empty() {
        return;
    }
    if !*opened {
        *opened = true;
        *delay = Duration::from_millis(500);
        live.dispatch(LiveAction::Status(ConnStatus::Live));
    }
    live.dispatch(LiveAction::Batch(std::mem::take(batch)));
}

/// Runs for the life of the page, or until the session ends.
pub async fn run(live: LiveContext) {
    let mut delay = Duration::from_millis(500);
    loop {
        // Read each time: signing in again in another tab replaces it.
        let Some(token) = token::get() else {
            token::expired();
            return;
        };
        let Some(url) = live_url() else { return };
        if let Ok(mut ws) = WebSocket::open(&url) {
            // Sent once the socket is open (the sink waits for it). If it fails the socket is
            // closed, which the reading below sees: the feed reconnects as after any close.
            let _ = ws.send(Message::Text(hello(&token))).await;
            let mut opened = false;
            // What arrives within `BATCH_MS` is applied together: at thousands of vehicle
            // fixes a second, one render per message would never keep up.
            let mut chunks = (&mut ws).ready_chunks(256);
            let mut batch: Vec<LiveMessage> = Vec::new();
            let mut since = 0.0_f64;
            loop {
                let item = if batch.is_empty() {
                    chunks.next().await
                } else {
                    let wait = (BATCH_MS - (js_sys::Date::now() - since)).max(0.0);
                    let timer = std::pin::pin!(sleep(Duration::from_secs_f64(wait / 1000.0)));
                    match futures::future::select(chunks.next(), timer).await {
                        Either::Left((item, _)) => item,
                        Either::Right(_) => {
                            flush(&live, &mut batch, &mut opened, &mut delay);
                            continue;
                        }
                    }
                };
                let Some(chunk) = item else { break };
                if batch.is_empty() {
                    since = js_sys::Date::now();
                }
                let mut closed = false;
                for message in chunk {
                    let text = match message {
                        Ok(Message::Text(text)) => text,
                        Ok(Message::Bytes(_)) => continue,
                        Err(_) => {
                            closed = true;
                            break;
                        }
                    };
                    match serde_json::from_str::<LiveMessage>(&text) {
                        Ok(msg) => batch.push(msg),
                        // The server says why before it closes: a session that ended (logout
                        // elsewhere, expiry) means signing in again, not reconnecting.
                        Err(_) if is_session_end(&text) => {
                            token::expired();
                            return;
                        }
                        Err(e) => {
                            web_sys::console::warn_1(
                                &format!("live: undecodable message: {e}").into(),
                            );
                        }
                    }
                }
                if closed {
                    break;
                }
                if js_sys::Date::now() - since >= BATCH_MS {
                    flush(&live, &mut batch, &mut opened, &mut delay);
                }
            }
            flush(&live, &mut batch, &mut opened, &mut delay);
        }
        live.dispatch(LiveAction::Status(ConnStatus::Reconnecting));
        // The 401 has ended the session already (`api` saw it): the page goes to sign in.
        if matches!(api::me().await, Err(e) if e.is_unauthorized()) {
            return;
        }
        sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unauthorized_error_ends_the_session() {
        assert!(is_session_end(
            r#"{"error":{"code":"unauthorized","message":"the session ended; sign in again"}}"#
        ));
        assert!(!is_session_end(
            r#"{"error":{"code":"forbidden","message":"outside your scope"}}"#
        ));
        assert!(!is_session_end(r#"{"type":"alert"}"#));
    }

    #[test]
    fn the_token_goes_in_the_first_message_not_the_url() {
        let first: serde_json::Value = serde_json::from_str(&hello("t0k\"en")).unwrap();
        assert_eq!(first, serde_json::json!({"token": "t0k\"en"}));
    }
}
