//! Incidents on the dashboard (issue 22 items 5–6, the Proof): a duty officer of the city
//! regulator opens an incident from an alert on the wall, sees its context, issues a recall of
//! the batch; the wall then shows the incident in place (the map zoomed to it with its ring,
//! the panel with the timeline and the recall's progress), goes back to the city in one click;
//! the officer closes the incident and opens its report.

use crate::common::{archive, spawn_app, TestApp};
use crate::wall::{alert_of, card, click, type_into};
use crate::{post_fix, Browser};
use chrono::{Duration, Utc};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

const OFFICER: &str = "duty-reg";
const PASSWORD: &str = "Duty-Regulator-22";

/// A filling record of `code` at ST1's gun G1 by S1, ended `minutes_ago`, with the mass after.
async fn fill(app: &TestApp, controller: &str, code: &str, minutes_ago: i64, after_kg: f64) {
    let ended = Utc::now() - Duration::minutes(minutes_ago);
    let record = json!({"cylinder_code": code, "station_code": "ST1", "licence_no": "豫充-001",
        "gun_no": "G1", "staff_no": "S1", "staff_name": "陈荣华",
        "started_at": (ended - Duration::seconds(90)).to_rfc3339(), "ended_at": ended.to_rfc3339(),
        "mass_before_kg": 16.5, "mass_after_kg": after_kg});
    let (status, answer) = app.post_filling(controller, &record).await;
    assert_eq!(status, 201, "{answer}");
}

/// The value of a JavaScript expression on the page.
async fn eval(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(&format!("return {script};"), vec![])
        .await
        .unwrap()
}

/// The map's focus as the test state reports it (`null` at the city).
async fn map_focus(browser: &Browser) -> Value {
    let text = eval(
        browser,
        "(document.getElementById('vehicle-state') || {}).textContent || 'null'",
    )
    .await;
    serde_json::from_str::<Value>(text.as_str().unwrap_or("null"))
        .ok()
        .map_or(Value::Null, |v| v["focus"].clone())
}

