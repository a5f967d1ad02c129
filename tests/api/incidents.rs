//! Incidents (应急联动, issue 22 items 1–2): opening from a cylinder, a place, an alert or a
//! call; the status machine and the append-only timeline; the context (chain, nearby, batch);
//! who sees what.

use crate::access::PASSWORD;
use crate::common::{archive, enterprise, scan, spawn_app, TestApp};
use chrono::{Duration, Utc};
use rand::seq::SliceRandom;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Creates a user and signs them in.
pub(crate) async fn user(app: &TestApp, name: &str, body: Value) -> String {
    let mut body = body;
    body["username"] = json!(name);
    body["password"] = json!(PASSWORD);
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{answer}");
    app.login(name, PASSWORD).await
}

pub(crate) async fn as_user(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, Value) {
    app.send_json(method, path, body, Some(token)).await
}

pub(crate) async fn history_len(app: &TestApp, code: &str) -> usize {
    app.get_json(&format!("/api/v1/cylinders/{code}/history"))
        .await
        .1["items"]
        .as_array()
        .map_or(0, Vec::len)
}

/// How many incidents and timeline entries there are.
pub(crate) async fn counts(app: &TestApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM incident_timeline)",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

pub(crate) fn error_field(answer: &Value) -> Option<&str> {
    answer["error"]["field"].as_str()
}

/// A registered customer of ENT1 at (`lon`, `lat`) in 金水区.
pub(crate) fn customer(code: &str, lon: f64, lat: f64) -> Value {
    json!({"code": code, "enterprise_code": "ENT1", "name": format!("{code} 饭店"),
           "kind": "restaurant", "phone": "13900000000", "address": "金水路",
           "location": {"lon": lon, "lat": lat}, "district_code": "410105"})
}

