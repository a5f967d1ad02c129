//! Licences and certificates with validity (issue 21 item 3): the filling licence's period
//! (R01) and media (R15), staff certificates as a list per person (R14 at the gun,
//! `staff_uncertified` on deliveries), vehicle permits and customers' licences' validity
//! (`controlled_medium_unlicensed`). Written by regulators only; the old one-certificate
//! fields keep working.

use crate::access::new_user;
use crate::common::{archive, enterprise, scan, spawn_app, TestApp};
use crate::edits::{get, patch, row};
use crate::filling::{ask, check, cylinder, rules};
use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use serde_json::{json, Value};

/// Today in Beijing, the gun's calendar.
fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

/// The question for `code` at ST1 by filler `staff_no`.
fn ask_by(code: &str, medium: &str, staff_no: &str) -> Value {
    let mut q = ask(code, "ST1", medium);
    q["staff_no"] = json!(staff_no);
    q
}

/// A cylinder at ST1 checked before filling just now: only the registry can refuse it.
async fn ready(app: &TestApp, controller: &str, code: &str, medium: &str) {
    cylinder(app, code, "ST1", json!({"medium": medium})).await;
    let now = Utc::now().to_rfc3339();
    let (status, body) = app
        .post_events(&json!({"events": [check(code, "pre", true, &now)]}))
        .await;
    assert_eq!(status, 202, "{body}");
    // Wait until the check is applied (E02 and R10 gone).
    app.wait_until(|| async {
        let (_, answer) = app.authorize(controller, ask_by(code, medium, "S1")).await;
        let rules = rules(&answer);
        !rules.iter().any(|r| r == "E02" || r == "R10")
    })
    .await;
}

/// The current version of a record, for `If-Match`.
async fn version(app: &TestApp, path: &str) -> String {
    let (status, _, body) = get(app, path, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["version"].to_string()
}

/// A regulator's (the admin's) PATCH at the current version: the new record.
async fn renew(app: &TestApp, path: &str, body: Value) -> Value {
    let v = version(app, path).await;
    let (status, _, answer) = patch(app, path, Some(&v), &body, None).await;
    assert_eq!(status, 200, "{path} {body}: {answer}");
    answer
}

async fn staff(app: &TestApp, body: Value) {
    let (status, answer) = app.post_json("/api/v1/staff", &body).await;
    assert_eq!(status, 201, "{body}: {answer}");
}

/// A licence whose first day is ahead refuses (R01) until it starts; a licence ending before
/// it starts is 400 naming the field and changes nothing; a medium outside the licence is
/// R15 until the licence covers it, while the licensed medium fills.
#[tokio::test]
async fn the_filling_licence_period_and_media_decide_r01_and_r15() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    ready(&app, &controller, "OK", "LPG").await;
    let (_, answer) = app.authorize(&controller, ask_by("OK", "LPG", "S1")).await;
    assert_eq!(answer["allowed"], true, "{answer}");

    // Valid from tomorrow: not yet (R01 alone), at the next question.
    let ent = renew(
        &app,
        "/api/v1/enterprises/ENT1",
        json!({"filling_licence_valid_from": day(1)}),
    )
    .await;
    assert_eq!(ent["filling_licence_valid_from"], json!(day(1)), "{ent}");
    let (_, answer) = app.authorize(&controller, ask_by("OK", "LPG", "S1")).await;
    assert_eq!(rules(&answer), ["R01"], "{answer}");
    // From today: allowed.
    renew(
        &app,
        "/api/v1/enterprises/ENT1",
        json!({"filling_licence_valid_from": day(0)}),
    )
    .await;
    let (_, answer) = app.authorize(&controller, ask_by("OK", "LPG", "S1")).await;
    assert_eq!(answer["allowed"], true, "{answer}");

    // Ending before it starts: 400 naming the field, nothing changed (PATCH and POST).
    let before = row(&app, "enterprises", "code", "ENT1").await;
    let v = version(&app, "/api/v1/enterprises/ENT1").await;
    let (status, _, body) = patch(
        &app,
        "/api/v1/enterprises/ENT1",
        Some(&v),
        &json!({"filling_licence_expires": day(-1)}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("filling_licence_valid_from")),
        "{body}"
    );
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    let mut backwards = enterprise("ENT9");
    backwards["filling_licence_valid_from"] = json!("2031-01-01");
    let (status, body) = app.post_json("/api/v1/enterprises", &backwards).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("filling_licence_valid_from")),
        "{body}"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM enterprises WHERE code = 'ENT9'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // ENT1's licence covers LPG only: an N2O cylinder is R15 alone; LPG still fills.
    ready(&app, &controller, "NX", "N2O").await;
    let (_, answer) = app.authorize(&controller, ask_by("NX", "N2O", "S1")).await;
    assert_eq!(rules(&answer), ["R15"], "{answer}");
    assert!(
        answer["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("氧化亚氮"),
        "{answer}"
    );
    let (_, answer) = app.authorize(&controller, ask_by("OK", "LPG", "S1")).await;
    assert_eq!(answer["allowed"], true, "{answer}");
    renew(
        &app,
        "/api/v1/enterprises/ENT1",
        json!({"media": ["LPG", "N2O"]}),
    )
    .await;
    let (_, answer) = app.authorize(&controller, ask_by("NX", "N2O", "S1")).await;
    assert_eq!(answer["allowed"], true, "{answer}");
}

