//! The registry's pages (issue 21 item 7): a city regulator signs in, opens the enterprise
//! directory from the header, searches it, opens an enterprise's profile (licences with their
//! validity, stations, staff with certificates, revisions), and renews its expired filling
//! licence with the edit form — a stale version and a refused field shown in place first —
//! after which the profile shows the licence valid and the revision before → after. The
//! drill-down leads to the profile, and the profile fits a phone. Each directory lists its
//! records; a station's record is edited under its filling day; an enterprise's administrator
//! edits its own fields and proposes its licence, which a regulator approves on the profile.

use crate::common::{output_dir, spawn_app, TestApp};
use crate::wall::{click, type_into};
use crate::Browser;
use chrono::{Duration, NaiveDate, Utc};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};

const REGULATOR: &str = "city-officer";
const PASSWORD: &str = "Regulator-Pass-2026";

/// Today in Beijing.
fn beijing_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// The keys of the directory's rows, once it is not loading.
async fn directory_keys(c: &Client) -> Option<Vec<String>> {
    let page = c.find(Locator::Css("#directory-page")).await.ok()?;
    if page.attr("data-loading").await.ok()?? != "false" {
        return None;
    }
    let mut keys = Vec::new();
    for row in c
        .find_all(Locator::Css("#directory-table tbody tr"))
        .await
        .ok()?
    {
        keys.push(row.attr("data-key").await.ok()??);
    }
    Some(keys)
}

/// Sets an input's value as typing would (date inputs take no keys portably) and lets the
/// page hear it.
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .client
        .execute(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await
        .unwrap();
}

/// The filling licence's validity on the profile, and its date.
async fn filling_licence(browser: &Browser) -> Option<(String, String)> {
    let row = "#licences tr[data-licence='filling_licence']";
    let state = browser
        .attr(&format!("{row} .validity"), "data-validity")
        .await?;
    let date = browser
        .text(&format!("{row} .date"))
        .await
        .unwrap_or_default();
    Some((state, date))
}

async fn seed(app: &TestApp, expired: NaiveDate) {
    app.seed_registry().await;
    let mut ent = crate::common::enterprise("HN07");
    ent["name"] = json!("豫港燃气集团有限公司");
    ent["filling_licence_expires"] = json!(expired.to_string());
    for (path, body) in [
        ("/api/v1/enterprises", ent),
        (
            "/api/v1/stations",
            crate::common::station("HN07-ST", "HN07", "豫港充装站", 113.64, 34.76),
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "HN07-S1", "enterprise_code": "HN07", "name": "王建国",
                   "role": "filler", "certificate_no": "TS-9",
                   "certificate_expires": (beijing_today() + Duration::days(10)).to_string()}),
        ),
        (
            "/api/v1/users",
            json!({"username": REGULATOR, "password": PASSWORD, "role": "city_regulator"}),
        ),
    ] {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }
}

