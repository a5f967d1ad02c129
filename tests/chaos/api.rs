//! The API as the workload's devices and controllers speak it: HTTP with retries until an
//! answer acknowledges (the same body each time), the suite's MQTT broker and JT/T 808 ports.

use super::workload::Record;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The API as the workload speaks it.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
    /// The suite's Mosquitto, when some devices publish over MQTT.
    pub mqtt_port: Option<u16>,
    /// The instances' JT/T 808 gateways, when some vehicles report over JT/T 808.
    pub jt808_ports: Vec<u16>,
}

impl Api {
    pub fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(4)
            .build()
            .expect("http client");
        Self {
            base,
            http,
            admin: String::new(),
            mqtt_port: None,
            jt808_ports: Vec::new(),
        }
    }

    /// A JSON POST; `None` on a connection error or a body that is not JSON.
    pub async fn post(&self, path: &str, body: &Value, auth: (&str, &str)) -> Option<(u16, Value)> {
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .header(auth.0, auth.1)
            .json(body)
            .send()
            .await
            .ok()?;
        let status = answer.status().as_u16();
        let body = answer.json::<Value>().await.unwrap_or(Value::Null);
        Some((status, body))
    }

    /// An administrator's POST, retried through faults until it gets a final answer.
    pub async fn admin_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let bearer = format!("Bearer {}", self.admin);
        for _ in 0..600 {
            match self.post(path, body, ("authorization", &bearer)).await {
                Some((s, v)) if s < 500 => return (s, v),
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("POST {path} never answered");
    }

    pub async fn login(&mut self) {
        let body = json!({"username": crate::ADMIN_USER, "password": crate::ADMIN_PASSWORD});
        for _ in 0..600 {
            if let Some((200, v)) = self.post("/api/v1/auth/login", &body, ("x-none", "")).await {
                self.admin = v["token"].as_str().expect("token").to_owned();
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("login never succeeded");
    }

    pub async fn device(&self, kind: &str, station: Option<&str>) -> String {
        self.device_with_id(kind, station).await.1
    }

    /// A new device of ENT1: its id and its key.
    pub async fn device_with_id(&self, kind: &str, station: Option<&str>) -> (String, String) {
        let id = format!("dev-{}", Uuid::new_v4().simple());
        let mut body = json!({"device_id": id, "kind": kind, "enterprise_code": "ENT1"});
        if let Some(s) = station {
            body["station_code"] = json!(s);
        }
        let (status, answer) = self.admin_post("/api/v1/devices", &body).await;
        assert_eq!(status, 201, "device: {answer}");
        (id, answer["key"].as_str().expect("key").to_owned())
    }

    /// Publishes `events` as the device over MQTT (QoS 1, MQTT 5, Debian's `mosquitto_pub`)
    /// until the broker's PUBACK says success, the same message each time; the time of the
    /// PUBACK, or `None` when `give_up` passed first.
    pub async fn publish_until_acked(
        &self,
        device: &str,
        key: &str,
        events: &[Value],
        record: &Record,
        give_up: Instant,
    ) -> Option<Instant> {
        let port = self.mqtt_port.expect("the suite's broker").to_string();
        let body = json!({ "events": events }).to_string();
        let topic = format!("cylwatch/devices/{device}/events");
        loop {
            let publish = tokio::process::Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-V",
                    "mqttv5",
                    "-q",
                    "1",
                    "-d",
                ])
                .args(["-i", &format!("{device}-pub"), "-u", device, "-P", key])
                .args(["-t", &topic, "-m", &body])
                .kill_on_drop(true)
                .output();
            if let Ok(Ok(out)) = tokio::time::timeout(Duration::from_secs(10), publish).await {
                let text = String::from_utf8_lossy(&out.stdout).to_string()
                    + &String::from_utf8_lossy(&out.stderr);
                if out.status.success() && text.contains("received PUBACK") && text.contains("RC:0")
                {
                    return Some(Instant::now());
                }
            }
            if Instant::now() > give_up {
                return None;
            }
            record.mqtt_retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Posts `events` as the device until acknowledged; the time of the acknowledgement, or
    /// `None` when `give_up` passed first.
    pub async fn send_until_acked(
        &self,
        key: &str,
        events: &[Value],
        record: &Record,
        give_up: Instant,
    ) -> Option<Instant> {
        let body = json!({ "events": events });
        loop {
            match self
                .post("/api/v1/events", &body, ("x-device-key", key))
                .await
            {
                Some((202, answer)) => {
                    assert_eq!(
                        answer["rejected"],
                        json!([]),
                        "the workload sent an event the server refuses: {answer}"
                    );
                    return Some(Instant::now());
                }
                Some((status, answer))
                    if (400..500).contains(&status)
                        && status != 401
                        && status != 429
                        && status != 408 =>
                {
                    panic!("a batch refused for good ({status}): {answer}");
                }
                _ => {}
            }
            if Instant::now() > give_up {
                return None;
            }
            record.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

impl Api {
    /// Posts a filling record as the controller until it is answered `201` (the same body
    /// each time); the record's id and the time of the answer.
    pub async fn record_until_kept(
        &self,
        key: &str,
        body: &Value,
        record: &Record,
        give_up: Instant,
    ) -> Option<(Uuid, Instant)> {
        loop {
            match self
                .post("/api/v1/fillings", body, ("x-device-key", key))
                .await
            {
                Some((201, answer)) => {
                    let id = answer["id"].as_str().and_then(|i| i.parse().ok());
                    return Some((id.expect("a filling record's id"), Instant::now()));
                }
                Some((status, answer))
                    if (400..500).contains(&status) && ![401, 408, 429].contains(&status) =>
                {
                    panic!("a filling record refused for good ({status}): {answer}");
                }
                _ => {}
            }
            if Instant::now() > give_up {
                return None;
            }
            record.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}
