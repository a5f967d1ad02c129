//! An incident's batch as a page (issue 22): the context lists the first `limit` of it while
//! its totals and facets count every cylinder, and a recall of the incident's batch
//! (`incident_batch`) takes the whole of it, not the page.

use super::incidents::{error_field, history_len};
use crate::common::spawn_app;
use crate::filling::{ask, check, cylinder, rules};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn codes_of(list: &Value, why: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|c| c["why"] == why)
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_context_pages_its_batch_and_a_recall_of_the_incident_takes_all_of_it() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    // X is implicated; P1–P3 share its production batch; F1–F4 were filled at ST1 within
    // ±2 h of X's filling (two at G1, two at G2); O1 was filled there five hours ago.
    for code in ["X", "P1", "P2", "P3"] {
        cylinder(&app, code, "ST1", json!({"production_batch": "PB-7"})).await;
    }
    for code in ["F1", "F2", "F3", "F4", "O1"] {
        cylinder(&app, code, "ST1", json!({})).await;
    }
    let now = Utc::now();
    for (code, gun, minutes_ago) in [
        ("X", "G1", 120),
        ("F1", "G1", 100),
        ("F2", "G1", 90),
        ("F3", "G2", 60),
        ("F4", "G2", 130),
        ("O1", "G1", 300),
    ] {
        let ended = now - Duration::minutes(minutes_ago);
        let record = json!({"cylinder_code": code, "station_code": "ST1", "licence_no": "豫充-001",
            "gun_no": gun, "staff_no": "S1", "staff_name": "陈荣华",
            "started_at": (ended - Duration::seconds(90)).to_rfc3339(),
            "ended_at": ended.to_rfc3339(), "mass_before_kg": 16.8, "mass_after_kg": 30.9});
        let (status, answer) = app.post_filling(&controller, &record).await;
        assert_eq!(status, 201, "{code}: {answer}");
    }
    let filled = ["X", "F1", "F2", "F3", "F4", "O1"];
    app.wait_until(|| async {
        for code in filled {
            if history_len(&app, code).await < 1 {
                return false;
            }
        }
        true
    })
    .await;
    let (status, incident) = app
        .post_json(
            "/api/v1/incidents",
            &json!({"kind": "leak", "level": "large", "description": "阀门漏气", "cylinder_code": "X"}),
        )
        .await;
    assert_eq!(status, 201, "{incident}");
    let id = incident["id"].as_str().unwrap().to_owned();

    // A page of one: the earliest filled with it, the first of its production batch by code;
    // the totals and the facets count all of them.
    let (status, page) = app
        .get_json(&format!("/api/v1/incidents/{id}/context?limit=1"))
        .await;
    assert_eq!(status, 200, "{page}");
    let batch = &page["batch"];
    assert_eq!(codes_of(&batch["cylinders"], "filling"), ["F4"], "{batch}");
    assert_eq!(
        codes_of(&batch["cylinders"], "production"),
        ["P1"],
        "{batch}"
    );
    assert_eq!(
        (&batch["filled_total"], &batch["production_total"]),
        (&json!(4), &json!(3))
    );
    assert_eq!(
        batch["by_gun"],
        json!([{"value": "G1", "count": 2}, {"value": "G2", "count": 2}])
    );
    assert_eq!(batch["by_filler"], json!([{"value": "S1", "count": 4}]));
    assert_eq!(batch["window"]["station_code"], "ST1");
    assert_eq!(batch["production"]["production_batch"], "PB-7");
    assert_eq!(page["limit"], 1);
    // The default page holds all of this small batch.
    let (_, whole) = app
        .get_json(&format!("/api/v1/incidents/{id}/context"))
        .await;
    assert_eq!(
        codes_of(&whole["batch"]["cylinders"], "filling"),
        ["F4", "F1", "F2", "F3"]
    );
    assert_eq!(
        codes_of(&whole["batch"]["cylinders"], "production"),
        ["P1", "P2", "P3"]
    );
    for bad in ["0", "501", "x"] {
        let (status, answer) = app
            .get_json(&format!("/api/v1/incidents/{id}/context?limit={bad}"))
            .await;
        assert_eq!(
            (status, error_field(&answer)),
            (400, Some("limit")),
            "{bad}: {answer}"
        );
    }

    // Every cylinder checked before filling, so the gun has nothing else against them.
    let checks: Vec<Value> = ["X", "P1", "P2", "P3", "F1", "F2", "F3", "F4", "O1"]
        .iter()
        .map(|c| check(c, "pre", true, &(now - Duration::minutes(1)).to_rfc3339()))
        .collect();
    assert_eq!(app.post_events(&json!({ "events": checks })).await.0, 202);

    // Bad recalls of a batch change nothing.
    let (status, placed) = app
        .post_json(
            "/api/v1/incidents",
            &json!({"kind": "fire", "level": "general", "description": "x",
                    "place": {"lon": 113.66, "lat": 34.76}}),
        )
        .await;
    assert_eq!(status, 201, "{placed}");
    let recalls = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM recall_cylinders")
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    };
    for (body, status, field) in [
        (
            json!({"reason": "x", "incident_batch": true}),
            400,
            "incident_id",
        ),
        (
            json!({"reason": "x", "incident_batch": true, "incident_id": id, "cylinder_codes": ["X"]}),
            400,
            "cylinder_codes",
        ),
        (
            json!({"reason": "x", "incident_batch": true, "incident_id": placed["id"]}),
            422,
            "incident_batch",
        ),
        (
            json!({"reason": "x", "incident_batch": "yes", "incident_id": id}),
            400,
            "incident_batch",
        ),
    ] {
        let (got, answer) = app.post_json("/api/v1/recalls", &body).await;
        assert_eq!(
            (got, error_field(&answer)),
            (status, Some(field)),
            "{body}: {answer}"
        );
    }
    assert_eq!(recalls().await, 0);

    // The recall of the incident's batch: X, all four filled with it, all three of its
    // production batch — not the page of one.
    let (status, created) = app
        .post_json(
            "/api/v1/recalls",
            &json!({"reason": "同批次召回", "incident_id": id, "incident_batch": true}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["count"], 8, "{created}");
    let recalled: BTreeSet<String> = sqlx::query_scalar(
        "SELECT c.code FROM recall_cylinders r JOIN cylinders c ON c.id = r.cylinder_id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let want: BTreeSet<String> = ["X", "F1", "F2", "F3", "F4", "P1", "P2", "P3"]
        .map(String::from)
        .into();
    assert_eq!(recalled, want);
    for code in ["X", "F3", "P3", "O1"] {
        let mut answer = Value::Null;
        for _ in 0..200 {
            let (status, a) = app.authorize(&controller, ask(code, "ST1", "LPG")).await;
            assert_eq!(status, 200, "{a}");
            answer = a;
            if rules(&answer) != ["E02"] {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let r16 = rules(&answer).contains(&"R16".to_owned());
        assert_eq!(r16, code != "O1", "{code}: {answer}");
    }
}