/// R14: a filler needs a filling operator certificate valid today: none, expired yesterday,
/// not yet started, another kind, or an unknown number refuse; valid through today fills; a
/// regulator's renewal counts at the next question (the station cache is cleared).
#[tokio::test]
async fn a_filler_needs_a_filling_operator_certificate_valid_today_r14() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    ready(&app, &controller, "OK", "LPG").await;
    let filler = |no: &str, certificates: Value| {
        json!({"staff_no": no, "enterprise_code": "ENT1", "name": "充装工", "role": "filler",
               "certificates": certificates})
    };
    let operator = |number: &str, from: Option<String>, to: String| {
        let mut c = json!({"kind": "filling_operator", "number": number, "valid_to": to});
        if let Some(from) = from {
            c["valid_from"] = json!(from);
        }
        c
    };
    staff(&app, filler("F-NONE", json!([]))).await;
    staff(
        &app,
        filler("F-TODAY", json!([operator("TS-T", None, day(0))])),
    )
    .await;
    staff(
        &app,
        filler("F-EXP", json!([operator("TS-E", None, day(-1))])),
    )
    .await;
    staff(
        &app,
        filler("F-LATER", json!([operator("TS-L", Some(day(1)), day(400))])),
    )
    .await;
    staff(
        &app,
        filler(
            "F-HAZ",
            json!([{"kind": "hazmat_transport", "number": "WX-1", "valid_to": day(400)}]),
        ),
    )
    .await;
    for (no, expected) in [
        ("S1", vec![]),
        ("F-TODAY", vec![]),
        ("F-NONE", vec!["R14"]),
        ("F-EXP", vec!["R14"]),
        ("F-LATER", vec!["R14"]),
        ("F-HAZ", vec!["R14"]),
        ("NOBODY", vec!["R14"]),
    ] {
        let (status, answer) = app.authorize(&controller, ask_by("OK", "LPG", no)).await;
        assert_eq!(status, 200);
        assert_eq!(rules(&answer), expected, "{no}: {answer}");
        if no == "F-EXP" {
            assert!(
                answer["reasons"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("充装作业人员证"),
                "{answer}"
            );
        }
    }
    // Renewed by a regulator: allowed at the very next question.
    let renewed = renew(
        &app,
        "/api/v1/staff/F-EXP",
        json!({"certificates": [operator("TS-E", None, day(365))]}),
    )
    .await;
    assert_eq!(renewed["certificate_expires"], json!(day(365)), "{renewed}");
    let (_, answer) = app
        .authorize(&controller, ask_by("OK", "LPG", "F-EXP"))
        .await;
    assert_eq!(answer["allowed"], true, "{answer}");
    // And the old way (certificate_expires) renews the one of that number too.
    renew(
        &app,
        "/api/v1/staff/F-EXP",
        json!({"certificate_expires": day(-1)}),
    )
    .await;
    let (_, answer) = app
        .authorize(&controller, ask_by("OK", "LPG", "F-EXP"))
        .await;
    assert_eq!(rules(&answer), ["R14"], "{answer}");
}

