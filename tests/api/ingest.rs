use crate::common::{gps, spawn_app};
use serde_json::json;

#[tokio::test]
async fn accepted_gps_event_is_committed_with_its_point_and_times() {
    let app = spawn_app().await;
    let before = chrono::Utc::now();
    let event = gps("豫A12345", 113.6253, 34.7466, "2026-11-22T08:00:00+08:00");
    let (status, body) = app.post_events(&json!({ "events": [event.clone()] })).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        body,
        json!({"accepted": 1, "duplicates": 0, "rejected": []})
    );

    // Committed before the 202: readable at once, with a PostGIS point.
    let (kind, plate, lon, lat, srid, occurred, received): (String, String, f64, f64, i32, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "SELECT kind, vehicle_plate, ST_X(location), ST_Y(location), ST_SRID(location), occurred_at, received_at \
             FROM events WHERE id = $1::text::uuid",
        )
        .bind(event["id"].as_str().unwrap())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        (kind.as_str(), plate.as_str(), srid),
        ("gps", "豫A12345", 4326)
    );
    assert!((lon - 113.6253).abs() < 1e-9 && (lat - 34.7466).abs() < 1e-9);
    assert_eq!(occurred.to_rfc3339(), "2026-11-22T00:00:00+00:00");
    assert!(received >= before - chrono::Duration::seconds(1));
}

#[tokio::test]
async fn the_same_event_id_twice_is_one_row_and_one_duplicate() {
    let app = spawn_app().await;
    let event = gps("豫A00002", 113.7, 34.8, "2026-11-22T08:00:00+08:00");
    let (status, first) = app.post_events(&json!({ "events": [event.clone()] })).await;
    assert_eq!((status, first["accepted"].as_u64()), (202, Some(1)));
    let (status, again) = app.post_events(&json!({ "events": [event.clone()] })).await;
    assert_eq!(status, 202);
    assert_eq!(
        again,
        json!({"accepted": 0, "duplicates": 1, "rejected": []})
    );
    // Twice in one batch, beside a new one.
    let other = gps("豫A00002", 113.71, 34.8, "2026-11-22T08:00:05+08:00");
    let (_, mixed) = app
        .post_events(&json!({ "events": [event.clone(), other, event] }))
        .await;
    assert_eq!(
        mixed,
        json!({"accepted": 1, "duplicates": 2, "rejected": []})
    );
    assert_eq!(app.event_count().await, 2);
}

#[tokio::test]
async fn a_batch_keeps_its_good_items_and_names_each_bad_one() {
    let app = spawn_app().await;
    let good = gps("豫A00003", 113.7, 34.8, "2026-11-22T08:00:00+08:00");
    let mut bad_lat = gps("豫A00003", 113.7, 34.8, "2026-11-22T08:00:01+08:00");
    bad_lat["lat"] = json!(95.0);
    let (status, body) = app
        .post_events(&json!({ "events": [good, bad_lat, {"kind": "gps"}] }))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 1);
    assert_eq!(body["rejected"][0]["index"], 1);
    assert_eq!(body["rejected"][0]["error"]["code"], "invalid_field");
    assert_eq!(body["rejected"][0]["error"]["field"], "lat");
    assert_eq!(body["rejected"][1]["index"], 2);
    assert_eq!(body["rejected"][1]["error"]["code"], "missing_field");
    assert_eq!(body["rejected"][1]["error"]["field"], "id");
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn a_full_batch_of_ten_thousand_is_accepted() {
    let app = spawn_app().await;
    let events: Vec<_> = (0..10_000)
        .map(|i| {
            gps(
                &format!("豫B{:05}", i % 500),
                113.5 + f64::from(i) * 1e-5,
                34.7,
                "2026-11-22T09:00:00+08:00",
            )
        })
        .collect();
    let (status, body) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 10_000);
    assert_eq!(app.event_count().await, 10_000);
}
