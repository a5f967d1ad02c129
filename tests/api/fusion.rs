//! The live fusion pipeline's stages, through the public API: GPS plausibility filters.

use crate::common::{spawn_app_with, AppConfig, TestApp, TestDb};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn fix(plate: &str, lon: f64, lat: f64, at: chrono::DateTime<Utc>) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "gps", "occurred_at": at.to_rfc3339(),
           "vehicle_plate": plate, "lon": lon, "lat": lat})
}

async fn position(app: &TestApp, plate: &str) -> Option<(f64, f64)> {
    sqlx::query_as("SELECT ST_X(location), ST_Y(location) FROM vehicle_positions WHERE plate = $1")
        .bind(plate)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap()
}

/// The alerts of one kind (as the administrator sees them).
async fn alerts_of(app: &TestApp, kind: &str) -> Vec<Value> {
    app.get_json(&format!("/api/v1/alerts?kind={kind}")).await.1["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn filtered(app: &TestApp) -> Vec<(Uuid, String, Option<f64>)> {
    sqlx::query_as(
        "SELECT event_id, reason, implied_speed_kmh FROM filtered_fixes ORDER BY occurred_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// Future and far-past fixes, impossible jumps and duplicates are kept with their reason and
/// never move the vehicle; plausible fixes do.
#[tokio::test]
async fn implausible_fixes_are_kept_with_their_reason_not_applied() {
    let mut config = AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_GPS_FILTERS", "true"),
        ("CYLWATCH_GPS_MAX_SPEED_KMH", "180.0"),
        ("CYLWATCH_GPS_MAX_AGE_H", "24"),
        ("CYLWATCH_GPS_MAX_FUTURE_S", "120"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = spawn_app_with(config, TestDb::new().await).await;
    let plate = "豫A50001";
    let t0 = Utc::now() - Duration::minutes(10);
    let a = fix(plate, 113.60, 34.70, t0);
    let b = fix(plate, 113.60, 34.71, t0 + Duration::seconds(60)); // 67 km/h from a
    let jump = fix(plate, 113.70, 34.71, t0 + Duration::seconds(70)); // 9 km in 10 s
    let future = fix(plate, 113.60, 34.71, Utc::now() + Duration::hours(1));
    let old = fix(plate, 113.60, 34.71, Utc::now() - Duration::days(3));
    let g = fix(plate, 113.60, 34.715, t0 + Duration::seconds(120)); // 33 km/h from b
                                                                     // One at a time: a fix is judged against the newest applied one when it arrives.
    let steps = [
        (&a, true, 0),
        (&b, true, 0),
        (&jump, false, 1),
        (&future, false, 2),
        (&old, false, 3),
        (&g, true, 3),
    ];
    for (event, applies, filtered_after) in steps {
        let (status, body) = app.post_events(&json!({"events": [event]})).await;
        assert_eq!((status, &body["accepted"]), (202, &json!(1)), "{body}");
        let at = (
            event["lon"].as_f64().unwrap(),
            event["lat"].as_f64().unwrap(),
        );
        app.wait_until(|| async {
            filtered(&app).await.len() == filtered_after
                && (!applies || position(&app, plate).await == Some(at))
        })
        .await;
    }
    let kept = filtered(&app).await;
    let id = |v: &Value| Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        kept.iter()
            .map(|(i, r, _)| (*i, r.as_str()))
            .collect::<Vec<_>>(),
        [
            (id(&old), "far_past"),
            (id(&jump), "jump"),
            (id(&future), "future")
        ]
    );
    let speed = kept[1].2.unwrap();
    assert!(
        (3000.0..3400.0).contains(&speed),
        "9 km in 10 s: {speed} km/h"
    );

    // The same time and place again under another id: a duplicate.
    let again = json!({"events": [fix(plate, 113.60, 34.715, t0 + Duration::seconds(120))]});
    let dup_id = Uuid::parse_str(again["events"][0]["id"].as_str().unwrap()).unwrap();
    app.post_events(&again).await;
    app.wait_until(|| async { filtered(&app).await.len() == 4 })
        .await;
    assert!(filtered(&app)
        .await
        .contains(&(dup_id, "duplicate".into(), None)));
    // Every fix stays in the traceability record.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE vehicle_plate = $1")
        .bind(plate)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(events, 7);
    assert_eq!(position(&app, plate).await, Some((113.60, 34.715)));

    // A vehicle whose first fix is wrong (50 km off): the real track's first fix is a jump,
    // the second agrees with it and moves the vehicle; the track goes on from there.
    let other = "豫A50002";
    let steps = [
        (fix(other, 114.1, 35.1, t0), 4, Some((114.1, 35.1))),
        (
            fix(other, 113.60, 34.70, t0 + Duration::seconds(30)),
            5,
            Some((114.1, 35.1)),
        ),
        (
            fix(other, 113.60, 34.701, t0 + Duration::seconds(40)),
            5,
            Some((113.60, 34.701)),
        ),
        (
            fix(other, 113.60, 34.702, t0 + Duration::seconds(50)),
            5,
            Some((113.60, 34.702)),
        ),
    ];
    for (event, filtered_after, at) in steps {
        app.post_events(&json!({"events": [event]})).await;
        app.wait_until(|| async {
            filtered(&app).await.len() == filtered_after && position(&app, other).await == at
        })
        .await;
    }
}

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                                               [x0, y0 + size], [x0, y0]]]})
}

