//! `POST /api/v1/fillings`: the gun's record of a filling done, checked against what is known
//! of the station, the filler, the cylinder and the decision it names, kept once, its flags
//! raised as alerts.

use super::fillings::station_row;
use super::registry::read_record;
use crate::access::Device;
use crate::api::state::AppState;
use crate::error::{ApiError, ModuleError};
use crate::rules::filling::{flag_alert, record_flags, RecordFacts, RecordPolicy};
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::filling::{FillingRow, StationRow};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use shared::auth::RecordStatus;
use shared::filling::{FillingFlag, FillingResponse, NewFilling};
use shared::place::SubjectKind;
use shared::ErrorCode;
use uuid::Uuid;

/// Why a filling record is refused.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("a mass is a number above 0 and at most 5000 kg")]
    Mass(&'static str),
    #[error("mass_after_kg must not be below mass_before_kg")]
    MassesReversed,
    #[error("ended_at must not be before started_at")]
    EndsBeforeStart,
    #[error("ended_at lies in the future")]
    EndsInFuture,
    /// A reference (field, what) to no record of the device's enterprise.
    #[error("no such {1} of your enterprise")]
    Unknown(&'static str, &'static str),
    #[error("the decision was for another cylinder")]
    DecisionForAnotherCylinder,
    #[error("the decision was made at another station")]
    DecisionAtAnotherStation,
}

impl ModuleError for RecordError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unknown(..) => ErrorCode::UnknownReference,
            _ => ErrorCode::InvalidField,
        }
    }

    fn field(&self) -> Option<&str> {
        Some(match self {
            Self::Mass(field) | Self::Unknown(field, _) => field,
            Self::MassesReversed => "mass_after_kg",
            Self::EndsBeforeStart | Self::EndsInFuture => "ended_at",
            Self::DecisionForAnotherCylinder | Self::DecisionAtAnotherStation => "decision_id",
        })
    }
}

/// A record's own consistency (masses, times), before anything is read: its end in UTC.
fn check_record(
    new: &NewFilling,
    received_at: DateTime<Utc>,
) -> Result<DateTime<Utc>, RecordError> {
    for (field, mass) in [
        ("mass_before_kg", new.mass_before_kg),
        ("mass_after_kg", new.mass_after_kg),
    ] {
        if !(mass.is_finite() && mass > 0.0 && mass <= 5000.0) {
            return Err(RecordError::Mass(field));
        }
    }
    if new.mass_after_kg < new.mass_before_kg {
        return Err(RecordError::MassesReversed);
    }
    if new.ended_at < new.started_at {
        return Err(RecordError::EndsBeforeStart);
    }
    let ended_at = new.ended_at.with_timezone(&Utc);
    if ended_at > received_at + chrono::Duration::minutes(2) {
        return Err(RecordError::EndsInFuture);
    }
    Ok(ended_at)
}

