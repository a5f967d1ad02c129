//! The broker's side of the registry: each device's MQTT credentials and ACL kept in step
//! through Mosquitto's dynamic-security plugin (`$CONTROL/dynamic-security/v1`).
//!
//! Every change is a row of `mqtt_commands` first (queued by the handler that changed the
//! registry), applied in order by [`Broker::flush`] and deleted once the broker answered it:
//! a broker that is down gets the commands when it is back. [`Broker::reconcile`] (at start
//! and every `mqtt_reconcile_s`) makes the broker's clients agree with the registry: a client
//! whose device is closed, revoked or unknown is deleted, a suspended one disabled. So a
//! revoked device never stays able to connect longer than the broker is unreachable.
//!
//! A device's broker client: user name = device id, password = the device key, role
//! `cylwatch-device-<id>` allowing publish to `cylwatch/devices/<id>/events` and subscribe to
//! `cylwatch/devices/<id>/results` only. The administrator gets role `cylwatch-server`
//! (publish to every device's results).

use crate::store;
use crate::store::mqtt::{Action, Command};
use anyhow::Context;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use shared::auth::RecordStatus;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex, Notify};

const CONTROL: &str = "$CONTROL/dynamic-security/v1";
const RESPONSE: &str = "$CONTROL/dynamic-security/v1/response";
/// A control round (connect, subscribe, command, answer) must end within this.
const ROUND: Duration = Duration::from_secs(5);
/// Commands sent to the broker in one round at most.
const PER_ROUND: i64 = 100;
/// The role that lets the platform publish the devices' results.
pub const SERVER_ROLE: &str = "cylwatch-server";

