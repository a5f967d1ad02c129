//! Every kind of bad input answers 4xx with the JSON error body, writes nothing, and leaves the
//! server healthy.

use crate::common::{gps, spawn_app};
use serde_json::{json, Value};

fn with(field: &str, value: Value) -> Value {
    let mut event = gps("豫A00009", 113.6, 34.7, "2026-11-22T08:00:00+08:00");
    event[field] = value;
    json!({ "events": [event] })
}

fn without(field: &str) -> Value {
    let mut event = gps("豫A00009", 113.6, 34.7, "2026-11-22T08:00:00+08:00");
    event.as_object_mut().unwrap().remove(field);
    json!({ "events": [event] })
}

fn body(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn bad_input_is_a_4xx_json_error_and_writes_nothing() {
    let app = spawn_app().await;
    let json_type = "application/json";
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| gps("豫A1", 113.6, 34.7, "2026-11-22T08:00:00+08:00"))
        .collect();
    // 17 MiB of valid-looking JSON: over the 16 MiB body limit.
    let oversized = format!("{{\"events\":[\"{}\"]}}", "x".repeat(17 * 1024 * 1024)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
        (
            "bad JSON",
            b"{\"events\": [".to_vec(),
            json_type,
            400,
            "malformed_body",
        ),
        ("empty body", Vec::new(), json_type, 400, "malformed_body"),
        (
            "not an object",
            b"[1, 2]".to_vec(),
            json_type,
            400,
            "malformed_body",
        ),
        (
            "a string",
            b"\"events\"".to_vec(),
            json_type,
            400,
            "malformed_body",
        ),
        (
            "number out of range",
            b"{\"events\":[{\"lon\": 1e999}]}".to_vec(),
            json_type,
            400,
            "malformed_body",
        ),
        (
            "no events",
            body(json!({})),
            json_type,
            400,
            "missing_field",
        ),
        (
            "events not an array",
            body(json!({"events": {"id": 1}})),
            json_type,
            400,
            "invalid_field",
        ),
        (
            "empty batch",
            body(json!({"events": []})),
            json_type,
            400,
            "invalid_batch_size",
        ),
        (
            "10,001 events",
            body(json!({ "events": too_many })),
            json_type,
            400,
            "invalid_batch_size",
        ),
        (
            "unknown top-level field",
            body(json!({"events": [], "extra": 1})),
            json_type,
            400,
            "unknown_field",
        ),
        (
            "oversized body",
            oversized,
            json_type,
            413,
            "payload_too_large",
        ),
        (
            "wrong content type",
            body(with("lon", json!(113.6))),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            "item not an object",
            body(json!({"events": [42]})),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "missing id",
            body(without("id")),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "id not a UUID",
            body(with("id", json!("1234"))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "unknown kind",
            body(with("kind", json!("teleport"))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "lon as a string",
            body(with("lon", json!("113.6"))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "lon out of range",
            body(with("lon", json!(200.0))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "lat out of range",
            body(with("lat", json!(-90.5))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "missing lat",
            body(without("lat")),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "missing occurred_at",
            body(without("occurred_at")),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "occurred_at without offset",
            body(with("occurred_at", json!("2026-11-22T08:00:00"))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "occurred_at in year 9999",
            body(with("occurred_at", json!("9999-12-31T00:00:00Z"))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "plate a number",
            body(with("vehicle_plate", json!(12345))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "plate empty",
            body(with("vehicle_plate", json!(""))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "negative speed",
            body(with("speed_kmh", json!(-3))),
            json_type,
            422,
            "all_events_rejected",
        ),
        (
            "unknown item field",
            body(with("lng", json!(113.6))),
            json_type,
            422,
            "all_events_rejected",
        ),
    ];
    assert!(cases.len() >= 20);
    for (name, payload, content_type, status, code) in cases {
        let (got_status, answer) = app.post_raw(payload, content_type).await;
        assert_eq!(got_status, status, "{name}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{name}: {answer}");
        assert!(
            !answer["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{name}: {answer}"
        );
        if status == 422 {
            assert_eq!(answer["rejected"][0]["index"], 0, "{name}: {answer}");
        }
        assert_eq!(app.event_count().await, 0, "{name} wrote something");
    }
    // Nothing panicked: the same process still answers.
    let (status, _) = app.get_json("/api/v1/health").await;
    assert_eq!(status, 200);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM event_outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(outbox, 0);
}

#[tokio::test]
async fn per_item_errors_name_the_field() {
    let app = spawn_app().await;
    let (status, answer) = app.post_events(&with("lon", json!(200.0))).await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["rejected"][0]["error"],
        json!({"code": "invalid_field", "message": "lon must be a number between -180 and 180", "field": "lon"})
    );
    // A GPS fix's fields on a scan: the first field a scan does not know is named.
    let (_, answer) = app.post_events(&with("kind", json!("scan"))).await;
    assert_eq!(answer["rejected"][0]["error"]["code"], "unknown_field");
    let scan = json!({"events": [{"id": uuid::Uuid::new_v4(), "kind": "scan", "op": "teleport",
        "cylinder_code": "A1", "occurred_at": "2026-11-22T08:00:00+08:00"}]});
    let (_, answer) = app.post_events(&scan).await;
    assert_eq!(answer["rejected"][0]["error"]["field"], "op");
    let both = json!({"events": [{"id": uuid::Uuid::new_v4(), "kind": "scan", "op": "load",
        "cylinder_code": "A1", "tag_id": "T1", "vehicle_plate": "豫A1",
        "occurred_at": "2026-11-22T08:00:00+08:00"}]});
    let (_, answer) = app.post_events(&both).await;
    assert_eq!(answer["rejected"][0]["error"]["field"], "tag_id");
    let inspection = json!({"events": [{"id": uuid::Uuid::new_v4(), "kind": "inspection",
        "cylinder_code": "A1", "conclusion": "pass", "inspected_on": "2026-11-01",
        "next_inspection_on": "2026-10-01", "report_no": "R", "inspection_body": "B",
        "inspector": "I", "occurred_at": "2026-11-22T08:00:00+08:00"}]});
    let (_, answer) = app.post_events(&inspection).await;
    assert_eq!(
        answer["rejected"][0]["error"]["field"],
        "next_inspection_on"
    );
}

/// PostgreSQL cannot store NUL in text: a NUL in a path parameter or a query value is a 400
/// naming it, on every route that reads one (it was a 500 on ten of them).
#[tokio::test]
async fn a_nul_character_in_a_path_or_query_is_a_400_naming_it() {
    let app = spawn_app().await;
    let paths = [
        ("/api/v1/cylinders/a%00b", "code"),
        ("/api/v1/cylinders/a%00b/history", "code"),
        ("/api/v1/cylinders/by-tag/a%00b", "tag_id"),
        ("/api/v1/public/cylinders/a%00b", "code"),
        ("/api/v1/enterprises/a%00b", "code"),
        ("/api/v1/stations/a%00b/filling-summary", "code"),
        ("/api/v1/alerts/a%00b", "id"),
    ];
    for (path, field) in paths {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field", "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    let queries = [
        "/api/v1/cylinders?enterprise_code=a%00b",
        "/api/v1/stats/inventory?enterprise_code=a%00b",
        "/api/v1/alerts?enterprise_code=a%00b",
        "/api/v1/sites?enterprise_code=a%00b",
        "/api/v1/fillings?station_code=a%00b",
        "/api/v1/customers?enterprise_code=a%00b",
    ];
    for path in queries {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query", "{path}: {body}");
        let want = path.split('?').nth(1).unwrap().split('=').next().unwrap();
        assert_eq!(body["error"]["field"], want, "{path}: {body}");
    }
    // A device's write with NUL in its path changes nothing either.
    let (status, _) = app
        .post_json("/api/v1/devices/a%00b/revoke", &serde_json::json!({}))
        .await;
    assert_eq!(status, 400);
}

/// Found by schemathesis: a window open at one end reached PostgreSQL as chrono's own
/// MIN/MAX, outside `timestamptz` (500), and a stock limit past i32 overflowed its column (500).
#[tokio::test]
async fn open_windows_and_huge_stock_limits_answer_without_a_server_error() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/fillings?to=2000-01-01T00:00:00Z",
        "/api/v1/fillings/decisions?to=2000-01-01T00:00:00Z",
        "/api/v1/history?to=2000-01-01T00:00:00Z",
        "/api/v1/history?from=2000-01-01T00:00:00Z",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["items"], json!([]), "{path}");
    }
    let station = json!({"code": "BIG", "enterprise_code": "ENT1", "name": "大站",
        "kind": "filling", "location": {"lon": 113.62, "lat": 34.75},
        "full_stock_limit": 2_147_483_648_u64});
    let customer = json!({"code": "BIG-C", "enterprise_code": "ENT1", "name": "大户",
        "kind": "industrial", "phone": "1", "address": "x",
        "location": {"lon": 113.62, "lat": 34.75}, "district_code": "410105",
        "full_stock_limit": 1_000_001});
    for (path, body) in [
        ("/api/v1/stations", station),
        ("/api/v1/customers", customer),
    ] {
        let (status, answer) = app.post_json(path, &body).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"]["field"], "full_stock_limit", "{path}");
    }
    let (_, sites) = app.get_json("/api/v1/sites").await;
    assert!(
        !sites.to_string().contains("BIG"),
        "nothing was written: {sites}"
    );
}
