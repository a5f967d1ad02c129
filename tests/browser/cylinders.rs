//! The cylinder pages: the public QR page on a phone (no sign-in), and a supervisor's cylinder
//! page with its archive, history table and trajectory, on data made through the API.

use crate::common::{output_dir, spawn_app, TestApp};
use crate::Browser;
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

/// POSTs `body` to `/api/v1{path}` as the administrator and asserts it was accepted.
async fn create(app: &TestApp, path: &str, body: Value) {
    let (status, answer) = app.post_json(&format!("/api/v1{path}"), &body).await;
    assert!(
        (200..300).contains(&status),
        "POST {path} {body}: {status} {answer}"
    );
}

/// POSTs events with a device of `enterprise` (a device writes for its own enterprise only).
async fn post_events_of(app: &TestApp, enterprise: &str, events: Vec<Value>) -> Value {
    let key = app.new_device(enterprise, json!({})).await;
    let (status, body) = app.post_events_as(&key, &json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    body
}

/// An enterprise `ent` (LPG, licences valid) with a filling station `st`.
async fn enterprise_and_station(app: &TestApp, ent: &str, st: &str) {
    create(
        app,
        "/enterprises",
        json!({"code": ent, "name": "郑州安源燃气有限公司", "credit_code": "91410105MA44XW0K1A",
               "district_code": "410105", "address": "郑州市金水区花园路 88 号",
               "filling_licence_no": "TS4241001-2027", "filling_licence_expires": "2030-12-31",
               "gas_licence_no": "豫燃经 2021-0107", "gas_licence_expires": "2030-12-31",
               "media": ["LPG"]}),
    )
    .await;
    create(
        app,
        "/stations",
        json!({"code": st, "enterprise_code": ent, "name": "金水区花园路充装站", "kind": "filling",
               "location": {"lon": 113.6620, "lat": 34.7950}, "radius_m": 100, "full_stock_limit": 200}),
    )
    .await;
}

/// A registered 15 kg LPG cylinder archive with the given inspection dates.
fn archive(code: &str, ent: &str, st: &str, last: &str, next: &str) -> Value {
    json!({"code": code, "tag_id": format!("E200{code}"), "medium": "LPG", "tare_kg": 16.4,
           "volume_l": 35.5, "working_pressure_mpa": 2.1, "test_pressure_mpa": 3.2,
           "wall_thickness_mm": 2.6, "max_fill_kg": 14.5, "design_life_years": 15,
           "manufacturer": "宁波美恪乙炔瓶有限公司", "manufactured_on": "2015-01-01",
           "product_standard": "GB 5842-2006", "manufacture_licence_no": "TS2210012-2019",
           "last_inspected_on": last, "next_inspection_on": next,
           "registration_no": "豫A气 2015-0001", "registered_on": "2015-02-01",
           "registration_authority": "郑州市市场监督管理局",
           "owner_enterprise_code": ent, "station_code": st})
}

async fn save_screenshot(browser: &Browser, name: &str) {
    let png = browser.client.screenshot().await.unwrap();
    assert!(png.len() > 10_000, "a real picture");
    std::fs::write(output_dir().join(name), png).unwrap();
}

#[tokio::test]
async fn the_public_qr_page_shows_an_overdue_cylinder_in_red_on_a_phone() {
    let app = spawn_app().await;
    enterprise_and_station(&app, "ENT-QR", "ST-QR").await;
    create(
        &app,
        "/cylinders",
        archive("QR0001", "ENT-QR", "ST-QR", "2016-01-01", "2020-01-01"),
    )
    .await;

    // It went round before it became overdue: the page lists where, newest first.
    let events: Vec<Value> = [
        ("2019-11-02T09:12:00+08:00", "fill"),
        ("2019-11-02T14:30:00+08:00", "store_out"),
        ("2019-12-20T16:05:00+08:00", "return_in"),
    ]
    .into_iter()
    .map(|(at, op)| {
        json!({"id": uuid::Uuid::new_v4(), "kind": "scan", "occurred_at": at, "op": op,
               "cylinder_code": "QR0001", "station_code": "ST-QR"})
    })
    .collect();
    post_events_of(&app, "ENT-QR", events).await;
    // Polled on the supervisor's history, not the public endpoint (rate-limited per address).
    app.wait_until(|| async {
        let (_, page) = app
            .get_json("/api/v1/cylinders/QR0001/history?limit=500")
            .await;
        page["items"].as_array().is_some_and(|i| i.len() == 3)
    })
    .await;

    let browser = Browser::start_phone().await;
    browser.client.goto(&app.url("/q/QR0001")).await.unwrap();
    let light = browser
        .wait_for("the public status", async |_| {
            browser.attr("#public-status", "data-light").await
        })
        .await;
    assert_eq!(light, "red");
    assert_eq!(
        browser
            .attr("#public-status", "data-compliance")
            .await
            .as_deref(),
        Some("inspection_overdue")
    );
    let status = browser.text("#public-status").await.unwrap();
    assert!(status.contains("过期"), "{status}");
    let page = browser.text("#public-page").await.unwrap();
    for fact in [
        "QR0001",
        "液化石油气",
        "郑州安源燃气有限公司",
        "2020-01-01",
        "2030-01-01",
    ] {
        assert!(page.contains(fact), "{fact} missing from {page}");
    }
    let places = browser
        .text("#public-history li:first-child")
        .await
        .unwrap();
    assert!(
        places.contains("回瓶入库") && places.contains("2019-12-20 16:05"),
        "{places}"
    );
    // Outside the dashboard: no wall header, and nothing wider than the phone.
    assert!(browser.client.find(Locator::Css(".topbar")).await.is_err());
    let fits: Value = browser
        .client
        .execute(
            "const p = document.getElementById('public-page'); \
             return [p.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        fits[0].as_f64().unwrap() <= fits[1].as_f64().unwrap(),
        "{fits}"
    );
    assert_eq!(fits[1], 390);
    save_screenshot(&browser, "public-qr-phone.png").await;

    // A code the registry does not know is a warning, not an empty page.
    browser.client.goto(&app.url("/q/NOSUCH01")).await.unwrap();
    browser
        .wait_for("the not-found warning", async |_| {
            (browser.attr("#public-status", "data-compliance").await? == "not_found").then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#public-status", "data-light")
            .await
            .as_deref(),
        Some("red")
    );
    let warning = browser.text("#public-status").await.unwrap();
    assert!(
        warning.contains("未找到") && warning.contains("12315"),
        "{warning}"
    );
    browser.client.clone().close().await.unwrap();

    // On a desktop screen it stays a readable column rather than stretching.
    let desktop = Browser::start().await;
    desktop
        .client
        .goto(&app.url("/q/410100QR0001"))
        .await
        .unwrap();
    desktop
        .wait_for("the public status on a desktop", async |_| {
            (desktop.attr("#public-status", "data-light").await? == "red").then_some(())
        })
        .await;
    let width: Value = desktop
        .client
        .execute(
            "return document.querySelector('.public-main').getBoundingClientRect().width;",
            vec![],
        )
        .await
        .unwrap();
    assert!(width.as_f64().unwrap() <= 480.0, "{width}");
    save_screenshot(&desktop, "public-qr-1920.png").await;
    desktop.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn the_cylinder_page_shows_the_archive_history_and_trajectory() {
    let app = spawn_app().await;
    enterprise_and_station(&app, "ENT-TL", "ST-TL").await;
    for (code, name, lon, lat) in [
        ("CU-TL-1", "老王烩面馆", 113.6801, 34.7702),
        ("CU-TL-2", "金水路小厨", 113.7005, 34.7801),
    ] {
        create(
            &app,
            "/customers",
            json!({"code": code, "enterprise_code": "ENT-TL", "name": name, "kind": "restaurant",
                   "phone": "0371-66000000", "address": "郑州市金水区", "district_code": "410105",
                   "location": {"lon": lon, "lat": lat}}),
        )
        .await;
    }
    create(
        &app,
        "/staff",
        json!({"staff_no": "F-TL-1", "enterprise_code": "ENT-TL", "name": "陈荣华", "role": "filler"}),
    )
    .await;
    create(
        &app,
        "/vehicles",
        json!({"plate": "豫A7T001", "enterprise_code": "ENT-TL"}),
    )
    .await;
    create(
        &app,
        "/cylinders",
        archive("TL0001", "ENT-TL", "ST-TL", "2024-03-01", "2028-03-01"),
    )
    .await;

    // Fill, load, deliver, take back; then a delivery from the store without a filling, which
    // the custody rules flag. The first is in UTC: the page shows Beijing time.
    let scan = |at: &str, op: &str, extra: Value| {
        let mut e = json!({"id": uuid::Uuid::new_v4(), "kind": "scan", "occurred_at": at,
                           "op": op, "cylinder_code": "TL0001"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let events = vec![
        scan(
            "2026-11-01T01:00:00Z",
            "fill",
            json!({"station_code": "ST-TL", "staff_no": "F-TL-1",
                   "mass_before_kg": 16.5, "mass_after_kg": 31.0}),
        ),
        scan(
            "2026-11-01T10:30:00+08:00",
            "load",
            json!({"station_code": "ST-TL", "vehicle_plate": "豫A7T001"}),
        ),
        scan(
            "2026-11-01T11:15:00+08:00",
            "deliver",
            json!({"customer_code": "CU-TL-1", "station_code": "ST-TL",
                   "lon": 113.6802, "lat": 34.7703}),
        ),
        scan(
            "2026-11-03T16:00:00+08:00",
            "return_in",
            json!({"station_code": "ST-TL"}),
        ),
        scan(
            "2026-11-04T09:40:00+08:00",
            "deliver",
            json!({"customer_code": "CU-TL-2", "station_code": "ST-TL"}),
        ),
    ];
    let n = events.len();
    let body = post_events_of(&app, "ENT-TL", events).await;
    assert_eq!(body["accepted"], n, "{body}");
    // Custody and history come from the pipeline: wait for all of it.
    app.wait_until(|| async {
        let (_, page) = app
            .get_json("/api/v1/cylinders/TL0001/history?limit=500")
            .await;
        page["items"].as_array().is_some_and(|i| i.len() == n)
    })
    .await;
    let (_, view) = app.get_json("/api/v1/cylinders/TL0001").await;

    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/cylinders/TL0001").await;
    browser
        .wait_for("the timeline", async |c: &Client| {
            let rows = c.find_all(Locator::Css("#timeline tbody tr")).await.ok()?;
            (rows.len() == n).then_some(())
        })
        .await;
    assert_eq!(
        browser.attr("#cylinder-page", "data-code").await.as_deref(),
        Some("TL0001")
    );
    assert_eq!(
        browser
            .attr("#compliance-badge", "data-compliance")
            .await
            .as_deref(),
        Some("ok")
    );
    assert_eq!(
        browser.attr("#custody", "data-custody").await,
        view["custody"].as_str().map(str::to_owned)
    );
    let first = "#timeline tbody tr:first-child";
    assert_eq!(
        browser.attr(first, "data-kind").await.as_deref(),
        Some("scan")
    );
    assert_eq!(
        browser.attr(first, "data-op").await.as_deref(),
        Some("fill")
    );
    assert_eq!(
        browser.text(&format!("{first} td.op")).await.as_deref(),
        Some("充装")
    );
    let cells: Vec<String> = {
        let row = browser.client.find(Locator::Css(first)).await.unwrap();
        let mut cells = Vec::new();
        for td in row.find_all(Locator::Css("td")).await.unwrap() {
            cells.push(td.text().await.unwrap());
        }
        cells
    };
    assert_eq!(cells[0], "2026-11-01 09:00", "{cells:?}");
    assert_eq!(cells[2], "陈荣华", "{cells:?}");
    assert_eq!(cells[3], "金水区花园路充装站", "{cells:?}");
    assert_eq!(
        (cells[5].as_str(), cells[6].as_str()),
        ("16.5", "31"),
        "{cells:?}"
    );
    let third = browser
        .text("#timeline tbody tr:nth-child(3)")
        .await
        .unwrap();
    assert!(
        third.contains("销售扫描") && third.contains("老王烩面馆"),
        "{third}"
    );
    // The last delivery came from the store, not from a vehicle: flagged, with the reason.
    let last = "#timeline tbody tr:last-child";
    assert_eq!(
        browser.attr(last, "data-flagged").await.as_deref(),
        Some("true")
    );
    assert!(!browser
        .attr(last, "title")
        .await
        .unwrap_or_default()
        .is_empty());
    assert_eq!(
        browser
            .client
            .find_all(Locator::Css("#timeline tr[data-flagged='true']"))
            .await
            .unwrap()
            .len(),
        1
    );
    // The archive lists Appendix A; the trajectory has the located events.
    let archive = browser.text("#archive").await.unwrap();
    for item in [
        "气瓶唯一性瓶号",
        "水压试验压力(MPa)",
        "2028-03-01",
        "郑州市市场监督管理局",
    ] {
        assert!(archive.contains(item), "{item} missing from {archive}");
    }
    let points: usize = browser
        .wait_for("the trajectory", async |_| {
            browser
                .attr("#trajectory", "data-points")
                .await?
                .parse()
                .ok()
                .filter(|p| *p > 0)
        })
        .await;
    assert!(points <= n, "{points}");
    save_screenshot(&browser, "cylinder-page.png").await;

    // A 4K wall, and English on request.
    browser.client.set_window_size(3840, 2160).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    save_screenshot(&browser, "cylinder-page-3840x2160.png").await;
    browser.client.set_window_size(1920, 1080).await.unwrap();
    browser
        .client
        .find(Locator::Css("#lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("the English timeline", async |_| {
            (browser.text("#timeline th").await? == "Date and time").then_some(())
        })
        .await;
    assert_eq!(
        browser.text(&format!("{first} td.op")).await.as_deref(),
        Some("Filling")
    );
    save_screenshot(&browser, "cylinder-page-en.png").await;

    // The header's search box opens another cylinder's page.
    let search = browser
        .client
        .find(Locator::Css("#cylinder-search input"))
        .await
        .unwrap();
    search.send_keys("NOSUCH02\n").await.unwrap();
    browser
        .wait_for("the not-found notice", async |_| {
            browser.text("#cylinder-not-found").await
        })
        .await;
    assert_eq!(
        browser.attr("#cylinder-page", "data-code").await.as_deref(),
        Some("NOSUCH02")
    );
    browser.client.clone().close().await.unwrap();
}
