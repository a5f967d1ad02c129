//! Issue 20, items 10, 11 and 13 (rate limits and sign-in attempts; safe, bounded exports;
//! small leaks). Each test was written against the code before its fix and failed there.

// ---------------------------------------------------------------------------------------------
// Items 10, 11 and 13 (rate limits and sign-in attempts; safe, bounded exports; small leaks).
// ---------------------------------------------------------------------------------------------

use crate::common::{archive, enterprise, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use futures_util::SinkExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "Security-Pass-20";

/// Creates a user with `fields` (role, scope) and signs it in; its token.
async fn user_with(app: &TestApp, name: &str, fields: Value) -> String {
    let mut body = fields;
    body["username"] = json!(name);
    body["password"] = json!(PASSWORD);
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{answer}");
    app.login(name, PASSWORD).await
}

fn app_with(env: &[(&str, &str)]) -> AppConfig {
    let mut config = AppConfig::default();
    config
        .env
        .extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    config
}

/// A sign-in attempt from `client`: status and error code (or "ok").
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
) -> (u16, String) {
    let res = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("ok").to_owned();
    (status, code)
}

/// 50 wrong passwords at once for `name` from 127.0.0.1: how many were checked (401) and
/// how many refused unchecked (429).
async fn fifty_wrong(app: &TestApp, name: &str) -> (usize, usize) {
    let attempts = (0..50).map(|_| sign_in(app, &app.client, name, "Wrong-Password-9"));
    let answers = futures_util::future::join_all(attempts).await;
    let checked = answers
        .iter()
        .filter(|a| **a == (401, "invalid_credentials".to_owned()))
        .count();
    let refused = answers
        .iter()
        .filter(|a| **a == (429, "rate_limited".to_owned()))
        .count();
    assert_eq!(checked + refused, 50, "{answers:?}");
    (checked, refused)
}

#[tokio::test]
async fn item10_the_rate_limit_counts_the_decoded_path() {
    let config = app_with(&[("CYLWATCH_PUBLIC_RATE_PER_MINUTE", "3")]);
    let app = spawn_app_with(config, TestDb::new().await).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let res = app
            .client
            .get(app.url("/api/v1/%70ublic/cylinders/NO-SUCH"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    // The encoded path reaches the public lookup (which does not know the cylinder) ...
    assert_eq!(statuses[0], 404, "{statuses:?}");
    // ... and is counted like the plain one.
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let res = app
        .client
        .get(app.url("/api/v1/public/cylinders/NO-SUCH"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn item10_failed_sign_ins_slow_a_name_and_address_down_known_or_not_and_lock_nobody_out() {
    let config = app_with(&[("CYLWATCH_PUBLIC_RATE_PER_MINUTE", "1000")]);
    let app = spawn_app_with(config, TestDb::new().await).await;
    let (status, answer) = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "duty1", "password": PASSWORD, "role": "duty_officer"}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");

    // Counted atomically: of 50 at once, 5 are checked.
    let known = fifty_wrong(&app, "duty1").await;
    assert_eq!(known, (5, 45));
    // An unknown name answers exactly alike (no enumeration by status).
    let unknown = fifty_wrong(&app, "nobody-here").await;
    assert_eq!(unknown, known);
    // The right password from the guessing address waits too ...
    assert_eq!(
        sign_in(&app, &app.client, "duty1", PASSWORD).await,
        (429, "rate_limited".to_owned())
    );
    // ... but the duty officer at another address signs in: the account is not locked.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(
        sign_in(&app, &elsewhere, "duty1", PASSWORD).await,
        (200, "ok".to_owned())
    );
    // And a good sign-in clears that address's count: four wrong ones later it still works.
    for _ in 0..4 {
        assert_eq!(
            sign_in(&app, &elsewhere, "duty1", "Wrong-Password-9")
                .await
                .0,
            401
        );
    }
    assert_eq!(sign_in(&app, &elsewhere, "duty1", PASSWORD).await.0, 200);
}

/// A CSV answer's cells, each checked: none may begin like a spreadsheet formula.
fn assert_cells_safe(what: &str, text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert!(!rows.is_empty(), "{what}: no header");
    for (line, row) in rows.iter().enumerate() {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what} line {}: cell {cell:?} would run as a formula",
                line + 1
            );
        }
    }
    rows
}

