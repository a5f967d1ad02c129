//! The simulated city (issue 8): a short simulated hour, run as fast as possible against the
//! real server, then the platform's figures against the simulator's own ground truth: the
//! inventory per medium, every injected anomaly found as its alert, no alert without a cause.
//! The vehicles report over the JT/T 808 gateway (`--transport jt808`), as in the demo.

use crate::common::{spawn_app_with, workspace, AppConfig, TestDb, ADMIN_PASSWORD, ADMIN_USER};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A device silent this long (wall clock) raises `device_silent`.
const SILENT_S: u32 = 20;

#[tokio::test]
async fn a_simulated_hour_matches_the_ground_truth() {
    let config = AppConfig {
        env: vec![
            // Real tracks: the GPS plausibility filters stay on.
            ("CYLWATCH_GPS_FILTERS".into(), "true".into()),
            // The hour is simulated in the past: its records are up to an hour late by
            // construction; an injected late record is three hours late.
            ("CYLWATCH_LATE_FILLING_S".into(), "7200".into()),
            ("CYLWATCH_DEVICE_SILENT_S".into(), format!("{SILENT_S}")),
            ("CYLWATCH_LOOKOUT_EVERY_S".into(), "2".into()),
            // The vehicles report over JT/T 808, as in the demo (issue 23).
            ("CYLWATCH_JT808_ADDR".into(), "127.0.0.1:0".into()),
        ],
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    let ledger_path = crate::common::output_dir().join(format!("{}-ledger.json", app.db.name));
    let run = tokio::process::Command::new(crate::common::sim_binary())
        .args(["simulate", "--api", &app.base, "--admin-user", ADMIN_USER])
        .args(["--admin-password", ADMIN_PASSWORD, "--seed", "8"])
        .args(["--enterprises", "6", "--stations", "12", "--vehicles", "18"])
        .args([
            "--customers",
            "300",
            "--cylinders",
            "1500",
            "--duration-s",
            "3600",
        ])
        .args([
            "--speed",
            "0",
            "--anomaly-every-s",
            "40",
            "--late-record-s",
            "10800",
            // One cylinder set aside per kind (two fit ones): the hour uses them up, so the
            // kinds that need one go on with cylinders bought on the way.
            "--reserve",
            "1",
            // A leak reported by phone (issue 22): the incident is opened through the API.
            "--incident-after-s",
            "600",
        ])
        .arg("--basemap")
        .arg(workspace().join("assets/basemap/zhengzhou_districts.wgs84.geojson"))
        .arg("--ledger")
        .arg(&ledger_path)
        .args(["--transport", "jt808", "--jt808-addr"])
        .arg(format!(
            "127.0.0.1:{}",
            app.jt808_port.expect("the gateway is on")
        ))
        .env("CYLWATCH_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the simulated hour took more than 2 minutes")
        .expect("running the simulator");
    let sim_log = crate::common::output_dir().join(format!("{}-sim.log", app.db.name));
    std::fs::write(&sim_log, &out.stderr).unwrap();
    assert!(
        out.status.success(),
        "simulator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: Value = serde_json::from_slice(&std::fs::read(&ledger_path).unwrap()).unwrap();
    let report = &truth["run"]["report"];
    let ledger = &truth["ledger"];
    // Everything it sent was valid and acknowledged; duplicates are its own resends.
    assert_eq!(
        report["rejected"], 0,
        "rejections: {}",
        report["rejections"]
    );
    assert_eq!(report["failed_requests"], 0, "{report}");
    assert!(report["accepted"].as_u64().unwrap() > 10_000, "{report}");
    assert!(
        report["fillings_allowed"].as_u64().unwrap() > 30,
        "{report}"
    );
    assert_eq!(
        ledger["unexpected_refusals"],
        serde_json::json!([]),
        "the gun refused what the simulator thought fine"
    );

    // The injected incident is in the platform: a leak at a customer, with its caller.
    let incidents = ledger["incidents"]
        .as_array()
        .expect("the ledger's incidents");
    assert_eq!(incidents.len(), 1, "{}", ledger["incidents"]);
    let id = incidents[0].as_str().unwrap();
    let (status, incident) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200, "{incident}");
    assert_eq!(incident["kind"], "leak");
    assert_eq!(incident["status"], "open");
    assert!(incident["cylinder_code"].is_string(), "{incident}");
    assert!(incident["place"].is_object(), "{incident}");
    assert!(incident["caller"]["phone"].is_string(), "{incident}");
    assert!(incident["opened_by"]
        .as_str()
        .unwrap()
        .starts_with("sim-duty-"));
    let (_, open) = app.get_json("/api/v1/incidents?status=active").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");

    let injected = causes(&ledger["injected"]);
    let allowed = causes(&ledger["allowed"]);
    let kinds: BTreeSet<&str> = injected.iter().map(|c| c.0.as_str()).collect();
    assert!(
        kinds.len() >= 17,
        "too few kinds injected: {kinds:?}; skipped {}",
        ledger["skipped"]
    );

    // The kinds that need a cylinder of their own went on after the reserve of one was used
    // up (two fit ones shared by late records and lost cylinders): cylinders were bought for
    // them during the run (below) and none was skipped. Whether a bought unfit cylinder is
    // collected, and so raised, within the hour depends on the trucks' rounds: each unfit kind
    // is asked to show at least once here (every injected one is found, above).
    let count = |kind: &str| ledger["injections"][kind].as_u64().unwrap_or(0);
    for kind in [
        "cylinder_overdue",
        "cylinder_life_expired",
        "cylinder_scrapped_in_use",
    ] {
        let cylinders = injected.iter().filter(|c| c.0 == kind).count();
        assert!(cylinders >= 1, "{kind}: {cylinders} cylinders; {ledger:#}");
    }
    assert!(
        count("late_filling_record") + count("cylinder_lost") >= 3,
        "{}",
        ledger["injections"]
    );
    for kind in [
        "cylinder_overdue",
        "cylinder_life_expired",
        "cylinder_scrapped_in_use",
        "late_filling_record",
        "cylinder_lost",
        "filling_refused",
    ] {
        assert!(
            ledger["skipped"].get(kind).is_none(),
            "{kind} skipped: {}",
            ledger["skipped"]
        );
    }
    let replenished = |kind: &str| ledger["replenished"][kind].as_u64().unwrap_or(0);
    assert!(
        [
            "cylinder_overdue",
            "cylinder_life_expired",
            "cylinder_scrapped_in_use",
            "filling_refused"
        ]
        .iter()
        .all(|k| replenished(k) >= 1)
            && replenished("late_filling_record") + replenished("cylinder_lost") >= 1,
        "replenished: {}",
        ledger["replenished"]
    );

    // The inventory, once the pipeline has caught up.
    let expected = &ledger["inventory"];
    let mut last = Value::Null;
    for _ in 0..300 {
        let (status, body) = app.get_json("/api/v1/stats/inventory").await;
        assert_eq!(status, 200);
        last = inventory_rows(&body);
        if &last == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if &last != expected {
        // Which cylinders differ: the platform's page of each the simulator moved.
        let mut differ = Vec::new();
        for (code, custody) in ledger["custody"].as_object().unwrap() {
            let (_, page) = app.get_json(&format!("/api/v1/cylinders/{code}")).await;
            if &page["custody"] != custody {
                let (_, history) = app
                    .get_json(&format!("/api/v1/cylinders/{code}/history"))
                    .await;
                differ.push((
                    code.clone(),
                    custody.clone(),
                    page["custody"].clone(),
                    history,
                ));
            }
        }
        panic!("platform inventory {last} vs ground truth {expected}; cylinders: {differ:#?}");
    }

    // Full cylinders in stock per station: the filling stations', and the distribution
    // points' and warehouses' that trucks restocked and took deliveries from.
    let expected = ledger["station_full"].as_object().unwrap();
    let (status, body) = app.get_json("/api/v1/sites?kind=station").await;
    assert_eq!(status, 200, "{body}");
    let platform: BTreeMap<String, Value> = body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["code"].as_str().unwrap().to_owned(), s["full"].clone()))
        .filter(|(code, full)| expected.contains_key(code) || full != &serde_json::json!(0))
        .collect();
    let expected: BTreeMap<String, Value> = expected.clone().into_iter().collect();
    assert_eq!(platform, expected, "full cylinders in stock per station");
    let moves = &ledger["depot_moves"];
    assert!(
        moves["restocked"].as_u64().unwrap_or(0) > 0 && moves["taken"].as_u64().unwrap_or(0) > 0,
        "distribution points restocked and delivered from: {moves}"
    );

    // Every injected anomaly raised its alert (device silence needs its time to pass).
    let mut alerts = Vec::new();
    let mut missing = Vec::new();
    for _ in 0..SILENT_S + 25 {
        alerts = all_alerts(&app).await;
        let raised: BTreeSet<(String, String, String)> = alerts.iter().map(key).collect();
        missing = injected
            .iter()
            .filter(|c| !raised.contains(*c))
            .cloned()
            .collect();
        if missing.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(missing.is_empty(), "injected but not raised: {missing:?}");
    // The facts the guns read were kept up to date through the city's whole hour (resends,
    // late and out-of-order uploads).
    assert_eq!(
        crate::common::stale_filling_facts(&app.db.pool).await,
        Vec::<String>::new()
    );

    // No alert without a cause: injected, allowed, or a device that really fell silent.
    let devices = &ledger["devices"];
    let mut unexplained = Vec::new();
    for a in &alerts {
        let k = key(a);
        if injected.contains(&k) || allowed.contains(&k) {
            continue;
        }
        if k.0 == "device_silent" && really_silent(&devices[&k.2], a) {
            continue;
        }
        unexplained.push(a.clone());
    }
    assert!(
        unexplained.is_empty(),
        "alerts without a cause: {unexplained:#?}"
    );
}

fn causes(list: &Value) -> BTreeSet<(String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["subject_type"].as_str().unwrap().to_owned(),
                c["subject_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn key(a: &Value) -> (String, String, String) {
    (
        a["kind"].as_str().unwrap().to_owned(),
        a["subject"]["type"].as_str().unwrap().to_owned(),
        a["subject"]["id"].as_str().unwrap().to_owned(),
    )
}

/// The platform's inventory rows as the ledger writes them: medium → columns.
fn inventory_rows(body: &Value) -> Value {
    let mut out = BTreeMap::new();
    for row in body["rows"].as_array().unwrap() {
        let mut cols = serde_json::Map::new();
        for c in [
            "shipped",
            "in_transit",
            "delivered",
            "returning",
            "total",
            "lost",
        ] {
            cols.insert(c.into(), row[c].clone());
        }
        out.insert(
            row["medium"].as_str().unwrap().to_owned(),
            Value::Object(cols),
        );
    }
    serde_json::to_value(out).unwrap()
}

async fn all_alerts(app: &crate::common::TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/alerts?limit=1000&cursor={c}"),
            None => "/api/v1/alerts?limit=1000".to_owned(),
        };
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 200, "{body}");
        all.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// Whether the device, by the simulator's own log of its sends, was quiet for the silence
/// threshold before the alert opened (the server notes a device's last send to within 10 s).
fn really_silent(quiet: &Value, alert: &Value) -> bool {
    let Some(opened) = alert["opened_at"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    else {
        return false;
    };
    let opened = f64::from(u32::try_from(opened.timestamp()).unwrap());
    let tolerance = 11.0;
    let quiet_from = opened - f64::from(SILENT_S) + tolerance;
    let mut stretches: Vec<(f64, f64)> = quiet["gaps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| Some((g[0].as_f64()?, g[1].as_f64()?)))
        .collect();
    if let Some(last) = quiet["last_sent"].as_f64() {
        stretches.push((last, f64::INFINITY));
    }
    stretches
        .iter()
        .any(|(a, b)| *a <= quiet_from && *b >= opened - 1.0)
}
