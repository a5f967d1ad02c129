//! The cross-enterprise device-write matrix (issue 20): B's devices against A's records
//! change and reveal nothing.

use super::scope::*;
use crate::common::{scan, spawn_app};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

/// Every device write (each event kind, the gun's question, the filling record) by enterprise
/// B's devices against enterprise A's records: refused, or answered as for nothing, and A's
/// rows are the same after as before (issue 20: the cross-enterprise write matrix).
#[tokio::test]
async fn no_device_write_of_one_enterprise_changes_or_reveals_the_others_records() {
    let app = spawn_app().await;
    let a = plant(&app, "EA", "410105", 113.70, 34.78).await;
    let b = plant(&app, "EB", "410102", 113.55, 34.75).await;
    app.wait_until(|| async {
        app.get_json(&format!("/api/v1/cylinders/{}/history", a.cylinder))
            .await
            .1["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1)
    })
    .await;
    let a_rows = || async {
        let row: (Value,) = sqlx::query_as(
            "SELECT json_build_object( \
               'history', (SELECT json_agg(h ORDER BY h.event_id) FROM cylinder_events h \
                           JOIN cylinders c ON c.id = h.cylinder_id \
                           WHERE c.owner_enterprise_code = 'EA'), \
               'state', (SELECT json_agg(s ORDER BY s.cylinder_id) FROM cylinder_state s \
                         JOIN cylinders c ON c.id = s.cylinder_id \
                         WHERE c.owner_enterprise_code = 'EA'), \
               'fillings', (SELECT count(*) FROM fillings WHERE enterprise_code = 'EA' \
                            OR station_code = 'EA-ST'), \
               'staff', (SELECT json_agg(p ORDER BY p.staff_no) FROM staff p \
                         WHERE p.enterprise_code = 'EA'), \
               'stations', (SELECT json_agg(st.code ORDER BY st.code) FROM stations st \
                            WHERE st.enterprise_code = 'EA'), \
               'positions', (SELECT count(*) FROM vehicle_positions \
                             WHERE enterprise_code = 'EA'))",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        row.0
    };
    let before = a_rows().await;
    let b_controller = app
        .new_device(
            &b.code,
            json!({"kind": "controller", "station_code": format!("{}-ST", b.code)}),
        )
        .await;
    let at = "2026-11-21T09:00:00+08:00";
    let a_staff = format!("{}-S", a.code);
    let (a_station, b_station) = (format!("{}-ST", a.code), format!("{}-ST", b.code));
    let b_staff = format!("{}-S", b.code);
    let b_customer = format!("{}-C", b.code);
    let check = |station: &str, staff: &str| {
        json!({"id": Uuid::new_v4(), "kind": "check", "stage": "pre", "cylinder_code": a.cylinder,
               "station_code": station, "staff_no": staff, "passed": true, "items": {},
               "occurred_at": at})
    };
    let inspection = || {
        json!({"id": Uuid::new_v4(), "kind": "inspection", "cylinder_code": a.cylinder,
               "conclusion": "scrap", "inspected_on": "2026-11-21", "next_inspection_on": null,
               "report_no": "R", "inspection_body": "x", "inspector": "x", "occurred_at": at})
    };
    // Each event kind aimed at A: refused per item with its code, or (`None`) accepted as
    // evidence and never applied to A's records.
    let attempts = || {
        [
            (
                crate::common::gps(&a.plate, 113.6, 34.7, at),
                Some("unknown_reference"),
            ),
            (
                json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": a.plate,
                       "tag_ids": [a.tag], "occurred_at": at}),
                Some("unknown_reference"),
            ),
            (
                json!({"id": Uuid::new_v4(), "kind": "ble", "vehicle_plate": b.plate,
                       "tag_ids": [a.tag], "occurred_at": at}),
                None,
            ),
            (
                scan(
                    "deliver",
                    &a.cylinder,
                    at,
                    json!({"customer_code": b_customer}),
                ),
                None,
            ),
            (
                scan("fill", &a.cylinder, at, json!({"station_code": b_station})),
                None,
            ),
            (
                scan("fill", &a.cylinder, at, json!({"station_code": a_station})),
                Some("unknown_reference"),
            ),
            (
                scan(
                    "deliver",
                    &b.cylinder,
                    at,
                    json!({"customer_code": format!("{}-C", a.code)}),
                ),
                Some("unknown_reference"),
            ),
            (
                scan(
                    "fill",
                    &b.cylinder,
                    at,
                    json!({"station_code": b_station, "staff_no": a_staff}),
                ),
                Some("foreign_staff"),
            ),
            (check(&b_station, &b_staff), None),
            (check(&a_station, &b_staff), Some("unknown_reference")),
            (check(&b_station, &a_staff), Some("foreign_staff")),
            (inspection(), Some("forbidden")),
        ]
    };
    for (key, who, bound) in [
        (&b.device_key, "B's device", false),
        (&b_controller, "B's controller", true),
    ] {
        for (event, expected) in attempts() {
            // A station's device reports no vehicle's fixes or sightings.
            let expected = match event["kind"].as_str() {
                Some("gps" | "ble") if bound => Some("unknown_reference"),
                _ => expected,
            };
            let (status, body) = app
                .post_events_as(key, &json!({ "events": [&event] }))
                .await;
            assert!(!body.to_string().contains(&a.canary), "{who}: {body}");
            match expected {
                Some(code) => {
                    assert_eq!(status, 422, "{who}: {event}: {body}");
                    assert_eq!(
                        body["rejected"][0]["error"]["code"], code,
                        "{who}: {event}: {body}"
                    );
                }
                None => assert_eq!(
                    (status, &body["accepted"]),
                    (202, &json!(1)),
                    "{who}: {event}: {body}"
                ),
            }
        }
    }
    // The gun: A's cylinder at B's station is answered as an unknown one; A's station is not
    // B's to ask about, nor to record at.
    let ask = |cylinder: &str, station: &str| {
        json!({"cylinder_code": cylinder, "station_code": station, "gun_no": "G1",
               "medium": "LPG", "staff_no": format!("{}-S", b.code)})
    };
    let (status, theirs) = app
        .authorize(&b_controller, ask(&a.cylinder, &b_station))
        .await;
    assert_eq!(status, 200, "{theirs}");
    let (_, unknown) = app
        .authorize(&b_controller, ask("NO-SUCH", &b_station))
        .await;
    assert_eq!(theirs["reasons"], unknown["reasons"], "{theirs}");
    let (status, body) = app
        .authorize(&b_controller, ask(&a.cylinder, &a_station))
        .await;
    assert!([403, 422].contains(&status), "{status} {body}");
    for station in [&a_station, &b_station] {
        let record = json!({"cylinder_code": a.cylinder, "station_code": station,
            "licence_no": "L1", "gun_no": "G1", "staff_no": format!("{}-S", b.code),
            "staff_name": "x", "started_at": at, "ended_at": at,
            "mass_before_kg": 16.4, "mass_after_kg": 30.0});
        let (status, body) = app.post_filling(&b_controller, &record).await;
        assert!([403, 422].contains(&status), "{station}: {status} {body}");
        assert!(!body.to_string().contains(&a.canary), "{body}");
    }
    // The pipeline has handled what was accepted (the references to A's cylinder, kept as
    // foreign evidence: four from B's gateway, three from its controller), then A's rows are
    // compared.
    app.wait_until(|| async {
        let kept: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM unresolved_refs WHERE enterprise_code = 'EB' \
             AND reason = 'foreign'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        kept == 7
    })
    .await;
    assert_eq!(a_rows().await, before, "A's rows changed");
    // B's scan of A's cylinder raised B the alert an unknown code raises: nothing tells B the
    // code is registered elsewhere.
    app.wait_until(|| async {
        let (_, page) = app
            .send_json(
                Method::GET,
                "/api/v1/alerts?kind=illegal_tag",
                None,
                Some(&b.admin_token),
            )
            .await;
        page["items"].as_array().is_some_and(|items| {
            items
                .iter()
                .any(|i| i["subject"]["id"] == a.cylinder.as_str())
        })
    })
    .await;
}