/// Where the broker is and who administers it.
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl Endpoint {
    /// `mqtt://host:port` (port 1883 when left out).
    pub fn parse(url: &str, user: &str, password: &str) -> anyhow::Result<Self> {
        let rest = url
            .trim()
            .strip_prefix("mqtt://")
            .with_context(|| format!("mqtt_url {url} must be mqtt://host:port"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .with_context(|| format!("mqtt_url {url}: the port"))?,
            ),
            None => (rest, 1883),
        };
        anyhow::ensure!(!host.is_empty(), "mqtt_url {url} names no host");
        Ok(Self {
            host: host.to_owned(),
            port,
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// Options for a connection as the administrator with client id `client_id`.
    pub fn options(&self, client_id: &str) -> MqttOptions {
        let mut options = MqttOptions::new(client_id, self.host.clone(), self.port);
        options.set_credentials(self.user.clone(), self.password.clone());
        options.set_keep_alive(Duration::from_secs(30));
        options
    }

    /// Sends `commands` in one message and returns the broker's answers, in order.
    pub async fn run(&self, commands: Vec<Value>) -> anyhow::Result<Vec<Value>> {
        tokio::time::timeout(ROUND, self.round(commands))
            .await
            .context("the broker did not answer in time")?
    }

    async fn round(&self, mut commands: Vec<Value>) -> anyhow::Result<Vec<Value>> {
        let correlation = uuid::Uuid::new_v4().simple().to_string();
        if let Some(Value::Object(first)) = commands.first_mut() {
            first.insert("correlationData".into(), json!(correlation));
        }
        let body = serde_json::to_vec(&json!({ "commands": commands }))
            .context("encoding broker commands")?;
        let mut options = self.options(&format!("cylwatch-control-{correlation}"));
        options.set_max_packet_size(16 * 1024 * 1024, 16 * 1024 * 1024);
        let (client, mut events) = AsyncClient::new(options, 8);
        let mut sent = false;
        let answer = loop {
            match events
                .poll()
                .await
                .context("the broker's control connection")?
            {
                Event::Incoming(Packet::ConnAck(_)) => {
                    client
                        .subscribe(RESPONSE, QoS::AtLeastOnce)
                        .await
                        .context("subscribing to the control answers")?;
                }
                Event::Incoming(Packet::SubAck(_)) if !sent => {
                    sent = true;
                    client
                        .publish(CONTROL, QoS::AtLeastOnce, false, body.clone())
                        .await
                        .context("sending broker commands")?;
                }
                Event::Incoming(Packet::Publish(p)) if p.topic == RESPONSE => {
                    let value: Value = serde_json::from_slice(&p.payload)
                        .context("the broker's control answer is not JSON")?;
                    let responses = value
                        .get("responses")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let ours = responses
                        .first()
                        .and_then(|r| r.get("correlationData"))
                        .and_then(Value::as_str)
                        == Some(correlation.as_str());
                    if ours {
                        break responses;
                    }
                }
                _ => {}
            }
        };
        let _ = client.disconnect().await;
        // Let the disconnect go out.
        let _ = tokio::time::timeout(Duration::from_millis(200), events.poll()).await;
        anyhow::ensure!(
            answer.len() == commands.len(),
            "the broker answered {} of {} commands",
            answer.len(),
            commands.len()
        );
        Ok(answer)
    }
}

/// The role of one device's broker client.
fn role(device_id: &str) -> String {
    format!("cylwatch-device-{device_id}")
}

/// The topic a device publishes its batches to.
pub fn events_topic(device_id: &str) -> String {
    format!("cylwatch/devices/{device_id}/events")
}

/// The topic a device reads its results from.
pub fn results_topic(device_id: &str) -> String {
    format!("cylwatch/devices/{device_id}/results")
}

/// The dynamic-security commands of one queued command, each with whether an error answer
/// still counts as applied (the client already exists, is already gone...).
fn commands_of(command: &Command) -> Vec<(Value, bool)> {
    let user = command.device_id.as_str();
    let role = role(user);
    match command.action {
        Action::Put => vec![
            (
                json!({"command": "createRole", "rolename": role, "acls": [
                    {"acltype": "publishClientSend", "topic": events_topic(user), "allow": true},
                    {"acltype": "subscribeLiteral", "topic": results_topic(user), "allow": true},
                    {"acltype": "publishClientReceive", "topic": results_topic(user), "allow": true},
                ]}),
                true,
            ),
            (
                json!({"command": "createClient", "username": user,
                       "password": command.secret.clone().unwrap_or_default(),
                       "roles": [{"rolename": role}]}),
                true,
            ),
            // The client existed (a key rotation): the new key, and its connection cut (a
            // disable kicks it) so that the old key's session ends.
            (
                json!({"command": "setClientPassword", "username": user,
                       "password": command.secret.clone().unwrap_or_default()}),
                false,
            ),
            (
                json!({"command": "addClientRole", "username": user, "rolename": role}),
                true,
            ),
            (json!({"command": "disableClient", "username": user}), false),
            (json!({"command": "enableClient", "username": user}), false),
        ],
        Action::Disable => vec![(json!({"command": "disableClient", "username": user}), true)],
        Action::Enable => vec![(json!({"command": "enableClient", "username": user}), true)],
        Action::Delete => vec![
            (json!({"command": "deleteClient", "username": user}), true),
            (json!({"command": "deleteRole", "rolename": role}), true),
        ],
    }
}

/// The broker's side of the registry: applies the queued commands and reconciles.
pub struct Broker {
    pool: PgPool,
    endpoint: Endpoint,
    /// One round at a time: commands are applied in order, a reconcile never interleaves.
    lock: Mutex<()>,
    wake: Notify,
    reconcile_every: Duration,
}

impl Broker {
    pub fn new(pool: PgPool, endpoint: Endpoint, reconcile_every: Duration) -> Arc<Self> {
        Arc::new(Self {
            pool,
            endpoint,
            lock: Mutex::new(()),
            wake: Notify::new(),
            reconcile_every,
        })
    }

    /// Applies the queued commands now (a handler that changed the registry calls this), for at
    /// most `within`; what the broker did not get stays queued for the worker.
    pub async fn apply_now(&self, within: Duration) {
        match tokio::time::timeout(within, self.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "mqtt: broker commands stay queued"
                );
                self.wake.notify_one();
            }
            Err(_) => self.wake.notify_one(),
        }
    }

    /// Applies every queued command in order; stops at the first the broker refuses or
    /// cannot be reached for (it stays queued).
    pub async fn flush(&self) -> anyhow::Result<()> {
        let _round = self.lock.lock().await;
        loop {
            let queued = store::mqtt::pending(&self.pool, PER_ROUND).await?;
            if queued.is_empty() {
                return Ok(());
            }
            let parts: Vec<Vec<(Value, bool)>> = queued.iter().map(commands_of).collect();
            let all: Vec<Value> = parts.iter().flatten().map(|(c, _)| c.clone()).collect();
            let ids: Vec<i64> = queued.iter().map(|c| c.id).collect();
            let answers = match self.endpoint.run(all).await {
                Ok(a) => a,
                Err(e) => {
                    let first = ids.get(..1).unwrap_or_default();
                    store::mqtt::attempt_failed(&self.pool, first, &format!("{e:#}")).await?;
                    return Err(e);
                }
            };
            let mut answers = answers.iter();
            let mut applied = Vec::new();
            let mut failure = None;
            for (command, part) in queued.iter().zip(&parts) {
                let errors: Vec<String> = part
                    .iter()
                    .zip(answers.by_ref())
                    .filter_map(|((sent, benign), answer)| {
                        let error = answer.get("error").and_then(Value::as_str)?;
                        let name = sent.get("command").and_then(Value::as_str).unwrap_or("");
                        let tolerated = *benign
                            || (error.contains("not found")
                                && matches!(command.action, Action::Disable | Action::Enable));
                        (!tolerated).then(|| format!("{name}: {error}"))
                    })
                    .collect();
                if errors.is_empty() {
                    applied.push(command.id);
                } else if failure.is_none() {
                    failure = Some((command.id, errors.join("; ")));
                }
            }
            // In order: a failed command keeps the ones after it queued too.
            let applied: Vec<i64> = match &failure {
                Some((failed, _)) => applied.into_iter().filter(|id| id < failed).collect(),
                None => applied,
            };
            store::mqtt::applied(&self.pool, &applied).await?;
            if let Some((id, error)) = failure {
                store::mqtt::attempt_failed(&self.pool, &[id], &error).await?;
                anyhow::bail!("the broker refused a command: {error}");
            }
        }
    }

    /// Makes the broker's clients agree with the registry (closed, revoked or unknown devices
    /// deleted; suspended ones disabled; active ones enabled), and gives the administrator
    /// the server's role. Active devices the broker does not know (registered before MQTT was
    /// on) get their broker client at their next key rotation.
    pub async fn reconcile(&self) -> anyhow::Result<()> {
        let _round = self.lock.lock().await;
        let user = self.endpoint.user.clone();
        self.endpoint
            .run(vec![
                json!({"command": "createRole", "rolename": SERVER_ROLE, "acls": [
                    {"acltype": "publishClientSend", "topic": "cylwatch/devices/+/results", "allow": true},
                ]}),
                json!({"command": "addClientRole", "username": user, "rolename": SERVER_ROLE}),
            ])
            .await?;
        let answer = self
            .endpoint
            .run(vec![json!({"command": "listClients"})])
            .await?;
        let names: Vec<String> = answer
            .first()
            .and_then(|a| a.pointer("/data/clients"))
            .and_then(Value::as_array)
            .map(|clients| {
                clients
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .filter(|c| *c != user)
                    .collect()
            })
            .unwrap_or_default();
        let known: HashMap<String, RecordStatus> = store::mqtt::statuses(&self.pool, &names)
            .await?
            .into_iter()
            .collect();
        let mut commands = Vec::new();
        let mut removed = 0usize;
        for name in &names {
            let status = known.get(name).copied().unwrap_or(RecordStatus::Closed);
            if status == RecordStatus::Closed {
                removed += 1;
            }
            let command = Command {
                id: 0,
                device_id: name.clone(),
                action: Action::for_status(status),
                secret: None,
            };
            commands.extend(commands_of(&command).into_iter().map(|(c, _)| c));
        }
        for chunk in commands.chunks(200) {
            self.endpoint.run(chunk.to_vec()).await?;
        }
        tracing::info!(
            clients = names.len(),
            removed,
            "mqtt: the broker's clients reconciled with the registry"
        );
        Ok(())
    }

    /// Runs until shutdown: reconciles at start and every `mqtt_reconcile_s`, applies queued
    /// commands when woken and retries them every few seconds while the broker is away.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut reconciled = false;
        let mut next_reconcile = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_reconcile {
                match self.reconcile().await {
                    Ok(()) => {
                        reconciled = true;
                        next_reconcile = tokio::time::Instant::now() + self.reconcile_every;
                    }
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), "mqtt: reconcile failed");
                        next_reconcile = tokio::time::Instant::now() + Duration::from_secs(2);
                    }
                }
            }
            let retry = match self.flush().await {
                Ok(()) => None,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "mqtt: broker commands stay queued"
                    );
                    Some(Duration::from_secs(2))
                }
            };
            let wait = retry
                .unwrap_or(self.reconcile_every)
                .min(next_reconcile.saturating_duration_since(tokio::time::Instant::now()))
                .max(Duration::from_millis(if reconciled { 100 } else { 500 }));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }
}
