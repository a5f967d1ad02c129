//! The command-hall wall on the simulated city (SPEC §8): every layout preset draws the live
//! map, tiles and charts from `cylwatch simulate`, and its figures agree with the statistics API.

use crate::common::{archive, output_dir, scan, spawn_app, workspace, ADMIN_PASSWORD, ADMIN_USER};
use crate::wall::{ask, click_map, map_state, today_start};
use crate::Browser;
use serde_json::{json, Value};
use tokio::process::Command;

#[tokio::test]
async fn the_wall_runs_on_the_simulated_city_in_each_layout() {
    let app = spawn_app().await;
    // Something to look at besides the vehicles: cylinders handed over around the city (far
    // from the customer's address, so some are flagged), and a refused tag at a gun.
    app.seed_registry().await;
    let mut events = Vec::new();
    let now = chrono::Utc::now().to_rfc3339();
    for i in 0..60_u32 {
        let code = format!("SC{i:03}");
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(&code, &format!("T-{code}")))
            .await;
        assert_eq!(status, 201, "{body}");
        let (lon, lat) = (
            113.50 + f64::from(i % 10) * 0.03,
            34.65 + f64::from(i / 10) * 0.04,
        );
        if i % 3 == 0 {
            // A third out of ST1's stock first: a flow ST1 → C1 on the flows chart.
            let before = (chrono::Utc::now() - chrono::Duration::seconds(60)).to_rfc3339();
            events.push(scan(
                "store_out",
                &code,
                &before,
                json!({"station_code": "ST1"}),
            ));
        }
        events.push(scan(
            "deliver",
            &code,
            &now,
            json!({"customer_code": "C1", "lon": lon, "lat": lat}),
        ));
    }
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        let (_, flows) = app
            .get_json(&format!("/api/v1/stats/flows?from={}", today_start()))
            .await;
        flows["flows"][0]["count"] == 20
    })
    .await;
    let controller = app
        .new_device("ENT1", json!({"kind": "controller", "station_code": "ST1"}))
        .await;
    app.authorize(&controller, ask(json!({"tag_id": "FAKE"})))
        .await;
    let mut sim = Command::new(env!("CARGO_BIN_EXE_cylwatch"))
        .arg("simulate")
        .args(["--api", &app.base, "--vehicles", "30", "--interval-s", "1"])
        .args(["--enterprises", "2", "--stations", "4", "--customers", "60"])
        .args(["--cylinders", "200", "--duration-s", "120"])
        .env("CYLWATCH_ADMIN_USER", ADMIN_USER)
        .env("CYLWATCH_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .arg("--basemap")
        .arg(workspace().join("assets/basemap/zhengzhou_districts.wgs84.geojson"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the simulator");

    let browser = Browser::start().await;
    browser
        .open_as_admin(&app, "/?layout=standard&test-state")
        .await;
    // Every simulated vehicle on the map, inside the canvas, and in the tiles.
    let markers = browser
        .wait_for("30 simulated vehicles", async |_| {
            // The simulated city's 30 delivery vehicles, and its patrol vehicles.
            let m = browser.markers().await;
            (m.len() >= 30).then_some(m)
        })
        .await;
    let size: Value = browser
        .client
        .execute("const c = document.getElementById('city-map'); return [c.clientWidth, c.clientHeight];", vec![])
        .await
        .unwrap();
    let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    let inside = markers
        .iter()
        .filter(|m| {
            let (x, y) = (m["x"].as_f64().unwrap(), m["y"].as_f64().unwrap());
            x > 0.0 && x < w && y > 0.0 && y < h
        })
        .count();
    let n = markers.len();
    assert_eq!(inside, n, "{markers:?} in {size}");
    let detail = browser.text("#kpi-vehicles .kpi-detail").await.unwrap();
    assert!(detail.contains(&n.to_string()), "{detail}");
    // They move: a second picture differs from the first.
    let first: Vec<(String, f64)> = markers
        .iter()
        .map(|m| {
            (
                m["plate"].as_str().unwrap().to_owned(),
                m["lon"].as_f64().unwrap(),
            )
        })
        .collect();
    browser
        .wait_for("a vehicle to move", async |_| {
            let now = browser.markers().await;
            now.iter()
                .any(|m| {
                    first
                        .iter()
                        .any(|(p, lon)| m["plate"] == p.as_str() && m["lon"].as_f64() != Some(*lon))
                })
                .then_some(())
        })
        .await;
    // A click on a vehicle shows it, with its enterprise's statistics.
    let one = browser.markers().await[0].clone();
    click_map(
        &browser,
        one["x"].as_f64().unwrap(),
        one["y"].as_f64().unwrap(),
    )
    .await;
    let plate = browser
        .wait_for("the vehicle's details", async |_| {
            browser
                .attr("#map-details [data-kind='vehicle']", "data-code")
                .await
        })
        .await;
    assert!(plate.starts_with('豫'), "{plate}");
    // The vehicle's own enterprise, as the registry has it.
    let owner: String = sqlx::query_scalar("SELECT enterprise_code FROM vehicles WHERE plate = $1")
        .bind(&plate)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        browser
            .attr("#map-details .map-link-enterprise", "href")
            .await,
        Some(format!("/stats/enterprise/{owner}"))
    );
    // Zoomed in by the wheel, the same vehicles are drawn further apart.
    browser
        .client
        .execute(
            "const c = document.getElementById('city-map'); const r = c.getBoundingClientRect(); \
             c.dispatchEvent(new WheelEvent('wheel', {bubbles: true, deltaY: -100, \
             clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for("the zoomed map", async |_| {
            (map_state(&browser).await?["zoom"].as_f64()? > 1.0).then_some(())
        })
        .await;

    // Nothing scrolls: the wall fits its screen.
    let fits: Value = browser
        .client
        .execute(
            "const d = document.documentElement; return [d.scrollWidth <= window.innerWidth, \
             d.scrollHeight <= window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!([true, true]));
    for chart in ["chart-custody", "chart-flows"] {
        browser
            .wait_for(chart, async |_| {
                browser.attr(&format!("#{chart}"), "data-sum").await
            })
            .await;
    }

    // Screenshots for docs/: 1920×1080 and 3840×2160 viewports, Chinese and English.
    browser
        .wait_for("the density layer", async |_| {
            // The test's 60 delivered cylinders and the simulated city's placed ones.
            let n: u64 = browser
                .attr("#city-map", "data-cylinders")
                .await?
                .parse()
                .ok()?;
            (n >= 60).then_some(())
        })
        .await;
    let frame: Value = browser
        .client
        .execute("return window.outerHeight - window.innerHeight;", vec![])
        .await
        .unwrap();
    let frame = u32::try_from(frame.as_u64().unwrap_or(0)).unwrap();
    for (lang, title) in [
        ("zh", "郑州市气瓶安全监管平台"),
        ("en", "Zhengzhou Gas Cylinder Supervision"),
    ] {
        browser
            .client
            .goto(&app.url(&format!("/?layout=standard&lang={lang}")))
            .await
            .unwrap();
        browser
            .wait_for(&format!("the wall in {lang}"), async |_| {
                (browser.text(".topbar .title").await? == title).then_some(())
            })
            .await;
        for (w, h) in [(1920, 1080), (3840, 2160)] {
            browser.client.set_window_size(w, h + frame).await.unwrap();
            browser
                .wait_for("the charts and vehicles", async |_| {
                    let live = browser.live_status().await? == "live";
                    let charts = browser.attr("#chart-custody", "data-sum").await.is_some();
                    let vehicles =
                        browser.attr("#city-map", "data-vehicle-count").await? == n.to_string();
                    (live && charts && vehicles).then_some(())
                })
                .await;
            // Nothing scrolls at either size.
            let fits: Value = browser
                .client
                .execute(
                    "const d = document.documentElement; return [window.innerWidth, \
                     window.innerHeight, d.scrollWidth <= window.innerWidth, \
                     d.scrollHeight <= window.innerHeight];",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(fits, json!([w, h, true, true]));
            // Let the frame loop and the charts catch up with the new size.
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            let png = browser.client.screenshot().await.unwrap();
            assert!(png.len() > 50_000, "a real picture");
            std::fs::write(output_dir().join(format!("wall-{w}x{h}-{lang}.png")), png).unwrap();
        }
        browser
            .client
            .set_window_size(1920, 1080 + frame)
            .await
            .unwrap();
    }

    // The map preset: the map and the feed, no charts; remembered on the next visit.
    browser
        .client
        .goto(&app.url("/?layout=map&test-state"))
        .await
        .unwrap();
    browser
        .wait_for("the map layout", async |_| {
            (browser.attr("#wall", "data-layout").await? == "map").then_some(())
        })
        .await;
    browser.client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for("the remembered layout", async |_| {
            (browser.attr("#wall", "data-layout").await? == "map").then_some(())
        })
        .await;
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(output_dir().join("wall-layout-map.png"), png).unwrap();
    browser.client.clone().close().await.unwrap();
    let _ = sim.start_kill();
}
