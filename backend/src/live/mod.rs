//! The live hub: one Redis subscription per instance (`{prefix}:live:*`) fanned out to every
//! WebSocket session of this instance. Messages arrive serialized; each is shared by all
//! sessions without being serialized again.

pub mod session;
pub mod stats;

use crate::bus::{connect_redis_pubsub, StreamKeys};
use bytestring::ByteString;
use futures_util::StreamExt;
use shared::live::Topic;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// Cheap to clone; all clones share one channel and one count of open sessions per user.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<HubEvent>,
    open: Arc<Mutex<HashMap<i64, u32>>>,
}

/// One open session of a user, counted while it lives.
#[derive(Debug)]
pub struct SessionSlot {
    open: Arc<Mutex<HashMap<i64, u32>>>,
    user_id: i64,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
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
        Self {
            tx,
            open: Arc::default(),
        }
    }

    /// A receiver for one session (taken only once it has signed in).
    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }

    /// Receivers taken, i.e. signed-in sessions on this instance.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// A slot for one more session of `user_id`, or `None` when it has `limit` open already.
    pub fn open_session(&self, user_id: i64, limit: u32) -> Option<SessionSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(user_id).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(SessionSlot {
            open: self.open.clone(),
            user_id,
        })
    }

    /// Relays the Redis live channels into the hub until shutdown, re-subscribing after any
    /// Redis failure.
    pub async fn run(
        self,
        redis: crate::bus::Redis,
        keys: StreamKeys,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let pattern = format!("{}*", keys.live);
        let mut first = true;
        loop {
            let Some(mut pubsub) = connect_redis_pubsub(&redis, &pattern, &mut shutdown).await
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