/// `POST /api/v1/fillings`: a filling record (seed 004 Appendix C.1) from the station's
/// device. Flags: `overfill` (net mass above the allowed fill mass), `tare_mismatch` (mass
/// before filling off the archived tare or the cylinder's own history by more than
/// `tare_tolerance_kg`), `late_record` (arrived more than `late_filling_s` after the end),
/// `filled_despite_refusal` (its decision refused), `inactive_station` (the station or its
/// enterprise suspended or closed: kept, and a high `filling_refused` alert). A `decision_id`
/// must be one made at this station.
#[utoipa::path(post, path = "/api/v1/fillings", tag = "fillings", security(("deviceKey" = [])), request_body = shared::filling::NewFilling, responses((status = 201, description = "Recorded, with its flags", body = shared::filling::FillingResponse)))]
pub async fn record(
    req: HttpRequest,
    payload: web::Payload,
    device: Device,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Parse: the record's own consistency, before anything is read.
    let received_at = Utc::now();
    device.require_controller()?;
    let new: NewFilling = read_record(&req, payload).await?;
    let ended_at = check_record(&new, received_at)?;
    // Read: what the record is checked against.
    let known = record_facts(&state, &device, &new).await?;
    // Decide (pure): its flags.
    let late_ms = (received_at - ended_at).num_milliseconds();
    let late_s =
        std::time::Duration::from_millis(u64::try_from(late_ms).unwrap_or(0)).as_secs_f64();
    let policy = RecordPolicy {
        tare_tolerance_kg: state.settings.tare_tolerance_kg,
        late_filling_s: state.settings.late_filling_s,
    };
    let flags = record_flags(&known.rule_facts(&new, late_s), &policy);
    // Write: the record, once.
    let id = Uuid::new_v4();
    let row = FillingRow {
        id,
        decision_id: new.decision_id,
        cylinder_id: known.cylinder.id,
        station_code: new.station_code.clone(),
        licence_no: new.licence_no.as_str().to_owned(),
        gun_no: new.gun_no.as_str().to_owned(),
        staff_no: new.staff_no.clone(),
        staff_name: new.staff_name.as_str().to_owned(),
        started_at: new.started_at.with_timezone(&Utc),
        ended_at,
        received_at,
        mass_before_kg: new.mass_before_kg,
        mass_after_kg: new.mass_after_kg,
        flags: flags.clone(),
        late_s,
        device_id: device.device_id.clone(),
        enterprise_code: device.enterprise_code.clone(),
    };
    let kept = store::filling::insert_filling(&state.pool, &row).await?;
    // The same record sent again (its answer lost): kept once, answered as the first time.
    // Its alerts are raised again under the first record's sightings, which count once: a
    // server that died between the record and its alerts has them raised now.
    let (id, flags, late_s) = match kept {
        Some(k) => (k.id, k.flags, k.late_s),
        None => (id, flags, late_s),
    };
    let recorded = Recorded {
        id,
        late_s,
        received_at,
    };
    for alert in flag_alerts(&new, &device, &known, &policy, &recorded, &flags) {
        crate::alerts::raise(&state.pool, &state.publisher, alert).await;
    }
    Ok(HttpResponse::Created().json(FillingResponse { id, flags, late_s }))
}

/// What a filling record is checked against, read for it.
struct RecordKnown {
    station: StationRow,
    cylinder: store::cylinders::CylinderRecord,
    /// The decision the record names: allowed or not.
    decision_allowed: Option<bool>,
    /// Read afresh, not from the gun's cache: the fact is kept either way, but flagged.
    station_status: RecordStatus,
    enterprise_status: RecordStatus,
    historical_tare_kg: Option<f64>,
}

impl RecordKnown {
    fn rule_facts(&self, new: &NewFilling, late_s: f64) -> RecordFacts {
        RecordFacts {
            decision_allowed: self.decision_allowed,
            tare_kg: self.cylinder.tare_kg,
            historical_tare_kg: self.historical_tare_kg,
            max_fill_kg: self.cylinder.max_fill_kg,
            mass_before_kg: new.mass_before_kg,
            mass_after_kg: new.mass_after_kg,
            late_s,
            station_inactive: self.station_status != RecordStatus::Active
                || self.enterprise_status != RecordStatus::Active,
        }
    }
}

/// Reads what a record is checked against; a reference to nothing of the device's enterprise
/// (station, filler, cylinder, decision) is a client error naming its field.
async fn record_facts(
    state: &AppState,
    device: &Device,
    new: &NewFilling,
) -> Result<RecordKnown, ApiError> {
    let station = station_row(state, new.station_code.as_str())
        .await?
        .filter(|s| s.enterprise_code == device.enterprise_code)
        .filter(|_| {
            device
                .station_code
                .as_deref()
                .is_none_or(|bound| bound == new.station_code.as_str())
        });
    let Some(station) = station else {
        return Err(RecordError::Unknown("station_code", "station").into());
    };
    // The filler's number is resolved within the station's enterprise.
    let foreign = store::registry::foreign_staff(
        &state.pool,
        &[new.staff_no.as_str()],
        &device.enterprise_code,
    )
    .await?;
    if !foreign.is_empty() {
        return Err(ApiError::Client(super::events::foreign_staff(
            new.staff_no.as_str(),
            &device.enterprise_code,
        )));
    }
    let scope = crate::access::Scope::of_device(device);
    let cylinder =
        store::cylinders::record(&state.pool, Some(new.cylinder_code.as_str()), None, &scope)
            .await?
            .ok_or(RecordError::Unknown("cylinder_code", "cylinder"))?;
    let decision_allowed = match new.decision_id {
        Some(id) => {
            let decision = store::filling::decision(&state.pool, id)
                .await?
                .ok_or(RecordError::Unknown("decision_id", "decision"))?;
            if decision.1.as_deref() != Some(new.cylinder_code.as_str()) && decision.1.is_some() {
                return Err(RecordError::DecisionForAnotherCylinder.into());
            }
            if decision.2 != new.station_code.as_str() {
                return Err(RecordError::DecisionAtAnotherStation.into());
            }
            Some(decision.0)
        }
        None => None,
    };
    let station_status = store::status::station_status(
        &state.pool,
        new.station_code.as_str(),
        station.enterprise_code.as_str(),
    )
    .await?
    .unwrap_or(RecordStatus::Active);
    let enterprise_status =
        store::status::enterprise_status(&state.pool, station.enterprise_code.as_str())
            .await?
            .unwrap_or(RecordStatus::Active);
    let historical_tare_kg = store::filling::historical_tare(&state.pool, cylinder.id).await?;
    Ok(RecordKnown {
        station,
        cylinder,
        decision_allowed,
        station_status,
        enterprise_status,
        historical_tare_kg,
    })
}

