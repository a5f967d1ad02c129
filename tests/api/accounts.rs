//! Issue 20 item 14: accounts can be managed. An administrator suspends, reinstates and closes
//! a user (its sessions end at once, its live feeds within the re-check, it cannot sign in),
//! lists and revokes its sessions; any user changes its own password (its other sessions end).
//! An enterprise administrator manages its own enterprise's staff only. All audited.

use crate::access::PASSWORD;
use crate::common::{enterprise, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn new_user(app: &TestApp, username: &str, role: &str, enterprise: Option<&str>) {
    let mut body = json!({"username": username, "password": PASSWORD, "role": role});
    if let Some(code) = enterprise {
        body["enterprise_code"] = json!(code);
    }
    if role == "district_regulator" {
        body["district_code"] = json!("410105");
    }
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{username}: {answer}");
}

/// A POST as `token`.
async fn post_as(app: &TestApp, token: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    app.send_json(Method::POST, path, body, Some(token)).await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.send_json(Method::GET, "/api/v1/auth/me", None, Some(token))
        .await
        .0
}

/// The raw answer to a login (status and body).
async fn try_login(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    app.send_json(
        Method::POST,
        "/api/v1/auth/login",
        Some(&json!({"username": username, "password": password})),
        None,
    )
    .await
}

async fn status_of(app: &TestApp, username: &str) -> String {
    sqlx::query_scalar("SELECT status FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Whether the live feed is ended by the server (an `unauthorized` error or the socket closing)
/// within `within`.
async fn feed_ends(ws: &mut crate::live::Ws, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if v["error"]["code"] == "unauthorized" {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_suspended_user_is_signed_out_at_once_cannot_sign_in_and_can_be_reinstated() {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_LIVE_SESSION_CHECK_S".into(), "1".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    new_user(&app, "duty-s", "duty_officer", None).await;
    let first = app.login("duty-s", PASSWORD).await;
    let second = app.login("duty-s", PASSWORD).await;
    let (ws, _) = tokio_tungstenite::connect_async(app.live_url_for(&first).await)
        .await
        .unwrap();
    let mut ws = ws;
    assert_eq!(me_status(&app, &first).await, 200);

    // Bad input changes nothing.
    let path = "/api/v1/users/duty-s/suspend";
    for (body, code) in [
        (json!({}), "missing_field"),
        (json!({"reason": "   "}), "invalid_field"),
        (json!({"reason": "x".repeat(501)}), "invalid_field"),
        (json!({"reason": "ok", "extra": 1}), "unknown_field"),
    ] {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
    }
    let (status, answer) = app
        .post_json("/api/v1/users/nobody/suspend", &json!({"reason": "x"}))
        .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found"))
    );
    // Nobody suspends or closes its own account.
    let (status, _) = app
        .post_json("/api/v1/users/admin/suspend", &json!({"reason": "x"}))
        .await;
    assert_eq!(status, 403);
    assert_eq!(status_of(&app, "duty-s").await, "active");
    assert_eq!(me_status(&app, &first).await, 200);

    // Suspended: every token is refused at once, the live feed ends, no sign-in.
    let (status, answer) = app
        .post_json(path, &json!({"reason": "on leave pending an inquiry"}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "suspended");
    assert_eq!(answer["status_reason"], "on leave pending an inquiry");
    assert_eq!(me_status(&app, &first).await, 401);
    assert_eq!(me_status(&app, &second).await, 401);
    assert!(
        feed_ends(&mut ws, Duration::from_secs(10)).await,
        "the live feed outlived the suspension"
    );
    let (status, suspended) = try_login(&app, "duty-s", PASSWORD).await;
    let (wrong_status, wrong) = try_login(&app, "duty-s", "Wrong-Pass-123").await;
    let (unknown_status, unknown) = try_login(&app, "nobody-at-all", PASSWORD).await;
    assert_eq!(status, 401, "{suspended}");
    assert_eq!((status, &suspended), (wrong_status, &wrong));
    assert_eq!((status, &suspended), (unknown_status, &unknown));
    // Twice is a conflict.
    let (status, answer) = app.post_json(path, &json!({"reason": "again"})).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (409, &json!("invalid_transition"))
    );

    // Reinstated: it signs in again; the old sessions stay ended.
    let (status, answer) = app
        .post_json(
            "/api/v1/users/duty-s/reinstate",
            &json!({"reason": "inquiry closed"}),
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("active")),
        "{answer}"
    );
    assert_eq!(me_status(&app, &first).await, 401);
    let third = app.login("duty-s", PASSWORD).await;
    assert_eq!(me_status(&app, &third).await, 200);

    // Closed: for ever.
    let (status, answer) = app
        .post_json(
            "/api/v1/users/duty-s/close",
            &json!({"reason": "left the bureau"}),
        )
        .await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("closed")),
        "{answer}"
    );
    assert_eq!(me_status(&app, &third).await, 401);
    assert_eq!(try_login(&app, "duty-s", PASSWORD).await.0, 401);
    for verb in ["reinstate", "suspend", "close"] {
        let (status, answer) = app
            .post_json(
                &format!("/api/v1/users/duty-s/{verb}"),
                &json!({"reason": "try"}),
            )
            .await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (409, &json!("invalid_transition")),
            "{verb}: {answer}"
        );
    }
    assert_eq!(status_of(&app, "duty-s").await, "closed");

    // Who may not: a duty officer, a district regulator.
    new_user(&app, "duty-t", "duty_officer", None).await;
    new_user(&app, "district-r", "district_regulator", None).await;
    new_user(&app, "victim", "duty_officer", None).await;
    for who in ["duty-t", "district-r"] {
        let token = app.login(who, PASSWORD).await;
        let (status, _) = post_as(
            &app,
            &token,
            "/api/v1/users/victim/suspend",
            Some(&json!({"reason": "x"})),
        )
        .await;
        assert_eq!(status, 403, "{who}");
        let (status, _) = app
            .send_json(
                Method::GET,
                "/api/v1/users/victim/sessions",
                None,
                Some(&token),
            )
            .await;
        assert_eq!(status, 403, "{who}");
    }
    assert_eq!(status_of(&app, "victim").await, "active");

    // Audited, with the reason.
    let pool = app.db.pool.clone();
    app.wait_until(|| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_log WHERE action LIKE 'POST /api/v1/users/{username}/%' \
                 AND outcome = 'ok'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == 3
        }
    })
    .await;
    let details: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'POST /api/v1/users/{username}/suspend' \
         AND outcome = 'ok'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["reason"], "on leave pending an inquiry");
    assert_eq!(details[0]["username"], "duty-s");
    assert_eq!(details[0]["status"], "suspended");
}