/// Certificates are the regulators': an enterprise admin patching its own staff's is 403
/// naming the field, nothing changed; a bad list is 400 naming the entry; the old
/// `certificate_no|expires` still work (one certificate of the role's kind, read back as the
/// role's latest); the revision keeps the list before and after; `escort` is a role.
#[tokio::test]
async fn certificates_are_a_list_written_by_regulators_and_the_old_fields_still_work() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let admin = new_user(&app, "ent-admin", "enterprise_admin", Some("ENT1")).await;
    let before = row(&app, "staff", "staff_no", "S1").await;
    let certs = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM staff_certificates")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    let count = certs().await;
    // The seed's old-style certificate is in the list.
    let (_, _, s1) = get(&app, "/api/v1/staff/S1", None).await;
    assert_eq!(
        s1["certificates"],
        json!([{"kind": "filling_operator", "number": "TS-1", "valid_to": "2030-01-01"}]),
        "{s1}"
    );
    assert_eq!(
        (&s1["certificate_no"], &s1["certificate_expires"]),
        (&json!("TS-1"), &json!("2030-01-01"))
    );
    let list = json!([{"kind": "filling_operator", "number": "TS-9", "valid_to": "2040-01-01"}]);
    let (status, _, body) = patch(
        &app,
        "/api/v1/staff/S1",
        Some("1"),
        &json!({"certificates": list}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["code"], &body["error"]["field"]),
        (403, &json!("forbidden"), &json!("certificates")),
        "{body}"
    );
    // Nor does it register a staff member with one (old style or new): 403, nothing written.
    for (extra, field) in [
        (json!({"certificates": list}), "certificates"),
        (
            json!({"certificate_no": "TS-7", "certificate_expires": "2040-01-01"}),
            "certificate_no",
        ),
    ] {
        let mut body = json!({"staff_no": "F-SELF", "enterprise_code": "ENT1", "name": "自证",
                              "role": "filler"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/staff",
                Some(&body),
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, &answer["error"]["field"]),
            (403, &json!(field)),
            "{answer}"
        );
    }
    let (status, _, _) = get(&app, "/api/v1/staff/F-SELF", None).await;
    assert_eq!(status, 404);
    // A certificate ending before it starts; the same one twice: 400 naming the entry.
    for (bad, field) in [
        (
            json!([{"kind": "filling_operator", "number": "TS-2", "valid_from": "2031-01-01",
                    "valid_to": "2030-01-01"}]),
            "certificates[0].valid_to",
        ),
        (
            json!([{"kind": "filling_operator", "number": "TS-2", "valid_to": "2030-01-01"},
                   {"kind": "filling_operator", "number": "TS-2", "valid_to": "2031-01-01"}]),
            "certificates[1].number",
        ),
        (
            json!([{"kind": "pilot", "number": "TS-2", "valid_to": "2030-01-01"}]),
            "certificates[0].kind",
        ),
    ] {
        let (status, _, body) = patch(
            &app,
            "/api/v1/staff/S1",
            Some("1"),
            &json!({"certificates": bad}),
            None,
        )
        .await;
        assert_eq!(
            (status, &body["error"]["field"]),
            (400, &json!(field)),
            "{body}"
        );
    }
    assert_eq!(row(&app, "staff", "staff_no", "S1").await, before);
    assert_eq!(certs().await, count);

    // A regulator replaces the list: two certificates; the old fields read the latest.
    let list = json!([
        {"kind": "filling_operator", "number": "TS-1", "valid_to": "2030-01-01"},
        {"kind": "filling_operator", "number": "TS-2", "valid_from": "2029-06-01",
         "valid_to": "2034-06-01"}]);
    let s1 = renew(&app, "/api/v1/staff/S1", json!({"certificates": list})).await;
    assert_eq!(s1["certificates"], list, "{s1}");
    assert_eq!(
        (&s1["certificate_no"], &s1["certificate_expires"]),
        (&json!("TS-2"), &json!("2034-06-01"))
    );
    let (_, _, revisions) = get(&app, "/api/v1/staff/S1/revisions", None).await;
    let changes = &revisions.as_array().unwrap().last().unwrap()["changes"];
    assert_eq!(changes["certificates"][1], list, "{revisions}");

    // Old style on POST: a driver's certificate is a hazmat transport one; escorts too.
    for (no, role) in [("D1", "driver"), ("E1", "escort")] {
        staff(
            &app,
            json!({"staff_no": no, "enterprise_code": "ENT1", "name": "押运", "role": role,
                   "certificate_no": format!("WX-{no}"), "certificate_expires": "2031-05-01"}),
        )
        .await;
        let (_, _, body) = get(&app, &format!("/api/v1/staff/{no}"), None).await;
        assert_eq!(
            (
                &body["role"],
                &body["certificates"],
                &body["certificate_no"]
            ),
            (
                &json!(role),
                &json!([{"kind": "hazmat_transport", "number": format!("WX-{no}"),
                         "valid_to": "2031-05-01"}]),
                &json!(format!("WX-{no}"))
            ),
            "{body}"
        );
    }
    // A role that needs none keeps what was written, as before.
    staff(
        &app,
        json!({"staff_no": "W1", "enterprise_code": "ENT1", "name": "库管", "role": "warehouse",
               "certificate_no": "CK-1", "certificate_expires": "2031-05-01"}),
    )
    .await;
    let (_, _, body) = get(&app, "/api/v1/staff/W1", None).await;
    assert_eq!(
        (
            &body["certificate_no"],
            &body["certificate_expires"],
            &body["certificates"]
        ),
        (&json!("CK-1"), &json!("2031-05-01"), &json!([])),
        "{body}"
    );
    // A role change by the enterprise carries no certificate into the new role's kind.
    let v = version(&app, "/api/v1/staff/W1").await;
    let (status, _, body) = patch(
        &app,
        "/api/v1/staff/W1",
        Some(&v),
        &json!({"role": "filler"}),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["certificates"], &body["certificate_no"]),
        (&json!([]), &Value::Null),
        "{body}"
    );
}