async fn transitions(app: &TestApp, plate: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT t.kind, coalesce(g.name, t.fence) FROM fence_transitions t \
         LEFT JOIN geofences g ON t.fence = 'geofence:' || g.id \
         WHERE t.plate = $1 ORDER BY t.occurred_at, t.kind",
    )
    .bind(plate)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// Fences from the registry (and ones added while the pipeline runs) give enter, dwell, exit
/// and cross transitions by diff with the vehicle's previous position; leaving its corridor
/// and entering or crossing a restricted zone raise alerts, counted on one open alert.
#[tokio::test]
async fn fences_give_transitions_and_restricted_zones_and_corridors_raise_alerts() {
    let mut config = AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_FENCE_RELOAD_S", "1"),
        ("CYLWATCH_FENCE_DWELL_S", "60"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = spawn_app_with(config, TestDb::new().await).await;
    let plate = "豫A60001";
    let corridor = json!({"name": "配送走廊", "kind": "corridor", "geometry": square(113.60, 34.70, 0.02),
                          "vehicle_plates": [plate]});
    let (status, body) = app.post_json("/api/v1/geofences", &corridor).await;
    assert_eq!(status, 201, "{body}");
    let t0 = Utc::now() - Duration::minutes(30);
    let post_at = |lon: f64, lat: f64, s: i64| {
        let event = fix(plate, lon, lat, t0 + Duration::seconds(s));
        let app = &app;
        async move {
            let (status, body) = app.post_events(&json!({"events": [event]})).await;
            assert_eq!(status, 202, "{body}");
            app.wait_until(|| async { position(app, plate).await == Some((lon, lat)) })
                .await;
        }
    };
    post_at(113.61, 34.71, 0).await; // into the corridor
    post_at(113.61, 34.715, 30).await; // still inside
    post_at(113.612, 34.715, 90).await; // inside for 90 s: dwell
    post_at(113.65, 34.71, 120).await; // out of the corridor
                                       // Wait for the alert (the positions and the fence stage commit together).
    app.wait_until(|| async {
        app.get_json("/api/v1/alerts?kind=corridor_exit").await.1["items"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    })
    .await;
    let exit = app.get_json("/api/v1/alerts?kind=corridor_exit").await.1;
    assert_eq!(
        exit["items"][0]["subject"],
        json!({"type": "vehicle", "id": plate}),
        "{exit}"
    );
    assert_eq!(exit["items"][0]["place_name"], "配送走廊");
    assert_eq!(exit["items"][0]["evidence"]["transition"], "exit");

    // A restricted zone drawn now is in the index within a second.
    let zone = json!({"name": "危化品禁行区", "kind": "restricted", "geometry": square(113.70, 34.80, 0.01)});
    assert_eq!(app.post_json("/api/v1/geofences", &zone).await.0, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    post_at(113.705, 34.79, 150).await; // south of the zone
    post_at(113.705, 34.82, 160).await; // north of it: passed through
    post_at(113.705, 34.805, 170).await; // inside
    app.wait_until(|| async { transitions(&app, plate).await.len() == 5 })
        .await;
    assert_eq!(
        transitions(&app, plate).await,
        [
            ("enter".to_owned(), "配送走廊".to_owned()),
            ("dwell".to_owned(), "配送走廊".to_owned()),
            ("exit".to_owned(), "配送走廊".to_owned()),
            ("cross".to_owned(), "危化品禁行区".to_owned()),
            ("enter".to_owned(), "危化品禁行区".to_owned()),
        ]
    );
    app.wait_until(|| async {
        app.get_json("/api/v1/alerts?kind=restricted_zone").await.1["items"][0]["count"] == 2
    })
    .await;
    let (_, zone_alerts) = app.get_json("/api/v1/alerts?kind=restricted_zone").await;
    let items = zone_alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{zone_alerts}");
    assert_eq!(
        (&items[0]["count"], &items[0]["severity"]),
        (&json!(2), &json!("high"))
    );
    assert_eq!(items[0]["evidence"]["transition"], "enter");
    // Another fix at the same time and place: no transition.
    let (status, body) = app
        .post_events(&json!({"events": [fix(plate, 113.705, 34.805, t0 + Duration::seconds(170))]}))
        .await;
    assert_eq!(status, 202, "{body}");
    post_at(113.75, 34.85, 200).await; // out of the zone: only its exit follows
    app.wait_until(|| async { transitions(&app, plate).await.len() >= 6 })
        .await;
    let all = transitions(&app, plate).await;
    assert_eq!(all.len(), 6, "{all:?}");
    assert_eq!(all[5], ("exit".to_owned(), "危化品禁行区".to_owned()));
}

/// The scenario: a scrapped cylinder's tag seen on a vehicle (critical), an overdue
/// cylinder on it, an unknown tag, then the cylinders leaving the vehicle away from every
/// station and customer — each an alert, through the public API and the live feed.
#[tokio::test]
async fn unfit_cylinders_unknown_tags_and_unloading_nowhere_raise_alerts() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    app.add_inspection_body().await;
    assert_eq!(
        app.post_json("/api/v1/cylinders", &crate::common::archive("Z1", "TZ1"))
            .await
            .0,
        201
    );
    let mut overdue = crate::common::archive("Z2", "TZ2");
    overdue["last_inspected_on"] = json!("2021-03-01");
    overdue["next_inspection_on"] = json!("2025-03-01");
    let (status, body) = app.post_json("/api/v1/cylinders", &overdue).await;
    assert_eq!(status, 201, "{body}");
    let scrap = json!({"id": Uuid::new_v4(), "kind": "inspection", "cylinder_code": "Z1",
        "conclusion": "scrap", "inspected_on": "2026-11-06", "next_inspection_on": null,
        "report_no": "R-1", "inspection_body": "郑州特检院", "inspector": "王工",
        "occurred_at": "2026-11-06T09:00:00+08:00"});
    let plate = "豫A70001";
    let ble = |tags: Value, at: &str| {
        json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": plate, "tag_ids": tags,
               "occurred_at": at})
    };
    let mut ws = crate::live::connect(&app).await;
    crate::live::next_json(&mut ws).await;
    // Far from every station and customer (ST1 113.62/34.75, C1 113.66/34.76).
    let events = vec![
        scrap,
        crate::common::gps(plate, 113.70, 34.90, "2026-11-20T09:59:00+08:00"),
        ble(
            json!(["TZ1", "TZ2", "GHOST-TAG"]),
            "2026-11-20T10:00:00+08:00",
        ),
    ];
    let answers = app.post_events_and_inspections(events).await;
    let accepted: Vec<_> = answers.iter().map(|(s, b)| (*s, &b["accepted"])).collect();
    assert_eq!(
        accepted,
        [(202, &json!(1)), (202, &json!(2))],
        "{answers:?}"
    );
    let pushed = crate::live::until(&mut ws, |m| {
        m["type"] == "alert" && m["kind"] == "cylinder_scrapped_in_use"
    })
    .await;
    assert_eq!(
        (&pushed["severity"], &pushed["subject"]),
        (&json!("critical"), &json!({"type": "cylinder", "id": "Z1"}))
    );
    assert_eq!(pushed["evidence"]["vehicle_plate"], plate);
    let one = |kind: &'static str| {
        let app = &app;
        async move {
            app.wait_until(|| async { alerts_of(app, kind).await.len() == 1 })
                .await;
            alerts_of(app, kind).await.remove(0)
        }
    };
    let overdue = one("cylinder_overdue").await;
    assert_eq!(overdue["subject"], json!({"type": "cylinder", "id": "Z2"}));
    assert_eq!(overdue["evidence"]["next_inspection_on"], "2025-03-01");
    let ghost = one("illegal_tag").await;
    assert_eq!(ghost["subject"], json!({"type": "tag", "id": "GHOST-TAG"}));
    assert_eq!(ghost["enterprise_code"], "ENT1");

    // The vehicle, still far from every site, no longer carries them.
    let (status, body) = app
        .post_events(&json!({"events": [ble(json!([]), "2026-11-20T10:20:00+08:00")]}))
        .await;
    assert_eq!(status, 202, "{body}");
    let unloaded = one("unloaded_unknown_place").await;
    assert_eq!(unloaded["subject"], json!({"type": "vehicle", "id": plate}));
    let mut codes: Vec<&str> = unloaded["evidence"]["cylinders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["Z1", "Z2"]);
    assert_eq!(unloaded["place"], json!({"lon": 113.70, "lat": 34.90}));
    // A sound cylinder in circulation raises nothing; the scrapped one only once.
    assert_eq!(
        app.get_json("/api/v1/alerts?subject_id=Z1").await.1["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// A restaurant holding more full cylinders than its limit, then back under it; N2O delivered
/// to a consignee without a licence.
#[tokio::test]
async fn overweight_stock_and_controlled_media_to_unlicensed_consignees() {
    use crate::common::{archive, scan};
    let app = crate::common::spawn_app().await;
    app.seed_registry().await; // C1: a restaurant of ENT1, full_stock_limit 2, no licence
    for (code, medium) in [("R1", "LPG"), ("R2", "LPG"), ("R3", "LPG"), ("N1", "N2O")] {
        let mut a = archive(code, &format!("T{code}"));
        a["medium"] = json!(medium);
        let (status, body) = app.post_json("/api/v1/cylinders", &a).await;
        assert_eq!(status, 201, "{body}");
    }
    let deliver = |code: &str, at: &str| scan("deliver", code, at, json!({"customer_code": "C1"}));
    let mut ws = crate::live::connect(&app).await;
    crate::live::next_json(&mut ws).await;
    let events = json!({"events": [
        deliver("R1", "2026-11-20T09:00:00+08:00"),
        deliver("R2", "2026-11-20T09:01:00+08:00"),
    ]});
    assert_eq!(app.post_events(&events).await.0, 202);
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/R2").await.1["custody"] == "at_customer"
    })
    .await;
    assert!(
        alerts_of(&app, "overweight_stock").await.is_empty(),
        "2 of 2 is within the limit"
    );
    assert_eq!(
        app.post_events(&json!({"events": [deliver("R3", "2026-11-20T09:02:00+08:00")]}))
            .await
            .0,
        202
    );
    app.wait_until(|| async { alerts_of(&app, "overweight_stock").await.len() == 1 })
        .await;
    // The live feed carries the cylinders' new custody and the site's stock.
    let cylinder =
        crate::live::until(&mut ws, |m| m["type"] == "cylinder" && m["code"] == "R3").await;
    assert_eq!(
        (
            &cylinder["custody"],
            &cylinder["place_code"],
            &cylinder["enterprise_code"]
        ),
        (&json!("at_customer"), &json!("C1"), &json!("ENT1"))
    );
    let site = crate::live::until(&mut ws, |m| m["type"] == "site" && m["full"] == 3).await;
    assert_eq!(
        (&site["kind"], &site["code"], &site["limit"]),
        (&json!("customer"), &json!("C1"), &json!(2))
    );
    let over = alerts_of(&app, "overweight_stock").await.remove(0);
    assert_eq!(over["subject"], json!({"type": "customer", "id": "C1"}));
    assert_eq!(
        (&over["evidence"]["full"], &over["evidence"]["limit"]),
        (&json!(3), &json!(2))
    );
    assert!(over["condition_ended_at"].is_null());
    // One empty collected: back to 2, the condition ends; the alert stays for the officer.
    let collect = scan(
        "collect_empty",
        "R1",
        "2026-11-20T10:00:00+08:00",
        json!({"customer_code": "C1"}),
    );
    assert_eq!(app.post_events(&json!({"events": [collect]})).await.0, 202);
    app.wait_until(|| async {
        alerts_of(&app, "overweight_stock").await[0]["condition_ended_at"].is_string()
    })
    .await;
    assert_eq!(
        alerts_of(&app, "overweight_stock").await[0]["status"],
        "open"
    );

    // N2O to a restaurant without a licence: critical, on the consignee.
    assert_eq!(
        app.post_events(&json!({"events": [deliver("N1", "2026-11-20T11:00:00+08:00")]}))
            .await
            .0,
        202
    );
    app.wait_until(|| async { alerts_of(&app, "controlled_medium_unlicensed").await.len() == 1 })
        .await;
    let n2o = alerts_of(&app, "controlled_medium_unlicensed")
        .await
        .remove(0);
    assert_eq!(
        (
            &n2o["severity"],
            &n2o["subject"],
            &n2o["evidence"]["cylinder_code"]
        ),
        (
            &json!("critical"),
            &json!({"type": "customer", "id": "C1"}),
            &json!("N1")
        )
    );
    // LPG deliveries to the same customer never raised it.
    assert_eq!(n2o["count"], 1);
}

/// A delivery handed over a kilometre from the customer's registered place, signed by a driver
/// without a certificate: `delivery_off_site` on the customer, `staff_uncertified` on the
/// driver. The same at the door by a certified filler raises nothing more.
#[tokio::test]
async fn off_site_handovers_and_uncertified_staff_raise_alerts() {
    use crate::common::{archive, scan};
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    let driver =
        json!({"staff_no": "S2", "enterprise_code": "ENT1", "name": "王司机", "role": "driver"});
    assert_eq!(app.post_json("/api/v1/staff", &driver).await.0, 201);
    for code in ["D1", "D2"] {
        assert_eq!(
            app.post_json("/api/v1/cylinders", &archive(code, &format!("T{code}")))
                .await
                .0,
            201
        );
    }
    let handover = |code: &str, staff: &str, lon: f64, at: &str| {
        scan(
            "deliver",
            code,
            at,
            json!({"customer_code": "C1", "staff_no": staff,
                                          "lon": lon, "lat": 34.76}),
        )
    };
    // C1 is at 113.66, 34.76; 0.01° of longitude there is about 915 m.
    let events = json!({"events": [handover("D1", "S2", 113.67, "2026-11-20T09:00:00+08:00")]});
    let (status, body) = app.post_events(&events).await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        alerts_of(&app, "delivery_off_site").await.len() == 1
            && alerts_of(&app, "staff_uncertified").await.len() == 1
    })
    .await;
    let off = alerts_of(&app, "delivery_off_site").await.remove(0);
    assert_eq!(off["subject"], json!({"type": "customer", "id": "C1"}));
    let distance = off["evidence"]["distance_m"].as_f64().unwrap();
    assert!((880.0..950.0).contains(&distance), "{off}");
    let staff = alerts_of(&app, "staff_uncertified").await.remove(0);
    assert_eq!(
        (
            &staff["subject"],
            &staff["place_name"],
            &staff["evidence"]["registered"]
        ),
        (
            &json!({"type": "staff", "id": "ENT1/S2"}),
            &json!("王司机"),
            &json!(true)
        )
    );
    // At the door (about 9 m away), by S1 (certified to 2030): nothing new.
    let events = json!({"events": [handover("D2", "S1", 113.6601, "2026-11-20T09:30:00+08:00")]});
    assert_eq!(app.post_events(&events).await.0, 202);
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/D2").await.1["custody"] == "at_customer"
    })
    .await;
    assert_eq!(alerts_of(&app, "delivery_off_site").await[0]["count"], 1);
    assert_eq!(alerts_of(&app, "staff_uncertified").await.len(), 1);
    assert_eq!(alerts_of(&app, "staff_uncertified").await[0]["count"], 1);
}

