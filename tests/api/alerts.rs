//! Alerts from the filling path, end to end: refusals and unknown tags at the gun, overfill,
//! tare mismatch, late records and filling against a refusal, each raised once per sighting and
//! counted on the open alert; pushed live; acknowledged and resolved by duty officers (notes,
//! audit, scope); a critical alert nobody acknowledges is escalated and pushed again.

use crate::common::{spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use crate::filling::{ask, cylinder, filling};
use crate::live::{connect, next_json, until};
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "Officer-Test-2026!";

/// The alerts listed for `query` (admin).
async fn alerts(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, page) = app.get_json(&format!("/api/v1/alerts{query}")).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// Waits until exactly one alert matches `query` and satisfies `pred`; returns it.
async fn one_alert(app: &TestApp, query: &str, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let found = alerts(app, query).await;
        if found.len() == 1 && pred(&found[0]) {
            return found[0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no single alert for {query}: {:?}",
        alerts(app, query).await
    );
}

async fn other_get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    app.send_json(Method::GET, path, None, Some(token)).await
}

async fn user(app: &TestApp, name: &str, body: Value) -> String {
    let mut body = body;
    body["username"] = json!(name);
    body["password"] = json!(PASSWORD);
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{answer}");
    app.login(name, PASSWORD).await
}

#[tokio::test]
async fn the_filling_path_raises_counts_pushes_and_duty_officers_handle_its_alerts() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "AL1", "ST1", json!({})).await;
    let mut ws = connect(&app).await;
    let snapshot = next_json(&mut ws).await;
    assert_eq!(
        (&snapshot["type"], &snapshot["alerts"]),
        (&json!("snapshot"), &json!([]))
    );

    // An unknown tag at the gun: illegal_tag on the station.
    let (_, answer) = app
        .authorize(
            &controller,
            json!({"tag_id": "FAKE-TAG", "station_code": "ST1", "gun_no": "G1", "medium": "LPG",
               "staff_no": "S1"}),
        )
        .await;
    assert_eq!(answer["allowed"], false, "{answer}");
    let illegal = one_alert(&app, "?kind=illegal_tag", |_| true).await;
    assert_eq!(
        (
            &illegal["severity"],
            &illegal["status"],
            &illegal["subject"],
            &illegal["count"]
        ),
        (
            &json!("high"),
            &json!("open"),
            &json!({"type": "station", "id": "ST1"}),
            &json!(1)
        ),
        "{illegal}"
    );
    assert_eq!(illegal["evidence"]["tag_id"], "FAKE-TAG");
    assert_eq!(illegal["evidence"]["decision_id"], answer["decision_id"]);
    assert_eq!(
        (
            &illegal["enterprise_code"],
            &illegal["place_name"],
            &illegal["place"]
        ),
        (
            &json!("ENT1"),
            &json!("一号充装站"),
            &json!({"lon": 113.62, "lat": 34.75})
        )
    );
    let pushed = until(&mut ws, |m| m["type"] == "alert").await;
    assert_eq!(pushed["kind"], "illegal_tag");
    assert_eq!(pushed["id"], illegal["id"]);

    // Two refusals of a cylinder without its pre-fill check: one alert, counted twice.
    let (_, first) = app.authorize(&controller, ask("AL1", "ST1", "LPG")).await;
    let (_, second) = app.authorize(&controller, ask("AL1", "ST1", "LPG")).await;
    assert_eq!(
        (&first["allowed"], &second["allowed"]),
        (&json!(false), &json!(false))
    );
    let refused = one_alert(&app, "?kind=filling_refused", |a| a["count"] == 2).await;
    assert_eq!(refused["severity"], "medium");
    assert_eq!(refused["evidence"]["decision_id"], second["decision_id"]);
    assert!(
        refused["evidence"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "R10"),
        "{refused}"
    );
    let again = until(&mut ws, |m| m["type"] == "alert" && m["count"] == 2).await;
    assert_eq!(again["kind"], "filling_refused");

    // A filling record light before, overfilled and a minute late: three alerts.
    let (status, answer) = app
        .post_filling(&controller, &filling("AL1", 14.0, 30.0, 60))
        .await;
    assert_eq!(status, 201, "{answer}");
    let overfill = one_alert(&app, "?kind=overfill", |_| true).await;
    assert_eq!(
        (&overfill["subject"], &overfill["severity"]),
        (&json!({"type": "cylinder", "id": "AL1"}), &json!("high"))
    );
    assert_eq!(
        (
            &overfill["evidence"]["net_kg"],
            &overfill["evidence"]["max_fill_kg"]
        ),
        (&json!(16.0), &json!(14.5)),
        "{overfill}"
    );
    assert_eq!(overfill["evidence"]["filling_id"], answer["id"]);
    let tare = one_alert(&app, "?kind=tare_mismatch", |_| true).await;
    assert_eq!(
        (
            &tare["evidence"]["mass_before_kg"],
            &tare["evidence"]["archived_tare_kg"]
        ),
        (&json!(14.0), &json!(16.4))
    );
    let late = one_alert(&app, "?kind=late_filling_record", |_| true).await;
    assert_eq!(late["subject"], json!({"type": "station", "id": "ST1"}));
    assert!(late["evidence"]["late_s"].as_f64().unwrap() >= 60.0);
    assert_eq!(late["severity"], "low");

    // Filling against the gun's refusal: the station's refusal alert turns critical.
    let mut body = filling("AL1", 16.5, 30.5, 0);
    body["decision_id"] = second["decision_id"].clone();
    let (status, answer) = app.post_filling(&controller, &body).await;
    assert_eq!(status, 201, "{answer}");
    let critical = one_alert(&app, "?kind=filling_refused", |a| a["count"] == 3).await;
    assert_eq!(critical["severity"], "critical");
    assert_eq!(critical["evidence"]["filled_despite_refusal"], true);
    assert_eq!(
        alerts(&app, "?severity=critical&status=open").await.len(),
        1
    );

    // Scope: another enterprise's users and another district's regulator see none of them.
    assert_eq!(
        app.post_json("/api/v1/enterprises", &crate::common::enterprise("ENT2"))
            .await
            .0,
        201
    );
    let other = user(
        &app,
        "ent2-admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
    )
    .await;
    let far = user(
        &app,
        "erqi-regulator",
        json!({"role": "district_regulator", "district_code": "410103"}),
    )
    .await;
    let own = user(
        &app,
        "ent1-staff",
        json!({"role": "enterprise_staff", "enterprise_code": "ENT1"}),
    )
    .await;
    let officer = user(&app, "duty-1", json!({"role": "duty_officer"})).await;
    for (who, token, expect) in [
        ("ENT2 admin", &other, 0),
        ("Erqi regulator", &far, 0),
        ("ENT1 staff", &own, 5),
        ("duty officer", &officer, 5),
    ] {
        // ST1, where the alerts arise, lies in 中原区 (410102): its alerts are that district's.
        for query in ["", "?enterprise_code=ENT1", "?district_code=410102"] {
            let (status, page) = app
                .send_json(
                    Method::GET,
                    &format!("/api/v1/alerts{query}"),
                    None,
                    Some(token),
                )
                .await;
            let own_district = who == "ENT2 admin" && query.contains("district");
            if expect == 0 && !query.is_empty() && !own_district {
                // Another enterprise or district answers as if it did not exist.
                assert_eq!(status, 404, "{who} {query}: {page}");
                continue;
            }
            assert_eq!(status, 200, "{who}: {page}");
            assert_eq!(
                page["items"].as_array().unwrap().len(),
                expect,
                "{who} {query}: {page}"
            );
        }
        let (status, _) = app
            .send_json(
                Method::GET,
                &format!("/api/v1/alerts/{}", critical["id"].as_str().unwrap()),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, if expect == 0 { 404 } else { 200 }, "{who}");
    }

    // Handling: only duty officers, regulators and administrators; critical takes a note.
    let id = critical["id"].as_str().unwrap();
    let ack = format!("/api/v1/alerts/{id}/ack");
    let resolve = format!("/api/v1/alerts/{id}/resolve");
    let send = |path: String, body: Value, token: String| {
        let app = &app;
        async move {
            app.send_json(Method::POST, &path, Some(&body), Some(&token))
                .await
        }
    };
    let (status, body) = send(ack.clone(), json!({"note": "看到了"}), own.clone()).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, body) = send(ack.clone(), json!({"note": "  "}), officer.clone()).await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["field"]),
        (400, &json!("invalid_field"), &json!("note"))
    );
    let (status, body) = send(ack.clone(), json!({"note": 7}), officer.clone()).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        ack.clone(),
        json!({"note": "x", "by": "me"}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        ack.clone(),
        json!({"note": "x".repeat(2001)}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        "/api/v1/alerts/00000000-0000-0000-0000-000000000000/ack".into(),
        json!({"note": "x"}),
        officer.clone(),
    )
    .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _) = send(
        "/api/v1/alerts/not-a-uuid/ack".into(),
        json!({"note": "x"}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        alerts(&app, "?status=open").await.len(),
        5,
        "refused handling changed nothing"
    );

    let (status, acked) = send(
        ack.clone(),
        json!({"note": "已电话联系站长，暂停该枪"}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(acked["ack"]["by"], "duty-1");
    assert_eq!(acked["ack"]["note"], "已电话联系站长，暂停该枪");
    let pushed = until(&mut ws, |m| {
        m["type"] == "alert" && m["status"] == "acknowledged"
    })
    .await;
    assert_eq!(pushed["id"], critical["id"]);
    let (status, body) = send(ack.clone(), json!({"note": "again"}), officer.clone()).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("invalid_transition"))
    );
    let (status, _) = send(resolve.clone(), json!({}), officer.clone()).await;
    assert_eq!(status, 400, "resolving takes a note");
    let (status, resolved) = send(
        resolve.clone(),
        json!({"note": "站方整改完毕，复查合格"}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(
        (&resolved["status"], &resolved["resolution"]["by"]),
        (&json!("resolved"), &json!("duty-1"))
    );
    let (status, _) = send(resolve.clone(), json!({"note": "again"}), officer.clone()).await;
    assert_eq!(status, 409);
    // A low alert is acknowledged without a note, and resolving an open one acknowledges it.
    let late_id = late["id"].as_str().unwrap();
    let (status, body) = send(
        format!("/api/v1/alerts/{late_id}/ack"),
        json!({}),
        officer.clone(),
    )
    .await;
    assert_eq!((status, &body["status"]), (200, &json!("acknowledged")));
    let tare_id = tare["id"].as_str().unwrap();
    let (status, body) = send(
        format!("/api/v1/alerts/{tare_id}/resolve"),
        json!({"note": "秤已校准"}),
        officer.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ack"]["note"], "秤已校准");

    // Both handlings are in the audit log with their notes.
    let notes: Vec<String> = sqlx::query_scalar(
        "SELECT details->>'note' FROM audit_log WHERE action LIKE 'POST /api/v1/alerts/%' \
         AND status = 200 AND actor = 'duty-1' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        notes,
        [
            "已电话联系站长，暂停该枪",
            "站方整改完毕，复查合格",
            "",
            "秤已校准"
        ]
    );

    // A refusal after resolution opens a new alert; the resolved one stays as it was.
    let (_, _) = app.authorize(&controller, ask("AL1", "ST1", "LPG")).await;
    let reopened = one_alert(&app, "?kind=filling_refused&status=open", |_| true).await;
    assert_ne!(reopened["id"], critical["id"]);
    assert_eq!(
        (&reopened["count"], &reopened["severity"]),
        (&json!(1), &json!("medium"))
    );
    let old = one_alert(&app, "?kind=filling_refused&status=resolved", |_| true).await;
    assert_eq!(old["count"], 3);

    // The statistics of the same day: decisions, refusals by rule, records; alerts by kind.
    let (status, stats) = app.get_json("/api/v1/stats/fillings?bucket=hour").await;
    assert_eq!(status, 200, "{stats}");
    let sum = |k: &str| -> i64 {
        stats["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b[k].as_i64().unwrap())
            .sum()
    };
    assert_eq!(
        (
            sum("decisions"),
            sum("refusals"),
            sum("fillings"),
            sum("flagged"),
            sum("late")
        ),
        (4, 4, 2, 2, 1),
        "{stats}"
    );
    // Each count links to the records or decisions behind it, as many as it counts; the same
    // lists as CSV have a row for each.
    for bucket in stats["buckets"].as_array().unwrap() {
        for figure in ["fillings", "flagged", "late", "decisions", "refusals"] {
            let link = bucket["links"][figure].as_str().unwrap();
            let (status, list) = app.get_json(link).await;
            assert_eq!(status, 200, "{link}: {list}");
            let items = list["items"].as_array().unwrap().len();
            assert_eq!(
                items,
                usize::try_from(bucket[figure].as_i64().unwrap()).unwrap(),
                "{link}: {list}"
            );
            let (status, csv) = app.get_text(&format!("{link}&format=csv")).await;
            assert_eq!((status, csv.lines().count()), (200, 1 + items), "{csv}");
        }
    }
    for r in stats["refusals_by_rule"].as_array().unwrap() {
        let (_, list) = app.get_json(r["link"].as_str().unwrap()).await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(
            i64::try_from(items.len()).unwrap(),
            r["count"].as_i64().unwrap()
        );
        assert!(items
            .iter()
            .all(|d| d["allowed"] == false && d["rules"].as_array().unwrap().contains(&r["rule"])));
    }
    let (_, late) = app.get_json("/api/v1/fillings?late=true").await;
    assert!(
        late["items"][0]["late_s"].as_f64().unwrap() > 10.0,
        "{late}"
    );
    for bad in [
        "/api/v1/fillings?flagged=sometimes",
        "/api/v1/fillings?format=pdf",
        "/api/v1/fillings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "/api/v1/fillings/decisions?rule=R99",
        "/api/v1/fillings/decisions?limit=0",
        "/api/v1/fillings/decisions?cursor=nonsense",
    ] {
        let (status, body) = app.get_json(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = other_get(&app, &other, "/api/v1/fillings?station_code=ST1").await;
    assert_eq!(status, 404, "another enterprise's station is not found");
    let (_, theirs) = other_get(&app, &other, "/api/v1/fillings/decisions").await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");
    let rules = &stats["refusals_by_rule"];
    assert!(
        rules
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "R00" && r["count"] == 1),
        "{rules}"
    );
    let (_, by_kind) = app.get_json("/api/v1/stats/alerts").await;
    let refused = by_kind["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "filling_refused")
        .unwrap()
        .clone();
    assert_eq!(
        (
            &refused["opened"],
            &refused["acknowledged"],
            &refused["resolved"],
            &refused["open"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(1)),
        "{by_kind}"
    );
    assert!(refused["mean_ack_s"].as_f64().unwrap() >= 0.0);
    // Each count links to the alerts behind it, and the list is as long as the count; the
    // same list as CSV has a row for each.
    for kind in by_kind["kinds"].as_array().unwrap() {
        for figure in ["opened", "acknowledged", "resolved", "open"] {
            let link = kind["links"][figure].as_str().unwrap();
            let (status, list) = app.get_json(link).await;
            assert_eq!(status, 200, "{link}: {list}");
            assert_eq!(
                list["items"].as_array().unwrap().len(),
                usize::try_from(kind[figure].as_i64().unwrap()).unwrap(),
                "{link}"
            );
            let (status, csv) = app.get_text(&format!("{link}&format=csv")).await;
            assert_eq!(status, 200, "{csv}");
            assert_eq!(
                csv.lines().count(),
                1 + list["items"].as_array().unwrap().len(),
                "{csv}"
            );
        }
    }
    let (_, csv) = app
        .get_text("/api/v1/alerts?kind=filling_refused&format=csv")
        .await;
    assert!(csv.starts_with("id,kind,severity,status,"), "{csv}");
    assert!(csv.contains(",filling_refused,"), "{csv}");
    for bad in ["?format=xml", "?acknowledged=perhaps", "?from=yesterday"] {
        let (status, body) = app.get_json(&format!("/api/v1/alerts{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    for bad in [
        "?bucket=week",
        "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let (status, _) = app.get_json(&format!("/api/v1/stats/fillings{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = other_get(&app, &other, "/api/v1/stats/alerts?enterprise_code=ENT1").await;
    assert_eq!(status, 404, "another enterprise's figures are not found");

    // Listing: filters, pagination, bad queries.
    let all = alerts(&app, "").await;
    assert_eq!(all.len(), 6);
    let (_, page) = app.get_json("/api/v1/alerts?limit=4").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app
        .get_json(&format!("/api/v1/alerts?limit=4&cursor={cursor}"))
        .await;
    let paged: Vec<Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(
        paged,
        all.iter().map(|a| a["id"].clone()).collect::<Vec<_>>()
    );
    assert!(rest["next_cursor"].is_null());
    for bad in [
        "?kind=fire",
        "?status=closed",
        "?severity=urgent",
        "?limit=0",
        "?cursor=nope",
        "?colour=red",
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/alerts{bad}")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (400, &json!("invalid_query")),
            "{bad}: {body}"
        );
    }
}

#[tokio::test]
async fn a_critical_alert_nobody_acknowledges_is_escalated_and_pushed_again() {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_ESCALATE_CRITICAL_AFTER_S".into(), "1".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "ES1", "ST1", json!({})).await;
    let (_, refused) = app.authorize(&controller, ask("ES1", "ST1", "LPG")).await;
    let mut body = filling("ES1", 16.5, 30.5, 0);
    body["decision_id"] = refused["decision_id"].clone();
    assert_eq!(app.post_filling(&controller, &body).await.0, 201);
    let mut ws = connect(&app).await;
    let escalated = until(&mut ws, |m| {
        m["type"] == "alert" && m["severity"] == "critical" && m["escalated_at"].is_string()
    })
    .await;
    assert_eq!(escalated["status"], "open");
    // Once: the listing shows it escalated, and a later pass does not touch it again.
    let listed = one_alert(&app, "?severity=critical", |a| {
        a["escalated_at"].is_string()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let later = one_alert(&app, "?severity=critical", |_| true).await;
    assert_eq!(later["escalated_at"], listed["escalated_at"]);
}

/// A stored alert this build cannot read (a kind it does not know) is an error naming the value,
/// never silently left out of the duty officers' list.
#[tokio::test]
async fn an_unreadable_stored_alert_is_an_error_not_a_gap() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO alerts (id, kind, severity, subject_type, subject_id, opened_at, \
         last_seen_at, evidence) VALUES ($1, 'no_such_kind', 'high', 'station', 'ST1', now(), \
         now(), '{}')",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (status, body) = app.get_json("/api/v1/alerts").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    app.wait_until(|| async {
        std::fs::read_to_string(&app.log)
            .unwrap()
            .contains(r#"stored AlertKind "no_such_kind" is not a valid one"#)
    })
    .await;
}