/// A delivery signed by a driver without a hazmat transport certificate valid that day
/// raises `staff_uncertified`; one holding only a filler's certificate too; with a valid one,
/// nothing.
#[tokio::test]
async fn a_driver_without_a_valid_hazmat_certificate_delivering_raises_staff_uncertified() {
    let app = spawn_app().await;
    app.seed_registry().await;
    staff(
        &app,
        json!({"staff_no": "D-OK", "enterprise_code": "ENT1", "name": "持证司机", "role": "driver",
               "certificates": [{"kind": "hazmat_transport", "number": "WX-1",
                                 "valid_from": "2026-01-01", "valid_to": "2027-12-31"}]}),
    )
    .await;
    staff(
        &app,
        json!({"staff_no": "D-FILL", "enterprise_code": "ENT1", "name": "错证司机",
               "role": "driver", "certificates": [{"kind": "filling_operator",
               "number": "TS-8", "valid_to": "2030-01-01"}]}),
    )
    .await;
    staff(
        &app,
        json!({"staff_no": "D-OLD", "enterprise_code": "ENT1", "name": "过期司机",
               "role": "driver", "certificates": [{"kind": "hazmat_transport",
               "number": "WX-2", "valid_to": "2026-11-19"}]}),
    )
    .await;
    for (i, no) in ["D-OK", "D-FILL", "D-OLD"].iter().enumerate() {
        let code = format!("DL{i}");
        let (status, body) = app
            .post_json("/api/v1/cylinders", &archive(&code, &format!("T{code}")))
            .await;
        assert_eq!(status, 201, "{body}");
        let deliver = scan(
            "deliver",
            &code,
            "2026-11-20T09:00:00+08:00",
            json!({"customer_code": "C1", "staff_no": no, "lon": 113.66, "lat": 34.76}),
        );
        assert_eq!(app.post_events(&json!({"events": [deliver]})).await.0, 202);
    }
    let uncertified = || async {
        let mut ids: Vec<String> = app
            .get_json("/api/v1/alerts?kind=staff_uncertified")
            .await
            .1["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| a["subject"]["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        ids
    };
    app.wait_until(|| async { uncertified().await.len() == 2 })
        .await;
    // All three delivered; only the two without a valid hazmat certificate are alerted.
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/DL0").await.1["custody"] == "at_customer"
    })
    .await;
    assert_eq!(uncertified().await, ["ENT1/D-FILL", "ENT1/D-OLD"]);
}

