//! Errors read in the user's language: a refusal of the server is shown from its code and field,
//! never as the server's English message in Chinese, and it follows a switch of language.

use crate::common::{archive, spawn_app};
use crate::wall::{click, fill_despite_refusal, stored};
use crate::Browser;

/// What the server says when a critical alert is acknowledged without a note.
const SERVER_MESSAGE: &str = "acknowledging a critical alert takes a note";

#[tokio::test]
async fn a_refusal_reads_in_chinese_from_its_code_and_follows_the_language() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("ER1", "T-ER1"))
        .await;
    assert_eq!(status, 201, "{body}");
    // A refusal (no pre-fill check), then filling against it: a critical alert.
    let alert = fill_despite_refusal(&app, &controller, "ER1").await;
    let id = alert["id"].as_str().unwrap().to_owned();

    // The duty console in Chinese (the default), the alert critical and selected.
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/alerts").await;
    browser
        .wait_for("the critical alert in detail", async |_| {
            let shown = browser.attr("#alert-detail", "data-id").await?;
            let severity = browser
                .attr(&format!("#alert-feed li[data-id='{id}']"), "data-severity")
                .await?;
            (shown == id && severity == "critical").then_some(())
        })
        .await;

    // Acknowledged without a note: the server refuses (400 invalid_field, field `note`).
    click(&browser, "#alert-ack").await;
    let error = browser
        .wait_for("the refusal", async |_| {
            browser.text("#alert-action-error").await
        })
        .await;
    assert!(
        error.contains("处置说明") && error.contains("未填写"),
        "the refusal in Chinese, naming the field by its label: {error}"
    );
    assert!(
        !error.contains(SERVER_MESSAGE) && !error.contains("note"),
        "no English in the Chinese console: {error}"
    );
    assert_eq!(
        browser
            .attr("#alert-action-error", "data-code")
            .await
            .as_deref(),
        Some("invalid_field")
    );
    assert_eq!(stored(&app, &id).await["status"], "open");

    // Switched to English in the page, the same refusal reads in English.
    click(&browser, "#lang-switch").await;
    let english = browser
        .wait_for("the refusal in English", async |_| {
            let text = browser.text("#alert-action-error").await?;
            (!text.contains("处置说明")).then_some(text)
        })
        .await;
    assert!(english.contains(SERVER_MESSAGE), "{english}");
    browser.client.clone().close().await.unwrap();
}
