//! The stream consumer and the outbox relay under restarts and outages.

use crate::common::{free_port, gps, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use redis::AsyncCommands;
use serde_json::json;
use std::time::Duration;

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn position_of(app: &TestApp, plate: &str) -> Option<(f64, f64)> {
    sqlx::query_as("SELECT ST_X(location), ST_Y(location) FROM vehicle_positions WHERE plate = $1")
        .bind(plate)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restarted_consumer_finishes_its_pending_entries_first() {
    let config = AppConfig {
        instance_id: "consumer-a".into(),
        ..AppConfig::default()
    };
    let stream = format!("{}:events", config.redis_prefix);
    let mut conn = redis_conn(&config.redis_url).await;
    let _: () = conn
        .xgroup_create_mkstream(&stream, "pipeline", "0")
        .await
        .unwrap();
    let event = json!({"kind": "gps", "id": uuid::Uuid::new_v4(), "occurred_at": "2026-11-22T08:00:00+08:00",
                       "vehicle_plate": "豫A30001", "lon": 113.61, "lat": 34.71});
    let _: String = conn
        .xadd(&stream, "*", &[("event", event.to_string())])
        .await
        .unwrap();
    // Delivered to consumer-a, which "crashed" before acknowledging it.
    let opts = redis::streams::StreamReadOptions::default()
        .group("pipeline", "consumer-a")
        .count(10);
    let delivered: redis::streams::StreamReadReply =
        conn.xread_options(&[&stream], &[">"], &opts).await.unwrap();
    assert_eq!(delivered.keys[0].ids.len(), 1);
    let pending: redis::streams::StreamPendingReply =
        conn.xpending(&stream, "pipeline").await.unwrap();
    assert_eq!(pending.count(), 1);

    // Nothing would deliver that entry again to a reader of new entries: only its own
    // consumer, restarted, can finish it.
    let app = spawn_app_with(config, TestDb::new().await).await;
    app.wait_until(|| async { position_of(&app, "豫A30001").await.is_some() })
        .await;
    assert_eq!(position_of(&app, "豫A30001").await, Some((113.61, 34.71)));
    app.wait_until(|| async {
        let p: redis::streams::StreamPendingReply =
            conn.clone().xpending(&stream, "pipeline").await.unwrap();
        p.count() == 0
    })
    .await;
}

#[tokio::test]
async fn an_undecodable_entry_is_dead_lettered_not_dropped() {
    let app = spawn_app().await;
    let stream = format!("{}:events", app.config.redis_prefix);
    let mut conn = redis_conn(&app.config.redis_url).await;
    let _: String = conn
        .xadd(&stream, "*", &[("event", "{\"kind\": \"teleport\"}")])
        .await
        .unwrap();
    app.wait_until(|| async {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pipeline_dead_letters")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        n == 1
    })
    .await;
    let (payload, error): (String, String) =
        sqlx::query_as("SELECT payload, error FROM pipeline_dead_letters")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(payload.contains("teleport"));
    assert!(error.contains("unknown variant"), "{error}");
    // The pipeline goes on.
    app.post_events(
        &json!({"events": [gps("豫A30002", 113.62, 34.72, "2026-11-22T08:00:00+08:00")]}),
    )
    .await;
    app.wait_until(|| async { position_of(&app, "豫A30002").await.is_some() })
        .await;
}

/// A Redis of the test's own, so that it can be stopped.
struct OwnRedis {
    port: u16,
    child: tokio::process::Child,
}

impl OwnRedis {
    async fn start(port: u16) -> Self {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (installed by scripts/setup)");
        for _ in 0..100 {
            if redis::Client::open(format!("redis://127.0.0.1:{port}"))
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .is_ok()
            {
                return Self { port, child };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on {port}");
    }

    async fn stop(mut self) {
        self.child.kill().await.unwrap();
        self.child.wait().await.unwrap();
    }
}

#[tokio::test]
async fn events_accepted_during_a_redis_outage_flow_once_it_is_back() {
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    let config = AppConfig {
        redis_url: format!("redis://127.0.0.1:{port}"),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    app.post_events(
        &json!({"events": [gps("豫A40001", 113.60, 34.70, "2026-11-22T08:00:00+08:00")]}),
    )
    .await;
    app.wait_until(|| async { position_of(&app, "豫A40001").await.is_some() })
        .await;

    redis.stop().await;
    let (status, body) = app
        .post_events(
            &json!({"events": [gps("豫A40001", 113.65, 34.75, "2026-11-22T08:01:00+08:00")]}),
        )
        .await;
    assert_eq!(
        status, 202,
        "accepted means durable in PostgreSQL, Redis or not: {body}"
    );
    let (status, health) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 503);
    assert_eq!(health["stream"]["outbox"], 1);

    let redis = OwnRedis::start(port).await;
    app.wait_until(|| async { position_of(&app, "豫A40001").await == Some((113.65, 34.75)) })
        .await;
    let (status, health) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["stream"]["outbox"], 0);
    assert_eq!(redis.port, port);
}
