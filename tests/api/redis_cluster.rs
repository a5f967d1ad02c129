//! Redis Cluster as the bus (issue 24): three masters on loopback. Each partition's stream,
//! lease and epoch marker share one slot (one master), the partitions spread over the masters,
//! and one master restarted empty loses only its partitions' streams: their epoch markers go
//! with them, so the relay puts what was relayed and not applied on the streams again (with one
//! marker for the whole stream, kept on another master, those events would wait for the
//! five-minute re-relay). The live feed reaches a client although the hub subscribes on a
//! master other than the one its channels' slot is on.

use crate::common::redis_cluster::RedisCluster;
use crate::common::{gps, spawn_app_with, AppConfig, TestDb};
use crate::live::{connect, next_json, until};
use crate::pipeline::{env, position_of, wait_all_positioned};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

const PARTITIONS: usize = 6;
const VEHICLES: u32 = 30;

#[tokio::test]
async fn a_redis_cluster_carries_the_pipeline_and_the_live_feed_and_a_master_restarted_empty_loses_nothing(
) {
    let mut cluster = RedisCluster::start().await;
    let prefix = format!("cw-cluster:{}", uuid::Uuid::new_v4().simple());
    let key = |what: &str, p: usize| format!("{prefix}:{what}:{{{p}}}");
    // The hub subscribes on the first seed node: one that does not hold the live channels'
    // slot, so a message reaches it only over the cluster bus.
    let live_owner = cluster.owner("{live}").await;
    let urls = cluster.urls_from(live_owner + 1);

    // Another consumer holds every partition for now: events reach the streams, none is
    // applied (as when a consumer is slow or gone).
    let seeds: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let client = redis::cluster::ClusterClient::new(seeds).unwrap();
    let mut redis = client.get_async_connection().await.unwrap();
    for p in 0..PARTITIONS {
        let _: () = redis::cmd("SET")
            .arg(key("lease", p))
            .arg("someone-else")
            .arg("PX")
            .arg(600_000)
            .query_async(&mut redis)
            .await
            .unwrap();
    }

    let mut config = AppConfig {
        // Not a Redis: the cluster's seed nodes are used instead.
        redis_url: "redis://127.0.0.1:1".into(),
        redis_prefix: prefix.clone(),
        ..AppConfig::default()
    };
    env(
        &mut config,
        &[
            ("CYLWATCH_REDIS_CLUSTER_URLS", &urls),
            ("CYLWATCH_PIPELINE_PARTITIONS", "6"),
            ("CYLWATCH_PIPELINE_LEASE_MS", "1500"),
        ],
    );
    let app = spawn_app_with(config, TestDb::new().await).await;
    let mut ws = connect(&app).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");

    let plates: Vec<String> = (0..VEHICLES).map(|i| format!("豫C{:05}", 10 + i)).collect();
    let events: Vec<_> = plates
        .iter()
        .zip(0u32..)
        .map(|(plate, i)| {
            let lon = 113.60 + 0.001 * f64::from(i);
            gps(plate, lon, 34.70, "2026-11-22T08:00:00+08:00")
        })
        .collect();
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");

    // Every event on a stream; the streams on more than one master, each partition's names
    // on its stream's master.
    let mut lengths = vec![0u64; PARTITIONS];
    for _ in 0..200 {
        for (p, length) in lengths.iter_mut().enumerate() {
            *length = redis::cmd("XLEN")
                .arg(key("events", p))
                .query_async(&mut redis)
                .await
                .unwrap();
        }
        if lengths.iter().sum::<u64>() >= u64::from(VEHICLES) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        lengths.iter().sum::<u64>(),
        u64::from(VEHICLES),
        "{lengths:?}"
    );
    let mut masters = BTreeSet::new();
    for p in 0..PARTITIONS {
        let owner = cluster.owner(&key("events", p)).await;
        assert_eq!(cluster.owner(&key("lease", p)).await, owner);
        assert_eq!(cluster.owner(&key("epoch", p)).await, owner);
        masters.insert(owner);
    }
    assert!(masters.len() >= 2, "all partitions on one master");
    for plate in &plates {
        assert_eq!(position_of(&app, plate).await, None, "applied while held");
    }

    // The master holding the most entries restarts empty, then the other consumer lets go.
    let mut by_master = vec![0u64; cluster.ports.len()];
    for (p, length) in lengths.iter().enumerate() {
        by_master[cluster.owner(&key("events", p)).await] += length;
    }
    let victim = (0..by_master.len()).max_by_key(|&m| by_master[m]).unwrap();
    assert!(by_master[victim] > 0);
    let before_restart = chrono::Utc::now().to_rfc3339();
    cluster.restart_empty(victim).await;
    for p in 0..PARTITIONS {
        let _: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(key("lease", p))
            .query_async(&mut redis)
            .await;
    }
    // Every vehicle applied, the lost partitions' events relayed again from the outbox; the
    // live feed carries them.
    wait_all_positioned(&app, &plates).await;
    // The restarted master's partitions were marked anew (their loss seen), the others not.
    for p in 0..PARTITIONS {
        let marked: String = redis::cmd("GET")
            .arg(key("epoch", p))
            .query_async(&mut redis)
            .await
            .unwrap();
        let anew = marked > before_restart;
        let on_victim = cluster.owner(&key("events", p)).await == victim;
        assert_eq!(anew, on_victim, "partition {p}'s epoch marker: {marked}");
    }
    let vehicle = until(&mut ws, |m| m["type"] == "vehicle").await;
    assert!(plates.contains(&vehicle["plate"].as_str().unwrap().to_owned()));

    // Health reads the cluster: the version of its masters, the streams summed.
    let (status, health) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["redis"]["ok"], true, "{health}");
    assert!(
        health["redis"]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with('7')),
        "{health}"
    );
}
