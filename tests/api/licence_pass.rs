//! The daily licence pass (issue 21 item 3): `licence_expiring` (low) within
//! `licence_warn_days` of a licence's end, once per licence and end date; `licence_expired`
//! (high) from the day after its end; an open one no longer holds once renewed. Each alert is
//! about the holder and in its enterprise's scope. The servers here run the pass every second
//! (`licence_pass_every_s`) instead of once a day.

use crate::access::new_user;
use crate::common::{enterprise, spawn_app_with, AppConfig, TestApp, TestDb};
use chrono::{Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};

/// A server whose licence pass runs every second, with more settings.
async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_LICENCE_PASS_EVERY_S".into(), "1".into()));
    for (k, v) in extra {
        config.env.push(((*k).into(), (*v).into()));
    }
    spawn_app_with(config, TestDb::new().await).await
}

/// Today's Beijing date, `days` on.
fn day(days: i64) -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive() + Duration::days(days)
}

/// Registers enterprise `code` with its filling and gas licences ending on those dates.
async fn licensed(app: &TestApp, code: &str, filling: NaiveDate, gas: NaiveDate) {
    let mut body = enterprise(code);
    body["filling_licence_expires"] = json!(filling);
    body["gas_licence_expires"] = json!(gas);
    let (status, answer) = app.post_json("/api/v1/enterprises", &body).await;
    assert_eq!(status, 201, "{answer}");
}

/// Registers a staff member with a certificate ending on `expires`.
async fn certified(app: &TestApp, enterprise: &str, no: &str, expires: NaiveDate) {
    let body = json!({"staff_no": no, "enterprise_code": enterprise, "name": "李建国",
        "role": "filler", "certificate_no": format!("TS-{no}"), "certificate_expires": expires});
    let (status, answer) = app.post_json("/api/v1/staff", &body).await;
    assert_eq!(status, 201, "{answer}");
}

