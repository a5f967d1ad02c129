//! The ingest contract: `POST /api/v1/events` bodies parsed into domain events, one typed error
//! per rejected item, and the response.

use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{GeoPoint, VehiclePlate};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Most events one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// Every kind the contract names; the ones this server does not accept yet are refused by item
/// with `unsupported_kind`, unknown ones with `unknown_kind`.
pub const CONTRACT_KINDS: [&str; 5] = ["gps", "ble", "scan", "check", "inspection"];

/// A vehicle's GPS fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub vehicle_plate: VehiclePlate,
    #[serde(flatten)]
    pub point: GeoPoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<f64>,
}

/// One accepted event, in its canonical form (what is stored and put on the stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Gps(GpsFix),
}

impl Event {
    /// The client-chosen id that makes ingest idempotent.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Gps(fix) => fix.id,
        }
    }

    /// The kind's wire name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Gps(_) => "gps",
        }
    }

    /// When the event happened, by the device's clock.
    pub fn occurred_at(&self) -> DateTime<FixedOffset> {
        match self {
            Self::Gps(fix) => fix.occurred_at,
        }
    }
}

/// One item a batch refused: its index in `events` and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub index: usize,
    pub error: ErrorDetail,
}

/// The `202` answer to an ingest batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestResponse {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<RejectedEvent>,
}

/// Parses a request body into one result per item. The error is for the body as a whole
/// (nothing of it may be written).
pub fn parse_batch(body: &[u8]) -> Result<Vec<Result<Event, ErrorDetail>>, ErrorDetail> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ErrorDetail::new(
            ErrorCode::MalformedBody,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(mut envelope) = value else {
        return Err(ErrorDetail::new(
            ErrorCode::MalformedBody,
            "the body must be a JSON object {\"events\": [...]}",
        ));
    };
    let events = envelope.remove("events").ok_or_else(|| {
        ErrorDetail::new(ErrorCode::MissingField, "the body has no \"events\" array")
            .with_field("events")
    })?;
    if let Some(extra) = envelope.keys().next() {
        return Err(ErrorDetail::new(
            ErrorCode::UnknownField,
            format!("unknown field \"{extra}\"; the body holds only \"events\""),
        )
        .with_field(extra.clone()));
    }
    let Value::Array(items) = events else {
        return Err(
            ErrorDetail::new(ErrorCode::InvalidField, "\"events\" must be an array")
                .with_field("events"),
        );
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ErrorDetail::new(
            ErrorCode::InvalidBatchSize,
            format!(
                "a batch holds 1 to {MAX_BATCH} events, this one {}",
                items.len()
            ),
        )
        .with_field("events"));
    }
    Ok(items.into_iter().map(parse_event).collect())
}

/// Parses one item of a batch.
pub fn parse_event(item: Value) -> Result<Event, ErrorDetail> {
    let Value::Object(map) = item else {
        return Err(ErrorDetail::new(
            ErrorCode::InvalidField,
            "an event must be a JSON object",
        ));
    };
    let fields = Fields(&map);
    let id = fields.uuid("id")?;
    let kind = fields.str("kind")?;
    match kind {
        "gps" => parse_gps(&fields, id).map(Event::Gps),
        k if CONTRACT_KINDS.contains(&k) => Err(ErrorDetail::new(
            ErrorCode::UnsupportedKind,
            format!("events of kind \"{k}\" are not accepted by this server yet"),
        )
        .with_field("kind")),
        k => Err(ErrorDetail::new(
            ErrorCode::UnknownKind,
            format!(
                "unknown kind \"{k}\"; expected one of {}",
                CONTRACT_KINDS.join(", ")
            ),
        )
        .with_field("kind")),
    }
}

fn parse_gps(fields: &Fields<'_>, id: Uuid) -> Result<GpsFix, ErrorDetail> {
    fields.only(&[
        "id",
        "kind",
        "occurred_at",
        "vehicle_plate",
        "lon",
        "lat",
        "speed_kmh",
        "heading",
    ])?;
    let occurred_at = fields.instant("occurred_at")?;
    let vehicle_plate = VehiclePlate::try_from(fields.str("vehicle_plate")?.to_owned())
        .map_err(|e| invalid("vehicle_plate", format!("vehicle_plate {e}")))?;
    let point = GeoPoint::new(fields.f64("lon")?, fields.f64("lat")?)
        .map_err(|e| invalid(e.field(), e.to_string()))?;
    let speed_kmh = fields.opt_f64_in("speed_kmh", 0.0, 400.0)?;
    let heading = fields.opt_f64_in("heading", 0.0, 360.0)?;
    Ok(GpsFix {
        id,
        occurred_at,
        vehicle_plate,
        point,
        speed_kmh,
        heading,
    })
}

fn invalid(field: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::InvalidField, message).with_field(field)
}

fn missing(field: &str) -> ErrorDetail {
    ErrorDetail::new(ErrorCode::MissingField, format!("\"{field}\" is required")).with_field(field)
}

/// Typed access to an event object's fields, each error naming its field.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn only(&self, allowed: &[&str]) -> Result<(), ErrorDetail> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(extra) => Err(ErrorDetail::new(
                ErrorCode::UnknownField,
                format!(
                    "unknown field \"{extra}\"; expected one of {}",
                    allowed.join(", ")
                ),
            )
            .with_field(extra.clone())),
            None => Ok(()),
        }
    }

    fn str(&self, name: &str) -> Result<&str, ErrorDetail> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(invalid(name, format!("\"{name}\" must be a string"))),
        }
    }

    fn uuid(&self, name: &str) -> Result<Uuid, ErrorDetail> {
        Uuid::parse_str(self.str(name)?)
            .map_err(|_| invalid(name, format!("\"{name}\" must be a UUID")))
    }

    fn instant(&self, name: &str) -> Result<DateTime<FixedOffset>, ErrorDetail> {
        let text = self.str(name)?;
        let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
            invalid(
                name,
                format!("\"{name}\" must be an RFC 3339 instant with an offset"),
            )
        })?;
        let (earliest, latest) = instant_bounds();
        if at.with_timezone(&Utc) < earliest || at.with_timezone(&Utc) >= latest {
            return Err(invalid(
                name,
                format!(
                    "\"{name}\" must lie between {} and {}",
                    earliest.date_naive(),
                    latest.date_naive()
                ),
            ));
        }
        Ok(at)
    }

    fn f64(&self, name: &str) -> Result<f64, ErrorDetail> {
        match self.get(name) {
            None => Err(missing(name)),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| invalid(name, format!("\"{name}\" must be a finite number"))),
            Some(_) => Err(invalid(name, format!("\"{name}\" must be a number"))),
        }
    }

    fn opt_f64_in(&self, name: &str, min: f64, max: f64) -> Result<Option<f64>, ErrorDetail> {
        if self.get(name).is_none() {
            return Ok(None);
        }
        let value = self.f64(name)?;
        if !(min..=max).contains(&value) {
            return Err(invalid(
                name,
                format!("\"{name}\" must be between {min} and {max}"),
            ));
        }
        Ok(Some(value))
    }
}

/// Instants outside these bounds are typing errors, not late or early devices.
fn instant_bounds() -> (DateTime<Utc>, DateTime<Utc>) {
    let day = |y, m, d| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    };
    (day(2000, 1, 1), day(2100, 1, 1))
}

#[cfg(test)]
mod tests {
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
        let Event::Gps(fix) = &event;
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
            code_of(with("kind", json!("scan"))),
            (ErrorCode::UnsupportedKind, field("kind"))
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
}
