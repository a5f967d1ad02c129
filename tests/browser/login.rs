//! Signing in and out through the page, and the gate in front of the dashboard: no session,
//! a forged one or a 401 sends to `/login?next=`, while the public QR page stays open.

use crate::common::{archive, output_dir, spawn_app, ADMIN_PASSWORD, ADMIN_USER};
use crate::Browser;
use fantoccini::Locator;
use serde_json::Value;

/// Types into the sign-in form and submits it.
async fn submit_login(browser: &Browser, username: &str, password: &str) {
    for (css, value) in [("#login-username", username), ("#login-password", password)] {
        let input = browser.client.find(Locator::Css(css)).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser
        .client
        .find(Locator::Css("#login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Whether the element is displayed.
async fn visible(browser: &Browser, css: &str) -> bool {
    match browser.client.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

#[tokio::test]
async fn signing_in_through_the_form_and_out_again() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/login")).await.unwrap();
    browser
        .wait_for("the sign-in form", async |_| {
            visible(&browser, "#login-form").await.then_some(())
        })
        .await;
    assert!(browser
        .text(".login-title")
        .await
        .is_some_and(|t| t == "郑州市气瓶安全监管平台"));
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join("login-1920x1080.png"), png).unwrap();

    // A wrong password: the server's refusal, in words, and no token.
    submit_login(&browser, ADMIN_USER, "Wrong-Password-1").await;
    let code = browser
        .wait_for("the sign-in error", async |_| {
            browser.attr("#login-error", "data-code").await
        })
        .await;
    assert_eq!(code, "invalid_credentials");
    assert_eq!(
        browser.text("#login-error").await.as_deref(),
        Some("用户名或密码错误")
    );
    assert_eq!(browser.stored_token().await, None);
    assert_eq!(browser.path().await, "/login");
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("login-error-1920x1080.png"), png).unwrap();

    // The right one: on to the wall, signed in as the administrator of the whole city.
    submit_login(&browser, ADMIN_USER, ADMIN_PASSWORD).await;
    browser.wait_for_path("/").await;
    browser
        .wait_for("who is signed in", async |_| {
            visible(&browser, "#whoami[data-role='admin']")
                .await
                .then_some(())
        })
        .await;
    assert_eq!(
        browser.attr("#whoami", "data-username").await.as_deref(),
        Some(ADMIN_USER)
    );
    let who = browser.text("#whoami").await.unwrap();
    assert!(
        who.contains(ADMIN_USER) && who.contains("系统管理员") && who.contains("全市"),
        "{who}"
    );
    let token = browser.stored_token().await.expect("the token is stored");
    browser
        .wait_for("the live feed", async |_| {
            (browser.live_status().await? == "live").then_some(())
        })
        .await;

    // A wall survives a reload: still signed in, no detour through the sign-in page.
    browser.client.refresh().await.unwrap();
    browser
        .wait_for("who is signed in after a reload", async |_| {
            visible(&browser, "#whoami[data-role='admin']")
                .await
                .then_some(())
        })
        .await;
    assert_eq!(browser.path().await, "/");

    // Signing out ends the session on the server too.
    browser
        .client
        .find(Locator::Css("#logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/login").await;
    browser
        .wait_for("the sign-in form after signing out", async |_| {
            visible(&browser, "#login-form").await.then_some(())
        })
        .await;
    assert_eq!(browser.stored_token().await, None);
    let (status, _) = app
        .send_json(reqwest::Method::GET, "/api/v1/auth/me", None, Some(&token))
        .await;
    assert_eq!(status, 401, "the token is revoked");
    browser.client.goto(&app.url("/")).await.unwrap();
    browser.wait_for_path("/login?next=%2F").await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_needs_a_session_and_the_public_page_does_not() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &archive("PUB0001", "E200PUB0001"))
        .await;
    assert_eq!(status, 201, "{answer}");

    // No token: the wall and a cylinder's page send to sign in, remembering where to return.
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.unwrap();
    browser.wait_for_path("/login?next=%2F").await;
    browser
        .client
        .goto(&app.url("/cylinders/PUB0001"))
        .await
        .unwrap();
    browser
        .wait_for_path("/login?next=%2Fcylinders%2FPUB0001")
        .await;
    assert!(browser.client.find(Locator::Css(".topbar")).await.is_err());

    // The public page answers anyone, and stays where it is.
    browser.client.goto(&app.url("/q/PUB0001")).await.unwrap();
    let light = browser
        .wait_for("the public status", async |_| {
            browser.attr("#public-status", "data-light").await
        })
        .await;
    assert_eq!(light, "green");
    assert_eq!(browser.path().await, "/q/PUB0001");

    // A forged token is refused (401 from /auth/me): forgotten, and off to sign in.
    browser.store_token(&app, "forged-token").await;
    browser.client.goto(&app.url("/?test-state")).await.unwrap();
    browser.wait_for_path("/login?next=%2F%3Ftest-state").await;
    assert_eq!(browser.stored_token().await, None);

    // ... and also the public page with a stale token: it does not even send it.
    browser.store_token(&app, "stale-token").await;
    browser.client.goto(&app.url("/q/PUB0001")).await.unwrap();
    browser
        .wait_for("the public status with a stale token", async |_| {
            (browser.attr("#public-status", "data-light").await? == "green").then_some(())
        })
        .await;
    assert_eq!(browser.path().await, "/q/PUB0001");

    // Signing in from the redirect comes back to the page asked for.
    browser
        .client
        .goto(&app.url("/cylinders/PUB0001"))
        .await
        .unwrap();
    browser
        .wait_for_path("/login?next=%2Fcylinders%2FPUB0001")
        .await;
    submit_login(&browser, ADMIN_USER, ADMIN_PASSWORD).await;
    browser.wait_for_path("/cylinders/PUB0001").await;
    browser
        .wait_for("the cylinder page", async |_| {
            (browser.attr("#cylinder-page", "data-code").await? == "PUB0001").then_some(())
        })
        .await;
    // A session ended elsewhere (another tab signs out): the next call's 401 sends here.
    let token = browser.stored_token().await.unwrap();
    let (status, _) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(&token),
        )
        .await;
    assert_eq!(status, 204);
    let search = browser
        .client
        .find(Locator::Css("#cylinder-search input"))
        .await
        .unwrap();
    search.send_keys("PUB0002\n").await.unwrap();
    browser
        .wait_for_path("/login?next=%2Fcylinders%2FPUB0002")
        .await;
    assert_eq!(browser.stored_token().await, None);
    browser.client.clone().close().await.unwrap();

    // On a phone the sign-in page fits the screen: nothing to scroll sideways, the button in
    // reach.
    let phone = Browser::start_phone().await;
    phone.client.goto(&app.url("/")).await.unwrap();
    phone.wait_for_path("/login?next=%2F").await;
    phone
        .wait_for("the sign-in form on a phone", async |_| {
            visible(&phone, "#login-submit").await.then_some(())
        })
        .await;
    let fit: Value = phone
        .client
        .execute(
            "const b = document.getElementById('login-submit').getBoundingClientRect();
             return [document.documentElement.scrollWidth, window.innerWidth, b.right, b.bottom, window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let n = |i: usize| fit[i].as_f64().unwrap();
    assert!(n(0) <= n(1), "{fit}");
    assert!(n(2) <= n(1) && n(3) <= n(4), "{fit}");
    let png = phone.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("login-phone.png"), png).unwrap();
    phone.client.clone().close().await.unwrap();
}

/// A command-hall wall set up with its display key stays signed in when its session ends (no
/// person signs it in again), read-only; signing out on it ends its being a wall.
#[tokio::test]
async fn a_wall_set_up_with_its_key_signs_itself_in_again() {
    let app = spawn_app().await;
    let (status, made) = app
        .post_json("/api/v1/displays", &serde_json::json!({"name": "hall-9"}))
        .await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/login")).await.unwrap();
    browser
        .wait_for("the sign-in page", async |_| {
            visible(&browser, "#wall-setup").await.then_some(())
        })
        .await;
    browser
        .client
        .find(Locator::Css("#wall-setup summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = browser
        .client
        .find(Locator::Css("#wall-key"))
        .await
        .unwrap();
    input.send_keys(&key).await.unwrap();
    browser
        .client
        .find(Locator::Css("#wall-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/").await;
    browser
        .wait_for("the wall signed in as its display", async |_| {
            visible(&browser, "#whoami[data-role='display']")
                .await
                .then_some(())
        })
        .await;
    let first = browser.stored_token().await.expect("a session");

    // Every session ends (12 h after sign-in at the latest); the wall's next call is a 401,
    // and it signs itself in again with its key.
    sqlx::query("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    browser.client.refresh().await.unwrap();
    browser
        .wait_for("a new session, no sign-in page", async |_| {
            let token = browser.stored_token().await?;
            (token != first && visible(&browser, "#whoami[data-role='display']").await)
                .then_some(())
        })
        .await;
    assert_eq!(browser.path().await, "/");
    browser
        .wait_for("the live feed", async |_| {
            (browser.live_status().await? == "live").then_some(())
        })
        .await;
    browser.client.clone().close().await.unwrap();
}
