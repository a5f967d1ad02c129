//! Nothing overflows its panel: every page with panels (the wall, the duty console, the
//! statistics of the city and of an enterprise, the station view, the cylinder page, the
//! incidents console, the enterprise directory and an enterprise's profile) at
//! 1920×1080 and 3840×2160, in Chinese and in English. For each panel, the panel and everything
//! in it must hold its content: no element's content (an input's placeholder included) wider or
//! taller than its box (2 px of rounding allowed), except where an element is meant to scroll or
//! to cut its text with an ellipsis (listed with the reason).

use crate::common::{archive, output_dir, scan, spawn_app};
use crate::wall::ask;
use crate::Browser;
use serde_json::{json, Value};

/// What counts as a panel: the boxes a page is made of.
const PANELS: &str = ".topbar, .panel, .kpi, .cyl-summary, .wall-map";

/// Elements that are meant to scroll on an axis, and why.
const SCROLLERS: [(&str, &str, &str); 8] = [
    (
        ".wall-incident",
        "y",
        "the wall's incident panel scrolls a long timeline over the map",
    ),
    (
        ".wall-alert-list",
        "y",
        "the wall's alert feed scrolls when more alerts are open than fit",
    ),
    (
        ".cyl-scroll",
        "y",
        "the duty console's feed and detail, the cylinder page's history scroll",
    ),
    (
        ".cyl-archive",
        "y",
        "the cylinder's archive is a long list that scrolls in its panel",
    ),
    (
        ".st-rules",
        "y",
        "the station's refusal rules scroll on a short screen",
    ),
    (
        ".guns",
        "y",
        "a station with many guns scrolls its gun panel",
    ),
    (
        ".wall-inventory .table-scroll",
        "y",
        "many media make the wall's table scroll",
    ),
    (
        ".stats-list .table-scroll",
        "y",
        "a figure's list of cylinders scrolls in its panel",
    ),
];

/// The check, in the page: every element of every visible panel whose content is wider or
/// taller than its box, unless it is an allowed scroller on that axis or cuts its text with an
/// ellipsis (on purpose, its whole text in a tooltip or a detail).
const CHECK: &str = r"
const [panels, scrollers] = arguments;
const TOLERANCE = 2;
const allowed = (el, axis) => scrollers.some(([css, axes]) => axes.includes(axis) && el.matches(css));
const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  [...el.classList].map(c => '.' + c).join('');
const problems = [];
for (const panel of document.querySelectorAll(panels)) {
  if (panel.getClientRects().length === 0) continue;
  for (const el of [panel, ...panel.querySelectorAll('*')]) {
    if (!(el instanceof HTMLElement) || el.getClientRects().length === 0) continue;
    const style = getComputedStyle(el);
    // An inline box has no client size of its own; its block container is checked.
    if (style.display === 'inline') continue;
    let x = el.scrollWidth - el.clientWidth;
    const y = el.scrollHeight - el.clientHeight;
    // A placeholder is content too: measured as if it had been typed (the browser's own
    // layout of the box, a search box's clear button included).
    if (el instanceof HTMLInputElement && el.placeholder && !el.value) {
      el.value = el.placeholder;
      x = Math.max(x, el.scrollWidth - el.clientWidth);
      el.value = '';
    }
    const ellipsis = style.textOverflow === 'ellipsis';
    const wide = x > TOLERANCE && !ellipsis && !allowed(el, 'x');
    const tall = y > TOLERANCE && !allowed(el, 'y');
    if (wide || tall) {
      problems.push({panel: name(panel), element: name(el),
        size: [el.clientWidth, el.clientHeight], over: [x, y],
        text: (el.innerText || el.placeholder || '').replace(/\s+/g, ' ').slice(0, 60)});
    }
  }
}
return problems;
";

/// The pages checked, and the element whose presence says each has its content.
const PAGES: [(&str, &str); 9] = [
    (
        "/",
        "#inventory tfoot a.fig, #chart-custody[data-sum], #wall-alerts li[data-id]",
    ),
    ("/alerts", "#alert-detail #alert-evidence, #alert-map"),
    (
        "/stats",
        "#inventory tfoot a.fig, #compliance-bars, #recent-alerts",
    ),
    (
        "/stats/enterprise/ENT1",
        "#inventory tfoot a.fig, #compliance-bars, #stats-children",
    ),
    (
        "/stations/ST1",
        "#recent-decisions tbody tr, #gun-panel .gun",
    ),
    ("/cylinders/OV2", "#timeline tbody tr, #custody"),
    ("/incidents", "#incidents-active tbody tr, #incident-form"),
    (
        "/enterprises",
        "#directory-table tbody tr, #directory-search",
    ),
    (
        "/enterprises/ENT1",
        "#licences .validity, #enterprise-stations tbody tr, #enterprise-staff tbody tr, #revisions-empty, #compliance-bars",
    ),
];

