//! The MQTT source: devices publish the same JSON batch as `POST /api/v1/events` to
//! `cylwatch/devices/<device_id>/events` on the broker (Mosquitto, which authenticated them as
//! that device: user name = device id, password = the device key; see [`control`]); the
//! platform reads them through the shared subscription `$share/cylwatch/cylwatch/devices/+/events`
//! at QoS 1 with a persistent session (clean session off), and acknowledges a message only once
//! its events are committed (the durability of a `202`). Each message's result (accepted,
//! duplicates, rejected items with reasons; or the error that refused the whole message) is
//! published to `cylwatch/devices/<device_id>/results` at QoS 1. A message that is not a batch
//! is answered with its error and acknowledged (never redelivered), nothing stored.
//!
//! Sessions: each instance subscribes as `cylwatch-<instance_id>` (stable across restarts: a
//! restarted instance takes its own session back, with whatever the broker queued for it
//! meanwhile). Mosquitto keeps handing a dead member of a shared subscription its share of the
//! messages (queued in its session): so each session is leased in PostgreSQL (`mqtt_sessions`),
//! renewed every third of `mqtt_lease_s`; a live instance takes over a session whose lease
//! lapsed, connects with its client id, unsubscribes it (no more messages are queued for it),
//! stores what the broker delivers, and forgets the session once nothing came for
//! [`DRAIN_IDLE`]. If the dead instance comes back first, it takes its session back (the
//! broker hands the session to the newest connection) and the drain stops.

pub mod control;

use crate::access::Device;
use crate::cache::TtlCache;
use crate::gateway::batch;
use crate::store;
use control::{results_topic, Endpoint};
use rumqttc::{AsyncClient, Event, Packet, Publish, QoS};
use serde::Serialize;
use serde_json::Value;
use shared::events::{parse_batch, IngestResponse, RejectedEvent};
use shared::{ErrorCode, ErrorDetail};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;

/// The shared subscription every instance's session holds.
pub const SHARED_EVENTS: &str = "$share/cylwatch/cylwatch/devices/+/events";
/// A taken-over session is forgotten once nothing arrived on it for this long.
pub const DRAIN_IDLE: Duration = Duration::from_secs(2);
/// Devices whose last message's turn a session remembers before it forgets the finished ones.
const MAX_ORDERED_DEVICES: usize = 10_000;

/// The MQTT source's settings.
#[derive(Clone)]
pub struct Options {
    /// This instance's own session's client id.
    pub client_id: String,
    pub lease: Duration,
    /// Messages of one session being stored at once.
    pub in_flight: usize,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// How long a device read from the registry is trusted.
    pub registry_cache: Duration,
}

/// What a device reads on its results topic for one message.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// Some items were valid: they are committed; each refused item is named.
    Stored(IngestResponse),
    /// Nothing was stored: why, and each refused item when the batch could be read.
    Refused {
        error: ErrorDetail,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        rejected: Vec<RejectedEvent>,
    },
}

/// The MQTT source of one instance.
pub struct Source {
    pool: PgPool,
    endpoint: Endpoint,
    options: Options,
    relay_wakeup: Arc<Notify>,
    devices: TtlCache<Device>,
    /// This process's name on the leases (a restarted instance is a new holder).
    holder: String,
    /// The sessions a task of this process serves now.
    serving: Mutex<HashSet<String>>,
}

impl Source {
    pub fn new(
        pool: PgPool,
        endpoint: Endpoint,
        options: Options,
        relay_wakeup: Arc<Notify>,
    ) -> Arc<Self> {
        let devices = TtlCache::new(options.registry_cache);
        Arc::new(Self {
            pool,
            endpoint,
            options,
            relay_wakeup,
            devices,
            holder: uuid::Uuid::new_v4().to_string(),
            serving: Mutex::new(HashSet::new()),
        })
    }