#[tokio::test]
async fn an_officer_opens_an_incident_from_a_wall_alert_recalls_its_batch_and_files_its_report() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    for code in ["WB1", "WB2", "WB3"] {
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // WB2 and WB3 filled at ST1 within the hour (the batch), then WB1 overfilled there: the
    // cylinder's overfill alert, raised at the station.
    fill(&app, &controller, "WB2", 40, 30.5).await;
    fill(&app, &controller, "WB3", 30, 30.6).await;
    fill(&app, &controller, "WB1", 5, 33.0).await;
    let alert = alert_of(&app, "overfill").await;
    let alert_id = alert["id"].as_str().unwrap().to_owned();
    assert_eq!(alert["subject"]["id"], "WB1", "{alert}");
    let user = json!({"username": OFFICER, "password": PASSWORD, "role": "city_regulator"});
    assert_eq!(app.post_json("/api/v1/users", &user).await.0, 201);
    let token = app.login(OFFICER, PASSWORD).await;
    let unit =
        json!({"code": "FIRE-JS", "name": "金水区消防救援站", "kind": "fire", "phone": "119"});
    let (status, body) = app.post_json("/api/v1/responder-units", &unit).await;
    assert_eq!(status, 201, "{body}");

    let browser = Browser::start().await;
    browser.store_token(&app, &token).await;
    browser.client.goto(&app.url("/?test-state")).await.unwrap();
    // The header leads regulators to the incidents.
    browser
        .wait_for("the incidents entry", async |c: &Client| {
            c.find(Locator::Css(".topbar nav a.nav-incidents"))
                .await
                .ok()
        })
        .await;
    assert_eq!(
        browser.text(".topbar nav a.nav-incidents").await.as_deref(),
        Some("应急")
    );
    assert_eq!(
        browser
            .attr("#city-map", "data-zoom-state")
            .await
            .as_deref(),
        Some("city")
    );

    // 立案 from the alert on the wall: to the incident's page.
    browser
        .wait_for("the alert on the wall", async |_| {
            browser.text(&card(&alert_id)).await
        })
        .await;
    click(&browser, &card(&alert_id)).await;
    click(&browser, &format!("{} .open-incident", card(&alert_id))).await;
    let id = browser
        .wait_for("the incident's page", async |_| {
            let path = browser.path().await;
            let id = path.strip_prefix("/incidents/")?.to_owned();
            uuid::Uuid::parse_str(&id).ok().map(|_| id)
        })
        .await;
    let (status, stored) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["alert_id"], alert_id.as_str());
    assert_eq!(stored["cylinder_code"], "WB1");
    assert_eq!(stored["kind"], "illegal_filling");
    assert_eq!(stored["opened_by"], OFFICER);
    browser
        .wait_for("the header", async |_| {
            (browser.attr("#incident-status", "data-status").await? == "open").then_some(())
        })
        .await;
    assert_eq!(
        browser.text("#incident-kind").await.as_deref(),
        Some("非法充装")
    );
    assert_eq!(
        browser.text("#incident-level").await.as_deref(),
        Some("一般")
    );

    // The context: the cylinder, its last filling (station, gun, filler, masses) and the batch.
    browser
        .wait_for("the chain", async |_| {
            (browser.attr("#chain-station", "data-code").await? == "ST1").then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#context-cylinder dd[data-code]", "data-code")
            .await
            .as_deref(),
        Some("WB1")
    );
    assert_eq!(browser.text("#chain-gun").await.as_deref(), Some("G1"));
    assert!(browser.text("#chain-filler").await.unwrap().contains("S1"));
    assert!(browser
        .text("#chain-masses")
        .await
        .unwrap()
        .contains("33.0"));
    let batch: Value = eval(
        &browser,
        "[...document.querySelectorAll('#batch-cylinders tbody tr')].map(r => r.dataset.code).sort()",
    )
    .await;
    assert_eq!(batch, json!(["WB2", "WB3"]), "the filling batch");
    // The nearby sites within 500 m: ST1 itself, where the alert was raised.
    assert!(
        browser
            .client
            .find(Locator::Css("#nearby-sites tr[data-code='ST1']"))
            .await
            .is_ok(),
        "ST1 nearby"
    );
    // A note on the timeline.
    type_into(&browser, "#incident-note", "已通知企业封存同批次气瓶").await;
    click(&browser, "#incident-note-add").await;
    browser
        .wait_for("the note on the timeline", async |_| {
            let text = browser.text("#incident-timeline").await?;
            text.contains("已通知企业封存同批次气瓶").then_some(())
        })
        .await;

    // A task for the fire station, then what it reported: on the scene.
    browser
        .wait_for("the task form", async |c: &Client| {
            c.find(Locator::Css(
                "#task-form #task-unit option[value='FIRE-JS']",
            ))
            .await
            .ok()
        })
        .await;
    type_into(&browser, "#task-what", "关阀、疏散、设警戒").await;
    browser
        .client
        .execute(
            "document.getElementById('task-due').value = arguments[0];",
            vec![json!((Utc::now() + Duration::hours(9))
                .format("%Y-%m-%dT%H:%M")
                .to_string())],
        )
        .await
        .unwrap();
    click(&browser, "#task-assign").await;
    let task = "#incident-tasks li.task[data-unit='FIRE-JS']";
    browser
        .wait_for("the task", async |_| {
            (browser.attr(task, "data-status").await? == "assigned").then_some(())
        })
        .await;
    type_into(&browser, &format!("{task} .task-note-input"), "消防已到场").await;
    click(
        &browser,
        &format!("{task} .task-to[data-status='on_scene']"),
    )
    .await;
    browser
        .wait_for("the task on the scene", async |_| {
            (browser.attr(task, "data-status").await? == "on_scene").then_some(())
        })
        .await;
    let (_, stored) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(stored["tasks"][0]["status"], "on_scene", "{stored}");
    assert_eq!(stored["tasks"][0]["note"], "消防已到场", "{stored}");

    // The recall of the batch: the implicated cylinder and its whole batch (incident_batch).
    assert_eq!(browser.text("#recall-set").await.as_deref(), Some("3 气瓶"));
    click(&browser, "#recall-issue").await;
    browser
        .wait_for("the recall issued", async |_| {
            (browser.attr("#recall-done", "data-count").await? == "3").then_some(())
        })
        .await;
    let (_, ids) = app.get_json("/api/v1/recalls").await;
    let recall_id = ids[0].as_str().unwrap().to_owned();
    let (_, recall) = app.get_json(&format!("/api/v1/recalls/{recall_id}")).await;
    assert_eq!(recall["incident_id"], id.as_str(), "{recall}");
    assert_eq!(recall["progress"]["recalled"], 3, "{recall}");
    browser
        .wait_for("the recall's progress", async |_| {
            let css = format!("#recalls li[data-id='{recall_id}'] [data-figure='recalled']");
            (browser.attr(&css, "data-value").await? == "3").then_some(())
        })
        .await;

    // The wall shows the incident in place: the map zoomed to it with its ring, the panel.
    browser.client.goto(&app.url("/?test-state")).await.unwrap();
    browser
        .wait_for("the incident's panel", async |_| {
            (browser.attr("#wall-incident", "data-id").await? == id).then_some(())
        })
        .await;
    browser
        .wait_for("the map zoomed to the incident", async |_| {
            let canvas = "#city-map";
            (browser.attr(canvas, "data-zoom-state").await? == "incident"
                && browser.attr(canvas, "data-focus").await? == id)
                .then_some(())
        })
        .await;
    let zoom: f64 = browser
        .attr("#city-map", "data-zoom")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(zoom > 4.0, "zoomed in to the 500 m ring: {zoom}");
    // The ring's centre is the middle of the map.
    let focus = browser
        .wait_for("the focus in the test state", async |_| {
            let f = map_focus(&browser).await;
            (f["id"] == id.as_str()).then_some(f)
        })
        .await;
    let size = eval(&browser, "[document.getElementById('city-map').clientWidth, document.getElementById('city-map').clientHeight]").await;
    let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    assert!(
        (focus["x"].as_f64().unwrap() - w / 2.0).abs() < 2.0,
        "{focus} in {size}"
    );
    assert!(
        (focus["y"].as_f64().unwrap() - h / 2.0).abs() < 2.0,
        "{focus} in {size}"
    );
    assert_eq!(focus["radius_m"], 500.0);
    // The panel: what, its timeline and its tasks (once the incident's whole answer is in).
    let shown = [
        "非法充装",
        "已接报",
        "已通知企业封存同批次气瓶",
        "金水区消防救援站",
        "到场",
        "返回全市",
    ];
    browser
        .wait_for("the panel's timeline and tasks", async |_| {
            let panel = browser.text("#wall-incident").await?;
            shown.iter().all(|s| panel.contains(s)).then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#wall-incident [data-figure='recalled']", "data-value")
            .await
            .as_deref(),
        Some("3")
    );
    // A note made elsewhere reaches the panel on the live feed (well before its 15 s refresh).
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/incidents/{id}/timeline"),
            Some(&json!({"note": "现场警戒已完成"})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut live = false;
    for _ in 0..60 {
        if browser
            .text("#wall-incident")
            .await
            .is_some_and(|t| t.contains("现场警戒已完成"))
        {
            live = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(live, "the note on the wall within 6 s");
    // A vehicle near the incident keeps moving on the zoomed map.
    post_fix(&app, "豫A22222", 113.6210, 34.7505).await;
    let first = browser
        .wait_for("the vehicle near the incident", async |_| {
            browser.marker("豫A22222").await
        })
        .await;
    post_fix(&app, "豫A22222", 113.6230, 34.7505).await;
    let moved = browser
        .wait_for("the vehicle to move", async |_| {
            browser
                .marker("豫A22222")
                .await
                .filter(|m| m["lon"] == 113.623)
        })
        .await;
    // 180 m east is many pixels at this zoom.
    assert!(
        moved["x"].as_f64().unwrap() - first["x"].as_f64().unwrap() > 20.0,
        "{first} → {moved}"
    );

    // One click back to the city, one click back to the incident.
    click(&browser, "#wall-incident-back").await;
    browser
        .wait_for("the city again", async |_| {
            (browser.attr("#city-map", "data-zoom-state").await? == "city").then_some(())
        })
        .await;
    assert_eq!(
        browser.attr("#city-map", "data-zoom").await.as_deref(),
        Some("1.00")
    );
    assert!(browser
        .client
        .find(Locator::Css("#wall-incident"))
        .await
        .is_err());
    click(&browser, "#wall-incidents-chip").await;
    browser
        .wait_for("the incident again", async |_| {
            (browser.attr("#city-map", "data-zoom-state").await? == "incident").then_some(())
        })
        .await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(crate::common::output_dir().join("wall-incident.png"), png).unwrap();

    // Closed from its page (the panel's link leads there), then its report.
    click(&browser, "#wall-incident .wall-incident-open").await;
    browser.wait_for_path(&format!("/incidents/{id}")).await;
    click(&browser, "#incident-to-closed").await;
    browser
        .wait_for("the incident closed", async |_| {
            (browser.attr("#incident-status", "data-status").await? == "closed").then_some(())
        })
        .await;
    assert_eq!(
        app.get_json(&format!("/api/v1/incidents/{id}")).await.1["status"],
        "closed"
    );
    // Closed, it can be reopened; the report is there.
    assert!(browser
        .client
        .find(Locator::Css("#incident-reopen"))
        .await
        .is_ok());
    click(&browser, ".incident-report-link").await;
    browser
        .wait_for_path(&format!("/incidents/{id}/report"))
        .await;
    let summary = browser
        .wait_for("the report's summary", async |_| {
            browser.text("#report-summary").await
        })
        .await;
    for shown in ["事件概要", "非法充装", "一般", "WB1", "ENT1"] {
        assert!(summary.contains(shown), "{shown} in {summary}");
    }
    assert!(browser
        .text(".report-tasks")
        .await
        .unwrap()
        .contains("金水区消防救援站"));
    // The downloads go with the token (fetched, then handed over as files).
    eval(
        &browser,
        "(() => { window.__saved = []; URL.createObjectURL = b => { window.__saved.push([b.type, b.size]); return 'blob:test'; }; \
           HTMLAnchorElement.prototype.click = function () { window.__saved.push(this.download); }; return true; })()",
    )
    .await;
    click(&browser, "#download-report-csv").await;
    click(&browser, "#download-timeline-json").await;
    let saved = browser
        .wait_for("both downloads", async |_| {
            let saved = eval(&browser, "window.__saved").await;
            (saved.as_array()?.len() == 4).then_some(saved)
        })
        .await;
    // Each answer's blob, then its file name; the two answers in either order.
    let mut names: Vec<&str> = saved
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            format!("incident-{id}-report.csv"),
            format!("incident-{id}-timeline.json")
        ]
    );
    let blobs: Vec<&Value> = saved
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.is_array())
        .collect();
    assert!(blobs.iter().all(|b| b[1].as_u64().unwrap() > 50), "{saved}");
    let implicated = eval(
        &browser,
        "[...document.querySelectorAll('#report-implicated tbody tr')].map(r => r.dataset.code)",
    )
    .await;
    assert_eq!(implicated, json!(["WB1", "WB2", "WB3"]));
    assert!(browser
        .text("#incident-report")
        .await
        .unwrap()
        .contains("已通知企业封存同批次气瓶"));
    // Printed on A4 without the header and the buttons.
    let print = eval(
        &browser,
        "(() => { let a4 = false, hides = false; \
           for (const s of document.styleSheets) for (const r of s.cssRules) { \
             if (r instanceof CSSPageRule && r.cssText.toLowerCase().includes('a4')) a4 = true; \
             if (r instanceof CSSMediaRule && r.conditionText === 'print' && r.cssText.includes('.topbar')) hides = true; } \
           return [a4, hides]; })()",
    )
    .await;
    assert_eq!(print, json!([true, true]));
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(crate::common::output_dir().join("incident-report.png"), png).unwrap();

    // The console lists it among the closed ones.
    browser.client.goto(&app.url("/incidents")).await.unwrap();
    click(&browser, "#search-go").await;
    browser
        .wait_for("the closed incident found", async |c: &Client| {
            c.find(Locator::Css(&format!(
                "#incidents-closed tr[data-id='{id}']"
            )))
            .await
            .ok()
        })
        .await;
    assert!(browser
        .client
        .find(Locator::Css("#incidents-active-empty"))
        .await
        .is_ok());
    browser.client.clone().close().await.unwrap();
}

/// A click on the console's place map at (`x`, `y`) CSS pixels from its top left corner.
async fn click_place_map(browser: &Browser, x: Value, y: Value) {
    browser
        .client
        .execute(
            "const c = document.getElementById('new-place-map'); const r = c.getBoundingClientRect(); \
             const x = arguments[0] === 'middle' ? r.width / 2 : arguments[0]; \
             const y = arguments[1] === 'middle' ? r.height / 2 : arguments[1]; \
             c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + x, clientY: r.top + y}));",
            vec![x, y],
        )
        .await
        .unwrap();
}

/// The value of an input.
async fn input_value(browser: &Browser, css: &str) -> String {
    eval(browser, &format!("document.querySelector(\"{css}\").value"))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The units registered, by code.
async fn unit_codes(app: &TestApp) -> Vec<String> {
    let (status, units) = app.get_json("/api/v1/responder-units").await;
    assert_eq!(status, 200, "{units}");
    units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_owned())
        .collect()
}

// Issue 22's three gaps of the console: responder units get a page (listed, registered, bad
// input shown in Chinese, offered by the task form); an incident is opened from a place picked
// on the console's map (a place outside the city is refused, the form shows it); the wall's
// panel (and the incident's page) name the district in Chinese rather than by its code.
#[tokio::test]
async fn an_officer_registers_a_unit_opens_an_incident_from_the_map_and_the_wall_names_its_district(
) {
    let app = spawn_app().await;
    let user = json!({"username": OFFICER, "password": PASSWORD, "role": "city_regulator"});
    assert_eq!(app.post_json("/api/v1/users", &user).await.0, 201);
    let token = app.login(OFFICER, PASSWORD).await;
    let browser = Browser::start().await;
    browser.store_token(&app, &token).await;
    browser.client.goto(&app.url("/incidents")).await.unwrap();

    // The units' page, from the console: none yet.
    click(&browser, "#incidents-page .units-link").await;
    browser.wait_for_path("/incidents/units").await;
    browser
        .wait_for("no unit yet", async |c: &Client| {
            c.find(Locator::Css("#units-empty")).await.ok()
        })
        .await;
    let kinds = eval(
        &browser,
        "[...document.querySelectorAll('#unit-kind option')].map(o => [o.value, o.textContent])",
    )
    .await;
    assert_eq!(kinds[0], json!(["fire", "消防救援（119）"]), "{kinds}");
    assert!(
        kinds
            .as_array()
            .unwrap()
            .contains(&json!(["gas_emergency", "燃气企业抢险队"])),
        "{kinds}"
    );
    // Registered from the page, then listed there with its kind's label.
    type_into(&browser, "#unit-code", "GAS-CREW").await;
    type_into(&browser, "#unit-name", "华润燃气抢险队").await;
    eval(
        &browser,
        "(() => { document.getElementById('unit-kind').value = 'gas_emergency'; return true; })()",
    )
    .await;
    type_into(&browser, "#unit-phone", "0371-96777").await;
    click(&browser, "#unit-submit").await;
    let row = "#units tr[data-code='GAS-CREW']";
    browser
        .wait_for("the unit listed", async |_| browser.text(row).await)
        .await;
    assert_eq!(
        browser.attr(row, "data-kind").await.as_deref(),
        Some("gas_emergency")
    );
    assert_eq!(
        browser.text(&format!("{row} .unit-kind")).await.as_deref(),
        Some("燃气企业抢险队")
    );
    assert_eq!(unit_codes(&app).await, ["GAS-CREW"]);
    let (_, units) = app.get_json("/api/v1/responder-units").await;
    assert_eq!(units[0]["name"], "华润燃气抢险队");
    assert_eq!(units[0]["phone"], "0371-96777");
    assert_eq!(units[0]["created_by"], OFFICER);
    // Bad input: the field named in Chinese, nothing registered.
    type_into(&browser, "#unit-code", "BAD-1").await;
    type_into(&browser, "#unit-name", "某单位").await;
    type_into(&browser, "#unit-phone", "call us").await;
    click(&browser, "#unit-submit").await;
    browser
        .wait_for("the phone refused", async |_| {
            (browser.attr("#unit-error", "data-field").await? == "phone").then_some(())
        })
        .await;
    let said = browser.text("#unit-error").await.unwrap();
    assert!(said.contains("「电话」"), "{said}");
    // The same code again: taken.
    type_into(&browser, "#unit-code", "GAS-CREW").await;
    type_into(&browser, "#unit-phone", "110").await;
    click(&browser, "#unit-submit").await;
    browser
        .wait_for("the code refused", async |_| {
            (browser.attr("#unit-error", "data-code").await? == "already_exists").then_some(())
        })
        .await;
    assert_eq!(
        browser.attr("#unit-error", "data-field").await.as_deref(),
        Some("code")
    );
    assert!(browser
        .text("#unit-error")
        .await
        .unwrap()
        .contains("该记录已存在"));
    assert_eq!(unit_codes(&app).await, ["GAS-CREW"], "nothing changed");
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(crate::common::output_dir().join("responder-units.png"), png).unwrap();

    // Back to the console: a place picked on its map.
    click(&browser, "#units-page .units-back").await;
    browser.wait_for_path("/incidents").await;
    browser
        .wait_for("the console's map", async |c: &Client| {
            c.find(Locator::Css("#new-place-map")).await.ok()
        })
        .await;
    type_into(&browser, "#new-description", "居民报告楼道有燃气味").await;
    // A corner of the map lies outside the city: the server refuses the place, the form says so.
    click_place_map(&browser, json!(3), json!(3)).await;
    let corner = browser
        .wait_for("the corner's place", async |_| {
            browser.attr("#new-place-map", "data-place").await
        })
        .await;
    assert_eq!(
        corner,
        format!(
            "{},{}",
            input_value(&browser, "#new-lon").await,
            input_value(&browser, "#new-lat").await
        )
    );
    click(&browser, "#new-submit").await;
    browser
        .wait_for("the place refused", async |_| {
            (browser.attr("#new-error", "data-field").await? == "place").then_some(())
        })
        .await;
    assert!(browser
        .text("#new-error")
        .await
        .unwrap()
        .contains("「地点」"));
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(
        crate::common::output_dir().join("incident-place-map.png"),
        png,
    )
    .unwrap();
    let (_, none) = app.get_json("/api/v1/incidents").await;
    assert_eq!(none["items"], json!([]), "nothing opened");
    // Typed numbers move the mark.
    type_into(&browser, "#new-lon", "113.62").await;
    type_into(&browser, "#new-lat", "34.75").await;
    browser
        .wait_for("the typed place marked", async |_| {
            (browser.attr("#new-place-map", "data-place").await? == "113.62,34.75").then_some(())
        })
        .await;
    // The middle of the map is the middle of the city's box, in 新密市.
    click_place_map(&browser, json!("middle"), json!("middle")).await;
    let (lon, lat) = browser
        .wait_for("the middle's place", async |_| {
            let lon: f64 = input_value(&browser, "#new-lon").await.parse().ok()?;
            let lat: f64 = input_value(&browser, "#new-lat").await.parse().ok()?;
            (lon != 113.62).then_some((lon, lat))
        })
        .await;
    assert!(
        (lon - 113.465).abs() < 0.01 && (lat - 34.627).abs() < 0.01,
        "{lon},{lat}"
    );
    click(&browser, "#new-submit").await;
    let id = browser
        .wait_for("the incident's page", async |_| {
            let path = browser.path().await;
            let id = path.strip_prefix("/incidents/")?.to_owned();
            uuid::Uuid::parse_str(&id).ok().map(|_| id)
        })
        .await;
    let (status, stored) = app.get_json(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["place"], json!({"lon": lon, "lat": lat}), "{stored}");
    assert_eq!(stored["district_code"], "410183", "{stored}");
    assert_eq!(stored["description"], "居民报告楼道有燃气味");
    browser
        .wait_for("the district's name on the page", async |_| {
            (browser.text("#incident-place").await? == "新密市").then_some(())
        })
        .await;

    // The task form offers the unit registered on the page.
    let offered = browser
        .wait_for("the task form", async |_| {
            browser
                .text("#task-form #task-unit option[value='GAS-CREW']")
                .await
        })
        .await;
    assert!(offered.contains("华润燃气抢险队"), "{offered}");
    type_into(&browser, "#task-what", "关阀检漏").await;
    browser
        .client
        .execute(
            "document.getElementById('task-due').value = arguments[0];",
            vec![json!((Utc::now() + Duration::hours(9))
                .format("%Y-%m-%dT%H:%M")
                .to_string())],
        )
        .await
        .unwrap();
    click(&browser, "#task-assign").await;
    browser
        .wait_for("the task", async |_| {
            browser
                .attr(
                    "#incident-tasks li.task[data-unit='GAS-CREW']",
                    "data-status",
                )
                .await
        })
        .await;

    // The wall's panel names the district.
    browser.client.goto(&app.url("/?test-state")).await.unwrap();
    browser
        .wait_for("the incident's panel", async |_| {
            (browser.attr("#wall-incident", "data-id").await? == id).then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#wall-incident-place", "data-district")
            .await
            .as_deref(),
        Some("410183")
    );
    let place = browser
        .wait_for("the district's name on the wall", async |_| {
            browser
                .text("#wall-incident-place")
                .await
                .filter(|t| t.contains("新密市"))
        })
        .await;
    assert!(!place.contains("410183"), "{place}");
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(
        crate::common::output_dir().join("wall-incident-place.png"),
        png,
    )
    .unwrap();
    browser.client.clone().close().await.unwrap();
}
