//! The station view: a station's guns asking the platform through the filling API (one
//! allowed, one unknown tag, one cylinder without its pre-fill check), then the page showing
//! each gun's newest decision, the day's counts and refusals by rule; refreshed by itself,
//! another day on request, and the last numbers kept when the server goes away.

use crate::common::{archive, output_dir, spawn_app};
use crate::Browser;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use std::time::Duration;

/// The rules that refused, from an answer.
fn rules(answer: &Value) -> Vec<&str> {
    answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect()
}

/// A gun's question at ST1, for a cylinder number or a tag (`what`).
fn ask(what: Value, gun: &str) -> Value {
    let mut body = json!({"station_code": "ST1", "gun_no": gun, "medium": "LPG", "staff_no": "S1"});
    for (k, v) in what.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// The rows of the recent decisions, once the table is there (not while a day is loading).
async fn rows(client: &Client) -> Option<usize> {
    client.find(Locator::Css("#recent-decisions")).await.ok()?;
    let rows = client
        .find_all(Locator::Css("#recent-decisions tbody tr"))
        .await
        .ok()?;
    Some(rows.len())
}

async fn save_screenshot(browser: &Browser, name: &str) {
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join(name), png).unwrap();
}

#[tokio::test]
async fn the_station_view_shows_each_guns_decision_and_the_refusals_by_rule() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    for code in ["SV-CHECKED", "SV-UNCHECKED"] {
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{code}: {body}");
    }
    // A passed pre-fill check an hour ago for one of them; the gun asks once it is history.
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let check = json!({"id": uuid::Uuid::new_v4(), "kind": "check", "stage": "pre",
                       "cylinder_code": "SV-CHECKED", "station_code": "ST1", "staff_no": "S1",
                       "passed": true, "items": {}, "occurred_at": an_hour_ago});
    let (status, body) = app.post_events(&json!({"events": [check]})).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        let (_, page) = app.get_json("/api/v1/cylinders/SV-CHECKED/history").await;
        page["items"].as_array().is_some_and(|i| i.len() == 1)
    })
    .await;

    let allowed = app
        .authorize(
            &controller,
            ask(json!({"cylinder_code": "SV-CHECKED"}), "G1"),
        )
        .await
        .1;
    assert_eq!(allowed["allowed"], true, "{allowed}");
    let unknown = app
        .authorize(&controller, ask(json!({"tag_id": "NO-SUCH"}), "G2"))
        .await
        .1;
    assert_eq!(rules(&unknown), ["R00"], "{unknown}");
    let unchecked = app
        .authorize(
            &controller,
            ask(json!({"cylinder_code": "SV-UNCHECKED"}), "G2"),
        )
        .await
        .1;
    assert_eq!(rules(&unchecked), ["R10"], "{unchecked}");

    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/stations/ST1").await;
    browser
        .wait_for("three recent decisions", async |c: &Client| {
            (rows(c).await? == 3).then_some(())
        })
        .await;
    assert_eq!(
        browser.attr("#station-page", "data-code").await.as_deref(),
        Some("ST1")
    );
    assert_eq!(
        browser.text("#station-name").await.as_deref(),
        Some("一号充装站")
    );
    for (kpi, value) in [
        ("decisions", "3"),
        ("allowed", "1"),
        ("refused", "2"),
        ("illegal-tags", "1"),
        ("fillings", "0"),
        ("flagged-fillings", "0"),
        ("late-records", "0"),
    ] {
        assert_eq!(
            browser
                .text(&format!("#kpi-{kpi} .kpi-value"))
                .await
                .as_deref(),
            Some(value),
            "{kpi}"
        );
    }
    assert_eq!(
        browser.text("#kpi-refused .kpi-label").await.as_deref(),
        Some("拒绝充装")
    );
    // Refusals by rule: every rule charted, the two that refused with their counts.
    for (rule, count) in [("R10", 1), ("R00", 1), ("R01", 0), ("E01", 0)] {
        let css = format!("#refusals-by-rule li[data-rule='{rule}'][data-count='{count}']");
        assert!(
            browser.client.find(Locator::Css(&css)).await.is_ok(),
            "{css}"
        );
    }
    let r10 = browser
        .text("#refusals-by-rule li[data-rule='R10']")
        .await
        .unwrap();
    assert!(r10.contains("无16小时内充装前检查合格记录"), "{r10}");
    // Each gun's newest decision: G1 allowed; G2's newest refused for R10 (not the R00 before).
    let g1 = "#gun-panel [data-gun='G1']";
    assert_eq!(
        browser.attr(g1, "data-allowed").await.as_deref(),
        Some("true")
    );
    assert!(browser.text(g1).await.unwrap().contains("允许"));
    let g2 = "#gun-panel [data-gun='G2']";
    assert_eq!(
        browser.attr(g2, "data-allowed").await.as_deref(),
        Some("false")
    );
    assert_eq!(browser.attr(g2, "data-rules").await.as_deref(), Some("R10"));
    let g2_text = browser.text(g2).await.unwrap();
    assert!(
        g2_text.contains("拒绝") && g2_text.contains("R10") && g2_text.contains("充装前检查"),
        "{g2_text}"
    );
    assert_eq!(
        browser
            .client
            .find_all(Locator::Css("#gun-panel [data-gun]"))
            .await
            .unwrap()
            .len(),
        2
    );
    // The list: newest first.
    let first = "#recent-decisions tbody tr:first-child";
    assert_eq!(browser.attr(first, "data-gun").await.as_deref(), Some("G2"));
    assert!(browser.text(first).await.unwrap().contains("SV-UNCHECKED"));
    let last = browser
        .text("#recent-decisions tbody tr:last-child")
        .await
        .unwrap();
    assert!(
        last.contains("SV-CHECKED") && last.contains("允许"),
        "{last}"
    );
    save_screenshot(&browser, "station-view-1920x1080-zh.png").await;
    browser.client.set_window_size(3840, 2160).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    save_screenshot(&browser, "station-view-3840x2160-zh.png").await;
    browser.client.set_window_size(1920, 1080).await.unwrap();

    // A new decision shows up by itself (the page asks every 5 s).
    let again = app
        .authorize(
            &controller,
            ask(json!({"cylinder_code": "SV-CHECKED"}), "G3"),
        )
        .await
        .1;
    assert_eq!(again["allowed"], true, "{again}");
    browser
        .wait_for("the fourth decision", async |c: &Client| {
            (rows(c).await? == 4).then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#gun-panel [data-gun='G3']", "data-allowed")
            .await
            .as_deref(),
        Some("true")
    );

    // Another day had none; "today" comes back to this one.
    browser
        .client
        .execute(
            "const d = document.getElementById('station-date'); d.value = '2020-01-01'; \
             d.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for("an empty day", async |c: &Client| {
            let day = browser.attr("#station-page", "data-date").await?;
            (day == "2020-01-01" && rows(c).await? == 0).then_some(())
        })
        .await;
    assert_eq!(
        browser.text("#kpi-decisions .kpi-value").await.as_deref(),
        Some("0")
    );
    browser
        .client
        .find(Locator::Css("#station-today"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("today again", async |c: &Client| {
            (rows(c).await? == 4).then_some(())
        })
        .await;

    // English on request: the verdicts and the rules' labels, not the server's Chinese.
    browser
        .client
        .find(Locator::Css("#lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("the English gun panel", async |_| {
            browser.text(g2).await?.contains("Refused").then_some(())
        })
        .await;
    let g2_text = browser.text(g2).await.unwrap();
    assert!(
        g2_text.contains("No passed pre-fill check within 16 h"),
        "{g2_text}"
    );
    save_screenshot(&browser, "station-view-1920x1080-en.png").await;

    // The header opens another station by its code; one outside the registry is a notice.
    let search = browser
        .client
        .find(Locator::Css("#station-search input"))
        .await
        .unwrap();
    search.send_keys("ST2\n").await.unwrap();
    browser
        .wait_for("the other station", async |_| {
            (browser.text("#station-name").await? == "二号门店").then_some(())
        })
        .await;
    assert_eq!(browser.path().await, "/stations/ST2");
    assert_eq!(
        browser.text("#kpi-decisions .kpi-value").await.as_deref(),
        Some("0")
    );
    assert!(browser
        .client
        .find(Locator::Css("#gun-panel [data-gun]"))
        .await
        .is_err());
    browser
        .client
        .goto(&app.url("/stations/NOPE"))
        .await
        .unwrap();
    browser
        .wait_for("the not-found notice", async |_| {
            browser.text("#station-not-found").await
        })
        .await;

    // The server goes away: the last numbers stay, marked as stale.
    browser
        .client
        .goto(&app.url("/stations/ST1"))
        .await
        .unwrap();
    browser
        .wait_for("the four decisions again", async |c: &Client| {
            (rows(c).await? == 4).then_some(())
        })
        .await;
    let _ = app.kill().await;
    browser
        .wait_for("the stale notice", async |_| {
            browser.text("#station-stale").await
        })
        .await;
    assert_eq!(rows(&browser.client).await, Some(4));
    assert_eq!(
        browser.text("#kpi-refused .kpi-value").await.as_deref(),
        Some("2")
    );
    save_screenshot(&browser, "station-view-stale.png").await;
    browser.client.clone().close().await.unwrap();
}
