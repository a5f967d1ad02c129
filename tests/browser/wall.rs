//! The command-hall wall (SPEC §8): the simulated city drives its map and tiles; alerts raised
//! through the real filling API appear in its feed and are acknowledged in place (a critical
//! one only with a note), which the API then says too; its figures agree with the statistics
//! API; the layout preset comes from the URL.

use crate::common::{archive, scan, spawn_app, TestApp};
use crate::Browser;
use fantoccini::Locator;
use serde_json::{json, Value};

/// The one alert of `kind` (admin), once the server has raised it (within 20 s).
pub(crate) async fn alert_of(app: &TestApp, kind: &str) -> Value {
    for _ in 0..200 {
        let (_, page) = app.get_json(&format!("/api/v1/alerts?kind={kind}")).await;
        if let Some([one]) = page["items"].as_array().map(Vec::as_slice) {
            return one.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no single {kind} alert");
}

pub(crate) async fn stored(app: &TestApp, id: &str) -> Value {
    let (status, alert) = app.get_json(&format!("/api/v1/alerts/{id}")).await;
    assert_eq!(status, 200, "{alert}");
    alert
}

pub(crate) fn card(id: &str) -> String {
    format!("#wall-alerts li[data-id='{id}']")
}

/// The gun refuses cylinder `code` at ST1 (no pre-fill check) and the station fills it all
/// the same: the station's `filling_refused` alert, made critical.
pub(crate) async fn fill_despite_refusal(app: &TestApp, controller: &str, code: &str) -> Value {
    let refused = app
        .authorize(controller, ask(json!({"cylinder_code": code})))
        .await
        .1;
    assert_eq!(refused["allowed"], false, "{refused}");
    let ended = chrono::Utc::now();
    let filling = json!({"cylinder_code": code, "station_code": "ST1", "licence_no": "豫充-001",
        "gun_no": "G1", "staff_no": "S1", "staff_name": "陈荣华",
        "started_at": (ended - chrono::Duration::seconds(90)).to_rfc3339(),
        "ended_at": ended.to_rfc3339(), "mass_before_kg": 16.5, "mass_after_kg": 30.5,
        "decision_id": refused["decision_id"]});
    let (status, body) = app.post_filling(controller, &filling).await;
    assert_eq!(status, 201, "{body}");
    alert_of(app, "filling_refused").await
}

pub(crate) async fn click(browser: &Browser, css: &str) {
    // A live page re-renders under the driver: look again for a moment before giving up.
    let element = browser
        .wait_for(
            &format!("{css} to click"),
            async |c: &fantoccini::Client| c.find(Locator::Css(css)).await.ok(),
        )
        .await;
    element.click().await.unwrap();
}

pub(crate) async fn type_into(browser: &Browser, css: &str, text: &str) {
    let input = browser.client.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// A gun's question at ST1.
pub(crate) fn ask(what: Value) -> Value {
    let mut body =
        json!({"station_code": "ST1", "gun_no": "G1", "medium": "LPG", "staff_no": "S1"});
    for (k, v) in what.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
pub(crate) async fn alerts_are_acknowledged_on_the_wall_and_the_api_says_so() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("WA1", "T-WA1"))
        .await;
    assert_eq!(status, 201, "{body}");
    // WA2 delivered to C1 with the phone's position: one cell of the density layer.
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("WA2", "T-WA2"))
        .await;
    assert_eq!(status, 201, "{body}");
    // Out of ST1's stock first: a flow ST1 → C1 today.
    let load = scan(
        "store_out",
        "WA2",
        &(chrono::Utc::now() - chrono::Duration::seconds(60)).to_rfc3339(),
        json!({"station_code": "ST1"}),
    );
    let deliver = scan(
        "deliver",
        "WA2",
        &chrono::Utc::now().to_rfc3339(),
        json!({"customer_code": "C1", "lon": 113.6601, "lat": 34.7601}),
    );
    let (status, body) = app.post_events(&json!({ "events": [load, deliver] })).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        !app.get_json("/api/v1/cylinders/WA2").await.1["position"].is_null()
    })
    .await;
    // WA3 on the reader of a vehicle: its load is one cylinder.
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("WA3", "T-WA3"))
        .await;
    assert_eq!(status, 201, "{body}");
    let now = chrono::Utc::now().to_rfc3339();
    let fix = crate::common::gps("豫A77777", 113.70, 34.80, &now);
    let ble = json!({"id": uuid::Uuid::new_v4(), "kind": "ble", "vehicle_plate": "豫A77777",
                     "tag_ids": ["T-WA3"], "occurred_at": now});
    let (status, body) = app.post_events(&json!({ "events": [fix, ble] })).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        app.get_json("/api/v1/stats/vehicle-loads").await.1["vehicles"][0]["plate"] == "豫A77777"
    })
    .await;
    // An unknown tag at the gun: illegal_tag (high).
    let answer = app
        .authorize(&controller, ask(json!({"tag_id": "FAKE"})))
        .await
        .1;
    assert_eq!(answer["allowed"], false, "{answer}");
    let illegal = alert_of(&app, "illegal_tag").await;
    let illegal_id = illegal["id"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/?test-state").await;
    browser
        .wait_for("the alert on the wall", async |_| {
            browser.text(&card(&illegal_id)).await
        })
        .await;
    let text = browser.text(&card(&illegal_id)).await.unwrap();
    for part in ["非法标签", "严重", "一号充装站", "待处理"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    // The tiles and the table are there, from the live feed and the statistics.
    browser
        .wait_for("the open alerts tile", async |_| {
            let high = browser.text("#kpi-alerts [data-severity='high'] b").await?;
            (high == "1").then_some(())
        })
        .await;
    browser
        .wait_for("the inventory table", async |_| {
            browser.text("#inventory tfoot").await
        })
        .await;

    // The map: the cells of WA2 (at C1) and WA3 (on the vehicle), both stations; a click on ST1
    // opens its details.
    let state = browser
        .wait_for("the map's layers", async |_| {
            let state = map_state(&browser).await?;
            (state["cells"] == 2 && state["stations"].as_array()?.len() == 2).then_some(state)
        })
        .await;
    assert_eq!(
        browser.attr("#city-map", "data-cylinders").await.as_deref(),
        Some("2")
    );
    let st1 = state["stations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "ST1")
        .unwrap()
        .clone();
    click_map(
        &browser,
        st1["x"].as_f64().unwrap(),
        st1["y"].as_f64().unwrap(),
    )
    .await;
    browser
        .wait_for("the station's details", async |_| {
            let code = browser
                .attr("#map-details [data-kind='station']", "data-code")
                .await?;
            (code == "ST1").then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#map-details .map-link-station", "href")
            .await
            .as_deref(),
        Some("/stations/ST1")
    );
    let details = browser.text("#map-details").await.unwrap();
    assert!(details.contains("一号充装站"), "{details}");

    // The vehicle, clicked: its load.
    let vehicle = browser
        .wait_for("the vehicle", async |_| browser.marker("豫A77777").await)
        .await;
    click_map(
        &browser,
        vehicle["x"].as_f64().unwrap(),
        vehicle["y"].as_f64().unwrap(),
    )
    .await;
    let load = browser
        .wait_for("the vehicle's details", async |_| {
            browser
                .attr("#map-details [data-kind='vehicle']", "data-load")
                .await
        })
        .await;
    assert_eq!(load, "1");

    // Opened in place and acknowledged without leaving the wall; the API agrees.
    click(&browser, &card(&illegal_id)).await;
    let links = browser
        .wait_for("the card's links", async |_| {
            browser
                .attr(&format!("{} .wall-link-subject", card(&illegal_id)), "href")
                .await
        })
        .await;
    assert_eq!(links, "/stations/ST1");
    assert_eq!(
        browser
            .attr(
                &format!("{} .wall-link-enterprise", card(&illegal_id)),
                "href"
            )
            .await
            .as_deref(),
        Some("/stats/enterprise/ENT1")
    );
    click(&browser, &format!("{} .wall-ack-button", card(&illegal_id))).await;
    browser
        .wait_for("the acknowledged card", async |_| {
            let status = browser.attr(&card(&illegal_id), "data-status").await?;
            (status == "acknowledged").then_some(())
        })
        .await;
    let acked = stored(&app, &illegal_id).await;
    assert_eq!(acked["status"], "acknowledged", "{acked}");
    assert_eq!(acked["ack"]["by"], "admin");

    // A refusal, then filling against it: the refusal alert turns critical and flashes.
    let critical = fill_despite_refusal(&app, &controller, "WA1").await;
    let critical_id = critical["id"].as_str().unwrap().to_owned();
    browser
        .wait_for("the critical alert flashing", async |_| {
            let css = card(&critical_id);
            let severity = browser.attr(&css, "data-severity").await?;
            let flash = browser.attr(&css, "data-flash").await?;
            (severity == "critical" && flash == "true").then_some(())
        })
        .await;
    let beeps: u32 = browser
        .attr("#wall-alerts", "data-beeps")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(beeps >= 1, "a beep was asked for");
    assert!(browser.text("#wall-critical").await.is_some());

    // Without a note the server refuses, the page says so and nothing changes.
    click(&browser, &card(&critical_id)).await;
    let ack = format!("{} .wall-ack-button", card(&critical_id));
    browser
        .wait_for("the acknowledge button", async |_| browser.text(&ack).await)
        .await;
    click(&browser, &ack).await;
    let error = browser
        .wait_for("the refusal", async |_| {
            browser
                .text(&format!("{} .wall-ack-error", card(&critical_id)))
                .await
        })
        .await;
    assert!(error.contains("处置说明"), "{error}");
    assert_eq!(stored(&app, &critical_id).await["status"], "open");

    let note = "已通知站长停止充装";
    type_into(
        &browser,
        &format!("{} .wall-note", card(&critical_id)),
        note,
    )
    .await;
    click(&browser, &ack).await;
    browser
        .wait_for("the critical alert acknowledged", async |_| {
            let css = card(&critical_id);
            let status = browser.attr(&css, "data-status").await?;
            let flash = browser.attr(&css, "data-flash").await?;
            (status == "acknowledged" && flash == "false").then_some(())
        })
        .await;
    let acked = stored(&app, &critical_id).await;
    assert_eq!(acked["status"], "acknowledged", "{acked}");
    assert_eq!(acked["ack"]["note"], note);

    // Today's fillings chart counts what the statistics count.
    let (_, fillings) = app
        .get_json(&format!(
            "/api/v1/stats/fillings?bucket=hour&from={}",
            today_start()
        ))
        .await;
    let total: i64 = fillings["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["fillings"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1, "{fillings}");
    // The wall asks every minute: reload for the new figure.
    browser.client.refresh().await.unwrap();
    browser
        .wait_for("the fillings chart", async |_| {
            let sum = browser.attr("#chart-fillings", "data-sum").await?;
            (sum == total.to_string()).then_some(())
        })
        .await;
    assert_eq!(
        browser.text("#kpi-fillings .kpi-value").await.as_deref(),
        Some("1")
    );

    // The charts drill down. The column of the hour WA1 was filled in opens that hour's filling
    // records (the statistics' own link), one record, WA1's.
    let bucket = fillings["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["fillings"] == 1)
        .unwrap()
        .clone();
    let hour = chrono::DateTime::parse_from_rfc3339(bucket["start"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%H")
        .to_string()
        .parse::<usize>()
        .unwrap();
    // The current hour's list ends at the time it was asked (`&to=`): the same list from the
    // same start.
    let links = chart_links(&browser, "chart-fillings").await;
    let fillings_link = links[hour].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        without_to(&fillings_link),
        without_to(bucket["links"]["fillings"].as_str().unwrap()),
        "{links}"
    );
    assert!(
        fillings_link.starts_with("/api/v1/fillings?from="),
        "{links}"
    );
    assert_eq!(
        links
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| !l.is_null())
            .count(),
        1,
        "only the hour with fillings leads somewhere: {links}"
    );
    click_chart(&browser, "chart-fillings", hour).await;
    let codes = listed(&browser, &fillings_link).await;
    assert_eq!(codes, ["WA1"]);
    assert!(
        browser.path().await.starts_with("/stats?list="),
        "{}",
        browser.path().await
    );
    click(&browser, ".topbar nav a:first-child").await;
    browser.wait_for_path("/").await;

    // The flows chart: its one bar, ST1 → C1, opens the moves behind it (WA2 delivered).
    let (_, flows) = app
        .get_json(&format!("/api/v1/stats/flows?from={}", today_start()))
        .await;
    assert_eq!(flows["flows"].as_array().unwrap().len(), 1, "{flows}");
    let flow = &flows["flows"][0];
    assert_eq!(
        (&flow["from"]["code"], &flow["to"]["code"], &flow["count"]),
        (&json!("ST1"), &json!("C1"), &json!(1)),
        "{flows}"
    );
    let links = chart_links(&browser, "chart-flows").await;
    assert_eq!(links.as_array().unwrap().len(), 1, "{links}");
    // The window ends when it was asked: the same list otherwise.
    let flow_link = links[0].as_str().unwrap().to_owned();
    assert_eq!(
        without_to(&flow_link),
        without_to(flow["link"].as_str().unwrap())
    );
    assert_eq!(
        browser.attr("#chart-flows", "data-sum").await.as_deref(),
        Some("1")
    );
    click_chart(&browser, "chart-flows", 0).await;
    let codes = listed(&browser, &flow_link).await;
    let (_, moves) = app.get_json(&flow_link).await;
    let expected: Vec<&str> = moves["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cylinder_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, expected, "{moves}");
    assert_eq!(codes, ["WA2"]);
    click(&browser, ".topbar nav a:first-child").await;
    browser.wait_for_path("/").await;

    // Drill-down and back in one click each: an alert's enterprise, then the wall; a figure
    // of the inventory table, then the wall.
    browser
        .wait_for("the critical card after the reload", async |_| {
            browser.text(&card(&critical_id)).await
        })
        .await;
    click(&browser, &card(&critical_id)).await;
    let enterprise = format!("{} .wall-link-enterprise", card(&critical_id));
    browser
        .wait_for("the enterprise link", async |_| {
            browser.text(&enterprise).await
        })
        .await;
    click(&browser, &enterprise).await;
    browser.wait_for_path("/stats/enterprise/ENT1").await;
    browser
        .wait_for("the enterprise's level", async |_| {
            browser.text("#inventory tfoot").await
        })
        .await;
    click(&browser, ".topbar nav a:first-child").await;
    browser.wait_for_path("/").await;
    let figure = "#inventory tfoot a.fig[data-figure='delivered']";
    browser
        .wait_for("the wall's table with its lists", async |_| {
            browser.text(figure).await
        })
        .await;
    assert_eq!(browser.text(figure).await.as_deref(), Some("1"));
    let delivered = browser.attr(figure, "data-path").await.unwrap();
    click(&browser, figure).await;
    // The statistics page with that figure's list open: WA2.
    browser
        .wait_for("the delivered cylinders", async |_| {
            let path = browser.attr("#cylinder-list", "data-path").await?;
            let count = browser.attr("#cylinder-list", "data-count").await?;
            (path == delivered && count == "1").then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attr("#cylinder-list-table tr[data-code]", "data-code")
            .await
            .as_deref(),
        Some("WA2")
    );
    assert!(browser.path().await.starts_with("/stats?list="));
    click(&browser, ".topbar nav a:first-child").await;
    browser.wait_for_path("/").await;
    browser
        .wait_for("the wall again", async |_| {
            browser.text(&card(&critical_id)).await
        })
        .await;
    browser.client.clone().close().await.unwrap();
}

/// What the map drew, from its test-only state element.
pub(crate) async fn map_state(browser: &Browser) -> Option<Value> {
    let text = browser
        .client
        .execute(
            "const e = document.getElementById('vehicle-state'); return e ? e.textContent : null;",
            vec![],
        )
        .await
        .ok()?;
    serde_json::from_str(text.as_str()?).ok()
}

/// Clicks the map at (x, y) CSS pixels from its top left corner.
pub(crate) async fn click_map(browser: &Browser, x: f64, y: f64) {
    browser
        .client
        .execute(
            "const c = document.getElementById('city-map'); const r = c.getBoundingClientRect(); \
             c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + arguments[0], \
             clientY: r.top + arguments[1]}));",
            vec![json!(x), json!(y)],
        )
        .await
        .unwrap();
}

/// A list link without its `to=` parameter (a window's end, the time it was asked).
pub(crate) fn without_to(link: &str) -> String {
    let (path, query) = link.split_once('?').unwrap_or((link, ""));
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("to=")).collect();
    format!("{path}?{}", kept.join("&"))
}

/// The lists behind a wall chart's columns or bars (null where there is none), once drawn.
pub(crate) async fn chart_links(browser: &Browser, id: &str) -> Value {
    browser
        .wait_for(&format!("{id} drawn with its links"), async |_| {
            browser.attr(&format!("#{id}"), "data-plot").await?;
            let links = browser.attr(&format!("#{id}"), "data-links").await?;
            serde_json::from_str::<Value>(&links)
                .ok()
                .filter(|l| l.as_array().is_some_and(|a| a.iter().any(|l| !l.is_null())))
        })
        .await
}

/// Clicks a wall chart on its column (hours) or bar `slot`, inside its plotting area.
pub(crate) async fn click_chart(browser: &Browser, id: &str, slot: usize) {
    browser
        .client
        .execute(
            "const c = document.getElementById(arguments[0]); \
             const [l, t, w, h] = c.dataset.plot.split(',').map(Number); \
             const n = +c.dataset.slots, r = c.getBoundingClientRect(), i = arguments[1]; \
             const hours = n === 24 && arguments[0] === 'chart-fillings'; \
             const x = hours ? l + w * (i + 0.5) / n : l + w / 2; \
             const y = hours ? t + h * 0.95 : t + h * (i + 0.5) / n; \
             c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + x, \
             clientY: r.top + y}));",
            vec![json!(id), json!(slot)],
        )
        .await
        .unwrap();
}

/// The cylinders of the records list the statistics page opened at `path`, once loaded.
pub(crate) async fn listed(browser: &Browser, path: &str) -> Vec<String> {
    browser
        .wait_for(&format!("the list {path}"), async |_| {
            let shown = browser.attr("#record-list", "data-path").await?;
            let loading = browser.attr("#record-list", "data-loading").await?;
            (shown == path && loading == "false").then_some(())
        })
        .await;
    let codes: Value = browser
        .client
        .execute(
            "return [...document.querySelectorAll('#record-list-table tr[data-code]')] \
             .map(r => r.dataset.code);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(codes).unwrap()
}

/// The start of today in Beijing time, percent-encoded for a query.
pub(crate) fn today_start() -> String {
    let beijing = chrono::Utc::now() + chrono::Duration::hours(8);
    format!("{}T00:00:00%2B08:00", beijing.format("%Y-%m-%d"))
}

/// A wall signed in as its display acts only through a person's own sign-in at it: the
/// acknowledgement is the person's, and the wall stays signed in as itself.
#[tokio::test]
async fn a_display_wall_acts_through_a_persons_own_sign_in() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let answer = app
        .authorize(&controller, ask(json!({"tag_id": "FAKE-W"})))
        .await
        .1;
    assert_eq!(answer["allowed"], false, "{answer}");
    let alert = alert_of(&app, "illegal_tag").await;
    let id = alert["id"].as_str().unwrap().to_owned();
    let password = "Duty-Officer-Wall-1";
    let duty = json!({"username": "duty-wall", "password": password, "role": "duty_officer"});
    assert_eq!(app.post_json("/api/v1/users", &duty).await.0, 201);
    let (status, made) = app
        .post_json("/api/v1/displays", &json!({"name": "hall-w"}))
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, signed) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/display",
            Some(&json!({"key": made["key"]})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{signed}");
    let wall_token = signed["token"].as_str().unwrap().to_owned();

    let browser = Browser::start().await;
    browser.store_token(&app, &wall_token).await;
    browser.client.goto(&app.url("/?test-state")).await.unwrap();
    browser
        .wait_for("the alert on the wall", async |_| {
            browser.text(&card(&id)).await
        })
        .await;
    click(&browser, &card(&id)).await;
    let person = format!("{} .wall-person", card(&id));
    browser
        .wait_for(
            "the person's sign-in on the card",
            async |c: &fantoccini::Client| c.find(Locator::Css(&person)).await.ok(),
        )
        .await;
    type_into(&browser, &person, "duty-wall").await;
    type_into(&browser, &format!("{} .wall-secret", card(&id)), password).await;
    type_into(&browser, &format!("{} .wall-note", card(&id)), "已派人核查").await;
    click(&browser, &format!("{} .wall-ack-button", card(&id))).await;
    app.wait_until(|| async { stored(&app, &id).await["status"] == "acknowledged" })
        .await;
    let alert = stored(&app, &id).await;
    assert_eq!(alert["ack"]["by"], "duty-wall", "{alert}");
    assert_eq!(
        browser.stored_token().await.as_deref(),
        Some(wall_token.as_str()),
        "the wall is still signed in as itself"
    );
    browser.client.clone().close().await.unwrap();
}
