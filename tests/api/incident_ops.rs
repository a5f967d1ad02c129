//! Running an incident (issue 22 items 4–6): responder units and their tasks on the timeline,
//! the owning enterprise's acknowledgement, the live `incident` topic (the owner hears it,
//! another enterprise and another district do not), the search of closed incidents and the
//! downloads (CSV of the implicated cylinders, JSON of the timeline).

use crate::common::{archive, enterprise, scan, spawn_app, station, TestApp};
use crate::incidents::{as_user, error_field, user};
use crate::live::{next_json, Ws};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Instant;

/// Rows of the tables these routes write.
async fn rows(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM responder_units), (SELECT count(*) FROM incident_tasks), \
                (SELECT count(*) FROM incident_acks), (SELECT count(*) FROM incident_timeline)",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

fn in_hours(h: i64) -> String {
    (Utc::now() + Duration::hours(h)).to_rfc3339()
}

/// Opens a leak incident about ENT1's cylinder `code` (registered here) in 金水区, with a
/// caller; its id.
async fn open_about(app: &TestApp, code: &str) -> String {
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
        .await;
    assert_eq!(status, 201, "{answer}");
    let body = json!({"kind": "leak", "level": "general", "description": format!("{code} 泄漏"),
                      "cylinder_code": code, "place": {"lon": 113.66, "lat": 34.76},
                      "caller": {"name": "CALLER-CANARY", "phone": "13700000000"}});
    let (status, incident) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{incident}");
    incident["id"].as_str().unwrap().to_owned()
}

