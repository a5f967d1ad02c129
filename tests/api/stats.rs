//! Statistics: the inventory table (seed 000 §3.7) per medium and in total, the same whatever
//! the order of arrival and however often events repeat, and within scope.

use crate::common::{archive, scan, spawn_app, station, TestApp};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// ENT1's cylinders (6 LPG, 2 N2O) and the inspection body `INSP`.
async fn registry(app: &TestApp) {
    app.seed_registry().await;
    app.add_inspection_body().await;
    for (code, medium) in [
        ("A1", "LPG"),
        ("A2", "LPG"),
        ("A3", "LPG"),
        ("A4", "LPG"),
        ("A5", "LPG"),
        ("A6", "LPG"),
        ("N1", "N2O"),
        ("N2", "N2O"),
    ] {
        let mut a = archive(code, &format!("T{code}"));
        a["medium"] = json!(medium);
        assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);
    }
}

/// A history for each cylinder: A1/N2 on their way out, A2/N1 delivered, A3 coming back, A4
/// delivered 100 days ago and not seen since (lost), A5 scrapped, A6 never moved. Each history
/// has a few steps, so that order matters to the replay.
fn events() -> Vec<Value> {
    let at = |days: i64, minute: i64| {
        (Utc::now() - Duration::days(days) + Duration::minutes(minute)).to_rfc3339()
    };
    let st = json!({"station_code": "ST1", "staff_no": "S1"});
    let load = |c: &str, t: String| {
        scan(
            "load",
            c,
            &t,
            json!({"station_code": "ST1", "vehicle_plate": "豫A00001"}),
        )
    };
    let deliver = |c: &str, t: String| scan("deliver", c, &t, json!({"customer_code": "C1"}));
    let mut e = Vec::new();
    for c in ["A1", "A2", "A3", "A4", "N1", "N2"] {
        let days = if c == "A4" { 100 } else { 2 };
        e.push(scan("fill", c, &at(days, 0), st.clone()));
        e.push(load(c, at(days, 10)));
    }
    for c in ["A2", "A3", "A4", "N1"] {
        let days = if c == "A4" { 100 } else { 2 };
        e.push(deliver(c, at(days, 30)));
    }
    e.push(scan(
        "collect_empty",
        "A3",
        &at(1, 0),
        json!({"customer_code": "C1", "vehicle_plate": "豫A00001"}),
    ));
    e.push(
        json!({"id": Uuid::new_v4(), "kind": "inspection", "cylinder_code": "A5",
        "conclusion": "scrap", "inspected_on": &at(3, 0)[..10], "next_inspection_on": null,
        "report_no": "R-1", "inspection_body": "郑州特检院", "inspector": "王工",
        "occurred_at": at(3, 0)}),
    );
    e
}

async fn table(app: &TestApp) -> Value {
    let (status, t) = app.get_json("/api/v1/stats/inventory").await;
    assert_eq!(status, 200, "{t}");
    t
}

async fn feed(app: &TestApp, batches: Vec<Vec<Value>>) {
    for batch in batches {
        for (status, body) in app.post_events_and_inspections(batch).await {
            assert_eq!(status, 202, "{body}");
        }
    }
}

async fn settled(app: &TestApp, rows: i64) {
    app.wait_until(|| async {
        let n: i64 = sqlx::query_scalar("SELECT count(DISTINCT event_id) FROM cylinder_events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        n == rows
    })
    .await;
}

/// A figure without its `link`/`links`.
fn without_links(mut v: Value) -> Value {
    match &mut v {
        Value::Object(o) => {
            o.remove("link");
            o.remove("links");
            for x in o.values_mut() {
                *x = without_links(x.take());
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = without_links(x.take());
            }
        }
        _ => {}
    }
    v
}

/// A deterministic shuffle (xorshift), so that a failure can be replayed.
fn shuffled(mut v: Vec<Value>, mut seed: u64) -> Vec<Value> {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).unwrap();
        v.swap(i, j);
    }
    v
}

