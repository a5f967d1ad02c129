//! Issue 20, trust boundaries: an attacker is a second enterprise's admin or device. Each test
//! was written first against the code before its fix and failed there.

// ---------------------------------------------------------------------------------------------
// Write and decision paths (items 1, 2, 6, 9): inspection bodies, staff numbers, another
// enterprise's cylinder at the gun, only controllers decide.
// ---------------------------------------------------------------------------------------------

use crate::access::PASSWORD;
use crate::common::{archive, enterprise, scan, spawn_app, station, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Enterprise `ENT2` (district 410102) with its station `ST9`, an enterprise admin `ent2-admin`
/// and a filling controller bound to `ST9`; returns the admin's token and the controller's key.
async fn second_enterprise(app: &TestApp) -> (String, String) {
    let mut e = enterprise("ENT2");
    e["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e).await.0, 201);
    let (status, body) = app
        .post_json(
            "/api/v1/stations",
            &station("ST9", "ENT2", "九号充装站", 113.55, 34.75),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let admin = json!({"username": "ent2-admin", "password": PASSWORD,
                       "role": "enterprise_admin", "enterprise_code": "ENT2"});
    assert_eq!(app.post_json("/api/v1/users", &admin).await.0, 201);
    let token = app.login("ent2-admin", PASSWORD).await;
    let controller = app
        .new_device("ENT2", json!({"kind": "controller", "station_code": "ST9"}))
        .await;
    (token, controller)
}

fn inspection(cylinder: &str, conclusion: &str, next: Value) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "inspection", "cylinder_code": cylinder,
           "conclusion": conclusion, "inspected_on": "2026-11-05", "next_inspection_on": next,
           "report_no": "R-1", "inspection_body": "某检验站", "inspector": "王工",
           "occurred_at": "2026-11-05T09:00:00+08:00"})
}

fn ask(cylinder: Value, station: &str) -> Value {
    let mut ask = json!({"station_code": station, "gun_no": "G1", "medium": "LPG",
                         "staff_no": "S1"});
    if let (Some(a), Value::Object(c)) = (ask.as_object_mut(), cylinder) {
        a.extend(c);
    }
    ask
}

fn filling(cylinder: &str, station: &str, staff_no: &str) -> Value {
    json!({"cylinder_code": cylinder, "station_code": station, "licence_no": "L1",
           "gun_no": "G1", "staff_no": staff_no, "staff_name": "张三",
           "started_at": "2026-11-22T08:00:00+08:00", "ended_at": "2026-11-22T08:02:00+08:00",
           "mass_before_kg": 16.4, "mass_after_kg": 30.0})
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Item 9: a GPS tracker, a phone (even one bound to the station) or an unbound controller of
/// the same enterprise neither asks the gun nor records a filling: 403. The station's own
/// controller does.
#[tokio::test]
async fn only_a_controller_bound_to_the_station_asks_and_records_fillings() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    assert_eq!(
        app.post_json("/api/v1/cylinders", &archive("K9", "TK9"))
            .await
            .0,
        201
    );
    let gps = app.new_device("ENT1", json!({"kind": "gps"})).await;
    let phone = app
        .new_device("ENT1", json!({"kind": "phone", "station_code": "ST1"}))
        .await;
    let unbound = app.new_device("ENT1", json!({"kind": "controller"})).await;
    let question = ask(json!({"cylinder_code": "K9"}), "ST1");
    for (who, key) in [("gps", &gps), ("phone", &phone), ("unbound", &unbound)] {
        let (status, body) = app.authorize(key, question.clone()).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{who}: {body}");
        let (status, body) = app.post_filling(key, &filling("K9", "ST1", "S1")).await;
        assert_eq!(status, 403, "{who}: {body}");
        assert_eq!(body["error"]["code"], "forbidden", "{who}: {body}");
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM filling_decisions").await,
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM fillings").await, 0);
    // Each refused question is audited as the device that asked.
    app.wait_until(|| async {
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE actor_kind = 'device' AND status = 403 \
             AND action LIKE '%/fillings/authorize'",
        )
        .await
            == 3
    })
    .await;
    let (status, body) = app.authorize(&controller, question).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .post_filling(&controller, &filling("K9", "ST1", "S1"))
        .await;
    assert_eq!(status, 201, "{body}");
}