/// Vehicle permits and consignee licences are the regulators': an enterprise admin writing
/// one is 403 naming it; a permit number without its end is 400; a regulator's change reads
/// back.
#[tokio::test]
async fn vehicle_permits_and_customer_licences_are_written_by_regulators() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let admin = new_user(&app, "ent-admin", "enterprise_admin", Some("ENT1")).await;
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A00001", "enterprise_code": "ENT1",
                    "transport_permit_no": "豫交运-1"}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("transport_permit_expires")),
        "{body}"
    );
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A00001", "enterprise_code": "ENT1",
                    "transport_permit_no": "豫交运-1", "transport_permit_expires": "2027-01-01"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let before = row(&app, "vehicles", "plate", "豫A00001").await;
    let (status, _, body) = patch(
        &app,
        "/api/v1/vehicles/豫A00001",
        Some("1"),
        &json!({"transport_permit_expires": "2030-01-01"}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (403, &json!("transport_permit_expires")),
        "{body}"
    );
    assert_eq!(row(&app, "vehicles", "plate", "豫A00001").await, before);
    let v = renew(
        &app,
        "/api/v1/vehicles/豫A00001",
        json!({"transport_permit_expires": "2030-01-01"}),
    )
    .await;
    assert_eq!(
        (&v["transport_permit_no"], &v["transport_permit_expires"]),
        (&json!("豫交运-1"), &json!("2030-01-01")),
        "{v}"
    );

    let before = row(&app, "customers", "code", "C1").await;
    for field in ["licence_no", "licence_expires"] {
        let value = if field == "licence_no" {
            json!("豫危化-1")
        } else {
            json!("2030-01-01")
        };
        let (status, _, body) = patch(
            &app,
            "/api/v1/customers/C1",
            Some("1"),
            &json!({field: value}),
            Some(&admin),
        )
        .await;
        assert_eq!(
            (status, &body["error"]["field"]),
            (403, &json!(field)),
            "{body}"
        );
    }
    // An end without a licence: 400 naming it.
    let (status, _, body) = patch(
        &app,
        "/api/v1/customers/C1",
        Some("1"),
        &json!({"licence_expires": "2030-01-01"}),
        None,
    )
    .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (400, &json!("licence_expires")),
        "{body}"
    );
    assert_eq!(row(&app, "customers", "code", "C1").await, before);
    let c = renew(
        &app,
        "/api/v1/customers/C1",
        json!({"licence_no": "豫危化-1", "licence_expires": "2030-01-01"}),
    )
    .await;
    assert_eq!(c["licence_expires"], json!("2030-01-01"), "{c}");
}

