//! Scope: two enterprises with canaries planted in each; no route and no live message shows
//! one enterprise's users (or another district's regulator) the other's records, and no write
//! reaches them.

use crate::common::{archive, enterprise, scan, spawn_app, station, TestApp};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// One enterprise's records, each carrying its canary.
pub(crate) struct Planted {
    pub(crate) code: String,
    pub(crate) canary: String,
    pub(crate) cylinder: String,
    pub(crate) tag: String,
    pub(crate) plate: String,
    pub(crate) device_key: String,
    /// An `illegal_tag` alert at its station (whose name carries the canary).
    pub(crate) alert: String,
    pub(crate) admin_token: String,
    pub(crate) staff_token: String,
}

use crate::access::PASSWORD;

/// `district` must be the one the station (`lon`, `lat`) and the customer (0.01° north) lie in.
pub(crate) async fn plant(
    app: &TestApp,
    code: &str,
    district: &str,
    lon: f64,
    lat: f64,
) -> Planted {
    let canary = format!("CANARY{code}");
    let mut e = enterprise(code);
    e["name"] = json!(format!("{canary} 燃气"));
    e["district_code"] = json!(district);
    assert_eq!(app.post_json("/api/v1/enterprises", &e).await.0, 201);
    let station_code = format!("{code}-ST");
    let mut s = station(&station_code, code, &format!("{canary} 站"), lon, lat);
    s["district_code"] = json!(district);
    assert_eq!(app.post_json("/api/v1/stations", &s).await.0, 201);
    let customer = json!({"code": format!("{code}-C"), "enterprise_code": code,
        "name": format!("{canary} 顾客"), "kind": "household", "phone": format!("{canary}-PHONE"),
        "address": format!("{canary} 地址"), "location": {"lon": lon, "lat": lat + 0.01}, "district_code": district});
    assert_eq!(app.post_json("/api/v1/customers", &customer).await.0, 201);
    let staff = json!({"staff_no": format!("{code}-S"), "enterprise_code": code,
        "name": format!("{canary} 员工"), "role": "driver"});
    assert_eq!(app.post_json("/api/v1/staff", &staff).await.0, 201);
    let plate = format!("{canary}-V");
    let vehicle = json!({"plate": plate, "enterprise_code": code});
    assert_eq!(app.post_json("/api/v1/vehicles", &vehicle).await.0, 201);
    // Its wall, which the other enterprise may neither list nor revoke.
    let display = json!({"name": format!("{code}-hall"), "enterprise_code": code});
    assert_eq!(app.post_json("/api/v1/displays", &display).await.0, 201);
    // Codes travel in URLs (and come back in 404 messages): the canary is in the records' other
    // fields, not in the codes asked for.
    let cylinder = format!("{code}-CYL");
    let tag = format!("{code}-TAG");
    let mut a = archive(&cylinder, &tag);
    a["owner_enterprise_code"] = json!(code);
    a["station_code"] = json!(station_code);
    a["manufacturer"] = json!(format!("{canary} 厂"));
    assert_eq!(app.post_json("/api/v1/cylinders", &a).await.0, 201);
    let device_key = app.new_device(code, json!({})).await;
    for (user, role) in [
        (format!("{code}-admin"), "enterprise_admin"),
        (format!("{code}-staff"), "enterprise_staff"),
    ] {
        let body =
            json!({"username": user, "password": PASSWORD, "role": role, "enterprise_code": code});
        assert_eq!(app.post_json("/api/v1/users", &body).await.0, 201);
    }
    // Facts from its own device: a fix of its vehicle, a fill of its cylinder.
    let events = json!({"events": [
        crate::common::gps(&plate, lon, lat, "2026-11-20T09:00:00+08:00"),
        scan("fill", &cylinder, "2026-11-20T09:05:00+08:00",
             json!({"station_code": station_code, "staff_no": format!("{code}-S"), "customer_code": null})),
    ]});
    let (status, body) = app.post_events_as(&device_key, &events).await;
    assert_eq!((status, &body["accepted"]), (202, &json!(2)), "{body}");
    // An unknown tag at its station's gun: an alert naming the station.
    let controller = app
        .new_device(
            code,
            json!({"kind": "controller", "station_code": station_code}),
        )
        .await;
    let ask = json!({"tag_id": format!("{code}-FAKE"), "station_code": station_code,
                     "gun_no": "G1", "medium": "LPG", "staff_no": format!("{code}-S")});
    let answer: Value = app
        .client
        .post(app.url("/api/v1/fillings/authorize"))
        .header("x-device-key", &controller)
        .json(&ask)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["allowed"], false, "{answer}");
    let mut alert = None;
    for _ in 0..100 {
        let (_, page) = app
            .get_json(&format!("/api/v1/alerts?enterprise_code={code}"))
            .await;
        alert = page["items"][0]["id"].as_str().map(str::to_owned);
        if alert.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let alert = alert.expect("the illegal-tag alert within 10 s");
    Planted {
        code: code.into(),
        alert,
        canary,
        cylinder,
        tag,
        plate,
        device_key,
        admin_token: app.login(&format!("{code}-admin"), PASSWORD).await,
        staff_token: app.login(&format!("{code}-staff"), PASSWORD).await,
    }
}

