//! Registry edits with history (issue 21 item 1): each record read with its version (and
//! ETag), changed by `PATCH` at the version read, every change kept as a revision; licences
//! and certificates written by regulators only; scoped as the reads.

use crate::access::new_user;
use crate::common::{enterprise, spawn_app, spawn_app_with, AppConfig, TestApp, TestDb};
use crate::filling::{ask, check, cylinder, rules};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// A `PATCH` as `token` (the admin's when `None`) with `If-Match` when given: status, ETag,
/// answer.
pub(crate) async fn patch(
    app: &TestApp,
    path: &str,
    if_match: Option<&str>,
    body: &Value,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .patch(app.url(path))
        .bearer_auth(token.unwrap_or(&app.admin_token))
        .json(body);
    if let Some(version) = if_match {
        request = request.header("If-Match", version);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, response.json().await.unwrap_or(Value::Null))
}

/// A `GET` as `token` (the admin's when `None`): status, ETag, answer.
pub(crate) async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token.unwrap_or(&app.admin_token))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, etag, response.json().await.unwrap_or(Value::Null))
}

/// The stored row, to compare before and after a refused change.
pub(crate) async fn row(app: &TestApp, table: &str, key: &str, value: &str) -> Value {
    sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) - 'created_at' FROM {table} t WHERE {key} = $1"
    ))
    .bind(value)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_licence_renewed_by_patch_lets_the_gun_fill_and_the_revisions_say_who_changed_what() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "OK", "ST1", json!({})).await;
    // Checked before filling (R10): only the licence can refuse it.
    let checked = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let (status, body) = app
        .post_events(&json!({"events": [check("OK", "pre", true, &checked)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    app.wait_until(|| async {
        app.authorize(&controller, ask("OK", "ST1", "LPG")).await.1["allowed"] == true
    })
    .await;

    let (status, etag, view) = get(&app, "/api/v1/enterprises/ENT1", None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (&view["version"], &view["status"]),
        (&json!(1), &json!("active"))
    );
    assert_eq!(etag.as_deref(), Some("\"1\""));

    // The licence lapses: R01 refuses.
    let lapse = json!({"filling_licence_expires": "2020-01-01"});
    let (status, etag, view) = patch(
        &app,
        "/api/v1/enterprises/ENT1",
        Some("\"1\""),
        &lapse,
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["version"], 2);
    assert_eq!(view["filling_licence_expires"], "2020-01-01");
    assert_eq!(view["counts"]["stations"], 2, "{view}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(rules(&answer), ["R01"], "{answer}");

    // Renewed by the regulator: the next question is allowed.
    let renew = json!({"filling_licence_no": "豫充-002", "filling_licence_expires": "2031-12-31"});
    let (status, _, view) = patch(&app, "/api/v1/enterprises/ENT1", Some("2"), &renew, None).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["version"], 3);
    let (_, answer) = app.authorize(&controller, ask("OK", "ST1", "LPG")).await;
    assert_eq!(answer["allowed"], true, "{answer}");

    let (status, _, revisions) = get(&app, "/api/v1/enterprises/ENT1/revisions", None).await;
    assert_eq!(status, 200, "{revisions}");
    let list = revisions.as_array().unwrap();
    assert_eq!(list.len(), 2, "{revisions}");
    assert_eq!(list[0]["version"], 2);
    assert_eq!(list[0]["by"], "admin");
    assert!(list[0]["at"].as_str().is_some(), "{revisions}");
    assert_eq!(
        list[0]["changes"],
        json!({"filling_licence_expires": ["2030-12-31", "2020-01-01"]})
    );
    assert_eq!(
        list[1]["changes"],
        json!({"filling_licence_no": ["豫充-001", "豫充-002"],
               "filling_licence_expires": ["2020-01-01", "2031-12-31"]})
    );
    // The change is audited with the fields it changed.
    app.wait_until(|| async {
        let details: Option<Value> = sqlx::query_scalar(
            "SELECT details FROM audit_log WHERE details ? 'fields' AND status = 200 \
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&app.db.pool)
        .await
        .ok()
        .flatten();
        details.is_some_and(|d| d["fields"].as_array().is_some_and(|f| f.len() == 2))
    })
    .await;
}

#[tokio::test]
async fn a_patch_needs_the_version_read_and_of_two_at_once_exactly_one_wins() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let before = row(&app, "stations", "code", "ST1").await;
    let rename = json!({"name": "新名"});
    // No If-Match: 428, nothing changed.
    let (status, _, body) = patch(&app, "/api/v1/stations/ST1", None, &rename, None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (428, &json!("version_required")),
        "{body}"
    );
    // Unknown and immutable fields: 400 naming the field, nothing changed.
    let (status, _, body) = patch(
        &app,
        "/api/v1/stations/ST1",
        Some("1"),
        &json!({"colour": "red"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["field"]),
        (400, &json!("unknown_field"), &json!("colour")),
        "{body}"
    );
    for field in ["code", "enterprise_code", "kind"] {
        let (status, _, body) = patch(
            &app,
            "/api/v1/stations/ST1",
            Some("1"),
            &json!({field: "X"}),
            None,
        )
        .await;
        assert_eq!(
            (status, &body["error"]["field"]),
            (400, &json!(field)),
            "{body}"
        );
    }
    // Validation as on create: a radius too large, a point outside every district.
    let (status, _, body) = patch(
        &app,
        "/api/v1/stations/ST1",
        Some("1"),
        &json!({"radius_m": 50000}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("radius_m")),
        "{body}"
    );
    let far = json!({"location": {"lon": 100.0, "lat": 20.0}});
    let (status, _, body) = patch(&app, "/api/v1/stations/ST1", Some("1"), &far, None).await;
    assert_eq!(
        body["error"]["code"], "district_mismatch",
        "{status} {body}"
    );
    assert_eq!(row(&app, "stations", "code", "ST1").await, before);

    // Two at once with the same version: one 200, the other 412.
    let (first, second) = (json!({"name": "甲"}), json!({"name": "乙"}));
    let a = patch(&app, "/api/v1/stations/ST1", Some("1"), &first, None);
    let b = patch(&app, "/api/v1/stations/ST1", Some("1"), &second, None);
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{} {}", a.2, b.2);
    let (status, etag, view) = get(&app, "/api/v1/stations/ST1", None).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")), "{view}");
    let winner = if a.0 == 200 { a.2 } else { b.2 };
    assert_eq!(view["name"], winner["name"]);
    let (_, _, revisions) = get(&app, "/api/v1/stations/ST1/revisions", None).await;
    assert_eq!(revisions.as_array().map(Vec::len), Some(1), "{revisions}");
    // A stale version: 412, nothing changed.
    let (status, _, body) = patch(&app, "/api/v1/stations/ST1", Some("1"), &rename, None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (412, &json!("version_stale")),
        "{body}"
    );
    assert_eq!(
        get(&app, "/api/v1/stations/ST1", None).await.2["name"],
        view["name"]
    );

    // The other records read and edit alike.
    let (status, etag, customer) = get(&app, "/api/v1/customers/C1", None).await;
    assert_eq!(
        (status, etag.as_deref(), &customer["version"]),
        (200, Some("\"1\""), &json!(1)),
        "{customer}"
    );
    let moved = json!({"location": {"lon": 113.67, "lat": 34.77}, "full_stock_limit": 4});
    let (status, _, customer) = patch(&app, "/api/v1/customers/C1", Some("1"), &moved, None).await;
    assert_eq!(
        (status, &customer["full_stock_limit"]),
        (200, &json!(4)),
        "{customer}"
    );
    assert!(customer["district_code"].as_str().is_some(), "{customer}");
    assert_eq!(
        app.post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A12345", "enterprise_code": "ENT1"})
        )
        .await
        .0,
        201
    );
    let (status, _, vehicle) = get(&app, "/api/v1/vehicles/豫A12345", None).await;
    assert_eq!((status, &vehicle["version"]), (200, &json!(1)), "{vehicle}");
    let (status, _, vehicle) = patch(
        &app,
        "/api/v1/vehicles/豫A12345",
        Some("1"),
        &json!({"gps_device_id": "GPS-9"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &vehicle["gps_device_id"], &vehicle["version"]),
        (200, &json!("GPS-9"), &json!(2)),
        "{vehicle}"
    );
    let (status, _, staff) = patch(
        &app,
        "/api/v1/staff/S1",
        Some("1"),
        &json!({"certificate_expires": "2032-01-01"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &staff["certificate_expires"]),
        (200, &json!("2032-01-01")),
        "{staff}"
    );
    let (_, _, revisions) = get(&app, "/api/v1/staff/S1/revisions", None).await;
    // The one-certificate field renews the certificate of that number in the list (issue 21
    // item 3): the revision shows both.
    assert_eq!(
        revisions[0]["changes"],
        json!({"certificate_expires": ["2030-01-01", "2032-01-01"],
               "certificates": [
                   [{"kind": "filling_operator", "number": "TS-1", "valid_to": "2030-01-01"}],
                   [{"kind": "filling_operator", "number": "TS-1", "valid_to": "2032-01-01"}]]})
    );
}

#[tokio::test]
async fn licences_are_the_regulators_and_another_enterprise_learns_nothing() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut eb = enterprise("EB");
    eb["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &eb).await.0, 201);
    let staff = json!({"staff_no": "S1", "enterprise_code": "EB", "name": "乙", "role": "driver"});
    assert_eq!(app.post_json("/api/v1/staff", &staff).await.0, 201);
    let a_admin = new_user(&app, "a-admin", "enterprise_admin", Some("ENT1")).await;
    let b_admin = new_user(&app, "b-admin", "enterprise_admin", Some("EB")).await;
    let before = row(&app, "enterprises", "code", "ENT1").await;

    // An enterprise admin renewing its own licence: 403 naming the field, unchanged.
    for field in ["filling_licence_expires", "gas_licence_expires", "media"] {
        let value = if field == "media" {
            json!(["LPG", "O2"])
        } else {
            json!("2040-01-01")
        };
        let (status, _, body) = patch(
            &app,
            "/api/v1/enterprises/ENT1",
            Some("1"),
            &json!({field: value}),
            Some(&a_admin),
        )
        .await;
        assert_eq!(
            (status, &body["error"]["code"], &body["error"]["field"]),
            (403, &json!("forbidden"), &json!(field)),
            "{body}"
        );
    }
    let (status, _, body) = patch(
        &app,
        "/api/v1/staff/S1",
        Some("1"),
        &json!({"certificate_expires": "2040-01-01"}),
        Some(&a_admin),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (403, &json!("certificate_expires")),
        "{body}"
    );
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    // What is its own to change, it changes; its staff number S1 is its own.
    let (status, _, body) = patch(
        &app,
        "/api/v1/enterprises/ENT1",
        Some("1"),
        &json!({"address": "郑州市金水路2号"}),
        Some(&a_admin),
    )
    .await;
    assert_eq!((status, &body["version"]), (200, &json!(2)), "{body}");
    let (status, _, body) = get(&app, "/api/v1/staff/S1", Some(&a_admin)).await;
    assert_eq!(
        (status, &body["enterprise_code"]),
        (200, &json!("ENT1")),
        "{body}"
    );

    // B's admin on A's records: 404, unchanged.
    let before = row(&app, "enterprises", "code", "ENT1").await;
    let station_before = row(&app, "stations", "code", "ST1").await;
    for path in [
        "/api/v1/enterprises/ENT1",
        "/api/v1/stations/ST1",
        "/api/v1/customers/C1",
    ] {
        let (status, _, body) = patch(
            &app,
            path,
            Some("2"),
            &json!({"name": "乙的"}),
            Some(&b_admin),
        )
        .await;
        assert_eq!(status, 404, "{path}: {body}");
        let (status, _, body) = patch(
            &app,
            path,
            Some("1"),
            &json!({"name": "乙的"}),
            Some(&b_admin),
        )
        .await;
        assert_eq!(status, 404, "{path}: {body}");
        let (status, _, body) = get(&app, &format!("{path}/revisions"), Some(&b_admin)).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _, body) = get(&app, "/api/v1/stations/ST1", Some(&b_admin)).await;
    assert_eq!(status, 404, "{body}");
    assert!(!body.to_string().contains("一号充装站"), "{body}");
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    assert_eq!(row(&app, "stations", "code", "ST1").await, station_before);
    // B's admin resolves S1 within EB.
    let (status, _, body) = get(&app, "/api/v1/staff/S1", Some(&b_admin)).await;
    assert_eq!(
        (status, &body["enterprise_code"]),
        (200, &json!("EB")),
        "{body}"
    );

    // A regulator names the enterprise when a staff number is not unique.
    let (status, _, body) = get(&app, "/api/v1/staff/S1", None).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("enterprise_code")),
        "{body}"
    );
    let (status, _, body) = get(&app, "/api/v1/staff/S1?enterprise_code=EB", None).await;
    assert_eq!((status, &body["name"]), (200, &json!("乙")), "{body}");
}

#[tokio::test]
async fn an_inactive_record_is_not_edited_but_a_regulator_renews_a_suspended_licence() {
    let app = spawn_app().await;
    app.seed_registry().await;
    sqlx::query("UPDATE enterprises SET status = 'suspended' WHERE code = 'ENT1'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE stations SET status = 'closed' WHERE code = 'ST2'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, _, body) = patch(
        &app,
        "/api/v1/enterprises/ENT1",
        Some("1"),
        &json!({"name": "新"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("record_inactive")),
        "{body}"
    );
    let (status, _, body) = patch(
        &app,
        "/api/v1/stations/ST2",
        Some("1"),
        &json!({"name": "新"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("record_inactive")),
        "{body}"
    );
    let renew = json!({"gas_licence_expires": "2035-01-01"});
    let (status, _, body) = patch(&app, "/api/v1/enterprises/ENT1", Some("1"), &renew, None).await;
    assert_eq!(
        (status, &body["gas_licence_expires"], &body["status"]),
        (200, &json!("2035-01-01"), &json!("suspended")),
        "{body}"
    );
}

fn fix(plate: &str, lon: f64, lat: f64, at: chrono::DateTime<Utc>) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "gps", "occurred_at": at.to_rfc3339(),
           "vehicle_plate": plate, "lon": lon, "lat": lat})
}

async fn transitions(app: &TestApp, plate: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, fence FROM fence_transitions WHERE plate = $1 ORDER BY occurred_at, kind",
    )
    .bind(plate)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_station_moved_by_patch_is_where_the_pipeline_sees_vehicles_at_once() {
    let mut config = AppConfig::default();
    config
        .env
        .push(("CYLWATCH_FENCE_RELOAD_S".into(), "1".into()));
    let app = spawn_app_with(config, TestDb::new().await).await;
    app.seed_registry().await;
    let plate = "豫A70001";
    assert_eq!(
        app.post_json(
            "/api/v1/vehicles",
            &json!({"plate": plate, "enterprise_code": "ENT1"})
        )
        .await
        .0,
        201
    );
    let t0 = Utc::now() - Duration::minutes(30);
    let post_at = |lon: f64, lat: f64, s: i64| {
        let app = &app;
        async move {
            let (status, body) = app
                .post_events(&json!({"events": [fix(plate, lon, lat, t0 + Duration::seconds(s))]}))
                .await;
            assert_eq!(status, 202, "{body}");
            app.wait_until(|| async {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM vehicle_positions WHERE plate = $1 AND ST_X(location) = $2 AND ST_Y(location) = $3")
                    .bind(plate).bind(lon).bind(lat)
                    .fetch_one(&app.db.pool).await.unwrap() == 1
            })
            .await;
        }
    };
    // Far from every site: nothing.
    post_at(113.68, 34.77, 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(transitions(&app, plate).await.is_empty());
    // ST1 moves there; the next fix there is at ST1.
    let moved = json!({"location": {"lon": 113.68, "lat": 34.77}});
    let (status, _, body) = patch(&app, "/api/v1/stations/ST1", Some("1"), &moved, None).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    post_at(113.6801, 34.7701, 60).await;
    app.wait_until(|| async { !transitions(&app, plate).await.is_empty() })
        .await;
    assert_eq!(
        transitions(&app, plate).await,
        [("enter".to_owned(), "station:ST1".to_owned())]
    );
}

#[tokio::test]
async fn a_cylinders_registration_is_the_regulators_and_its_dates_move_only_by_inspection() {
    let app = spawn_app().await;
    app.seed_registry().await;
    cylinder(&app, "CY1", "ST1", json!({})).await;
    let a_admin = new_user(&app, "a-admin", "enterprise_admin", Some("ENT1")).await;
    let (status, etag, view) = get(&app, "/api/v1/cylinders/CY1", Some(&a_admin)).await;
    assert_eq!(
        (status, etag.as_deref(), &view["version"]),
        (200, Some("\"1\""), &json!(1)),
        "{view}"
    );
    let before = row(&app, "cylinders", "code", "CY1").await;
    // The use registration is the regulator's; the dates and the owner move by other acts.
    let refused = [
        (json!({"design_life_years": 30}), 403, "design_life_years"),
        (
            json!({"registration_no": "豫A-9999"}),
            403,
            "registration_no",
        ),
        (
            json!({"next_inspection_on": "2040-01-01"}),
            400,
            "next_inspection_on",
        ),
        (
            json!({"last_inspected_on": "2020-01-01"}),
            400,
            "last_inspected_on",
        ),
        (
            json!({"owner_enterprise_code": "EB"}),
            400,
            "owner_enterprise_code",
        ),
        (json!({"tag_id": "NEW"}), 400, "tag_id"),
        (json!({"tare_kg": -1}), 400, "tare_kg"),
    ];
    for (body, expected, field) in refused {
        let (status, _, answer) = patch(
            &app,
            "/api/v1/cylinders/CY1",
            Some("1"),
            &body,
            Some(&a_admin),
        )
        .await;
        assert_eq!(
            (status, &answer["error"]["field"]),
            (expected, &json!(field)),
            "{answer}"
        );
    }
    assert_eq!(row(&app, "cylinders", "code", "CY1").await, before);
    // The enterprise corrects its archive; the regulator its registration.
    let (status, etag, view) = patch(
        &app,
        "/api/v1/cylinders/CY1",
        Some("1"),
        &json!({"tare_kg": 16.6}),
        Some(&a_admin),
    )
    .await;
    assert_eq!(
        (status, etag.as_deref(), &view["tare_kg"], &view["version"]),
        (200, Some("\"2\""), &json!(16.6), &json!(2)),
        "{view}"
    );
    let register = json!({"registration_no": "豫A-0002", "registered_on": "2020-06-01"});
    let (status, _, view) = patch(&app, "/api/v1/cylinders/CY1", Some("2"), &register, None).await;
    assert_eq!(
        (status, &view["registration_no"]),
        (200, &json!("豫A-0002")),
        "{view}"
    );
    let (_, _, revisions) = get(&app, "/api/v1/cylinders/CY1/revisions", Some(&a_admin)).await;
    assert_eq!(revisions.as_array().map(Vec::len), Some(2), "{revisions}");
    assert_eq!(revisions[0]["by"], "a-admin");
    assert_eq!(revisions[0]["changes"], json!({"tare_kg": [16.4, 16.6]}));
    assert_eq!(revisions[1]["by"], "admin");
}

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                                               [x0, y0 + size], [x0, y0]]]})
}