#[tokio::test]
async fn the_inventory_is_the_same_in_order_shuffled_and_with_duplicates() {
    let (a, b, c) = tokio::join!(spawn_app(), spawn_app(), spawn_app());
    tokio::join!(registry(&a), registry(&b), registry(&c));
    let all = events();
    let n = i64::try_from(all.len()).unwrap();
    // In order, one batch each; shuffled, one at a time; shuffled, each event twice in
    // different batches.
    let one_by_one: Vec<Vec<Value>> = shuffled(all.clone(), 7)
        .into_iter()
        .map(|e| vec![e])
        .collect();
    let mut twice = shuffled(all.clone(), 11);
    twice.extend(shuffled(all.clone(), 13));
    let twice: Vec<Vec<Value>> = twice.chunks(5).map(<[Value]>::to_vec).collect();
    tokio::join!(
        feed(&a, vec![all.clone()]),
        feed(&b, one_by_one),
        feed(&c, twice)
    );
    tokio::join!(settled(&a, n), settled(&b, n), settled(&c, n));
    let (ta, tb, tc) = tokio::join!(table(&a), table(&b), table(&c));
    assert_eq!(ta, tb, "shuffled");
    assert_eq!(ta, tc, "shuffled with duplicates");

    // The figures, by the definitions of SPEC §2.
    let row = |m: &str| {
        ta["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["medium"] == m)
            .cloned()
            .unwrap()
    };
    let counts = |r: &Value| {
        [
            "shipped",
            "in_transit",
            "delivered",
            "returning",
            "total",
            "lost",
        ]
        .map(|k| r[k].as_i64().unwrap())
    };
    assert_eq!(counts(&row("LPG")), [2, 1, 1, 1, 5, 1], "{ta}");
    assert_eq!(counts(&row("N2O")), [2, 1, 1, 0, 2, 0], "{ta}");
    assert_eq!(
        counts(&ta["total"]),
        [4, 2, 2, 1, 7, 1],
        "the total row adds up"
    );

    // The same table from each cylinder's own page (its effective custody).
    let mut from_pages = std::collections::HashMap::<&str, [i64; 6]>::new();
    for (code, medium) in [
        ("A1", "LPG"),
        ("A2", "LPG"),
        ("A3", "LPG"),
        ("A4", "LPG"),
        ("A5", "LPG"),
        ("A6", "LPG"),
        ("N1", "N2O"),
        ("N2", "N2O"),
    ] {
        let (_, view) = a.get_json(&format!("/api/v1/cylinders/{code}")).await;
        let custody = view["custody"].as_str().unwrap().to_owned();
        let r = from_pages.entry(medium).or_default();
        match custody.as_str() {
            "in_transit_delivery" => {
                r[0] += 1;
                r[1] += 1;
            }
            "at_customer" => {
                r[0] += 1;
                r[2] += 1;
            }
            "in_transit_return" => r[3] += 1,
            "lost" => r[5] += 1,
            _ => {}
        }
        if custody != "scrapped" {
            r[4] += 1;
        }
    }
    assert_eq!(from_pages["LPG"], counts(&row("LPG")));
    assert_eq!(from_pages["N2O"], counts(&row("N2O")));

    // Each figure links to the list behind it, and the list is as long as the figure.
    for r in ta["rows"].as_array().unwrap().iter().chain([&ta]) {
        let (links, figures) = if r.get("links").is_some() {
            (&r["links"], r)
        } else {
            (&r["total_links"], &r["total"])
        };
        for column in [
            "shipped",
            "in_transit",
            "delivered",
            "returning",
            "total",
            "lost",
        ] {
            let link = links[column].as_str().unwrap();
            let (status, list) = a.get_json(link).await;
            assert_eq!(status, 200, "{link}: {list}");
            assert_eq!(
                i64::try_from(list["items"].as_array().unwrap().len()).unwrap(),
                figures[column].as_i64().unwrap(),
                "{link}"
            );
        }
    }
    let (_, lost) = a.get_json("/api/v1/cylinders?custody=lost").await;
    assert_eq!(lost["items"][0]["code"], "A4");
    let (_, page1) = a.get_json("/api/v1/cylinders?limit=3").await;
    let (_, page2) = a
        .get_json(&format!(
            "/api/v1/cylinders?limit=3&cursor={}",
            page1["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        page2["items"][0]["code"], "A4",
        "by code: A1 A2 A3 | A4 ..."
    );
    for bad in [
        "?custody=gone",
        "?compliance=fine",
        "?medium=XX",
        "?limit=0",
    ] {
        let (status, _) = a.get_json(&format!("/api/v1/cylinders{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }

    // Recovery over the last 30 days: A2, A3 and N1 delivered (A4 was delivered 100 days
    // ago), A3 collected since.
    let (status, rec) = a.get_json("/api/v1/stats/recovery").await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(
        (&rec["total"]["delivered"], &rec["total"]["returned"]),
        (&json!(3), &json!(1)),
        "{rec}"
    );
    assert!((rec["total"]["rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(rec["groups"][0]["enterprise_code"], "ENT1");
    let (_, old) = a
        .get_json(&format!(
            "/api/v1/stats/recovery?from={}&to={}",
            (Utc::now() - Duration::days(120))
                .to_rfc3339()
                .replace('+', "%2B"),
            (Utc::now() - Duration::days(60))
                .to_rfc3339()
                .replace('+', "%2B")
        ))
        .await;
    assert_eq!(
        (&old["total"]["delivered"], &old["total"]["returned"]),
        (&json!(1), &json!(0)),
        "{old}"
    );
    // Flows: three cylinders from ST1 to C1; nothing else moved between sites.
    let (_, flows) = a.get_json("/api/v1/stats/flows").await;
    let mut bare = flows["flows"].clone();
    let link = bare[0]["link"].as_str().unwrap().to_owned();
    bare[0].as_object_mut().unwrap().remove("link");
    assert_eq!(
        bare,
        json!([{"from": {"kind": "station", "code": "ST1"}, "to": {"kind": "customer", "code": "C1"}, "count": 3}]),
        "{flows}"
    );
    // The lists behind: the three moves (deliveries to C1), the deliveries and returns of the
    // recovery window; and as CSV.
    let (status, moves) = a.get_json(&link).await;
    assert_eq!(status, 200, "{link}: {moves}");
    let mut moved: Vec<&str> = moves["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cylinder_code"].as_str().unwrap())
        .collect();
    moved.sort_unstable();
    assert_eq!(moved, ["A2", "A3", "N1"], "{moves}");
    for (figure, expected) in [("delivered", 3), ("returned", 1)] {
        let link = rec["total"]["links"][figure].as_str().unwrap();
        let (status, list) = a.get_json(link).await;
        assert_eq!(status, 200, "{link}: {list}");
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            expected,
            "{link}: {list}"
        );
        let (_, csv) = a.get_text(&format!("{link}&format=csv")).await;
        assert_eq!(csv.lines().count(), 1 + expected, "{csv}");
    }
    let link = rec["groups"][0]["links"]["returned"].as_str().unwrap();
    assert_eq!(a.get_json(link).await.1["items"][0]["cylinder_code"], "A3");
    let (_, page) = a.get_json("/api/v1/history?limit=2").await;
    let (_, next) = a
        .get_json(&format!(
            "/api/v1/history?limit=2&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_ne!(page["items"][1], next["items"][0], "pages do not overlap");
    let (status, ble) = a.get_json("/api/v1/history?kind=ble&op=left").await;
    assert_eq!(status, 200, "{ble}");
    for bad in [
        "?from_site=station:ST1",
        "?from_site=depot:X&to_site=customer:C1",
        "?op=Deliver;",
        "?kind=gps",
        "?kind=scan&op=left",
        "?op=nonsense",
        "?recovered=maybe",
        "?cursor=1_2",
    ] {
        let (status, body) = a.get_json(&format!("/api/v1/history{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    // The shuffled and duplicated feeds agree here too (the links carry each request's window).
    assert_eq!(
        without_links(b.get_json("/api/v1/stats/flows").await.1),
        without_links(flows)
    );
    assert_eq!(
        without_links(c.get_json("/api/v1/stats/recovery").await.1),
        without_links(rec)
    );

    // Scope: another enterprise is not found; a station's table counts its cylinders.
    let (status, _) = a
        .get_json("/api/v1/stats/inventory?enterprise_code=NOPE")
        .await;
    assert_eq!(status, 404);
    let (status, st2) = a.get_json("/api/v1/stats/inventory?station_code=ST2").await;
    assert_eq!(status, 200);
    assert_eq!(st2["rows"], json!([]), "no cylinder is registered at ST2");
    let (status, body) = a.get_json("/api/v1/stats/inventory?medium=LPG").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_query"))
    );
}

#[tokio::test]
async fn the_compliance_distribution_counts_each_cylinder_once_by_its_worst_status() {
    let app = spawn_app().await;
    registry(&app).await; // A1..A6 and N1, N2: sound archives of ENT1 (district 410105)
    let mut e2 = crate::common::enterprise("ENT2");
    e2["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &e2).await.0, 201);
    assert_eq!(
        app.post_json(
            "/api/v1/stations",
            &station("ST9", "ENT2", "九号站", 113.55, 34.75)
        )
        .await
        .0,
        201
    );
    let today = Utc::now().date_naive();
    let day = |d: i64| (today + Duration::days(d)).format("%Y-%m-%d").to_string();
    let variants = [
        ("B1", "ENT1", json!({"next_inspection_on": day(10)})), // due soon
        (
            "B2",
            "ENT1",
            json!({"next_inspection_on": day(-10), "last_inspected_on": day(-1500)}),
        ), // overdue
        (
            "B3",
            "ENT1",
            json!({"manufactured_on": "2005-01-01", "last_inspected_on": "2024-01-01"}),
        ), // life expired
        (
            "B4",
            "ENT2",
            json!({"registration_no": null, "registered_on": null, "registration_authority": null}),
        ), // unregistered
        ("B5", "ENT2", json!({})),                              // ok
    ];
    for (code, owner, changes) in variants {
        let mut a = archive(code, &format!("T{code}"));
        a["owner_enterprise_code"] = json!(owner);
        if owner == "ENT2" {
            a["station_code"] = json!("ST9");
        }
        for (k, v) in changes.as_object().unwrap() {
            a[k] = v.clone();
        }
        let (status, body) = app.post_json("/api/v1/cylinders", &a).await;
        assert_eq!(status, 201, "{code}: {body}");
    }
    // A5 scrapped.
    let scrap = events()
        .into_iter()
        .filter(|e| e["kind"] == "inspection")
        .collect::<Vec<_>>();
    feed(&app, vec![scrap]).await;
    settled(&app, 1).await;

    let (status, by_enterprise) = app.get_json("/api/v1/stats/compliance").await;
    assert_eq!(status, 200, "{by_enterprise}");
    assert_eq!(by_enterprise["group_by"], "enterprise");
    let group = |t: &Value, key: &str| {
        t["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == key)
            .unwrap()["counts"]
            .clone()
    };
    assert_eq!(
        group(&by_enterprise, "ENT1"),
        json!({"ok": 7, "scrapped": 1, "due_soon": 1, "inspection_overdue": 1, "life_expired": 1})
    );
    assert_eq!(
        group(&by_enterprise, "ENT2"),
        json!({"ok": 1, "unregistered": 1})
    );
    assert_eq!(by_enterprise["total"]["ok"], 8);
    // Each figure agrees with the cylinders' own pages.
    let mut pages = std::collections::BTreeMap::<String, i64>::new();
    for code in [
        "A1", "A2", "A3", "A4", "A5", "A6", "N1", "N2", "B1", "B2", "B3", "B4", "B5",
    ] {
        let (_, view) = app.get_json(&format!("/api/v1/cylinders/{code}")).await;
        *pages
            .entry(view["compliance"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        serde_json::to_value(&pages).unwrap(),
        by_enterprise["total"]
    );
    // By district, and narrowed to one.
    let (_, by_district) = app
        .get_json("/api/v1/stats/compliance?group_by=district")
        .await;
    assert_eq!(group(&by_district, "410102"), group(&by_enterprise, "ENT2"));
    let (_, one) = app
        .get_json("/api/v1/stats/compliance?group_by=district&district_code=410105")
        .await;
    assert_eq!(one["groups"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .get_json("/api/v1/stats/compliance?group_by=street")
        .await;
    assert_eq!(status, 400);
    // One station: ST9 holds ENT2's two cylinders (B4 unregistered, B5 ok); its lists agree.
    let (status, st9) = app
        .get_json("/api/v1/stats/compliance?station_code=ST9")
        .await;
    assert_eq!(status, 200, "{st9}");
    assert_eq!(st9["total"], json!({"ok": 1, "unregistered": 1}), "{st9}");
    let link = st9["groups"][0]["links"]["unregistered"].as_str().unwrap();
    assert_eq!(
        app.get_json(link).await.1["items"][0]["code"],
        "B4",
        "{link}"
    );
    let (status, _) = app
        .get_json("/api/v1/stats/compliance?station_code=NOPE")
        .await;
    assert_eq!(status, 404);

    // Registration progress and tag issuance: ENT1 has 10 cylinders in use (A5 scrapped, its
    // tag void), all registered, none read in the field yet; ENT2 has B4 unregistered and B5.
    let (status, reg) = app.get_json("/api/v1/stats/registration").await;
    assert_eq!(status, 200, "{reg}");
    let of = |code: &str| {
        reg["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["enterprise_code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} in {reg}"))
    };
    let figures = |g: &Value| {
        [
            "cylinders",
            "registered",
            "tags_issued",
            "tags_seen",
            "tags_void",
        ]
        .map(|k| g[k].as_i64().unwrap())
    };
    assert_eq!(figures(&of("ENT1")), [10, 10, 10, 0, 1], "{reg}");
    assert_eq!(figures(&of("ENT2")), [2, 1, 2, 0, 0], "{reg}");
    assert_eq!(figures(&reg["total"]), [12, 11, 12, 0, 1], "{reg}");
    assert_eq!(of("ENT2")["registration_rate"], 0.5);
    assert_eq!(of("ENT1")["tag_issuance_rate"], 1.0);
    assert_eq!(
        of("ENT1")["customers_total"],
        1,
        "seed_registry's C1: {reg}"
    );
    assert_eq!(of("ENT2")["customers_total"], 0);
    for g in reg["groups"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&reg["total"]])
    {
        let n = |k: &str| g[k].as_i64().unwrap();
        for (link, expected) in [
            ("customers", n("customers_total")),
            ("cylinders", n("cylinders")),
            ("unregistered", n("cylinders") - n("registered")),
            ("tags_never_seen", n("cylinders") - n("tags_seen")),
        ] {
            let url = g["links"][link].as_str().unwrap();
            let (status, list) = app.get_json(url).await;
            assert_eq!(status, 200, "{url}: {list}");
            assert_eq!(
                i64::try_from(list["items"].as_array().unwrap().len()).unwrap(),
                expected,
                "{url}"
            );
        }
    }
    let (_, unregistered) = app
        .get_json(of("ENT2")["links"]["unregistered"].as_str().unwrap())
        .await;
    assert_eq!(unregistered["items"][0]["code"], "B4");
    let (_, one) = app
        .get_json("/api/v1/stats/registration?enterprise_code=ENT2")
        .await;
    assert_eq!(one["groups"].as_array().unwrap().len(), 1);
    assert_eq!(one["total"]["cylinders"], 2);
    for bad in [
        "?enterprise_code=NOPE",
        "?group_by=district",
        "?registered=maybe",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/stats/registration{bad}"))
            .await;
        assert!([400, 404].contains(&status), "{bad}: {status} {body}");
    }
    let (status, _) = app.get_json("/api/v1/cylinders?seen=maybe").await;
    assert_eq!(status, 400);
    let (_, c1) = app
        .get_json(of("ENT1")["links"]["customers"].as_str().unwrap())
        .await;
    assert_eq!(c1["items"][0]["code"], "C1", "{c1}");
    let (status, csv) = app.get_text("/api/v1/customers?format=csv").await;
    assert_eq!((status, csv.lines().count()), (200, 2), "{csv}");
    for bad in ["?kind=school", "?limit=5000", "?enterprise_code=NOPE"] {
        let (status, body) = app.get_json(&format!("/api/v1/customers{bad}")).await;
        assert!([400, 404].contains(&status), "{bad}: {status} {body}");
    }
}

/// The wall's figures arrive on the live socket every `stats_every_s` for whoever sees the
/// whole city, and never for an enterprise's users.
#[tokio::test]
async fn the_wall_gets_the_city_figures_live_and_enterprises_do_not() {
    let mut config = crate::common::AppConfig::default();
    config
        .env
        .push(("CYLWATCH_STATS_EVERY_S".into(), "1".into()));
    let app = crate::common::spawn_app_with(config, crate::common::TestDb::new().await).await;
    registry(&app).await;
    let password = "Enterprise-Pass-1";
    let staff = json!({"username": "ent1-staff", "password": password, "role": "enterprise_staff",
                       "enterprise_code": "ENT1"});
    assert_eq!(app.post_json("/api/v1/users", &staff).await.0, 201);
    let staff_token = app.login("ent1-staff", password).await;
    let mut wall = crate::live::connect(&app).await;
    let url = app.live_url_for(&staff_token).await;
    let (mut own, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let stats = crate::live::until(&mut wall, |m| m["type"] == "stats").await;
    // The same figures as the table (which also carries the links to its lists).
    let mut api = table(&app).await;
    api.as_object_mut().unwrap().remove("total_links");
    for row in api["rows"].as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("links");
    }
    assert_eq!(stats["inventory"], api);
    assert_eq!(stats["inventory"]["total"]["total"], 8);
    // The enterprise's socket, over the same seconds: its snapshot, and no city figures.
    let seen = tokio::time::timeout(std::time::Duration::from_millis(2500), async {
        let mut types = Vec::new();
        while let Some(Ok(msg)) = futures_util::StreamExt::next(&mut own).await {
            if let Ok(text) = msg.into_text() {
                if let Ok(v) = serde_json::from_str::<Value>(text.as_str()) {
                    types.push(v["type"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        types
    })
    .await
    .unwrap_or_default();
    assert!(!seen.iter().any(|t| t == "stats"), "{seen:?}");
}

/// The figures are counters moved as cylinders change and as the calendar turns (a cylinder
/// becomes lost, an inspection falls due); after each step they equal a full classification of
/// every cylinder at the same moment.
#[tokio::test]
async fn the_counters_follow_events_and_the_calendar_and_agree_with_a_full_classification() {
    use cylwatch::store::stats::{counters, counters_by_scan, refresh, Classify};
    let mut config = crate::common::AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_STATS_EVERY_S", "3600"),
        ("CYLWATCH_STATS_REFRESH_EVERY_MS", "3600000"),
        ("CYLWATCH_LOSS_AFTER_DAYS", "90"),
        ("CYLWATCH_DUE_SOON_DAYS", "30"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = crate::common::spawn_app_with(config, crate::common::TestDb::new().await).await;
    registry(&app).await;
    // Inspections falling due on every day around the boundaries to come, and cylinders at
    // the end of their design life.
    let today = Utc::now().date_naive();
    for k in 0..12i64 {
        let mut a = archive(&format!("D{k}"), &format!("TD{k}"));
        a["next_inspection_on"] = json!((today + Duration::days(k * 4 - 3)).to_string());
        if k % 3 == 0 {
            a["manufactured_on"] = json!("2011-12-01");
            a["last_inspected_on"] = json!("2024-12-01");
        }
        let (status, body) = app.post_json("/api/v1/cylinders", &a).await;
        assert_eq!(status, 201, "{body}");
    }
    let all = events();
    let n = i64::try_from(all.len()).unwrap();
    feed(&app, vec![all]).await;
    settled(&app, n).await;

    let pool = &app.db.pool;
    let mut seen = std::collections::BTreeSet::new();
    for days in [0, 1, 2, 5, 9, 13, 20, 29, 30, 31, 44, 60, 91, 400, 6000] {
        let now = Utc::now() + Duration::days(days);
        let c = Classify {
            now,
            lost_before: now - Duration::days(90),
            today: cylwatch::rules::compliance::today_in_shanghai() + Duration::days(days),
            due_soon_days: 30,
        };
        refresh(pool, c).await.unwrap();
        let kept = counters(pool).await.unwrap();
        assert_eq!(
            kept,
            counters_by_scan(pool, c).await.unwrap(),
            "day +{days}"
        );
        seen.extend(kept.inventory.iter().map(|k| k.3.clone()));
        seen.extend(kept.compliance.iter().map(|k| k.2.clone()));
        if days == 13 {
            // A cylinder written in between is reclassified from its new state.
            // A4, lost since day 0, delivered again now.
            let again = scan(
                "deliver",
                "A4",
                &Utc::now().to_rfc3339(),
                json!({"customer_code": "C1"}),
            );
            feed(&app, vec![vec![again]]).await;
            settled(&app, n + 1).await;
            assert!(counters(pool).await.unwrap() != counters_by_scan(pool, c).await.unwrap());
        }
    }
    // A rebuild in one pass (what follows a bulk import) counts the same.
    let before = counters(pool).await.unwrap();
    let last = Utc::now() + Duration::days(6000);
    let c = Classify {
        now: last,
        lost_before: last - Duration::days(90),
        today: cylwatch::rules::compliance::today_in_shanghai() + Duration::days(6000),
        due_soon_days: 30,
    };
    assert_eq!(cylwatch::store::stats::rebuild(pool, c).await.unwrap(), 20);
    assert_eq!(counters(pool).await.unwrap(), before);
    // The walk crossed every kind of change: due soon, overdue, life expired, lost.
    for class in [
        "due_soon",
        "inspection_overdue",
        "life_expired",
        "lost",
        "at_customer",
    ] {
        assert!(seen.contains(class), "{class} never counted: {seen:?}");
    }
}

/// A cylinder written while a refresh runs keeps its mark: a write whose transaction is still
/// open when a refresh takes away the cylinder's earlier mark is counted by the next refresh.
#[tokio::test]
async fn a_write_during_a_refresh_is_not_lost() {
    use cylwatch::store::stats::{counters, counters_by_scan, refresh, Classify};
    use sqlx::Connection;
    let mut config = crate::common::AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_STATS_EVERY_S", "3600"),
        ("CYLWATCH_STATS_REFRESH_EVERY_MS", "3600000"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = crate::common::spawn_app_with(config, crate::common::TestDb::new().await).await;
    registry(&app).await;
    let all = events();
    let n = i64::try_from(all.len()).unwrap();
    feed(&app, vec![all]).await;
    settled(&app, n).await;
    let pool = &app.db.pool;
    let c = || Classify::now(90, 30);
    refresh(pool, c()).await.unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM cylinders WHERE code = 'A1'")
        .fetch_one(pool)
        .await
        .unwrap();
    // A committed mark on A1, then a write to A1 left open.
    sqlx::query("UPDATE cylinders SET manufacturer = manufacturer WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    let mut open = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
    let mut tx = open.begin().await.unwrap();
    sqlx::query(
        "UPDATE cylinder_state SET custody = 'at_customer', place_kind = 'customer', \
         place_code = 'C1' WHERE cylinder_id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    // The refresh takes the committed mark away while the write is open.
    refresh(pool, c()).await.unwrap();
    tx.commit().await.unwrap();
    let c = c();
    refresh(pool, c).await.unwrap();
    assert_eq!(
        counters(pool).await.unwrap(),
        counters_by_scan(pool, c).await.unwrap()
    );
    let (_, table) = app.get_json("/api/v1/stats/inventory").await;
    let lpg = &table["rows"][0];
    assert_eq!(
        (&lpg["medium"], &lpg["in_transit"], &lpg["delivered"]),
        (&json!("LPG"), &json!(0), &json!(2)),
        "A1 moved from in transit to the customer: {table}"
    );
}
