//! The statistics drill-down: cylinders loaded and delivered through the event API, then the
//! pages city → district 410105 → enterprise ENT1 → station ST1 showing the API's inventory
//! figures, a figure opening exactly the cylinders behind it (and as CSV), compliance bars
//! per group, an unknown station's notice, and a phone without horizontal overflow.

use crate::common::{archive, output_dir, scan, spawn_app, TestApp};
use crate::Browser;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

const COLUMNS: [&str; 6] = [
    "shipped",
    "in_transit",
    "delivered",
    "returning",
    "total",
    "lost",
];

async fn click(browser: &Browser, css: &str) {
    browser
        .wait_for(&format!("clickable {css}"), async |c: &Client| {
            c.find(Locator::Css(css)).await.ok()
        })
        .await
        .click()
        .await
        .unwrap();
}

/// Waits for the level's page to have its inventory table.
async fn wait_level(browser: &Browser, path: &str, level: &str) {
    browser.wait_for_path(path).await;
    let css = format!("#stats-page[data-level='{level}'] #inventory");
    browser
        .wait_for(&format!("the {level} table"), async |c: &Client| {
            c.find(Locator::Css(&css)).await.ok()
        })
        .await;
}

/// Every figure on the page equals the API's table.
async fn figures_match(browser: &Browser, table: &Value) {
    let mut rows: Vec<(String, &Value)> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["medium"].as_str().unwrap().to_owned(), r))
        .collect();
    rows.push(("total".to_owned(), &table["total"]));
    for (medium, counts) in rows {
        for column in COLUMNS {
            let css =
                format!("#inventory tr[data-medium='{medium}'] a.fig[data-figure='{column}']");
            assert_eq!(
                browser.text(&css).await,
                Some(counts[column].to_string()),
                "{css}"
            );
        }
    }
}

async fn api_table(app: &TestApp, query: &str) -> Value {
    let (status, t) = app
        .get_json(&format!("/api/v1/stats/inventory{query}"))
        .await;
    assert_eq!(status, 200, "{t}");
    t
}

