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

/// Puts `event` on the stream and delivers it to `consumer` of the pipeline's group, which
/// never acknowledges it (a consumer that "crashed"): the entry is pending on that consumer.
async fn leave_pending(url: &str, stream: &str, consumer: &str, event: &serde_json::Value) {
    let mut conn = redis_conn(url).await;
    let _: () = conn
        .xgroup_create_mkstream(stream, "pipeline", "0")
        .await
        .unwrap();
    let _: String = conn
        .xadd(stream, "*", &[("event", event.to_string())])
        .await
        .unwrap();
    let opts = redis::streams::StreamReadOptions::default()
        .group("pipeline", consumer)
        .count(10);
    let delivered: redis::streams::StreamReadReply =
        conn.xread_options(&[stream], &[">"], &opts).await.unwrap();
    assert_eq!(delivered.keys[0].ids.len(), 1);
}

pub(crate) async fn position_of(app: &TestApp, plate: &str) -> Option<(f64, f64)> {
    sqlx::query_as("SELECT ST_X(location), ST_Y(location) FROM vehicle_positions WHERE plate = $1")
        .bind(plate)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap()
}

/// Waits until every one of `plates` has a position.
pub(crate) async fn wait_all_positioned(app: &TestApp, plates: &[String]) {
    app.wait_until(|| async {
        let mut all = true;
        for plate in plates {
            all &= position_of(app, plate).await.is_some();
        }
        all
    })
    .await;
}

