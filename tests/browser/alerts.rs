//! The duty console (值班台): alerts raised through the real filling API appear live, newest
//! first, coloured by severity; an officer acknowledges one with a note through the page; a
//! critical alert flashes, cannot be acknowledged without a note (the server's refusal is shown,
//! nothing changes) and is resolved; resolved alerts come back through the status filter; an
//! enterprise user on a phone sees the alerts without the buttons, and nothing overflows.

use crate::common::{archive, output_dir, spawn_app, TestApp};
use crate::Browser;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

/// A gun's question at ST1 (`what`: a cylinder number or a tag).
fn ask(what: Value) -> Value {
    let mut body =
        json!({"station_code": "ST1", "gun_no": "G1", "medium": "LPG", "staff_no": "S1"});
    for (k, v) in what.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// The one alert of `kind` (admin), once the server has raised it (within 20 s).
async fn alert_of(app: &TestApp, kind: &str) -> Value {
    for _ in 0..200 {
        let (_, page) = app.get_json(&format!("/api/v1/alerts?kind={kind}")).await;
        if let Some([one]) = page["items"].as_array().map(Vec::as_slice) {
            return one.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no single {kind} alert");
}

async fn alert(app: &TestApp, id: &str) -> Value {
    let (status, alert) = app.get_json(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(status, 200, "{alert}");
    alert
}

/// The feed's card of alert `id`, as CSS.
fn card(id: &str) -> String {
    format!("#alert-feed li[data-id='{id}']")
}

/// The ids of the feed's cards, top to bottom.
async fn feed(client: &Client) -> Option<Vec<String>> {
    let cards = client
        .find_all(Locator::Css("#alert-feed li[data-id]"))
        .await
        .ok()?;
    let mut ids = Vec::new();
    for c in cards {
        ids.push(c.attr("data-id").await.ok()??);
    }
    Some(ids)
}

async fn click(browser: &Browser, css: &str) {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_note(browser: &Browser, note: &str) {
    let area = browser
        .client
        .find(Locator::Css("#alert-note"))
        .await
        .unwrap();
    area.clear().await.unwrap();
    area.send_keys(note).await.unwrap();
}

/// Waits until the detail shows alert `id` with `status`.
async fn wait_detail(browser: &Browser, id: &str, status: &str) {
    browser
        .wait_for(&format!("the detail of {id} {status}"), async |_| {
            let shown = browser.attr("#alert-detail", "data-id").await?;
            let now = browser.attr("#alert-detail", "data-status").await?;
            (shown == id && now == status).then_some(())
        })
        .await;
}

#[tokio::test]
async fn the_duty_console_shows_alerts_live_and_handles_them_with_notes() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("DC1", "T-DC1"))
        .await;
    assert_eq!(status, 201, "{body}");

    // Before the page opens: an unknown tag at the gun (illegal_tag, high, on ST1).
    let answer = app
        .authorize(&controller, ask(json!({"tag_id": "FAKE"})))
        .await
        .1;
    assert_eq!(answer["allowed"], false, "{answer}");
    let illegal = alert_of(&app, "illegal_tag").await;
    let illegal_id = illegal["id"].as_str().unwrap().to_owned();

    // The header's link leads to the console.
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/").await;
    browser
        .wait_for("the header's link", async |_| {
            browser.text(".topbar nav a.nav-alerts").await
        })
        .await;
    assert_eq!(
        browser.text(".topbar nav a.nav-alerts").await.as_deref(),
        Some("值班台")
    );
    click(&browser, ".topbar nav a.nav-alerts").await;
    browser.wait_for_path("/alerts").await;
    browser
        .wait_for("the illegal tag alert", async |_| {
            browser.text(&card(&illegal_id)).await
        })
        .await;
    let text = browser.text(&card(&illegal_id)).await.unwrap();
    for part in ["非法标签", "严重", "站点 ST1", "一号充装站", "待处理"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    assert_eq!(
        browser
            .attr(&card(&illegal_id), "data-severity")
            .await
            .as_deref(),
        Some("high")
    );

    // After it opened: a refusal (no pre-fill check), filling_refused (medium), on top.
    let refused_answer = app
        .authorize(&controller, ask(json!({"cylinder_code": "DC1"})))
        .await
        .1;
    assert_eq!(refused_answer["allowed"], false, "{refused_answer}");
    let refused = alert_of(&app, "filling_refused").await;
    let refused_id = refused["id"].as_str().unwrap().to_owned();
    let order = browser
        .wait_for("the new alert on top", async |c: &Client| {
            feed(c).await.filter(|ids| ids.len() == 2)
        })
        .await;
    assert_eq!(order, [refused_id.clone(), illegal_id.clone()]);
    assert_eq!(
        browser
            .attr(&card(&refused_id), "data-severity")
            .await
            .as_deref(),
        Some("medium")
    );
    assert!(browser
        .text(&card(&refused_id))
        .await
        .unwrap()
        .contains("充装被拒绝"));

    // The illegal tag in detail: subject linked, evidence readable, its place on the map.
    click(&browser, &card(&illegal_id)).await;
    wait_detail(&browser, &illegal_id, "open").await;
    assert_eq!(
        browser.attr("#alert-subject a", "href").await.as_deref(),
        Some("/stations/ST1")
    );
    let evidence = browser.text("#alert-evidence").await.unwrap();
    assert!(
        evidence.contains("电子标签号") && evidence.contains("FAKE") && evidence.contains("R00"),
        "{evidence}"
    );
    assert_eq!(
        browser.attr("#alert-map", "data-place").await.as_deref(),
        Some("113.62,34.75")
    );

    // Acknowledged with a note through the page.
    let note = "已电话联系站长，外来气瓶已扣留";
    type_note(&browser, note).await;
    click(&browser, "#alert-ack").await;
    wait_detail(&browser, &illegal_id, "acknowledged").await;
    browser
        .wait_for("the acknowledged card", async |_| {
            let status = browser.attr(&card(&illegal_id), "data-status").await?;
            (status == "acknowledged").then_some(())
        })
        .await;
    assert!(browser
        .text("#alert-ack-info")
        .await
        .unwrap()
        .contains(note));
    let stored = alert(&app, &illegal_id).await;
    assert_eq!(stored["status"], "acknowledged", "{stored}");
    assert_eq!(
        (&stored["ack"]["note"], &stored["ack"]["by"]),
        (&json!(note), &json!("admin"))
    );

    // Filling against the refusal: the station's refusal alert turns critical and flashes.
    let ended = chrono::Utc::now();
    let filling = json!({"cylinder_code": "DC1", "station_code": "ST1", "licence_no": "豫充-001",
        "gun_no": "G1", "staff_no": "S1", "staff_name": "陈荣华",
        "started_at": (ended - chrono::Duration::seconds(90)).to_rfc3339(),
        "ended_at": ended.to_rfc3339(), "mass_before_kg": 16.5, "mass_after_kg": 30.5,
        "decision_id": refused_answer["decision_id"]});
    let response = app
        .client
        .post(app.url("/api/v1/fillings"))
        .header("x-device-key", &controller)
        .json(&filling)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    browser
        .wait_for("the critical alert flashing", async |_| {
            let css = card(&refused_id);
            let severity = browser.attr(&css, "data-severity").await?;
            let flash = browser.attr(&css, "data-flash").await?;
            (severity == "critical" && flash == "true").then_some(())
        })
        .await;
    let beeps: u32 = browser
        .attr("#alerts-page", "data-beeps")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(beeps >= 1, "a beep was asked for");
    assert_eq!(browser.text("#alerts-critical").await.as_deref(), Some("1"));

    // Opened, it stops flashing; acknowledging it without a note is refused by the server.
    click(&browser, &card(&refused_id)).await;
    wait_detail(&browser, &refused_id, "open").await;
    assert_eq!(
        browser
            .attr(&card(&refused_id), "data-flash")
            .await
            .as_deref(),
        Some("false")
    );
    click(&browser, "#alert-ack").await;
    let error = browser
        .wait_for("the refusal", async |_| {
            browser.text("#alert-action-error").await
        })
        .await;
    assert!(error.contains("处置说明"), "{error}");
    assert_eq!(alert(&app, &refused_id).await["status"], "open");
    assert_eq!(
        browser
            .attr("#alert-detail", "data-status")
            .await
            .as_deref(),
        Some("open")
    );
    let evidence = browser.text("#alert-evidence").await.unwrap();
    assert!(evidence.contains("拒绝后仍充装"), "{evidence}");
    // The screenshot at a 1920×1080 viewport (the window is that plus the browser's frame).
    let frame: Value = browser
        .client
        .execute("return window.outerHeight - window.innerHeight;", vec![])
        .await
        .unwrap();
    let frame = u32::try_from(frame.as_u64().unwrap_or(0)).unwrap();
    browser
        .client
        .set_window_size(1920, 1080 + frame)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join("duty-console-1920x1080-zh.png"), png).unwrap();

    // Resolved with a note: it leaves the feed of unresolved alerts, stays in view, and the
    // status filter brings it back from the server.
    type_note(&browser, "已责令停业整改，气瓶已封存").await;
    click(&browser, "#alert-resolve").await;
    wait_detail(&browser, &refused_id, "resolved").await;
    browser
        .wait_for(
            "the resolved alert to leave the feed",
            async |c: &Client| (feed(c).await? == [illegal_id.clone()]).then_some(()),
        )
        .await;
    let stored = alert(&app, &refused_id).await;
    assert_eq!(stored["status"], "resolved", "{stored}");
    assert_eq!(stored["resolution"]["note"], "已责令停业整改，气瓶已封存");
    browser
        .client
        .execute(
            "const s = document.getElementById('filter-status'); s.value = 'resolved'; \
             s.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for("the resolved list", async |c: &Client| {
            (feed(c).await? == [refused_id.clone()]).then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr(&card(&refused_id), "data-status")
            .await
            .as_deref(),
        Some("resolved")
    );
    browser.client.clone().close().await.unwrap();

    // An enterprise user on a phone: the alerts, no buttons, nothing wider than the screen.
    let (status, body) = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "ent1-staff", "password": "Staff-Test-2026!",
                    "role": "enterprise_staff", "enterprise_code": "ENT1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = app.login("ent1-staff", "Staff-Test-2026!").await;
    let phone = Browser::start_phone().await;
    phone.store_token(&app, &token).await;
    phone.client.goto(&app.url("/alerts")).await.unwrap();
    phone
        .wait_for("the alert on the phone", async |_| {
            phone.text(&card(&illegal_id)).await
        })
        .await;
    click(&phone, &card(&illegal_id)).await;
    wait_detail(&phone, &illegal_id, "acknowledged").await;
    assert!(phone.text("#alert-readonly").await.is_some());
    for button in ["#alert-ack", "#alert-resolve", "#alert-note"] {
        assert!(
            phone.client.find(Locator::Css(button)).await.is_err(),
            "{button} shown to an enterprise user"
        );
    }
    let widths: Value = phone
        .client
        .execute(
            "return [window.innerWidth, document.querySelector('.topbar').scrollWidth, \
             document.getElementById('alerts-page').scrollWidth, \
             document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let widths: Vec<u64> = widths
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_u64().unwrap())
        .collect();
    assert!(
        widths[1..].iter().all(|w| *w <= widths[0]),
        "wider than the phone: {widths:?}"
    );
    let png = phone.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("duty-console-phone.png"), png).unwrap();
    phone.client.clone().close().await.unwrap();
}