async fn unit(app: &TestApp, code: &str) {
    let body = json!({"code": code, "name": "金水消防救援站", "kind": "fire", "phone": "119"});
    let (status, answer) = app.post_json("/api/v1/responder-units", &body).await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn responder_units_are_registered_by_regulators_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    let officer = user(&app, "duty1", json!({"role": "duty_officer"})).await;
    let ent_admin = user(
        &app,
        "ent1admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let body = json!({"code": "FIRE-JS", "name": "金水消防救援站", "kind": "fire", "phone": "119"});
    let (status, created) = app.post_json("/api/v1/responder-units", &body).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["code"], "FIRE-JS");
    assert_eq!(created["kind"], "fire");
    assert_eq!(created["phone"], "119");
    assert_eq!(created["created_by"], "admin");
    let before = rows(&app).await;
    for (bad, field) in [
        (
            json!({"code": "FIRE-JS", "name": "x", "kind": "fire", "phone": "119"}),
            "code",
        ),
        (
            json!({"code": "a b", "name": "x", "kind": "fire", "phone": "119"}),
            "code",
        ),
        (
            json!({"code": "", "name": "x", "kind": "fire", "phone": "119"}),
            "code",
        ),
        (
            json!({"code": "G1", "name": " ", "kind": "fire", "phone": "119"}),
            "name",
        ),
        (
            json!({"code": "G1", "name": "x", "kind": "fire", "phone": "call me"}),
            "phone",
        ),
        (
            json!({"code": "G1", "name": "x", "kind": "army", "phone": "119"}),
            "kind",
        ),
        (json!({"code": "G1", "name": "x", "phone": "119"}), "kind"),
    ] {
        let (status, answer) = app.post_json("/api/v1/responder-units", &bad).await;
        assert!((400..500).contains(&status), "{bad}: {status} {answer}");
        assert_eq!(error_field(&answer), Some(field), "{bad}: {answer}");
    }
    // Duty officers and enterprises do not register units; duty officers list them.
    let good = json!({"code": "G1", "name": "x", "kind": "police", "phone": "110"});
    for token in [&officer, &ent_admin] {
        let (status, answer) = as_user(
            &app,
            Method::POST,
            "/api/v1/responder-units",
            Some(&good),
            token,
        )
        .await;
        assert_eq!(status, 403, "{answer}");
    }
    assert_eq!(rows(&app).await, before, "nothing changed");
    let (status, list) =
        as_user(&app, Method::GET, "/api/v1/responder-units", None, &officer).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["code"], "FIRE-JS");
    let (status, _) = as_user(
        &app,
        Method::GET,
        "/api/v1/responder-units",
        None,
        &ent_admin,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn tasks_land_on_the_timeline_move_forward_only_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let officer = user(&app, "duty1", json!({"role": "duty_officer"})).await;
    unit(&app, "FIRE-JS").await;
    let id = open_about(&app, "TK1").await;
    let tasks = format!("/api/v1/incidents/{id}/tasks");
    let due = in_hours(1);
    let body = json!({"unit_code": "FIRE-JS", "what": "关阀、疏散、警戒", "due_at": due});
    let (status, task) = as_user(&app, Method::POST, &tasks, Some(&body), &officer).await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["unit_code"], "FIRE-JS");
    assert_eq!(task["unit_name"], "金水消防救援站");
    assert_eq!(task["unit_kind"], "fire");
    assert_eq!(task["what"], "关阀、疏散、警戒");
    assert_eq!(task["status"], "assigned");
    assert_eq!(task["created_by"], "duty1");
    assert!(task["created_at"].is_string() && task["due_at"].is_string());
    let task_id = task["id"].as_str().unwrap().to_owned();

    // Bad tasks: 4xx naming the field, nothing written.
    let before = rows(&app).await;
    for (bad, field) in [
        (
            json!({"unit_code": "NOPE", "what": "x", "due_at": due}),
            "unit_code",
        ),
        (
            json!({"unit_code": "FIRE-JS", "what": "x", "due_at": in_hours(-1)}),
            "due_at",
        ),
        (
            json!({"unit_code": "FIRE-JS", "what": "x", "due_at": "tomorrow"}),
            "due_at",
        ),
        (
            json!({"unit_code": "FIRE-JS", "what": "  ", "due_at": due}),
            "what",
        ),
        (json!({"unit_code": "FIRE-JS", "due_at": due}), "what"),
    ] {
        let (status, answer) = as_user(&app, Method::POST, &tasks, Some(&bad), &officer).await;
        assert!((400..500).contains(&status), "{bad}: {status} {answer}");
        assert_eq!(error_field(&answer), Some(field), "{bad}: {answer}");
    }
    assert_eq!(rows(&app).await, before, "nothing changed");

    // The unit reports: forward (a step may be skipped), never back, never a made-up status.
    let move_to = |status: &'static str, note: Option<&'static str>| {
        let path = format!("/api/v1/incidents/{id}/tasks/{task_id}/status");
        let app = &app;
        let officer = &officer;
        async move {
            let body = json!({"status": status, "note": note});
            as_user(app, Method::POST, &path, Some(&body), officer).await
        }
    };
    let (status, moved) = move_to("en_route", Some("出车")).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["status"], "en_route");
    assert_eq!(moved["note"], "出车");
    let (status, moved) = move_to("done", None).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["status"], "done");
    let before = rows(&app).await;
    for (bad, code) in [
        ("on_scene", 409),
        ("cancelled", 409),
        ("assigned", 409),
        ("arrived", 400),
    ] {
        let (status, answer) = move_to(bad, None).await;
        assert_eq!(status, code, "{bad}: {answer}");
        assert_eq!(error_field(&answer), Some("status"), "{bad}: {answer}");
    }
    let other = format!(
        "/api/v1/incidents/{id}/tasks/{}/status",
        uuid::Uuid::new_v4()
    );
    let (status, _) = as_user(
        &app,
        Method::POST,
        &other,
        Some(&json!({"status": "done"})),
        &officer,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(rows(&app).await, before, "nothing changed");

    // The incident carries its tasks; the timeline has every step with who and when.
    let (status, incident) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200, "{incident}");
    assert_eq!(incident["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(incident["tasks"][0]["status"], "done");
    let steps: Vec<(String, String, String)> = incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["task_id"] == task_id.as_str())
        .map(|e| {
            (
                e["what"].as_str().unwrap().to_owned(),
                e["task_status"].as_str().unwrap().to_owned(),
                e["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("task_assigned", "assigned"),
        ("task_status", "en_route"),
        ("task_status", "done"),
    ]
    .iter()
    .map(|(w, s)| ((*w).to_owned(), (*s).to_owned(), "duty1".to_owned()))
    .collect();
    assert_eq!(steps, expected, "{incident}");
    assert!(incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["what"] != "task_status" || e["unit_code"] == "FIRE-JS"));

    // A closed incident takes no new task (reopen it first).
    let (status, answer) = app
        .post_json(
            &format!("/api/v1/incidents/{id}/status"),
            &json!({"status": "closed"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let before = rows(&app).await;
    let (status, answer) = as_user(&app, Method::POST, &tasks, Some(&body), &officer).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "record_inactive");
    assert_eq!(rows(&app).await, before);
}

#[tokio::test]
async fn the_owning_enterprise_acknowledges_others_cannot() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut e2 = enterprise("ENT2");
    e2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    let ent1 = user(
        &app,
        "ent1staff",
        json!({"role": "enterprise_staff", "enterprise_code": "ENT1"}),
    )
    .await;
    let ent2 = user(
        &app,
        "ent2admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
    )
    .await;
    let regulator = user(
        &app,
        "jinshui",
        json!({"role": "district_regulator", "district_code": "410105"}),
    )
    .await;
    let id = open_about(&app, "AK1").await;
    let ack = format!("/api/v1/incidents/{id}/ack");
    let (_, incident) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(incident["acks"], json!([]));
    assert_eq!(incident["unacknowledged"], json!(["ENT1"]));
    let before = rows(&app).await;
    // Another enterprise: as if there were no incident; a regulator: not theirs to acknowledge.
    let (status, answer) = as_user(&app, Method::POST, &ack, None, &ent2).await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = as_user(&app, Method::POST, &ack, None, &regulator).await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = app.post_json(&ack, &json!({})).await;
    assert_eq!(status, 403, "admin: {answer}");
    assert_eq!(rows(&app).await, before, "nothing changed");

    let (status, acked) = as_user(&app, Method::POST, &ack, None, &ent1).await;
    assert_eq!(status, 201, "{acked}");
    assert_eq!(acked["unacknowledged"], json!([]));
    assert_eq!(acked["acks"][0]["enterprise_code"], "ENT1");
    assert_eq!(acked["acks"][0]["by"], "ent1staff");
    assert!(acked["caller"].is_null(), "redacted for the enterprise");
    let entry = acked["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(entry["what"], "acknowledged");
    assert_eq!(entry["enterprise_code"], "ENT1");
    assert_eq!(entry["note"], "acknowledged by ENT1");
    // Again: nothing new.
    let after = rows(&app).await;
    let (status, again) = as_user(&app, Method::POST, &ack, None, &ent1).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["acks"].as_array().unwrap().len(), 1);
    assert_eq!(rows(&app).await, after);
    // The list shows who has acknowledged.
    let (_, page) = app.get_json("/api/v1/incidents?status=active").await;
    assert_eq!(page["items"][0]["acks"][0]["enterprise_code"], "ENT1");
}

/// Every `incident` message the socket receives within `wait`.
async fn incidents_within(ws: &mut Ws, wait: std::time::Duration) -> Vec<Value> {
    let mut out = Vec::new();
    let end = Instant::now() + wait;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(msg) = tokio::time::timeout(left, next_json(ws)).await else {
            break;
        };
        if msg["type"] == "incident" {
            out.push(msg);
        }
    }
    out
}

/// Reads until an `incident` message satisfies `pred`.
async fn incident_until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let msg = next_json(ws).await;
        if msg["type"] == "incident" && pred(&msg) {
            return msg;
        }
    }
}

