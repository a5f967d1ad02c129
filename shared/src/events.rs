//! The ingest contract: `POST /api/v1/events` bodies parsed into domain events, one typed error
//! per rejected item, and the response.

use crate::cylinder::ScanOp;
use crate::error::{ErrorCode, ErrorDetail};
use crate::ids::{CustomerCode, CylinderCode, GeoPoint, StaffNo, StationCode, TagId, VehiclePlate};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

mod fields;
use fields::{code_error, invalid, missing, Fields};

/// Most events one request may carry.
pub const MAX_BATCH: usize = 10_000;

/// Every kind the contract names; unknown ones are refused by item with `unknown_kind`.
pub const CONTRACT_KINDS: [&str; 5] = ["gps", "ble", "scan", "check", "inspection"];

/// A vehicle's GPS fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Alarms the vehicle's terminal reports with this fix (JT/T 808 alarm bits); `emergency`
    /// raises a critical `vehicle_emergency` alert.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<VehicleAlarm>,
}

/// An alarm a vehicle terminal reports (JT/T 808 报警标志位, the named bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VehicleAlarm {
    /// 紧急报警: the driver pressed the emergency button.
    Emergency,
    Overspeed,
    Fatigue,
    Danger,
    GnssFault,
    GnssAntennaCut,
    GnssAntennaShort,
    PowerLow,
    PowerCut,
    Collision,
    Rollover,
}

crate::place::names!(VehicleAlarm {
    Emergency => "emergency",
    Overspeed => "overspeed",
    Fatigue => "fatigue",
    Danger => "danger",
    GnssFault => "gnss_fault",
    GnssAntennaCut => "gnss_antenna_cut",
    GnssAntennaShort => "gnss_antenna_short",
    PowerLow => "power_low",
    PowerCut => "power_cut",
    Collision => "collision",
    Rollover => "rollover",
});

/// Most tags one BLE sighting may list.
pub const MAX_BLE_TAGS: usize = 1_000;

/// A vehicle-mounted reader's sighting: these tags are on the vehicle now; a tag it saw before
/// and does not list now has left the vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BleSighting {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub vehicle_plate: VehiclePlate,
    pub tag_ids: Vec<TagId>,
}

/// How a scan names its cylinder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CylinderRef {
    CylinderCode(CylinderCode),
    TagId(TagId),
}

/// A handheld, phone or fixed reader scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scan {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub op: ScanOp,
    pub cylinder: CylinderRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_code: Option<StationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_code: Option<CustomerCode>,
    /// Where a `transfer` or a `deliver` to another site sends it (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_station_code: Option<StationCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_plate: Option<VehiclePlate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_no: Option<StaffNo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<GeoPoint>,
    /// Weighed masses of a `fill` scan (extension; filling records carry them too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_before_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mass_after_kg: Option<f64>,
}

/// When a check was made (seed 004 Appendix C.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStage {
    Pre,
    During,
    Post,
}

crate::place::names!(CheckStage {
    Pre => "pre",
    During => "during",
    Post => "post",
});

/// A pre-, in- or post-fill check record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub stage: CheckStage,
    pub cylinder_code: CylinderCode,
    pub station_code: StationCode,
    pub staff_no: StaffNo,
    pub passed: bool,
    pub items: Map<String, Value>,
}

/// What a periodic inspection concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    Pass,
    Scrap,
}

crate::place::names!(Conclusion {
    Pass => "pass",
    Scrap => "scrap",
});

/// A periodic-inspection result (seed 004 Appendix D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inspection {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub cylinder_code: CylinderCode,
    pub conclusion: Conclusion,
    pub inspected_on: NaiveDate,
    pub next_inspection_on: Option<NaiveDate>,
    pub report_no: String,
    pub inspection_body: String,
    pub inspector: String,
}

/// One accepted event, in its canonical form (what is stored and put on the stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Gps(GpsFix),
    Ble(BleSighting),
    Scan(Scan),
    Check(Check),
    Inspection(Inspection),
}

impl Event {
    /// The client-chosen id that makes ingest idempotent.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Gps(e) => e.id,
            Self::Ble(e) => e.id,
            Self::Scan(e) => e.id,
            Self::Check(e) => e.id,
            Self::Inspection(e) => e.id,
        }
    }

    /// The kind's wire name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Gps(_) => "gps",
            Self::Ble(_) => "ble",
            Self::Scan(_) => "scan",
            Self::Check(_) => "check",
            Self::Inspection(_) => "inspection",
        }
    }

    /// When the event happened, by the device's clock.
    pub fn occurred_at(&self) -> DateTime<FixedOffset> {
        match self {
            Self::Gps(e) => e.occurred_at,
            Self::Ble(e) => e.occurred_at,
            Self::Scan(e) => e.occurred_at,
            Self::Check(e) => e.occurred_at,
            Self::Inspection(e) => e.occurred_at,
        }
    }

    /// The vehicle the event is about, if any.
    pub fn vehicle_plate(&self) -> Option<&VehiclePlate> {
        match self {
            Self::Gps(e) => Some(&e.vehicle_plate),
            Self::Ble(e) => Some(&e.vehicle_plate),
            Self::Scan(e) => e.vehicle_plate.as_ref(),
            Self::Check(_) | Self::Inspection(_) => None,
        }
    }

    /// Where the event happened, if the device said.
    pub fn point(&self) -> Option<GeoPoint> {
        match self {
            Self::Gps(e) => Some(e.point),
            Self::Scan(e) => e.point,
            Self::Ble(_) | Self::Check(_) | Self::Inspection(_) => None,
        }
    }
}

