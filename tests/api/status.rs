//! Issue 21 item 2: status instead of delete. Enterprises, stations, staff, vehicles and
//! devices are suspended, reinstated and closed with a reason (never deleted); each change
//! bumps the version and keeps a revision. A suspended or closed enterprise or station is
//! refused at the gun (R13), a suspended device's key is refused, a suspended vehicle moving
//! with cylinders raises `vehicle_suspended`; what a regulator suspended only a regulator
//! reinstates; another enterprise learns nothing and changes nothing.

use crate::access::{new_user, PASSWORD};
use crate::common::{enterprise, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// A POST as `token` (the administrator's when `None`).
pub(crate) async fn post(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let token = token.unwrap_or(&app.admin_token);
    app.send_json(Method::POST, path, Some(body), Some(token))
        .await
}

pub(crate) fn why(reason: &str) -> Value {
    json!({"reason": reason})
}

/// A record's stored status, reason, version and who suspended it.
pub(crate) async fn row(app: &TestApp, table: &str, key_column: &str, key: &str) -> Value {
    let row: (String, Option<String>, i64, bool) = sqlx::query_as(&format!(
        "SELECT status, status_reason, version, suspended_by_regulator FROM {table} \
         WHERE {key_column} = $1"
    ))
    .bind(key)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    json!({"status": row.0, "reason": row.1, "version": row.2, "by_regulator": row.3})
}

pub(crate) async fn revisions(
    app: &TestApp,
    kind: &str,
    key: &str,
) -> Vec<(i64, Option<String>, Value)> {
    sqlx::query_as(
        "SELECT version, reason, changes FROM revisions WHERE record_kind = $1 \
         AND record_key = $2 ORDER BY version",
    )
    .bind(kind)
    .bind(key)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// A device registered with a known id; returns its key.
pub(crate) async fn device(app: &TestApp, id: &str, enterprise: &str, extra: Value) -> String {
    let mut body = json!({"device_id": id, "kind": "gps", "enterprise_code": enterprise});
    if let (Some(b), Value::Object(more)) = (body.as_object_mut(), extra) {
        b.extend(more);
    }
    let (status, answer) = app.post_json("/api/v1/devices", &body).await;
    assert_eq!(status, 201, "device: {answer}");
    answer["key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_transition_and_each_wrong_one_with_version_revision_and_audit() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    assert_eq!(
        app.post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A10001", "enterprise_code": "ENT1"})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        app.post_json("/api/v1/enterprises", &enterprise("ENT9"))
            .await
            .0,
        201
    );
    device(&app, "DEV-1", "ENT1", json!({})).await;
    // (path prefix, table, key column, key, revision key)
    let records = [
        (
            "/api/v1/enterprises/ENT9",
            "enterprises",
            "code",
            "ENT9",
            "ENT9",
        ),
        ("/api/v1/stations/ST1", "stations", "code", "ST1", "ST1"),
        ("/api/v1/staff/S1", "staff", "staff_no", "S1", "ENT1/S1"),
        (
            "/api/v1/vehicles/豫A10001",
            "vehicles",
            "plate",
            "豫A10001",
            "豫A10001",
        ),
    ];
    for (path, table, column, key, revision_key) in records {
        let before = row(&app, table, column, key).await;
        assert_eq!(before["status"], "active");
        assert_eq!(before["version"], 1);
        // Bad reasons change nothing.
        for bad in [
            json!({"reason": ""}),
            json!({"reason": "   "}),
            json!({"reason": "长".repeat(501)}),
            json!({}),
            json!({"reason": "x", "extra": 1}),
            json!({"reason": 5}),
        ] {
            let (status, answer) = post(&app, None, &format!("{path}/suspend"), &bad).await;
            assert_eq!(status, 400, "{path} {bad}: {answer}");
            assert!(answer["error"]["field"].is_string(), "{answer}");
        }
        assert_eq!(row(&app, table, column, key).await, before, "{path}");
        // Wrong transitions from active.
        let (status, answer) = post(&app, None, &format!("{path}/reinstate"), &why("x")).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (409, Some("invalid_transition")),
            "{path}: {answer}"
        );
        let (status, answer) = post(&app, None, &format!("{path}/suspend"), &why("停业整顿")).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(answer["status"], "suspended");
        assert_eq!(answer["status_reason"], "停业整顿");
        assert_eq!(answer["version"], 2);
        assert_eq!(answer["code"], key);
        assert_eq!(answer["suspended_by_regulator"], true);
        let (status, answer) = post(&app, None, &format!("{path}/suspend"), &why("x")).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (409, Some("invalid_transition"))
        );
        let (status, answer) =
            post(&app, None, &format!("{path}/reinstate"), &why("整改完成")).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(
            (answer["status"].as_str(), answer["version"].as_i64()),
            (Some("active"), Some(3))
        );
        let (status, answer) = post(&app, None, &format!("{path}/close"), &why("注销")).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(
            (answer["status"].as_str(), answer["version"].as_i64()),
            (Some("closed"), Some(4))
        );
        // Closed is final.
        for verb in ["suspend", "reinstate", "close"] {
            let (status, answer) = post(&app, None, &format!("{path}/{verb}"), &why("x")).await;
            assert_eq!(
                (status, answer["error"]["code"].as_str()),
                (409, Some("invalid_transition")),
                "{path} {verb}: {answer}"
            );
        }
        let after = row(&app, table, column, key).await;
        assert_eq!(
            after,
            json!({"status": "closed", "reason": "注销", "version": 4, "by_regulator": false})
        );
        let kept = revisions(&app, table, revision_key).await;
        assert_eq!(
            kept.iter().map(|r| (r.0, r.1.clone())).collect::<Vec<_>>(),
            [
                (2, Some("停业整顿".to_owned())),
                (3, Some("整改完成".to_owned())),
                (4, Some("注销".to_owned()))
            ],
            "{path}"
        );
        assert_eq!(kept[0].2["status"], json!(["active", "suspended"]));
        assert_eq!(kept[2].2["status"], json!(["active", "closed"]));
        // Audited, with the reason.
        let (_, audit) = app.get_json("/api/v1/audit?limit=1000").await;
        assert!(
            audit["items"].as_array().unwrap().iter().any(|r| {
                r["details"]["reason"] == "停业整顿" && r["details"]["record"] == table
            }),
            "{path}: {audit}"
        );
        // Unknown: 404.
        let unknown = path.replace(key, "NOPE");
        let (status, _) = post(&app, None, &format!("{unknown}/suspend"), &why("x")).await;
        assert_eq!(status, 404, "{unknown}");
    }
    // Nothing was deleted.
    for (table, n) in [
        ("enterprises", 2_i64),
        ("stations", 2),
        ("staff", 1),
        ("vehicles", 1),
    ] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert!(count >= n, "{table}");
    }
    // Devices: suspend and reinstate; revoke is close, final.
    let (status, answer) = post(&app, None, "/api/v1/devices/DEV-1/suspend", &why("丢失")).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("suspended")),
        "{answer}"
    );
    let (status, answer) = post(&app, None, "/api/v1/devices/DEV-1/reinstate", &why("找回")).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("active")),
        "{answer}"
    );
    let (status, _) = post(&app, None, "/api/v1/devices/DEV-1/revoke", &json!({})).await;
    assert_eq!(status, 204);
    let after = row(&app, "devices", "device_id", "DEV-1").await;
    assert_eq!(
        (after["status"].as_str(), after["version"].as_i64()),
        (Some("closed"), Some(4))
    );
    for verb in ["suspend", "reinstate"] {
        let (status, answer) = post(
            &app,
            None,
            &format!("/api/v1/devices/DEV-1/{verb}"),
            &why("x"),
        )
        .await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (409, Some("invalid_transition"))
        );
    }
    let (status, _) = post(&app, None, "/api/v1/devices/DEV-1/revoke", &json!({})).await;
    assert_eq!(status, 404, "revoked once");
}

