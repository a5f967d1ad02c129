//! MQTT (issue 23) against a real Mosquitto of the test's own (`common::broker`) and the real
//! binary: devices speak through Debian's `mosquitto_pub` / `mosquitto_sub`, clients nobody
//! here wrote. The broker's credentials follow the registry (create, suspend, reinstate,
//! revoke, key rotation).

use crate::access::PASSWORD;
use crate::common::broker::Broker;
use crate::common::{enterprise, gps, spawn_app_with, AppConfig, TestApp, TestDb};
use serde_json::{json, Value};
use std::process::Output;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

pub(crate) const PLATE: &str = "豫A23023";

/// A server with MQTT on, against `broker`.
pub(crate) async fn mqtt_app(broker: &Broker, instance_id: &str) -> TestApp {
    let mut config = AppConfig {
        instance_id: instance_id.into(),
        ..AppConfig::default()
    };
    config.env.extend(broker.env());
    config
        .env
        .push(("CYLWATCH_MQTT_LEASE_S".into(), "3".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": PLATE, "enterprise_code": "ENT1"}),
        )
        .await;
    assert!(status == 201 || status == 409, "{body}");
    app
}

/// Registers a reader of `ENT1`; its id and key.
pub(crate) async fn reader(app: &TestApp) -> (String, String) {
    let id = format!("rd-{}", &Uuid::new_v4().simple().to_string()[..8]);
    let (status, body) = app
        .post_json(
            "/api/v1/devices",
            &json!({"device_id": id, "kind": "reader", "enterprise_code": "ENT1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (id, body["key"].as_str().unwrap().to_owned())
}

pub(crate) fn events_topic(id: &str) -> String {
    format!("cylwatch/devices/{id}/events")
}

fn results_topic(id: &str) -> String {
    format!("cylwatch/devices/{id}/results")
}

/// A batch of `n` GPS fixes of [`PLATE`], `minute` minutes after a base time.
pub(crate) fn batch(n: usize, minute: usize) -> Value {
    let base = chrono::DateTime::parse_from_rfc3339("2026-12-06T00:00:00+08:00").unwrap();
    let events: Vec<Value> = (0..n)
        .zip(0u32..)
        .map(|(i, k)| {
            let at = base
                + chrono::Duration::minutes(i64::try_from(minute).unwrap())
                + chrono::Duration::seconds(i64::try_from(i).unwrap());
            gps(PLATE, 113.6 + 0.0001 * f64::from(k), 34.7, &at.to_rfc3339())
        })
        .collect();
    json!({ "events": events })
}

/// Publishes one message as the device; `mosquitto_pub`'s output (with `-d`).
pub(crate) async fn publish(
    broker: &Broker,
    id: &str,
    key: &str,
    topic: &str,
    body: &str,
) -> Output {
    broker
        .publish(id, key, topic)
        .args(["-m", body])
        .output()
        .await
        .expect("mosquitto_pub")
}

/// Whether the broker took the message: connected, and its PUBACK's reason was success.
pub(crate) fn taken(out: &Output) -> bool {
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    out.status.success() && text.contains("received PUBACK") && text.contains("RC:0")
}

async fn stored_by(app: &TestApp, device: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE device_id = $1")
        .bind(device)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// A batch published with `mosquitto_pub` is stored, and its result is published to the
/// device's results topic (read with `mosquitto_sub`); a malformed message gets its error as
/// its result, is acknowledged (not delivered again) and stores nothing.
#[tokio::test]
async fn a_batch_published_with_mosquitto_pub_lands_and_its_result_comes_back() {
    let broker = Broker::start().await;
    let app = mqtt_app(&broker, "mqtt-one").await;
    let (id, key) = reader(&app).await;
    let results = broker
        .subscribe(&id, &key, &results_topic(&id), 3, 60)
        .spawn()
        .unwrap();
    // mosquitto_sub subscribed (a loaded machine takes its time).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut body = batch(3, 0);
    body["events"].as_array_mut().unwrap().push(json!({"id": Uuid::new_v4(), "kind": "gps",
        "occurred_at": "2026-12-06T08:00:00+08:00", "vehicle_plate": PLATE, "lon": 500.0, "lat": 34.7}));
    let out = publish(&broker, &id, &key, &events_topic(&id), &body.to_string()).await;
    assert!(taken(&out), "{out:?}");
    app.wait_until(|| async { stored_by(&app, &id).await == 3 })
        .await;
    // The same batch again: duplicates.
    let out = publish(&broker, &id, &key, &events_topic(&id), &body.to_string()).await;
    assert!(taken(&out), "{out:?}");
    let out = publish(&broker, &id, &key, &events_topic(&id), "{not json").await;
    assert!(taken(&out), "{out:?}");
    let results = results.wait_with_output().await.unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&results.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "{lines:?}; server log {}",
        app.log.display()
    );
    assert_eq!(lines[0]["accepted"], 3, "{}", lines[0]);
    assert_eq!(lines[0]["duplicates"], 0);
    assert_eq!(lines[0]["rejected"][0]["index"], 3);
    assert_eq!(lines[0]["rejected"][0]["error"]["field"], "lon");
    assert_eq!(lines[1]["accepted"], 0);
    assert_eq!(lines[1]["duplicates"], 3);
    assert_eq!(lines[2]["error"]["code"], "malformed_body", "{}", lines[2]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stored_by(&app, &id).await, 3);
    // A payload naming another device is refused whole.
    let mut foreign = batch(1, 5);
    foreign["device_id"] = json!("someone-else");
    let sub = broker
        .subscribe(&id, &key, &results_topic(&id), 1, 20)
        .spawn()
        .unwrap();
    // mosquitto_sub subscribed (a loaded machine takes its time).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let out = publish(&broker, &id, &key, &events_topic(&id), &foreign.to_string()).await;
    assert!(taken(&out), "{out:?}");
    let answer = sub.wait_with_output().await.unwrap();
    let answer: Value = serde_json::from_slice(&answer.stdout).unwrap();
    assert_eq!(answer["error"]["field"], "device_id", "{answer}");
    assert_eq!(stored_by(&app, &id).await, 3);
}

/// The broker refuses a device publishing to another device's topic (MQTT 5 PUBACK "not
/// authorized") and subscribing to another device's results; nothing is stored.
#[tokio::test]
async fn a_device_cannot_publish_to_another_devices_topic() {
    let broker = Broker::start().await;
    let app = mqtt_app(&broker, "mqtt-two").await;
    let (a, a_key) = reader(&app).await;
    let (b, _) = reader(&app).await;
    let out = publish(
        &broker,
        &a,
        &a_key,
        &events_topic(&b),
        &batch(2, 1).to_string(),
    )
    .await;
    assert!(!taken(&out), "{out:?}");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("RC:135"), "not authorized expected: {text}");
    let out = publish(&broker, &a, &a_key, "cylwatch/devices/+/events", "{}").await;
    assert!(!taken(&out), "{out:?}");
    let sub = broker
        .subscribe(&a, &a_key, &results_topic(&b), 1, 2)
        .output()
        .await
        .unwrap();
    assert!(!sub.status.success() || sub.stdout.is_empty(), "{sub:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.event_count().await, 0);
    // Its own topic works.
    let out = publish(
        &broker,
        &a,
        &a_key,
        &events_topic(&a),
        &batch(2, 1).to_string(),
    )
    .await;
    assert!(taken(&out), "{out:?}");
    app.wait_until(|| async { stored_by(&app, &a).await == 2 })
        .await;
    assert_eq!(stored_by(&app, &b).await, 0);
}

/// Suspending a device cuts it off the broker at once; reinstating lets it back; revoking
/// removes it for good.
#[tokio::test]
async fn a_suspended_or_revoked_device_can_no_longer_publish() {
    let broker = Broker::start().await;
    let app = mqtt_app(&broker, "mqtt-three").await;
    let (id, key) = reader(&app).await;
    let send = |minute| {
        let (id, key, broker) = (id.clone(), key.clone(), &broker);
        async move {
            publish(
                broker,
                &id,
                &key,
                &events_topic(&id),
                &batch(1, minute).to_string(),
            )
            .await
        }
    };
    assert!(taken(&send(1).await));
    // A device connected when it is suspended is cut off too.
    let mut held = broker
        .publish(&id, &key, &events_topic(&id))
        .args(["-l"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = held.stdin.take().unwrap();
    stdin
        .write_all(format!("{}\n", batch(1, 2)).as_bytes())
        .await
        .unwrap();
    app.wait_until(|| async { stored_by(&app, &id).await == 2 })
        .await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/devices/{id}/suspend"),
            &json!({"reason": "lost"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let _ = stdin
        .write_all(format!("{}\n", batch(1, 3)).as_bytes())
        .await;
    let out = send(4).await;
    assert!(!taken(&out), "suspended, yet published: {out:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        stored_by(&app, &id).await,
        2,
        "nothing after the suspension"
    );
    drop(stdin);
    let _ = held.kill().await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/devices/{id}/reinstate"),
            &json!({"reason": "found"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(taken(&send(5).await));
    app.wait_until(|| async { stored_by(&app, &id).await == 3 })
        .await;
    let (status, body) = app
        .post_json(&format!("/api/v1/devices/{id}/revoke"), &json!({}))
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(!taken(&send(6).await));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stored_by(&app, &id).await, 3);
}

/// A device's key rotated: the old key is refused (HTTP and MQTT), the new one works; another
/// enterprise's administrator cannot rotate it (404, nothing changes).
#[tokio::test]
async fn key_rotation_refuses_the_old_key_and_takes_the_new() {
    let broker = Broker::start().await;
    let app = mqtt_app(&broker, "mqtt-four").await;
    let (id, old) = reader(&app).await;
    assert!(taken(
        &publish(
            &broker,
            &id,
            &old,
            &events_topic(&id),
            &batch(1, 1).to_string()
        )
        .await
    ));
    // Another enterprise's administrator: 404, and the key still works.
    assert_eq!(
        app.post_json("/api/v1/enterprises", &enterprise("ENT2"))
            .await
            .0,
        201
    );
    let user = json!({"username": "ent2-admin", "password": PASSWORD, "role": "enterprise_admin",
                      "enterprise_code": "ENT2"});
    assert_eq!(app.post_json("/api/v1/users", &user).await.0, 201);
    let other = app.login("ent2-admin", PASSWORD).await;
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/devices/{id}/key"),
            None,
            Some(&other),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.to_string().contains("key\":"), "{body}");
    let (status, _) = app.post_events_as(&old, &batch(1, 2)).await;
    assert_eq!(status, 202);
    // Its own administrator rotates it.
    let (status, body) = app
        .post_json(&format!("/api/v1/devices/{id}/key"), &json!({}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["device_id"], id.as_str());
    let new = body["key"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let (status, _) = app.post_events_as(&old, &batch(1, 3)).await;
    assert_eq!(status, 401, "the old key over HTTP");
    assert!(!taken(
        &publish(
            &broker,
            &id,
            &old,
            &events_topic(&id),
            &batch(1, 4).to_string()
        )
        .await
    ));
    let (status, _) = app.post_events_as(&new, &batch(1, 5)).await;
    assert_eq!(status, 202);
    assert!(taken(
        &publish(
            &broker,
            &id,
            &new,
            &events_topic(&id),
            &batch(1, 6).to_string()
        )
        .await
    ));
    app.wait_until(|| async { stored_by(&app, &id).await == 4 })
        .await;
    // No such device, and a revoked one: 404.
    let (status, _) = app
        .post_json("/api/v1/devices/nobody/key", &json!({}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.post_json(&format!("/api/v1/devices/{id}/revoke"), &json!({}))
            .await
            .0,
        204
    );
    let (status, _) = app
        .post_json(&format!("/api/v1/devices/{id}/key"), &json!({}))
        .await;
    assert_eq!(status, 404);
}
