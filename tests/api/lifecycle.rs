//! Cylinder lifecycle (issue 21 item 4): replacing a tag (the old one void for ever, the new
//! one resolving in events and at the gun, the replacement in the history and the revisions,
//! another enterprise kept out), and the archive's serial number and production batch
//! (created, shown, exported, imported with and without their columns, validated).

use crate::common::{archive, enterprise, spawn_app, TestApp};
use crate::filling::{cylinder, rules};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "Lifecycle-Test-2026!";

/// A cylinder's code, tag, version, serial number and production batch.
type CylinderRow = (String, String, i64, Option<String>, Option<String>);

/// What a refused request must leave as it was: every cylinder's code, tag and version, the
/// void tags, the revisions.
async fn snapshot(app: &TestApp) -> Value {
    let cylinders: Vec<CylinderRow> = sqlx::query_as(
        "SELECT code, tag_id, version, serial_no, production_batch FROM cylinders ORDER BY code",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let void: Vec<(String, String)> =
        sqlx::query_as("SELECT old_tag_id, new_tag_id FROM tag_replacements ORDER BY old_tag_id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let revisions: i64 = sqlx::query_scalar("SELECT count(*) FROM revisions")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    json!({"cylinders": cylinders, "void": void, "revisions": revisions})
}

async fn replace(app: &TestApp, token: &str, code: &str, body: Value) -> (u16, Value) {
    app.send_json(
        Method::POST,
        &format!("/api/v1/cylinders/{code}/replace-tag"),
        Some(&body),
        Some(token),
    )
    .await
}

async fn user(app: &TestApp, name: &str, role: &str, enterprise: &str) -> String {
    let body = json!({"username": name, "password": PASSWORD, "role": role,
                      "enterprise_code": enterprise});
    let (status, answer) = app.post_json("/api/v1/users", &body).await;
    assert_eq!(status, 201, "{name}: {answer}");
    app.login(name, PASSWORD).await
}

fn recent(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

/// A scan naming its cylinder by tag.
fn scan_tag(op: &str, tag: &str, at: &str) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "scan", "op": op, "tag_id": tag, "occurred_at": at,
           "station_code": "ST1", "staff_no": "S1"})
}