#[tokio::test]
async fn what_a_regulator_suspended_only_a_regulator_reinstates() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    let ent_admin = new_user(&app, "ent1-admin", "enterprise_admin", Some("ENT1")).await;
    let ent_staff = new_user(&app, "ent1-staff", "enterprise_staff", Some("ENT1")).await;
    let district = new_user(&app, "jinshui", "district_regulator", None).await;
    // The regulator (the administrator) suspends ST1: the enterprise cannot lift it.
    assert_eq!(
        post(&app, None, "/api/v1/stations/ST1/suspend", &why("违规充装"))
            .await
            .0,
        200
    );
    let before = row(&app, "stations", "code", "ST1").await;
    assert_eq!(before["by_regulator"], true);
    let (status, answer) = post(
        &app,
        Some(&ent_admin),
        "/api/v1/stations/ST1/reinstate",
        &why("我们改好了"),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{answer}"
    );
    assert_eq!(row(&app, "stations", "code", "ST1").await, before);
    // The city's sanction (the administrator's here) is the city's to lift: a district
    // regulator of the enterprise's district cannot; the city can.
    let (status, answer) = post(
        &app,
        Some(&district),
        "/api/v1/stations/ST1/reinstate",
        &why("复查合格"),
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &json!("forbidden")),
        "{answer}"
    );
    assert_eq!(row(&app, "stations", "code", "ST1").await, before);
    let (status, answer) = post(
        &app,
        None,
        "/api/v1/stations/ST1/reinstate",
        &why("复查合格"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // A district regulator's own suspension it lifts; once the city takes it over, it cannot.
    for (token, change, expected) in [
        (Some(&district), "suspend", 200),
        (Some(&district), "reinstate", 200),
        (Some(&district), "suspend", 200),
        (None, "suspend", 200),
        (Some(&district), "reinstate", 403),
        (None, "reinstate", 200),
    ] {
        let (status, answer) = post(
            &app,
            token.map(String::as_str),
            &format!("/api/v1/stations/ST1/{change}"),
            &why("检查"),
        )
        .await;
        assert_eq!(status, expected, "{change}: {answer}");
    }
    // The enterprise suspends and reinstates its own station and staff.
    for path in ["/api/v1/stations/ST2", "/api/v1/staff/S1"] {
        let (status, answer) = post(
            &app,
            Some(&ent_admin),
            &format!("{path}/suspend"),
            &why("休假"),
        )
        .await;
        assert_eq!(
            (status, answer["suspended_by_regulator"].as_bool()),
            (200, Some(false)),
            "{answer}"
        );
        let (status, answer) = post(
            &app,
            Some(&ent_admin),
            &format!("{path}/reinstate"),
            &why("回岗"),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
    // Enterprises are the regulators' only; staff change nothing.
    let before = row(&app, "enterprises", "code", "ENT1").await;
    for token in [&ent_admin, &ent_staff] {
        let (status, _) = post(
            &app,
            Some(token),
            "/api/v1/enterprises/ENT1/suspend",
            &why("x"),
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, _) = post(
        &app,
        Some(&ent_staff),
        "/api/v1/stations/ST2/suspend",
        &why("x"),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    assert_eq!(
        post(
            &app,
            Some(&district),
            "/api/v1/enterprises/ENT1/suspend",
            &why("吊销许可")
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn another_enterprise_cannot_change_the_status_of_a_records_and_learns_nothing() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    assert_eq!(
        app.post_json("/api/v1/enterprises", &enterprise("ENT2"))
            .await
            .0,
        201
    );
    assert_eq!(
        app.post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A30001", "enterprise_code": "ENT1"})
        )
        .await
        .0,
        201
    );
    device(&app, "DEV-A", "ENT1", json!({})).await;
    let b_admin = new_user(&app, "ent2-admin", "enterprise_admin", Some("ENT2")).await;
    let other_district = {
        let body = json!({"username": "zhongyuan", "password": PASSWORD,
                          "role": "district_regulator", "district_code": "410102"});
        assert_eq!(app.post_json("/api/v1/users", &body).await.0, 201);
        app.login("zhongyuan", PASSWORD).await
    };
    let targets = [
        ("/api/v1/stations/ST1", "stations", "code", "ST1"),
        ("/api/v1/staff/S1", "staff", "staff_no", "S1"),
        ("/api/v1/vehicles/豫A30001", "vehicles", "plate", "豫A30001"),
        ("/api/v1/devices/DEV-A", "devices", "device_id", "DEV-A"),
    ];
    for (path, table, column, key) in targets {
        let before = row(&app, table, column, key).await;
        for token in [&b_admin, &other_district] {
            for verb in ["suspend", "reinstate", "close"] {
                if table == "devices" && verb == "close" {
                    continue;
                }
                let (status, answer) = post(
                    &app,
                    Some(token),
                    &format!("{path}/{verb}"),
                    &why("hostile"),
                )
                .await;
                assert_eq!(status, 404, "{path}/{verb}: {answer}");
                assert!(!answer.to_string().contains(key), "{answer}");
            }
        }
        assert_eq!(row(&app, table, column, key).await, before, "{path}");
    }
    let staff_named = "/api/v1/staff/S1/suspend?enterprise_code=ENT1";
    assert_eq!(
        post(&app, Some(&b_admin), staff_named, &why("hostile"))
            .await
            .0,
        404
    );
    let before = row(&app, "enterprises", "code", "ENT1").await;
    assert_eq!(
        post(
            &app,
            Some(&other_district),
            "/api/v1/enterprises/ENT1/suspend",
            &why("x")
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post(
            &app,
            Some(&b_admin),
            "/api/v1/enterprises/ENT1/suspend",
            &why("x")
        )
        .await
        .0,
        403
    );
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
}

/// Staff numbers are unique per enterprise: a regulator names the enterprise when two share
/// one; an enterprise administrator's own is implied.
#[tokio::test]
async fn a_staff_number_two_enterprises_use_is_named_with_its_enterprise() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    assert_eq!(
        app.post_json("/api/v1/enterprises", &enterprise("ENT2"))
            .await
            .0,
        201
    );
    let staff =
        json!({"staff_no": "S1", "enterprise_code": "ENT2", "name": "李四", "role": "driver"});
    assert_eq!(app.post_json("/api/v1/staff", &staff).await.0, 201);
    let (status, answer) = post(&app, None, "/api/v1/staff/S1/suspend", &why("x")).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "enterprise_code");
    let (status, answer) = post(
        &app,
        None,
        "/api/v1/staff/S1/suspend?enterprise_code=ENT2",
        &why("证书过期"),
    )
    .await;
    assert_eq!(
        (status, answer["enterprise_code"].as_str()),
        (200, Some("ENT2")),
        "{answer}"
    );
    let (status, _) = post(&app, None, "/api/v1/staff/S1/suspend?bogus=1", &why("x")).await;
    assert_eq!(status, 400);
    let ent1: String =
        sqlx::query_scalar("SELECT status FROM staff WHERE enterprise_code = 'ENT1'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(ent1, "active");
    let ent1_admin = new_user(&app, "ent1-admin", "enterprise_admin", Some("ENT1")).await;
    let (status, answer) = post(
        &app,
        Some(&ent1_admin),
        "/api/v1/staff/S1/suspend",
        &why("休假"),
    )
    .await;
    assert_eq!(
        (status, answer["enterprise_code"].as_str()),
        (200, Some("ENT1")),
        "{answer}"
    );
    assert_eq!(revisions(&app, "staff", "ENT2/S1").await.len(), 1);
    assert_eq!(revisions(&app, "staff", "ENT1/S1").await.len(), 1);
}

/// The revision kept for `version` of a record: its reason and changes.
pub(crate) async fn revision(
    app: &TestApp,
    kind: &str,
    key: &str,
    version: i64,
) -> (Option<String>, Value) {
    let found = revisions(app, kind, key).await;
    let (_, reason, changes) = found
        .into_iter()
        .find(|(v, _, _)| *v == version)
        .unwrap_or_else(|| panic!("no revision {version} of {kind} {key}"));
    (reason, changes)
}

/// Review fix 1: an enterprise suspending its own station first does not shield it from the
/// regulator. The regulator's suspension takes the suspended station over (flag, version,
/// revision with its reason; the suspension's date stays); from then on only a regulator lifts
/// it; a second regulator suspension and the enterprise's own are still 409.
#[tokio::test]
async fn a_regulator_takes_over_a_suspension_the_enterprise_made_itself() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    let ent_admin = new_user(&app, "ent1-admin", "enterprise_admin", Some("ENT1")).await;
    let district = new_user(&app, "jinshui", "district_regulator", None).await;
    let path = "/api/v1/stations/ST1";
    let (status, answer) = post(
        &app,
        Some(&ent_admin),
        &format!("{path}/suspend"),
        &why("盘点"),
    )
    .await;
    assert_eq!(
        (status, answer["suspended_by_regulator"].as_bool()),
        (200, Some(false)),
        "{answer}"
    );
    let since = answer["status_changed_at"].clone();
    // The enterprise again: nothing to do.
    let before = row(&app, "stations", "code", "ST1").await;
    let (status, answer) = post(
        &app,
        Some(&ent_admin),
        &format!("{path}/suspend"),
        &why("再停"),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "{answer}"
    );
    assert_eq!(row(&app, "stations", "code", "ST1").await, before);
    // The regulator takes it over.
    let (status, answer) = post(
        &app,
        Some(&district),
        &format!("{path}/suspend"),
        &why("违规充装"),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["suspended_by_regulator"], true, "{answer}");
    assert_eq!(answer["status"], "suspended");
    assert_eq!(
        answer["status_changed_at"], since,
        "suspended since the first time"
    );
    let after = row(&app, "stations", "code", "ST1").await;
    assert_eq!(
        after,
        json!({"status": "suspended", "reason": "违规充装", "version": before["version"].as_i64().unwrap() + 1,
               "by_regulator": true})
    );
    let (reason, changes) =
        revision(&app, "stations", "ST1", after["version"].as_i64().unwrap()).await;
    assert_eq!(reason.as_deref(), Some("违规充装"));
    assert_eq!(
        changes["suspended_by_regulator"],
        json!([false, true]),
        "{changes}"
    );
    // Only a regulator lifts it now.
    let (status, answer) = post(
        &app,
        Some(&ent_admin),
        &format!("{path}/reinstate"),
        &why("改好了"),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{answer}"
    );
    assert_eq!(row(&app, "stations", "code", "ST1").await, after);
    // A second suspension by a regulator of the same rank is nothing to do (the city's would
    // take the district's over: `what_a_regulator_suspended_only_a_regulator_reinstates`).
    let (status, _) = post(
        &app,
        Some(&district),
        &format!("{path}/suspend"),
        &why("再次"),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(row(&app, "stations", "code", "ST1").await, after);
    let (status, answer) = post(&app, None, &format!("{path}/reinstate"), &why("复查合格")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        row(&app, "stations", "code", "ST1").await["by_regulator"],
        false
    );
}

/// Review fix 5: a NUL or another control character in a reason is 400 naming `reason`, on
/// the registry's status routes and on the accounts', and changes nothing.
#[tokio::test]
async fn a_control_character_in_a_reason_is_refused_naming_the_reason() {
    let app = crate::common::spawn_app().await;
    app.seed_registry().await;
    new_user(&app, "duty-x", "duty_officer", None).await;
    let user_row = || async {
        let row: (String, Option<String>, i64) = sqlx::query_as(
            "SELECT status, status_reason, version FROM users WHERE username = 'duty-x'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        row
    };
    let station_before = row(&app, "stations", "code", "ST1").await;
    let user_before = user_row().await;
    for bad in [
        "停业\u{0}整顿",
        "\u{0}",
        "停业\u{7}",
        "停业\n整顿",
        "a\u{1b}[31m",
    ] {
        for path in [
            "/api/v1/stations/ST1/suspend",
            "/api/v1/users/duty-x/suspend",
        ] {
            let (status, answer) = post(&app, None, path, &why(bad)).await;
            assert_eq!(
                (status, answer["error"]["field"].as_str()),
                (400, Some("reason")),
                "{path} {bad:?}: {answer}"
            );
        }
    }
    assert_eq!(row(&app, "stations", "code", "ST1").await, station_before);
    assert_eq!(user_row().await, user_before);
}
