//! Transfers between enterprises (issue 21 item 4): offered by the owner's administrator,
//! accepted by the receiver's; the accept moves owner and station with a revision and a line
//! of history; the history is split at the transfer (the old owner no longer reaches the
//! cylinder, the new one sees only its own period, the regulator all); bad offers and
//! accepts by anyone but the receiver change nothing; the statistics follow.

use crate::common::{archive, enterprise, scan, spawn_app, station, TestApp};
use crate::filling::cylinder;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

pub(crate) const PASSWORD: &str = "Transfer-Test-2026!";

/// ENT1 (seeded: ST1, ST2, C1 四仙包子店, S1 陈荣华) and its controller; ENT2 with station ST9,
/// customer C9 and its own staff member numbered S1 (another person); ENT3 with ST3. Each
/// has an administrator. Returns the ENT1 controller's key.
pub(crate) struct Parties {
    pub(crate) controller: String,
    pub(crate) ent1: String,
    pub(crate) ent2: String,
    pub(crate) ent3: String,
}

pub(crate) async fn parties(app: &TestApp) -> Parties {
    let controller = app.seed_registry_with_controller().await;
    for (code, st) in [("ENT2", "ST9"), ("ENT3", "ST3")] {
        let (status, answer) = app
            .post_json("/api/v1/enterprises", &enterprise(code))
            .await;
        assert_eq!(status, 201, "{answer}");
        let body = station(st, code, &format!("{code} 站"), 113.64, 34.77);
        let (status, answer) = app.post_json("/api/v1/stations", &body).await;
        assert_eq!(status, 201, "{answer}");
    }
    let customer = json!({"code": "C9", "enterprise_code": "ENT2", "name": "新东家饭店",
        "kind": "restaurant", "phone": "13900000000", "address": "农业路9号",
        "location": {"lon": 113.65, "lat": 34.78}, "district_code": "410105"});
    let (status, answer) = app.post_json("/api/v1/customers", &customer).await;
    assert_eq!(status, 201, "{answer}");
    let staff = json!({"staff_no": "S1", "enterprise_code": "ENT2", "name": "王新员",
        "role": "driver", "certificate_no": "DG-9", "certificate_expires": "2030-01-01"});
    let (status, answer) = app.post_json("/api/v1/staff", &staff).await;
    assert_eq!(status, 201, "{answer}");
    Parties {
        controller,
        ent1: admin_of(app, "ENT1").await,
        ent2: admin_of(app, "ENT2").await,
        ent3: admin_of(app, "ENT3").await,
    }
}

pub(crate) async fn admin_of(app: &TestApp, enterprise: &str) -> String {
    let name = format!("{}-admin", enterprise.to_lowercase());
    let body = json!({"username": name, "password": PASSWORD, "role": "enterprise_admin",
                      "enterprise_code": enterprise});
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{answer}");
    app.login(&name, PASSWORD).await
}

pub(crate) async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: &str,
) -> (u16, Value) {
    app.send_json(method, path, body.as_ref(), Some(token))
        .await
}

pub(crate) async fn offer(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    call(app, Method::POST, "/api/v1/transfers", Some(body), token).await
}

pub(crate) async fn decide(app: &TestApp, token: &str, id: &Value, what: &str) -> (u16, Value) {
    let path = format!("/api/v1/transfers/{id}/{what}");
    call(app, Method::POST, &path, None, token).await
}

/// A cylinder's code, owner, station, version and the start of its owner's period.
type CylinderRow = (String, String, String, i64, Option<chrono::DateTime<Utc>>);

/// Every row a refused request must leave as it was.
pub(crate) async fn snapshot(app: &TestApp) -> Value {
    let pool = &app.db.pool;
    let cylinders: Vec<CylinderRow> = sqlx::query_as(
        "SELECT code, owner_enterprise_code, station_code, version, owned_since \
             FROM cylinders ORDER BY code",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let transfers: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, decided_by FROM transfers ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    let listed: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT transfer_id, cylinder_id, open FROM transfer_cylinders \
         ORDER BY transfer_id, cylinder_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM revisions), (SELECT count(*) FROM ownership_periods)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    json!({"cylinders": cylinders, "transfers": transfers, "listed": listed, "counts": counts})
}

pub(crate) fn assert_error(status: u16, answer: &Value, expected: (u16, &str, &str)) {
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (expected.0, Some(expected.1), Some(expected.2)),
        "{answer}"
    );
}

pub(crate) fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