async fn socket(app: &TestApp, token: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(app.live_url_for(token).await)
        .await
        .expect("WebSocket connect");
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    ws
}

#[tokio::test]
async fn the_incident_topic_reaches_the_owner_and_no_one_else() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut e2 = enterprise("ENT2");
    e2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    let ent1 = user(
        &app,
        "ent1admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let ent2 = user(
        &app,
        "ent2admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
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
    let officer = user(&app, "duty1", json!({"role": "duty_officer"})).await;
    unit(&app, "FIRE-JS").await;
    let mut owner = socket(&app, &ent1).await;
    let mut other = socket(&app, &ent2).await;
    let mut far = socket(&app, &zhongyuan).await;
    let mut near = socket(&app, &jinshui).await;
    let mut desk = socket(&app, &officer).await;

    // Opened: the owner hears it, redacted; the duty desk with the caller; the district too.
    let id = open_about(&app, "LV1").await;
    let mine = incident_until(&mut owner, |m| m["id"] == id.as_str()).await;
    assert_eq!(mine["status"], "open");
    assert_eq!(mine["enterprise_codes"], json!(["ENT1"]));
    assert_eq!(mine["unacknowledged"], json!(["ENT1"]));
    assert!(mine["caller"].is_null(), "{mine}");
    assert!(!mine.to_string().contains("CALLER-CANARY"));
    let full = incident_until(&mut desk, |m| m["id"] == id.as_str()).await;
    assert_eq!(full["caller"]["name"], "CALLER-CANARY");
    let district = incident_until(&mut near, |m| m["id"] == id.as_str()).await;
    assert_eq!(district["caller"]["name"], "CALLER-CANARY");

    // A task: the owner hears the incident again, with the task and its timeline entry.
    let body = json!({"unit_code": "FIRE-JS", "what": "疏散", "due_at": in_hours(1)});
    let (status, task) = as_user(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/tasks"),
        Some(&body),
        &officer,
    )
    .await;
    assert_eq!(status, 201, "{task}");
    let mine = incident_until(&mut owner, |m| m["tasks"].as_array().unwrap().len() == 1).await;
    assert_eq!(mine["tasks"][0]["id"], task["id"]);
    assert_eq!(
        mine["timeline"].as_array().unwrap().last().unwrap()["what"],
        "task_assigned"
    );
    // The owner acknowledges: heard too.
    let (status, _) = as_user(
        &app,
        Method::POST,
        &format!("/api/v1/incidents/{id}/ack"),
        None,
        &ent1,
    )
    .await;
    assert_eq!(status, 201);
    let mine = incident_until(&mut owner, |m| m["acks"].as_array().unwrap().len() == 1).await;
    assert_eq!(mine["unacknowledged"], json!([]));

    // Another enterprise and another district's regulator heard nothing of it.
    for (who, ws) in [("ENT2", &mut other), ("中原区", &mut far)] {
        let heard = incidents_within(ws, std::time::Duration::from_millis(1500)).await;
        assert!(heard.is_empty(), "{who} heard {heard:?}");
    }
    // A subscriber without the topic hears nothing either.
    let subscribe = json!({"subscribe": ["alerts"]}).to_string();
    futures_util::SinkExt::send(
        &mut owner,
        tokio_tungstenite::tungstenite::Message::text(subscribe),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &json!({"note": "现场已警戒"}),
        )
        .await;
    assert_eq!(status, 201);
    let noted = incident_until(&mut desk, |m| {
        m["timeline"].to_string().contains("现场已警戒")
    })
    .await;
    assert_eq!(noted["id"], id.as_str());
    let heard = incidents_within(&mut owner, std::time::Duration::from_millis(1000)).await;
    assert!(heard.is_empty(), "unsubscribed owner heard {heard:?}");
}