fn assert_error(status: u16, answer: &Value, expected: (u16, &str, &str)) {
    assert_eq!(
        (
            status,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (expected.0, Some(expected.1), Some(expected.2)),
        "{answer}"
    );
}

#[tokio::test]
async fn a_replaced_tag_is_void_for_ever_and_the_new_one_resolves() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    cylinder(&app, "LC1", "ST1", json!({})).await;
    cylinder(&app, "LC2", "ST1", json!({})).await;
    let admin = app.admin_token.clone();

    let (status, done) = replace(
        &app,
        &admin,
        "LC1",
        json!({"tag_id": "T-NEW1", "reason": "标签损坏"}),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (
            &done["code"],
            &done["old_tag_id"],
            &done["tag_id"],
            &done["version"],
            &done["by"]
        ),
        (
            &json!("LC1"),
            &json!("T-LC1"),
            &json!("T-NEW1"),
            &json!(2),
            &json!("admin")
        ),
        "{done}"
    );
    let (_, view) = app.get_json("/api/v1/cylinders/LC1").await;
    assert_eq!(view["tag_id"], "T-NEW1", "{view}");
    let (status, by_new) = app.get_json("/api/v1/cylinders/by-tag/T-NEW1").await;
    assert_eq!((status, &by_new["code"]), (200, &json!("LC1")), "{by_new}");
    let (status, _) = app.get_json("/api/v1/cylinders/by-tag/T-LC1").await;
    assert_eq!(status, 404);

    // One revision, version 2, the tag's change.
    let kept: Vec<(i64, String, Option<String>, Value)> = sqlx::query_as(
        "SELECT version, by_actor, reason, changes FROM revisions \
         WHERE record_kind = 'cylinders' AND record_key = 'LC1'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        kept,
        vec![(
            2,
            "admin".to_owned(),
            Some("标签损坏".to_owned()),
            json!({"tag_id": ["T-LC1", "T-NEW1"]})
        )]
    );

    // The history shows the replacement: old and new tag, who, why.
    let (status, history) = app.get_json("/api/v1/cylinders/LC1/history").await;
    assert_eq!(status, 200, "{history}");
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(
        (&items[0]["kind"], &items[0]["op"], &items[0]["details"]),
        (
            &json!("archive"),
            &json!("replace_tag"),
            &json!({"old_tag_id": "T-LC1", "tag_id": "T-NEW1", "reason": "标签损坏",
                    "by": "admin"})
        ),
        "{history}"
    );

    // The void tag is never bound again, the bound one not twice; nothing changes.
    let before = snapshot(&app).await;
    let mut again = archive("LC9", "T-LC1");
    again["station_code"] = json!("ST1");
    let (status, answer) = app.post_json("/api/v1/cylinders", &again).await;
    assert_error(status, &answer, (409, "tag_void", "tag_id"));
    let (status, answer) = app
        .post_json("/api/v1/cylinders", &json!({"items": [again.clone()]}))
        .await;
    assert_eq!(
        (
            status,
            &answer["errors"][0]["code"],
            &answer["errors"][0]["column"]
        ),
        (422, &json!("tag_void"), &json!("tag_id")),
        "{answer}"
    );
    let (status, answer) = replace(
        &app,
        &admin,
        "LC2",
        json!({"tag_id": "T-LC1", "reason": "x"}),
    )
    .await;
    assert_error(status, &answer, (409, "tag_void", "tag_id"));
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("LC1"),
        "{answer}"
    );
    let (status, answer) = replace(
        &app,
        &admin,
        "LC2",
        json!({"tag_id": "T-NEW1", "reason": "x"}),
    )
    .await;
    assert_error(status, &answer, (409, "already_exists", "tag_id"));
    let (status, answer) = replace(
        &app,
        &admin,
        "LC1",
        json!({"tag_id": "T-NEW1", "reason": "x"}),
    )
    .await;
    assert_error(status, &answer, (400, "invalid_field", "tag_id"));
    for (body, field) in [
        (json!({"tag_id": "T-X", "reason": "  "}), "reason"),
        (json!({"tag_id": "T-X", "reason": "a\u{7}b"}), "reason"),
        (
            json!({"tag_id": "T-X", "reason": "x".repeat(501)}),
            "reason",
        ),
        (json!({"reason": "x"}), "tag_id"),
        (json!({"tag_id": "", "reason": "x"}), "tag_id"),
        (json!({"tag_id": 7, "reason": "x"}), "tag_id"),
        (json!({"tag_id": "T-X", "reason": "x", "extra": 1}), "extra"),
    ] {
        let (status, answer) = replace(&app, &admin, "LC2", body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, answer) = replace(
        &app,
        &admin,
        "NOPE",
        json!({"tag_id": "T-X", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found"))
    );
    assert_eq!(snapshot(&app).await, before);

    // The old tag scanned: an illegal tag; the new one: the cylinder's history.
    let (status, body) = app
        .post_events(&json!({"events": [
            scan_tag("store_in", "T-LC1", &recent(3)),
            scan_tag("store_in", "T-NEW1", &recent(2)),
        ]}))
        .await;
    assert_eq!((status, &body["rejected"]), (202, &json!([])), "{body}");
    app.wait_until(|| async {
        let (_, page) = app.get_json("/api/v1/alerts?kind=illegal_tag").await;
        page["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["subject"]["id"] == "T-LC1"))
    })
    .await;
    app.wait_until(|| async {
        let (_, page) = app.get_json("/api/v1/cylinders/LC1/history").await;
        page["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["op"] == "store_in"))
    })
    .await;
    let (_, page) = app.get_json("/api/v1/alerts?kind=illegal_tag").await;
    let subjects: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["subject"])
        .collect();
    assert_eq!(subjects, [&json!({"type": "tag", "id": "T-LC1"})], "{page}");

    // At the gun: the new tag is the cylinder (refused for its missing pre-fill check only),
    // the old one an unknown tag.
    let at_gun = |tag: &str| {
        json!({"tag_id": tag, "station_code": "ST1", "gun_no": "G1", "medium": "LPG",
               "staff_no": "S1"})
    };
    let (status, answer) = app.authorize(&controller, at_gun("T-NEW1")).await;
    assert_eq!(
        (status, rules(&answer)),
        (200, vec!["R10".to_owned()]),
        "{answer}"
    );
    let (_, answer) = app.authorize(&controller, at_gun("T-LC1")).await;
    assert_eq!(rules(&answer), ["R00"], "{answer}");
}

#[tokio::test]
async fn only_the_owners_admin_or_a_regulator_replaces_a_tag_and_never_on_a_scrapped_cylinder() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, answer) = app
        .post_json("/api/v1/enterprises", &enterprise("ENT2"))
        .await;
    assert_eq!(status, 201, "{answer}");
    cylinder(&app, "LA1", "ST1", json!({})).await;
    cylinder(&app, "LA2", "ST1", json!({})).await;
    let a_admin = user(&app, "a-admin", "enterprise_admin", "ENT1").await;
    let a_staff = user(&app, "a-staff", "enterprise_staff", "ENT1").await;
    let b_admin = user(&app, "b-admin", "enterprise_admin", "ENT2").await;

    let before = snapshot(&app).await;
    let body = json!({"tag_id": "T-B", "reason": "mine now"});
    let (status, answer) = replace(&app, &b_admin, "LA1", body.clone()).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &json!("not_found")),
        "{answer}"
    );
    assert!(!answer.to_string().contains("T-LA1"), "{answer}");
    let (status, _) = replace(&app, &a_staff, "LA1", body).await;
    assert_eq!(status, 403);
    assert_eq!(snapshot(&app).await, before);

    let (status, answer) = replace(
        &app,
        &a_admin,
        "LA1",
        json!({"tag_id": "T-A", "reason": "lost"}),
    )
    .await;
    assert_eq!((status, &answer["version"]), (200, &json!(2)), "{answer}");

    // B's admin cannot probe A's void tag for the cylinder's code.
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/cylinders",
            Some(&{
                let mut a = archive("LB1", "T-LA1");
                a["owner_enterprise_code"] = json!("ENT2");
                a
            }),
            Some(&b_admin),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    assert!(!answer.to_string().contains("LA1\""), "{answer}");
    assert!(
        !answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cylinder LA1"),
        "{answer}"
    );

    // A scrapped cylinder keeps its tag.
    let (status, body) = app
        .post_events(&json!({"events": [
            crate::common::scan("scrap", "LA2", &recent(2), json!({"station_code": "ST1"})),
        ]}))
        .await;
    assert_eq!((status, &body["rejected"]), (202, &json!([])), "{body}");
    app.wait_until(|| async {
        app.get_json("/api/v1/cylinders/LA2").await.1["custody"] == "scrapped"
    })
    .await;
    let before = snapshot(&app).await;
    let (status, answer) = replace(
        &app,
        &a_admin,
        "LA2",
        json!({"tag_id": "T-C", "reason": "x"}),
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (409, &json!("invalid_transition")),
        "{answer}"
    );
    assert_eq!(snapshot(&app).await, before);

    // A suspended enterprise gets no new tag bound.
    let (status, answer) = app
        .post_json(
            "/api/v1/enterprises/ENT1/suspend",
            &json!({"reason": "audit"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let before = snapshot(&app).await;
    let (status, answer) = replace(
        &app,
        &app.admin_token,
        "LA1",
        json!({"tag_id": "T-D", "reason": "x"}),
    )
    .await;
    assert_error(status, &answer, (409, "record_inactive", "enterprise_code"));
    assert_eq!(snapshot(&app).await, before);
}

fn csv(columns: &[&str], rows: &[Value]) -> String {
    let mut out = columns.join(",") + "\n";
    for a in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match &a[*c] {
                Value::Null => String::new(),
                Value::String(s) if s.contains(',') || s.contains('"') => {
                    format!("\"{}\"", s.replace('"', "\"\""))
                }
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        out += &(cells.join(",") + "\n");
    }
    out
}

const OLD_COLUMNS: [&str; 21] = [
    "code",
    "tag_id",
    "medium",
    "tare_kg",
    "volume_l",
    "working_pressure_mpa",
    "test_pressure_mpa",
    "wall_thickness_mm",
    "max_fill_kg",
    "design_life_years",
    "manufacturer",
    "manufactured_on",
    "product_standard",
    "manufacture_licence_no",
    "last_inspected_on",
    "next_inspection_on",
    "registration_no",
    "registered_on",
    "registration_authority",
    "owner_enterprise_code",
    "station_code",
];

#[tokio::test]
async fn serial_number_and_production_batch_are_archived_shown_exported_and_imported() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut a = archive("SN1", "T-SN1");
    a["serial_no"] = json!("MS-2020-000123");
    a["production_batch"] = json!("2020-04-B7");
    let (status, answer) = app.post_json("/api/v1/cylinders", &a).await;
    assert_eq!(status, 201, "{answer}");
    let (_, view) = app.get_json("/api/v1/cylinders/SN1").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&json!("MS-2020-000123"), &json!("2020-04-B7")),
        "{view}"
    );
    // Without them: null.
    let (status, _) = app
        .post_json("/api/v1/cylinders", &archive("SN2", "T-SN2"))
        .await;
    assert_eq!(status, 201);
    let (_, view) = app.get_json("/api/v1/cylinders/SN2").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&Value::Null, &Value::Null)
    );

    // Bad values: 400 naming the field, nothing written.
    let before = snapshot(&app).await;
    for (field, value) in [
        ("serial_no", json!("x".repeat(65))),
        ("serial_no", json!("a\u{1}b")),
        ("serial_no", json!("  ")),
        ("serial_no", json!(12)),
        ("production_batch", json!("批".repeat(65))),
        ("production_batch", json!("a\nb")),
    ] {
        let mut bad = archive("SN3", "T-SN3");
        bad[field] = value.clone();
        let (status, answer) = app.post_json("/api/v1/cylinders", &bad).await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{field}={value}: {answer}"
        );
    }
    assert_eq!(snapshot(&app).await, before);
    // 64 characters are fine.
    let mut long = archive("SN4", "T-SN4");
    long["production_batch"] = json!("批".repeat(64));
    let (status, answer) = app.post_json("/api/v1/cylinders", &long).await;
    assert_eq!(status, 201, "{answer}");
    let (_, view) = app.get_json("/api/v1/cylinders/SN4").await;
    assert_eq!(view["production_batch"], json!("批".repeat(64)));

    // Corrected by PATCH (the owner's managers), with a revision; bad values refused.
    let fix = |body: Value, version: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .patch(app.url("/api/v1/cylinders/SN2"))
                .bearer_auth(&app.admin_token)
                .header("If-Match", version)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, answer) = fix(json!({"serial_no": "x".repeat(65)}), "1").await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("serial_no")),
        "{answer}"
    );
    let (status, answer) = fix(
        json!({"serial_no": "MS-FIX", "production_batch": "B-1"}),
        "1",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, view) = app.get_json("/api/v1/cylinders/SN2").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&json!("MS-FIX"), &json!("B-1"))
    );
    // A later edit of another field keeps them (the stored record read before a PATCH holds
    // them: a field it left out would be written back empty).
    let (status, answer) = fix(json!({"registration_no": "豫A-LPG-SN2"}), "2").await;
    assert_eq!(status, 200, "{answer}");
    let (_, view) = app.get_json("/api/v1/cylinders/SN2").await;
    assert_eq!(
        (
            &view["serial_no"],
            &view["production_batch"],
            &view["registration_no"]
        ),
        (&json!("MS-FIX"), &json!("B-1"), &json!("豫A-LPG-SN2")),
        "{view}"
    );
    // null clears one, and the revision says so.
    let (status, answer) = fix(json!({"production_batch": null}), "3").await;
    assert_eq!(status, 200, "{answer}");
    let (_, view) = app.get_json("/api/v1/cylinders/SN2").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&json!("MS-FIX"), &Value::Null),
        "{view}"
    );
    let (_, revisions) = app.get_json("/api/v1/cylinders/SN2/revisions").await;
    assert_eq!(
        revisions
            .as_array()
            .and_then(|r| r.last())
            .map(|r| &r["changes"]),
        Some(&json!({"production_batch": ["B-1", null]})),
        "{revisions}"
    );
    // The export carries them as its two last columns.
    let (status, exported) = app
        .get_text("/api/v1/cylinders/export?enterprise_code=ENT1")
        .await;
    assert_eq!(status, 200);
    let mut lines = exported.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",station_code,serial_no,production_batch"),
        "{exported}"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",ST1,MS-2020-000123,2020-04-B7"),
        "{exported}"
    );
    assert!(
        lines.next().unwrap().ends_with(",ST1,MS-FIX,"),
        "{exported}"
    );
    // Neither: two empty cells.
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(&format!(",ST1,,{}", "批".repeat(64))),
        "{exported}"
    );
    let mut bare = archive("SN5", "T-SN5");
    bare["station_code"] = json!("ST2");
    assert_eq!(app.post_json("/api/v1/cylinders", &bare).await.0, 201);
    let (_, exported) = app
        .get_text("/api/v1/cylinders/export?enterprise_code=ENT1")
        .await;
    assert!(
        exported.lines().last().unwrap().ends_with(",ST2,,"),
        "{exported}"
    );

    // An old file (without the columns) imports; so does a new one (with them).
    let old = csv(&OLD_COLUMNS, &[archive("IM1", "T-IM1")]);
    let (status, report) = app
        .post_bytes("/api/v1/cylinders/import", old.into_bytes(), "text/csv")
        .await;
    assert_eq!((status, &report["created"]), (200, &json!(1)), "{report}");
    let (_, view) = app.get_json("/api/v1/cylinders/IM1").await;
    assert_eq!(view["serial_no"], Value::Null);
    let mut new_columns = OLD_COLUMNS.to_vec();
    new_columns.extend(["serial_no", "production_batch"]);
    let mut with = archive("IM2", "T-IM2");
    with["serial_no"] = json!("SN, \"quoted\"");
    with["production_batch"] = json!("B-9");
    let mut without = archive("IM3", "T-IM3");
    without["serial_no"] = Value::Null;
    let new = csv(&new_columns, &[with, without]);
    let (status, report) = app
        .post_bytes("/api/v1/cylinders/import", new.into_bytes(), "text/csv")
        .await;
    assert_eq!((status, &report["created"]), (200, &json!(2)), "{report}");
    let (_, view) = app.get_json("/api/v1/cylinders/IM2").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&json!("SN, \"quoted\""), &json!("B-9"))
    );
    let (_, view) = app.get_json("/api/v1/cylinders/IM3").await;
    assert_eq!(
        (&view["serial_no"], &view["production_batch"]),
        (&Value::Null, &Value::Null)
    );

    // A bad serial number in a file: its row and column named, nothing written.
    let before = snapshot(&app).await;
    let mut bad = archive("IM4", "T-IM4");
    bad["serial_no"] = json!("x".repeat(65));
    let file = csv(&new_columns, &[archive("IM5", "T-IM5"), bad]);
    let (status, report) = app
        .post_bytes("/api/v1/cylinders/import", file.into_bytes(), "text/csv")
        .await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(
        (&report["errors"][0]["row"], &report["errors"][0]["column"]),
        (&json!(3), &json!("serial_no")),
        "{report}"
    );
    assert_eq!(snapshot(&app).await, before);
}
