//! The live hub: one Redis subscription per instance (`{prefix}:live:*`) fanned out to every
//! WebSocket session of this instance. Messages arrive serialized; each is shared by all
//! sessions without being serialized again.

pub mod session;
pub mod stats;

use crate::bus::{connect_redis_pubsub, StreamKeys};
use bytestring::ByteString;
use futures_util::StreamExt;
use shared::live::Topic;
use tokio::sync::{broadcast, watch};

/// What the hub hands to sessions.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// A serialized `LiveMessage` on a topic, with the enterprise and district it concerns
    /// (what sessions filter on).
    Frame {
        topic: Topic,
        text: ByteString,
        owner: Owner,
    },
    /// Messages may have been missed (the Redis subscription was re-established): every session
    /// sends a fresh snapshot.
    Resync,
}

/// The enterprise and district a live message concerns, read from its `enterprise_code` and
/// `district_code` fields.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Owner {
    pub enterprise_code: Option<shared::ids::EnterpriseCode>,
    pub district_code: Option<shared::ids::DistrictCode>,
}

/// Cheap to clone; all clones share one channel.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<HubEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// A hub whose sessions may fall this many messages behind before they resync.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(8192);
        Self { tx }
    }

    /// A receiver for one session.
    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }

    /// Relays the Redis live channels into the hub until shutdown, re-subscribing after any
    /// Redis failure.
    pub async fn run(
        self,
        client: redis::Client,
        keys: StreamKeys,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let pattern = format!("{}*", keys.live);
        let mut first = true;
        loop {
            let Some(mut pubsub) = connect_redis_pubsub(&client, &pattern, &mut shutdown).await
            else {
                return;
            };
            if !first {
                let _ = self.tx.send(HubEvent::Resync);
            }
            first = false;
            let mut messages = pubsub.on_message();
            loop {
                let msg = tokio::select! {
                    m = messages.next() => m,
                    _ = shutdown.changed() => return,
                };
                let Some(msg) = msg else {
                    tracing::warn!("live subscription lost; re-subscribing");
                    break;
                };
                let Some(topic) = topic_of(msg.get_channel_name(), &keys.live) else {
                    continue;
                };
                let Ok(text) = std::str::from_utf8(msg.get_payload_bytes()) else {
                    continue;
                };
                // A message whose owner does not parse goes to the whole-city scope only.
                let owner = serde_json::from_str::<Owner>(text).unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "live message with an unreadable owner");
                    Owner::default()
                });
                // No receivers is fine: nobody is watching.
                let _ = self.tx.send(HubEvent::Frame {
                    topic,
                    text: ByteString::from(text),
                    owner,
                });
            }
        }
    }
}

fn topic_of(channel: &str, prefix: &str) -> Option<Topic> {
    let name = channel.strip_prefix(prefix)?;
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}
