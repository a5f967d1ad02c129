//! Issue 21 item 2, where a suspended or closed record is used: the gun refuses an inactive
//! enterprise, station or filler (R13), a suspended device's key is refused, an inactive
//! enterprise or station gets no new records, a filling recorded at an inactive station is
//! kept and alerted, and a suspended or closed vehicle moving with cylinders raises
//! `vehicle_suspended`. The status routes themselves are `status.rs`'s.

use crate::common::{station, TestApp};
use crate::filling::{ask, check, cylinder, rules};
use crate::status::{device, post, why};
use serde_json::{json, Value};
use uuid::Uuid;

/// Authorize allowed → suspend the station → R13 → reinstate → allowed; the same for the
/// enterprise; a closed station stays refused.
#[tokio::test]
async fn a_suspended_enterprise_or_station_is_refused_at_the_gun_with_r13() {
    let app = crate::common::spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "OK", "ST1", json!({})).await;
    let (status, body) = app
        .post_events(
            &json!({"events": [check("OK", "pre", true, &chrono::Utc::now().to_rfc3339())]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        app.authorize(&controller, ask("OK", "ST1", "LPG")).await.1["allowed"] == true
    })
    .await;
    for path in ["/api/v1/stations/ST1", "/api/v1/enterprises/ENT1"] {
        let (status, answer) =
            post(&app, None, &format!("{path}/suspend"), &why("检查不合格")).await;
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
        assert_eq!(status, 200);
        assert_eq!(
            (answer["allowed"].as_bool(), rules(&answer)),
            (Some(false), vec!["R13".to_owned()]),
            "{path} suspended: {answer}"
        );
        let (status, answer) =
            post(&app, None, &format!("{path}/reinstate"), &why("整改完成")).await;
        assert_eq!(status, 200, "{answer}");
        let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
        assert_eq!(answer["allowed"], true, "{path} reinstated: {answer}");
    }
    let (status, _) = post(&app, None, "/api/v1/stations/ST1/close", &why("拆除")).await;
    assert_eq!(status, 200);
    let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(rules(&answer), ["R13"], "{answer}");
}

#[tokio::test]
async fn a_suspended_device_key_is_refused_and_works_again_once_reinstated() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    let key = device(&app, "DEV-S", "ENT1", json!({})).await;
    let fix = || json!({"events": [crate::common::gps("豫A20001", 113.62, 34.75, &chrono::Utc::now().to_rfc3339())]});
    assert_eq!(app.post_events_as(&key, &fix()).await.0, 202);
    let (status, _) = post(
        &app,
        None,
        "/api/v1/devices/DEV-S/suspend",
        &why("疑似被盗"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = app.post_events_as(&key, &fix()).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (401, Some("unauthorized")),
        "{answer}"
    );
    let (status, _) = post(&app, None, "/api/v1/devices/DEV-S/reinstate", &why("找回")).await;
    assert_eq!(status, 200);
    assert_eq!(app.post_events_as(&key, &fix()).await.0, 202);
    // Closed (revoked): refused for ever.
    assert_eq!(
        post(&app, None, "/api/v1/devices/DEV-S/revoke", &json!({}))
            .await
            .0,
        204
    );
    assert_eq!(app.post_events_as(&key, &fix()).await.0, 401);
}

#[tokio::test]
async fn a_suspended_enterprise_or_station_gets_no_new_records() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    assert_eq!(
        post(&app, None, "/api/v1/stations/ST2/suspend", &why("整改"))
            .await
            .0,
        200
    );
    let (status, answer) = post(&app, None, "/api/v1/devices",
        &json!({"device_id": "DEV-X", "kind": "controller", "enterprise_code": "ENT1", "station_code": "ST2"})).await;
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (409, Some("record_inactive"), Some("station_code")),
        "{answer}"
    );
    // No new cylinder registered at the suspended station.
    let mut at_st2 = crate::common::archive("NEW-1", "T-NEW-1");
    at_st2["station_code"] = json!("ST2");
    let (status, answer) = app.post_json("/api/v1/cylinders", &at_st2).await;
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (409, Some("record_inactive"), Some("station_code")),
        "{answer}"
    );
    assert_eq!(
        post(&app, None, "/api/v1/enterprises/ENT1/suspend", &why("吊销"))
            .await
            .0,
        200
    );
    let counts = || async {
        let n: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM stations), (SELECT count(*) FROM customers), \
             (SELECT count(*) FROM staff), (SELECT count(*) FROM vehicles), \
             (SELECT count(*) FROM devices)",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        n
    };
    let before = counts().await;
    let writes = [
        (
            "/api/v1/stations",
            station("ST9", "ENT1", "九号站", 113.62, 34.75),
        ),
        (
            "/api/v1/customers",
            json!({"code": "C9", "enterprise_code": "ENT1", "name": "某饭店",
            "kind": "restaurant", "phone": "13800000009", "address": "金水路9号",
            "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"}),
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S9", "enterprise_code": "ENT1", "name": "王五", "role": "driver"}),
        ),
        (
            "/api/v1/vehicles",
            json!({"plate": "豫A90009", "enterprise_code": "ENT1"}),
        ),
        (
            "/api/v1/devices",
            json!({"device_id": "DEV-9", "kind": "gps", "enterprise_code": "ENT1"}),
        ),
    ];
    for (path, body) in writes {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(
            (
                status,
                answer["error"]["code"].as_str(),
                answer["error"]["field"].as_str()
            ),
            (409, Some("record_inactive"), Some("enterprise_code")),
            "{path}: {answer}"
        );
    }
    assert_eq!(counts().await, before);
    // Nor cylinders, one or many.
    let (status, answer) = app
        .post_json(
            "/api/v1/cylinders",
            &crate::common::archive("NEW-2", "T-NEW-2"),
        )
        .await;
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (409, Some("record_inactive"), Some("owner_enterprise_code")),
        "{answer}"
    );
    let items = json!({"items": [crate::common::archive("NEW-3", "T-NEW-3")]});
    let (status, answer) = app.post_json("/api/v1/cylinders", &items).await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("record_inactive"), "{answer}");
    let cylinders: i64 = sqlx::query_scalar("SELECT count(*) FROM cylinders")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(cylinders, 0);
    assert_eq!(
        post(
            &app,
            None,
            "/api/v1/enterprises/ENT1/reinstate",
            &why("恢复")
        )
        .await
        .0,
        200
    );
    let (status, answer) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A90009", "enterprise_code": "ENT1"}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

