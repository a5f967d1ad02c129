//! Custody and history: late and shuffled events land in their place, impossible transitions
//! are kept and flagged, BLE sightings load and unload, lost cylinders, the public view.

use crate::common::{archive, scan, spawn_app, station, TestApp};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shared::cylinder::ScanOp;
use uuid::Uuid;

async fn history(app: &TestApp, code: &str) -> Vec<Value> {
    let (status, page) = app
        .get_json(&format!("/api/v1/cylinders/{code}/history?limit=1000"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn wait_for_history(app: &TestApp, code: &str, rows: usize) {
    app.wait_until(|| async { history(app, code).await.len() == rows })
        .await;
}

/// The inspection body `INSP` (registered by the administrator) reports the inspections.
async fn add_inspection_station(app: &TestApp) {
    app.add_inspection_body().await;
}

/// Posts events as ENT1's device, inspections as the inspection body's.
async fn post(app: &TestApp, events: Vec<Value>) {
    for (status, body) in app.post_events_and_inspections(events).await {
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["rejected"], json!([]), "{body}");
    }
}

/// Seed 001 §4.1.10's 钢瓶历史跟踪 for cylinder 431325 (OCR slips of the source normalised:
/// 鴻/鸿山门店, 禁/蔡金锋, 港口/灌口三级站): time, operation, operator, place, target place,
/// tare (自重), gross (总重).
const SEED_431325: [(&str, &str, &str, &str, &str, &str, &str); 15] = [
    (
        "2011-08-10 12:17",
        "销售扫描",
        "",
        "鸿山门店",
        "鸡山门店",
        "",
        "",
    ),
    ("2011-08-10 15:15", "调拨扫描", "", "鸡山门店", "", "", ""),
    (
        "2011-08-11 09:02",
        "充装",
        "陈荣华",
        "灌口三级站",
        "灌口三级站",
        "17.34",
        "30.89",
    ),
    ("2011-08-11 14:21", "调拨扫描", "", "鸡山门店", "", "", ""),
    (
        "2011-08-12 12:10",
        "销售扫描",
        "",
        "鸿山门店",
        "四仙包子店",
        "",
        "",
    ),
    (
        "2011-08-29 17:29",
        "销售扫描",
        "",
        "鸡山门店",
        "玛山门店",
        "",
        "",
    ),
    (
        "2011-08-30 15:03",
        "充装",
        "蔡金锋",
        "灌口三级站",
        "灌口三级站",
        "16.55",
        "30.8",
    ),
    ("2011-08-31 08:18", "调拨扫描", "", "新垵门店", "", "", ""),
    (
        "2011-08-31 11:38",
        "销售扫描",
        "",
        "新垵门店",
        "加博麻辣烫",
        "",
        "",
    ),
    (
        "2011-09-11 11:36",
        "销售扫描",
        "",
        "新垵门店",
        "新垵门店",
        "",
        "",
    ),
    ("2011-09-11 13:18", "调拨扫描", "", "新垵门店", "", "", ""),
    (
        "2011-09-11 15:32",
        "充装",
        "余永辉",
        "灌口三级站",
        "灌口三级站",
        "16.56",
        "30.8",
    ),
    (
        "2011-09-21 08:51",
        "充装",
        "陈荣华",
        "灌口三级站",
        "灌口三级站",
        "16.75",
        "30.93",
    ),
    ("2011-09-22 08:11", "调拨扫描", "", "新垵门店", "", "", ""),
    (
        "2011-09-22 12:21",
        "销售扫描",
        "",
        "新垵门店",
        "邓业书",
        "",
        "",
    ),
];

#[tokio::test]
async fn the_seed_history_of_cylinder_431325_replays_into_the_same_timeline() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let stations = [
        ("HS", "鸿山门店"),
        ("JS", "鸡山门店"),
        ("GK", "灌口三级站"),
        ("XA", "新垵门店"),
        ("MS", "玛山门店"),
    ];
    for (i, (code, name)) in stations.iter().enumerate() {
        let lon = 113.70 + f64::from(u8::try_from(i).unwrap()) * 0.01;
        assert_eq!(
            app.post_json("/api/v1/stations", &station(code, "ENT1", name, lon, 34.80))
                .await
                .0,
            201
        );
    }
    for (code, name) in [
        ("SX", "四仙包子店"),
        ("JB", "加博麻辣烫"),
        ("DYS", "邓业书"),
    ] {
        let customer = json!({"code": code, "enterprise_code": "ENT1", "name": name, "kind": "household",
            "phone": "13900000000", "address": "金水区", "location": {"lon": 113.66, "lat": 34.76},
            "district_code": "410105"});
        assert_eq!(app.post_json("/api/v1/customers", &customer).await.0, 201);
    }
    for (no, name) in [("CRH", "陈荣华"), ("CJF", "蔡金锋"), ("YYH", "余永辉")] {
        let staff =
            json!({"staff_no": no, "enterprise_code": "ENT1", "name": name, "role": "filler"});
        assert_eq!(app.post_json("/api/v1/staff", &staff).await.0, 201);
    }
    let mut a = archive("431325", "E2000431325");
    a["station_code"] = json!("GK");
    a["manufactured_on"] = json!("2005-04-01");
    a["last_inspected_on"] = json!("2009-03-01");
    a["next_inspection_on"] = json!("2013-03-01");
    a["registered_on"] = json!("2005-05-01");
    assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);

    let station_of = |name: &str| stations.iter().find(|s| s.1 == name).map(|s| s.0);
    let staff_of = |name: &str| match name {
        "陈荣华" => "CRH",
        "蔡金锋" => "CJF",
        _ => "YYH",
    };
    let mut events: Vec<Value> = SEED_431325
        .iter()
        .map(|(time, op, who, place, target, tare, gross)| {
            let at = format!("{}T{}:00+08:00", &time[..10], &time[11..]);
            let extra = match *op {
                "充装" => json!({"op": "fill", "station_code": station_of(place), "staff_no": staff_of(who),
                                 "mass_before_kg": tare.parse::<f64>().unwrap(),
                                 "mass_after_kg": gross.parse::<f64>().unwrap()}),
                "调拨扫描" => json!({"op": "transfer", "station_code": station_of(place)}),
                _ => match station_of(target) {
                    Some(to) => json!({"op": "deliver", "station_code": station_of(place), "to_station_code": to}),
                    None => {
                        let customer = match *target { "四仙包子店" => "SX", "加博麻辣烫" => "JB", _ => "DYS" };
                        json!({"op": "deliver", "station_code": station_of(place), "customer_code": customer})
                    }
                },
            };
            let op = extra["op"].as_str().unwrap().to_owned();
            scan(&op, "431325", &at, extra)
        })
        .collect();
    // Devices upload late and out of order: send the newest first, in three batches.
    events.reverse();
    for chunk in events.chunks(5) {
        post(&app, chunk.to_vec()).await;
    }
    wait_for_history(&app, "431325", 15).await;
    let rows = history(&app, "431325").await;
    let mass = |v: &Value| v.as_f64().map(|m| m.to_string()).unwrap_or_default();
    for (row, expected) in rows.iter().zip(SEED_431325.iter()) {
        let at = row["occurred_at"].as_str().unwrap();
        let got = (
            format!("{} {}", &at[..10], &at[11..16]),
            ScanOp::from_name(row["op"].as_str().unwrap())
                .unwrap()
                .label_zh(),
            row["staff_name"].as_str().unwrap_or(""),
            row["place"].as_str().unwrap_or(""),
            row["target_place"].as_str().unwrap_or(""),
            mass(&row["mass_before_kg"]),
            mass(&row["mass_after_kg"]),
        );
        let want = (
            expected.0.to_owned(),
            expected.1,
            expected.2,
            expected.3,
            expected.4,
            expected.5.to_owned(),
            expected.6.to_owned(),
        );
        assert_eq!(got, want);
    }
    // Two sales from a customer without a collection between: real gaps, kept and flagged.
    let flagged: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r["flag"].is_string())
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(flagged, [6, 10], "{rows:#?}");
    let (_, view) = app.get_json("/api/v1/cylinders/431325").await;
    assert_eq!(view["custody"], "lost", "at a customer since 2011: lost");
    assert_eq!(view["custody_place"]["name"], "邓业书");
    assert_eq!(view["last_filled_at"], "2011-09-21T08:51:00+08:00");
    assert_eq!(view["flagged_events"], 2);
}

