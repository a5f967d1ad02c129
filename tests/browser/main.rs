//! Browser tests: headless Chromium (through ChromeDriver) against the real binary serving the
//! built dashboard, with real PostgreSQL and Redis behind it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod alerts;
mod csp;
mod cylinders;
mod errors;
mod incidents;
mod login;
mod overflow;
mod registry;
mod station;
mod stats;
mod wall;
mod wall_city;

use common::{free_port, gps, output_dir, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::process::{Child, Command};

/// A ChromeDriver of this test's own, and a browser session on it.
struct Browser {
    client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A desktop-sized session (1920×1080).
    async fn start() -> Self {
        Self::start_with(json!({})).await
    }

    /// A phone: Chromium's mobile emulation at 390×844 CSS pixels, 2 device pixels each.
    async fn start_phone() -> Self {
        Self::start_with(json!({
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true}}
        }))
        .await
    }

    /// A session with `extra` merged into `goog:chromeOptions`.
    async fn start_with(extra: Value) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (installed by scripts/setup)");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1920,1080",
                         format!("--user-data-dir={}", profile.path().display())]
            }
        });
        for (k, v) in extra.as_object().unwrap() {
            caps["goog:chromeOptions"][k] = v.clone();
        }
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            let builder = ClientBuilder::rustls().map(|mut b| {
                b.capabilities(caps.clone());
                b
            });
            if let Ok(client) = builder.unwrap().connect(&url).await {
                return Self {
                    client,
                    _driver: driver,
                    _profile: profile,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session through chromedriver on {port}");
    }

    /// Polls `check` on the page for up to 20 s.
    async fn wait_for<T>(&self, what: &str, mut check: impl AsyncFnMut(&Client) -> Option<T>) -> T {
        for _ in 0..200 {
            if let Some(value) = check(&self.client).await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let shot = output_dir().join(format!("failed-{}.png", what.replace(' ', "-")));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&shot, png);
        }
        panic!("waited 20 s for {what}; screenshot: {}", shot.display());
    }

    async fn text(&self, css: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .ok()?
            .text()
            .await
            .ok()
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.client
            .find(Locator::Css(css))
            .await
            .ok()?
            .attr(name)
            .await
            .ok()?
    }

    /// Puts `token` where the dashboard keeps its session, `localStorage['cylwatch.token']` of
    /// the app's origin (opening the sign-in page first, the one page that needs nothing).
    async fn store_token(&self, app: &TestApp, token: &str) {
        self.client.goto(&app.url("/login")).await.unwrap();
        self.client
            .execute(
                "localStorage.setItem('cylwatch.token', arguments[0])",
                vec![json!(token)],
            )
            .await
            .unwrap();
    }

    /// Opens `path` of the dashboard signed in as the administrator.
    async fn open_as_admin(&self, app: &TestApp, path: &str) {
        self.store_token(app, &app.admin_token).await;
        self.client.goto(&app.url(path)).await.unwrap();
    }

    /// The stored token, if any.
    async fn stored_token(&self) -> Option<String> {
        self.client
            .execute("return localStorage.getItem('cylwatch.token');", vec![])
            .await
            .ok()?
            .as_str()
            .map(str::to_owned)
    }

    /// The path and query the browser shows.
    async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the browser shows `path` (with its query).
    async fn wait_for_path(&self, path: &str) {
        self.wait_for(&format!("the path {path}"), async |_| {
            (self.path().await == path).then_some(())
        })
        .await;
    }

    async fn live_status(&self) -> Option<String> {
        self.attr("#live-status", "data-status").await
    }

    /// The markers drawn on the map, from the test-only `#vehicle-state` element.
    async fn markers(&self) -> Vec<Value> {
        let text: Option<String> = self
            .client
            .execute("const e = document.getElementById('vehicle-state'); return e ? e.textContent : null;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        text.and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["vehicles"].as_array().cloned())
            .unwrap_or_default()
    }

    async fn marker(&self, plate: &str) -> Option<Value> {
        self.markers()
            .await
            .into_iter()
            .find(|m| m["plate"] == plate)
    }
}