#[tokio::test]
async fn a_recall_for_the_incident_and_its_progress_are_pushed_live() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let ent1 = user(
        &app,
        "ent1admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let id = open_about(&app, "RP1").await;
    let mut owner = socket(&app, &ent1).await;
    let recall = json!({"reason": "同批次泄漏", "incident_id": id, "cylinder_codes": ["RP1"]});
    let (status, created) = app.post_json("/api/v1/recalls", &recall).await;
    assert_eq!(status, 201, "{created}");
    let mine = incident_until(&mut owner, |m| m["recalls"].as_array().unwrap().len() == 1).await;
    assert_eq!(mine["recalls"][0]["id"], created["id"]);
    assert_eq!(mine["recalls"][0]["progress"]["recalled"], 1);
    assert_eq!(mine["recalls"][0]["progress"]["located"], 0);
    let entry = mine["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(entry["what"], "recall_issued");
    assert_eq!(entry["recall_id"], created["id"]);
    // A scan locates the cylinder: the progress worker pushes the incident again.
    let store_in = scan(
        "store_in",
        "RP1",
        &Utc::now().to_rfc3339(),
        json!({"station_code": "ST1", "staff_no": "S1"}),
    );
    let (status, answer) = app.post_events(&json!({"events": [store_in]})).await;
    assert_eq!(status, 202, "{answer}");
    let recall_path = format!("/api/v1/recalls/{}", created["id"].as_str().unwrap());
    app.wait_until(|| async {
        let (_, p) = app.get_json(&recall_path).await;
        p["progress"]["located"] == 1
    })
    .await;
    let mine = incident_until(&mut owner, |m| m["recalls"][0]["progress"]["located"] == 1).await;
    assert_eq!(mine["recalls"][0]["progress"]["recovered"], 1, "{mine}");
    let (_, got) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(
        got["recalls"][0]["progress"],
        mine["recalls"][0]["progress"]
    );
}

#[tokio::test]
async fn closed_incidents_are_searchable_by_kind_place_enterprise_date_and_words() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut e2 = enterprise("ENT2");
    e2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    let mut st9 = station("ST9", "ENT2", "九号站", 113.55, 34.75);
    st9["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/stations", &st9).await.0, 201);
    let mut foreign = archive("SR9", "T-SR9");
    foreign["owner_enterprise_code"] = json!("ENT2");
    foreign["station_code"] = json!("ST9");
    assert_eq!(app.post_json("/api/v1/cylinders", &foreign).await.0, 201);
    let ent2 = user(
        &app,
        "ent2admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
    )
    .await;
    let leak = open_about(&app, "SR1").await; // ENT1, 金水区, closed below
    let fire = open_about(&app, "SR2").await; // ENT1, stays open
    let body = json!({"kind": "fire", "level": "large", "description": "餐馆起火",
                      "cylinder_code": "SR9", "place": {"lon": 113.55, "lat": 34.755}});
    let (status, answer) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{answer}");
    let foreign_fire = answer["id"].as_str().unwrap().to_owned();
    for id in [&leak, &foreign_fire] {
        let (status, answer) = app
            .post_json(
                &format!("/api/v1/incidents/{id}/status"),
                &json!({"status": "closed", "note": "处置完毕"}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    let ids = |page: &Value| -> Vec<String> {
        let mut v: Vec<String> = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<String>>()
    };
    let from = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let to = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let enc = |s: &str| s.replace('+', "%2B");
    for (query, expected) in [
        (
            "status=closed".to_owned(),
            sorted(vec![&leak, &foreign_fire]),
        ),
        ("status=active".to_owned(), sorted(vec![&fire])),
        ("status=open,responding".to_owned(), sorted(vec![&fire])),
        (
            "status=closed&kind=fire".to_owned(),
            sorted(vec![&foreign_fire]),
        ),
        (
            "status=closed&enterprise_code=ENT1".to_owned(),
            sorted(vec![&leak]),
        ),
        (
            "status=closed&district_code=410102".to_owned(),
            sorted(vec![&foreign_fire]),
        ),
        ("status=closed&q=SR1".to_owned(), sorted(vec![&leak])),
        (
            "status=closed&q=%E8%B5%B7%E7%81%AB".to_owned(),
            sorted(vec![&foreign_fire]),
        ),
        (
            "status=closed&q=%E5%A4%84%E7%BD%AE".to_owned(),
            sorted(vec![&leak, &foreign_fire]),
        ),
        (
            "status=closed&near=113.66,34.76&radius_m=300".to_owned(),
            sorted(vec![&leak]),
        ),
        (
            format!("status=closed&from={}&to={}", enc(&from), enc(&to)),
            sorted(vec![&leak, &foreign_fire]),
        ),
        (format!("status=closed&to={}", enc(&from)), Vec::new()),
    ] {
        let (status, page) = app.get_json(&format!("/api/v1/incidents?{query}")).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(ids(&page), expected, "{query}: {page}");
    }
    // An enterprise searches its own only.
    let (status, page) = as_user(
        &app,
        Method::GET,
        "/api/v1/incidents?status=closed",
        None,
        &ent2,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), vec![foreign_fire.clone()]);
    // Bad searches name the parameter.
    for (query, field) in [
        ("status=shut", "status"),
        ("status=closed,", "status"),
        ("near=113.66", "near"),
        ("near=0,0", "near"),
        ("near=113.66,34.76&radius_m=0", "radius_m"),
        ("radius_m=100", "radius_m"),
        ("q=", "q"),
    ] {
        let (status, answer) = app.get_json(&format!("/api/v1/incidents?{query}")).await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert_eq!(error_field(&answer), Some(field), "{query}: {answer}");
    }
}

#[tokio::test]
async fn downloads_list_the_implicated_cylinders_and_the_timeline_within_the_share() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut e2 = enterprise("ENT2");
    e2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    let mut st9 = station("ST9", "ENT2", "九号站", 113.55, 34.75);
    st9["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/stations", &st9).await.0, 201);
    let mut foreign = archive("DL9", "T-DL9");
    foreign["owner_enterprise_code"] = json!("ENT2");
    foreign["station_code"] = json!("ST9");
    assert_eq!(app.post_json("/api/v1/cylinders", &foreign).await.0, 201);
    assert_eq!(
        app.post_json("/api/v1/cylinders", &archive("DL2", "T-DL2"))
            .await
            .0,
        201
    );
    let ent1 = user(
        &app,
        "ent1admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT1"}),
    )
    .await;
    let ent2 = user(
        &app,
        "ent2admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
    )
    .await;
    unit(&app, "FIRE-JS").await;
    let id = open_about(&app, "DL1").await;
    let recall = json!({"reason": "同批次", "incident_id": id,
                        "cylinder_codes": ["DL1", "DL2", "DL9"]});
    let (status, created) = app.post_json("/api/v1/recalls", &recall).await;
    assert_eq!(status, 201, "{created}");
    let body = json!({"unit_code": "FIRE-JS", "what": "疏散", "due_at": in_hours(2)});
    let (status, _) = app
        .post_json(&format!("/api/v1/incidents/{id}/tasks"), &body)
        .await;
    assert_eq!(status, 201);

    let get = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.client.get(app.url(&path));
            req = req.bearer_auth(token.unwrap_or_else(|| app.admin_token.clone()));
            let response = req.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.unwrap();
            (status, headers, bytes)
        }
    };
    let report = format!("/api/v1/incidents/{id}/report.csv");
    let (status, headers, bytes) = get(report.clone(), None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("code,owner_enterprise_code,medium,compliance,"),
        "{text}"
    );
    let codes: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0], cells[10])
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            ("DL1", "incident"),
            ("DL1", "recall"),
            ("DL2", "recall"),
            ("DL9", "recall")
        ],
        "{text}"
    );
    assert!(lines[1].contains(",LPG,ok,"), "{text}");
    assert!(lines[2].ends_with(&format!(",open,{id}")), "{text}");
    // ENT1: its share only; ENT2: not its incident at all.
    let (status, _, bytes) = get(report.clone(), Some(ent1.clone())).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.contains("DL2") && !text.contains("DL9") && !text.contains("ENT2"),
        "{text}"
    );
    let timeline = format!("/api/v1/incidents/{id}/timeline.json");
    for path in [&report, &timeline] {
        let (status, _, bytes) = get(path.clone(), Some(ent2.clone())).await;
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&bytes));
    }
    // The timeline download: the incident as the asker's GET answers it.
    let (status, headers, bytes) = get(timeline.clone(), Some(ent1.clone())).await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["id"], id.as_str());
    assert!(doc["caller"].is_null(), "redacted: {doc}");
    assert_eq!(doc["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["recalls"][0]["progress"]["recalled"], 2,
        "ENT1's share: {doc}"
    );
    let whats: Vec<&str> = doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["opened", "recall_issued", "task_assigned"], "{doc}");
    let (status, _, bytes) = get(timeline, None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["caller"]["name"], "CALLER-CANARY");
    assert_eq!(doc["recalls"][0]["progress"]["recalled"], 3);
}
