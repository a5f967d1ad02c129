use crate::common::{gps, spawn_app, TestApp};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(app.ws_url().await)
        .await
        .expect("WebSocket connect");
    ws
}

/// The next JSON text message (pings and pongs skipped), within 15 s.
pub(crate) async fn next_json(ws: &mut Ws) -> Value {
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str()).expect("JSON message")
                }
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a message within 15 s")
}

/// Reads until a message satisfies `pred`.
pub(crate) async fn until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let msg = next_json(ws).await;
        if pred(&msg) {
            return msg;
        }
    }
}

#[tokio::test]
async fn ingest_reaches_the_websocket_through_the_stream() {
    let app = spawn_app().await;
    let mut ws = connect(&app).await;
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["vehicles"], json!([]));

    let (status, _) = app
        .post_events(
            &json!({"events": [gps("豫A77777", 113.65, 34.76, "2026-11-22T10:00:00+08:00")]}),
        )
        .await;
    assert_eq!(status, 202);
    let update = until(&mut ws, |m| m["type"] == "vehicle").await;
    assert_eq!(update["plate"], "豫A77777");
    assert_eq!(update["lon"], 113.65);
    assert_eq!(update["lat"], 34.76);
    assert_eq!(update["speed_kmh"], 36.5);
    assert_eq!(update["occurred_at"], "2026-11-22T02:00:00Z");

    // A new client gets the vehicle in its snapshot.
    let mut late = connect(&app).await;
    let snapshot = next_json(&mut late).await;
    assert_eq!(snapshot["vehicles"][0]["plate"], "豫A77777");
}