/// One item a batch refused: its index in `events` and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedEvent {
    pub index: usize,
    pub error: ErrorDetail,
}

/// The `202` answer to an ingest batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestResponse {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<RejectedEvent>,
}

/// `POST /api/v1/events`: a batch of events in their wire form (see [`Event::to_wire`]).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch<'a, E> {
    pub events: &'a [E],
}

impl Event {
    /// The event as a device sends it (the contract's flat form, which [`parse_event`] reads
    /// back into this event): a scan names its cylinder by `cylinder_code` or `tag_id` and its
    /// place by `lon`/`lat`.
    pub fn to_wire(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            for nested in ["cylinder", "point"] {
                if let Some(Value::Object(inner)) = map.remove(nested) {
                    map.extend(inner);
                }
            }
        }
        value
    }
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
        "ble" => parse_ble(&fields, id).map(Event::Ble),
        "scan" => parse_scan(&fields, id).map(Event::Scan),
        "check" => parse_check(&fields, id).map(Event::Check),
        "inspection" => parse_inspection(&fields, id).map(Event::Inspection),
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
        "alarms",
    ])?;
    let occurred_at = fields.instant("occurred_at")?;
    let vehicle_plate = fields.plate("vehicle_plate")?;
    let point = GeoPoint::new(fields.f64("lon")?, fields.f64("lat")?)
        .map_err(|e| invalid(e.field(), e.to_string()))?;
    let speed_kmh = fields.opt_f64_in("speed_kmh", 0.0, 400.0)?;
    let heading = fields.opt_f64_in("heading", 0.0, 360.0)?;
    let alarms = fields.alarms("alarms")?;
    Ok(GpsFix {
        id,
        occurred_at,
        vehicle_plate,
        point,
        speed_kmh,
        heading,
        alarms,
    })
}

fn parse_ble(fields: &Fields<'_>, id: Uuid) -> Result<BleSighting, ErrorDetail> {
    fields.only(&["id", "kind", "occurred_at", "vehicle_plate", "tag_ids"])?;
    let occurred_at = fields.instant("occurred_at")?;
    let vehicle_plate = fields.plate("vehicle_plate")?;
    let Some(Value::Array(items)) = fields.get("tag_ids") else {
        return Err(match fields.get("tag_ids") {
            None => missing("tag_ids"),
            Some(_) => invalid("tag_ids", "\"tag_ids\" must be an array of tag ids"),
        });
    };
    if items.len() > MAX_BLE_TAGS {
        return Err(invalid(
            "tag_ids",
            format!("a sighting lists at most {MAX_BLE_TAGS} tags"),
        ));
    }
    let mut tag_ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("tag_ids[{i}]");
        let text = item
            .as_str()
            .ok_or_else(|| invalid(&field, format!("\"{field}\" must be a string")))?;
        let tag = TagId::try_from(text.to_owned()).map_err(|e| code_error(&field, &e))?;
        if !tag_ids.contains(&tag) {
            tag_ids.push(tag);
        }
    }
    Ok(BleSighting {
        id,
        occurred_at,
        vehicle_plate,
        tag_ids,
    })
}