/// Every route a signed-in user may call, with `{A}`/`{B}` placeholders for the two
/// enterprises' codes, cylinders and tags. A new route is covered by adding its line here.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/enterprises/{A}"),
    ("GET", "/api/v1/enterprises/{B}"),
    ("GET", "/api/v1/cylinders/{A_CYL}"),
    ("GET", "/api/v1/cylinders/{B_CYL}"),
    ("GET", "/api/v1/cylinders/by-tag/{B_TAG}"),
    ("GET", "/api/v1/cylinders/{A_CYL}/history"),
    ("GET", "/api/v1/cylinders/{B_CYL}/history"),
    ("GET", "/api/v1/cylinders/export"),
    ("GET", "/api/v1/cylinders/export?enterprise_code={B}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/stations/{A}-ST/filling-summary"),
    ("GET", "/api/v1/stations/{B}-ST/filling-summary"),
    ("GET", "/api/v1/alerts"),
    ("GET", "/api/v1/alerts?enterprise_code={B}"),
    ("GET", "/api/v1/alerts/{B_ALERT}"),
    ("GET", "/api/v1/alerts/{A_ALERT}"),
    ("POST", "/api/v1/alerts/{B_ALERT}/ack"),
    ("POST", "/api/v1/alerts/{B_ALERT}/resolve"),
    ("GET", "/api/v1/stats/inventory"),
    ("GET", "/api/v1/stats/inventory?enterprise_code={B}"),
    ("GET", "/api/v1/stats/inventory?station_code={B}-ST"),
    ("GET", "/api/v1/stats/compliance"),
    ("GET", "/api/v1/stats/compliance?enterprise_code={B}"),
    ("GET", "/api/v1/stats/registration"),
    ("GET", "/api/v1/stats/registration?enterprise_code={B}"),
    ("GET", "/api/v1/stats/fillings?station_code={B}-ST"),
    ("GET", "/api/v1/stats/alerts?enterprise_code={B}"),
    ("GET", "/api/v1/stats/recovery?enterprise_code={B}"),
    ("GET", "/api/v1/stats/flows?enterprise_code={B}"),
    ("GET", "/api/v1/cylinders?enterprise_code={B}"),
    ("GET", "/api/v1/customers"),
    ("GET", "/api/v1/sites"),
    ("GET", "/api/v1/stats/density"),
    ("GET", "/api/v1/stats/density?enterprise_code={B}"),
    ("GET", "/api/v1/stats/vehicle-loads"),
    ("GET", "/api/v1/customers?enterprise_code={B}"),
    ("GET", "/api/v1/fillings"),
    ("GET", "/api/v1/fillings/decisions?enterprise_code={B}"),
    ("GET", "/api/v1/history"),
    ("GET", "/api/v1/history?enterprise_code={B}&format=csv"),
    ("GET", "/api/v1/cylinders?station_code={B}-ST&format=csv"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs/"),
    ("POST", "/api/v1/live/ticket"),
    ("GET", "/api/v1/displays"),
    ("POST", "/api/v1/displays"),
    ("POST", "/api/v1/displays/{B}-hall/revoke"),
    ("GET", "/api/v1/basemap/districts"),
    ("POST", "/api/v1/stations"),
    ("POST", "/api/v1/stations/{B}-ST/inspection-grant"),
    ("POST", "/api/v1/customers"),
    ("POST", "/api/v1/staff"),
    ("POST", "/api/v1/vehicles"),
    ("POST", "/api/v1/geofences"),
    ("POST", "/api/v1/cylinders"),
    ("POST", "/api/v1/devices"),
    ("POST", "/api/v1/devices/{B}-dev/revoke"),
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/enterprises"),
    // Accounts (issue 20 item 14): B's users are not A's to manage.
    ("POST", "/api/v1/users/{B}-staff/suspend"),
    ("POST", "/api/v1/users/{B}-admin/suspend"),
    ("POST", "/api/v1/users/{B}-staff/reinstate"),
    ("POST", "/api/v1/users/{B}-staff/close"),
    ("GET", "/api/v1/users/{B}-staff/sessions"),
    ("GET", "/api/v1/users/{B}-admin/sessions"),
    (
        "POST",
        "/api/v1/users/{B}-staff/sessions/{B_SESSION}/revoke",
    ),
    ("POST", "/api/v1/users/{B}-staff/sessions/revoke"),
    ("POST", "/api/v1/users/{B}-admin/sessions/revoke"),
    ("POST", "/api/v1/auth/password"),
    // Directories (issue 21 item 5): B's records never in A's lists, B's enterprise asked for
    // by name answers 404.
    ("GET", "/api/v1/enterprises"),
    ("GET", "/api/v1/enterprises?q=CANARY"),
    ("GET", "/api/v1/enterprises?format=csv"),
    ("GET", "/api/v1/enterprises?enterprise_code={B}"),
    ("GET", "/api/v1/stations"),
    ("GET", "/api/v1/stations?q=E"),
    ("GET", "/api/v1/stations?enterprise_code={B}&format=csv"),
    ("GET", "/api/v1/staff"),
    ("GET", "/api/v1/staff?licence_expiring_within_days=3650"),
    ("GET", "/api/v1/staff?enterprise_code={B}"),
    ("GET", "/api/v1/vehicles"),
    ("GET", "/api/v1/vehicles?q=CANARY&format=csv"),
    ("GET", "/api/v1/vehicles?enterprise_code={B}"),
    ("GET", "/api/v1/devices"),
    ("GET", "/api/v1/devices?enterprise_code={B}"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users?format=csv"),
    ("GET", "/api/v1/users?enterprise_code={B}"),
    ("GET", "/api/v1/customers?q=CANARY"),
    ("GET", "/api/v1/customers?q=E&status=active&format=csv"),
    // CSV imports (issue 21 item 6): this table sends JSON, refused as such; rows naming B's
    // enterprise are `directories::csv_imports_of_customers_staff_and_vehicles_are_all_or_nothing`'s.
    ("POST", "/api/v1/customers/import"),
    ("POST", "/api/v1/staff/import"),
    ("POST", "/api/v1/vehicles/import"),
    // Status instead of delete (issue 21 item 2, branch registry-status): B's records are not
    // A's to suspend, reinstate or close (nor the Jinshui regulator's: B lies in 410102).
    ("POST", "/api/v1/enterprises/{B}/suspend"),
    ("POST", "/api/v1/enterprises/{B}/reinstate"),
    ("POST", "/api/v1/enterprises/{B}/close"),
    ("POST", "/api/v1/stations/{B}-ST/suspend"),
    ("POST", "/api/v1/stations/{B}-ST/reinstate"),
    ("POST", "/api/v1/stations/{B}-ST/close"),
    ("POST", "/api/v1/staff/{B}-S/suspend"),
    ("POST", "/api/v1/staff/{B}-S/reinstate?enterprise_code={B}"),
    ("POST", "/api/v1/staff/{B}-S/close"),
    ("POST", "/api/v1/vehicles/CANARY{B}-V/suspend"),
    ("POST", "/api/v1/vehicles/CANARY{B}-V/reinstate"),
    ("POST", "/api/v1/vehicles/CANARY{B}-V/close"),
    ("POST", "/api/v1/devices/{B}-dev/suspend"),
    ("POST", "/api/v1/devices/{B}-dev/reinstate"),
    // Registry edits (issue 21 item 1, branch registry-edits): B's records one at a time,
    // their PATCH and their revisions.
    ("GET", "/api/v1/stations/{B}-ST"),
    ("GET", "/api/v1/customers/{B}-C"),
    ("GET", "/api/v1/staff/{B}-S"),
    ("GET", "/api/v1/staff/{B}-S?enterprise_code={B}"),
    ("GET", "/api/v1/vehicles/{B_CANARY}-V"),
    ("PATCH", "/api/v1/enterprises/{B}"),
    ("PATCH", "/api/v1/stations/{B}-ST"),
    ("PATCH", "/api/v1/customers/{B}-C"),
    ("PATCH", "/api/v1/staff/{B}-S?enterprise_code={B}"),
    ("PATCH", "/api/v1/vehicles/{B_CANARY}-V"),
    ("GET", "/api/v1/enterprises/{B}/revisions"),
    ("GET", "/api/v1/stations/{B}-ST/revisions"),
    ("GET", "/api/v1/customers/{B}-C/revisions"),
    ("GET", "/api/v1/staff/{B}-S/revisions"),
    ("GET", "/api/v1/vehicles/{B_CANARY}-V/revisions"),
    ("PATCH", "/api/v1/cylinders/{B_CYL}"),
    ("GET", "/api/v1/cylinders/{B_CYL}/revisions"),
    ("GET", "/api/v1/geofences/{B_FENCE}"),
    ("PATCH", "/api/v1/geofences/{B_FENCE}"),
    ("GET", "/api/v1/geofences/{B_FENCE}/revisions"),
    ("POST", "/api/v1/enterprises/{B}/proposals"),
    ("POST", "/api/v1/staff/{B}-S/proposals"),
    ("POST", "/api/v1/cylinders/{B_CYL}/proposals"),
    ("GET", "/api/v1/proposals"),
    ("POST", "/api/v1/proposals/{B_PROPOSAL}/approve"),
    ("POST", "/api/v1/proposals/{B_PROPOSAL}/reject"),
    // Cylinder lifecycle (issue 21 item 4): B's cylinder's tag is not A's to replace (404), and
    // B's tag is not A's to bind (the body names it: refused without naming B's cylinder).
    ("POST", "/api/v1/cylinders/{B_CYL}/replace-tag"),
    ("POST", "/api/v1/cylinders/{A_CYL}/replace-tag"),
    // Recalls (issue 22 item 3): B's recall (its reason carries the canary) is not A's to see
    // or clear; A's users cannot recall B's cylinder.
    ("GET", "/api/v1/recalls"),
    ("GET", "/api/v1/recalls/{B_RECALL}"),
    ("POST", "/api/v1/recalls/{B_RECALL}/clear"),
    ("POST", "/api/v1/recalls"),
    // Transfers (issue 21 item 4, branch transfers): B's offer to a third enterprise (EX) is
    // not A's to see, accept, decline or cancel; B's cylinder is not A's to offer.
    ("GET", "/api/v1/transfers"),
    ("GET", "/api/v1/transfers/{B_TRANSFER}"),
    ("POST", "/api/v1/transfers"),
    ("POST", "/api/v1/transfers/{B_TRANSFER}/accept"),
    ("POST", "/api/v1/transfers/{B_TRANSFER}/decline"),
    ("POST", "/api/v1/transfers/{B_TRANSFER}/cancel"),
    // Incidents (issue 22 items 1–2, branch incidents): B's incident (about B's cylinder, its
    // description carrying B's canary) is not A's nor Jinshui's to read, note or move; opening
    // one about B's cylinder is refused.
    ("POST", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents"),
    ("GET", "/api/v1/incidents?enterprise_code={B}"),
    ("GET", "/api/v1/incidents/{B_INCIDENT}"),
    ("GET", "/api/v1/incidents/{B_INCIDENT}/context"),
    ("POST", "/api/v1/incidents/{B_INCIDENT}/timeline"),
    ("POST", "/api/v1/incidents/{B_INCIDENT}/status"),
    // MQTT (issue 23, branch mqtt): B's device's key is not A's to rotate (the new key would
    // be A's to read, and B's device cut off).
    ("POST", "/api/v1/devices/{B}-dev/key"),
    // Running incidents (issue 22 items 4–6, branch inc-ops): B's incident takes no task, no
    // task update and no acknowledgement from A or Jinshui, its downloads are not theirs, and
    // its closed-incident search finds nothing of B; registering a responder unit is the
    // city's (403 for all three).
    ("POST", "/api/v1/responder-units"),
    ("GET", "/api/v1/responder-units"),
    ("POST", "/api/v1/incidents/{B_INCIDENT}/tasks"),
    (
        "POST",
        "/api/v1/incidents/{B_INCIDENT}/tasks/{B_TASK}/status",
    ),
    ("POST", "/api/v1/incidents/{B_INCIDENT}/ack"),
    ("GET", "/api/v1/incidents/{B_INCIDENT}/report.csv"),
    ("GET", "/api/v1/incidents/{B_INCIDENT}/timeline.json"),
    (
        "GET",
        "/api/v1/incidents?status=active&q=%E6%B3%84%E6%BC%8F",
    ),
    ("GET", "/api/v1/incidents?status=active&enterprise_code={B}"),
];
/// Writes that name nothing but the signed-in user's own session (a live ticket, one's own
/// password): B's name cannot be put in them, so they are only checked for showing nothing of B.
pub(crate) const SELF_ONLY: [&str; 2] = ["/api/v1/live/ticket", "/api/v1/auth/password"];

// Not in the table: POST /api/v1/auth/display names nothing but a display key (like a login
// its answer depends on the key alone; `walls::displays_are_scoped_like_users` checks the
// displays' scope). GET /api/v1/public/cylinders/{code} answers anyone about any cylinder by
// design (the QR lookup) and shows no personal data; `ble_sightings_inspections_lost_and_the_public_view`
// checks that.

/// A write aimed at the other enterprise: its records named as targets.
pub(crate) fn body_for(path: &str, b: &Planted) -> Value {
    let code = &b.code;
    match path {
        "/api/v1/stations" => station("X-ST", code, "x", 113.6, 34.7),
        "/api/v1/customers" => {
            json!({"code": "X-C", "enterprise_code": code, "name": "x", "kind": "household",
            "phone": "1", "address": "x", "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"})
        }
        "/api/v1/geofences" => {
            json!({"name": "x", "kind": "site", "center": {"lon": 113.55, "lat": 34.75},
                   "radius_m": 100, "enterprise_code": code})
        }
        "/api/v1/staff" => {
            json!({"staff_no": "X-S", "enterprise_code": code, "name": "x", "role": "driver"})
        }
        "/api/v1/vehicles" => json!({"plate": "X-V", "enterprise_code": code}),
        "/api/v1/cylinders" => {
            let mut a = archive("X-CYL", "X-TAG");
            a["owner_enterprise_code"] = json!(code);
            a["station_code"] = json!(format!("{code}-ST"));
            a
        }
        "/api/v1/devices" => json!({"device_id": "X-DEV", "kind": "gps", "enterprise_code": code}),
        "/api/v1/displays" => json!({"name": "X-HALL", "enterprise_code": code}),
        "/api/v1/users" => {
            json!({"username": "x-user", "password": PASSWORD, "role": "enterprise_admin",
            "enterprise_code": code})
        }
        "/api/v1/enterprises" => {
            let mut e = enterprise("X-ENT");
            e["district_code"] = json!("410102");
            e
        }
        "/api/v1/incidents" => {
            json!({"kind": "leak", "level": "general", "description": "hostile",
                   "cylinder_code": b.cylinder})
        }
        p if p.ends_with("/timeline") => json!({"note": "hostile"}),
        "/api/v1/responder-units" => {
            json!({"code": "X-UNIT", "name": "hostile", "kind": "fire", "phone": "119"})
        }
        p if p.ends_with("/tasks") => json!({"unit_code": "SCOPE-UNIT", "what": "hostile",
                                              "due_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
        p if p.contains("/tasks/") && p.ends_with("/status") => json!({"status": "done"}),
        p if p.starts_with("/api/v1/incidents/") && p.ends_with("/status") => {
            json!({"status": "closed"})
        }
        p if p.ends_with("/proposals") => {
            json!({"changes": {"gas_licence_expires": "2040-01-01"}, "document_ref": "hostile"})
        }
        p if p.ends_with("/reject") => json!({"reason": "hostile"}),
        p if p.ends_with("/replace-tag") => json!({"tag_id": b.tag, "reason": "hostile"}),
        "/api/v1/recalls" => json!({"reason": "hostile", "cylinder_codes": [b.cylinder]}),
        p if p.ends_with("/clear") => json!({"cylinder_codes": [b.cylinder], "note": "hostile"}),
        "/api/v1/transfers" => json!({"cylinder_codes": [b.cylinder], "to_enterprise_code": "EX",
                                      "station_code": "EX-ST"}),
        p if p.ends_with("/suspend") || p.ends_with("/reinstate") || p.ends_with("/close") => {
            json!({"reason": "hostile"})
        }
        _ => json!({}),
    }
}

#[tokio::test]
async fn no_route_and_no_live_message_shows_one_enterprise_the_others_canaries() {
    let app = spawn_app().await;
    let a = plant(&app, "EA", "410105", 113.70, 34.78).await;
    let b = plant(&app, "EB", "410102", 113.55, 34.75).await;
    let regulator = json!({"username": "jinshui", "password": PASSWORD, "role": "district_regulator",
                           "district_code": "410105"});
    assert_eq!(app.post_json("/api/v1/users", &regulator).await.0, 201);
    let district_token = app.login("jinshui", PASSWORD).await;
    // B's facts are processed (so there is something to leak) before A looks.
    app.wait_until(|| async {
        app.get_json(&format!("/api/v1/cylinders/{}/history", b.cylinder))
            .await
            .1["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;

    let b_session: i64 = sqlx::query_scalar(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'EB-staff'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    // B's own fence (registry edits), named with its canary.
    let fence = json!({"name": format!("{} 围栏", b.canary), "kind": "site", "enterprise_code": b.code,
                       "center": {"lon": 113.55, "lat": 34.75}, "radius_m": 100});
    let (status, answer) = app.post_json("/api/v1/geofences", &fence).await;
    assert_eq!(status, 201, "{answer}");
    let b_fence = answer["id"].as_str().unwrap().to_owned();
    // B's pending proposal, its document reference carrying the canary.
    let proposal = json!({"changes": {"gas_licence_expires": "2033-01-01"},
                          "document_ref": format!("{} 许可证", b.canary)});
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/enterprises/EB/proposals",
            Some(&proposal),
            Some(&b.admin_token),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let b_proposal = answer["id"].as_i64().unwrap().to_string();
    // B's recall, its reason carrying the canary.
    let recall = json!({"reason": format!("{} 召回", b.canary), "cylinder_codes": [b.cylinder]});
    let (status, answer) = app.post_json("/api/v1/recalls", &recall).await;
    assert_eq!(status, 201, "{answer}");
    let b_recall = answer["id"].as_str().unwrap().to_owned();
    // B's open offer of its cylinder to a third enterprise (transfers).
    let mut x = enterprise("EX");
    x["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &x).await.0, 201);
    let mut x_station = station("EX-ST", "EX", "x", 113.56, 34.76);
    x_station["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/stations", &x_station).await.0, 201);
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/transfers",
            Some(
                &json!({"cylinder_codes": [b.cylinder], "to_enterprise_code": "EX",
                         "station_code": "EX-ST"}),
            ),
            Some(&b.admin_token),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let b_transfer = answer["id"].as_i64().unwrap().to_string();
    // B's incident (issue 22), about B's cylinder, with B's canary in it and its caller's.
    let incident = json!({"kind": "leak", "level": "general",
                          "description": format!("{} 泄漏", b.canary), "cylinder_code": b.cylinder,
                          "caller": {"name": format!("{} 报警人", b.canary), "phone": "110"}});
    let (status, answer) = app.post_json("/api/v1/incidents", &incident).await;
    assert_eq!(status, 201, "{answer}");
    let b_incident = answer["id"].as_str().unwrap().to_owned();
    // B's incident's task (issue 22 item 4), by a unit of the city's.
    let unit = json!({"code": "SCOPE-UNIT", "name": "消防", "kind": "fire", "phone": "119"});
    assert_eq!(app.post_json("/api/v1/responder-units", &unit).await.0, 201);
    let task = json!({"unit_code": "SCOPE-UNIT", "what": format!("{} 疏散", b.canary),
                      "due_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()});
    let (status, answer) = app
        .post_json(&format!("/api/v1/incidents/{b_incident}/tasks"), &task)
        .await;
    assert_eq!(status, 201, "{answer}");
    let b_task = answer["id"].as_str().unwrap().to_owned();
    let fill = |path: &str| {
        path.replace("{A_CYL}", &a.cylinder)
            .replace("{B_CYL}", &b.cylinder)
            .replace("{B_TAG}", &b.tag)
            .replace("{A_ALERT}", &a.alert)
            .replace("{B_ALERT}", &b.alert)
            .replace("{B_SESSION}", &b_session.to_string())
            .replace("{B_CANARY}", &b.canary)
            .replace("{B_FENCE}", &b_fence)
            .replace("{B_PROPOSAL}", &b_proposal)
            .replace("{B_RECALL}", &b_recall)
            .replace("{B_TRANSFER}", &b_transfer)
            .replace("{B_INCIDENT}", &b_incident)
            .replace("{B_TASK}", &b_task)
            .replace("{A}", &a.code)
            .replace("{B}", &b.code)
    };
    for (who, token) in [
        ("A admin", &a.admin_token),
        ("A staff", &a.staff_token),
        ("Jinshui regulator", &district_token),
    ] {
        for (method, path) in ROUTES {
            let path = fill(path);
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let body =
                (method == Method::POST).then(|| body_for(path.split('?').next().unwrap(), &b));
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token)
                .json(&body.unwrap_or(Value::Null))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            assert!(
                !text.contains(&b.canary),
                "{who}: {method} {path} ({status}) shows B: {text}"
            );
            if path.contains(&b.code)
                || path.contains(&b.canary)
                || path.contains(&b.alert)
                || path.contains(&b_incident)
            {
                assert!(
                    [403, 404].contains(&status),
                    "{who}: {method} {path} answered {status}: {text}"
                );
            }
            if method == Method::POST && !SELF_ONLY.contains(&path.as_str()) {
                assert!(
                    status >= 400,
                    "{who}: {method} {path} wrote for B: {status} {text}"
                );
            }
        }
        // What A may see, it sees.
        let (status, view) = app
            .send_json(
                Method::GET,
                &format!("/api/v1/cylinders/{}", a.cylinder),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{who}: {view}");
        assert!(view.to_string().contains(&a.canary));
        let (status, page) = app
            .send_json(Method::GET, "/api/v1/alerts", None, Some(token))
            .await;
        assert_eq!(status, 200, "{who}: {page}");
        // A's own alerts (the illegal tag at its gun, its uncertified driver), all A's.
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{who}: {page}");
        assert!(
            items
                .iter()
                .all(|i| i["enterprise_code"] == a.code.as_str()),
            "{who}: {page}"
        );
        assert!(page.to_string().contains(&a.canary), "{who}: {page}");
    }
    // Nothing of B was written by A's attempts.
    let b_records: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM stations WHERE enterprise_code = 'EB') + \
                (SELECT count(*) FROM cylinders WHERE owner_enterprise_code = 'EB') + \
                (SELECT count(*) FROM devices WHERE enterprise_code = 'EB' AND revoked_at IS NULL) + \
                (SELECT count(*) FROM geofences WHERE enterprise_code = 'EB')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(b_records, 5, "B's station, cylinder, two devices and fence");
    // B's offer is still open (no one of A's decided it).
    let b_offer: String = sqlx::query_scalar("SELECT status FROM transfers WHERE id = $1")
        .bind(b_transfer.parse::<i64>().unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(b_offer, "offered");
    // Nor was anything edited (registry edits): no record has a revision.
    let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM revisions")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(revisions, 0, "no PATCH of A's went through");
    // B's accounts are as they were: active, each with its live session.
    let b_accounts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users WHERE enterprise_code = 'EB' AND status = 'active' \
                 AND role IN ('enterprise_admin', 'enterprise_staff')), \
                (SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE u.enterprise_code = 'EB' AND s.revoked_at IS NULL \
                 AND u.role IN ('enterprise_admin', 'enterprise_staff'))",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(b_accounts, (2, 2), "B's users and their sessions");

    // The live feed: A's users get A's vehicle and never B's.
    for (round, token) in [&a.admin_token, &district_token].into_iter().enumerate() {
        let url = app.live_url_for(token).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let first = ws.next().await.unwrap().unwrap().into_text().unwrap();
        assert!(first.contains(&a.plate), "{first}");
        assert!(!first.contains(&b.canary), "{first}");
        // B's incident changes (issue 22 item 5: the live `incident` topic): not pushed to A
        // nor to Jinshui (read below, up to A's own fix).
        let note = json!({"note": format!("{} 现场更新 {round}", b.canary)});
        let (status, answer) = app
            .post_json(&format!("/api/v1/incidents/{b_incident}/timeline"), &note)
            .await;
        assert_eq!(status, 201, "{answer}");
        // A new fix of B's vehicle is not pushed to A; one of A's is.
        let at = format!("2026-11-20T10:0{round}:00+08:00");
        let lon = 113.631 + f64::from(u8::try_from(round).unwrap()) * 0.001;
        let b_fix = json!({"events": [crate::common::gps(&b.plate, 113.56, 34.75, &at)]});
        let a_fix = json!({"events": [crate::common::gps(&a.plate, lon, 34.75, &at)]});
        assert_eq!(app.post_events_as(&b.device_key, &b_fix).await.0, 202);
        assert_eq!(app.post_events_as(&a.device_key, &a_fix).await.0, 202);
        loop {
            let text = tokio::time::timeout(std::time::Duration::from_secs(20), ws.next())
                .await
                .expect("A's own fix arrives")
                .unwrap()
                .unwrap()
                .into_text()
                .unwrap();
            assert!(!text.contains(&b.canary), "{text}");
            if text.contains(&a.plate) && text.contains(&lon.to_string()) {
                break;
            }
        }
        // Asking for B's enterprise is refused.
        let ask = json!({"subscribe": ["vehicles"], "enterprise_code": b.code}).to_string();
        futures_util::SinkExt::send(&mut ws, tokio_tungstenite::tungstenite::Message::text(ask))
            .await
            .unwrap();
        loop {
            let text = tokio::time::timeout(std::time::Duration::from_secs(20), ws.next())
                .await
                .expect("the refusal arrives")
                .unwrap()
                .unwrap()
                .into_text()
                .unwrap();
            assert!(!text.contains(&b.canary), "{text}");
            if text.contains("error") {
                assert!(text.contains("forbidden"), "{text}");
                break;
            }
        }
    }

    // A's device: B's vehicle is refused; B's cylinder is kept as evidence, not applied.
    let b_vehicle =
        json!({"events": [crate::common::gps(&b.plate, 113.6, 34.7, "2026-11-20T11:00:00+08:00")]});
    let (status, body) = app.post_events_as(&a.device_key, &b_vehicle).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["rejected"][0]["error"]["code"], "unknown_reference");
    let b_scan = json!({"events": [scan("deliver", &b.cylinder, "2026-11-20T11:00:00+08:00", json!({"customer_code": "EA-C"}))]});
    assert_eq!(app.post_events_as(&a.device_key, &b_scan).await.0, 202);
    let event_id = b_scan["events"][0]["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    app.wait_until(|| async {
        let reason: Option<String> =
            sqlx::query_scalar("SELECT reason FROM unresolved_refs WHERE event_id = $1")
                .bind(event_id)
                .fetch_optional(&app.db.pool)
                .await
                .unwrap();
        reason.as_deref() == Some("foreign")
    })
    .await;
    let (_, history) = app
        .get_json(&format!("/api/v1/cylinders/{}/history", b.cylinder))
        .await;
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        1,
        "B's history untouched: {history}"
    );
}