const TITLES: [(&str, &str); 2] = [
    ("zh", "郑州市气瓶安全监管平台"),
    ("en", "Zhengzhou Gas Cylinder Supervision"),
];

/// Whether every selector of `ready` (comma-separated) finds something.
async fn has_all(browser: &Browser, ready: &str) -> bool {
    let found: Value = browser
        .client
        .execute(
            "return arguments[0].split(',').every(css => document.querySelector(css.trim()));",
            vec![json!(ready)],
        )
        .await
        .unwrap_or(Value::Bool(false));
    found == true
}

/// The language the header shows.
async fn shown_lang(browser: &Browser) -> Option<&'static str> {
    let title = browser.text(".topbar .title").await?;
    TITLES.iter().find(|(_, t)| *t == title).map(|(l, _)| *l)
}

#[tokio::test]
async fn no_panel_overflows_at_1080p_and_4k_in_either_language() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    for code in ["OV1", "OV2", "OV3"] {
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // OV2 out of ST1 and delivered to C1: a history, and figures in several columns.
    let before = (chrono::Utc::now() - chrono::Duration::seconds(60)).to_rfc3339();
    let events = json!({"events": [
        scan("store_out", "OV2", &before, json!({"station_code": "ST1"})),
        scan("deliver", "OV2", &chrono::Utc::now().to_rfc3339(),
             json!({"customer_code": "C1", "lon": 113.6601, "lat": 34.7601})),
    ]});
    let (status, body) = app.post_events(&events).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/OV2").await.1["custody"] == "at_customer"
    })
    .await;
    // Alerts with evidence, and decisions at ST1's gun: an unknown tag and a refusal.
    for what in [json!({"tag_id": "FAKE"}), json!({"cylinder_code": "OV1"})] {
        let answer = app.authorize(&controller, ask(what)).await.1;
        assert_eq!(answer["allowed"], false, "{answer}");
    }
    crate::wall::alert_of(&app, "filling_refused").await;
    // An incident about OV2 for the duty console's list.
    let (status, body) = app
        .post_json(
            "/api/v1/incidents",
            &json!({"kind": "leak", "level": "especially_major",
                    "description": "用户报告气瓶阀门处漏气，现场已疏散", "cylinder_code": "OV2"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let mut problems = Vec::new();
    for (w, h) in [(1920_u32, 1080_u32), (3840, 2160)] {
        let browser = Browser::start().await;
        browser.open_as_admin(&app, "/?lang=zh").await;
        let frame: Value = browser
            .client
            .execute("return window.outerHeight - window.innerHeight;", vec![])
            .await
            .unwrap();
        let frame = u32::try_from(frame.as_u64().unwrap_or(0)).unwrap();
        browser.client.set_window_size(w, h + frame).await.unwrap();
        let inner: Value = browser
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        assert_eq!(inner, json!([w, h]));
        for (path, ready) in PAGES {
            browser.client.goto(&app.url(path)).await.unwrap();
            // Each page in the language it opens in, then in the other after the switch.
            for round in 0..2 {
                if round == 1 {
                    let was = shown_lang(&browser).await;
                    crate::wall::click(&browser, "#lang-switch").await;
                    browser
                        .wait_for("the other language", async |_| {
                            let now = shown_lang(&browser).await?;
                            (Some(now) != was).then_some(())
                        })
                        .await;
                }
                let lang = browser
                    .wait_for(&format!("{path} at {w}x{h}"), async |_| {
                        let lang = shown_lang(&browser).await?;
                        has_all(&browser, ready).await.then_some(lang)
                    })
                    .await;
                if path == "/" && !has_all(&browser, ".wall-note").await {
                    // An alert opened in place: its note box and links are content too.
                    crate::wall::click(&browser, "#wall-alerts li[data-id]").await;
                    browser
                        .wait_for("the opened alert", async |_| {
                            has_all(&browser, ".wall-note").await.then_some(())
                        })
                        .await;
                }
                // Fonts, canvases and the live feed settle.
                tokio::time::sleep(std::time::Duration::from_millis(700)).await;
                let found: Value = browser
                    .client
                    .execute(CHECK, vec![json!(PANELS), json!(SCROLLERS)])
                    .await
                    .unwrap();
                for p in found.as_array().unwrap() {
                    problems.push(format!("{path} {w}x{h} {lang}: {p}"));
                }
                if path == "/" {
                    let png = browser.client.screenshot().await.unwrap();
                    let file = output_dir().join(format!("overflow-wall-{w}x{h}-{lang}.png"));
                    std::fs::write(file, png).unwrap();
                }
            }
        }
        browser.client.clone().close().await.unwrap();
    }
    assert!(
        problems.is_empty(),
        "content wider or taller than its box:\n{}",
        problems.join("\n")
    );
}
