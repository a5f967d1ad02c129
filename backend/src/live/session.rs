//! One WebSocket session: a snapshot first, then the hub's frames on the subscribed topics;
//! a fresh snapshot whenever the session fell behind. Pings every 15 s; a client silent for
//! 45 s is dropped.

use super::HubEvent;
use crate::store;
use actix_ws::{Message, MessageStream, Session};
use chrono::Utc;
use shared::live::{LiveMessage, Subscribe, Topic};
use shared::{ErrorBody, ErrorCode, ErrorDetail};
use sqlx::PgPool;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};

const PING_EVERY: Duration = Duration::from_secs(15);
const SILENT_LIMIT: Duration = Duration::from_secs(45);

/// Serves one session until either side closes it.
pub async fn run(
    mut session: Session,
    mut incoming: MessageStream,
    mut hub: broadcast::Receiver<HubEvent>,
    pool: PgPool,
) {
    let mut topics: HashSet<Topic> = [
        Topic::Vehicles,
        Topic::Alerts,
        Topic::Stats,
        Topic::Cylinders,
    ]
    .into();
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    if send_snapshot(&mut session, &pool).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            event = hub.recv() => {
                let sent = match event {
                    Ok(HubEvent::Frame { topic, text }) if topics.contains(&topic) => session.text(text).await.is_ok(),
                    Ok(HubEvent::Frame { .. }) => true,
                    Ok(HubEvent::Resync) | Err(RecvError::Lagged(_)) => send_snapshot(&mut session, &pool).await.is_ok(),
                    Err(RecvError::Closed) => false,
                };
                if !sent { break; }
            }
            msg = incoming.recv() => {
                last_heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(text))) => {
                        match serde_json::from_str::<Subscribe>(&text) {
                            Ok(sub) => {
                                topics = sub.subscribe.into_iter().collect();
                                if send_snapshot(&mut session, &pool).await.is_err() { break; }
                            }
                            Err(e) => {
                                let body = ErrorBody { error: ErrorDetail::new(
                                    ErrorCode::MalformedBody,
                                    format!("expected {{\"subscribe\": [\"vehicles\", ...]}}: {e}"),
                                )};
                                let text = serde_json::to_string(&body).unwrap_or_default();
                                if session.text(text).await.is_err() { break; }
                            }
                        }
                    }
                    Some(Ok(Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() { break; }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENT_LIMIT || session.ping(b"").await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = session.close(None).await;
}

async fn send_snapshot(session: &mut Session, pool: &PgPool) -> Result<(), ()> {
    let vehicles = match store::vehicles::all(pool).await {
        Ok(v) => v,
        Err(e) => {
            // An empty snapshot would blank the wall; keep what the client has and go on.
            tracing::warn!(error = %format!("{e:#}"), "snapshot failed; none sent");
            return Ok(());
        }
    };
    let text = serde_json::to_string(&LiveMessage::Snapshot {
        vehicles,
        at: Utc::now(),
    })
    .map_err(|_| ())?;
    session.text(text).await.map_err(|_| ())
}
