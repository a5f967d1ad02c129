//! Issue 21 item 1: what the gun's rules rest on is written by regulators; an enterprise
//! proposes such a change with its document, and a regulator approves (the change is made as
//! the regulator's, its revision naming the proposal) or rejects it with a reason.

use crate::access::new_user;
use crate::common::{enterprise, spawn_app, TestApp};
use crate::edits::{get, row};
use serde_json::{json, Value};

/// A POST as `token`: status and answer.
async fn post_as(app: &TestApp, path: &str, body: &Value, token: &str) -> (u16, Value) {
    app.send_json(reqwest::Method::POST, path, Some(body), Some(token))
        .await
}

#[tokio::test]
async fn an_enterprise_proposes_a_licence_renewal_and_a_regulator_decides() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let mut eb = enterprise("EB");
    eb["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &eb).await.0, 201);
    let a_admin = new_user(&app, "a-admin", "enterprise_admin", Some("ENT1")).await;
    let b_admin = new_user(&app, "b-admin", "enterprise_admin", Some("EB")).await;
    let before = row(&app, "enterprises", "code", "ENT1").await;

    // Only a regulator's fields are proposed, each checked as the change would be.
    let bad = [
        (
            json!({"changes": {"name": "x"}, "document_ref": "d"}),
            "changes.name",
        ),
        (
            json!({"changes": {"colour": "x"}, "document_ref": "d"}),
            "changes.colour",
        ),
        (
            json!({"changes": {"code": "X"}, "document_ref": "d"}),
            "changes.code",
        ),
        (json!({"changes": {}, "document_ref": "d"}), "changes"),
        (
            json!({"changes": {"filling_licence_expires": "soon"}, "document_ref": "d"}),
            "filling_licence_expires",
        ),
        (
            json!({"changes": {"filling_licence_expires": "2031-12-31"}}),
            "document_ref",
        ),
    ];
    for (body, field) in bad {
        let (status, answer) =
            post_as(&app, "/api/v1/enterprises/ENT1/proposals", &body, &a_admin).await;
        assert_eq!(
            (status, &answer["error"]["field"]),
            (400, &json!(field)),
            "{answer}"
        );
    }
    let renewal = json!({"changes": {"filling_licence_expires": "2031-12-31"},
                         "document_ref": "豫充-2026-118 郑州市市场监督管理局"});
    // Another enterprise cannot propose for it.
    let (status, answer) = post_as(
        &app,
        "/api/v1/enterprises/ENT1/proposals",
        &renewal,
        &b_admin,
    )
    .await;
    assert_eq!(status, 404, "{answer}");
    let (status, proposal) = post_as(
        &app,
        "/api/v1/enterprises/ENT1/proposals",
        &renewal,
        &a_admin,
    )
    .await;
    assert_eq!(
        (status, &proposal["status"]),
        (201, &json!("pending")),
        "{proposal}"
    );
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    let id = proposal["id"].as_i64().unwrap();

    // Listed within scope; decided by a regulator only.
    let (_, _, listed) = get(&app, "/api/v1/proposals?status=pending", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let (_, _, listed) = get(&app, "/api/v1/proposals", Some(&b_admin)).await;
    assert_eq!(listed, json!([]));
    let (status, _, _) = get(&app, "/api/v1/proposals?status=maybe", None).await;
    assert_eq!(status, 400);
    for token in [&a_admin, &b_admin] {
        let (status, answer) = post_as(
            &app,
            &format!("/api/v1/proposals/{id}/approve"),
            &json!({}),
            token,
        )
        .await;
        assert_eq!(status, 403, "{answer}");
    }
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
    let (status, decided) = post_as(
        &app,
        &format!("/api/v1/proposals/{id}/approve"),
        &json!({}),
        &app.admin_token,
    )
    .await;
    assert_eq!(
        (status, &decided["status"], &decided["applied_version"]),
        (200, &json!("approved"), &json!(2)),
        "{decided}"
    );
    let (_, _, view) = get(&app, "/api/v1/enterprises/ENT1", None).await;
    assert_eq!(
        (&view["filling_licence_expires"], &view["version"]),
        (&json!("2031-12-31"), &json!(2))
    );
    let (_, _, revisions) = get(&app, "/api/v1/enterprises/ENT1/revisions", Some(&a_admin)).await;
    assert_eq!(revisions[0]["by"], "admin");
    assert!(
        revisions[0]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("proposal {id}")),
        "{revisions}"
    );
    let (status, _) = post_as(
        &app,
        &format!("/api/v1/proposals/{id}/approve"),
        &json!({}),
        &app.admin_token,
    )
    .await;
    assert_eq!(status, 409);

    // A rejection says why and changes nothing.
    let (_, second) = post_as(
        &app,
        "/api/v1/enterprises/ENT1/proposals",
        &renewal,
        &a_admin,
    )
    .await;
    let second = second["id"].as_i64().unwrap();
    let before = row(&app, "enterprises", "code", "ENT1").await;
    let path = format!("/api/v1/proposals/{second}/reject");
    let (status, answer) = post_as(&app, &path, &json!({}), &app.admin_token).await;
    assert_eq!(
        (status, &answer["error"]["field"]),
        (400, &json!("reason")),
        "{answer}"
    );
    // A control character (PostgreSQL refuses NUL in text) is the writer's mistake, not a 500.
    let (status, answer) =
        post_as(&app, &path, &json!({"reason": "a\u{0}b"}), &app.admin_token).await;
    assert_eq!(
        (status, &answer["error"]["field"]),
        (400, &json!("reason")),
        "{answer}"
    );
    let (status, answer) = post_as(
        &app,
        &path,
        &json!({"reason": "证件已过期"}),
        &app.admin_token,
    )
    .await;
    assert_eq!(
        (status, &answer["status"], &answer["decision_reason"]),
        (200, &json!("rejected"), &json!("证件已过期")),
        "{answer}"
    );
    assert_eq!(row(&app, "enterprises", "code", "ENT1").await, before);
}
