use crate::common::{spawn_app, spawn_app_with, AppConfig, TestDb};

#[tokio::test]
async fn health_reports_postgres_postgis_and_redis() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert!(
        body["postgres"]["version"]
            .as_str()
            .unwrap()
            .starts_with("15"),
        "{body}"
    );
    assert!(
        body["postgis"]["version"]
            .as_str()
            .unwrap()
            .starts_with('3'),
        "{body}"
    );
    assert_eq!(body["redis"]["ok"], true);
    assert_eq!(body["stream"]["outbox"], 0);
}

#[tokio::test]
async fn health_is_503_when_redis_is_down_but_ingest_still_commits() {
    let config = AppConfig {
        redis_url: "redis://127.0.0.1:1".into(),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["redis"]["ok"], false);
    assert!(body["redis"]["error"].is_string());
    assert_eq!(body["postgres"]["ok"], true);
    // The load balancer's check asks PostgreSQL only: this instance stays in.
    let (status, body) = app.get_json("/api/v1/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");

    // PostgreSQL is the truth: the event is durable and waits in the outbox.
    let (status, answer) = app
        .post_events(&serde_json::json!({"events": [crate::common::gps("豫A00001", 113.6, 34.7, "2026-11-22T08:00:00+08:00")]}))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(app.event_count().await, 1);
    let (_, body) = app.get_json("/api/v1/health").await;
    assert_eq!(body["stream"]["outbox"], 1);
}
