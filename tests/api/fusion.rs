//! The live fusion pipeline's stages, through the public API: GPS plausibility filters.

use crate::common::{spawn_app_with, AppConfig, TestApp, TestDb};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn fix(plate: &str, lon: f64, lat: f64, at: chrono::DateTime<Utc>) -> Value {
    json!({"id": Uuid::new_v4(), "kind": "gps", "occurred_at": at.to_rfc3339(),
           "vehicle_plate": plate, "lon": lon, "lat": lat})
}

async fn position(app: &TestApp, plate: &str) -> Option<(f64, f64)> {
    sqlx::query_as("SELECT ST_X(location), ST_Y(location) FROM vehicle_positions WHERE plate = $1")
        .bind(plate)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap()
}

async fn filtered(app: &TestApp) -> Vec<(Uuid, String, Option<f64>)> {
    sqlx::query_as(
        "SELECT event_id, reason, implied_speed_kmh FROM filtered_fixes ORDER BY occurred_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
}

/// Future and far-past fixes, impossible jumps and duplicates are kept with their reason and
/// never move the vehicle; plausible fixes do.
#[tokio::test]
async fn implausible_fixes_are_kept_with_their_reason_not_applied() {
    let mut config = AppConfig::default();
    for (k, v) in [
        ("CYLWATCH_GPS_FILTERS", "true"),
        ("CYLWATCH_GPS_MAX_SPEED_KMH", "180.0"),
        ("CYLWATCH_GPS_MAX_AGE_H", "24"),
        ("CYLWATCH_GPS_MAX_FUTURE_S", "120"),
    ] {
        config.env.push((k.into(), v.into()));
    }
    let app = spawn_app_with(config, TestDb::new().await).await;
    let plate = "豫A50001";
    let t0 = Utc::now() - Duration::minutes(10);
    let a = fix(plate, 113.60, 34.70, t0);
    let b = fix(plate, 113.60, 34.71, t0 + Duration::seconds(60)); // 67 km/h from a
    let jump = fix(plate, 113.70, 34.71, t0 + Duration::seconds(70)); // 9 km in 10 s
    let future = fix(plate, 113.60, 34.71, Utc::now() + Duration::hours(1));
    let old = fix(plate, 113.60, 34.71, Utc::now() - Duration::days(3));
    let g = fix(plate, 113.60, 34.715, t0 + Duration::seconds(120)); // 33 km/h from b
                                                                     // One at a time: a fix is judged against the newest applied one when it arrives.
    let steps = [
        (&a, true, 0),
        (&b, true, 0),
        (&jump, false, 1),
        (&future, false, 2),
        (&old, false, 3),
        (&g, true, 3),
    ];
    for (event, applies, filtered_after) in steps {
        let (status, body) = app.post_events(&json!({"events": [event]})).await;
        assert_eq!((status, &body["accepted"]), (202, &json!(1)), "{body}");
        let at = (
            event["lon"].as_f64().unwrap(),
            event["lat"].as_f64().unwrap(),
        );
        app.wait_until(|| async {
            filtered(&app).await.len() == filtered_after
                && (!applies || position(&app, plate).await == Some(at))
        })
        .await;
    }
    let kept = filtered(&app).await;
    let id = |v: &Value| Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
    assert_eq!(
        kept.iter()
            .map(|(i, r, _)| (*i, r.as_str()))
            .collect::<Vec<_>>(),
        [
            (id(&old), "far_past"),
            (id(&jump), "jump"),
            (id(&future), "future")
        ]
    );
    let speed = kept[1].2.unwrap();
    assert!(
        (3000.0..3400.0).contains(&speed),
        "9 km in 10 s: {speed} km/h"
    );

    // The same time and place again under another id: a duplicate.
    let again = json!({"events": [fix(plate, 113.60, 34.715, t0 + Duration::seconds(120))]});
    let dup_id = Uuid::parse_str(again["events"][0]["id"].as_str().unwrap()).unwrap();
    app.post_events(&again).await;
    app.wait_until(|| async { filtered(&app).await.len() == 4 })
        .await;
    assert!(filtered(&app)
        .await
        .contains(&(dup_id, "duplicate".into(), None)));
    // Every fix stays in the traceability record.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE vehicle_plate = $1")
        .bind(plate)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(events, 7);
    assert_eq!(position(&app, plate).await, Some((113.60, 34.715)));

    // A vehicle whose first fix is wrong (50 km off): the real track's first fix is a jump,
    // the second agrees with it and moves the vehicle; the track goes on from there.
    let other = "豫A50002";
    let steps = [
        (fix(other, 114.1, 35.1, t0), 4, Some((114.1, 35.1))),
        (
            fix(other, 113.60, 34.70, t0 + Duration::seconds(30)),
            5,
            Some((114.1, 35.1)),
        ),
        (
            fix(other, 113.60, 34.701, t0 + Duration::seconds(40)),
            5,
            Some((113.60, 34.701)),
        ),
        (
            fix(other, 113.60, 34.702, t0 + Duration::seconds(50)),
            5,
            Some((113.60, 34.702)),
        ),
    ];
    for (event, filtered_after, at) in steps {
        app.post_events(&json!({"events": [event]})).await;
        app.wait_until(|| async {
            filtered(&app).await.len() == filtered_after && position(&app, other).await == at
        })
        .await;
    }
}
