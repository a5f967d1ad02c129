//! Property tests of the event parser (`parse_event`, the one parser behind `POST /api/v1/events`,
//! MQTT and JT/T 808): thousands of generated cases made by mutating valid events of every kind
//! (a field dropped, a field given a value of a random type, an unknown field added, the whole
//! item replaced). Nothing panics; every rejection names a field the item has or should have;
//! every acceptance survives the trip through the outbox (written out and read back, the same
//! event).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cylwatch_shared::events::{parse_event, Event};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Every field name any kind knows: a rejection names one of these (or a key of the item).
const KNOWN: &[&str] = &[
    "id",
    "kind",
    "occurred_at",
    "vehicle_plate",
    "lon",
    "lat",
    "speed_kmh",
    "heading",
    "alarms",
    "tag_ids",
    "op",
    "cylinder_code",
    "tag_id",
    "station_code",
    "customer_code",
    "to_station_code",
    "staff_no",
    "mass_before_kg",
    "mass_after_kg",
    "stage",
    "passed",
    "items",
    "conclusion",
    "inspected_on",
    "next_inspection_on",
    "report_no",
    "inspection_body",
    "inspector",
];

/// A valid event of each kind.
fn templates() -> Vec<Value> {
    let id = "6f1c2a8e-0000-4000-8000-00000000000";
    let at = "2026-12-07T10:00:00+08:00";
    vec![
        json!({"id": format!("{id}1"), "kind": "gps", "occurred_at": at, "vehicle_plate": "豫A12345",
               "lon": 113.62, "lat": 34.75, "speed_kmh": 42.5, "heading": 90.0,
               "alarms": ["overspeed"]}),
        json!({"id": format!("{id}2"), "kind": "ble", "occurred_at": at, "vehicle_plate": "豫A12345",
               "tag_ids": ["T1", "T2"]}),
        json!({"id": format!("{id}3"), "kind": "scan", "occurred_at": at, "op": "deliver",
               "cylinder_code": "C1", "station_code": "ST1", "customer_code": "CU1",
               "vehicle_plate": "豫A12345", "staff_no": "S1", "lon": 113.6, "lat": 34.7}),
        json!({"id": format!("{id}4"), "kind": "scan", "occurred_at": at, "op": "fill",
               "tag_id": "T9", "station_code": "ST1", "mass_before_kg": 15.2,
               "mass_after_kg": 29.9}),
        json!({"id": format!("{id}5"), "kind": "check", "occurred_at": at, "stage": "pre",
               "cylinder_code": "C1", "station_code": "ST1", "staff_no": "S1", "passed": true}),
        json!({"id": format!("{id}6"), "kind": "inspection", "occurred_at": at,
               "cylinder_code": "C1", "conclusion": "pass", "inspected_on": "2026-12-01",
               "next_inspection_on": "2030-12-01", "report_no": "R1",
               "inspection_body": "郑州检验所", "inspector": "王"}),
    ]
}

/// A JSON value of any type, with the awkward ones well represented.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        prop_oneof![
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(-0.0),
            Just(361.0)
        ]
        .prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
        "[\\x00-\\x1f ]{1,4}".prop_map(Value::from),
        prop_oneof![
            Just("2026-12-07T10:00:00+08:00"),
            Just("2026-02-30T10:00:00Z"),
            Just("2026-12-07"),
            Just("pre"),
            Just("deliver"),
            Just("scrap"),
            Just("6f1c2a8e-0000-4000-8000-000000000009"),
            Just(""),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change to an item.
#[derive(Debug, Clone)]
enum Mutation {
    Drop(prop::sample::Index),
    Set(prop::sample::Index, Value),
    Add(String, Value),
    Replace(Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any::<prop::sample::Index>().prop_map(Mutation::Drop),
        5 => (any::<prop::sample::Index>(), any_value()).prop_map(|(i, v)| Mutation::Set(i, v)),
        2 => ("[a-z_]{1,12}", any_value()).prop_map(|(k, v)| Mutation::Add(k, v)),
        1 => any_value().prop_map(Mutation::Replace),
    ]
}

fn apply(item: &mut Value, m: &Mutation) {
    let Value::Object(map) = item else {
        return;
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    match m {
        Mutation::Drop(i) if !keys.is_empty() => {
            map.remove(&keys[i.index(keys.len())]);
        }
        Mutation::Set(i, v) if !keys.is_empty() => {
            map.insert(keys[i.index(keys.len())].clone(), v.clone());
        }
        Mutation::Add(k, v) => {
            map.insert(k.clone(), v.clone());
        }
        Mutation::Replace(v) => *item = v.clone(),
        _ => {}
    }
}

/// The field a rejection names, without its index or sub-path (`tag_ids[3]` → `tag_ids`).
fn root(field: &str) -> &str {
    field.split(['[', '.', '/']).next().unwrap_or(field)
}

#[test]
fn every_template_is_valid() {
    for t in templates() {
        parse_event(t.clone()).unwrap_or_else(|e| panic!("{t}: {e:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_event_is_rejected_naming_a_field_or_accepted_and_round_trips(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let templates = templates();
        let mut item = templates[which.index(templates.len())].clone();
        for m in &mutations {
            apply(&mut item, m);
        }
        match parse_event(item.clone()) {
            Ok(event) => {
                // As the outbox and the streams carry it, and the pipeline reads it back.
                let written = serde_json::to_string(&event).unwrap();
                let again: Event = serde_json::from_str(&written).unwrap();
                prop_assert_eq!(&again, &event, "{} → {}", item, written);
            }
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                if let Value::Object(map) = &item {
                    let field = e.field.as_deref();
                    prop_assert!(field.is_some(), "{item}: {e:?} names no field");
                    let name = root(field.unwrap_or_default());
                    prop_assert!(
                        KNOWN.contains(&name) || map.contains_key(name),
                        "{item}: {e:?} names {name:?}, which neither the item nor any kind has"
                    );
                }
            }
        }
    }

    #[test]
    fn any_json_at_all_never_panics(item in any_value()) {
        let _ = parse_event(item);
    }
}

#[test]
fn a_rejection_is_a_client_error() {
    let e = parse_event(json!({"kind": "gps"})).unwrap_err();
    assert!(e.field.is_some());
    assert!(parse_event(Value::Object(Map::new())).is_err());
}
