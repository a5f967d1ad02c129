//! Lists and history reads on a streaming replica (issue 24, `database_replica_url`): a real
//! primary and a real hot standby of the test's own. Reads go to the replica while its lag is
//! within the bound; when it lags (replay paused) or is gone they fall back to the primary;
//! statistics stay on the primary throughout.

use crate::common::pg_cluster::PgCluster;
use crate::common::{spawn_app_with, AppConfig, TestApp, TestDb};
use crate::filling::cylinder;
use serde_json::{json, Value};
use sqlx::{Executor, PgPool};
use uuid::Uuid;

async fn health(app: &TestApp) -> Value {
    app.get_json("/api/v1/health").await.1
}

async fn listed(app: &TestApp, code: &str) -> bool {
    let (status, page) = app.get_json("/api/v1/cylinders?limit=500").await;
    assert_eq!(status, 200, "{page}");
    has(&page, code)
}

fn has(page: &Value, code: &str) -> bool {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == code)
}

async fn total(app: &TestApp) -> i64 {
    let (status, figures) = app.get_json("/api/v1/stats/inventory").await;
    assert_eq!(status, 200, "{figures}");
    figures["total"]["total"]
        .as_i64()
        .unwrap_or_else(|| panic!("{figures}"))
}

#[tokio::test]
async fn lists_read_a_fresh_replica_and_fall_back_to_the_primary_when_it_lags_or_dies() {
    // A name of the test's own (the shared cluster has no such database: TestDb's drop at
    // the end is a no-op there).
    let name = format!("cylwatch_test_replica_{}", Uuid::new_v4().simple());
    let primary = PgCluster::primary(&name).await;
    let replica = PgCluster::replica_of(&primary).await;
    let pool = PgPool::connect(&primary.url(&name)).await.unwrap();
    let db = TestDb {
        name: name.clone(),
        url: primary.url(&name),
        pool,
    };
    let mut config = AppConfig::default();
    config.env.extend([
        (
            "CYLWATCH_DATABASE_REPLICA_URL".to_owned(),
            replica.url(&name),
        ),
        (
            "CYLWATCH_DATABASE_REPLICA_MAX_LAG_MS".to_owned(),
            "3000".to_owned(),
        ),
        (
            "CYLWATCH_DATABASE_MAX_CONNECTIONS".to_owned(),
            "8".to_owned(),
        ),
    ]);
    let app = spawn_app_with(config, db).await;
    app.seed_registry().await;
    cylinder(&app, "RP-1", "ST1", json!({})).await;
    app.wait_until(|| async { health(&app).await["replica"]["serving_reads"] == true })
        .await;
    app.wait_until(|| async { listed(&app, "RP-1").await })
        .await;

    // Replay paused: a cylinder registered now is counted at once (statistics read the
    // primary) but missing from the list (read on the replica) until the replica's lag passes
    // the bound; then the list reads the primary and shows it.
    let standby = PgPool::connect(&replica.url(&name)).await.unwrap();
    standby
        .execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let before = total(&app).await;
    cylinder(&app, "RP-2", "ST1", json!({})).await;
    assert_eq!(total(&app).await, before + 1);
    assert!(
        !listed(&app, "RP-2").await,
        "the list did not read the paused replica"
    );
    app.wait_until(|| async { listed(&app, "RP-2").await })
        .await;
    let report = health(&app).await;
    assert_eq!(report["replica"]["serving_reads"], false, "{report}");
    assert_eq!(report["status"], "ok", "{report}");

    // Replay resumed: the replica catches up and serves the reads again.
    standby
        .execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    app.wait_until(|| async { health(&app).await["replica"]["serving_reads"] == true })
        .await;
    assert!(listed(&app, "RP-2").await);
    let (status, history) = app.get_json("/api/v1/cylinders/RP-2/history").await;
    assert_eq!(status, 200, "{history}");

    // The replica dies: once the watcher notices (a round or two; a read caught in between
    // answers 503, retry), the reads go to the primary.
    standby.close().await;
    replica.kill().await;
    cylinder(&app, "RP-3", "ST1", json!({})).await;
    app.wait_until(|| async {
        let (status, page) = app.get_json("/api/v1/cylinders?limit=500").await;
        assert!(status == 200 || status == 503, "{page}");
        status == 200 && has(&page, "RP-3")
    })
    .await;
    let report = health(&app).await;
    assert_eq!(report["replica"]["serving_reads"], false, "{report}");
    assert!(report["replica"]["lag_ms"].is_null(), "{report}");
    let (status, history) = app.get_json("/api/v1/cylinders/RP-3/history").await;
    assert_eq!(status, 200, "{history}");
    drop(app);
    primary.kill().await;
}