#[tokio::test]
async fn a_restarted_consumer_finishes_its_pending_entries_first() {
    let config = AppConfig {
        instance_id: "consumer-a".into(),
        ..AppConfig::default()
    };
    let stream = format!("{}:events:{{0}}", config.redis_prefix);
    let mut conn = redis_conn(&config.redis_url).await;
    let event = json!({"kind": "gps", "id": uuid::Uuid::new_v4(), "occurred_at": "2026-11-22T08:00:00+08:00",
                       "vehicle_plate": "豫A30001", "lon": 113.61, "lat": 34.71});
    leave_pending(&config.redis_url, &stream, "consumer-a", &event).await;
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

/// An entry whose writing enterprise is no enterprise code (only a hand-made entry can be) is
/// dead-lettered, never applied with a made-up owner.
#[tokio::test]
async fn an_entry_naming_no_valid_enterprise_is_dead_lettered() {
    let app = spawn_app().await;
    let stream = format!("{}:events:{{0}}", app.config.redis_prefix);
    let mut conn = redis_conn(&app.config.redis_url).await;
    let event = gps("豫A30003", 113.62, 34.72, "2026-11-22T08:00:00+08:00").to_string();
    let _: String = conn
        .xadd(
            &stream,
            "*",
            &[("event", event.as_str()), ("enterprise", "not a code!")],
        )
        .await
        .unwrap();
    app.wait_until(|| async { dead_letters(&app).await.len() == 1 })
        .await;
    let (payload, error) = dead_letters(&app).await.remove(0);
    assert!(payload.contains("豫A30003"), "{payload}");
    assert!(error.contains("enterprise \"not a code!\""), "{error}");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM vehicle_positions WHERE plate = '豫A30003'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(applied, 0);
}

#[tokio::test]
async fn an_undecodable_entry_is_dead_lettered_not_dropped() {
    let app = spawn_app().await;
    let stream = format!("{}:events:{{0}}", app.config.redis_prefix);
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
pub(crate) struct OwnRedis {
    pub(crate) port: u16,
    child: tokio::process::Child,
}

impl OwnRedis {
    pub(crate) async fn start(port: u16) -> Self {
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

    pub(crate) async fn stop(mut self) {
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

pub(crate) fn env(config: &mut AppConfig, pairs: &[(&str, &str)]) {
    for (k, v) in pairs {
        config.env.push(((*k).to_owned(), (*v).to_owned()));
    }
}

async fn dead_letters(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT payload, error FROM pipeline_dead_letters ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

async fn pending(url: &str, stream: &str) -> usize {
    let p: redis::streams::StreamPendingReply = redis_conn(url)
        .await
        .xpending(stream, "pipeline")
        .await
        .unwrap();
    p.count()
}

/// PostgreSQL refuses one vehicle's position (a fault injected as a CHECK constraint): its
/// entry is tried `pipeline_max_attempts` times, then dead-lettered with the error; the other
/// entries of its batch and later ones go through.
#[tokio::test]
async fn a_poison_entry_is_retried_then_dead_lettered_and_holds_nothing_up() {
    let mut config = AppConfig::default();
    env(&mut config, &[("CYLWATCH_PIPELINE_MAX_ATTEMPTS", "3")]);
    let app = spawn_app_with(config, TestDb::new().await).await;
    sqlx::query(
        "ALTER TABLE vehicle_positions ADD CONSTRAINT injected_fault CHECK (plate <> '豫A99999')",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let at = "2026-11-22T08:00:00+08:00";
    let (status, body) = app
        .post_events(&json!({"events": [gps("豫A99999", 113.6, 34.7, at), gps("豫A30020", 113.61, 34.71, at)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async { dead_letters(&app).await.len() == 1 })
        .await;
    let (payload, error) = dead_letters(&app).await.remove(0);
    assert!(payload.contains("豫A99999"), "{payload}");
    assert!(error.contains("injected_fault"), "{error}");
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM pipeline_failures")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(position_of(&app, "豫A30020").await, Some((113.61, 34.71)));
    assert_eq!(position_of(&app, "豫A99999").await, None);
    let stream = format!("{}:events:{{0}}", app.config.redis_prefix);
    app.wait_until(|| async { pending(&app.config.redis_url, &stream).await == 0 })
        .await;
    // The pipeline goes on; the dead letter is written once.
    app.post_events(&json!({"events": [gps("豫A30021", 113.62, 34.72, at)]}))
        .await;
    app.wait_until(|| async { position_of(&app, "豫A30021").await.is_some() })
        .await;
    assert_eq!(dead_letters(&app).await.len(), 1);
}

/// While an entry keeps failing it stays pending and is retried, later entries go through, and
/// trimming removes processed entries but never the pending one; once the fault is gone it is
/// processed and trimmed too.
#[tokio::test]
async fn trimming_keeps_pending_entries_and_retries_go_on_until_the_fault_is_gone() {
    let mut config = AppConfig::default();
    env(
        &mut config,
        &[
            ("CYLWATCH_PIPELINE_MAX_ATTEMPTS", "100000"),
            ("CYLWATCH_PIPELINE_TRIM_EVERY_S", "1"),
        ],
    );
    let app = spawn_app_with(config, TestDb::new().await).await;
    let stream = format!("{}:events:{{0}}", app.config.redis_prefix);
    let mut conn = redis_conn(&app.config.redis_url).await;
    sqlx::query(
        "ALTER TABLE vehicle_positions ADD CONSTRAINT injected_fault CHECK (plate <> '豫A99998')",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let at = "2026-11-22T08:00:00+08:00";
    let fixes = |from: usize, n: usize| -> Vec<serde_json::Value> {
        (from..from + n)
            .map(|i| gps(&format!("豫A31{i:03}"), 113.6, 34.7, at))
            .collect()
    };
    // Five processed entries, then the failing one, then twenty more.
    app.post_events(&json!({"events": fixes(0, 5)})).await;
    app.wait_until(|| async { position_of(&app, "豫A31004").await.is_some() })
        .await;
    app.post_events(&json!({"events": [gps("豫A99998", 113.6, 34.7, at)]}))
        .await;
    app.post_events(&json!({"events": fixes(5, 20)})).await;
    app.wait_until(|| async { position_of(&app, "豫A31024").await.is_some() })
        .await;
    // The five before it are trimmed; the failing entry and everything after it stay.
    app.wait_until(|| async {
        let first: redis::streams::StreamRangeReply = conn
            .clone()
            .xrange_count(&stream, "-", "+", 1)
            .await
            .unwrap();
        first.ids[0]
            .get::<String>("event")
            .is_some_and(|e| e.contains("豫A99998"))
    })
    .await;
    let len: usize = conn.xlen(&stream).await.unwrap();
    assert_eq!(len, 21);
    assert_eq!(pending(&app.config.redis_url, &stream).await, 1);
    // Retried, again and again (a loaded machine may not have come to the second attempt
    // by the time the stream was trimmed).
    app.wait_until(|| async {
        let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM pipeline_failures")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        attempts >= 2
    })
    .await;
    assert_eq!(pending(&app.config.redis_url, &stream).await, 1);

    // The fault is repaired: the entry goes through and the stream is trimmed behind it.
    sqlx::query("ALTER TABLE vehicle_positions DROP CONSTRAINT injected_fault")
        .execute(&app.db.pool)
        .await
        .unwrap();
    app.wait_until(|| async { position_of(&app, "豫A99998").await.is_some() })
        .await;
    app.wait_until(|| async {
        let len: usize = conn.clone().xlen(&stream).await.unwrap();
        len <= 1
    })
    .await;
    assert_eq!(pending(&app.config.redis_url, &stream).await, 0);
    assert!(dead_letters(&app).await.is_empty());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pipeline_failures")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "a success clears the failures");
}

/// An instance that died with entries pending: another instance claims them once they have
/// been idle for `pipeline_claim_idle_s`, and processes each once.
#[tokio::test]
async fn a_dead_consumers_pending_entries_are_claimed_by_another() {
    let mut config = AppConfig {
        instance_id: "consumer-b".into(),
        ..AppConfig::default()
    };
    env(&mut config, &[("CYLWATCH_PIPELINE_CLAIM_IDLE_S", "1")]);
    let stream = format!("{}:events:{{0}}", config.redis_prefix);
    let mut conn = redis_conn(&config.redis_url).await;
    let event = gps("豫A30030", 113.63, 34.73, "2026-11-22T08:00:00+08:00");
    leave_pending(&config.redis_url, &stream, "consumer-dead", &event).await;

    let app = spawn_app_with(config, TestDb::new().await).await;
    app.wait_until(|| async { position_of(&app, "豫A30030").await.is_some() })
        .await;
    app.wait_until(|| async { pending(&app.config.redis_url, &stream).await == 0 })
        .await;
    // Processed once: one position row, one event row... and the dead consumer owns nothing.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM vehicle_positions")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let consumers: redis::streams::StreamInfoConsumersReply =
        conn.xinfo_consumers(&stream, "pipeline").await.unwrap();
    let dead = consumers
        .consumers
        .iter()
        .find(|c| c.name == "consumer-dead")
        .map(|c| c.pending);
    assert_eq!(dead, Some(0));
}

/// A server killed (SIGKILL) while the pipeline has entries pending and in the outbox: after a
/// restart every event is processed exactly once in effect — one history row per scan, each
/// vehicle at its newest fix, no dead letter, nothing pending.
#[tokio::test]
async fn a_killed_server_finishes_its_work_after_a_restart_exactly_once_in_effect() {
    let app = spawn_app().await;
    app.seed_registry().await;
    for i in 0..50 {
        let (status, body) = app
            .post_json(
                "/api/v1/cylinders",
                &crate::common::archive(&format!("KC{i}"), &format!("KT{i}")),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // Ten batches of 1,000: 40 vehicles × 240 fixes and 400 scans, sent back to back.
    let mut newest = std::collections::HashMap::new();
    for batch in 0..10 {
        let mut events = Vec::new();
        for k in 0..960 {
            let n = batch * 960 + k;
            let plate = format!("豫K{:05}", n % 40);
            let lon = 113.5 + f64::from(n) * 1e-5;
            let at = chrono::DateTime::from_timestamp(1_795_000_000 + i64::from(n), 0)
                .unwrap()
                .to_rfc3339();
            newest.insert(plate.clone(), lon);
            events.push(gps(&plate, lon, 34.7, &at));
        }
        for k in 0..40 {
            let n = batch * 40 + k;
            let at = chrono::DateTime::from_timestamp(1_795_000_000 + i64::from(n) * 60, 0)
                .unwrap()
                .to_rfc3339();
            let op = if n % 2 == 0 { "load" } else { "return_in" };
            let extra = if op == "load" {
                json!({"station_code": "ST1", "vehicle_plate": "豫K00000"})
            } else {
                json!({"station_code": "ST1"})
            };
            events.push(crate::common::scan(
                op,
                &format!("KC{}", n % 50),
                &at,
                extra,
            ));
        }
        let (status, body) = app.post_events(&json!({ "events": events })).await;
        assert_eq!((status, &body["accepted"]), (202, &json!(1000)), "{body}");
    }
    let stream = format!("{}:events:{{0}}", app.config.redis_prefix);
    let app = app.kill_and_restart().await;
    // There was work left at the kill (in the outbox, on the stream or pending) for the
    // restarted server to do...
    let scans_done: i64 = sqlx::query_scalar("SELECT count(*) FROM cylinder_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(
        scans_done < 400,
        "all work was done before the kill: {scans_done}"
    );
    // ...and it does it, once.
    app.wait_until(|| async {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM cylinder_events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM event_outbox")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        rows >= 400 && outbox == 0 && pending(&app.config.redis_url, &stream).await == 0
    })
    .await;
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM cylinder_events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((rows, distinct), (400, 400));
    for (plate, lon) in &newest {
        assert_eq!(
            position_of(&app, plate).await,
            Some((*lon, 34.7)),
            "{plate}"
        );
    }
    assert!(dead_letters(&app).await.is_empty());
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(events, 10_000);
}

/// The lease holders of the stream's partitions, in partition order.
pub(crate) async fn lease_holders(
    url: &str,
    prefix: &str,
    partitions: usize,
) -> Vec<Option<String>> {
    let mut conn = redis_conn(url).await;
    let mut holders = Vec::new();
    for p in 0..partitions {
        holders.push(conn.get(format!("{prefix}:lease:{{{p}}}")).await.unwrap());
    }
    holders
}

/// Two instances share the pipeline: the stream's partitions are split between them by lease,
/// each vehicle's fixes — posted through either instance, one after the other — go through the
/// stages in order (every enter and exit derived, in order), and when one instance dies the
/// other takes its partitions over and goes on.
#[tokio::test]
async fn two_instances_split_the_partitions_and_keep_each_vehicles_order() {
    let mut config = AppConfig {
        instance_id: "inst-a".into(),
        ..AppConfig::default()
    };
    env(
        &mut config,
        &[
            ("CYLWATCH_PIPELINE_PARTITIONS", "4"),
            ("CYLWATCH_PIPELINE_LEASE_MS", "1500"),
            ("CYLWATCH_FENCE_RELOAD_S", "1"),
        ],
    );
    let prefix = config.redis_prefix.clone();
    let redis_url = config.redis_url.clone();
    let a = spawn_app_with(config.clone(), TestDb::new().await).await;
    let zone = json!({"name": "禁行区", "kind": "restricted", "geometry": {"type": "Polygon",
        "coordinates": [[[113.60, 34.70], [113.62, 34.70], [113.62, 34.72], [113.60, 34.72], [113.60, 34.70]]]}});
    let (status, body) = a.post_json("/api/v1/geofences", &zone).await;
    assert_eq!(status, 201, "{body}");
    let b_config = AppConfig {
        instance_id: "inst-b".into(),
        ..config
    };
    let shared_db = TestDb {
        name: a.db.name.clone(),
        url: a.db.url.clone(),
        pool: a.db.pool.clone(),
    };
    let b = spawn_app_with(b_config, shared_db).await;
    // Within a few lease rounds each holds two of the four partitions.
    a.wait_until(|| async {
        let holders = lease_holders(&redis_url, &prefix, 4).await;
        let of = |name: &str| {
            holders
                .iter()
                .filter(|h| h.as_deref() == Some(name))
                .count()
        };
        of("inst-a") == 2 && of("inst-b") == 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the fence is in both indexes

    // Eight vehicles, each in and out of the zone three times, every fix through the other
    // instance than the one before; the vehicles side by side.
    let t0 = chrono::Utc::now() - chrono::Duration::minutes(30);
    let plates: Vec<String> = (0..8).map(|i| format!("豫A4{i:04}")).collect();
    let fix = |plate: &str, step: i64| {
        let lon = if step % 2 == 1 { 113.61 } else { 113.65 };
        let at = (t0 + chrono::Duration::seconds(10 * step)).to_rfc3339();
        gps(plate, lon, 34.71, &at)
    };
    let drive = |plate: String| {
        let (a, b, fix) = (&a, &b, &fix);
        async move {
            for step in 0..7 {
                let app = if step % 2 == 0 { a } else { b };
                let (status, body) = app
                    .post_events(&json!({"events": [fix(&plate, step)]}))
                    .await;
                assert_eq!(status, 202, "{body}");
            }
        }
    };
    futures_util::future::join_all(plates.iter().map(|p| drive(p.clone()))).await;
    let transitions = |plate: String| {
        let pool = b.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT kind FROM fence_transitions WHERE plate = $1 ORDER BY occurred_at",
            )
            .bind(plate)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let in_and_out = |times: usize| -> Vec<String> {
        (0..times)
            .flat_map(|_| ["enter".to_owned(), "exit".to_owned()])
            .collect()
    };
    for plate in &plates {
        b.wait_until(|| async { transitions(plate.clone()).await.len() >= 6 })
            .await;
        assert_eq!(transitions(plate.clone()).await, in_and_out(3), "{plate}");
    }
    // Both instances did part of the work.
    let mut conn = redis_conn(&redis_url).await;
    let mut consumers = std::collections::BTreeSet::new();
    for p in 0..4 {
        let info: redis::streams::StreamInfoConsumersReply = conn
            .xinfo_consumers(format!("{prefix}:events:{{{p}}}"), "pipeline")
            .await
            .unwrap();
        consumers.extend(info.consumers.into_iter().map(|c| c.name));
    }
    assert!(
        consumers.contains("inst-a") && consumers.contains("inst-b"),
        "{consumers:?}"
    );

    // Instance A dies: B takes its partitions over once their leases lapse, and goes on.
    let (_, a_db) = a.kill().await;
    std::mem::forget(a_db); // the database is B's too; B's drops it
    b.wait_until(|| async {
        lease_holders(&redis_url, &prefix, 4)
            .await
            .iter()
            .all(|h| h.as_deref() == Some("inst-b"))
    })
    .await;
    let drive_b = |plate: String| {
        let (b, fix) = (&b, &fix);
        async move {
            for step in 7..9 {
                let (status, body) = b.post_events(&json!({"events": [fix(&plate, step)]})).await;
                assert_eq!(status, 202, "{body}");
            }
        }
    };
    futures_util::future::join_all(plates.iter().map(|p| drive_b(p.clone()))).await;
    for plate in &plates {
        b.wait_until(|| async { transitions(plate.clone()).await.len() >= 8 })
            .await;
        assert_eq!(transitions(plate.clone()).await, in_and_out(4), "{plate}");
    }
}

/// A backlog is not a loss: events relayed long ago and not applied because no consumer has
/// read them yet are not put on the stream again (the fault suite's hour: relaying the
/// backlog again every minute fed it, and the pipeline never caught up). Once the consumers
/// have read everything, an event still not applied was lost, and is relayed again.
#[tokio::test]
async fn a_backlog_is_not_relayed_again_but_a_lost_entry_is() {
    let mut config = AppConfig::default();
    env(
        &mut config,
        &[
            ("CYLWATCH_PIPELINE_RELAY_AGAIN_S", "1"),
            ("CYLWATCH_PIPELINE_LEASE_MS", "1500"),
        ],
    );
    let stream = format!("{}:events:{{0}}", config.redis_prefix);
    let lease = format!("{}:lease:{{0}}", config.redis_prefix);
    let mut conn = redis_conn(&config.redis_url).await;
    // Another consumer holds the only partition: the events wait on the stream.
    let _: () = redis::cmd("SET")
        .arg(&lease)
        .arg("someone-else")
        .arg("PX")
        .arg(600_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let app = spawn_app_with(config, TestDb::new().await).await;
    let plates: Vec<String> = (0..20).map(|i| format!("豫B{:05}", 500 + i)).collect();
    let events: Vec<_> = plates
        .iter()
        .map(|p| gps(p, 113.61, 34.71, "2026-11-22T08:00:00+08:00"))
        .collect();
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    let mut length = 0u64;
    for _ in 0..100 {
        length = conn.xlen(&stream).await.unwrap();
        if length >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(length, 20);
    // Relayed over a second ago, not applied, looked at every 200 ms: waiting, not lost.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        conn.xlen::<_, u64>(&stream).await.unwrap(),
        20,
        "the backlog was relayed again"
    );
    assert_eq!(position_of(&app, &plates[0]).await, None);

    // The stream is lost (its epoch marker kept), then the consumer may read: nothing is
    // there to read, so what is not applied is relayed again and applied.
    let _: () = conn.del(&stream).await.unwrap();
    let _: () = conn.del(&lease).await.unwrap();
    wait_all_positioned(&app, &plates).await;
}