async fn post_fix(app: &TestApp, plate: &str, lon: f64, lat: f64) {
    let (status, body) = app
        .post_events(&json!({"events": [gps(plate, lon, lat, &chrono::Utc::now().to_rfc3339())]}))
        .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn the_wall_shows_the_districts_and_live_vehicles() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/?test-state").await;

    let names = browser
        .wait_for("12 districts", async |c: &Client| {
            let items = c.find_all(Locator::Css("#district-list li")).await.ok()?;
            let mut names = Vec::new();
            for item in items {
                names.push(item.attr("data-name").await.ok()??);
            }
            (names.len() == 12).then_some(names)
        })
        .await;
    for district in [
        "中原区",
        "二七区",
        "金水区",
        "管城回族区",
        "惠济区",
        "上街区",
        "新郑市",
        "登封市",
    ] {
        assert!(
            names.iter().any(|n| n == district),
            "{district} missing from {names:?}"
        );
    }
    assert_eq!(
        browser.text(".topbar .title").await.as_deref(),
        Some("郑州市气瓶安全监管平台")
    );
    browser
        .wait_for("the live feed", async |_| {
            (browser.live_status().await? == "live").then_some(())
        })
        .await;

    // An event posted now appears as a marker inside the map.
    post_fix(&app, "豫A66666", 113.6650, 34.7570).await;
    let marker = browser
        .wait_for("the new marker", async |_| browser.marker("豫A66666").await)
        .await;
    assert_eq!(marker["lon"], 113.665);
    let size: Value = browser
        .client
        .execute("const c = document.getElementById('city-map'); return [c.clientWidth, c.clientHeight];", vec![])
        .await
        .unwrap();
    let (x, y) = (marker["x"].as_f64().unwrap(), marker["y"].as_f64().unwrap());
    assert!(
        x > 0.0 && x < size[0].as_f64().unwrap() && y > 0.0 && y < size[1].as_f64().unwrap(),
        "{marker} in {size}"
    );
    // One vehicle online (on the road when its fix says it moves).
    assert!(browser
        .text("#kpi-vehicles .kpi-detail")
        .await
        .unwrap()
        .contains("在线 1"));

    // It moves when the vehicle does.
    post_fix(&app, "豫A66666", 113.7000, 34.7600).await;
    let moved = browser
        .wait_for("the marker to move", async |_| {
            browser
                .marker("豫A66666")
                .await
                .filter(|m| m["lon"] == 113.7)
        })
        .await;
    assert!(moved["x"].as_f64().unwrap() > x);

    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join("wall-one-vehicle.png"), png).unwrap();

    // English on request; the choice is remembered across a reload.
    browser
        .client
        .find(Locator::Css("#lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("English", async |_| {
            (browser.text(".topbar .title").await? == "Zhengzhou Gas Cylinder Supervision")
                .then_some(())
        })
        .await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_for("English after reload", async |_| {
            (browser.text(".topbar .title").await? == "Zhengzhou Gas Cylinder Supervision")
                .then_some(())
        })
        .await;
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_live_feed_reconnects_after_a_backend_restart() {
    let config = AppConfig {
        http_addr: format!("127.0.0.1:{}", free_port()),
        ..AppConfig::default()
    };
    let app = spawn_app_with(config, TestDb::new().await).await;
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/?test-state").await;
    browser
        .wait_for("the live feed", async |_| {
            (browser.live_status().await? == "live").then_some(())
        })
        .await;
    post_fix(&app, "豫A10001", 113.62, 34.74).await;
    browser
        .wait_for("the first marker", async |_| {
            browser.marker("豫A10001").await
        })
        .await;

    let (config, db) = app.kill().await;
    browser
        .wait_for("the reconnecting state", async |_| {
            (browser.live_status().await? == "reconnecting").then_some(())
        })
        .await;
    assert!(browser.text("#live-status").await.unwrap().contains("重连"));
    // The wall says so across the room, over the last picture it had.
    let banner = browser.text("#wall-reconnecting").await.unwrap();
    assert!(banner.contains("正在重新连接"), "{banner}");
    assert!(browser.marker("豫A10001").await.is_some());

    let app = spawn_app_with(config, db).await;
    browser
        .wait_for("live again", async |_| {
            (browser.live_status().await? == "live").then_some(())
        })
        .await;
    post_fix(&app, "豫A10002", 113.68, 34.78).await;
    browser
        .wait_for("a marker after the restart", async |_| {
            browser.marker("豫A10002").await
        })
        .await;
    assert!(
        browser
            .client
            .find(Locator::Css("#wall-reconnecting"))
            .await
            .is_err(),
        "the banner went with the outage"
    );
    // The snapshot after reconnecting still has the first vehicle; the session outlived the
    // restart (it is in PostgreSQL), so nobody had to sign in again.
    assert!(browser.marker("豫A10001").await.is_some());
    assert_eq!(browser.path().await, "/?test-state");
    assert_eq!(
        browser.attr("#whoami", "data-role").await.as_deref(),
        Some("admin")
    );
    browser.client.clone().close().await.unwrap();
}
