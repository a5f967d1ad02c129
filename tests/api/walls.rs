//! Issue 20 item 15: a wall runs for months on its own credential, read-only, revocable at
//! once, listed with its last use; acting takes a person's sign-in.

use crate::common::{spawn_app, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

async fn sign_in(app: &TestApp, key: &str) -> (u16, Value) {
    app.send_json(
        Method::POST,
        "/api/v1/auth/display",
        Some(&json!({ "key": key })),
        None,
    )
    .await
}

#[tokio::test]
async fn a_wall_outlives_ordinary_sessions_reads_and_never_acts() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, made) = app
        .post_json("/api/v1/displays", &json!({"name": "hall-1"}))
        .await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    let (status, signed) = sign_in(&app, &key).await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["role"], "display");
    let wall = signed["token"].as_str().unwrap().to_owned();

    // Read-only: it sees the city, it writes nothing, and it cannot hand out keys.
    let (status, _) = app
        .send_json(Method::GET, "/api/v1/alerts", None, Some(&wall))
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .send_json(Method::GET, "/api/v1/stats/inventory", None, Some(&wall))
        .await;
    assert_eq!(status, 200);
    for (path, body) in [
        (
            "/api/v1/stations",
            json!({"code": "W-ST", "enterprise_code": "ENT1", "name": "x",
            "kind": "filling", "location": {"lon": 113.6, "lat": 34.7}, "full_stock_limit": 10}),
        ),
        (
            "/api/v1/devices",
            json!({"device_id": "W-DEV", "kind": "gps", "enterprise_code": "ENT1"}),
        ),
        ("/api/v1/displays", json!({"name": "hall-2"})),
        ("/api/v1/stations/ST1/inspection-grant", json!({})),
        (
            "/api/v1/users",
            json!({"username": "w", "password": "Wall-Pass-2026", "role": "duty_officer"}),
        ),
    ] {
        let (status, answer) = app
            .send_json(Method::POST, path, Some(&body), Some(&wall))
            .await;
        assert_eq!(status, 403, "{path}: {answer}");
    }
    // Nor can a person make a display out of a user.
    let (status, _) = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "w2", "password": "Wall-Pass-2026", "role": "display"}),
        )
        .await;
    assert_eq!(status, 400);
    // A display cannot sign in with a password.
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            Some(&json!({"username": "hall-1", "password": "!"})),
            None,
        )
        .await;
    assert_eq!(status, 401);

    // The end of every ordinary session (12 h after login at the latest): the person's token
    // is dead; the wall signs in again with its key, no person needed.
    let person = app.admin_token.clone();
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, _) = app
        .send_json(Method::GET, "/api/v1/auth/me", None, Some(&person))
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .send_json(Method::GET, "/api/v1/auth/me", None, Some(&wall))
        .await;
    assert_eq!(status, 401);
    let (status, again) = sign_in(&app, &key).await;
    assert_eq!(status, 200, "{again}");
    let wall = again["token"].as_str().unwrap().to_owned();
    let (status, me) = app
        .send_json(Method::GET, "/api/v1/auth/me", None, Some(&wall))
        .await;
    assert_eq!((status, &me["username"]), (200, &json!("hall-1")));

    // Listed with its last use; revoked at once.
    let admin = app
        .login(crate::common::ADMIN_USER, crate::common::ADMIN_PASSWORD)
        .await;
    let (status, list) = app
        .send_json(Method::GET, "/api/v1/displays", None, Some(&admin))
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["name"], "hall-1");
    assert!(list[0]["last_used_at"].is_string(), "{list}");
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/displays/hall-1/revoke",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .send_json(Method::GET, "/api/v1/auth/me", None, Some(&wall))
        .await;
    assert_eq!(status, 401, "its session ended at once");
    let (status, _) = sign_in(&app, &key).await;
    assert_eq!(status, 401, "its key no longer signs in");
}

/// Another enterprise's admin makes displays of its own enterprise only, and neither sees nor
/// revokes the others'.
#[tokio::test]
async fn displays_are_scoped_like_users() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, _) = app
        .post_json("/api/v1/enterprises", &crate::common::enterprise("ENT2"))
        .await;
    assert_eq!(status, 201);
    let password = "Enterprise-Two-Pass-1";
    let other = json!({"username": "ent2-admin", "password": password,
                       "role": "enterprise_admin", "enterprise_code": "ENT2"});
    assert_eq!(app.post_json("/api/v1/users", &other).await.0, 201);
    let two = app.login("ent2-admin", password).await;
    assert_eq!(
        app.post_json(
            "/api/v1/displays",
            &json!({"name": "ent1-hall", "enterprise_code": "ENT1"})
        )
        .await
        .0,
        201
    );
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/displays",
            Some(&json!({"name": "steal", "enterprise_code": "ENT1"})),
            Some(&two),
        )
        .await;
    assert!([403, 404, 422].contains(&status), "{status}");
    let (status, made) = app
        .send_json(
            Method::POST,
            "/api/v1/displays",
            Some(&json!({"name": "ent2-hall"})),
            Some(&two),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, list) = app
        .send_json(Method::GET, "/api/v1/displays", None, Some(&two))
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "ent2-hall");
    assert_eq!(list[0]["enterprise_code"], "ENT2");
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/displays/ent1-hall/revoke",
            None,
            Some(&two),
        )
        .await;
    assert_eq!(status, 404);
    let revoked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM displays WHERE revoked_at IS NOT NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(revoked, 0);
}