fn parse_scan(fields: &Fields<'_>, id: Uuid) -> Result<Scan, ErrorDetail> {
    fields.only(&[
        "id",
        "kind",
        "occurred_at",
        "op",
        "cylinder_code",
        "tag_id",
        "station_code",
        "customer_code",
        "to_station_code",
        "vehicle_plate",
        "staff_no",
        "lon",
        "lat",
        "mass_before_kg",
        "mass_after_kg",
    ])?;
    let occurred_at = fields.instant("occurred_at")?;
    let op_name = fields.str("op")?;
    let op = ScanOp::from_name(op_name).ok_or_else(|| {
        let names: Vec<_> = ScanOp::ALL.iter().map(|op| op.name()).collect();
        invalid(
            "op",
            format!(
                "unknown op \"{op_name}\"; expected one of {}",
                names.join(", ")
            ),
        )
    })?;
    let cylinder = match (
        fields.opt_code::<CylinderCode>("cylinder_code")?,
        fields.opt_code::<TagId>("tag_id")?,
    ) {
        (Some(code), None) => CylinderRef::CylinderCode(code),
        (None, Some(tag)) => CylinderRef::TagId(tag),
        (None, None) => {
            return Err(ErrorDetail::new(
                ErrorCode::MissingField,
                "a scan names its cylinder by \"cylinder_code\" or \"tag_id\"",
            )
            .with_field("cylinder_code"))
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "tag_id",
                "give \"cylinder_code\" or \"tag_id\", not both",
            ))
        }
    };
    let point = match (fields.get("lon"), fields.get("lat")) {
        (None, None) => None,
        _ => Some(
            GeoPoint::new(fields.f64("lon")?, fields.f64("lat")?)
                .map_err(|e| invalid(e.field(), e.to_string()))?,
        ),
    };
    let vehicle_plate = match fields.get("vehicle_plate") {
        None => None,
        Some(_) => Some(fields.plate("vehicle_plate")?),
    };
    let scan = Scan {
        id,
        occurred_at,
        op,
        cylinder,
        station_code: fields.opt_code("station_code")?,
        customer_code: fields.opt_code("customer_code")?,
        to_station_code: fields.opt_code("to_station_code")?,
        vehicle_plate,
        staff_no: fields.opt_code("staff_no")?,
        point,
        mass_before_kg: fields.opt_f64_in("mass_before_kg", 0.0, 5000.0)?,
        mass_after_kg: fields.opt_f64_in("mass_after_kg", 0.0, 5000.0)?,
    };
    let needs_station = matches!(
        op,
        ScanOp::Fill | ScanOp::StoreIn | ScanOp::ReturnIn | ScanOp::SendInspection
    );
    if needs_station && scan.station_code.is_none() {
        return Err(missing("station_code"));
    }
    if op == ScanOp::Deliver && scan.customer_code.is_none() && scan.to_station_code.is_none() {
        return Err(ErrorDetail::new(
            ErrorCode::MissingField,
            "a deliver scan names its customer (\"customer_code\") or receiving site (\"to_station_code\")",
        )
        .with_field("customer_code"));
    }
    if op == ScanOp::Load && scan.vehicle_plate.is_none() {
        return Err(missing("vehicle_plate"));
    }
    if op == ScanOp::Transfer && scan.station_code.is_none() && scan.to_station_code.is_none() {
        return Err(missing("station_code"));
    }
    Ok(scan)
}

fn parse_check(fields: &Fields<'_>, id: Uuid) -> Result<Check, ErrorDetail> {
    fields.only(&[
        "id",
        "kind",
        "occurred_at",
        "stage",
        "cylinder_code",
        "station_code",
        "staff_no",
        "passed",
        "items",
    ])?;
    let occurred_at = fields.instant("occurred_at")?;
    let stage = match fields.str("stage")? {
        "pre" => CheckStage::Pre,
        "during" => CheckStage::During,
        "post" => CheckStage::Post,
        other => {
            return Err(invalid(
                "stage",
                format!("unknown stage \"{other}\"; expected pre, during or post"),
            ))
        }
    };
    let passed = match fields.get("passed") {
        None => return Err(missing("passed")),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("passed", "\"passed\" must be true or false")),
    };
    let items = match fields.get("items") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("items", "\"items\" must be an object")),
    };
    Ok(Check {
        id,
        occurred_at,
        stage,
        cylinder_code: fields.code("cylinder_code")?,
        station_code: fields.code("station_code")?,
        staff_no: fields.code("staff_no")?,
        passed,
        items,
    })
}

fn parse_inspection(fields: &Fields<'_>, id: Uuid) -> Result<Inspection, ErrorDetail> {
    fields.only(&[
        "id",
        "kind",
        "occurred_at",
        "cylinder_code",
        "conclusion",
        "inspected_on",
        "next_inspection_on",
        "report_no",
        "inspection_body",
        "inspector",
    ])?;
    let occurred_at = fields.instant("occurred_at")?;
    let conclusion = match fields.str("conclusion")? {
        "pass" => Conclusion::Pass,
        "scrap" => Conclusion::Scrap,
        other => {
            return Err(invalid(
                "conclusion",
                format!("unknown conclusion \"{other}\"; expected pass or scrap"),
            ))
        }
    };
    let inspected_on = fields.date("inspected_on")?;
    let next_inspection_on = match fields.get("next_inspection_on") {
        None => None,
        Some(_) => Some(fields.date("next_inspection_on")?),
    };
    match (conclusion, next_inspection_on) {
        (Conclusion::Pass, None) => return Err(missing("next_inspection_on")),
        (Conclusion::Pass, Some(next)) if next <= inspected_on => {
            return Err(invalid(
                "next_inspection_on",
                "next_inspection_on must be after inspected_on",
            ))
        }
        (Conclusion::Scrap, Some(_)) => {
            return Err(invalid(
                "next_inspection_on",
                "a scrapped cylinder has no next inspection",
            ))
        }
        _ => {}
    }
    Ok(Inspection {
        id,
        occurred_at,
        cylinder_code: fields.code("cylinder_code")?,
        conclusion,
        inspected_on,
        next_inspection_on,
        report_no: fields.text("report_no")?,
        inspection_body: fields.text("inspection_body")?,
        inspector: fields.text("inspector")?,
    })
}

#[cfg(test)]
mod tests;
