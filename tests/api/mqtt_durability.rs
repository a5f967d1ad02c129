//! MQTT durability (issue 23): a message is acknowledged only once its events are committed,
//! so a server killed mid-stream loses nothing and stores nothing twice; and the messages the
//! broker queued for a dead instance's session are drained by a live one.

use crate::common::broker::Broker;
use crate::common::{spawn_app_with, TestApp, TestDb};
use crate::mqtt::{batch, events_topic, mqtt_app, publish, reader, taken};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

async fn distinct_events(app: &TestApp, device: &str) -> (i64, i64) {
    sqlx::query_as("SELECT count(*), count(DISTINCT id) FROM events WHERE device_id = $1")
        .bind(device)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// A device publishes 10,000 events at QoS 1 (200 messages of 50) while the server is
/// killed with SIGKILL and started again: all 10,000 are stored, each once.
#[tokio::test]
async fn ten_thousand_events_published_across_a_sigkill_are_stored_exactly_once() {
    let broker = Broker::start().await;
    let app = mqtt_app(&broker, "mqtt-kill").await;
    let (id, key) = reader(&app).await;
    let mut device = broker
        .publish(&id, &key, &events_topic(&id))
        .args(["-l"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = device.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        for message in 0..200 {
            let line = format!("{}\n", batch(50, message));
            stdin.write_all(line.as_bytes()).await.unwrap();
            if message % 20 == 19 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        stdin.shutdown().await.unwrap();
    });
    app.wait_until(|| async { distinct_events(&app, &id).await.0 >= 500 })
        .await;
    let app = app.kill_and_restart().await;
    writer.await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), device.wait())
        .await
        .expect("mosquitto_pub finished")
        .unwrap();
    assert!(status.success(), "mosquitto_pub failed");
    for _ in 0..1200 {
        if distinct_events(&app, &id).await.0 >= 10_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        distinct_events(&app, &id).await,
        (10_000, 10_000),
        "server log {}",
        app.log.display()
    );
}

/// Two instances share the subscription; one is killed. The broker keeps handing the dead
/// instance's session its share of the messages: the live instance takes the session over
/// once its lease lapsed and applies them.
#[tokio::test]
async fn a_killed_instances_queued_messages_are_applied_by_the_other() {
    let broker = Broker::start().await;
    let a = mqtt_app(&broker, "mqtt-a").await;
    let (id, key) = reader(&a).await;
    let mut config = a.config.clone();
    config.instance_id = "mqtt-b".into();
    let shared_db = TestDb {
        name: a.db.name.clone(),
        url: a.db.url.clone(),
        pool: a.db.pool.clone(),
    };
    let b = spawn_app_with(config, shared_db).await;
    let sessions = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM mqtt_sessions")
            .fetch_one(&b.db.pool)
            .await
            .unwrap()
    };
    b.wait_until(|| async { sessions().await == 2 }).await;
    // Both subscribed: messages reach both.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_config, db) = a.kill().await;
    std::mem::forget(db); // b's database: dropped with b
    for message in 0..40 {
        let out = publish(
            &broker,
            &id,
            &key,
            &events_topic(&id),
            &batch(1, message).to_string(),
        )
        .await;
        assert!(taken(&out), "{out:?}");
    }
    // Some wait in the dead session until its lease lapses (3 s) and b drains it.
    for _ in 0..300 {
        if distinct_events(&b, &id).await.0 >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        distinct_events(&b, &id).await,
        (40, 40),
        "b's log {}",
        b.log.display()
    );
    let log = std::fs::read_to_string(&b.log).unwrap();
    assert!(
        log.contains("taking over a dead instance's session"),
        "{}",
        b.log.display()
    );
    // The drained session is forgotten; b's own stays.
    b.wait_until(|| async { sessions().await == 1 }).await;
}