/// Item 6: asked about another enterprise's cylinder (by code or tag), the gun gets exactly
/// the answer for an unknown one (R00: not its station, inspection date, life, last filling);
/// the truth is kept in the decision row and a regulators' alert is raised, which neither
/// enterprise sees.
#[tokio::test]
async fn authorize_answers_another_enterprises_cylinder_as_an_unknown_one() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (ent2_token, controller) = second_enterprise(&app).await;
    // ENT1's cylinder, overdue and past its life: plenty to reveal.
    let mut a = archive("A-CYL", "A-TAG");
    a["last_inspected_on"] = json!("2021-01-01");
    a["next_inspection_on"] = json!("2024-01-01");
    a["manufactured_on"] = json!("2005-01-01");
    assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);

    let strip = |mut v: Value| {
        v["decision_id"] = Value::Null;
        v
    };
    for (theirs, unknown) in [
        (
            json!({"cylinder_code": "A-CYL"}),
            json!({"cylinder_code": "NO-SUCH"}),
        ),
        (json!({"tag_id": "A-TAG"}), json!({"tag_id": "NO-SUCH-TAG"})),
    ] {
        let (status, foreign) = app.authorize(&controller, ask(theirs, "ST9")).await;
        assert_eq!(status, 200, "{foreign}");
        let (_, unknown) = app.authorize(&controller, ask(unknown, "ST9")).await;
        assert_eq!(strip(foreign.clone()), strip(unknown), "{foreign}");
        assert_eq!(foreign["reasons"][0]["rule"], "R00", "{foreign}");
        for leak in ["ST1", "2024-01-01", "2020", "R04", "R05", "R07"] {
            assert!(!foreign.to_string().contains(leak), "{leak}: {foreign}");
        }
    }
    // The decision row keeps the truth.
    let facts: Value = sqlx::query_scalar(
        "SELECT facts FROM filling_decisions WHERE cylinder_code = 'A-CYL' AND station_code = 'ST9'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let truth = &facts["foreign_cylinder"];
    assert_eq!(truth["owner_enterprise_code"], "ENT1", "{facts}");
    let rules: Vec<&str> = truth["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"R04") && rules.contains(&"R07"), "{facts}");
    // The regulators see the violation (on ENT2's station, counted per attempt).
    app.wait_until(|| async {
        let (_, page) = app
            .get_json("/api/v1/alerts?kind=foreign_cylinder_filling")
            .await;
        page["items"][0]["count"] == 2
    })
    .await;
    let (_, page) = app
        .get_json("/api/v1/alerts?kind=foreign_cylinder_filling")
        .await;
    let alert = &page["items"][0];
    assert_eq!(alert["subject"], json!({"type": "station", "id": "ST9"}));
    assert_eq!(
        alert["evidence"]["owner_enterprise_code"], "ENT1",
        "{alert}"
    );
    assert_eq!(
        alert["evidence"]["station_enterprise_code"], "ENT2",
        "{alert}"
    );
    assert_eq!(alert["district_code"], "410102", "{alert}");
    // ENT2's own view is the unknown cylinder's: illegal_tag alerts, nothing of ENT1.
    let (status, page) = app
        .send_json(Method::GET, "/api/v1/alerts", None, Some(&ent2_token))
        .await;
    assert_eq!(status, 200, "{page}");
    let text = page.to_string();
    assert!(!text.contains("foreign_cylinder_filling"), "{page}");
    assert!(!text.contains("ENT1"), "{page}");
}

/// Item 1: an enterprise admin cannot declare an inspection station; an inspection station
/// registered before grants existed cannot inspect until a regulator grants it; an inspection
/// body never inspects its own enterprise's cylinders; an inspection is recorded with its body.
#[tokio::test]
async fn inspection_bodies_are_granted_by_regulators_and_never_inspect_their_own() {
    let app = spawn_app().await;
    app.seed_registry().await;
    assert_eq!(
        app.post_json("/api/v1/cylinders", &archive("A-CYL", "A-TAG"))
            .await
            .0,
        201
    );
    let (ent2_token, _) = second_enterprise(&app).await;
    let mut self_declared = station("ST9-I", "ENT2", "自封检验站", 113.56, 34.75);
    self_declared["kind"] = json!("inspection");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/stations",
            Some(&self_declared),
            Some(&ent2_token),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(
        count(&app, "SELECT count(*) FROM stations WHERE code = 'ST9-I'").await,
        0
    );

    // One registered before the grant (as the migration leaves it): not an inspection body.
    sqlx::query(
        "INSERT INTO stations (code, enterprise_code, name, kind, location, radius_m, \
         full_stock_limit) VALUES ('ST9-OLD', 'ENT2', '旧检验站', 'inspection', \
         ST_SetSRID(ST_MakePoint(113.56, 34.75), 4326), 100, 10)",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let bound = app
        .new_device("ENT2", json!({"kind": "reader", "station_code": "ST9-OLD"}))
        .await;
    let unbound = app.new_device("ENT2", json!({})).await;
    for key in [&bound, &unbound] {
        let batch = json!({"events": [
            inspection("A-CYL", "scrap", Value::Null),
            inspection("A-CYL", "pass", json!("2099-01-01")),
        ]});
        let (status, body) = app.post_events_as(key, &batch).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["rejected"][0]["error"]["code"], "forbidden", "{body}");
        assert_eq!(body["rejected"][1]["error"]["code"], "forbidden", "{body}");
    }
    // Only an administrator or the city regulator grants it.
    let grant = "/api/v1/stations/ST9-OLD/inspection-grant";
    let (status, body) = app
        .send_json(Method::POST, grant, None, Some(&ent2_token))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/stations/ST1/inspection-grant",
            None,
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(
        status, 404,
        "a filling station is no inspection body: {body}"
    );
    let (status, body) = app.post_json(grant, &json!({})).await;
    assert_eq!(status, 200, "{body}");

    // Granted: ENT2 inspects ENT1's cylinder (recorded with ENT2), never its own.
    let mut own = archive("B-CYL", "B-TAG");
    own["owner_enterprise_code"] = json!("ENT2");
    own["station_code"] = json!("ST9");
    assert_eq!(app.post_json("/api/v1/cylinders", &own).await.0, 201);
    let batch = json!({"events": [
        inspection("A-CYL", "pass", json!("2030-11-01")),
        inspection("B-CYL", "pass", json!("2099-01-01")),
    ]});
    let (status, body) = app.post_events_as(&bound, &batch).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");
    assert_eq!(body["rejected"][0]["index"], 1, "{body}");
    assert_eq!(
        body["rejected"][0]["error"]["code"], "self_inspection",
        "{body}"
    );
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/A-CYL/history").await.1["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
    let (_, history) = app.get_json("/api/v1/cylinders/A-CYL/history").await;
    assert_eq!(
        history["items"][0]["details"]["inspected_by"], "ENT2",
        "{history}"
    );
    let (_, own_view) = app.get_json("/api/v1/cylinders/B-CYL").await;
    assert_eq!(own_view["next_inspection_on"], "2028-04-01", "{own_view}");
}

/// Item 2: staff numbers (工号) are unique per enterprise; an event, check or filling record
/// naming a number only another enterprise has is refused per item (`foreign_staff`) and never
/// joined into history; a number is resolved within the writer's enterprise (certificates
/// included).
#[tokio::test]
async fn staff_numbers_belong_to_their_enterprise() {
    let app = spawn_app().await;
    app.seed_registry().await; // ENT1's S1, certified
    let (ent2_token, controller) = second_enterprise(&app).await;
    // Both enterprises have a "001": ENT1's certified, ENT2's not.
    let ent1_001 = json!({"staff_no": "001", "enterprise_code": "ENT1", "name": "甲一号",
        "role": "filler", "certificate_no": "TS-9", "certificate_expires": "2030-01-01"});
    let ent2_001 = json!({"staff_no": "001", "enterprise_code": "ENT2", "name": "乙一号",
        "role": "filler"});
    let (status, body) = app.post_json("/api/v1/staff", &ent1_001).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/staff",
            Some(&ent2_001),
            Some(&ent2_token),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/staff",
            Some(&ent2_001),
            Some(&ent2_token),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    let mut b = archive("B-CYL", "B-TAG");
    b["owner_enterprise_code"] = json!("ENT2");
    b["station_code"] = json!("ST9");
    assert_eq!(app.post_json("/api/v1/cylinders", &b).await.0, 201);
    let device = app.new_device("ENT2", json!({})).await;
    let check = |staff_no: &str| {
        json!({"id": Uuid::new_v4(), "kind": "check", "stage": "pre", "cylinder_code": "B-CYL",
               "station_code": "ST9", "staff_no": staff_no, "passed": true,
               "items": {"valve": "ok"}, "occurred_at": "2026-11-20T09:00:00+08:00"})
    };
    let batch = json!({"events": [
        scan("fill", "B-CYL", "2026-11-20T08:00:00+08:00",
             json!({"station_code": "ST9", "staff_no": "S1"})),
        check("S1"),
        scan("fill", "B-CYL", "2026-11-20T10:00:00+08:00",
             json!({"station_code": "ST9", "staff_no": "001"})),
    ]});
    let (status, body) = app.post_events_as(&device, &batch).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 1, "{body}");
    for (i, index) in [0, 1].into_iter().enumerate() {
        assert_eq!(body["rejected"][i]["index"], index, "{body}");
        assert_eq!(
            body["rejected"][i]["error"]["code"], "foreign_staff",
            "{body}"
        );
        assert_eq!(body["rejected"][i]["error"]["field"], "staff_no", "{body}");
    }
    // The filling record names ENT1's filler: refused, nothing kept.
    let (status, body) = app
        .post_filling(&controller, &filling("B-CYL", "ST9", "S1"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "foreign_staff", "{body}");
    assert_eq!(count(&app, "SELECT count(*) FROM fillings").await, 0);

    // ENT2's "001" is ENT2's member in the history, and uncertified (ENT1's is certified).
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/B-CYL/history").await.1["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
    let (_, history) = app.get_json("/api/v1/cylinders/B-CYL/history").await;
    assert_eq!(history["items"][0]["staff_name"], "乙一号", "{history}");
    assert!(!history.to_string().contains("陈荣华"), "{history}");
    app.wait_until(|| async {
        let (_, page) = app.get_json("/api/v1/alerts?kind=staff_uncertified").await;
        page["items"].as_array().is_some_and(|i| {
            i.iter()
                .any(|a| a["subject"]["id"] == "ENT2/001" && a["enterprise_code"] == "ENT2")
        })
    })
    .await;
}

// ---- Item 7 (starvation): a flood of refused requests of no one -------------------------

/// Refused requests of no one (junk device keys) are audited without a row each: the first of
/// an address, route and status in a window at once, the repeats as one row with their count
/// when the window ends. Every refusal is still accounted for; a known device's refusals are
/// still one row each (`only_a_controller_bound_to_the_station_asks_and_records_fillings`).
#[tokio::test]
async fn a_flood_of_refused_requests_is_counted_not_written_row_by_row() {
    let mut config = crate::common::AppConfig::default();
    config
        .env
        .push(("CYLWATCH_REFUSAL_TALLY_S".into(), "2".into()));
    let app = crate::common::spawn_app_with(config, crate::common::TestDb::new().await).await;
    let question = ask(json!({"cylinder_code": "K9"}), "ST1");
    let junk = "not-a-key-of-anyone-0123456789";
    let (status, body) = app.authorize(junk, question.clone()).await;
    assert_eq!(status, 401, "{body}");
    let rows = "SELECT count(*) FROM audit_log WHERE actor_kind = 'anonymous' \
                AND action = 'POST /api/v1/fillings/authorize'";
    // The first is written at once, before any window ends.
    app.wait_until(|| async { count(&app, rows).await == 1 })
        .await;
    for _ in 0..59 {
        assert_eq!(app.authorize(junk, question.clone()).await.0, 401);
    }
    // A row stands for itself, or for the repeats it counts.
    let accounted = "SELECT coalesce(sum(coalesce((details->>'repeated')::bigint, 1)), 0)::bigint \
                     FROM audit_log WHERE actor_kind = 'anonymous' \
                     AND action = 'POST /api/v1/fillings/authorize' AND status = 401 \
                     AND source_addr = '127.0.0.1'";
    app.wait_until(|| async { count(&app, accounted).await == 60 })
        .await;
    let written = count(&app, rows).await;
    assert!(
        written <= 4,
        "60 refusals within a few 2-second windows wrote {written} rows"
    );
    let summary: Value = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE details ? 'repeated' ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(summary["window_s"], 2, "{summary}");
}

/// Two enterprises' uncertified staff members with the same number: two `staff_uncertified`
/// alerts, each its own enterprise's (the subject names the enterprise) — one open alert
/// shared by both would have shown one enterprise the other's evidence.
#[tokio::test]
async fn the_same_staff_number_in_two_enterprises_raises_two_alerts_each_its_own() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut ent2 = enterprise("ENT2");
    ent2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &ent2).await.0, 201);
    let (s, b) = app
        .post_json(
            "/api/v1/stations",
            &station("ST9", "ENT2", "乙站", 113.5, 34.7),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let mut devices = Vec::new();
    for (ent, st, cyl, name) in [
        ("ENT1", "ST1", "U-A", "甲司机"),
        ("ENT2", "ST9", "U-B", "乙司机"),
    ] {
        let staff =
            json!({"staff_no": "007", "enterprise_code": ent, "name": name, "role": "driver"});
        let (s, b) = app.post_json("/api/v1/staff", &staff).await;
        assert_eq!(s, 201, "{b}");
        let mut a = archive(cyl, &format!("T-{cyl}"));
        a["owner_enterprise_code"] = json!(ent);
        a["station_code"] = json!(st);
        assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);
        devices.push((ent, cyl, st, app.new_device(ent, json!({})).await));
    }
    for (_, cyl, st, key) in &devices {
        let batch = json!({"events": [scan("store_in", cyl, "2026-11-20T08:00:00+08:00",
            json!({"station_code": st, "staff_no": "007"}))]});
        let (status, body) = app.post_events_as(key, &batch).await;
        assert_eq!(
            (status, body["accepted"].as_i64()),
            (202, Some(1)),
            "{body}"
        );
    }
    let alerts = || async {
        app.get_json("/api/v1/alerts?kind=staff_uncertified")
            .await
            .1["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    app.wait_until(|| async { alerts().await.len() == 2 }).await;
    let mut seen: Vec<(String, String, i64)> = alerts()
        .await
        .iter()
        .map(|a| {
            (
                a["subject"]["id"].as_str().unwrap().to_owned(),
                a["enterprise_code"].as_str().unwrap().to_owned(),
                a["count"].as_i64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("ENT1/007".to_owned(), "ENT1".to_owned(), 1),
            ("ENT2/007".to_owned(), "ENT2".to_owned(), 1)
        ]
    );
}
