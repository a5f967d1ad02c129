//! The event parser on good and bad input.

use super::*;
use serde_json::json;

fn gps() -> Value {
    json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e11", "kind": "gps",
           "occurred_at": "2026-11-22T08:00:00+08:00", "vehicle_plate": "豫A12345",
           "lon": 113.62, "lat": 34.75, "speed_kmh": 40.0, "heading": 90})
}

fn code_of(item: Value) -> (ErrorCode, Option<String>) {
    match parse_event(item) {
        Ok(e) => panic!("accepted {e:?}"),
        Err(e) => (e.code, e.field),
    }
}

#[test]
fn accepts_a_gps_fix_and_round_trips_it() {
    let event = parse_event(gps()).unwrap_or_else(|e| panic!("{e:?}"));
    let Event::Gps(fix) = &event else {
        panic!("not gps: {event:?}")
    };
    assert_eq!(fix.vehicle_plate.as_str(), "豫A12345");
    assert_eq!(fix.point.lon(), 113.62);
    let text = serde_json::to_string(&event).unwrap_or_default();
    let back: Event = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(back, event);
    assert_eq!(
        parse_event(serde_json::from_str(&text).unwrap_or_default()),
        Ok(event)
    );
}

#[test]
fn names_the_field_of_each_bad_item() {
    let with = |k: &str, v: Value| {
        let mut e = gps();
        e[k] = v;
        e
    };
    let without = |k: &str| {
        let mut e = gps();
        e.as_object_mut().map(|m| m.remove(k));
        e
    };
    let field = |f: &str| Some(f.to_owned());
    assert_eq!(
        code_of(without("id")),
        (ErrorCode::MissingField, field("id"))
    );
    assert_eq!(
        code_of(with("id", json!("x"))),
        (ErrorCode::InvalidField, field("id"))
    );
    assert_eq!(
        code_of(with("id", json!(7))),
        (ErrorCode::InvalidField, field("id"))
    );
    assert_eq!(
        code_of(with("kind", json!("teleport"))),
        (ErrorCode::UnknownKind, field("kind"))
    );
    assert_eq!(
        code_of(with("lon", json!(181))),
        (ErrorCode::InvalidField, field("lon"))
    );
    assert_eq!(
        code_of(with("lat", json!(-91))),
        (ErrorCode::InvalidField, field("lat"))
    );
    assert_eq!(
        code_of(with("lat", json!("34.7"))),
        (ErrorCode::InvalidField, field("lat"))
    );
    assert_eq!(
        code_of(without("lat")),
        (ErrorCode::MissingField, field("lat"))
    );
    assert_eq!(
        code_of(with("lng", json!(1))),
        (ErrorCode::UnknownField, field("lng"))
    );
    assert_eq!(
        code_of(with("occurred_at", json!("2026-11-22 08:00"))),
        (ErrorCode::InvalidField, field("occurred_at"))
    );
    assert_eq!(
        code_of(with("occurred_at", json!("9999-01-01T00:00:00Z"))),
        (ErrorCode::InvalidField, field("occurred_at"))
    );
    assert_eq!(
        code_of(with("vehicle_plate", json!(""))),
        (ErrorCode::InvalidField, field("vehicle_plate"))
    );
    assert_eq!(
        code_of(with("speed_kmh", json!(-1))),
        (ErrorCode::InvalidField, field("speed_kmh"))
    );
    assert_eq!(
        code_of(with("heading", json!(361))),
        (ErrorCode::InvalidField, field("heading"))
    );
    assert_eq!(code_of(json!([1])), (ErrorCode::InvalidField, None));
}

#[test]
fn body_level_errors() {
    let code = |body: &str| parse_batch(body.as_bytes()).map(|_| ()).map_err(|e| e.code);
    assert_eq!(code("{"), Err(ErrorCode::MalformedBody));
    assert_eq!(code("[]"), Err(ErrorCode::MalformedBody));
    assert_eq!(code("{}"), Err(ErrorCode::MissingField));
    assert_eq!(code(r#"{"events":{}}"#), Err(ErrorCode::InvalidField));
    assert_eq!(code(r#"{"events":[]}"#), Err(ErrorCode::InvalidBatchSize));
    assert_eq!(
        code(r#"{"events":[1],"x":1}"#),
        Err(ErrorCode::UnknownField)
    );
    let big = format!("{{\"events\":[{}]}}", vec!["{}"; MAX_BATCH + 1].join(","));
    assert_eq!(code(&big), Err(ErrorCode::InvalidBatchSize));
    assert_eq!(code(r#"{"events":[{}]}"#), Ok(()));
}

#[test]
fn every_kind_round_trips_through_its_wire_form() {
    let wire = [
        gps(),
        json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e12", "kind": "ble",
               "occurred_at": "2026-11-22T08:00:00+08:00", "vehicle_plate": "豫A12345",
               "tag_ids": ["T1", "T2"]}),
        json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e13", "kind": "scan", "op": "deliver",
               "occurred_at": "2026-11-22T08:00:00.125+08:00", "cylinder_code": "C1",
               "customer_code": "K1", "vehicle_plate": "豫A12345", "staff_no": "S1",
               "lon": 113.62, "lat": 34.75}),
        json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e14", "kind": "scan", "op": "store_in",
               "occurred_at": "2026-11-22T08:00:00+08:00", "tag_id": "T1",
               "station_code": "ST1"}),
        json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e15", "kind": "check", "stage": "pre",
               "occurred_at": "2026-11-22T08:00:00+08:00", "cylinder_code": "C1",
               "station_code": "ST1", "staff_no": "S1", "passed": true,
               "items": {"valve": "ok"}}),
        json!({"id": "0b7e3c52-6a36-4e4f-9d7f-2b1c3f0a9e16", "kind": "inspection",
               "occurred_at": "2026-11-22T08:00:00+08:00", "cylinder_code": "C1",
               "conclusion": "pass", "inspected_on": "2026-11-22",
               "next_inspection_on": "2030-11-22", "report_no": "R1",
               "inspection_body": "所", "inspector": "王"}),
    ];
    for item in wire {
        let event = parse_event(item.clone()).unwrap_or_else(|e| panic!("{e:?}: {item}"));
        let back = event.to_wire();
        assert_eq!(parse_event(back.clone()), Ok(event), "{back}");
        let keys = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
        let (mut sent, mut again) = (keys(&item), keys(&back));
        sent.iter_mut().for_each(|k| k.sort());
        again.iter_mut().for_each(|k| k.sort());
        assert_eq!(sent, again, "{back}");
    }
}