#[tokio::test]
async fn a_late_fix_does_not_move_the_vehicle_back() {
    let app = spawn_app().await;
    let mut ws = connect(&app).await;
    next_json(&mut ws).await;
    let newer = gps("豫A88888", 113.70, 34.80, "2026-11-22T10:05:00+08:00");
    let older = gps("豫A88888", 113.60, 34.70, "2026-11-22T10:00:00+08:00");
    app.post_events(&json!({"events": [newer]})).await;
    until(&mut ws, |m| m["type"] == "vehicle" && m["lon"] == 113.70).await;
    let (status, _) = app.post_events(&json!({"events": [older]})).await;
    assert_eq!(status, 202);
    // Wait until the old fix has gone through the pipeline, then check it changed nothing.
    app.wait_until(|| async {
        let (_, h) = app.get_json("/api/v1/health").await;
        h["stream"]["length"] == 2 && h["stream"]["pending"] == 0 && h["stream"]["lag"] == 0
    })
    .await;
    let (lon, at): (f64, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT ST_X(location), occurred_at FROM vehicle_positions WHERE plate = '豫A88888'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(lon, 113.70);
    assert_eq!(at.to_rfc3339(), "2026-11-22T02:05:00+00:00");
    assert_eq!(
        app.event_count().await,
        2,
        "the late fix is still part of the record"
    );
}

#[tokio::test]
async fn subscribe_narrows_topics_and_bad_messages_get_an_error() {
    let app = spawn_app().await;
    let mut ws = connect(&app).await;
    next_json(&mut ws).await;
    ws.send(Message::text("{\"subscribe\": \"everything\"}"))
        .await
        .unwrap();
    let error = next_json(&mut ws).await;
    assert_eq!(error["error"]["code"], "malformed_body");

    ws.send(Message::text("{\"subscribe\": [\"alerts\"]}"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    app.post_events(
        &json!({"events": [gps("豫A55555", 113.6, 34.7, "2026-11-22T10:00:00+08:00")]}),
    )
    .await;
    // Not subscribed to vehicles: nothing arrives.
    let quiet = tokio::time::timeout(Duration::from_secs(2), next_json(&mut ws)).await;
    assert!(quiet.is_err(), "unexpected {quiet:?}");

    ws.send(Message::text("{\"subscribe\": [\"vehicles\"]}"))
        .await
        .unwrap();
    let snapshot = next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["vehicles"][0]["plate"], "豫A55555");
}

#[tokio::test]
async fn live_without_an_upgrade_is_a_json_4xx() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/live").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "malformed_body");
}

/// The `load` a vehicle message carries, as (full, other).
fn load_of(msg: &Value) -> (i64, i64) {
    (
        msg["load"]["full"].as_i64().unwrap_or(-1),
        msg["load"]["other"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_vehicle_message_carries_its_load_as_tags_are_loaded_and_unloaded() {
    let app = spawn_app().await;
    app.seed_registry().await;
    for code in ["L1", "L2", "L3"] {
        let (status, body) = app
            .post_json(
                "/api/v1/cylinders",
                &crate::common::archive(code, &format!("T-{code}")),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let base = chrono::Utc::now() - chrono::Duration::minutes(10);
    let at = |s: i64| (base + chrono::Duration::seconds(s)).to_rfc3339();
    // L1 and L2 filled at ST1 (full); L3 stays empty.
    let fills: Vec<Value> = ["L1", "L2"]
        .iter()
        .map(|c| crate::common::scan("fill", c, &at(0), json!({"station_code": "ST1"})))
        .collect();
    let (status, body) = app.post_events(&json!({ "events": fills })).await;
    assert_eq!(status, 202, "{body}");

    let plate = "豫A60001";
    let mut ws = connect(&app).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    let is_ours = |m: &Value| m["type"] == "vehicle" && m["plate"] == plate;

    // At ST1, nothing on it yet.
    app.post_events(&json!({"events": [gps(plate, 113.62, 34.75, &at(60))]}))
        .await;
    let first = until(&mut ws, is_ours).await;
    assert_eq!(load_of(&first), (0, 0), "{first}");

    // Its reader sees the three tags: loaded, without a new fix.
    let ble = |tags: &[&str], s: i64| {
        json!({"id": uuid::Uuid::new_v4(), "kind": "ble", "vehicle_plate": plate,
               "tag_ids": tags, "occurred_at": at(s)})
    };
    let (status, body) = app
        .post_events(&json!({"events": [ble(&["T-L1", "T-L2", "T-L3"], 70)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    let loaded = until(&mut ws, is_ours).await;
    assert_eq!(load_of(&loaded), (2, 1), "{loaded}");
    assert_eq!(
        loaded["occurred_at"], first["occurred_at"],
        "the same position: {loaded}"
    );

    // It drives to customer C1: the load rides along.
    app.post_events(&json!({"events": [gps(plate, 113.66, 34.76, &at(300))]}))
        .await;
    let moved = until(&mut ws, is_ours).await;
    assert_eq!(moved["lon"], 113.66, "{moved}");
    assert_eq!(load_of(&moved), (2, 1), "{moved}");

    // L2 and L3 handed over there: one full cylinder left on it.
    let (status, body) = app
        .post_events(&json!({"events": [ble(&["T-L1"], 360)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    let unloaded = until(&mut ws, is_ours).await;
    assert_eq!(load_of(&unloaded), (1, 0), "{unloaded}");

    // A new client's snapshot has the load, and the statistics agree.
    let mut late = connect(&app).await;
    let snapshot = next_json(&mut late).await;
    let ours = snapshot["vehicles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["plate"] == plate)
        .cloned()
        .unwrap_or_default();
    assert_eq!(load_of(&ours), (1, 0), "{snapshot}");
    let (status, loads) = app.get_json("/api/v1/stats/vehicle-loads").await;
    assert_eq!(status, 200, "{loads}");
    assert_eq!(
        loads["vehicles"],
        json!([{"plate": plate, "full": 1, "other": 0}])
    );

    // Empty again: the next message says so.
    app.post_events(&json!({"events": [ble(&[], 420)]})).await;
    let empty = until(&mut ws, is_ours).await;
    assert_eq!(load_of(&empty), (0, 0), "{empty}");
}
