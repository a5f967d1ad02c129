//! Observability (issue 19): the Prometheus `/metrics` listener apart from the public port, its
//! series moving as events flow and the gun decides, request ids, and request logs that never
//! hold a query string.

use crate::common::{gps, spawn_app, TestApp};
use serde_json::json;

async fn scrape(app: &TestApp) -> String {
    let port = app
        .metrics_port
        .expect("the test server has a metrics listener");
    let res = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    res.text().await.unwrap()
}

/// The value of the series named exactly `series` (name and labels), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn metrics_move_as_events_flow_and_the_gun_decides() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let before = scrape(&app).await;
    let applied = r#"cylwatch_pipeline_entries_total{outcome="applied"}"#;
    let positions = r#"cylwatch_pipeline_stage_duration_seconds_count{stage="positions"}"#;
    let custody = r#"cylwatch_pipeline_stage_duration_seconds_count{stage="custody"}"#;
    let relayed = "cylwatch_relay_events_total";
    let posted = r#"cylwatch_http_request_duration_seconds_count{route="/api/v1/events",method="POST",status="202"}"#;
    let r00 = r#"cylwatch_authorize_decisions_total{result="refused",rule="R00"}"#;

    let plate = "豫A70001";
    let (status, body) = app
        .post_events(&json!({"events": [
            gps(plate, 113.61, 34.71, "2026-11-22T08:00:00+08:00"),
            gps(plate, 113.62, 34.72, "2026-11-22T08:00:10+08:00"),
        ]}))
        .await;
    assert_eq!(status, 202, "{body}");
    // Applied: the position is there and the events have left the outbox (the consumer
    // deletes their rows just after the stages commit).
    app.wait_until(|| async {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM vehicle_positions WHERE plate = $1) * 10 \
                    + (SELECT count(*) FROM event_outbox)",
        )
        .bind(plate)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        n == 10
    })
    .await;
    let unknown = json!({"tag_id": "NO-SUCH-TAG", "station_code": "ST1", "gun_no": "G1",
                         "medium": "LPG", "staff_no": "S1"});
    let (status, answer) = app.authorize(&controller, unknown).await;
    assert_eq!(status, 200, "{answer}");

    let after = scrape(&app).await;
    assert!(
        value(&after, applied) >= value(&before, applied) + 2.0,
        "{after}"
    );
    assert!(
        value(&after, positions) > value(&before, positions),
        "{after}"
    );
    assert!(value(&after, custody) > value(&before, custody), "{after}");
    assert!(
        value(&after, relayed) >= value(&before, relayed) + 2.0,
        "{after}"
    );
    assert_eq!(
        value(&after, posted),
        value(&before, posted) + 1.0,
        "{after}"
    );
    assert_eq!(value(&after, r00), value(&before, r00) + 1.0, "{after}");
    assert_eq!(value(&after, "cylwatch_outbox_events"), 0.0, "{after}");
    assert_eq!(value(&after, "cylwatch_relay_connected"), 1.0, "{after}");
    assert_eq!(value(&after, "cylwatch_partitions_held"), 1.0, "{after}");
    assert!(
        after.contains("cylwatch_pipeline_lag_seconds_count"),
        "{after}"
    );

    // The public port does not serve them.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = public.text().await.unwrap();
    assert!(!text.contains("cylwatch_"), "metrics on the public port");
}

#[tokio::test]
async fn requests_carry_an_id_and_their_log_lines_hold_no_query_string() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/health?probe=canary-4711"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    let other = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
    app.wait_until(|| async {
        std::fs::read_to_string(&app.log).unwrap().lines().any(|l| {
            l.contains(&id) && l.contains("route=/api/v1/health") && l.contains("status=200")
        })
    })
    .await;
    let log = std::fs::read_to_string(&app.log).unwrap();
    assert!(!log.contains("canary-4711"), "a query string was logged");
}