    /// Runs until shutdown: holds this instance's session and serves it, renews the leases
    /// every third of `mqtt_lease_s`, and takes over (drains) the sessions of dead instances.
    pub async fn run(self: Arc<Self>, stop: watch::Receiver<bool>) {
        let mut stop_rx = stop.clone();
        let own = self.options.client_id.clone();
        let mut first = true;
        loop {
            if first {
                if let Err(e) =
                    store::mqtt::hold_own(&self.pool, &own, &self.holder, self.options.lease).await
                {
                    tracing::warn!(error = format!("{e:#}"), "mqtt: holding the session failed");
                } else {
                    first = false;
                }
            }
            match store::mqtt::renew(&self.pool, &self.holder, self.options.lease).await {
                Ok(held) if !first && !held.contains(&own) => {
                    // Taken over while this instance was stalled: take it back.
                    tracing::warn!(
                        client_id = own,
                        "mqtt: own session was taken over; taking it back"
                    );
                    first = true;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "mqtt: renewing leases failed"),
            }
            if !first {
                self.start(own.clone(), false, stop.clone());
            }
            match store::mqtt::take_lapsed(&self.pool, &self.holder, self.options.lease).await {
                Ok(taken) => {
                    for client_id in taken {
                        if client_id == own {
                            continue;
                        }
                        tracing::info!(client_id, "mqtt: taking over a dead instance's session");
                        self.start(client_id, true, stop.clone());
                    }
                }
                Err(e) => tracing::warn!(
                    error = format!("{e:#}"),
                    "mqtt: taking over sessions failed"
                ),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.options.lease / 3) => {}
                _ = stop_rx.changed() => return,
            }
        }
    }

    /// Starts serving `client_id` unless a task of this process already does.
    fn start(self: &Arc<Self>, client_id: String, drain: bool, stop: watch::Receiver<bool>) {
        let Ok(mut serving) = self.serving.lock() else {
            return;
        };
        if !serving.insert(client_id.clone()) {
            return;
        }
        drop(serving);
        let source = self.clone();
        tokio::spawn(async move {
            source.clone().session(&client_id, drain, stop).await;
            if let Ok(mut serving) = source.serving.lock() {
                serving.remove(&client_id);
            }
        });
    }

    /// Serves one session until shutdown; a drained one until it is empty (or its instance
    /// took it back).
    async fn session(
        self: Arc<Self>,
        client_id: &str,
        drain: bool,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut options = self.endpoint.options(client_id);
        options.set_clean_session(false);
        options.set_manual_acks(true);
        options.set_max_packet_size(
            self.options.max_message_bytes,
            self.options.max_message_bytes,
        );
        let (client, mut events) = AsyncClient::new(options, 1024);
        let in_flight = self.options.in_flight.max(1);
        let permits = Arc::new(Semaphore::new(in_flight));
        let mut unsubscribed = false;
        let mut last_message = Instant::now();
        let mut previous: HashMap<String, tokio::sync::oneshot::Receiver<()>> = HashMap::new();
        loop {
            let polled = tokio::select! {
                polled = events.poll() => polled,
                _ = stop.changed() => break,
                _ = tokio::time::sleep(Duration::from_millis(500)), if drain => {
                    if unsubscribed
                        && last_message.elapsed() >= DRAIN_IDLE
                        && permits.available_permits() == in_flight
                    {
                        let _ = client.disconnect().await;
                        let _ = tokio::time::timeout(Duration::from_millis(500), events.poll()).await;
                        match store::mqtt::release(&self.pool, client_id, &self.holder).await {
                            Ok(_) => tracing::info!(client_id, "mqtt: a dead instance's session drained"),
                            Err(e) => tracing::warn!(error = format!("{e:#}"), "mqtt: releasing a drained session failed"),
                        }
                        return;
                    }
                    continue;
                }
            };
            match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let asked = if drain {
                        client.unsubscribe(SHARED_EVENTS).await
                    } else {
                        client.subscribe(SHARED_EVENTS, QoS::AtLeastOnce).await
                    };
                    if let Err(e) = asked {
                        tracing::warn!(error = %e, client_id, "mqtt: (un)subscribing failed");
                    }
                    tracing::info!(client_id, drain, "mqtt: connected");
                }
                Ok(Event::Incoming(Packet::UnsubAck(_))) => unsubscribed = true,
                Ok(Event::Incoming(Packet::Publish(message))) => {
                    last_message = Instant::now();
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        break;
                    };
                    // One device's messages are stored (and answered) in the order it sent
                    // them: each waits for the one before it of the same device.
                    let (done, next) = tokio::sync::oneshot::channel::<()>();
                    let before =
                        device_of(&message.topic).and_then(|d| previous.insert(d.to_owned(), next));
                    if previous.len() > MAX_ORDERED_DEVICES {
                        previous.retain(|_, rx| {
                            rx.try_recv() == Err(tokio::sync::oneshot::error::TryRecvError::Empty)
                        });
                    }
                    let (source, client, stop) = (self.clone(), client.clone(), stop.clone());
                    tokio::spawn(async move {
                        if let Some(before) = before {
                            let _ = before.await;
                        }
                        source.handle(&client, message, stop).await;
                        let _ = done.send(());
                        drop(permit);
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, client_id, "mqtt: connection lost");
                    if drain
                        && !store::mqtt::holds(&self.pool, client_id, &self.holder)
                            .await
                            .unwrap_or(true)
                    {
                        // Its instance came back and took it: not ours to drain any more.
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => break,
                    }
                }
            }
        }
    }

    /// Stores one message and answers it, then acknowledges it. When storing fails (the
    /// database away) it is stored again, every 200 ms to 5 s, until it is: Mosquitto sends an
    /// unacknowledged message again only when the session reconnects, so on a live connection
    /// a message left unacknowledged would never come back (found by the fault suite: a
    /// PUBACKed batch never stored after a cut of the instances' PostgreSQL connections). If
    /// the instance stops first, the message stays unacknowledged: the broker gives it again
    /// to the session when it is resumed or drained.
    async fn handle(
        &self,
        client: &AsyncClient,
        message: Publish,
        mut stop: watch::Receiver<bool>,
    ) {
        let Some(device_id) = device_of(&message.topic).map(str::to_owned) else {
            let _ = client.ack(&message).await;
            return;
        };
        let mut wait = Duration::from_millis(200);
        let outcome = loop {
            match self.ingest(&device_id, &message.payload).await {
                Ok(outcome) => break outcome,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        device_id,
                        "mqtt: storing a batch failed; trying again"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return,
                    }
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        };
        match serde_json::to_vec(&outcome) {
            Ok(body) => {
                if let Err(e) = client
                    .publish(results_topic(&device_id), QoS::AtLeastOnce, false, body)
                    .await
                {
                    tracing::warn!(error = %e, device_id, "mqtt: publishing a result failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "mqtt: encoding a result failed"),
        }
        if let Err(e) = client.ack(&message).await {
            tracing::warn!(error = %e, device_id, "mqtt: acknowledging failed");
        }
    }

    /// One message through the same parser, checks and outbox as `POST /api/v1/events`. An
    /// `Err` is the platform's failure (not acknowledged); the device's are in the outcome.
    async fn ingest(&self, device_id: &str, payload: &[u8]) -> anyhow::Result<Outcome> {
        let refused = |error: ErrorDetail| Outcome::Refused {
            error,
            rejected: Vec::new(),
        };
        let Some(device) = self.device(device_id).await? else {
            return Ok(refused(ErrorDetail::new(
                ErrorCode::RecordInactive,
                format!("device {device_id} is not active"),
            )));
        };
        let body = match own_batch(device_id, payload) {
            Ok(body) => body,
            Err(error) => return Ok(refused(error)),
        };
        let items = match parse_batch(&body) {
            Ok(items) => items,
            Err(error) => return Ok(refused(error)),
        };
        let checked = batch::check(&self.pool, &device, items).await?;
        if checked.events.is_empty() {
            let first = checked
                .rejected
                .first()
                .map(|r| r.error.message.clone())
                .unwrap_or_default();
            return Ok(Outcome::Refused {
                error: ErrorDetail::new(
                    ErrorCode::AllEventsRejected,
                    format!("no event of the batch was valid; the first: {first}"),
                )
                .with_field("events"),
                rejected: checked.rejected,
            });
        }
        let accepted = store::events::insert_new(
            &self.pool,
            &checked.events,
            &device.device_id,
            &device.enterprise_code,
        )
        .await?;
        self.relay_wakeup.notify_one();
        Ok(Outcome::Stored(IngestResponse {
            accepted,
            duplicates: checked.events.len() - accepted,
            rejected: checked.rejected,
        }))
    }

    /// The active device with that id (cached for `registry_cache_s`).
    async fn device(&self, device_id: &str) -> anyhow::Result<Option<Device>> {
        if let Some(device) = self.devices.get(device_id) {
            return Ok(Some(device));
        }
        let found = store::mqtt::active_device(&self.pool, device_id).await?;
        if let Some(device) = &found {
            self.devices.put(device_id, device.clone());
        }
        Ok(found)
    }
}

/// The device a topic `cylwatch/devices/<device_id>/events` is of.
fn device_of(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("cylwatch/devices/")
        .and_then(|rest| rest.strip_suffix("/events"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// The batch body without its optional `device_id`, which must be the topic's (the broker
/// authenticated the publisher as that device).
fn own_batch(device_id: &str, payload: &[u8]) -> Result<Vec<u8>, ErrorDetail> {
    let mut value: Value = serde_json::from_slice(payload).map_err(|e| {
        ErrorDetail::new(
            ErrorCode::MalformedBody,
            format!("the message is not valid JSON: {e}"),
        )
    })?;
    let named = match value.as_object_mut() {
        Some(envelope) => envelope.remove("device_id"),
        None => None,
    };
    match named {
        None => Ok(payload.to_vec()),
        Some(Value::String(named)) if named == device_id => serde_json::to_vec(&value)
            .map_err(|e| ErrorDetail::new(ErrorCode::MalformedBody, e.to_string())),
        Some(_) => Err(ErrorDetail::new(
            ErrorCode::Forbidden,
            format!("device_id must be the topic's device, {device_id}"),
        )
        .with_field("device_id")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_names_the_topic_device_or_none() {
        let body = br#"{"events": [], "device_id": "d1"}"#;
        assert!(own_batch("d1", body).is_ok());
        let foreign = own_batch("d2", body).unwrap_err();
        assert_eq!(foreign.field.as_deref(), Some("device_id"));
        assert!(own_batch("d1", br#"{"events": []}"#).is_ok());
        assert!(own_batch("d1", b"not json").is_err());
    }
}