/// Alerts listed for `token` (the administrator's when `None`) with the query `q`.
async fn alerts(app: &TestApp, q: &str, token: Option<&str>) -> Vec<Value> {
    let token = token.unwrap_or(&app.admin_token);
    let (status, answer) = app
        .send_json(
            Method::GET,
            &format!("/api/v1/alerts?{q}"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["items"].as_array().cloned().unwrap_or_default()
}

/// How many passes the server has logged.
fn passes(app: &TestApp) -> usize {
    std::fs::read_to_string(&app.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("licence pass") && !l.contains("failed"))
        .count()
}

/// Waits until the server has run `n` more passes.
async fn after_passes(app: &TestApp, n: usize) {
    let target = passes(app) + n;
    app.wait_until(|| async { passes(app) >= target }).await;
}

/// Waits for exactly one alert matching `q` and returns it.
async fn one(app: &TestApp, q: &str) -> Value {
    app.wait_until(|| async { !alerts(app, q, None).await.is_empty() })
        .await;
    let found = alerts(app, q, None).await;
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

#[tokio::test]
async fn a_licence_ending_in_ten_days_raises_one_low_notice_its_enterprise_alone_sees() {
    let app = spawn(&[]).await;
    licensed(&app, "ENTA", day(10), day(400)).await;
    licensed(&app, "ENTB", day(400), day(400)).await;

    let alert = one(&app, "kind=licence_expiring").await;
    assert_eq!(alert["severity"], "low");
    assert_eq!(
        alert["subject"],
        json!({"type": "enterprise", "id": "ENTA"})
    );
    assert_eq!(alert["enterprise_code"], "ENTA");
    assert_eq!(alert["district_code"], "410105");
    let evidence = &alert["evidence"];
    assert_eq!(evidence["licence_kind"], "filling_licence", "{alert}");
    assert_eq!(evidence["number"], "豫充-001");
    assert_eq!(evidence["valid_to"], json!(day(10)));
    assert_eq!(evidence["days_left"], 10);
    assert_eq!(evidence["licences"].as_array().map(Vec::len), Some(1));
    let id = alert["id"].as_str().unwrap().to_owned();

    // Enterprise B's administrator learns nothing of it; A's sees it.
    let b = new_user(&app, "b-admin", "enterprise_admin", Some("ENTB")).await;
    assert!(alerts(&app, "kind=licence_expiring", Some(&b))
        .await
        .is_empty());
    let (status, _) = app
        .send_json(Method::GET, &format!("/api/v1/alerts/{id}"), None, Some(&b))
        .await;
    assert_eq!(status, 404);
    let a = new_user(&app, "a-admin", "enterprise_admin", Some("ENTA")).await;
    assert_eq!(
        alerts(&app, "kind=licence_expiring", Some(&a)).await.len(),
        1
    );

    // Passes again raise nothing more, even once the sightings are forgotten
    // (`sighting_retention_days`) or the notice was resolved.
    after_passes(&app, 2).await;
    sqlx::query("DELETE FROM alert_sightings")
        .execute(&app.db.pool)
        .await
        .unwrap();
    after_passes(&app, 2).await;
    let again = alerts(&app, "kind=licence_expiring", None).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["count"], 1, "{again:?}");
    let (status, answer) = app
        .post_json(
            &format!("/api/v1/alerts/{id}/resolve"),
            &json!({"note": "已通知企业办理延续"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    after_passes(&app, 2).await;
    let again = alerts(&app, "kind=licence_expiring", None).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["status"], "resolved");
    assert!(alerts(&app, "kind=licence_expired", None).await.is_empty());
}

#[tokio::test]
async fn expired_yesterday_is_a_high_alert_and_valid_through_today_is_not_expired() {
    let app = spawn(&[]).await;
    // ENTA's filling licence ended yesterday; its gas licence ends today (still valid).
    licensed(&app, "ENTA", day(-1), day(0)).await;
    // ENTC's licences both end today: valid through today.
    licensed(&app, "ENTC", day(0), day(0)).await;

    let expired = one(&app, "kind=licence_expired").await;
    assert_eq!(expired["severity"], "high");
    assert_eq!(
        expired["subject"],
        json!({"type": "enterprise", "id": "ENTA"})
    );
    assert_eq!(expired["enterprise_code"], "ENTA");
    let evidence = &expired["evidence"];
    assert_eq!(evidence["licence_kind"], "filling_licence", "{expired}");
    assert_eq!(evidence["valid_to"], json!(day(-1)));
    assert_eq!(evidence["days_left"], -1);
    assert_eq!(evidence["licences"].as_array().map(Vec::len), Some(1));

    // A licence valid through today is expiring (its last day), not expired.
    after_passes(&app, 2).await;
    let expired = alerts(&app, "kind=licence_expired", None).await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["count"], 1);
    let expiring = alerts(&app, "kind=licence_expiring&subject_id=ENTC", None).await;
    assert_eq!(expiring.len(), 1, "{expiring:?}");
    assert_eq!(expiring[0]["evidence"]["days_left"], 0);
    assert_eq!(
        expiring[0]["evidence"]["licences"].as_array().map(Vec::len),
        Some(2),
        "both of ENTC's licences in one notice: {expiring:?}"
    );
    let expiring = alerts(&app, "kind=licence_expiring&subject_id=ENTA", None).await;
    assert_eq!(expiring.len(), 1, "{expiring:?}");
    assert_eq!(expiring[0]["evidence"]["licence_kind"], "gas_licence");
}

/// `PATCH` as the administrator (a regulator) at version `version`.
async fn patch(app: &TestApp, path: &str, version: i64, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .patch(app.url(path))
        .bearer_auth(&app.admin_token)
        .header("If-Match", version.to_string())
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_licence_renewed_by_a_regulator_no_longer_holds_its_alert() {
    let app = spawn(&[]).await;
    licensed(&app, "ENTA", day(-3), day(400)).await;
    licensed(&app, "ENTB", day(5), day(400)).await;
    let expired = one(&app, "kind=licence_expired&subject_id=ENTA").await;
    let expiring = one(&app, "kind=licence_expiring&subject_id=ENTB").await;
    after_passes(&app, 1).await;
    for a in [&expired, &expiring] {
        let (_, now) = app
            .get_json(&format!("/api/v1/alerts/{}", a["id"].as_str().unwrap()))
            .await;
        assert!(now.get("condition_ended_at").is_none(), "{now}");
    }

    let renew = json!({"filling_licence_no": "豫充-009", "filling_licence_expires": day(3 * 365)});
    for code in ["ENTA", "ENTB"] {
        let (status, answer) = patch(&app, &format!("/api/v1/enterprises/{code}"), 1, &renew).await;
        assert_eq!(status, 200, "{answer}");
    }
    for a in [&expired, &expiring] {
        let path = format!("/api/v1/alerts/{}", a["id"].as_str().unwrap());
        app.wait_until(|| async { app.get_json(&path).await.1["condition_ended_at"].is_string() })
            .await;
        let (_, now) = app.get_json(&path).await;
        assert_eq!(now["status"], "open", "left for a duty officer: {now}");
    }
    // Renewed beyond the window: nothing new is raised.
    after_passes(&app, 2).await;
    assert_eq!(alerts(&app, "kind=licence_expired", None).await.len(), 1);
    assert_eq!(alerts(&app, "kind=licence_expiring", None).await.len(), 1);
}

#[tokio::test]
async fn a_staff_certificate_ending_raises_a_notice_about_the_staff_member() {
    let app = spawn(&[]).await;
    licensed(&app, "ENTB", day(400), day(400)).await;
    // The same number in two enterprises: two members, two notices, each in its own scope.
    certified(&app, "ENT1", "S9", day(20)).await;
    certified(&app, "ENTB", "S9", day(25)).await;

    app.wait_until(|| async { alerts(&app, "kind=licence_expiring", None).await.len() == 2 })
        .await;
    let mut found = alerts(&app, "kind=licence_expiring", None).await;
    found.sort_by_key(|a| a["subject"]["id"].as_str().unwrap_or_default().to_owned());
    for (alert, (code, days)) in found.iter().zip([("ENT1", 20), ("ENTB", 25)]) {
        assert_eq!(
            alert["subject"],
            json!({"type": "staff", "id": format!("{code}/S9")})
        );
        assert_eq!(alert["enterprise_code"], code);
        assert_eq!(alert["severity"], "low");
        assert_eq!(alert["evidence"]["licence_kind"], "staff_certificate");
        assert_eq!(alert["evidence"]["number"], "TS-S9");
        assert_eq!(alert["evidence"]["days_left"], days);
    }
    let b = new_user(&app, "b-admin", "enterprise_admin", Some("ENTB")).await;
    let seen = alerts(&app, "kind=licence_expiring", Some(&b)).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["subject"]["id"], "ENTB/S9");
}

#[tokio::test]
async fn only_the_kinds_set_are_warned_of_and_every_kind_expires() {
    let app = spawn(&[
        ("CYLWATCH_LICENCE_WARN_KINDS", "staff_certificate"),
        ("CYLWATCH_LICENCE_WARN_DAYS", "15"),
    ])
    .await;
    // Filling licence not warned of; gas licence expired (every kind expires).
    licensed(&app, "ENTA", day(10), day(-1)).await;
    certified(&app, "ENTA", "S1", day(10)).await;
    certified(&app, "ENTA", "S2", day(16)).await;

    let staff = one(&app, "kind=licence_expiring").await;
    assert_eq!(staff["subject"], json!({"type": "staff", "id": "ENTA/S1"}));
    let expired = one(&app, "kind=licence_expired").await;
    assert_eq!(expired["evidence"]["licence_kind"], "gas_licence");
    after_passes(&app, 2).await;
    let expiring = alerts(&app, "kind=licence_expiring", None).await;
    assert_eq!(expiring.len(), 1, "{expiring:?}");
}

/// On the daily schedule (the default): the pass runs at start-up, and a regulator's renewal
/// ends the open alert at once (the edit wakes the pass), not the next day.
#[tokio::test]
async fn on_the_daily_schedule_it_runs_at_start_and_a_renewal_is_seen_at_once() {
    let app = crate::common::spawn_app().await;
    app.wait_until(|| async { passes(&app) >= 1 }).await;
    licensed(&app, "ENTA", day(-1), day(400)).await;
    // Created after the start-up pass: nothing until the next pass.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(alerts(&app, "kind=licence_expired", None).await.is_empty());

    let app = app.kill_and_restart().await;
    let expired = one(&app, "kind=licence_expired").await;
    assert_eq!(expired["subject"]["id"], "ENTA");
    let renew = json!({"filling_licence_expires": day(365)});
    let (status, answer) = patch(&app, "/api/v1/enterprises/ENTA", 1, &renew).await;
    assert_eq!(status, 200, "{answer}");
    let path = format!("/api/v1/alerts/{}", expired["id"].as_str().unwrap());
    app.wait_until(|| async { app.get_json(&path).await.1["condition_ended_at"].is_string() })
        .await;
}

/// Two instances on one database, each running the pass every second: every notice once.
#[tokio::test]
async fn two_instances_raise_each_notice_once() {
    let mut config = AppConfig {
        instance_id: "inst-a".into(),
        ..AppConfig::default()
    };
    config
        .env
        .push(("CYLWATCH_LICENCE_PASS_EVERY_S".into(), "1".into()));
    let a = spawn_app_with(config.clone(), TestDb::new().await).await;
    let shared = TestDb {
        name: a.db.name.clone(),
        url: a.db.url.clone(),
        pool: a.db.pool.clone(),
    };
    let b = spawn_app_with(
        AppConfig {
            instance_id: "inst-b".into(),
            ..config
        },
        shared,
    )
    .await;
    for i in 0..6 {
        licensed(&a, &format!("EN{i}"), day(i - 3), day(i + 1)).await;
    }
    app_passes_both(&a, &b).await;
    let found = alerts(&a, "limit=200", None).await;
    // EN0–EN2: filling expired (3) and gas expiring (3); EN3–EN5: both expiring (3 notices).
    let expired = found.iter().filter(|x| x["kind"] == "licence_expired");
    assert_eq!(expired.count(), 3, "{found:?}");
    let expiring = found.iter().filter(|x| x["kind"] == "licence_expiring");
    assert_eq!(expiring.count(), 6, "{found:?}");
    let notices: i64 = sqlx::query_scalar("SELECT count(*) FROM licence_notices")
        .fetch_one(&a.db.pool)
        .await
        .unwrap();
    // EN3–EN5's two licences each: 12 notices, 9 alerts; each alert counted per notice.
    assert_eq!(notices, 12);
    let counts: i64 = found.iter().map(|x| x["count"].as_i64().unwrap()).sum();
    assert_eq!(counts, 12, "{found:?}");
}

/// Waits until the two servers (one log: the database's) have run six more passes between them.
async fn app_passes_both(a: &TestApp, b: &TestApp) {
    assert_eq!(a.log, b.log);
    after_passes(a, 6).await;
}
