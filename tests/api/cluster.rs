//! Several instances behind a real load balancer (issue 24): three servers on one database and
//! one Redis, HAProxy in front (its health check asks `GET /api/v1/health/ready`). One instance
//! is killed: a live-feed client of it reconnects through HAProxy to another and gets its
//! snapshot, the pipeline's partitions move to the survivors, the gun is answered; then Redis
//! goes away and no instance is taken out (the filling decision does not need Redis).

use crate::common::haproxy::Haproxy;
use crate::common::{free_port, gps, spawn_app_with, AppConfig, TestApp, TestDb};
use crate::filling::{ask, check, cylinder};
use crate::pipeline::{env, lease_holders, position_of, OwnRedis};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `POST` through the load balancer, retried while no instance answers (as a device would).
/// `auth`: a header's name and value (a bearer token, or a device's `X-Device-Key`).
async fn post(http: &reqwest::Client, url: &str, auth: (&str, &str), body: &Value) -> (u16, Value) {
    for _ in 0..50 {
        let mut request = http.post(url).header(auth.0, auth.1);
        if !body.is_null() {
            request = request.json(body);
        }
        let sent = request.send().await;
        if let Ok(answer) = sent {
            let status = answer.status().as_u16();
            if status != 502 && status != 503 {
                return (status, answer.json().await.unwrap_or(Value::Null));
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no instance answered {url}");
}

/// A live-feed connection through the load balancer, the instance serving it, and its first
/// message.
async fn live(http: &reqwest::Client, lb: &Haproxy, token: &str) -> (Ws, String, Value) {
    let bearer = format!("Bearer {token}");
    let (status, ticket) = post(
        http,
        &format!("{}/api/v1/live/ticket", lb.base()),
        ("authorization", &bearer),
        &json!(null),
    )
    .await;
    assert_eq!(status, 201, "{ticket}");
    let url = format!(
        "ws://127.0.0.1:{}/api/v1/live?ticket={}",
        lb.port,
        ticket["ticket"].as_str().unwrap()
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    let served_by = response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a first message within 10 s")
        .expect("an open feed")
        .unwrap();
    let Message::Text(text) = first else {
        panic!("not text: {first:?}")
    };
    (ws, served_by, serde_json::from_str(&text).unwrap())
}

fn copy_of(db: &TestDb) -> TestDb {
    TestDb {
        name: db.name.clone(),
        url: db.url.clone(),
        pool: db.pool.clone(),
    }
}

#[tokio::test]
async fn three_instances_behind_haproxy_lose_one_and_then_redis_and_go_on() {
    let redis = OwnRedis::start(free_port()).await;
    let mut config = AppConfig {
        redis_url: format!("redis://127.0.0.1:{}", redis.port),
        instance_id: "lb-0".into(),
        ..AppConfig::default()
    };
    env(
        &mut config,
        &[
            ("CYLWATCH_PIPELINE_PARTITIONS", "6"),
            ("CYLWATCH_PIPELINE_LEASE_MS", "1500"),
        ],
    );
    let (prefix, redis_url) = (config.redis_prefix.clone(), config.redis_url.clone());
    let first = spawn_app_with(config.clone(), TestDb::new().await).await;
    let controller = first.seed_registry_with_controller().await;
    cylinder(&first, "LB-1", "ST1", json!({})).await;
    // Checked before filling (R10): the gun allows it once the check is applied.
    let now = chrono::Utc::now().to_rfc3339();
    let pre = check("LB-1", "pre", true, &now);
    let (status, body) = first.post_events(&json!({ "events": [pre] })).await;
    assert_eq!(status, 202, "{body}");
    first
        .wait_until(|| async {
            let (_, answer) = first
                .authorize(&controller, ask("LB-1", "ST1", "LPG"))
                .await;
            answer["allowed"] == true
        })
        .await;
    let mut apps: Vec<Option<TestApp>> = vec![Some(first)];
    for i in 1..3 {
        let db = copy_of(&apps[0].as_ref().unwrap().db);
        let config = AppConfig {
            instance_id: format!("lb-{i}"),
            ..config.clone()
        };
        apps.push(Some(spawn_app_with(config, db).await));
    }
    let ports: Vec<u16> = apps.iter().flatten().map(|a| a.port).collect();
    let (token, device_key) = {
        let a = apps[0].as_ref().unwrap();
        (a.admin_token.clone(), a.device_key.clone())
    };
    let lb = Haproxy::start(&ports).await;
    lb.wait_for(&["s0", "s1", "s2"], "UP").await;
    let http = reqwest::Client::new();

    // Requests are spread over the three.
    let mut served = BTreeSet::new();
    for _ in 0..9 {
        let answer = http
            .get(format!("{}/api/v1/health/ready", lb.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        served.insert(answer.headers()["x-served-by"].to_str().unwrap().to_owned());
    }
    assert_eq!(served.len(), 3, "{served:?}");
    // Each instance holds two of the six partitions.
    lb.wait_for(&["s0", "s1", "s2"], "UP").await;
    apps[0]
        .as_ref()
        .unwrap()
        .wait_until(|| async {
            let holders: BTreeSet<_> = lease_holders(&redis_url, &prefix, 6)
                .await
                .into_iter()
                .flatten()
                .collect();
            holders.len() == 3
        })
        .await;

    // A live-feed client; the instance serving it dies (SIGKILL).
    let (mut ws, victim, snapshot) = live(&http, &lb, &token).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let index: usize = victim
        .strip_prefix('s')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("served by {victim:?}"));
    let (_, db) = apps[index].take().unwrap().kill().await;
    std::mem::forget(db); // the survivors' database
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the feed of the killed instance stayed open");
    lb.wait_for(&[victim.as_str()], "DOWN").await;

    // The client reconnects through HAProxy: another instance, a snapshot.
    let (mut ws, again, snapshot) = live(&http, &lb, &token).await;
    assert_ne!(again, victim);
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");

    // The pipeline's partitions move to the two survivors and a fix sent now reaches the
    // position table and the reconnected feed.
    let survivors: BTreeSet<String> = (0..3)
        .filter(|&i| i != index)
        .map(|i| format!("lb-{i}"))
        .collect();
    let alive = apps.iter().flatten().next().unwrap();
    alive
        .wait_until(|| async {
            let holders = lease_holders(&redis_url, &prefix, 6).await;
            holders
                .iter()
                .all(|h| h.as_ref().is_some_and(|h| survivors.contains(h)))
        })
        .await;
    let events = format!("{}/api/v1/events", lb.base());
    let key = ("x-device-key", device_key.as_str());
    let fix = gps("豫A6L001", 113.66, 34.75, &chrono::Utc::now().to_rfc3339());
    let (status, body) = post(&http, &events, key, &json!({"events": [fix]})).await;
    assert_eq!(status, 202, "{body}");
    alive
        .wait_until(|| async { position_of(alive, "豫A6L001").await == Some((113.66, 34.75)) })
        .await;
    let update = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "vehicle" && value["plate"] == "豫A6L001" {
                    return value;
                }
            }
        }
        Value::Null
    })
    .await
    .expect("the fix on the reconnected feed within 10 s");
    assert_eq!(update["lon"], 113.66);

    // The gun is answered through HAProxy.
    let authorize = format!("{}/api/v1/fillings/authorize", lb.base());
    let controller = ("x-device-key", controller.as_str());
    let (status, answer) = post(&http, &authorize, controller, &ask("LB-1", "ST1", "LPG")).await;
    assert_eq!(
        (status, &answer["allowed"]),
        (200, &json!(true)),
        "{answer}"
    );

    // Redis goes: HAProxy keeps both survivors (their readiness depends on PostgreSQL only)
    // and the gun is still answered.
    redis.stop().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let names: Vec<String> = (0..3)
        .filter(|&i| i != index)
        .map(|i| format!("s{i}"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    lb.wait_for(&names, "UP").await;
    for _ in 0..4 {
        let (status, answer) =
            post(&http, &authorize, controller, &ask("LB-1", "ST1", "LPG")).await;
        assert_eq!(
            (status, &answer["allowed"]),
            (200, &json!(true)),
            "{answer}"
        );
    }
    lb.stop().await;
}