/// N2O delivered to a consignee whose licence expired before the delivery's day raises
/// `controlled_medium_unlicensed`; one valid through that day does not.
#[tokio::test]
async fn n2o_to_a_consignee_whose_licence_expired_raises_controlled_medium_unlicensed() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, body) = app
        .post_json(
            "/api/v1/customers",
            &json!({"code": "C2", "enterprise_code": "ENT1", "name": "医院",
                    "kind": "industrial", "phone": "13800000001", "address": "金水路2号",
                    "location": {"lon": 113.665, "lat": 34.762}, "district_code": "410105",
                    "licence_no": "豫危化-2", "licence_expires": "2026-11-20"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    renew(
        &app,
        "/api/v1/customers/C1",
        json!({"licence_no": "豫危化-1", "licence_expires": "2026-11-19"}),
    )
    .await;
    for (code, customer) in [("N1", "C1"), ("N2", "C2")] {
        let mut a = archive(code, &format!("T{code}"));
        a["medium"] = json!("N2O");
        let (status, body) = app.post_json("/api/v1/cylinders", &a).await;
        assert_eq!(status, 201, "{body}");
        let deliver = scan(
            "deliver",
            code,
            "2026-11-20T11:00:00+08:00",
            json!({"customer_code": customer, "staff_no": "S1"}),
        );
        assert_eq!(app.post_events(&json!({"events": [deliver]})).await.0, 202);
    }
    let alerts = || async {
        app.get_json("/api/v1/alerts?kind=controlled_medium_unlicensed")
            .await
            .1["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    app.wait_until(|| async { alerts().await.len() == 1 }).await;
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/N2").await.1["custody"] == "at_customer"
            && app.get_json("/api/v1/cylinders/N1").await.1["custody"] == "at_customer"
    })
    .await;
    let list = alerts().await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (&list[0]["subject"], &list[0]["evidence"]["licence_expires"]),
        (
            &json!({"type": "customer", "id": "C1"}),
            &json!("2026-11-19")
        ),
        "{list:?}"
    );
}

/// The licence pass (migration 0045's view) sees the new sources: a vehicle permit and a
/// consignee licence ending soon raise `licence_expiring` on the vehicle and the customer; a
/// staff member whose old certificate expired beside a renewed one of the same kind has no
/// `licence_expired`, while one whose only certificate expired yesterday has.
#[tokio::test]
async fn the_licence_pass_sees_permits_consignee_licences_and_certificate_lists() {
    let mut config = crate::common::AppConfig::default();
    config
        .env
        .push(("CYLWATCH_LICENCE_PASS_EVERY_S".into(), "1".into()));
    let app = crate::common::spawn_app_with(config, crate::common::TestDb::new().await).await;
    app.seed_registry().await;
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A00002", "enterprise_code": "ENT1",
                    "transport_permit_no": "豫交运-2", "transport_permit_expires": day(10)}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    renew(
        &app,
        "/api/v1/customers/C1",
        json!({"licence_no": "豫危化-1", "licence_expires": day(12)}),
    )
    .await;
    staff(
        &app,
        json!({"staff_no": "D-RENEW", "enterprise_code": "ENT1", "name": "续证", "role": "driver",
               "certificates": [
                   {"kind": "hazmat_transport", "number": "WX-OLD", "valid_to": day(-1)},
                   {"kind": "hazmat_transport", "number": "WX-NEW", "valid_to": day(400)}]}),
    )
    .await;
    staff(
        &app,
        json!({"staff_no": "D-LAPSED", "enterprise_code": "ENT1", "name": "过期", "role": "driver",
               "certificates": [
                   {"kind": "hazmat_transport", "number": "WX-9", "valid_to": day(-1)}]}),
    )
    .await;
    let subjects = |kind: &'static str| {
        let app = &app;
        async move {
            let mut ids: Vec<(String, String, String)> =
                app.get_json(&format!("/api/v1/alerts?kind={kind}")).await.1["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        (
                            a["subject"]["type"].as_str().unwrap_or_default().to_owned(),
                            a["subject"]["id"].as_str().unwrap_or_default().to_owned(),
                            a["evidence"]["licence_kind"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        )
                    })
                    .collect();
            ids.sort();
            ids
        }
    };
    app.wait_until(|| async {
        subjects("licence_expiring").await.len() == 2
            && !subjects("licence_expired").await.is_empty()
    })
    .await;
    let own = |t: &str, id: &str, k: &str| (t.to_owned(), id.to_owned(), k.to_owned());
    assert_eq!(
        subjects("licence_expiring").await,
        [
            own("customer", "C1", "consignee_licence"),
            own("vehicle", "豫A00002", "transport_permit")
        ]
    );
    assert_eq!(
        subjects("licence_expired").await,
        [own("staff", "ENT1/D-LAPSED", "staff_certificate")]
    );
}