#[tokio::test]
async fn an_enterprise_admin_manages_its_own_staff_only() {
    let app = spawn_app().await;
    let mut b = enterprise("EB");
    b["district_code"] = json!("410105");
    assert_eq!(app.post_json("/api/v1/enterprises", &b).await.0, 201);
    new_user(&app, "a-admin", "enterprise_admin", Some("ENT1")).await;
    new_user(&app, "a-admin2", "enterprise_admin", Some("ENT1")).await;
    new_user(&app, "a-staff", "enterprise_staff", Some("ENT1")).await;
    new_user(&app, "b-admin", "enterprise_admin", Some("EB")).await;
    new_user(&app, "b-staff", "enterprise_staff", Some("EB")).await;
    new_user(&app, "city", "city_regulator", None).await;
    let a_admin = app.login("a-admin", PASSWORD).await;
    let a_staff = app.login("a-staff", PASSWORD).await;
    let b_admin = app.login("b-admin", PASSWORD).await;

    // B's administrator cannot reach A's staff: as if it did not exist, nothing changed.
    let reason = json!({"reason": "hostile"});
    for path in [
        "/api/v1/users/a-staff/suspend",
        "/api/v1/users/a-staff/close",
        "/api/v1/users/a-staff/reinstate",
        "/api/v1/users/a-staff/sessions/revoke",
        "/api/v1/users/a-staff/sessions/1/revoke",
        "/api/v1/users/admin/suspend",
        "/api/v1/users/city/suspend",
    ] {
        let (status, answer) = post_as(&app, &b_admin, path, Some(&reason)).await;
        assert!([403, 404].contains(&status), "{path}: {status} {answer}");
        assert!(!answer.to_string().contains("ENT1"), "{path}: {answer}");
    }
    let (status, answer) = app
        .send_json(
            Method::GET,
            "/api/v1/users/a-staff/sessions",
            None,
            Some(&b_admin),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(status_of(&app, "a-staff").await, "active");
    assert_eq!(me_status(&app, &a_staff).await, 200);
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE u.username = 'a-staff' AND s.revoked_at IS NULL",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(live, 1);

    // A's administrator: its own staff yes, its fellow administrator no.
    let (status, _) = post_as(
        &app,
        &a_admin,
        "/api/v1/users/a-admin2/suspend",
        Some(&reason),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(status_of(&app, "a-admin2").await, "active");
    let (status, page) = app
        .send_json(
            Method::GET,
            "/api/v1/users/a-staff/sessions",
            None,
            Some(&a_admin),
        )
        .await;
    assert_eq!(
        (status, page["items"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{page}"
    );
    let (status, answer) = post_as(
        &app,
        &a_admin,
        "/api/v1/users/a-staff/suspend",
        Some(&json!({"reason": "lost badge"})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(me_status(&app, &a_staff).await, 401);
    let (status, _) = post_as(
        &app,
        &a_admin,
        "/api/v1/users/a-staff/reinstate",
        Some(&json!({"reason": "badge found"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&app, "a-staff").await, "active");

    // A city regulator manages anyone's account.
    let city = app.login("city", PASSWORD).await;
    let (status, answer) = post_as(
        &app,
        &city,
        "/api/v1/users/b-staff/suspend",
        Some(&json!({"reason": "licence withdrawn"})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(status_of(&app, "b-staff").await, "suspended");
}

#[tokio::test]
async fn a_user_changes_its_own_password_and_its_other_sessions_end() {
    let app = spawn_app().await;
    new_user(&app, "staff-p", "enterprise_staff", Some("ENT1")).await;
    let here = app.login("staff-p", PASSWORD).await;
    let elsewhere = app.login("staff-p", PASSWORD).await;
    let new_password = "Another-Pass-2026";
    let path = "/api/v1/auth/password";

    // Without a sign-in, with a wrong old password, a weak new one or a bad body: nothing changes.
    let good = json!({"old_password": PASSWORD, "new_password": new_password});
    let (status, _) = app.send_json(Method::POST, path, Some(&good), None).await;
    assert_eq!(status, 401);
    for (body, code, field) in [
        (
            json!({"old_password": "Wrong-Pass-123", "new_password": new_password}),
            "invalid_field",
            Some("old_password"),
        ),
        (
            json!({"old_password": PASSWORD, "new_password": "short"}),
            "weak_password",
            Some("new_password"),
        ),
        (
            json!({"old_password": PASSWORD, "new_password": PASSWORD}),
            "invalid_field",
            Some("new_password"),
        ),
        (json!({"new_password": new_password}), "missing_field", None),
        (
            json!({"old_password": PASSWORD, "new_password": new_password, "x": 1}),
            "unknown_field",
            None,
        ),
    ] {
        let (status, answer) = post_as(&app, &here, path, Some(&body)).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}: {answer}"
        );
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    assert_eq!(me_status(&app, &elsewhere).await, 200);
    assert_eq!(try_login(&app, "staff-p", PASSWORD).await.0, 200);

    // Changed: this session stays, every other one ends; only the new password signs in.
    let (status, answer) = post_as(&app, &here, path, Some(&good)).await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(me_status(&app, &here).await, 200);
    assert_eq!(me_status(&app, &elsewhere).await, 401);
    assert_eq!(try_login(&app, "staff-p", PASSWORD).await.0, 401);
    assert_eq!(try_login(&app, "staff-p", new_password).await.0, 200);

    // A display (a wall's key) has no password to change.
    let (status, display) = app
        .post_json("/api/v1/displays", &json!({"name": "hall-p"}))
        .await;
    assert_eq!(status, 201, "{display}");
    let (status, signed) = app
        .send_json(
            Method::POST,
            "/api/v1/auth/display",
            Some(&json!({"key": display["key"]})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let wall = signed["token"].as_str().unwrap();
    let (status, _) = post_as(&app, wall, path, Some(&good)).await;
    assert_eq!(status, 403);

    // Audited, never with a password.
    let pool = app.db.pool.clone();
    app.wait_until(|| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_log WHERE action = 'POST /api/v1/auth/password' \
                 AND outcome = 'ok' AND actor = 'staff-p'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == 1
        }
    })
    .await;
    let everything: String =
        sqlx::query_scalar("SELECT coalesce(string_agg(audit_log::text, '\n'), '') FROM audit_log")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(!everything.contains(PASSWORD));
    assert!(!everything.contains(new_password));
}

#[tokio::test]
async fn an_admin_lists_and_revokes_a_users_sessions() {
    let app = spawn_app().await;
    new_user(&app, "duty-l", "duty_officer", None).await;
    new_user(&app, "duty-m", "duty_officer", None).await;
    let tokens = [
        app.login("duty-l", PASSWORD).await,
        app.login("duty-l", PASSWORD).await,
        app.login("duty-l", PASSWORD).await,
    ];
    let other = app.login("duty-m", PASSWORD).await;
    let list = "/api/v1/users/duty-l/sessions";

    let (status, page) = app.get_json(list).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3, "{page}");
    for item in &items {
        for field in ["id", "created_at", "last_seen_at", "expires_at"] {
            assert!(!item[field].is_null(), "{field}: {item}");
        }
        assert_eq!(item["source_addr"], "127.0.0.1", "{item}");
    }
    let text = page.to_string();
    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    for secret in tokens.iter().chain(hashes.iter()) {
        assert!(
            !text.contains(secret.as_str()),
            "a token or its hash shown: {text}"
        );
    }
    // Paging.
    let (status, first) = app.get_json(&format!("{list}?limit=2")).await;
    assert_eq!(status, 200);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app
        .get_json(&format!("{list}?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get_json(&format!("{list}?limit=0")).await.0, 400);

    // Revoke one: the newest (listed first) is the last token.
    let newest = items[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/users/duty-l/sessions/{newest}/revoke");
    let (status, answer) = app.post_json(&path, &json!({})).await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(me_status(&app, &tokens[2]).await, 401);
    assert_eq!(me_status(&app, &tokens[0]).await, 200);
    assert_eq!(app.post_json(&path, &json!({})).await.0, 404);
    // Another user's session, or not a session id: not found, nothing ended.
    let other_id: i64 = sqlx::query_scalar(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'duty-m'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    for bad in [other_id.to_string(), "abc".into(), "-1".into()] {
        let (status, _) = app
            .post_json(
                &format!("/api/v1/users/duty-l/sessions/{bad}/revoke"),
                &json!({}),
            )
            .await;
        assert_eq!(status, 404, "{bad}");
    }
    assert_eq!(me_status(&app, &other).await, 200);

    // Revoke all.
    let (status, answer) = app
        .post_json("/api/v1/users/duty-l/sessions/revoke", &json!({}))
        .await;
    assert_eq!((status, &answer["revoked"]), (200, &json!(2)), "{answer}");
    for token in &tokens {
        assert_eq!(me_status(&app, token).await, 401);
    }
    assert_eq!(me_status(&app, &other).await, 200);
    let (_, page) = app.get_json(list).await;
    assert_eq!(page["items"], json!([]));
    assert!(
        app.login("duty-l", PASSWORD).await.len() > 10,
        "it may sign in again"
    );
}
