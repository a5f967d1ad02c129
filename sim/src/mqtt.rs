//! A simulated reader over MQTT (`--transport mqtt`): one connection to the broker as its
//! device (user name = device id, password = its key), publishing each batch to
//! `cylwatch/devices/<id>/events` at QoS 1 and reading the platform's result for it on
//! `cylwatch/devices/<id>/results` (the platform answers one device's messages in order).

use anyhow::Context;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use shared::events::{Event, IngestResponse};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How long a result may take.
const RESULT_WITHIN: Duration = Duration::from_secs(30);

/// One device's connection.
pub struct Link {
    client: AsyncClient,
    events_topic: String,
    results: mpsc::Receiver<Vec<u8>>,
    subscribed: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `mqtt://host:port` → (host, port).
pub fn host_port(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .trim()
        .strip_prefix("mqtt://")
        .with_context(|| format!("--mqtt-url {url} must be mqtt://host:port"))?
        .trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) => Ok((host.to_owned(), port.parse().context("--mqtt-url port")?)),
        None => Ok((rest.to_owned(), 1883)),
    }
}

impl Link {
    /// Connects (in the background, again after a broken connection) as `device_id`.
    pub fn connect(url: &str, device_id: &str, key: &str) -> anyhow::Result<Self> {
        let (host, port) = host_port(url)?;
        let mut options = MqttOptions::new(format!("{device_id}-sim"), host, port);
        options.set_credentials(device_id, key);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(16 * 1024 * 1024, 16 * 1024 * 1024);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, results) = mpsc::channel(64);
        let (ready, subscribed) = watch::channel(false);
        let results_topic = format!("cylwatch/devices/{device_id}/results");
        let sub = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                        let _ = ready.send(false);
                        if let Err(e) = sub.subscribe(results_topic.clone(), QoS::AtLeastOnce).await
                        {
                            tracing::warn!(error = %e, "mqtt: subscribing to results failed");
                        }
                    }
                    Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                        let _ = ready.send(true);
                    }
                    Ok(MqttEvent::Incoming(Packet::Publish(p))) if p.topic == results_topic => {
                        if tx.send(p.payload.to_vec()).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = ready.send(false);
                        tracing::warn!(error = %e, "mqtt: connection lost");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Self {
            client,
            events_topic: format!("cylwatch/devices/{device_id}/events"),
            results,
            subscribed,
            task,
        })
    }

    /// Publishes one batch and waits for its result: the platform's answer, as `POST
    /// /api/v1/events` gives it (a batch refused whole counts every item as rejected).
    pub async fn send(&mut self, events: &[Event]) -> anyhow::Result<IngestResponse> {
        tokio::time::timeout(RESULT_WITHIN, self.subscribed.wait_for(|s| *s))
            .await
            .context("not connected to the broker")?
            .context("the connection task ended")?;
        // A result left over from a message given up on earlier is not this one's.
        while self.results.try_recv().is_ok() {}
        let wire: Vec<Value> = events.iter().map(Event::to_wire).collect();
        let body = serde_json::to_vec(&json!({ "events": wire })).context("encoding a batch")?;
        self.client
            .publish(self.events_topic.clone(), QoS::AtLeastOnce, false, body)
            .await
            .context("publishing a batch")?;
        let result = tokio::time::timeout(RESULT_WITHIN, self.results.recv())
            .await
            .context("no result in time")?
            .context("the connection task ended")?;
        let value: Value = serde_json::from_slice(&result).context("a result that is not JSON")?;
        if let Some(error) = value.get("error") {
            let rejected = value
                .get("rejected")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .context("a refused batch's items")?
                .unwrap_or_default();
            tracing::warn!(%error, "mqtt: batch refused");
            return Ok(IngestResponse {
                accepted: 0,
                duplicates: 0,
                rejected,
            });
        }
        serde_json::from_value(value).context("a result that is not an ingest answer")
    }
}