/// A record as kept: its id (the first one's, if it was sent again), lateness, arrival.
struct Recorded {
    id: Uuid,
    late_s: f64,
    received_at: DateTime<Utc>,
}

/// The alerts a kept record's flags raise (pure): one per flag, with the record and the limit
/// it crossed as evidence, under a sighting of the record and the flag (raised again for a
/// record sent again, they count once).
fn flag_alerts(
    new: &NewFilling,
    device: &Device,
    known: &RecordKnown,
    policy: &RecordPolicy,
    recorded: &Recorded,
    flags: &[FillingFlag],
) -> Vec<NewAlert> {
    let (cylinder, station) = (&known.cylinder, &known.station);
    let filling = serde_json::json!({
        "filling_id": recorded.id, "decision_id": new.decision_id,
        "cylinder_code": new.cylinder_code,
        "station_code": new.station_code, "gun_no": new.gun_no, "staff_no": new.staff_no,
        "staff_name": new.staff_name, "started_at": new.started_at, "ended_at": new.ended_at,
        "received_at": recorded.received_at, "mass_before_kg": new.mass_before_kg,
        "mass_after_kg": new.mass_after_kg, "device_id": device.device_id,
    });
    flags
        .iter()
        .map(|&flag| {
            let (kind, severity, subject_type) = flag_alert(flag);
            let limits = match flag {
                FillingFlag::Overfill => serde_json::json!({
                    "net_kg": new.mass_after_kg - new.mass_before_kg,
                    "max_fill_kg": cylinder.max_fill_kg}),
                FillingFlag::TareMismatch => serde_json::json!({
                    "archived_tare_kg": cylinder.tare_kg,
                    "historical_tare_kg": known.historical_tare_kg,
                    "tolerance_kg": policy.tare_tolerance_kg}),
                FillingFlag::LateRecord => serde_json::json!({
                    "late_s": recorded.late_s, "limit_s": policy.late_filling_s}),
                FillingFlag::FilledDespiteRefusal => {
                    serde_json::json!({"filled_despite_refusal": true})
                }
                FillingFlag::InactiveStation => serde_json::json!({
                    "inactive_station": true,
                    "station_status": known.station_status.name(),
                    "enterprise_status": known.enterprise_status.name()}),
            };
            let mut evidence = filling.clone();
            if let (Some(e), Some(extra)) = (evidence.as_object_mut(), limits.as_object()) {
                e.extend(extra.clone());
            }
            let subject_id = if subject_type == SubjectKind::Cylinder {
                new.cylinder_code.as_str()
            } else {
                new.station_code.as_str()
            };
            NewAlert {
                kind,
                severity,
                subject_type,
                subject_id: subject_id.to_owned(),
                enterprise_code: Some(station.enterprise_code.clone()),
                district_code: Some(station.district_code.clone()),
                place: Some((station.lon, station.lat)),
                place_name: Some(station.name.clone()),
                seen_at: recorded.received_at,
                evidence,
                sighting: format!("filling:{}:{}", recorded.id, flag.name()),
            }
        })
        .collect()
}
