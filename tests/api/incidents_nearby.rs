//! An incident's nearby lists against a brute-force distance check.

use super::incidents::*;
use crate::common::{archive, gps, scan, spawn_app, station};
use chrono::Utc;
use serde_json::{json, Value};

#[tokio::test]
async fn nearby_lists_match_a_brute_force_distance_check() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let center = (113.665, 34.772);
    let customers = [
        ("N1", 113.666, 34.7725),
        ("N2", 113.670, 34.774),
        ("N3", 113.658, 34.768),
        ("N4", 113.675, 34.778),
    ];
    for (code, lon, lat) in customers {
        let (status, answer) = app
            .post_json("/api/v1/customers", &customer(code, lon, lat))
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let stations = [("NS1", 113.663, 34.7735), ("NS2", 113.68, 34.772)];
    for (code, lon, lat) in stations {
        let (status, answer) = app
            .post_json("/api/v1/stations", &station(code, "ENT1", code, lon, lat))
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let vehicles = [
        ("豫A00001", 113.6655, 34.7718),
        ("豫A00002", 113.672, 34.770),
        ("豫A00003", 113.69, 34.79),
    ];
    let when = Utc::now().to_rfc3339();
    let mut events = Vec::new();
    for (plate, lon, lat) in vehicles {
        let (status, answer) = app
            .post_json(
                "/api/v1/vehicles",
                &json!({"plate": plate, "enterprise_code": "ENT1"}),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
        events.push(gps(plate, lon, lat, &when));
    }
    // Cylinders last seen at N1, N2, N4 (delivered there) and at NS1 (filled there).
    let cylinders = [("K1", "N1"), ("K2", "N2"), ("K4", "N4"), ("K5", "NS1")];
    for (code, _) in cylinders {
        assert_eq!(
            app.post_json("/api/v1/cylinders", &archive(code, &format!("T-{code}")))
                .await
                .0,
            201
        );
    }
    // K2 is overdue for inspection.
    sqlx::query("UPDATE cylinders SET next_inspection_on = '2025-01-01' WHERE code = 'K2'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    for (code, place) in cylinders {
        let extra = if place.starts_with("NS") {
            json!({"station_code": place, "staff_no": "S1"})
        } else {
            json!({"customer_code": place})
        };
        let op = if place.starts_with("NS") {
            "fill"
        } else {
            "deliver"
        };
        events.push(scan(op, code, &when, extra));
    }
    let (status, answer) = app.post_events(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{answer}");
    app.wait_until(|| async {
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM vehicle_positions) + \
                    (SELECT count(*) FROM cylinder_state WHERE location IS NOT NULL)",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        n == 7
    })
    .await;

    let body = json!({"kind": "fire", "level": "major", "description": "店内起火",
                      "place": {"lon": center.0, "lat": center.1}});
    let (status, incident) = app.post_json("/api/v1/incidents", &body).await;
    assert_eq!(status, 201, "{incident}");
    assert_eq!(incident["district_code"], "410105");
    let id = incident["id"].as_str().unwrap();
    let radius = 1000.0;
    let (status, context) = app
        .get_json(&format!("/api/v1/incidents/{id}/context?radius_m={radius}"))
        .await;
    assert_eq!(status, 200, "{context}");

    // Brute force: every seeded thing within the radius by haversine, nearest first.
    let seeded_sites: Vec<(&str, f64, f64)> = customers
        .iter()
        .chain(stations.iter())
        .copied()
        .chain([
            ("C1", 113.66, 34.76),
            ("ST1", 113.62, 34.75),
            ("ST2", 113.70, 34.78),
        ])
        .collect();
    let expect = |points: Vec<(&str, f64, f64)>| -> Vec<(String, f64)> {
        let mut near: Vec<(String, f64)> = points
            .into_iter()
            .map(|(code, lon, lat)| (code.to_owned(), haversine(center, (lon, lat))))
            .inspect(|(code, d)| {
                // The test's points keep clear of the edge (spheroid vs sphere).
                assert!(
                    (d - radius).abs() > radius * 0.03,
                    "{code} too near the edge"
                );
            })
            .filter(|(_, d)| *d <= radius)
            .collect();
        near.sort_by(|a, b| a.1.total_cmp(&b.1));
        near
    };
    let got = |list: &Value, key: &str| -> Vec<(String, f64)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i[key].as_str().unwrap().to_owned(),
                    i["distance_m"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    let place_of = |code: &str| {
        seeded_sites
            .iter()
            .find(|s| s.0 == code)
            .map(|s| (s.1, s.2))
            .unwrap()
    };
    let seeded_cylinders: Vec<(&str, f64, f64)> = cylinders
        .iter()
        .map(|(code, place)| {
            let (lon, lat) = place_of(place);
            (*code, lon, lat)
        })
        .collect();
    for (what, list, key, seeded) in [
        (
            "sites",
            &context["nearby"]["sites"],
            "code",
            seeded_sites.clone(),
        ),
        (
            "vehicles",
            &context["nearby"]["vehicles"],
            "plate",
            vehicles.to_vec(),
        ),
        (
            "cylinders",
            &context["nearby"]["cylinders"],
            "code",
            seeded_cylinders,
        ),
    ] {
        let want = expect(seeded);
        let have = got(list, key);
        let names = |v: &[(String, f64)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&have), names(&want), "{what}: {list}");
        for ((code, d), (_, w)) in have.iter().zip(&want) {
            assert!((d - w).abs() <= w * 0.01 + 1.0, "{what} {code}: {d} vs {w}");
        }
        // A page of one: the nearest alone, the total counting all within the radius.
        let (status, page) = app
            .get_json(&format!(
                "/api/v1/incidents/{id}/context?radius_m={radius}&limit=1"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            names(&got(&page["nearby"][what], key)),
            names(&want[..1]),
            "{what}"
        );
        assert_eq!(
            page["nearby"][format!("{what}_total")],
            json!(want.len()),
            "{what}: {page}"
        );
        assert!(want.len() > 1, "{what}: the page must leave some out");
    }
    let compliance: Vec<(&str, &str)> = context["nearby"]["cylinders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap(),
                c["compliance"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        compliance.contains(&("K2", "inspection_overdue")),
        "{compliance:?}"
    );
    assert!(compliance.contains(&("K1", "ok")), "{compliance:?}");
    // A radius outside 50..5000 is refused, naming it.
    for bad in ["10", "9000", "x"] {
        let (status, answer) = app
            .get_json(&format!("/api/v1/incidents/{id}/context?radius_m={bad}"))
            .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(error_field(&answer), Some("radius_m"), "{bad}: {answer}");
    }
}

/// Metres between two (lon, lat) points on the mean sphere.
fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dl = (b.0 - a.0).to_radians();
    let dp = la2 - la1;
    let h = (dp / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}
