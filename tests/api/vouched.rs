//! What a regulator vouches for, at registration as in `PATCH` (the trust boundary of issue
//! 21 item 3): a consignee's licence for controlled media and a vehicle's road transport
//! permit are refused from an enterprise's own registration and CSV import (staff
//! certificates: `licences.rs`).

use crate::access::new_user;
use crate::common::spawn_app;
use crate::edits::get;
use serde_json::{json, Value};

/// At registration as in `PATCH`: an enterprise's admin registering a consignee with a licence
/// or a vehicle with a permit is refused naming the field, nothing written; a regulator may.
#[tokio::test]
async fn licences_and_permits_given_at_registration_are_the_regulators_too() {
    let app = spawn_app().await;
    app.seed_registry().await;
    let admin = new_user(&app, "ent-admin", "enterprise_admin", Some("ENT1")).await;
    let customer = |code: &str, extra: Value| {
        let mut c = json!({"code": code, "enterprise_code": "ENT1", "name": "某医院",
            "kind": "industrial", "phone": "0371-1", "address": "郑州",
            "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        c
    };
    let vehicle = |plate: &str, extra: Value| {
        let mut v = json!({"plate": plate, "enterprise_code": "ENT1"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let tries = [
        (
            "/api/v1/customers",
            customer("C-L1", json!({"licence_no": "豫危化-9"})),
            "licence_no",
        ),
        (
            "/api/v1/customers",
            customer(
                "C-L1",
                json!({"licence_no": "豫危化-9",
            "licence_expires": "2030-01-01"}),
            ),
            "licence_no",
        ),
        (
            "/api/v1/vehicles",
            vehicle(
                "豫A0P001",
                json!({"transport_permit_no": "豫交运-9",
            "transport_permit_expires": "2030-01-01"}),
            ),
            "transport_permit_no",
        ),
    ];
    for (path, body, field) in &tries {
        let (status, answer) = app
            .send_json(reqwest::Method::POST, path, Some(body), Some(&admin))
            .await;
        assert_eq!(
            (status, &answer["error"]["field"]),
            (403, &json!(field)),
            "{answer}"
        );
    }
    assert_eq!(get(&app, "/api/v1/customers/C-L1", None).await.0, 404);
    assert_eq!(get(&app, "/api/v1/vehicles/豫A0P001", None).await.0, 404);
    // Without them the enterprise registers; with them a regulator does.
    let (status, answer) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/customers",
            Some(&customer("C-L1", json!({}))),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app.post_json("/api/v1/vehicles", &tries[2].1).await;
    assert_eq!(status, 201, "{answer}");
}