#[tokio::test]
async fn the_statistics_drill_down_from_the_city_to_a_stations_cylinders() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let codes = ["SD1", "SD2", "SD3", "SD4", "SD5"];
    for code in codes {
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{code}: {body}");
    }
    // SD1 and SD2 filled and on their way out, SD3 and SD4 delivered, SD5 in stock. (An
    // empty cylinder loaded is on its way back.)
    let at = |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
    let mut events = Vec::new();
    for code in &codes[..4] {
        events.push(scan(
            "fill",
            code,
            &at(90),
            json!({"station_code": "ST1", "staff_no": "S1"}),
        ));
        events.push(scan(
            "load",
            code,
            &at(60),
            json!({"station_code": "ST1", "vehicle_plate": "豫A00001"}),
        ));
    }
    for code in ["SD3", "SD4"] {
        events.push(scan(
            "deliver",
            code,
            &at(30),
            json!({"customer_code": "C1"}),
        ));
    }
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        let t = api_table(&app, "").await;
        t["total"]["shipped"] == 4 && t["total"]["delivered"] == 2
    })
    .await;

    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/stats").await;
    wait_level(&browser, "/stats", "city").await;
    // The header links here.
    assert_eq!(
        browser
            .attr(".topbar nav .nav-stats", "href")
            .await
            .as_deref(),
        Some("/stats")
    );
    assert!(browser
        .text(".topbar nav .nav-stats")
        .await
        .unwrap()
        .contains("统计"));
    browser
        .wait_for("the districts", async |c: &Client| {
            c.find(Locator::Css("#stats-children li[data-code='410105'] a"))
                .await
                .ok()
        })
        .await;
    figures_match(&browser, &api_table(&app, "").await).await;
    assert_eq!(
        browser
            .text("#inventory th[data-column='delivered']")
            .await
            .as_deref(),
        Some("已送提")
    );
    // The city's bars: one per district, 410105's made of its five cylinders.
    browser
        .wait_for("the district's bar", async |_| {
            let total = browser
                .attr("#compliance-bars li[data-key='410105']", "data-total")
                .await?;
            (total == "5").then_some(())
        })
        .await;

    click(&browser, "#stats-children li[data-code='410105'] a").await;
    wait_level(&browser, "/stats/district/410105", "district").await;
    figures_match(&browser, &api_table(&app, "?district_code=410105").await).await;
    click(&browser, "#stats-children li[data-code='ENT1'] a").await;
    wait_level(&browser, "/stats/enterprise/ENT1", "enterprise").await;
    figures_match(&browser, &api_table(&app, "?enterprise_code=ENT1").await).await;
    let (_, dist) = app
        .get_json("/api/v1/stats/compliance?enterprise_code=ENT1")
        .await;
    let ok = dist["groups"][0]["counts"]["ok"].to_string();
    browser
        .wait_for("ENT1's compliance bar", async |_| {
            browser
                .attr(
                    "#compliance-bars li[data-key='ENT1'] .seg[data-status='ok']",
                    "data-count",
                )
                .await
                .filter(|n| *n == ok)
        })
        .await;
    // The breadcrumb knows the enterprise's district.
    browser
        .wait_for("the district in the breadcrumb", async |_| {
            browser
                .text("#crumb-district")
                .await
                .filter(|t| t.contains("410105"))
        })
        .await;

    // A station by its code (no station list in the API).
    browser
        .client
        .find(Locator::Css("#stats-station-search input"))
        .await
        .unwrap()
        .send_keys("ST1\n")
        .await
        .unwrap();
    wait_level(&browser, "/stats/station/ST1", "station").await;
    let station = api_table(&app, "?station_code=ST1").await;
    figures_match(&browser, &station).await;
    browser
        .wait_for("the station's enterprise in the breadcrumb", async |_| {
            browser
                .text("#crumb-enterprise")
                .await
                .filter(|t| t.contains("ENT1"))
        })
        .await;

    // A figure opens exactly the cylinders behind it.
    click(
        &browser,
        "#inventory tr[data-medium='LPG'] a.fig[data-figure='delivered']",
    )
    .await;
    let listed = browser
        .wait_for("the delivered list", async |c: &Client| {
            let loading = browser.attr("#cylinder-list", "data-loading").await?;
            if loading != "false" {
                return None;
            }
            let rows = c
                .find_all(Locator::Css("#cylinder-list-table tbody tr"))
                .await
                .ok()?;
            let mut codes = Vec::new();
            for r in rows {
                codes.push(r.attr("data-code").await.ok()??);
            }
            Some(codes)
        })
        .await;
    assert_eq!(listed, ["SD3", "SD4"]);
    let link = station["rows"][0]["links"]["delivered"].as_str().unwrap();
    assert_eq!(
        browser.attr("#cylinder-list", "data-path").await.as_deref(),
        Some(link)
    );
    let (_, page) = app.get_json(link).await;
    let api_codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(listed, api_codes);
    assert!(browser
        .text("#cylinder-list-table tbody tr[data-code='SD3']")
        .await
        .unwrap()
        .contains("已送提"));
    // The CSV, fetched with the token: a header and the two cylinders.
    click(&browser, "#cylinder-list-csv").await;
    browser
        .wait_for("the CSV", async |_| {
            browser
                .attr("#cylinder-list", "data-csv-lines")
                .await
                .filter(|n| n == "3")
        })
        .await;
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join("stats-drilldown.png"), png).unwrap();

    // Each code leads to its cylinder's page.
    click(
        &browser,
        "#cylinder-list-table tr[data-code='SD4'] td.code a",
    )
    .await;
    browser.wait_for_path("/cylinders/SD4").await;

    // An unknown station says so.
    browser
        .client
        .goto(&app.url("/stats/station/NO-SUCH"))
        .await
        .unwrap();
    browser
        .wait_for("the notice", async |_| {
            browser.text("#stats-not-found").await
        })
        .await;
    browser.client.clone().close().await.unwrap();

    // A phone: the station's page with its list open, nothing wider than the screen.
    let phone = Browser::start_phone().await;
    phone.open_as_admin(&app, "/stats/station/ST1").await;
    wait_level(&phone, "/stats/station/ST1", "station").await;
    click(
        &phone,
        "#inventory tr[data-medium='total'] a.fig[data-figure='total']",
    )
    .await;
    phone
        .wait_for("the total list", async |_| {
            phone
                .attr("#cylinder-list", "data-count")
                .await
                .filter(|n| n == "5")
        })
        .await;
    let widths: Value = phone
        .client
        .execute(
            "return [window.innerWidth, document.getElementById('stats-page').scrollWidth, \
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
    std::fs::write(output_dir().join("stats-drilldown-phone.png"), png).unwrap();
    phone.client.clone().close().await.unwrap();
}