/// A random lifecycle of scans, checks and inspections (possible or not).
fn lifecycle(rng: &mut StdRng, code: &str, ids: &[Uuid]) -> Vec<Value> {
    let base = chrono::DateTime::parse_from_rfc3339("2026-03-01T08:00:00+08:00").unwrap();
    let mut minute = 0_i64;
    ids.iter()
        .map(|id| {
            // Some events share a minute: ties are broken by event id.
            minute += rng.random_range(0..3);
            let at = (base + chrono::Duration::minutes(minute)).to_rfc3339();
            let mut event = match rng.random_range(0..14) {
                0 => json!({"kind": "check", "stage": "pre", "cylinder_code": code, "station_code": "ST1",
                            "staff_no": "S1", "passed": rng.random_bool(0.8), "items": {"valve": "ok"}}),
                1 => json!({"kind": "inspection", "cylinder_code": code, "conclusion": "pass",
                            "inspected_on": "2026-03-01", "next_inspection_on": format!("2030-0{}-01", rng.random_range(1..10)),
                            "report_no": "R-1", "inspection_body": "郑州特检院", "inspector": "王工"}),
                n => {
                    let op = ["fill", "store_in", "store_out", "load", "unload", "deliver", "collect_empty",
                              "return_in", "transfer", "send_inspection", "inspect", "fill"][n - 2];
                    json!({"kind": "scan", "op": op, "cylinder_code": code, "station_code": "ST1",
                           "customer_code": if op == "deliver" || (op == "unload" && rng.random_bool(0.5)) { json!("C1") } else { Value::Null },
                           "vehicle_plate": "豫A00001", "staff_no": "S1"})
                }
            };
            event["id"] = json!(id);
            event["occurred_at"] = json!(at);
            event
        })
        .collect()
}