/// A suspended vehicle's fixes still arrive and are applied; carrying cylinders it raises one
/// `vehicle_suspended` alert per suspension, not one per fix; an empty one raises none. A
/// closed vehicle carrying cylinders raises it too (review fix 4).
#[tokio::test]
async fn a_suspended_vehicle_carrying_cylinders_raises_one_alert_per_suspension() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    for plate in ["豫A40001", "豫A40002", "豫A40003"] {
        let body = json!({"plate": plate, "enterprise_code": "ENT1"});
        assert_eq!(app.post_json("/api/v1/vehicles", &body).await.0, 201);
    }
    cylinder(&app, "V1", "ST1", json!({})).await;
    cylinder(&app, "V3", "ST1", json!({})).await;
    let t0 = chrono::Utc::now() - chrono::Duration::minutes(30);
    let at = |m: i64| (t0 + chrono::Duration::minutes(m)).to_rfc3339();
    for (plate, tags) in [
        ("豫A40001", json!(["T-V1"])),
        ("豫A40002", json!([])),
        ("豫A40003", json!(["T-V3"])),
    ] {
        let ble = json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": plate,
                         "tag_ids": tags, "occurred_at": at(0)});
        assert_eq!(app.post_events(&json!({"events": [ble]})).await.0, 202);
    }
    app.wait_until(|| async {
        let loaded: Option<i32> = sqlx::query_scalar(
            "SELECT sum(cardinality(tag_ids))::int FROM vehicle_tags \
             WHERE plate IN ('豫A40001', '豫A40003')",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        loaded == Some(2)
    })
    .await;
    for plate in ["豫A40001", "豫A40002"] {
        let (status, answer) = post(
            &app,
            None,
            &format!("/api/v1/vehicles/{plate}/suspend"),
            &why("无道路运输证"),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) = post(&app, None, "/api/v1/vehicles/豫A40003/close", &why("报废")).await;
    assert_eq!(status, 200, "{answer}");
    for m in 1..=4 {
        for plate in ["豫A40001", "豫A40002", "豫A40003"] {
            let fix = crate::common::gps(
                plate,
                113.70 + 0.001 * f64::from(u8::try_from(m).unwrap()),
                34.80,
                &at(m),
            );
            assert_eq!(app.post_events(&json!({"events": [fix]})).await.0, 202);
        }
    }
    // Every fix applied: each vehicle is where its last fix put it.
    let last = t0 + chrono::Duration::minutes(4);
    app.wait_until(|| async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM vehicle_positions \
             WHERE plate IN ('豫A40001', '豫A40002', '豫A40003') AND occurred_at >= $1",
        )
        .bind(last)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        n == 3
    })
    .await;
    app.wait_until(|| async { vehicle_alerts(&app).await.len() >= 2 })
        .await;
    let mut items = vehicle_alerts(&app).await;
    items.sort_by_key(|i| i["subject"]["id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(items.len(), 2, "{items:?}");
    for (item, plate) in items.iter().zip(["豫A40001", "豫A40003"]) {
        assert_eq!(item["subject"], json!({"type": "vehicle", "id": plate}));
        assert_eq!(item["severity"], "high");
        assert_eq!(item["count"], 1, "once per suspension: {items:?}");
    }
}

async fn vehicle_alerts(app: &TestApp) -> Vec<Value> {
    app.get_json("/api/v1/alerts?kind=vehicle_suspended")
        .await
        .1["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A filling row count.
async fn fillings(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM fillings")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Review fix 2: a filling recorded at a suspended or closed station, or for a suspended
/// enterprise, is kept (it happened) but flagged `inactive_station` and raises a high
/// `filling_refused` alert on the station; a `decision_id` made at another station is 400.
#[tokio::test]
async fn a_filling_at_an_inactive_station_is_kept_flagged_and_alerted() {
    let app = crate::common::spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "IN1", "ST1", json!({})).await;
    let (status, answer) = app
        .post_filling(&controller, &crate::filling::filling("IN1", 16.8, 30.9, 0))
        .await;
    assert_eq!((status, &answer["flags"]), (201, &json!([])), "{answer}");
    assert!(station_refusals(&app).await.is_empty());
    let (status, _) = post(
        &app,
        None,
        "/api/v1/stations/ST1/suspend",
        &why("检查不合格"),
    )
    .await;
    assert_eq!(status, 200);
    let n = fillings(&app).await;
    let (status, answer) = app
        .post_filling(&controller, &crate::filling::filling("IN1", 16.8, 30.9, 0))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["flags"], json!(["inactive_station"]), "{answer}");
    assert_eq!(fillings(&app).await, n + 1, "kept");
    let alerts = station_refusals(&app).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["severity"], "high", "{alerts:?}");
    assert_eq!(
        alerts[0]["subject"],
        json!({"type": "station", "id": "ST1"})
    );
    assert_eq!(
        alerts[0]["evidence"]["inactive_station"], true,
        "{alerts:?}"
    );
    assert_eq!(
        alerts[0]["evidence"]["station_status"], "suspended",
        "{alerts:?}"
    );
    // The enterprise suspended, the station active: flagged the same.
    assert_eq!(
        post(
            &app,
            None,
            "/api/v1/stations/ST1/reinstate",
            &why("整改完成")
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(&app, None, "/api/v1/enterprises/ENT1/suspend", &why("吊销"))
            .await
            .0,
        200
    );
    let (status, answer) = app
        .post_filling(&controller, &crate::filling::filling("IN1", 16.8, 30.9, 0))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["flags"], json!(["inactive_station"]), "{answer}");
    let alerts = station_refusals(&app).await;
    assert_eq!(
        alerts[0]["evidence"]["enterprise_status"], "suspended",
        "{alerts:?}"
    );
    assert_eq!(alerts[0]["count"], 2, "{alerts:?}");
    assert_eq!(
        post(
            &app,
            None,
            "/api/v1/enterprises/ENT1/reinstate",
            &why("恢复")
        )
        .await
        .0,
        200
    );
    // A decision made at ST2 does not stand for a filling at ST1.
    let other = app
        .new_device("ENT1", json!({"kind": "controller", "station_code": "ST2"}))
        .await;
    let (status, decision) = app.authorize(&other, ask("IN1", "ST2", "LPG")).await;
    assert_eq!(status, 200, "{decision}");
    let mut body = crate::filling::filling("IN1", 16.8, 30.9, 0);
    body["decision_id"] = decision["decision_id"].clone();
    let n = fillings(&app).await;
    let (status, answer) = app.post_filling(&controller, &body).await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("decision_id")),
        "{answer}"
    );
    assert_eq!(fillings(&app).await, n, "nothing kept");
}