/// The lookout: a device that sent events and then nothing for `device_silent_s` raises
/// `device_silent` (once per silence; sending again ends the condition); a cylinder at a
/// customer, not seen for `loss_after_days`, raises `cylinder_lost`.
#[tokio::test]
async fn silent_devices_and_lost_cylinders_are_found_by_the_lookout() {
    let mut config = AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_LOOKOUT_EVERY_S", "1"),
        ("CYLWATCH_DEVICE_SILENT_S", "2"),
        ("CYLWATCH_LOSS_AFTER_DAYS", "30"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = spawn_app_with(config, TestDb::new().await).await;
    app.seed_registry().await;
    assert_eq!(
        app.post_json("/api/v1/cylinders", &crate::common::archive("L1", "TL1"))
            .await
            .0,
        201
    );
    sqlx::query("INSERT INTO alert_sightings (sighting, counted_at) VALUES ('old', now() - interval '8 days')")
        .execute(&app.db.pool)
        .await
        .unwrap();
    // Delivered to C1 forty days ago, never seen since.
    let long_ago = (Utc::now() - Duration::days(40)).to_rfc3339();
    let deliver = crate::common::scan("deliver", "L1", &long_ago, json!({"customer_code": "C1"}));
    assert_eq!(app.post_events(&json!({"events": [deliver]})).await.0, 202);
    let first_post = std::time::Instant::now();
    app.wait_until(|| async { alerts_of(&app, "cylinder_lost").await.len() == 1 })
        .await;
    let lost = alerts_of(&app, "cylinder_lost").await.remove(0);
    assert_eq!(lost["subject"], json!({"type": "cylinder", "id": "L1"}));
    assert_eq!(lost["evidence"]["custody"], "at_customer");
    // The device that sent it has been silent since: one alert, however many passes.
    app.wait_until(|| async { alerts_of(&app, "device_silent").await.len() == 1 })
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let silent = alerts_of(&app, "device_silent").await.remove(0);
    assert_eq!(
        (&silent["subject"]["type"], &silent["count"]),
        (&json!("device"), &json!(1))
    );
    assert!(silent["condition_ended_at"].is_null());
    assert_eq!(
        lost["count"],
        alerts_of(&app, "cylinder_lost").await[0]["count"]
    );
    // It speaks again (ingest notes a device at most every 10 s): the condition ended, the
    // alert stays open for the officer.
    let wait = std::time::Duration::from_secs(11).saturating_sub(first_post.elapsed());
    tokio::time::sleep(wait).await;
    let fix = fix("豫A80001", 113.6, 34.7, Utc::now());
    assert_eq!(app.post_events(&json!({"events": [fix]})).await.0, 202);
    app.wait_until(|| async {
        alerts_of(&app, "device_silent").await[0]["condition_ended_at"].is_string()
    })
    .await;
    assert_eq!(alerts_of(&app, "device_silent").await[0]["status"], "open");
    // Sightings older than a week are forgotten, the recent ones kept.
    let sightings: Vec<String> = sqlx::query_scalar("SELECT sighting FROM alert_sightings")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert!(!sightings.contains(&"old".to_owned()), "{sightings:?}");
    assert!(
        sightings.iter().any(|s| s.starts_with("lost:L1:")),
        "{sightings:?}"
    );
}

/// The scenario: a loaded vehicle standing 20 minutes outside every known site raises
/// `suspicious_stop` once; the same at a station does not.
#[tokio::test]
async fn a_loaded_vehicle_stopping_twenty_minutes_outside_sites_is_suspicious() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    for (code, tag) in [("P1", "TP1"), ("P3", "TP3")] {
        assert_eq!(
            app.post_json("/api/v1/cylinders", &crate::common::archive(code, tag))
                .await
                .0,
            201
        );
    }
    let t0 = Utc::now() - Duration::hours(2);
    let at = |m: i64| (t0 + Duration::minutes(m)).to_rfc3339();
    for (plate, tags) in [
        ("豫A90001", json!(["TP1"])),
        ("豫A90002", json!([])),
        ("豫A90003", json!(["TP3"])),
    ] {
        let ble = json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": plate,
                         "tag_ids": tags, "occurred_at": at(0)});
        assert_eq!(app.post_events(&json!({"events": [ble]})).await.0, 202);
    }
    app.wait_until(|| async {
        let loaded: Option<i32> = sqlx::query_scalar(
            "SELECT cardinality(tag_ids) FROM vehicle_tags WHERE plate = '豫A90001'",
        )
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        loaded == Some(1)
    })
    .await;
    // 豫A90001 carries P1 and stands in a field (far from ST1 and C1); 豫A90002 is empty.
    let mut fixes = Vec::new();
    for m in [1, 8, 15, 21, 30] {
        for plate in ["豫A90001", "豫A90002"] {
            fixes.push(crate::common::gps(plate, 113.80, 34.95, &at(m)));
        }
    }
    // 豫A90003 carries P3 and rests 22 minutes at its filling station ST1 (120 m from its
    // centre, inside its 150 m circle), then drives off: its first fix outside the circle is
    // still within the stop's 100 m, and the stop was at a site — not suspicious.
    for m in [1, 8, 15, 21] {
        fixes.push(crate::common::gps("豫A90003", 113.62131, 34.75, &at(m)));
    }
    fixes.push(crate::common::gps("豫A90003", 113.62197, 34.75, &at(23)));
    for fix in fixes {
        assert_eq!(app.post_events(&json!({"events": [fix]})).await.0, 202);
    }
    app.wait_until(|| async {
        app.get_json("/api/v1/alerts?kind=suspicious_stop").await.1["items"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    })
    .await;
    // Both vehicles' last fixes processed (the empty one's too).
    app.wait_until(|| async {
        let stop: Option<chrono::DateTime<Utc>> = sqlx::query_scalar(
            "SELECT max(occurred_at) FROM vehicle_positions WHERE plate = '豫A90002'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        stop.is_some_and(|s| s > t0 + Duration::minutes(29))
    })
    .await;
    app.wait_until(|| async {
        let left: Option<chrono::DateTime<Utc>> = sqlx::query_scalar(
            "SELECT max(occurred_at) FROM vehicle_positions WHERE plate = '豫A90003'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        left.is_some_and(|s| s > t0 + Duration::minutes(22))
    })
    .await;
    // P1 rides 豫A90001 and is where it is.
    let (_, view) = app.get_json("/api/v1/cylinders/P1").await;
    assert_eq!(
        view["position"],
        json!({"lon": 113.80, "lat": 34.95}),
        "{view}"
    );
    let (_, page) = app.get_json("/api/v1/alerts?kind=suspicious_stop").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(
        items[0]["subject"],
        json!({"type": "vehicle", "id": "豫A90001"})
    );
    assert_eq!(items[0]["count"], 1, "once per stop");
    assert_eq!(items[0]["evidence"]["minutes"], 20);
    assert_eq!(items[0]["place"], json!({"lon": 113.80, "lat": 34.95}));
}