#[tokio::test]
async fn an_accepted_transfer_moves_owner_and_station_with_a_revision_and_a_history_line() {
    let app = spawn_app().await;
    let p = parties(&app).await;
    for code in ["X1", "X2", "X3"] {
        cylinder(&app, code, "ST1", json!({})).await;
    }

    // ENT1's own edit of X2, before the sale (a revision the new owner will not see).
    let patched = app
        .client
        .patch(app.url("/api/v1/cylinders/X2"))
        .bearer_auth(&p.ent1)
        .header("If-Match", "1")
        .json(&json!({"serial_no": "SN-ENT1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    let (status, offered) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["X2", "X1"], "to_enterprise_code": "ENT2",
               "station_code": "ST9"}),
    )
    .await;
    assert_eq!(status, 201, "{offered}");
    assert_eq!(
        (
            &offered["from_enterprise_code"],
            &offered["to_enterprise_code"],
            &offered["station_code"],
            &offered["cylinder_codes"],
            &offered["status"],
            &offered["offered_by"],
        ),
        (
            &json!("ENT1"),
            &json!("ENT2"),
            &json!("ST9"),
            &json!(["X2", "X1"]),
            &json!("offered"),
            &json!("ent1-admin"),
        ),
        "{offered}"
    );
    assert!(offered["offered_at"].is_string(), "{offered}");
    let id = offered["id"].clone();
    let one = format!("/api/v1/transfers/{id}");

    // Each party and the regulator see it; a third enterprise does not.
    for token in [&p.ent1, &p.ent2, &app.admin_token] {
        let (status, list) = call(&app, Method::GET, "/api/v1/transfers", None, token).await;
        assert_eq!((status, &list["items"][0]["id"]), (200, &id), "{list}");
        let (status, got) = call(&app, Method::GET, &one, None, token).await;
        assert_eq!((status, &got), (200, &offered));
    }
    let (status, list) = call(&app, Method::GET, "/api/v1/transfers", None, &p.ent3).await;
    assert_eq!((status, &list["items"]), (200, &json!([])), "{list}");
    let (status, _) = call(&app, Method::GET, &one, None, &p.ent3).await;
    assert_eq!(status, 404);
    let (status, list) = call(
        &app,
        Method::GET,
        "/api/v1/transfers?status=accepted",
        None,
        &p.ent2,
    )
    .await;
    assert_eq!((status, &list["items"]), (200, &json!([])), "{list}");

    // Only the receiver's administrator accepts: not the offerer, not a third enterprise, not
    // the regulator; nothing changes.
    let before = snapshot(&app).await;
    for (token, expected) in [(&p.ent1, 403), (&p.ent3, 404), (&app.admin_token, 403)] {
        let (status, answer) = decide(&app, token, &id, "accept").await;
        assert_eq!(status, expected, "{answer}");
    }
    // Nor does the receiver cancel the offerer's offer.
    let (status, answer) = decide(&app, &p.ent2, &id, "cancel").await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(snapshot(&app).await, before);

    let (status, accepted) = decide(&app, &p.ent2, &id, "accept").await;
    assert_eq!(status, 200, "{accepted}");
    assert_eq!(
        (&accepted["status"], &accepted["decided_by"]),
        (&json!("accepted"), &json!("ent2-admin")),
        "{accepted}"
    );
    let (status, answer) = decide(&app, &p.ent2, &id, "accept").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "{answer}"
    );

    // Owner, station and version moved; X3 did not.
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT code, owner_enterprise_code, station_code, version FROM cylinders ORDER BY code",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("X1".into(), "ENT2".into(), "ST9".into(), 2),
            ("X2".into(), "ENT2".into(), "ST9".into(), 3),
            ("X3".into(), "ENT1".into(), "ST1".into(), 1),
        ]
    );
    let (status, revisions) = app.get_json("/api/v1/cylinders/X1/revisions").await;
    assert_eq!(status, 200, "{revisions}");
    assert_eq!(
        (
            &revisions[0]["version"],
            &revisions[0]["by"],
            &revisions[0]["changes"]
        ),
        (
            &json!(2),
            &json!("ent2-admin"),
            &json!({"owner_enterprise_code": ["ENT1", "ENT2"], "station_code": ["ST1", "ST9"]})
        ),
        "{revisions}"
    );
    // The new owner reads the revisions of its own period; the regulator all.
    let versions = |token: String| {
        let app = &app;
        async move {
            let (status, r) = call(
                app,
                Method::GET,
                "/api/v1/cylinders/X2/revisions",
                None,
                &token,
            )
            .await;
            assert_eq!(status, 200, "{r}");
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    assert_eq!(versions(p.ent2.clone()).await, vec![3]);
    assert_eq!(versions(app.admin_token.clone()).await, vec![2, 3]);
    // The history has the transfer, for the new owner too.
    let (status, history) = call(
        &app,
        Method::GET,
        "/api/v1/cylinders/X1/history",
        None,
        &p.ent2,
    )
    .await;
    assert_eq!(status, 200, "{history}");
    let line = &history["items"][0];
    assert_eq!(
        (&line["kind"], &line["op"], &line["details"]),
        (
            &json!("archive"),
            &json!("change_owner"),
            &json!({"transfer_id": id, "from_enterprise_code": "ENT1",
                    "to_enterprise_code": "ENT2", "station_code": "ST9", "by": "ent2-admin"})
        ),
        "{history}"
    );
    // The old owner no longer reaches the cylinder; the new one does.
    let (status, _) = call(&app, Method::GET, "/api/v1/cylinders/X1", None, &p.ent1).await;
    assert_eq!(status, 404);
    let (status, view) = call(&app, Method::GET, "/api/v1/cylinders/X1", None, &p.ent2).await;
    assert_eq!(
        (
            status,
            &view["owner_enterprise_code"],
            &view["station_code"]
        ),
        (200, &json!("ENT2"), &json!("ST9")),
        "{view}"
    );
    // Audited, naming the transfer.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE actor = 'ent2-admin' AND outcome = 'ok' \
         AND action = 'POST /api/v1/transfers/{id}/accept' \
         AND details->>'transfer_id' = $1",
    )
    .bind(id.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The gun: the old owner's station no longer fills it (another enterprise's cylinder).
    let (status, answer) = app
        .authorize(&p.controller, crate::filling::ask("X1", "ST1", "LPG"))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["allowed"], false, "{answer}");
    assert_eq!(crate::filling::rules(&answer), vec!["R00"], "{answer}");

    // A declined and a cancelled offer move nothing, and free the cylinders for a new offer.
    let x3 = json!({"cylinder_codes": ["X3"], "to_enterprise_code": "ENT3", "station_code": "ST3"});
    let (status, second) = offer(&app, &p.ent1, x3.clone()).await;
    assert_eq!(status, 201, "{second}");
    let (status, answer) = decide(&app, &p.ent3, &second["id"], "decline").await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("declined")),
        "{answer}"
    );
    let (status, third) = offer(&app, &p.ent1, x3).await;
    assert_eq!(status, 201, "{third}");
    let (status, answer) = decide(&app, &p.ent1, &third["id"], "cancel").await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("cancelled")),
        "{answer}"
    );
    let (status, answer) = decide(&app, &p.ent3, &third["id"], "accept").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "{answer}"
    );
    let (_, x3) = app.get_json("/api/v1/cylinders/X3").await;
    assert_eq!(
        (&x3["owner_enterprise_code"], &x3["version"]),
        (&json!("ENT1"), &json!(1)),
        "{x3}"
    );
}