async fn station_refusals(app: &TestApp) -> Vec<Value> {
    app.get_json("/api/v1/alerts?kind=filling_refused").await.1["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Review fix 3: a suspended or closed filler (the question's `staff_no`) is R13 at the gun.
#[tokio::test]
async fn a_suspended_or_closed_filler_is_refused_at_the_gun_with_r13() {
    let app = crate::common::spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "OK", "ST1", json!({})).await;
    let (status, body) = app
        .post_events(
            &json!({"events": [check("OK", "pre", true, &chrono::Utc::now().to_rfc3339())]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        app.authorize(&controller, ask("OK", "ST1", "LPG")).await.1["allowed"] == true
    })
    .await;
    let (status, _) = post(&app, None, "/api/v1/staff/S1/suspend", &why("无证上岗")).await;
    assert_eq!(status, 200);
    let (status, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(status, 200);
    assert_eq!(
        (answer["allowed"].as_bool(), rules(&answer)),
        (Some(false), vec!["R13".to_owned()]),
        "{answer}"
    );
    assert!(
        answer["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("充装人员已暂停"),
        "{answer}"
    );
    let (status, _) = post(&app, None, "/api/v1/staff/S1/reinstate", &why("取证")).await;
    assert_eq!(status, 200);
    let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(answer["allowed"], true, "{answer}");
    let (status, _) = post(&app, None, "/api/v1/staff/S1/close", &why("离职")).await;
    assert_eq!(status, 200);
    let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(rules(&answer), ["R13"], "{answer}");
}