#[tokio::test]
async fn shuffled_events_give_the_same_history_and_state_as_in_order() {
    let app = spawn_app().await;
    app.seed_registry().await;
    add_inspection_station(&app).await;
    let seeds = 0..12_u64;
    let events_per_cylinder = 25;
    for seed in seeds.clone() {
        for variant in ["A", "B"] {
            let code = format!("P{seed}{variant}");
            assert_eq!(
                app.post_json(
                    "/api/v1/cylinders",
                    &archive(&code, &format!("TP{seed}{variant}"))
                )
                .await
                .0,
                201
            );
        }
        let mut rng = StdRng::seed_from_u64(seed);
        // The same events for A and B, with ids in the same relative order.
        let id = |variant: u128, i: usize| {
            Uuid::from_u128((u128::from(seed) << 64) | (variant << 32) | u128::try_from(i).unwrap())
        };
        let ids_a: Vec<Uuid> = (0..events_per_cylinder).map(|i| id(0, i)).collect();
        let ids_b: Vec<Uuid> = (0..events_per_cylinder).map(|i| id(1, i)).collect();
        let in_order = lifecycle(&mut rng.clone(), &format!("P{seed}A"), &ids_a);
        let mut shuffled = lifecycle(&mut rng.clone(), &format!("P{seed}B"), &ids_b);
        for event in &in_order {
            post(&app, vec![event.clone()]).await;
        }
        shuffled.shuffle(&mut rng);
        let mut rest = shuffled.as_slice();
        while !rest.is_empty() {
            let n = rng.random_range(1..=rest.len().min(6));
            post(&app, rest[..n].to_vec()).await;
            rest = &rest[n..];
        }
    }
    for seed in seeds {
        let (a, b) = (format!("P{seed}A"), format!("P{seed}B"));
        wait_for_history(&app, &a, events_per_cylinder).await;
        wait_for_history(&app, &b, events_per_cylinder).await;
        // The replay after the last arrival settles asynchronously: compare once both are quiet.
        let key = |rows: Vec<Value>| -> Vec<(Value, Value, Value, Value)> {
            rows.into_iter()
                .map(|r| {
                    (
                        r["occurred_at"].clone(),
                        r["op"].clone(),
                        r["custody_after"].clone(),
                        r["flag"].clone(),
                    )
                })
                .collect()
        };
        let state = |v: Value| {
            (
                v["custody"].clone(),
                v["custody_place"].clone(),
                v["last_filled_at"].clone(),
                v["flagged_events"].clone(),
                v["next_inspection_on"].clone(),
                v["compliance"].clone(),
            )
        };
        app.wait_until(|| async {
            key(history(&app, &a).await) == key(history(&app, &b).await)
                && state(app.get_json(&format!("/api/v1/cylinders/{a}")).await.1)
                    == state(app.get_json(&format!("/api/v1/cylinders/{b}")).await.1)
        })
        .await;
    }
}

