//! The live feed: one WebSocket to `/api/v1/live`, reopened with back-off whenever it closes
//! (backend restart, network loss), each message decoded into `shared::live::LiveMessage`.

use crate::state::{ConnStatus, LiveAction, LiveContext};
use futures::StreamExt;
use gloo_net::websocket::{futures::WebSocket, Message};
use gloo_timers::future::sleep;
use shared::live::LiveMessage;
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

/// Runs for the life of the page.
pub async fn run(live: LiveContext) {
    let Some(url) = live_url() else { return };
    let mut delay = Duration::from_millis(500);
    loop {
        if let Ok(mut ws) = WebSocket::open(&url) {
            let mut opened = false;
            while let Some(message) = ws.next().await {
                let Ok(Message::Text(text)) = message else {
                    if message.is_err() {
                        break;
                    }
                    continue;
                };
                if !opened {
                    opened = true;
                    delay = Duration::from_millis(500);
                    live.dispatch(LiveAction::Status(ConnStatus::Live));
                }
                match serde_json::from_str::<LiveMessage>(&text) {
                    Ok(msg) => live.dispatch(LiveAction::Message(msg)),
                    Err(e) => {
                        web_sys::console::warn_1(&format!("live: undecodable message: {e}").into())
                    }
                }
            }
        }
        live.dispatch(LiveAction::Status(ConnStatus::Reconnecting));
        sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}