#[tokio::test]
async fn a_regulator_finds_an_enterprise_and_renews_its_licence_on_the_profile() {
    let app = spawn_app().await;
    let expired = beijing_today() - Duration::days(3);
    seed(&app, expired).await;
    let renewed = beijing_today() + Duration::days(730);

    // Signing in leads to the directory (the page asked for).
    let browser = Browser::start().await;
    browser
        .client
        .goto(&app.url("/login?next=%2Fenterprises"))
        .await
        .unwrap();
    for (css, value) in [
        ("#login-username", REGULATOR),
        ("#login-password", PASSWORD),
    ] {
        browser
            .wait_for(css, async |c: &Client| c.find(Locator::Css(css)).await.ok())
            .await;
        type_into(&browser, css, value).await;
    }
    click(&browser, "#login-submit").await;
    browser.wait_for_path("/enterprises").await;
    let all = browser
        .wait_for("the whole directory", async |c: &Client| {
            directory_keys(c).await.filter(|k| k.len() == 2)
        })
        .await;
    assert_eq!(all, ["ENT1", "HN07"]);
    assert_eq!(
        browser
            .text("#directory-table thead th[data-field='filling_licence_expires']")
            .await
            .as_deref(),
        Some("充装许可证有效期至")
    );
    // The expired licence reads as expired in the list already.
    assert_eq!(
        browser
            .attr(
                "#directory-table tr[data-key='HN07'] td[data-field='filling_licence_expires'] .validity",
                "data-validity"
            )
            .await
            .as_deref(),
        Some("expired")
    );

    // Two characters of the name find it; the expiry filter agrees.
    type_into(&browser, "#directory-q", "豫港").await;
    click(&browser, "#directory-go").await;
    browser
        .wait_for("the search's one row", async |c: &Client| {
            directory_keys(c).await.filter(|k| k == &["HN07"])
        })
        .await;
    set_value(&browser, "#directory-q", "").await;
    type_into(&browser, "#directory-expiring", "30").await;
    click(&browser, "#directory-go").await;
    browser
        .wait_for("licences ending within 30 days", async |c: &Client| {
            directory_keys(c).await.filter(|k| k == &["HN07"])
        })
        .await;
    click(&browser, "#directory-table tr[data-key='HN07'] td.code a").await;
    browser.wait_for_path("/enterprises/HN07").await;
    // Back finds the search as it was (it is in the URL), then the profile again.
    browser.client.back().await.unwrap();
    browser
        .wait_for_path("/enterprises?licence_expiring_within_days=30")
        .await;
    browser
        .wait_for("the search kept", async |c: &Client| {
            directory_keys(c).await.filter(|k| k == &["HN07"])
        })
        .await;
    click(&browser, "#directory-table tr[data-key='HN07'] td.code a").await;
    browser.wait_for_path("/enterprises/HN07").await;

    // The profile: the licence expired, the station, the filler's certificate expiring soon.
    let (state, date) = browser
        .wait_for("the licences", async |_| filling_licence(&browser).await)
        .await;
    assert_eq!(
        (state.as_str(), date.as_str()),
        ("expired", &*expired.to_string())
    );
    assert!(browser
        .text("#licences tr[data-licence='filling_licence'] .validity")
        .await
        .unwrap()
        .contains("已过期"));
    assert_eq!(
        browser.text("#enterprise-name").await.as_deref(),
        Some("豫港燃气集团有限公司")
    );
    browser
        .wait_for("the station and the staff", async |c: &Client| {
            c.find(Locator::Css("#enterprise-stations tr[data-key='HN07-ST']"))
                .await
                .ok()?;
            c.find(Locator::Css("#enterprise-staff tr[data-key='HN07-S1']"))
                .await
                .ok()
        })
        .await;
    assert_eq!(
        browser
            .attr(
                "#enterprise-staff tr[data-key='HN07-S1'] .validity",
                "data-validity"
            )
            .await
            .as_deref(),
        Some("expiring")
    );
    browser
        .wait_for("no revisions yet", async |_| {
            browser.text("#revisions-empty").await
        })
        .await;

    // The form: the licence date, and a gas licence number cleared without its date.
    click(&browser, "#enterprise-edit").await;
    browser
        .wait_for("the form", async |c: &Client| {
            c.find(Locator::Css("#record-form")).await.ok()
        })
        .await;
    assert_eq!(
        browser
            .attr("#record-form", "data-version")
            .await
            .as_deref(),
        Some("1")
    );
    set_value(
        &browser,
        "#edit-filling_licence_expires",
        &renewed.to_string(),
    )
    .await;
    set_value(&browser, "#edit-gas_licence_no", "").await;
    click(&browser, "#form-save").await;
    let refused = browser
        .wait_for("the refused field in place", async |_| {
            browser.text("#error-gas_licence_expires").await
        })
        .await;
    assert!(refused.contains("燃气经营许可证有效期至"), "{refused}");
    set_value(&browser, "#edit-gas_licence_no", "豫燃-001").await;

    // Someone else saves in between: the form says so and reads the record again.
    let response = app
        .client
        .patch(app.url("/api/v1/enterprises/HN07"))
        .bearer_auth(&app.admin_token)
        .header("If-Match", "1")
        .json(&json!({"address": "郑州市金水区农业路1号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    click(&browser, "#form-save").await;
    assert_eq!(
        browser
            .wait_for("the stale version", async |_| {
                browser.attr("#form-error", "data-code").await
            })
            .await,
        "version_stale"
    );
    let stale = browser.text("#form-error").await.unwrap();
    assert!(stale.contains("已被他人修改"), "{stale}");
    // Nothing was written by the refused saves.
    let (_, now) = app.get_json("/api/v1/enterprises/HN07").await;
    assert_eq!(now["filling_licence_expires"], json!(expired.to_string()));
    assert_eq!(now["version"], 2);
    click(&browser, "#form-reload").await;
    browser
        .wait_for("the form at version 2", async |_| {
            (browser.attr("#record-form", "data-version").await? == "2").then_some(())
        })
        .await;
    assert_eq!(
        browser
            .client
            .find(Locator::Css("#edit-address"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("郑州市金水区农业路1号")
    );
    set_value(
        &browser,
        "#edit-filling_licence_expires",
        &renewed.to_string(),
    )
    .await;
    click(&browser, "#form-save").await;

    // Renewed: valid, the new date, the revision before → after, the form closed.
    browser
        .wait_for("the renewed licence", async |_| {
            let (state, date) = filling_licence(&browser).await?;
            (state == "valid" && date == renewed.to_string()).then_some(())
        })
        .await;
    assert!(browser
        .client
        .find(Locator::Css("#record-form"))
        .await
        .is_err());
    let change = "#revisions li[data-version='3'] li[data-field='filling_licence_expires']";
    let (before, after) = browser
        .wait_for("the revision", async |_| {
            Some((
                browser.text(&format!("{change} .revision-before")).await?,
                browser.text(&format!("{change} .revision-after")).await?,
            ))
        })
        .await;
    assert_eq!((before, after), (expired.to_string(), renewed.to_string()));
    assert_eq!(
        browser
            .attr("#revisions li[data-version='3']", "data-by")
            .await
            .as_deref(),
        Some(REGULATOR)
    );
    let (_, now) = app.get_json("/api/v1/enterprises/HN07").await;
    assert_eq!(now["filling_licence_expires"], json!(renewed.to_string()));
    assert_eq!(now["version"], 3);
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("enterprise-profile-renewed.png"), png).unwrap();

    // Suspended with a reason, then reinstated: the status and the revisions follow.
    for (action, reason, status) in [
        ("suspend", "年度检查发现隐患，停业整改", "suspended"),
        ("reinstate", "整改完成，复查合格", "active"),
    ] {
        assert_eq!(
            browser
                .attr("#status-change", "data-action")
                .await
                .as_deref(),
            Some(action)
        );
        type_into(&browser, "#status-reason", reason).await;
        click(&browser, "#status-go").await;
        browser
            .wait_for(&format!("the enterprise {status}"), async |_| {
                (browser.attr("#enterprise-status", "data-status").await? == status).then_some(())
            })
            .await;
        browser
            .wait_for("the status revision", async |_| {
                browser
                    .text("#revisions > li:first-child .revision-reason")
                    .await
                    .filter(|r| r == reason)
            })
            .await;
    }
    assert_eq!(
        app.get_json("/api/v1/enterprises/HN07").await.1["version"],
        5
    );

    // The drill-down leads here, and the header to the directory.
    browser
        .client
        .goto(&app.url("/stats/enterprise/HN07"))
        .await
        .unwrap();
    click(&browser, "#stats-page .stats-profile").await;
    browser.wait_for_path("/enterprises/HN07").await;
    click(&browser, ".topbar .nav-directory").await;
    browser.wait_for_path("/enterprises").await;
    browser.client.clone().close().await.unwrap();

    // A phone: the profile is no wider than the screen.
    let phone = Browser::start_phone().await;
    phone.open_as_admin(&app, "/enterprises/HN07").await;
    phone
        .wait_for("the profile on a phone", async |_| {
            filling_licence(&phone).await
        })
        .await;
    let widths: Value = phone
        .client
        .execute(
            "return [window.innerWidth, document.getElementById('enterprise-page').scrollWidth, \
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
    std::fs::write(output_dir().join("enterprise-profile-phone.png"), png).unwrap();
    phone.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn each_directory_lists_its_records_and_an_enterprise_admin_edits_only_its_own_fields() {
    let app = spawn_app().await;
    seed(&app, beijing_today() - Duration::days(1)).await;
    let (status, answer) = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "ent1-admin", "password": PASSWORD, "role": "enterprise_admin",
                    "enterprise_code": "ENT1"}),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &crate::common::archive("RG1", "T-RG1"))
        .await;
    assert_eq!(status, 201, "{answer}");

    // The administrator walks the tabs: each directory its own records.
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/enterprises").await;
    for (tab, path, keys) in [
        ("stations", "/stations", vec!["HN07-ST", "ST1", "ST2"]),
        ("staff", "/staff", vec!["S1", "HN07-S1"]),
        ("customers", "/customers", vec!["C1"]),
        ("vehicles", "/vehicles", vec![]),
        ("enterprises", "/enterprises", vec!["ENT1", "HN07"]),
    ] {
        click(
            &browser,
            &format!("#directory-tabs li[data-kind='{tab}'] a"),
        )
        .await;
        browser.wait_for_path(path).await;
        let mut shown = browser
            .wait_for(&format!("the {tab} directory"), async |c: &Client| {
                let kind = browser.attr("#directory-page", "data-kind").await?;
                (kind == tab).then_some(())?;
                directory_keys(c).await
            })
            .await;
        let mut expected: Vec<String> = keys.into_iter().map(str::to_owned).collect();
        shown.sort();
        expected.sort();
        assert_eq!(shown, expected, "{tab}");
    }
    // A status filter narrows the list at once.
    browser
        .client
        .execute(
            "const s = document.getElementById('directory-status'); s.value = 'suspended'; \
             s.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for("no suspended enterprise", async |_| {
            browser.text("#directory-empty").await
        })
        .await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("directory-empty.png"), png).unwrap();

    // A station's record under its filling day: a radius too large refused beside the field,
    // then a new stock limit saved.
    browser
        .client
        .goto(&app.url("/stations/ST1"))
        .await
        .unwrap();
    click(&browser, "#station-edit").await;
    set_value(&browser, "#edit-radius_m", "99999").await;
    set_value(&browser, "#edit-full_stock_limit", "250").await;
    click(&browser, "#form-save").await;
    let refused = browser
        .wait_for("the radius refused", async |_| {
            browser.text("#error-radius_m").await
        })
        .await;
    assert!(refused.contains("围栏半径"), "{refused}");
    assert_eq!(
        app.get_json("/api/v1/stations/ST1").await.1["full_stock_limit"],
        200
    );
    set_value(&browser, "#edit-radius_m", "150").await;
    click(&browser, "#form-save").await;
    browser
        .wait_for("the new limit", async |_| {
            (browser.text("#station-limit").await? == "250").then_some(())
        })
        .await;
    let (_, station) = app.get_json("/api/v1/stations/ST1").await;
    assert_eq!(
        (
            station["full_stock_limit"].clone(),
            station["version"].clone()
        ),
        (json!(250), json!(2))
    );
    click(&browser, "#station-record .station-enterprise").await;
    browser.wait_for_path("/enterprises/ENT1").await;
    browser.client.clone().close().await.unwrap();

    // ENT1's administrator: the name is its own to change, the licences a regulator's.
    let token = app.login("ent1-admin", PASSWORD).await;
    let browser = Browser::start().await;
    browser.store_token(&app, &token).await;
    browser
        .client
        .goto(&app.url("/enterprises/ENT1"))
        .await
        .unwrap();
    click(&browser, "#enterprise-edit").await;
    browser
        .wait_for("the form", async |c: &Client| {
            c.find(Locator::Css("#record-form")).await.ok()
        })
        .await;
    let disabled = |css: &'static str| {
        let browser = &browser;
        async move {
            browser
                .client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .prop("disabled")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        disabled("#edit-filling_licence_expires").await.as_deref(),
        Some("true")
    );
    assert_eq!(disabled("#edit-name").await.as_deref(), Some("false"));
    assert!(browser
        .text("#record-form .form-row[data-field='filling_licence_expires'] .form-hint")
        .await
        .unwrap()
        .contains("由监管部门修改"));
    // No suspend button for an enterprise's own administrator.
    assert!(browser
        .client
        .find(Locator::Css("#status-change"))
        .await
        .is_err());
    set_value(&browser, "#edit-name", "郑州一号燃气有限公司").await;
    click(&browser, "#form-save").await;
    browser
        .wait_for("the new name", async |_| {
            (browser.text("#enterprise-name").await? == "郑州一号燃气有限公司").then_some(())
        })
        .await;
    browser
        .wait_for("its revision", async |_| {
            browser
                .text("#revisions li[data-version='2'] li[data-field='name'] .revision-after")
                .await
        })
        .await;
    // The licence is proposed, with its document, for a regulator to decide.
    let proposed = beijing_today() + Duration::days(400);
    click(&browser, "#enterprise-propose").await;
    browser
        .wait_for("the proposal form", async |_| {
            (browser.attr("#record-form", "data-mode").await? == "propose").then_some(())
        })
        .await;
    assert_eq!(disabled("#edit-name").await.as_deref(), Some("true"));
    assert_eq!(
        disabled("#edit-filling_licence_expires").await.as_deref(),
        Some("false")
    );
    set_value(
        &browser,
        "#edit-filling_licence_expires",
        &proposed.to_string(),
    )
    .await;
    click(&browser, "#form-save").await;
    let missing = browser
        .wait_for("the document asked for", async |_| {
            browser.text("#error-document_ref").await
        })
        .await;
    assert!(missing.contains("证明文件"), "{missing}");
    set_value(
        &browser,
        "#edit-document_ref",
        "豫充-001 换证 扫描件 2026-12",
    )
    .await;
    click(&browser, "#form-save").await;
    browser
        .wait_for("the proposal sent", async |_| {
            browser.text("#proposal-sent").await
        })
        .await;
    browser
        .wait_for("the pending proposal", async |c: &Client| {
            c.find(Locator::Css(
                "#proposals li.proposal li[data-field='filling_licence_expires']",
            ))
            .await
            .ok()
        })
        .await;
    // Proposed, not changed; and no approving for the enterprise itself.
    assert_eq!(
        app.get_json("/api/v1/enterprises/ENT1").await.1["filling_licence_expires"],
        "2030-12-31"
    );
    assert!(browser
        .client
        .find(Locator::Css(".proposal-approve"))
        .await
        .is_err());

    // Another enterprise's profile is not there for it.
    browser
        .client
        .goto(&app.url("/enterprises/HN07"))
        .await
        .unwrap();
    browser
        .wait_for("not found", async |_| {
            browser.text("#enterprise-not-found").await
        })
        .await;
    browser.client.clone().close().await.unwrap();

    // A regulator approves it on the profile: the licence is renewed, the revision says why.
    let browser = Browser::start().await;
    browser.open_as_admin(&app, "/enterprises/ENT1").await;
    click(&browser, "#proposals .proposal-approve").await;
    browser
        .wait_for("the approved licence", async |_| {
            let (state, date) = filling_licence(&browser).await?;
            (state == "valid" && date == proposed.to_string()).then_some(())
        })
        .await;
    let reason = browser
        .wait_for("the revision's reason", async |_| {
            browser
                .text("#revisions li[data-version='3'] .revision-reason")
                .await
        })
        .await;
    assert!(reason.contains("豫充-001 换证"), "{reason}");
    browser
        .wait_for("no proposal left", async |c: &Client| {
            c.find(Locator::Css("#proposals"))
                .await
                .is_err()
                .then_some(())
        })
        .await;
    // Its compliance bar opens the cylinders behind a segment on its statistics page.
    click(&browser, "#compliance-bars .seg").await;
    browser
        .wait_for("the cylinders behind the segment", async |_| {
            browser
                .path()
                .await
                .starts_with("/stats/enterprise/ENT1?list=")
                .then_some(())?;
            (browser.attr("#cylinder-list", "data-count").await? == "1").then_some(())
        })
        .await;
    browser.client.clone().close().await.unwrap();
}
