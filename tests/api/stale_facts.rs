//! Issue 20 item 8: a decision never uses facts older than what was acknowledged, and an
//! acknowledged event is applied even when Redis loses the stream it was relayed to.

use crate::common::{free_port, gps, spawn_app_with, AppConfig, TestApp, TestDb};
use crate::filling::{ask, check, cylinder, rules};
use crate::pipeline::{position_of, OwnRedis};
use chrono::Utc;
use serde_json::json;

async fn outbox(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM event_outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Redis stopped: a `fill` scan (by tag) and a passed pre-fill check are acknowledged and not
/// applied; the gun is refused with E02 (the stale facts would have allowed the first); once
/// Redis is back and they are applied, each cylinder is judged on its fresh facts.
#[tokio::test]
async fn events_acknowledged_and_not_applied_refuse_the_gun_with_e02() {
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    let config = AppConfig {
        redis_url: format!("redis://127.0.0.1:{port}"),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "STALE1", "ST1", json!({})).await;
    cylinder(&app, "STALE2", "ST1", json!({})).await;
    let now = Utc::now().to_rfc3339();
    let (status, body) = app
        .post_events(&json!({"events": [check("STALE1", "pre", true, &now)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        let (_, a) = app
            .authorize(&controller, ask("STALE1", "ST1", "LPG"))
            .await;
        a["allowed"] == true
    })
    .await;
    let (_, answer) = app
        .authorize(&controller, ask("STALE2", "ST1", "LPG"))
        .await;
    assert_eq!(rules(&answer), ["R10"], "no pre-fill check yet: {answer}");

    redis.stop().await;
    let (status, body) = app
        .post_events(&json!({"events": [
            json!({"id": uuid::Uuid::new_v4(), "kind": "scan", "op": "fill",
                   "tag_id": "T-STALE1", "station_code": "ST1", "occurred_at": now}),
            check("STALE2", "pre", true, &now),
        ]}))
        .await;
    assert_eq!((status, &body["rejected"]), (202, &json!([])), "{body}");
    for code in ["STALE1", "STALE2"] {
        let (status, answer) = app.authorize(&controller, ask(code, "ST1", "LPG")).await;
        assert_eq!(status, 200);
        assert_eq!(answer["allowed"], false, "{code}: {answer}");
        assert_eq!(rules(&answer), ["E02"], "{code}: {answer}");
    }

    let _redis = OwnRedis::start(port).await;
    app.wait_until(|| async { outbox(&app).await == 0 }).await;
    let (_, answer) = app
        .authorize(&controller, ask("STALE1", "ST1", "LPG"))
        .await;
    assert!(
        rules(&answer).contains(&"R08".to_owned()),
        "filled just now, the fresh facts refuse it: {answer}"
    );
    let (_, answer) = app
        .authorize(&controller, ask("STALE2", "ST1", "LPG"))
        .await;
    assert_eq!(answer["allowed"], true, "its check applied: {answer}");
}

/// An event relayed to Redis and not yet applied (its stage fails: a fault injected as a CHECK
/// constraint) when Redis restarts empty is relayed again and applied once the fault is gone:
/// the outbox, not the lost stream, held it.
#[tokio::test]
async fn an_event_relayed_to_a_redis_that_restarts_empty_is_still_applied() {
    let port = free_port();
    let redis = OwnRedis::start(port).await;
    let mut config = AppConfig {
        redis_url: format!("redis://127.0.0.1:{port}"),
        ..AppConfig::default()
    };
    config
        .env
        .push(("CYLWATCH_PIPELINE_MAX_ATTEMPTS".into(), "1000".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    sqlx::query(
        "ALTER TABLE vehicle_positions ADD CONSTRAINT injected_fault CHECK (plate <> '豫A77777')",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (status, body) = app
        .post_events(
            &json!({"events": [gps("豫A77777", 113.6, 34.7, "2026-12-06T08:00:00+08:00")]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    // On the stream, failing in its stage, so not applied.
    app.wait_until(|| async {
        let relayed: Option<bool> =
            sqlx::query_scalar("SELECT relayed_at IS NOT NULL FROM event_outbox")
                .fetch_optional(&app.db.pool)
                .await
                .unwrap();
        relayed == Some(true)
    })
    .await;
    let failures: i64 = sqlx::query_scalar("SELECT count(*) FROM pipeline_failures")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(failures >= 1 || position_of(&app, "豫A77777").await.is_none());

    redis.stop().await;
    let _redis = OwnRedis::start(port).await;
    sqlx::query("ALTER TABLE vehicle_positions DROP CONSTRAINT injected_fault")
        .execute(&app.db.pool)
        .await
        .unwrap();
    app.wait_until(|| async { position_of(&app, "豫A77777").await == Some((113.6, 34.7)) })
        .await;
    app.wait_until(|| async { outbox(&app).await == 0 }).await;
}
