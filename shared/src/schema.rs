//! OpenAPI schemas of the types whose JSON is not their Rust shape (validated newtypes, the
//! medium codes, the checked point). The `openapi` feature turns them on; the wasm build never
//! links utoipa.

use crate::ids::{
    CustomerCode, CylinderCode, DeviceId, DistrictCode, EnterpriseCode, StaffNo, StationCode, TagId,
};
use crate::medium::Medium;
use crate::registry::Text;
use crate::{GeoPoint, VehiclePlate};
use std::borrow::Cow;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

fn number(description: &str, min: f64, max: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(description))
        .into()
}

macro_rules! named {
    ($t:ty, $name:expr, $schema:expr) => {
        impl utoipa::PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl utoipa::ToSchema for $t {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

macro_rules! code {
    ($($t:ident: $what:literal),* $(,)?) => {$(
        named!($t, stringify!($t), string(concat!(
            $what, ": 1 to 64 of letters, digits, `.`, `_`, `-`."
        ))
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
        .into());
    )*};
}

code!(
    CylinderCode: "A cylinder's unique number (气瓶唯一性瓶号)",
    TagId: "An RFID/NFC tag id bound to one cylinder",
    EnterpriseCode: "An enterprise's code",
    StationCode: "A station's code",
    CustomerCode: "A customer's code",
    StaffNo: "A staff member's number",
    DeviceId: "A device's id",
    DistrictCode: "An administrative district code (GB/T 2260)",
);

named!(
    VehiclePlate,
    "VehiclePlate",
    string("A number plate, e.g. 豫A12345: 1 to 20 characters, no control characters or surrounding spaces.")
        .min_length(Some(1))
        .max_length(Some(20))
        .into()
);

named!(
    Text,
    "Text",
    string("Free text: 1 to 200 characters, not blank, no control characters.")
        .min_length(Some(1))
        .max_length(Some(200))
        .into()
);

named!(
    Medium,
    "Medium",
    string("A filling medium (充装介质) by its contract code.")
        .enum_values(Some(Medium::ALL.iter().map(|m| m.code())))
        .into()
);

named!(
    GeoPoint,
    "GeoPoint",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("A WGS84 point."))
        .property("lon", number("Longitude", -180.0, 180.0))
        .required("lon")
        .property("lat", number("Latitude", -90.0, 90.0))
        .required("lat")
        .into()
);

/// The body of `POST /api/v1/events` as devices send it: `{"events": [...]}`, each item in the
/// contract's flat form. Items are parsed one by one: a bad item is refused by index in the
/// `202` answer, it does not refuse the batch.
pub struct WireBatch;

fn wire_event() -> RefOr<Schema> {
    let kinds = crate::events::CONTRACT_KINDS;
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "One event. Every kind: id (uuid, the idempotency key), kind, occurred_at \
             (RFC 3339 with offset). gps: vehicle_plate, lon, lat, speed_kmh?, heading?. \
             ble: vehicle_plate, tag_ids. scan: op (fill, store_in, store_out, load, unload, \
             deliver, collect_empty, return_in, send_inspection, inspect, scrap, transfer), cylinder_code or tag_id, station_code?, \
             customer_code?, to_station_code?, vehicle_plate?, staff_no?, lon?/lat?, \
             mass_before_kg?, mass_after_kg?. check: stage (pre, during, post), \
             cylinder_code, station_code, staff_no, passed, items. inspection: \
             cylinder_code, conclusion (pass, scrap), inspected_on, next_inspection_on, \
             report_no, inspection_body, inspector.",
        ))
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Uuid,
                ))),
        )
        .required("id")
        .property(
            "kind",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(kinds)),
        )
        .required("kind")
        .property(
            "occurred_at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                ))),
        )
        .required("occurred_at")
        .into()
}

named!(
    WireBatch,
    "EventBatch",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "events",
            ArrayBuilder::new()
                .items(wire_event())
                .min_items(Some(1))
                .max_items(Some(crate::events::MAX_BATCH)),
        )
        .required("events")
        .into()
);

/// The body of `POST /api/v1/cylinders`: one archive, or `{"items": [...]}` (all or none).
pub struct ArchiveOrBatch;

named!(
    ArchiveOrBatch,
    "ArchiveOrBatch",
    OneOfBuilder::new()
        .item(Ref::from_schema_name("CylinderArchive"))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "items",
                    ArrayBuilder::new()
                        .items(Ref::from_schema_name("CylinderArchive"))
                        .min_items(Some(1))
                        .max_items(Some(10_000)),
                )
                .required("items"),
        )
        .into()
);