#[tokio::test]
async fn bad_offers_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let p = parties(&app).await;
    cylinder(&app, "B1", "ST1", json!({})).await;
    cylinder(&app, "B2", "ST1", json!({})).await;
    let mut theirs = archive("B9", "T-B9");
    theirs["owner_enterprise_code"] = json!("ENT2");
    theirs["station_code"] = json!("ST9");
    assert_eq!(app.post_json("/api/v1/cylinders", &theirs).await.0, 201);
    let body = |codes: Value, to: &str, st: &str| json!({"cylinder_codes": codes, "to_enterprise_code": to, "station_code": st});
    let too_many: Vec<String> = (0..10_001).map(|i| format!("N{i}")).collect();

    let before = snapshot(&app).await;
    let cases = [
        (
            body(json!(["B1"]), "ENT1", "ST1"),
            (400, "invalid_field", "to_enterprise_code"),
        ),
        (
            body(json!(["B1"]), "NOPE", "ST9"),
            (422, "unknown_reference", "to_enterprise_code"),
        ),
        (
            body(json!(["B1"]), "ENT2", "ST1"),
            (422, "unknown_reference", "station_code"),
        ),
        (
            body(json!(["B1"]), "ENT2", "ST3"),
            (422, "unknown_reference", "station_code"),
        ),
        (
            body(json!(["B1", "B9"]), "ENT2", "ST9"),
            (422, "unknown_reference", "cylinder_codes"),
        ),
        (
            body(json!(["B1", "NONE"]), "ENT2", "ST9"),
            (422, "unknown_reference", "cylinder_codes"),
        ),
        (
            body(json!(["B1", "B1"]), "ENT2", "ST9"),
            (400, "invalid_field", "cylinder_codes"),
        ),
        (
            body(json!([]), "ENT2", "ST9"),
            (400, "invalid_field", "cylinder_codes"),
        ),
        (
            body(json!(too_many), "ENT2", "ST9"),
            (400, "invalid_field", "cylinder_codes"),
        ),
        (
            body(json!(["a/b"]), "ENT2", "ST9"),
            (400, "invalid_field", "cylinder_codes[0]"),
        ),
        (
            json!({"cylinder_codes": ["B1"], "to_enterprise_code": "ENT2", "station_code": "ST9",
                   "price": 1}),
            (400, "unknown_field", "price"),
        ),
        (
            json!({"cylinder_codes": ["B1"], "station_code": "ST9"}),
            (400, "missing_field", "to_enterprise_code"),
        ),
    ];
    for (request, expected) in cases {
        let (status, answer) = offer(&app, &p.ent1, request.clone()).await;
        assert_error(status, &answer, expected);
    }
    assert_eq!(snapshot(&app).await, before);
    // Another enterprise's cylinder is named as not one's own, without saying whose it is.
    let (_, answer) = offer(&app, &p.ent1, body(json!(["B1", "B9"]), "ENT2", "ST9")).await;
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("B9") && !message.contains("B1,"),
        "{answer}"
    );
    // Only an enterprise's administrator offers (the regulator, the administrator do not).
    let (status, answer) = offer(&app, &app.admin_token, body(json!(["B1"]), "ENT2", "ST9")).await;
    assert_eq!(status, 403, "{answer}");
    // A suspended receiver takes nothing.
    let (status, answer) = app
        .post_json(
            "/api/v1/enterprises/ENT3/suspend",
            &json!({"reason": "停业整顿"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let after_suspend = snapshot(&app).await;
    let (status, answer) = offer(&app, &p.ent1, body(json!(["B1"]), "ENT3", "ST3")).await;
    assert_error(
        status,
        &answer,
        (409, "record_inactive", "to_enterprise_code"),
    );
    assert_eq!(snapshot(&app).await, after_suspend);

    // A cylinder in an open offer is not offered twice.
    let (status, first) = offer(&app, &p.ent1, body(json!(["B1"]), "ENT2", "ST9")).await;
    assert_eq!(status, 201, "{first}");
    let before = snapshot(&app).await;
    let (status, answer) = offer(&app, &p.ent1, body(json!(["B2", "B1"]), "ENT2", "ST9")).await;
    assert_error(
        status,
        &answer,
        (409, "invalid_transition", "cylinder_codes"),
    );
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("B1"),
        "{answer}"
    );
    for path in ["/api/v1/transfers/abc", "/api/v1/transfers/999999"] {
        let (status, _) = call(&app, Method::GET, path, None, &p.ent2).await;
        assert_eq!(status, 404, "{path}");
        let (status, _) = call(&app, Method::POST, &format!("{path}/accept"), None, &p.ent2).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, answer) = call(
        &app,
        Method::GET,
        "/api/v1/transfers?status=sold",
        None,
        &p.ent2,
    )
    .await;
    assert_error(status, &answer, (400, "invalid_query", "status"));
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_cylinder_scrapped_since_the_offer_fails_the_accept_naming_it() {
    let app = spawn_app().await;
    let p = parties(&app).await;
    cylinder(&app, "S1C", "ST1", json!({})).await;
    cylinder(&app, "S2C", "ST1", json!({})).await;
    let (status, offered) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["S1C", "S2C"], "to_enterprise_code": "ENT2",
               "station_code": "ST9"}),
    )
    .await;
    assert_eq!(status, 201, "{offered}");
    let scrap = json!({"events": [
        scan("scrap", "S2C", &ago(1), json!({"station_code": "ST1", "staff_no": "S1"})),
    ]});
    let (status, answer) = app.post_events(&scrap).await;
    assert_eq!(status, 202, "{answer}");
    app.wait_until(|| async {
        let (_, c) = app.get_json("/api/v1/cylinders/S2C").await;
        c["custody"] == "scrapped"
    })
    .await;
    let before = snapshot(&app).await;
    let (status, answer) = decide(&app, &p.ent2, &offered["id"], "accept").await;
    assert_error(
        status,
        &answer,
        (409, "invalid_transition", "cylinder_codes"),
    );
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("S2C") && !message.contains("S1C"),
        "{answer}"
    );
    assert_eq!(snapshot(&app).await, before);
    // A scrapped cylinder is not offered either.
    let (status, answer) = decide(&app, &p.ent1, &offered["id"], "cancel").await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["S2C"], "to_enterprise_code": "ENT2", "station_code": "ST9"}),
    )
    .await;
    assert_error(
        status,
        &answer,
        (409, "invalid_transition", "cylinder_codes"),
    );
}