#[tokio::test]
async fn ble_sightings_inspections_lost_and_the_public_view() {
    let app = spawn_app().await;
    app.seed_registry().await;
    add_inspection_station(&app).await;
    for (code, tag) in [("K1", "TK1"), ("K2", "TK2"), ("K3", "TK3")] {
        assert_eq!(
            app.post_json("/api/v1/cylinders", &archive(code, tag))
                .await
                .0,
            201
        );
    }
    // K1: filled, seen on a vehicle, then no longer seen while the vehicle is at customer C1.
    let gps = crate::common::gps("豫A00001", 113.66, 34.76, "2026-11-20T10:05:00+08:00");
    post(
        &app,
        vec![
            scan(
                "fill",
                "K1",
                "2026-11-20T09:00:00+08:00",
                json!({"station_code": "ST1", "staff_no": "S1"}),
            ),
            gps,
        ],
    )
    .await;
    wait_for_history(&app, "K1", 1).await;
    let ble = |tags: Value, at: &str| {
        json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": "豫A00001",
                                            "tag_ids": tags, "occurred_at": at})
    };
    post(
        &app,
        vec![ble(
            json!(["TK1", "UNKNOWN-TAG"]),
            "2026-11-20T09:30:00+08:00",
        )],
    )
    .await;
    wait_for_history(&app, "K1", 2).await;
    let (_, view) = app.get_json("/api/v1/cylinders/K1").await;
    assert_eq!(
        (
            view["custody"].as_str(),
            view["custody_place"]["code"].as_str()
        ),
        (Some("in_transit_delivery"), Some("豫A00001"))
    );
    // The same sighting again adds nothing; an empty one means it left, at C1.
    post(&app, vec![ble(json!(["TK1"]), "2026-11-20T09:40:00+08:00")]).await;
    post(&app, vec![ble(json!([]), "2026-11-20T10:10:00+08:00")]).await;
    wait_for_history(&app, "K1", 3).await;
    let (_, view) = app.get_json("/api/v1/cylinders/K1").await;
    assert_eq!(
        (
            view["custody"].as_str(),
            view["custody_place"]["code"].as_str()
        ),
        (Some("at_customer"), Some("C1")),
        "{view}"
    );
    let unknown: i64 =
        sqlx::query_scalar("SELECT count(*) FROM unresolved_refs WHERE ref_value = 'UNKNOWN-TAG'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(unknown, 1);

    // K2: delivered 100 days ago and not seen since → lost; seen again → not lost.
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(100)).to_rfc3339();
    post(
        &app,
        vec![scan(
            "deliver",
            "K2",
            &long_ago,
            json!({"customer_code": "C1"}),
        )],
    )
    .await;
    wait_for_history(&app, "K2", 1).await;
    assert_eq!(
        app.get_json("/api/v1/cylinders/K2").await.1["custody"],
        "lost"
    );
    post(
        &app,
        vec![scan(
            "collect_empty",
            "K2",
            &chrono::Utc::now().to_rfc3339(),
            json!({"vehicle_plate": "豫A00001"}),
        )],
    )
    .await;
    wait_for_history(&app, "K2", 2).await;
    assert_eq!(
        app.get_json("/api/v1/cylinders/K2").await.1["custody"],
        "in_transit_return"
    );

    // K3: an impossible transition is stored and flagged, never dropped.
    post(
        &app,
        vec![
            scan(
                "return_in",
                "K3",
                "2026-11-01T09:00:00+08:00",
                json!({"station_code": "ST1"}),
            ),
            scan(
                "deliver",
                "K3",
                "2026-11-01T10:00:00+08:00",
                json!({"customer_code": "C1", "station_code": "ST1"}),
            ),
        ],
    )
    .await;
    wait_for_history(&app, "K3", 2).await;
    let rows = history(&app, "K3").await;
    assert_eq!(rows[1]["flag"], "deliver from in_stock_empty");
    assert_eq!(rows[1]["custody_after"], "at_customer");

    // An inspection moves the next inspection date; a scrap conclusion scraps it for ever.
    let inspection = |conclusion: &str, next: Value, at: &str| {
        json!({"id": Uuid::new_v4(), "kind": "inspection",
        "cylinder_code": "K3", "conclusion": conclusion, "inspected_on": &at[..10], "next_inspection_on": next,
        "report_no": "R-9", "inspection_body": "郑州特检院", "inspector": "王工", "occurred_at": at})
    };
    post(
        &app,
        vec![inspection(
            "pass",
            json!("2031-11-01"),
            "2026-11-05T09:00:00+08:00",
        )],
    )
    .await;
    wait_for_history(&app, "K3", 3).await;
    assert_eq!(
        app.get_json("/api/v1/cylinders/K3").await.1["next_inspection_on"],
        "2031-11-01"
    );
    post(
        &app,
        vec![inspection(
            "scrap",
            Value::Null,
            "2026-11-06T09:00:00+08:00",
        )],
    )
    .await;
    wait_for_history(&app, "K3", 4).await;
    let (_, view) = app.get_json("/api/v1/cylinders/K3").await;
    assert_eq!(
        (view["custody"].as_str(), view["compliance"].as_str()),
        (Some("scrapped"), Some("scrapped"))
    );

    // The public view by QR payload: red, 报废, no personal data.
    let (status, public) = app.get_json("/api/v1/public/cylinders/410100K3").await;
    assert_eq!(status, 200, "{public}");
    assert_eq!(
        (public["light"].as_str(), public["label_zh"].as_str()),
        (Some("red"), Some("报废"))
    );
    assert_eq!(public["owner"], "ENT1 燃气有限公司");
    let text = public.to_string();
    for private in [
        "四仙包子店",
        "13800000000",
        "陈荣华",
        "S1",
        "豫A00001",
        "C1",
    ] {
        assert!(
            !text.contains(&format!("\"{private}\"")),
            "{private} leaked: {text}"
        );
    }
    let (_, public) = app.get_json("/api/v1/public/cylinders/K1").await;
    assert_eq!(
        (public["light"].as_str(), public["label_zh"].as_str()),
        (Some("green"), Some("合格"))
    );
    assert_eq!(
        public["history"][0]["op"], "fill",
        "scans only, newest first: {public}"
    );
    let (status, _) = app.get_json("/api/v1/public/cylinders/410100NOPE").await;
    assert_eq!(status, 404);
}
