//! Issue 20 items 5 and 12: no bearer token in a URL, a log line or the audit log; the live
//! feed opens with a single-use ticket or a first message, and cannot be used as a lever.

use crate::common::{gps, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb, ADMIN_PASSWORD};
use crate::live::{next_json, Ws};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn open(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .0
}

#[tokio::test]
async fn no_token_in_a_url_a_log_line_or_the_audit_log() {
    let app = spawn_app().await;
    let password = "Duty-Officer-Pass-7";
    let user = json!({"username": "duty7", "password": password, "role": "duty_officer"});
    assert_eq!(app.post_json("/api/v1/users", &user).await.0, 201);
    let token = app.login("duty7", password).await;
    let key = app.new_device("ENT1", json!({})).await;

    // A token in the query string is refused everywhere, with or without a header too.
    for (method, path) in [
        (
            reqwest::Method::GET,
            format!("/api/v1/auth/me?token={token}"),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/alerts?limit=5&%74oken={token}"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/auth/logout?token={token}"),
        ),
    ] {
        let (status, body) = app.send_json(method, &path, None, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], "token", "{path}");
        let (status, _) = app
            .send_json(reqwest::Method::GET, &path, None, Some(&token))
            .await;
        assert_eq!(status, 400, "{path} with a header too");
    }
    let (status, _) = app
        .send_json(reqwest::Method::GET, "/api/v1/auth/me", None, Some(&token))
        .await;
    assert_eq!(status, 200, "the token still works where it belongs");

    // The live feed: a ticket opens one session, once.
    let url = app.live_url_for(&token).await;
    let ticket = url.split("ticket=").nth(1).unwrap().to_owned();
    let mut ws = open(&url).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    assert!(
        tokio_tungstenite::connect_async(&url).await.is_err(),
        "a ticket is single-use"
    );
    let live = format!("ws://127.0.0.1:{}/api/v1/live", app.port);
    assert!(
        tokio_tungstenite::connect_async(format!("{live}?token={token}"))
            .await
            .is_err(),
        "no token in the live feed's URL either"
    );
    // Or the token as the first message.
    let mut ws2 = open(&live).await;
    ws2.send(Message::text(json!({"token": token}).to_string()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws2).await["type"], "snapshot");
    // An expired ticket does not open the feed.
    let late = app.live_url_for(&token).await;
    sqlx::query("UPDATE live_tickets SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(tokio_tungstenite::connect_async(&late).await.is_err());

    // A device at work, and a write whose query carries secrets (audited).
    let fix = json!({"events": [gps("豫A12121", 113.6, 34.7, "2026-12-06T09:00:00+08:00")]});
    assert_eq!(app.post_events_as(&key, &fix).await.0, 202);
    let secret_query =
        format!("/api/v1/users?ticket={ticket}&password={password}&device_key={key}");
    let (status, _) = app.post_json(&secret_query, &json!({})).await;
    assert!((400..500).contains(&status));
    drop((ws, ws2));
    let (status, _) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(&token),
        )
        .await;
    assert_eq!(status, 204);

    // Nothing secret in the server's own log or in the audit log.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = std::fs::read_to_string(&app.log).unwrap();
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT concat_ws(' ', actor, action, target, details::text) FROM audit_log",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(
        audit.iter().any(|row| row.contains("[redacted]")),
        "{audit:?}"
    );
    let secrets = [
        ("a user's token", token.as_str()),
        ("the administrator's token", app.admin_token.as_str()),
        ("a password", password),
        ("the administrator's password", ADMIN_PASSWORD),
        ("a device key", key.as_str()),
        ("a live ticket", ticket.as_str()),
    ];
    for (what, secret) in secrets {
        assert!(
            !log.contains(secret),
            "{what} in the server log {}",
            app.log.display()
        );
        for row in &audit {
            assert!(!row.contains(secret), "{what} in the audit log: {row}");
        }
    }
}

async fn with_sessions_per_user(n: u32) -> TestApp {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_LIVE_SESSIONS_PER_USER".into(), n.to_string()));
    spawn_app_with(config, TestDb::new().await).await
}

/// At most `live_sessions_per_user` feeds per user; a closed one frees its place.
#[tokio::test]
async fn a_user_may_hold_only_so_many_live_feeds() {
    let app = with_sessions_per_user(2).await;
    let mut first = open(&app.ws_url().await).await;
    assert_eq!(next_json(&mut first).await["type"], "snapshot");
    let mut second = open(&app.ws_url().await).await;
    assert_eq!(next_json(&mut second).await["type"], "snapshot");
    let mut third = open(&app.ws_url().await).await;
    let refused = next_json(&mut third).await;
    assert_eq!(refused["error"]["code"], "rate_limited", "{refused}");
    first.close(None).await.unwrap();
    drop(first);
    app.wait_until(|| async {
        let mut again = open(&app.ws_url().await).await;
        next_json(&mut again).await["type"] == "snapshot"
    })
    .await;
}

/// A flood of `subscribe`s gets one snapshot per 5 s, not one each.
#[tokio::test]
async fn subscribes_in_a_burst_get_one_snapshot_per_five_seconds() {
    let app = spawn_app().await;
    let mut ws = open(&app.ws_url().await).await;
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");
    for _ in 0..20 {
        ws.send(Message::text("{\"subscribe\": [\"alerts\", \"vehicles\"]}"))
            .await
            .unwrap();
    }
    assert_eq!(
        snapshots_within(&mut ws, Duration::from_secs(3)).await,
        0,
        "none within 5 s of the last"
    );
    assert_eq!(
        snapshots_within(&mut ws, Duration::from_secs(4)).await,
        1,
        "one for the whole burst"
    );
    assert_eq!(
        snapshots_within(&mut ws, Duration::from_secs(3)).await,
        0,
        "and no more"
    );
}

/// Snapshots arriving on `ws` within `window`.
async fn snapshots_within(ws: &mut Ws, window: Duration) -> usize {
    let mut snapshots = 0;
    let _ = tokio::time::timeout(window, async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(text) = msg {
                if text.as_str().contains("\"snapshot\"") {
                    snapshots += 1;
                }
            }
        }
    })
    .await;
    snapshots
}
