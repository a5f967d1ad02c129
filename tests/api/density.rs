//! The wall's map layers: `GET /api/v1/stats/density` bins the cylinders' last known positions
//! on a grid within the user's scope, and `GET /api/v1/sites` lists the stations and customers
//! with their full stock.

use crate::common::{archive, scan, spawn_app, TestApp};
use serde_json::{json, Value};

async fn wait_for_position(app: &TestApp, code: &str) {
    app.wait_until(|| async {
        !app.get_json(&format!("/api/v1/cylinders/{code}")).await.1["position"].is_null()
    })
    .await;
}

/// The cells of a density answer as (lon, lat, count).
fn cells(density: &Value) -> Vec<(f64, f64, i64)> {
    density["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["lon"].as_f64().unwrap(),
                c["lat"].as_f64().unwrap(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn cylinders_are_binned_where_they_are_and_sites_listed_within_scope() {
    let app = spawn_app().await;
    app.seed_registry().await;
    for code in ["D1", "D2", "D3"] {
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let now = chrono::Utc::now().to_rfc3339();
    // D1 and D2 delivered to C1 (113.66, 34.76) with the phone's position; D3 never seen.
    let events: Vec<Value> = ["D1", "D2"]
        .iter()
        .map(|c| {
            scan(
                "deliver",
                c,
                &now,
                json!({"customer_code": "C1", "lon": 113.6601, "lat": 34.7601}),
            )
        })
        .collect();
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    wait_for_position(&app, "D1").await;
    wait_for_position(&app, "D2").await;

    let (status, density) = app.get_json("/api/v1/stats/density?cell_deg=0.01").await;
    assert_eq!(status, 200, "{density}");
    assert_eq!(density["total"], 2, "{density}");
    assert_eq!(density["max"], 2);
    assert_eq!(density["cell_deg"], 0.01);
    // One cell, centred in the 0.01° square that holds the position.
    let found = cells(&density);
    assert_eq!(found.len(), 1, "{density}");
    let (lon, lat, count) = found[0];
    assert!(
        (lon - 113.665).abs() < 1e-9 && (lat - 34.765).abs() < 1e-9 && count == 2,
        "{density}"
    );

    // The default cell, and the bounds.
    let (status, default) = app.get_json("/api/v1/stats/density").await;
    assert_eq!((status, &default["cell_deg"]), (200, &json!(0.01)));
    for bad in ["0", "5", "abc", "0.01&x=1"] {
        let (status, body) = app
            .get_json(&format!("/api/v1/stats/density?cell_deg={bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{body}");
    }

    // Sites: both stations and the customer, with the customer's two full cylinders.
    let (status, sites) = app.get_json("/api/v1/sites").await;
    assert_eq!(status, 200, "{sites}");
    assert_eq!(sites["truncated"], false);
    let list = sites["sites"].as_array().unwrap();
    let codes: Vec<&str> = list.iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["ST1", "ST2", "C1"], "{sites}");
    let c1 = &list[2];
    assert_eq!(
        (
            &c1["kind"],
            &c1["site_kind"],
            &c1["full"],
            &c1["full_limit"]
        ),
        (
            &json!("customer"),
            &json!("restaurant"),
            &json!(2),
            &json!(2)
        )
    );
    assert_eq!(
        (&list[0]["lon"], &list[0]["lat"]),
        (&json!(113.62), &json!(34.75))
    );
    for (kind, expected) in [("station", vec!["ST1", "ST2"]), ("customer", vec!["C1"])] {
        let (status, one) = app.get_json(&format!("/api/v1/sites?kind={kind}")).await;
        assert_eq!(status, 200, "{one}");
        let codes: Vec<&str> = one["sites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, expected, "{one}");
    }
    let (status, body) = app.get_json("/api/v1/sites?kind=vehicle").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_query"))
    );

    // D3 read on a vehicle's reader: one cylinder on that vehicle.
    let ble = json!({"id": uuid::Uuid::new_v4(), "kind": "ble", "vehicle_plate": "豫A90001",
                     "tag_ids": ["T-D3"], "occurred_at": now});
    let fix = crate::common::gps("豫A90001", 113.70, 34.80, &now);
    let (status, body) = app.post_events(&json!({ "events": [fix, ble] })).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        !app.get_json("/api/v1/stats/vehicle-loads").await.1["vehicles"]
            .as_array()
            .is_none_or(Vec::is_empty)
    })
    .await;
    let (status, loads) = app.get_json("/api/v1/stats/vehicle-loads").await;
    assert_eq!(status, 200, "{loads}");
    let vehicles = loads["vehicles"].as_array().unwrap();
    assert_eq!(vehicles.len(), 1, "{loads}");
    assert_eq!(vehicles[0]["plate"], "豫A90001");
    assert_eq!(
        vehicles[0]["full"].as_i64().unwrap() + vehicles[0]["other"].as_i64().unwrap(),
        1,
        "{loads}"
    );

    // Another enterprise's user sees none of it.
    let (status, body) = app
        .post_json("/api/v1/enterprises", &crate::common::enterprise("ENT2"))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "ent2-admin", "password": "Ent2-Test-2026!",
                    "role": "enterprise_admin", "enterprise_code": "ENT2"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = app.login("ent2-admin", "Ent2-Test-2026!").await;
    for (path, empty) in [
        ("/api/v1/stats/density", "cells"),
        ("/api/v1/sites", "sites"),
        ("/api/v1/stats/vehicle-loads", "vehicles"),
    ] {
        let (status, body) = app
            .send_json(reqwest::Method::GET, path, None, Some(&token))
            .await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body[empty], json!([]), "{path}: {body}");
    }
    // Nor may it ask for ENT1's.
    let (status, _) = app
        .send_json(
            reqwest::Method::GET,
            "/api/v1/stats/density?enterprise_code=ENT1",
            None,
            Some(&token),
        )
        .await;
    assert_eq!(status, 404);
}
