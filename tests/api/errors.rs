//! Whole error bodies, snapshot-tested (`tests/api/snapshots/`): a change to a code, a field
//! or a message a client or the dashboard reads shows in review. Each case is one bad request
//! whose answer is fully determined by the request.

use crate::common::spawn_app;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn error_bodies_are_stable() {
    let app = spawn_app().await;
    let controller = app.seed_registry_with_controller().await;
    let admin = Some(app.admin_token.as_str());
    let mut answers: Vec<(String, Value)> = Vec::new();
    let mut keep = |case: &str, (status, body): (u16, Value)| {
        answers.push((case.to_owned(), json!({"status": status, "body": body})));
    };

    keep(
        "no token",
        app.send_json(Method::GET, "/api/v1/alerts", None, None)
            .await,
    );
    keep(
        "unknown route",
        app.send_json(Method::GET, "/api/v1/no-such-thing", None, admin)
            .await,
    );
    keep(
        "wrong method",
        app.send_json(Method::DELETE, "/api/v1/health", None, admin)
            .await,
    );
    keep(
        "limit out of range",
        app.send_json(Method::GET, "/api/v1/alerts?limit=0", None, admin)
            .await,
    );
    keep(
        "nul in a path parameter",
        app.send_json(Method::GET, "/api/v1/cylinders/a%00b", None, admin)
            .await,
    );
    keep(
        "unknown cylinder",
        app.send_json(Method::GET, "/api/v1/cylinders/NO-SUCH", None, admin)
            .await,
    );
    keep(
        "unknown field in a record",
        app.post_json(
            "/api/v1/enterprises",
            &json!({"code": "E9", "name": "x", "colour": "red"}),
        )
        .await,
    );
    keep(
        "events body not an object",
        app.post_events(&json!([1, 2, 3])).await,
    );
    keep("empty batch", app.post_events(&json!({"events": []})).await);
    keep(
        "authorize naming no cylinder",
        app.authorize(
            &controller,
            json!({"station_code": "ST1", "gun_no": "G1", "medium": "LPG", "staff_no": "S1"}),
        )
        .await,
    );
    keep(
        "filling record with its masses reversed",
        app.post_filling(
            &controller,
            &json!({"cylinder_code": "CYL1", "station_code": "ST1", "licence_no": "L1",
                    "gun_no": "G1", "staff_no": "S1", "staff_name": "张三",
                    "started_at": "2026-11-22T08:00:00+08:00",
                    "ended_at": "2026-11-22T08:02:00+08:00",
                    "mass_before_kg": 30.0, "mass_after_kg": 15.0}),
        )
        .await,
    );
    keep(
        "wrong device key",
        app.authorize(
            "no-such-key",
            json!({"tag_id": "T1", "station_code": "ST1", "gun_no": "G1", "medium": "LPG",
                   "staff_no": "S1"}),
        )
        .await,
    );
    keep(
        "customer district not where it lies",
        app.post_json(
            "/api/v1/customers",
            &json!({"code": "C9", "enterprise_code": "ENT1", "name": "顾客", "kind": "household",
                    "phone": "1", "address": "x", "location": {"lon": 113.66, "lat": 34.76},
                    "district_code": "000000"}),
        )
        .await,
    );
    keep(
        "enterprise fence radius too large",
        app.post_json(
            "/api/v1/geofences",
            &json!({"name": "圈", "kind": "site", "enterprise_code": "ENT1",
                    "center": {"lon": 113.66, "lat": 34.76}, "radius_m": 6000}),
        )
        .await,
    );
    // Issue 20: a GPS tracker at the gun; a filling record naming another enterprise's filler.
    let tracker = app.new_device("ENT1", json!({"kind": "gps"})).await;
    keep(
        "authorize by a gps tracker",
        app.authorize(
            &tracker,
            json!({"tag_id": "T1", "station_code": "ST1", "gun_no": "G1", "medium": "LPG",
                   "staff_no": "S1"}),
        )
        .await,
    );
    let mut other = crate::common::enterprise("ENT2");
    other["district_code"] = json!("410102");
    assert_eq!(app.post_json("/api/v1/enterprises", &other).await.0, 201);
    let staff = json!({"staff_no": "X1", "enterprise_code": "ENT2", "name": "李四",
                       "role": "filler"});
    assert_eq!(app.post_json("/api/v1/staff", &staff).await.0, 201);
    let mut cylinder = crate::common::archive("CYL1", "TAG1");
    cylinder["station_code"] = json!("ST1");
    assert_eq!(app.post_json("/api/v1/cylinders", &cylinder).await.0, 201);
    keep(
        "filling record naming a foreign staff number",
        app.post_filling(
            &controller,
            &json!({"cylinder_code": "CYL1", "station_code": "ST1", "licence_no": "L1",
                    "gun_no": "G1", "staff_no": "X1", "staff_name": "李四",
                    "started_at": "2026-11-22T08:00:00+08:00",
                    "ended_at": "2026-11-22T08:02:00+08:00",
                    "mass_before_kg": 16.4, "mass_after_kg": 30.0}),
        )
        .await,
    );
    for (case, answer) in answers {
        insta::assert_json_snapshot!(case.replace(' ', "_"), answer);
    }
}
