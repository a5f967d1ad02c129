//! Registry records: created, read back, and every bad one refused with its field, writing
//! nothing.

use crate::common::{archive, enterprise, spawn_app, station, TestApp};
use serde_json::{json, Value};

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn records_are_created_and_enterprises_read_back_with_counts() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let (status, body) = app
        .post_json(
            "/api/v1/vehicles",
            &json!({"plate": "豫A12345", "enterprise_code": "ENT1", "gps_device_id": "GPS-1"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json(
            "/api/v1/geofences",
            &json!({"name": "化工园区禁行区", "kind": "restricted", "geometry": {"type": "Polygon",
                "coordinates": [[[113.6, 34.7], [113.7, 34.7], [113.7, 34.8], [113.6, 34.7]]]}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json(
            "/api/v1/geofences",
            &json!({"name": "配送走廊", "kind": "corridor", "center": {"lon": 113.6, "lat": 34.7},
                    "radius_m": 500, "vehicle_plates": ["豫A12345"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post_json("/api/v1/cylinders", &archive("431325", "E200431325"))
        .await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = app.get_json("/api/v1/enterprises/ENT1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "ENT1 燃气有限公司");
    assert_eq!(body["media"], json!(["LPG"]));
    assert_eq!(
        body["counts"],
        json!({"stations": 2, "customers": 1, "staff": 1, "vehicles": 1, "cylinders": 1,
               "cylinders_scrapped": 0})
    );
    let (status, body) = app.get_json("/api/v1/enterprises/NOPE").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn bad_records_get_a_field_error_and_write_nothing() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let with = |mut v: Value, k: &str, x: Value| {
        v[k] = x;
        v
    };
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "/api/v1/enterprises",
            enterprise("ENT1"),
            409,
            "already_exists",
            "code",
        ),
        (
            "/api/v1/enterprises",
            with(enterprise("E2"), "media", json!(["LPG", "XE"])),
            400,
            "invalid_field",
            "media[1]",
        ),
        (
            "/api/v1/enterprises",
            with(enterprise("E2"), "code", json!("a b")),
            400,
            "invalid_field",
            "code",
        ),
        (
            "/api/v1/enterprises",
            with(
                enterprise("E2"),
                "filling_licence_expires",
                json!("2030-13-01"),
            ),
            400,
            "invalid_field",
            "filling_licence_expires",
        ),
        (
            "/api/v1/enterprises",
            with(enterprise("E2"), "filling_licence_expires", Value::Null),
            400,
            "invalid_field",
            "filling_licence_expires",
        ),
        (
            "/api/v1/enterprises",
            with(enterprise("E2"), "colour", json!("red")),
            400,
            "unknown_field",
            "colour",
        ),
        (
            "/api/v1/stations",
            station("ST9", "NOPE", "站", 113.6, 34.7),
            422,
            "unknown_reference",
            "enterprise_code",
        ),
        (
            "/api/v1/stations",
            with(
                station("ST9", "ENT1", "站", 113.6, 34.7),
                "kind",
                json!("bakery"),
            ),
            400,
            "invalid_field",
            "kind",
        ),
        (
            "/api/v1/stations",
            with(
                station("ST9", "ENT1", "站", 113.6, 34.7),
                "location",
                json!({"lon": 200, "lat": 34}),
            ),
            400,
            "invalid_field",
            "location",
        ),
        (
            "/api/v1/stations",
            with(
                station("ST9", "ENT1", "站", 113.6, 34.7),
                "radius_m",
                json!(0),
            ),
            400,
            "invalid_field",
            "radius_m",
        ),
        (
            "/api/v1/stations",
            with(
                station("ST9", "ENT1", "站", 113.6, 34.7),
                "full_stock_limit",
                json!(-1),
            ),
            400,
            "invalid_field",
            "full_stock_limit",
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S1", "enterprise_code": "ENT1", "name": "x", "role": "filler"}),
            409,
            "already_exists",
            "staff_no",
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S9", "enterprise_code": "ENT1", "name": "x", "role": "pilot"}),
            400,
            "invalid_field",
            "role",
        ),
        (
            "/api/v1/staff",
            json!({"staff_no": "S9", "enterprise_code": "ENT1", "name": "  ", "role": "filler"}),
            400,
            "invalid_field",
            "name",
        ),
        (
            "/api/v1/vehicles",
            json!({"plate": "豫A1", "enterprise_code": "NOPE"}),
            422,
            "unknown_reference",
            "enterprise_code",
        ),
        (
            "/api/v1/customers",
            json!({"code": "C9", "enterprise_code": "ENT1", "name": "x"}),
            400,
            "missing_field",
            "kind",
        ),
        (
            "/api/v1/geofences",
            json!({"name": "x", "kind": "site", "geometry": {"type": "Polygon",
            "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}),
            422,
            "invalid_geometry",
            "geometry",
        ),
        // Valid GeoJSON, but not an area: no vehicle is ever inside a line.
        (
            "/api/v1/geofences",
            json!({"name": "x", "kind": "site", "geometry": {"type": "LineString",
            "coordinates": [[113.6, 34.7], [113.7, 34.8]]}}),
            400,
            "invalid_field",
            "geometry.type",
        ),
        (
            "/api/v1/geofences",
            json!({"name": "x", "kind": "site"}),
            400,
            "invalid_field",
            "geometry",
        ),
    ];
    let tables = [
        "enterprises",
        "stations",
        "staff",
        "vehicles",
        "customers",
        "geofences",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(count(&app, t).await);
    }
    for (path, body, status, code, field) in cases {
        let (got, answer) = app.post_json(path, &body).await;
        assert_eq!(got, status, "{path} {body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{path} {body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{path} {body}: {answer}");
    }
    let (status, answer) = app
        .post_bytes(
            "/api/v1/stations",
            b"{not json".to_vec(),
            "application/json",
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("malformed_body"))
    );
    let (status, _) = app
        .post_bytes("/api/v1/stations", b"code=1".to_vec(), "text/plain")
        .await;
    assert_eq!(status, 415);
    // Nor does the table take a fence that is not an area from any other writer: the fence
    // index reads every fence, and one it cannot read stops it (migration 0075).
    let stored = sqlx::query(
        "INSERT INTO geofences (name, kind, geom) \
         VALUES ('x', 'site', ST_GeomFromText('LINESTRING(113.6 34.7, 113.7 34.8)', 4326))",
    )
    .execute(&app.db.pool)
    .await;
    assert!(
        stored.is_err_and(|e| e.to_string().contains("geofences_polygon")),
        "a line stored as a fence"
    );
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(count(&app, t).await, n, "{t} changed");
    }
}
