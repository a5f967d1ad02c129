//! Issue 20 item 7: unauthenticated traffic cannot starve the guns. Junk device keys are
//! refused from memory before they take a decision slot; a body that trickles in is cut off.

use crate::common::{spawn_app_with, AppConfig, TestDb};
use crate::filling::{ask, check, cylinder, rules};
use chrono::Utc;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(pairs: &[(&str, &str)]) -> AppConfig {
    let mut config = AppConfig::default();
    for (k, v) in pairs {
        config.env.push(((*k).to_owned(), (*v).to_owned()));
    }
    config
}

/// One decision slot, a flood of junk keys from 32 senders: the real controller is never
/// refused for want of a slot (`E01`), and every junk key gets 401.
#[tokio::test]
async fn junk_keys_never_take_a_decision_slot() {
    let app = spawn_app_with(
        config(&[("CYLWATCH_AUTHORIZE_MAX_IN_FLIGHT", "1")]),
        TestDb::new().await,
    )
    .await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "FLOOD1", "ST1", json!({})).await;
    let now = Utc::now().to_rfc3339();
    let (status, _) = app
        .post_events(&json!({"events": [check("FLOOD1", "pre", true, &now)]}))
        .await;
    assert_eq!(status, 202);
    app.wait_until(|| async {
        let (_, a) = app
            .authorize(&controller, ask("FLOOD1", "ST1", "LPG"))
            .await;
        a["allowed"] == true
    })
    .await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut junk = tokio::task::JoinSet::new();
    for sender in 0..32 {
        let (client, url, stop) = (
            app.client.clone(),
            app.url("/api/v1/fillings/authorize"),
            stop.clone(),
        );
        junk.spawn(async move {
            let mut statuses = Vec::new();
            let mut n = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let response = client
                    .post(&url)
                    .header("X-Device-Key", format!("junk-{sender}-{n}"))
                    .json(&ask("FLOOD1", "ST1", "LPG"))
                    .send()
                    .await
                    .unwrap();
                statuses.push(response.status().as_u16());
            }
            statuses
        });
    }
    let mut answers = Vec::new();
    for _ in 0..40 {
        let (status, answer) = app
            .authorize(&controller, ask("FLOOD1", "ST1", "LPG"))
            .await;
        assert_eq!(status, 200, "{answer}");
        answers.push(rules(&answer));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut junk_statuses = Vec::new();
    while let Some(statuses) = junk.join_next().await {
        junk_statuses.extend(statuses.unwrap());
    }
    assert!(
        junk_statuses.len() > 100,
        "the flood ran: {}",
        junk_statuses.len()
    );
    assert!(junk_statuses.iter().all(|s| *s == 401), "junk gets 401");
    assert!(
        answers.iter().all(Vec::is_empty),
        "the real controller was always allowed: {answers:?}"
    );
}

/// A body that does not arrive within `body_read_s` is answered 408 and the connection freed.
#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off() {
    let app = spawn_app_with(
        config(&[("CYLWATCH_BODY_READ_S", "1")]),
        TestDb::new().await,
    )
    .await;
    let key = app.seed_registry_with_controller().await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/fillings/authorize HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nX-Device-Key: {key}\r\nContent-Length: 200\r\n\r\n{{\"cyl"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer, not a connection held open")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
}