#[tokio::test]
async fn a_geofence_is_redrawn_within_the_limits_of_its_drawing_by_whom_drew_it() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let zone =
        json!({"name": "禁行区", "kind": "restricted", "geometry": square(113.70, 34.80, 0.01)});
    let (status, body) = app.post_json("/api/v1/geofences", &zone).await;
    assert_eq!(status, 201, "{body}");
    let zone_id = body["id"].as_str().unwrap().to_owned();
    let site = json!({"name": "一号站围栏", "kind": "site", "enterprise_code": "ENT1",
                      "center": {"lon": 113.62, "lat": 34.75}, "radius_m": 200});
    let (status, body) = app.post_json("/api/v1/geofences", &site).await;
    assert_eq!(status, 201, "{body}");
    let site_id = body["id"].as_str().unwrap().to_owned();
    let a_admin = new_user(&app, "a-admin", "enterprise_admin", Some("ENT1")).await;
    let zone_path = format!("/api/v1/geofences/{zone_id}");
    let site_path = format!("/api/v1/geofences/{site_id}");

    let (status, etag, view) = get(&app, &zone_path, None).await;
    assert_eq!(
        (status, etag.as_deref(), &view["kind"]),
        (200, Some("\"1\""), &json!("restricted")),
        "{view}"
    );
    assert_eq!(view["geometry"]["type"], "Polygon", "{view}");
    // The city's zone is not the enterprise's to read or redraw.
    let (status, _, body) = get(&app, &zone_path, Some(&a_admin)).await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = patch(
        &app,
        &zone_path,
        Some("1"),
        &json!({"name": "x"}),
        Some(&a_admin),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // Shapes as on create: an invalid polygon, a radius too large, a kind that never changes.
    let before = row(&app, "geofences", "id::text", &zone_id).await;
    let bow = json!({"geometry": {"type": "Polygon", "coordinates": [[[113.7, 34.8], [113.71, 34.81], [113.71, 34.8], [113.7, 34.81], [113.7, 34.8]]]}});
    let (status, _, body) = patch(&app, &zone_path, Some("1"), &bow, None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_geometry")),
        "{body}"
    );
    let line = json!({"geometry": {"type": "LineString", "coordinates": [[113.7, 34.8], [113.71, 34.81]]}});
    let (status, _, body) = patch(&app, &zone_path, Some("1"), &line, None).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("geometry.type")),
        "{body}"
    );
    let wide = json!({"center": {"lon": 113.7, "lat": 34.8}, "radius_m": 60000});
    let (status, _, body) = patch(&app, &zone_path, Some("1"), &wide, None).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("radius_m")),
        "{body}"
    );
    let (status, _, body) =
        patch(&app, &zone_path, Some("1"), &json!({"kind": "site"}), None).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("kind")),
        "{body}"
    );
    assert_eq!(row(&app, "geofences", "id::text", &zone_id).await, before);
    // The regulator moves its zone; the enterprise redraws its own site as a wider circle.
    let moved = json!({"geometry": square(113.72, 34.80, 0.01)});
    let (status, etag, view) = patch(&app, &zone_path, Some("1"), &moved, None).await;
    assert_eq!((status, etag.as_deref()), (200, Some("\"2\"")), "{view}");
    assert_eq!(
        view["geometry"]["coordinates"][0][0],
        json!([113.72, 34.8]),
        "{view}"
    );
    let wider = json!({"center": {"lon": 113.62, "lat": 34.75}, "radius_m": 400});
    let (status, _, view) = patch(&app, &site_path, Some("1"), &wider, Some(&a_admin)).await;
    assert_eq!((status, &view["version"]), (200, &json!(2)), "{view}");
    let (status, _, revisions) = get(&app, &format!("{site_path}/revisions"), Some(&a_admin)).await;
    assert_eq!(status, 200, "{revisions}");
    assert_eq!(revisions[0]["by"], "a-admin");
    assert!(
        revisions[0]["changes"]["radius_m"] == json!([null, 400.0]),
        "{revisions}"
    );
}
