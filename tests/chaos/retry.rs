//! A filling record sent again — what a gun does when its answer was lost to a killed server
//! or a cut connection — is kept once (found building the fault suite: it was kept twice, with
//! two history rows, counted twice). Deterministic: the lost answer is the same body sent twice.

use crate::cluster::Cluster;
use crate::workload::{cylinder_code, registry, Api, Plan, STATION};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filling_record_sent_again_is_kept_once_and_answered_alike() {
    let cluster = Cluster::start(vec![]).await;
    let pool = sqlx::PgPool::connect(&cluster.direct_url()).await.unwrap();
    let mut api = Api::new(cluster.base());
    api.login().await;
    let plan = Plan {
        vehicles: 1,
        cylinders: 1,
        gun_cylinders: 0,
        customers: 1,
        illegal_tags: 0,
        gps_devices: 0,
        mqtt_gps: 0,
        jt808_vehicles: 0,
        scan_devices: 0,
        controllers: 0,
        batch: 1,
        rate: 1.0,
        max_events: 0,
        duration: Duration::ZERO,
    };
    registry(&api, &plan).await;
    let gun = api.device("controller", Some(STATION)).await;
    let ended = chrono::Utc::now();
    // Overfilled (net 15.0 kg over 14.5): its alert must count once too.
    let body = json!({"cylinder_code": cylinder_code(0), "station_code": STATION,
        "licence_no": "豫充-001", "gun_no": "G1", "staff_no": "S1", "staff_name": "陈荣华",
        "started_at": (ended - chrono::Duration::seconds(90)).to_rfc3339(),
        "ended_at": ended.to_rfc3339(), "mass_before_kg": 16.4, "mass_after_kg": 31.4});
    let key = ("x-device-key", gun.as_str());
    let (status, first) = api.post("/api/v1/fillings", &body, key).await.unwrap();
    assert_eq!(status, 201, "{first}");
    let (status, again) = api.post("/api/v1/fillings", &body, key).await.unwrap();
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        again["id"], first["id"],
        "the repeat is answered with the first record"
    );
    assert_eq!(again["flags"], first["flags"]);
    assert_eq!(first["flags"], json!(["overfill"]));
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM fillings").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM cylinder_events WHERE kind = 'filling'").await,
        1
    );
    assert_eq!(
        count("SELECT coalesce(sum(count), 0)::bigint FROM alerts WHERE kind = 'overfill'").await,
        1
    );
    // Another end is another filling.
    let mut other = body.clone();
    other["ended_at"] = json!((ended + chrono::Duration::seconds(1)).to_rfc3339());
    let (status, next) = api.post("/api/v1/fillings", &other, key).await.unwrap();
    assert_eq!(status, 201, "{next}");
    assert_ne!(next["id"], first["id"]);
    assert_eq!(count("SELECT count(*) FROM fillings").await, 2);
}