#[tokio::test]
async fn the_statistics_per_enterprise_follow_the_transfer() {
    use cylwatch::store::stats::{counters, counters_by_scan, refresh, Classify};
    let app = spawn_app().await;
    let p = parties(&app).await;
    for code in ["K1", "K2", "K3"] {
        cylinder(&app, code, "ST1", json!({})).await;
    }
    let total = |enterprise: &'static str| {
        let app = &app;
        async move {
            let (status, t) = app
                .get_json(&format!(
                    "/api/v1/stats/inventory?enterprise_code={enterprise}"
                ))
                .await;
            assert_eq!(status, 200, "{t}");
            t["total"]["total"].as_i64().unwrap_or(0)
        }
    };
    app.wait_until(|| async { total("ENT1").await == 3 }).await;
    assert_eq!(total("ENT2").await, 0);

    let (status, offered) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["K1", "K2"], "to_enterprise_code": "ENT2",
               "station_code": "ST9"}),
    )
    .await;
    assert_eq!(status, 201, "{offered}");
    let (status, accepted) = decide(&app, &p.ent2, &offered["id"], "accept").await;
    assert_eq!(status, 200, "{accepted}");
    app.wait_until(|| async { total("ENT1").await == 1 && total("ENT2").await == 2 })
        .await;
    // The new owner's figure, asked by its own administrator.
    let (status, t) = call(&app, Method::GET, "/api/v1/stats/inventory", None, &p.ent2).await;
    assert_eq!((status, &t["total"]["total"]), (200, &json!(2)), "{t}");
    let (status, t) = call(&app, Method::GET, "/api/v1/stats/compliance", None, &p.ent1).await;
    assert_eq!(status, 200, "{t}");
    // The kept counters equal a full classification.
    let pool = &app.db.pool;
    let now = Utc::now();
    let c = Classify {
        now,
        lost_before: now - Duration::days(90),
        today: cylwatch::rules::compliance::today_in_shanghai(),
        due_soon_days: 30,
    };
    refresh(pool, c).await.unwrap();
    assert_eq!(
        counters(pool).await.unwrap(),
        counters_by_scan(pool, c).await.unwrap()
    );
    let owners: Vec<(String, i64)> = sqlx::query_as(
        "SELECT owner, sum(n)::bigint FROM inventory_counts GROUP BY owner ORDER BY owner",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(owners, vec![("ENT1".into(), 1), ("ENT2".into(), 2)]);
}

