//! Issue 20 item 13: the Content-Security-Policy does not stop what must run. The dashboard
//! (wasm, trunk's inline loader, the `style` attributes of its layout and bars) and the Swagger
//! UI at `/api/v1/docs/` each work under the policy the server sends with them.

use crate::common::spawn_app;
use crate::Browser;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn the_dashboard_and_the_api_docs_run_under_their_policies() {
    let app = spawn_app().await;
    let browser = Browser::start().await;

    // The wall: the wasm app ran (it drew the wall) and its style attributes apply.
    browser.open_as_admin(&app, "/").await;
    browser
        .wait_for("the wall", async |c| {
            c.find(Locator::Css(".wall-kpis")).await.ok().map(|_| ())
        })
        .await;
    let area = browser
        .client
        .execute(
            "return getComputedStyle(document.querySelector('.wall-kpis')).gridRowStart;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(area, json!("kpi"), "a style attribute was blocked");

    // The docs: Swagger UI's scripts ran and drew the operations.
    browser
        .client
        .goto(&app.url("/api/v1/docs/"))
        .await
        .unwrap();
    let operations = browser
        .wait_for("the documented operations", async |c| {
            let found = c.find_all(Locator::Css(".opblock")).await.ok()?;
            (!found.is_empty()).then_some(found.len())
        })
        .await;
    assert!(operations > 20, "{operations} operations shown");
}