#[tokio::test]
async fn item11_every_csv_export_neutralises_formula_cells() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, answer) = app
        .post_json(
            "/api/v1/customers",
            &json!({"code": "C-EVIL", "enterprise_code": "ENT1",
                    "name": "=HYPERLINK(\"http://evil.example/\",\"点我\")",
                    "kind": "household", "phone": "13800000001", "address": "+86 金水路2号",
                    "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let mut evil = archive("EVIL-1", "TAG-EVIL-1");
    evil["manufacturer"] = json!("@SUM(1+1)*cmd|' /C calc'!A0");
    evil["product_standard"] = json!("-2+3");
    let (status, answer) = app.post_json("/api/v1/cylinders", &evil).await;
    assert_eq!(status, 201, "{answer}");

    for path in [
        "/api/v1/customers?format=csv",
        "/api/v1/cylinders/export",
        "/api/v1/cylinders?format=csv",
        "/api/v1/alerts?format=csv",
        "/api/v1/fillings?format=csv",
        "/api/v1/fillings/decisions?format=csv",
        "/api/v1/history?format=csv",
    ] {
        let (status, text) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert_cells_safe(path, &text);
    }
    let (_, customers) = app.get_text("/api/v1/customers?format=csv").await;
    let rows = assert_cells_safe("customers", &customers);
    let row = rows.iter().find(|r| r[0] == "C-EVIL").unwrap();
    assert_eq!(row[2], "'=HYPERLINK(\"http://evil.example/\",\"点我\")");
    assert_eq!(row[5], "'+86 金水路2号");
    let (_, export) = app.get_text("/api/v1/cylinders/export").await;
    assert!(export.contains("'@SUM(1+1)"), "{export}");
    assert!(export.contains("'-2+3"), "{export}");

    // The export imports back as it was: the quote comes off again.
    let again = export
        .replace("EVIL-1", "EVIL-2")
        .replace("TAG-EVIL-1", "TAG-EVIL-2");
    let header_and_evil: String = again
        .lines()
        .filter(|l| l.starts_with("code") || l.contains("EVIL-2"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (status, answer) = app
        .post_bytes(
            "/api/v1/cylinders/import",
            header_and_evil.into_bytes(),
            "text/csv",
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, cylinder) = app.get_json("/api/v1/cylinders/EVIL-2").await;
    assert_eq!(status, 200, "{cylinder}");
    assert_eq!(cylinder["manufacturer"], "@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(cylinder["product_standard"], "-2+3");
}

#[tokio::test]
async fn item11_csv_lists_stream_and_a_user_runs_at_most_two_at_once() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &archive("431325", "TAG-1"))
        .await;
    assert_eq!(status, 201, "{answer}");
    // Streamed: sent in chunks as it is read, not as one body of known length.
    let res = app
        .client
        .get(app.url("/api/v1/customers?format=csv"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("content-length").is_none(),
        "a buffered CSV: {:?}",
        res.headers()
    );
    let other = user_with(&app, "city-1", json!({"role": "city_regulator"})).await;

    // Hold the cylinders table so that exports wait inside their first read.
    let mut hold = app.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE cylinders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *hold)
        .await
        .unwrap();
    let export = |token: String| {
        let (client, url) = (app.client.clone(), app.url("/api/v1/cylinders/export"));
        tokio::spawn(async move {
            let res = client.get(url).bearer_auth(token).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        })
    };
    let first = export(app.admin_token.clone());
    let second = export(app.admin_token.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let third = tokio::time::timeout(Duration::from_secs(5), export(app.admin_token.clone()))
        .await
        .expect("a third export at once is refused at once, not queued")
        .unwrap();
    assert_eq!(third.0, 429, "{}", third.1);
    let body: Value = serde_json::from_str(&third.1).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // Another user is not held up by the first one's exports.
    let theirs = export(other);
    tokio::time::sleep(Duration::from_millis(500)).await;
    hold.rollback().await.unwrap();
    for handle in [first, second, theirs] {
        let (status, text) = handle.await.unwrap();
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("431325"), "{text}");
    }
    // The slots are given back.
    let (status, _) = app.get_text("/api/v1/cylinders/export").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn item13_health_tells_strangers_only_up_or_down() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok"}));
    // A signed-in user who is not an administrator learns the same.
    let regulator = user_with(&app, "city-2", json!({"role": "city_regulator"})).await;
    let (status, body) = app
        .send_json(Method::GET, "/api/v1/health", None, Some(&regulator))
        .await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    // A forged token is no error here, and no report either.
    let (status, body) = app
        .send_json(Method::GET, "/api/v1/health", None, Some(&"f".repeat(64)))
        .await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    // The administrator reads the whole report.
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200);
    assert!(body["postgres"]["version"].is_string(), "{body}");
    assert!(body["redis"]["version"].is_string(), "{body}");
}

#[tokio::test]
async fn item13_health_hides_a_dependency_error_from_strangers() {
    let config = AppConfig {
        redis_url: "redis://127.0.0.1:1".into(),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    let res = app
        .client
        .get(app.url("/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"status": "unavailable"}));
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 503);
    assert!(body["redis"]["error"].is_string(), "{body}");
}

#[tokio::test]
async fn item13_every_response_carries_the_security_headers_and_the_dashboard_a_strict_csp() {
    let app = spawn_app().await;
    let get = |path: &'static str| {
        let (client, url) = (app.client.clone(), app.url(path));
        async move { client.get(url).send().await.unwrap() }
    };
    for path in [
        "/api/v1/health",
        "/api/v1/no-such-route",
        "/api/v1/auth/me",
        "/api/v1/openapi.json",
        "/api/v1/docs/",
        "/",
        "/alerts",
    ] {
        let res = get(path).await;
        let headers = res.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{path}: no {name}: {headers:?}"))
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src") || d.starts_with("default-src 'none'"))
            .unwrap_or_else(|| panic!("{path}: no script policy in {csp}"));
        assert!(!script_src.contains("unsafe-inline"), "{path}: {csp}");
        assert!(!script_src.contains("'unsafe-eval'"), "{path}: {csp}");
        let html = header("content-type").starts_with("text/html");
        if html && !path.starts_with("/api/") {
            // The dashboard: its scripts, the wasm, and trunk's inline loader by its hash.
            assert!(
                script_src.starts_with("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
                "{path}: {csp}"
            );
        }
    }
}

/// Opens the live feed, signs in with the first message, and reads the snapshot.
async fn live_feed(app: &TestApp) -> crate::live::Ws {
    let url = format!("ws://127.0.0.1:{}/api/v1/live", app.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(json!({"token": app.admin_token}).to_string()))
        .await
        .unwrap();
    let snapshot = crate::live::next_json(&mut ws).await;
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    ws
}

#[tokio::test]
async fn item13_websocket_errors_carry_codes_not_the_parsers_words() {
    let app = spawn_app().await;
    let mut ws = live_feed(&app).await;
    for bad in [
        "{\"subscribe\": [\"vehicles\", \"secrets\"]}",
        "{\"subscribe\": 7}",
        "not json at all",
    ] {
        ws.send(Message::text(bad)).await.unwrap();
        let answer = crate::live::until(&mut ws, |m| m.get("error").is_some()).await;
        assert_eq!(answer["error"]["code"], "malformed_body", "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        for internal in [
            "line 1",
            "column",
            "unknown variant",
            "invalid type",
            "expected value",
        ] {
            assert!(!message.contains(internal), "{bad}: {message}");
        }
    }
}

#[tokio::test]
async fn item13_a_key_held_by_another_enterprise_is_already_registered_without_naming_it() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &archive("SECRET-431325", "TAG-HELD"))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        app.post_json("/api/v1/enterprises", &enterprise("ENT2"))
            .await
            .0,
        201
    );
    assert_eq!(
        app.post_json(
            "/api/v1/stations",
            &crate::common::station("ENT2-ST", "ENT2", "乙站", 113.63, 34.76)
        )
        .await
        .0,
        201
    );
    let b = user_with(
        &app,
        "ent2-admin",
        json!({"role": "enterprise_admin", "enterprise_code": "ENT2"}),
    )
    .await;
    let mut theirs = archive("B-1", "TAG-HELD");
    theirs["owner_enterprise_code"] = json!("ENT2");
    theirs["station_code"] = json!("ENT2-ST");
    let never_named = |answer: &Value| {
        let text = answer.to_string();
        assert!(
            !text.contains("SECRET-431325"),
            "the holder is named: {text}"
        );
        assert!(
            !text.contains("ENT1"),
            "the holder's enterprise is named: {text}"
        );
    };
    // One archive: 409, already registered.
    let (status, answer) = app
        .send_json(Method::POST, "/api/v1/cylinders", Some(&theirs), Some(&b))
        .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "already_exists");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already registered"),
        "{answer}"
    );
    never_named(&answer);
    // A batch, and another enterprise's station.
    let mut at_their_station = archive("B-2", "TAG-B-2");
    at_their_station["owner_enterprise_code"] = json!("ENT2");
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/cylinders",
            Some(&json!({"items": [theirs.clone(), at_their_station]})),
            Some(&b),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"].as_array().unwrap().len(), 2, "{answer}");
    never_named(&answer);
    // The CSV import.
    let (_, export) = app.get_text("/api/v1/cylinders/export").await;
    let csv: String = export
        .lines()
        .take(2)
        .map(|l| {
            format!(
                "{}\n",
                l.replace("SECRET-431325", "B-3")
                    .replace(",ENT1,", ",ENT2,")
                    .replace(",ST1", ",ENT2-ST")
            )
        })
        .collect();
    let res = app
        .client
        .post(app.url("/api/v1/cylinders/import"))
        .bearer_auth(&b)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["errors"][0]["code"], "already_exists", "{answer}");
    never_named(&answer);
    // Whoever may see the holder is told which cylinder holds the tag.
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &archive("A-2", "TAG-HELD"))
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer.to_string().contains("SECRET-431325"), "{answer}");
}