/// A cylinder sold while at the seller's customer: the buyer's view of it names no place (the
/// seller's customer is not the buyer's to learn) until it moves; the regulator sees where it
/// is.
#[tokio::test]
async fn a_cylinder_sold_at_the_sellers_customer_does_not_show_the_buyer_that_customer() {
    let app = spawn_app().await;
    let p = parties(&app).await;
    cylinder(&app, "Y7", "ST1", json!({})).await;
    let at_customer = json!({"events": [
        scan("deliver", "Y7", &ago(50), json!({"customer_code": "C1", "staff_no": "S1"})),
    ]});
    assert_eq!(app.post_events(&at_customer).await.0, 202);
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/Y7").await.1["custody"] == "at_customer"
    })
    .await;
    let (status, offered) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["Y7"], "to_enterprise_code": "ENT2", "station_code": "ST9"}),
    )
    .await;
    assert_eq!(status, 201, "{offered}");
    let (status, accepted) = decide(&app, &p.ent2, &offered["id"], "accept").await;
    assert_eq!(status, 200, "{accepted}");
    let (status, view) = call(&app, Method::GET, "/api/v1/cylinders/Y7", None, &p.ent2).await;
    assert_eq!(status, 200, "{view}");
    let text = view.to_string();
    assert!(
        !text.contains("C1") && !text.contains("四仙包子店"),
        "{view}"
    );
    assert!(view["position"].is_null(), "{view}");
    let (_, regulator) = app.get_json("/api/v1/cylinders/Y7").await;
    assert!(regulator.to_string().contains("四仙包子店"), "{regulator}");
}