#[tokio::test]
async fn an_incident_opened_from_a_cylinder_returns_the_chain_of_its_shuffled_history() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let officer = user(&app, "duty1", json!({"role": "duty_officer"})).await;
    for (path, body) in [
        (
            "/api/v1/staff",
            json!({"staff_no": "D1", "enterprise_code": "ENT1", "name": "王师傅", "role": "driver"}),
        ),
        (
            "/api/v1/vehicles",
            json!({"plate": "豫A12345", "enterprise_code": "ENT1"}),
        ),
    ] {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }
    let mut a = archive("CH1", "T-CH1");
    a["serial_no"] = json!("SN-CH1");
    a["production_batch"] = json!("B-2020-04");
    assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);
    // A sibling of its production batch, and one filled at ST1 within the hour (the batch).
    let mut sibling = archive("CH2", "T-CH2");
    sibling["production_batch"] = json!("B-2020-04");
    assert_eq!(app.post_json("/api/v1/cylinders", &sibling).await.0, 201);
    assert_eq!(
        app.post_json("/api/v1/cylinders", &archive("CH3", "T-CH3"))
            .await
            .0,
        201
    );

    // The filling record at gun G2 two hours ago: the last filling.
    let now = Utc::now();
    let at = |minutes: i64| (now - Duration::minutes(minutes)).to_rfc3339();
    let ended = now - Duration::minutes(120);
    let record = json!({"cylinder_code": "CH1", "station_code": "ST1", "licence_no": "豫充-001",
        "gun_no": "G2", "staff_no": "S1", "staff_name": "陈荣华",
        "started_at": (ended - Duration::seconds(90)).to_rfc3339(), "ended_at": ended.to_rfc3339(),
        "mass_before_kg": 16.8, "mass_after_kg": 30.9});
    let (status, answer) = app.post_filling(&controller, &record).await;
    assert_eq!(status, 201, "{answer}");
    // The history around it, sent shuffled: an older fill at ST2, then out of ST1 onto the
    // vehicle, and delivered to C1.
    let mut events = vec![
        scan(
            "fill",
            "CH1",
            &at(60 * 24),
            json!({"station_code": "ST2", "staff_no": "S9"}),
        ),
        scan(
            "store_out",
            "CH1",
            &at(100),
            json!({"station_code": "ST1", "staff_no": "S1"}),
        ),
        scan(
            "load",
            "CH1",
            &at(90),
            json!({"station_code": "ST1", "vehicle_plate": "豫A12345", "staff_no": "D1"}),
        ),
        scan(
            "deliver",
            "CH1",
            &at(60),
            json!({"customer_code": "C1", "vehicle_plate": "豫A12345", "staff_no": "D1"}),
        ),
        // CH3 filled at ST1 thirty minutes after CH1: the same filling batch.
        scan(
            "fill",
            "CH3",
            &at(90),
            json!({"station_code": "ST1", "staff_no": "S1"}),
        ),
    ];
    events.shuffle(&mut rand::rng());
    for event in events {
        let (status, answer) = app.post_events(&json!({ "events": [event] })).await;
        assert_eq!(status, 202, "{answer}");
    }
    app.wait_until(|| async {
        history_len(&app, "CH1").await == 5 && history_len(&app, "CH3").await == 1
    })
    .await;

    let body = json!({"kind": "leak", "level": "large", "description": "厨房闻到气味",
                      "cylinder_code": "CH1", "caller": {"name": "李女士", "phone": "13711112222"}});
    let (status, incident) = as_user(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&body),
        &officer,
    )
    .await;
    assert_eq!(status, 201, "{incident}");
    assert_eq!(incident["status"], "open");
    assert_eq!(incident["cylinder_code"], "CH1");
    assert_eq!(incident["enterprise_codes"], json!(["ENT1"]));
    assert_eq!(incident["caller"]["phone"], "13711112222");
    assert_eq!(incident["timeline"][0]["what"], "opened");
    assert_eq!(incident["timeline"][0]["by"], "duty1");
    let id = incident["id"].as_str().unwrap().to_owned();
    // Where it happened: the cylinder's last known place (C1, in 金水区).
    assert_eq!(incident["district_code"], "410105");

    let (status, context) = as_user(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}/context"),
        None,
        &officer,
    )
    .await;
    assert_eq!(status, 200, "{context}");
    assert_eq!(context["cylinder"]["code"], "CH1");
    assert_eq!(context["cylinder"]["compliance"], "ok");
    let chain = &context["chain"];
    let filling = &chain["last_filling"];
    assert_eq!(
        (
            &filling["station_code"],
            &filling["gun_no"],
            &filling["staff_no"],
            &filling["certificate_no"],
            &filling["mass_before_kg"],
            &filling["mass_after_kg"],
        ),
        (
            &json!("ST1"),
            &json!("G2"),
            &json!("S1"),
            &json!("TS-1"),
            &json!(16.8),
            &json!(30.9)
        ),
        "{chain}"
    );
    let filled_at =
        chrono::DateTime::parse_from_rfc3339(filling["ended_at"].as_str().unwrap()).unwrap();
    assert_eq!(filled_at.timestamp(), ended.timestamp());
    assert_eq!(chain["vehicle_plate"], "豫A12345", "{chain}");
    assert_eq!(chain["driver_staff_no"], "D1", "{chain}");
    assert_eq!(chain["customer_code"], "C1", "{chain}");
    assert_eq!(chain["customer"]["name"], "四仙包子店", "{chain}");
    // The batch: CH3 filled at ST1 within ±2 h (by G1? no gun on a scan: by filler S1), and
    // CH2 of the same production batch.
    let batch: BTreeSet<(String, String)> = context["batch"]["cylinders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["why"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        batch,
        BTreeSet::from([
            ("CH2".to_owned(), "production".to_owned()),
            ("CH3".to_owned(), "filling".to_owned())
        ]),
        "{context}"
    );
    assert_eq!(
        context["batch"]["by_filler"],
        json!([{"value": "S1", "count": 1}])
    );
    // The snapshot kept when it was opened has the same chain.
    let kept: Value = sqlx::query_scalar("SELECT context FROM incidents WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(kept["chain"]["last_filling"]["gun_no"], "G2");
    assert_eq!(kept["chain"]["customer_code"], "C1");

    // The same cylinder by tag and by factory serial number.
    for (field, value) in [("tag_id", "T-CH1"), ("serial_no", "SN-CH1")] {
        let body = json!({"kind": "fire", "level": "general", "description": "x", field: value});
        let (status, answer) = app.post_json("/api/v1/incidents", &body).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["cylinder_code"], "CH1", "{field}");
    }
    // The earlier incidents show in the chain of a later one.
    let (_, context) = app
        .get_json(&format!("/api/v1/incidents/{id}/context"))
        .await;
    assert_eq!(context["chain"]["incidents"].as_array().unwrap().len(), 2);

    // Bad input: a 4xx naming the field, and nothing written.
    let before = counts(&app).await;
    let base = json!({"kind": "leak", "level": "general", "description": "x"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, status, field) in [
        (with("cylinder_code", json!("NOPE")), 422, "cylinder_code"),
        (with("tag_id", json!("NOPE")), 422, "tag_id"),
        (with("serial_no", json!("NOPE")), 422, "serial_no"),
        (
            with("place", json!({"lon": 100.0, "lat": 20.0})),
            400,
            "place",
        ),
        (with("kind", json!("flood")), 400, "kind"),
        (with("level", json!("huge")), 400, "level"),
        (with("description", json!("  ")), 400, "description"),
        (base.clone(), 400, "place"),
    ] {
        let (got, answer) = app.post_json("/api/v1/incidents", &body).await;
        assert_eq!(
            (got, error_field(&answer)),
            (status, Some(field)),
            "{body}: {answer}"
        );
    }
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn the_status_moves_forward_only_and_reopening_goes_back_to_responding() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let ent_admin = user(
        &app,
        "ent1-admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let body = json!({"kind": "abandoned", "level": "general", "description": "路边遗弃气瓶",
                      "place": {"lon": 113.66, "lat": 34.77}});
    let (status, incident) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();
    let path = |p: &str| format!("/api/v1/incidents/{id}{p}");
    let move_to = |status: &str| json!({"status": status, "note": format!("→ {status}")});

    // Enterprises do not handle incidents.
    let (status, answer) = as_user(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&body),
        &ent_admin,
    )
    .await;
    assert_eq!(status, 403, "{answer}");

    for (to, expected) in [
        ("responding", 200),
        ("open", 409),
        ("responding", 409),
        ("contained", 200),
        ("open", 409),
        ("closed", 200),
        ("contained", 409),
        ("open", 409),
    ] {
        let before = counts(&app).await;
        let (status, answer) = app.post_json(&path("/status"), &move_to(to)).await;
        assert_eq!(status, expected, "→ {to}: {answer}");
        if expected == 409 {
            assert_eq!(error_field(&answer), Some("status"), "{answer}");
            assert_eq!(counts(&app).await, before, "→ {to} changed nothing");
        } else {
            assert_eq!(answer["status"], to);
        }
    }
    // Reopening: back to responding, its own timeline entry.
    let (status, answer) = app
        .post_json(&path("/status"), &move_to("responding"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "responding");
    // A note; an empty one is refused.
    let before = counts(&app).await;
    for bad in [json!({"note": "   "}), json!({}), json!({"note": 5})] {
        let (status, answer) = app.post_json(&path("/timeline"), &bad).await;
        assert_eq!(
            (status, error_field(&answer)),
            (400, Some("note")),
            "{answer}"
        );
    }
    let (status, answer) = app
        .post_json(&path("/status"), &json!({"status": "reopened"}))
        .await;
    assert_eq!(
        (status, error_field(&answer)),
        (400, Some("status")),
        "{answer}"
    );
    assert_eq!(counts(&app).await, before);
    let (status, answer) = app
        .post_json(&path("/timeline"), &json!({"note": "消防已到场"}))
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = as_user(
        &app,
        Method::POST,
        &path("/timeline"),
        Some(&json!({"note": "x"})),
        &ent_admin,
    )
    .await;
    assert_eq!(status, 403, "{answer}");

    let (_, incident) = app.get_json(&path("")).await;
    let steps: Vec<(String, Value)> = incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["what"].as_str().unwrap().to_owned(), e["status"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("opened".to_owned(), json!("open")),
            ("status".to_owned(), json!("responding")),
            ("status".to_owned(), json!("contained")),
            ("status".to_owned(), json!("closed")),
            ("reopened".to_owned(), json!("responding")),
            ("note".to_owned(), Value::Null),
        ]
    );
    assert_eq!(incident["timeline"][5]["note"], "消防已到场");
    // Every change is audited.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE target LIKE '/api/v1/incidents%' AND status < 300",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap_or(-1);
    assert!(audited >= 6, "audited {audited}");
    // The timeline is append-only.
    let rewrite = sqlx::query("UPDATE incident_timeline SET note = 'rewritten'")
        .execute(&app.db.pool)
        .await;
    assert!(rewrite.is_err());
    let delete = sqlx::query("DELETE FROM incident_timeline")
        .execute(&app.db.pool)
        .await;
    assert!(delete.is_err());
    // Listing by status and kind.
    let (status, page) = app
        .get_json("/api/v1/incidents?status=responding&kind=abandoned")
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, page) = app.get_json("/api/v1/incidents?status=closed").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn other_enterprises_and_districts_see_nothing_and_enterprises_no_personal_fields() {
    let app = spawn_app().await;
    app.seed_registry().await;
    // C1 of ENT1 (金水区) carries canaries in its personal fields.
    sqlx::query(
        "UPDATE customers SET name = 'CUSTNAME-CANARY', phone = 'CUSTPHONE-CANARY', \
         address = 'CUSTADDR-CANARY' WHERE code = 'C1'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let mut b = enterprise("EB");
    b["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &b).await.0, 201);
    let a_admin = user(
        &app,
        "a-admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let b_admin = user(
        &app,
        "b-admin",
        json!({"role": "enterprise_admin", "enterprise_code": "EB"}),
    )
    .await;
    let zhongyuan = user(
        &app,
        "zhongyuan",
        json!({"role": "district_regulator", "district_code": "410102"}),
    )
    .await;
    let jinshui = user(
        &app,
        "jinshui",
        json!({"role": "district_regulator", "district_code": "410105"}),
    )
    .await;
    assert_eq!(
        app.post_json("/api/v1/cylinders", &archive("A1", "T-A1"))
            .await
            .0,
        201
    );
    let (status, answer) = app
        .post_events(
            &json!({"events": [scan("deliver", "A1", &Utc::now().to_rfc3339(),
                                             json!({"customer_code": "C1"}))]}),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    app.wait_until(|| async { history_len(&app, "A1").await == 1 })
        .await;
    let body = json!({"kind": "leak", "level": "general", "description": "泄漏",
                      "cylinder_code": "A1",
                      "caller": {"name": "CALLER-CANARY", "phone": "CALLERPHONE-CANARY"}});
    let (status, incident) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(incident["district_code"], "410105");
    let canaries = ["CANARY"];

    // B and the other district's regulator: 404, and not in their lists.
    for (who, token) in [("B admin", &b_admin), ("中原区", &zhongyuan)] {
        for p in ["", "/context"] {
            let (status, answer) = as_user(
                &app,
                Method::GET,
                &format!("/api/v1/incidents/{id}{p}"),
                None,
                token,
            )
            .await;
            assert_eq!(status, 404, "{who} {p}: {answer}");
        }
        let (status, page) = as_user(&app, Method::GET, "/api/v1/incidents", None, token).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"], json!([]), "{who}: {page}");
    }
    let before = counts(&app).await;
    let (status, _) = as_user(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/timeline"),
        Some(&json!({"note": "hostile"})),
        &zhongyuan,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(counts(&app).await, before);

    // A sees its own, without the caller's or the customer's personal fields.
    for p in ["", "/context"] {
        let (status, answer) = as_user(
            &app,
            Method::GET,
            &format!("/api/v1/incidents/{id}{p}"),
            None,
            &a_admin,
        )
        .await;
        assert_eq!(status, 200, "{p}: {answer}");
        let text = answer.to_string();
        for canary in canaries {
            assert!(
                !text.contains(canary),
                "A sees personal fields at {p}: {text}"
            );
        }
        if p == "/context" {
            assert_eq!(answer["chain"]["customer_code"], "C1");
            assert_eq!(answer["chain"]["customer"]["name"], Value::Null);
        }
    }
    let (_, page) = as_user(&app, Method::GET, "/api/v1/incidents", None, &a_admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    // Its own district's regulator sees the personal fields.
    let (status, answer) = as_user(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{id}/context"),
        None,
        &jinshui,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["chain"]["customer"]["name"], "CUSTNAME-CANARY");

    // An incident about A's cylinder (outside 中原区's scope) that happened in 中原区: its
    // regulator sees it.
    let body = json!({"kind": "abandoned", "level": "general", "description": "遗弃",
                      "cylinder_code": "A1", "place": {"lon": 113.55, "lat": 34.75}});
    let (status, there) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{there}");
    assert_eq!(there["district_code"], "410102");
    let there_id = there["id"].as_str().unwrap();
    let (status, answer) = as_user(
        &app,
        Method::GET,
        &format!("/api/v1/incidents/{there_id}"),
        None,
        &zhongyuan,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, page) = as_user(&app, Method::GET, "/api/v1/incidents", None, &zhongyuan).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    // 中原区's regulator opens incidents in its district only.
    let outside = json!({"kind": "other", "level": "general", "description": "x",
                         "place": {"lon": 113.66, "lat": 34.77}});
    let before = counts(&app).await;
    let (status, answer) = as_user(
        &app,
        Method::POST,
        "/api/v1/incidents",
        Some(&outside),
        &zhongyuan,
    )
    .await;
    assert_eq!(
        (status, error_field(&answer)),
        (403, Some("place")),
        "{answer}"
    );
    assert_eq!(counts(&app).await, before);
}
