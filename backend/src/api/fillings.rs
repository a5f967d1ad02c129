//! `POST /api/v1/fillings/authorize`: the gun's question. Facts are gathered, the pure rules
//! decide, the decision is kept with its facts. Fail closed: when the facts cannot be had
//! within `DECIDE_WITHIN` the answer is a refusal (rule `E01`), never an allowance and never a
//! hang.

use super::facts::{cylinder_facts, facts_json};
use super::registry::read_record;
use crate::access::Device;
use crate::api::state::{AppState, DecisionLane};
use crate::error::ApiError;
use crate::rules::compliance::today_in_shanghai;
use crate::rules::filling::{decide, EnterpriseFacts, Facts, Reason};
use crate::store;
use crate::store::alerts::NewAlert;
use crate::store::auth::AuditRow;
use crate::store::filling::{CylinderKey, DecisionRow, StationRow};
use crate::telemetry::metrics;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use anyhow::Context;
use chrono::Utc;
use shared::alert::AlertKind;
use shared::auth::RecordStatus;
use shared::filling::{AuthorizeRequest, AuthorizeResponse, FillingRule, RuleReason};
use shared::ids::StationCode;
use shared::medium::Medium;
use shared::place::SubjectKind;
use shared::{ErrorCode, ErrorDetail};
use std::time::Duration;
use uuid::Uuid;

/// The answer comes within this, whatever the database does.
const DECIDE_WITHIN: Duration = Duration::from_millis(800);
/// A place among the decisions in flight, given back when dropped.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn take(count: &'a std::sync::atomic::AtomicUsize, max: usize) -> Option<Self> {
        use std::sync::atomic::Ordering;
        let before = count.fetch_add(1, Ordering::AcqRel);
        let slot = Self(count);
        (before < max).then_some(slot)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// `POST /api/v1/fillings/authorize` (a device of the station's enterprise). The device key is
/// checked inside the deadline too: a database that does not answer refuses the filling
/// rather than failing the request.
#[utoipa::path(post, path = "/api/v1/fillings/authorize", tag = "fillings", security(("deviceKey" = [])), request_body(content = shared::filling::AuthorizeRequest, example = json!({"cylinder_code": "431325", "station_code": "ST001", "gun_no": "3", "medium": "LPG", "staff_no": "E1001"})), responses((status = 200, description = "The decision: allowed, or refused with every failed rule", body = shared::filling::AuthorizeResponse, example = json!({"allowed": false, "decision_id": "0b9b3a4e-2f6c-4a41-9d7a-5f0b8f3c1e22", "reasons": [{"rule": "R04", "message": "超期未检验气瓶（下次检验日期 2026-11-30）"}]}))))]
pub async fn authorize(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    lane: web::Data<DecisionLane>,
) -> Result<HttpResponse, ApiError> {
    let key = super::extract::device_key(&req)?;
    let ask: AuthorizeRequest = read_record(&req, payload).await?;
    if ask.cylinder_code.is_some() == ask.tag_id.is_some() {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                "name the cylinder by \"cylinder_code\" or \"tag_id\", one of them",
            )
            .with_field("cylinder_code"),
        ));
    }
    // A junk key is refused from memory before it takes a decision slot: a flood of them
    // cannot crowd out the guns (the full check, revocation included, runs below).
    let key_hash = crate::access::digest(&key);
    if !super::extract::may_be_device(&state, &key_hash).await {
        return Err(super::extract::unknown_key());
    }
    let decision_id = Uuid::new_v4();
    let started = std::time::Instant::now();
    // Shed load before queueing: past this many decisions in flight, a new one could not be
    // answered in time anyway; refusing at once keeps the gun's answer fast and the pool whole.
    let Some(_slot) = InFlight::take(
        &state.authorize_in_flight,
        state.settings.authorize_max_in_flight,
    ) else {
        tracing::warn!("too many filling decisions in flight; refusing at once");
        let (allowed, reasons) = unsure();
        return Ok(answer(decision_id, allowed, reasons));
    };
    // The reads run in their own task: at the deadline the answer goes, and the task still
    // ends its query and returns its connection (a query cancelled mid-way closes it).
    let work = tokio::spawn({
        let (state, lane, ask) = (state.clone(), lane.clone(), ask.clone());
        async move {
            let device = super::extract::device_for_hash(&state, &key_hash).await?;
            // A device that may not ask is refused, and audited as itself.
            if let Err(refused) = device.require_controller() {
                return Ok::<_, ApiError>((Err(refused), device));
            }
            let decided = gather_and_decide(&state, &lane, &device, &ask, decision_id).await?;
            Ok((Ok(decided), device))
        }
    });
    let work = async {
        let (decided, device) = work
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("decision task failed: {e}")))??;
        req.extensions_mut()
            .insert(crate::access::Principal::Device(device.clone()));
        Ok::<_, ApiError>((decided?, device))
    };
    let (allowed, reasons) = match tokio::time::timeout(DECIDE_WITHIN, work).await {
        Ok(Ok((Some(((allowed, reasons, station, foreign), row)), device))) => {
            let left = DECIDE_WITHIN.saturating_sub(started.elapsed());
            // The request's audit record commits with the decision (one commit, not two).
            let audit = super::guard::audit_row(&req, actix_web::http::StatusCode::OK);
            if let Err(e) = keep(&state, &lane, row, audit, left).await {
                tracing::error!(error = %format!("{e:#}"), "filling decision not kept; refusing");
                let (allowed, reasons) = unsure();
                return Ok(answer(decision_id, allowed, reasons));
            }
            req.extensions_mut().insert(super::guard::Audited);
            if !allowed {
                // The gun has its answer first; the alert follows.
                let alert = refusal_alert(&ask, &device, &station, decision_id, &reasons);
                let violation =
                    foreign.map(|f| foreign_alert(&ask, &device, &station, decision_id, f));
                let (pool, publisher) = (state.pool.clone(), state.publisher.clone());
                tokio::spawn(async move {
                    crate::alerts::raise(&pool, &publisher, alert).await;
                    if let Some(violation) = violation {
                        crate::alerts::raise(&pool, &publisher, violation).await;
                    }
                });
            }
            (allowed, reasons)
        }
        Ok(Ok((None, device))) => {
            return Err(ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    format!(
                        "no station {} of enterprise {}",
                        ask.station_code, device.enterprise_code
                    ),
                )
                .with_field("station_code"),
            ))
        }
        // A key the database says is unknown: not a device.
        Ok(Err(ApiError::Client(e))) => return Err(ApiError::Client(e)),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "filling facts unavailable; refusing");
            unsure()
        }
        Err(_) => {
            tracing::error!("filling facts not gathered within {DECIDE_WITHIN:?}; refusing");
            unsure()
        }
    };
    Ok(answer(decision_id, allowed, reasons))
}

/// The gun's answer, counted by result and rule.
fn answer(decision_id: Uuid, allowed: bool, reasons: Vec<RuleReason>) -> HttpResponse {
    let result = if allowed { "allowed" } else { "refused" };
    if reasons.is_empty() {
        metrics().decision(result, "none");
    }
    for reason in &reasons {
        metrics().decision(result, &reason.rule);
    }
    HttpResponse::Ok().json(AuthorizeResponse {
        allowed,
        decision_id,
        reasons,
    })
}

/// The refusal when the platform cannot be sure.
fn unsure() -> (bool, Vec<RuleReason>) {
    (
        false,
        vec![RuleReason {
            rule: FillingRule::E01.name().to_owned(),
            message: "平台暂时无法核验该气瓶（数据服务不可用），拒绝充装".into(),
        }],
    )
}

/// A refusal's alert: `illegal_tag` when the tag or code is unknown (R00), else
/// `filling_refused`; both on the station, so that its refusals are counted together.
fn refusal_alert(
    ask: &AuthorizeRequest,
    device: &Device,
    station: &StationRow,
    decision_id: Uuid,
    reasons: &[RuleReason],
) -> NewAlert {
    let kind = if reasons.iter().any(|r| r.rule == FillingRule::R00.name()) {
        AlertKind::IllegalTag
    } else {
        AlertKind::FillingRefused
    };
    NewAlert {
        kind,
        severity: kind.severity(),
        subject_type: SubjectKind::Station,
        subject_id: ask.station_code.as_str().to_owned(),
        enterprise_code: Some(station.enterprise_code.clone()),
        district_code: Some(station.district_code.clone()),
        place: Some((station.lon, station.lat)),
        place_name: Some(station.name.clone()),
        seen_at: Utc::now(),
        evidence: serde_json::json!({
            "decision_id": decision_id,
            "cylinder_code": ask.cylinder_code, "tag_id": ask.tag_id,
            "station_code": ask.station_code, "gun_no": ask.gun_no, "medium": ask.medium,
            "staff_no": ask.staff_no, "device_id": device.device_id, "reasons": reasons,
        }),
        sighting: format!("decision:{decision_id}"),
    }
}

/// The regulators' alert on an ask about another enterprise's cylinder (filling another
/// company's cylinder is a violation of its own). It names no enterprise, so that neither the
/// asking enterprise (which was answered as for an unknown cylinder) nor the owner sees it:
/// the city's regulators and the station's district regulator do.
fn foreign_alert(
    ask: &AuthorizeRequest,
    device: &Device,
    station: &StationRow,
    decision_id: Uuid,
    foreign: Foreign,
) -> NewAlert {
    let kind = AlertKind::ForeignCylinderFilling;
    NewAlert {
        kind,
        severity: kind.severity(),
        subject_type: SubjectKind::Station,
        subject_id: ask.station_code.as_str().to_owned(),
        enterprise_code: None,
        district_code: Some(station.district_code.clone()),
        place: Some((station.lon, station.lat)),
        place_name: Some(station.name.clone()),
        seen_at: Utc::now(),
        evidence: serde_json::json!({
            "decision_id": decision_id,
            "cylinder_code": foreign.cylinder_code, "tag_id": ask.tag_id,
            "station_code": ask.station_code,
            "station_enterprise_code": station.enterprise_code,
            "owner_enterprise_code": foreign.owner_enterprise_code,
            "gun_no": ask.gun_no, "medium": ask.medium, "staff_no": ask.staff_no,
            "device_id": device.device_id, "reasons": foreign.true_reasons,
        }),
        sighting: format!("decision:{decision_id}:foreign"),
    }
}

/// A decision made: allowed, the failing rules (as answered), the station, and whether the
/// cylinder was another enterprise's.
type Decided = (bool, Vec<RuleReason>, StationRow, Option<Foreign>);

/// An ask about another enterprise's cylinder: answered as unknown (R00), kept with the truth.
#[derive(Debug, Clone)]
struct Foreign {
    owner_enterprise_code: shared::ids::EnterpriseCode,
    cylinder_code: shared::ids::CylinderCode,
    /// What the rules would have said of it at this gun.
    true_reasons: Vec<RuleReason>,
}

/// Keeps the decision and its request's audit record before it is answered (a shared commit
/// with the other decisions of the moment). A write still running at the deadline is answered
/// `E01`, and once it lands the kept decision is made the refusal that was answered; its request
/// is then audited by the middleware as well (two records rather than possibly none).
async fn keep(
    state: &AppState,
    lane: &DecisionLane,
    row: DecisionRow,
    audit: AuditRow,
    left: Duration,
) -> anyhow::Result<()> {
    let id = row.id;
    let writer = lane.decisions.clone();
    let mut write = tokio::spawn(async move { writer.write((row, audit)).await });
    match tokio::time::timeout(left, &mut write).await {
        Ok(joined) => joined.context("the decision writer failed")?,
        Err(_) => {
            let pool = state.pool.clone();
            tokio::spawn(async move {
                // Once the write has ended: kept or not (a write abandoned by the writer may
                // still have committed), the decision is the refusal that was answered.
                if write.await.is_ok() {
                    let reasons = serde_json::to_value(unsure().1).unwrap_or_default();
                    if let Err(e) = store::filling::mark_unsure(&pool, id, &reasons).await {
                        tracing::error!(error = %format!("{e:#}"), %id, "late decision not marked");
                    }
                }
            });
            anyhow::bail!("the decision was not kept within the deadline")
        }
    }
}

/// A station and its enterprise's licences, from the cache when fresh.
pub(super) async fn station_row(
    state: &AppState,
    code: &str,
) -> anyhow::Result<Option<StationRow>> {
    if let Some(station) = state.stations.get(code) {
        return Ok(Some(station));
    }
    let station = store::filling::station(&state.pool, code).await?;
    if let Some(station) = &station {
        state.stations.put(code, station.clone());
    }
    Ok(station)
}

/// Gathers the facts and decides; the decision to keep comes with the answer. `None`: the
/// station is not the device's.
async fn gather_and_decide(
    state: &AppState,
    lane: &DecisionLane,
    device: &Device,
    ask: &AuthorizeRequest,
    decision_id: Uuid,
) -> anyhow::Result<Option<(Decided, DecisionRow)>> {
    let station = station_row(state, ask.station_code.as_str()).await?;
    let Some(station) = station.filter(|s| {
        s.enterprise_code == device.enterprise_code
            && device
                .station_code
                .as_deref()
                .is_none_or(|bound| bound == ask.station_code.as_str())
    }) else {
        return Ok(None);
    };
    let key = match (&ask.cylinder_code, &ask.tag_id) {
        (Some(code), _) => CylinderKey::Code(code.clone()),
        (None, Some(tag)) => CylinderKey::Tag(tag.clone()),
        (None, None) => anyhow::bail!("the question names no cylinder"),
    };
    let row = lane.facts.read(key).await?;
    // The filler, within the station's enterprise (R13): an unknown number is not judged here.
    let filler = ask.staff_no.as_str();
    let filler_status = if station.closed_staff.iter().any(|s| s == filler) {
        RecordStatus::Closed
    } else if station.suspended_staff.iter().any(|s| s == filler) {
        RecordStatus::Suspended
    } else {
        RecordStatus::Active
    };
    let today = today_in_shanghai();
    // R14: any of the filler's filling operator certificates valid today (the station row
    // lists the enterprise's; an unknown number has none).
    let filler_certified = station
        .certified_staff
        .iter()
        .zip(station.certified_from.iter().zip(&station.certified_to))
        .any(|(no, (from, to))| no == filler && *from <= today && today <= *to);
    let licensed_media = station
        .licensed_media
        .iter()
        .filter_map(|code| code.parse::<Medium>().ok())
        .collect();
    let facts = Facts {
        now: Utc::now(),
        today,
        station_code: ask.station_code.clone(),
        gun_medium: ask.medium,
        enterprise: EnterpriseFacts {
            filling_licence_expires: station.filling_licence_expires,
            filling_licence_valid_from: station.filling_licence_valid_from,
            licensed_media,
            gas_licence_expires: station.gas_licence_expires,
            enterprise_status: station.enterprise_status,
            station_status: station.station_status,
            filler_status,
            filler_certified,
        },
        cylinder: row.as_ref().map(cylinder_facts).transpose()?,
    };
    let reasons_of = |facts: &Facts| -> Vec<RuleReason> {
        decide(facts)
            .into_iter()
            .map(|Reason { rule, message }| RuleReason {
                rule: rule.name().to_owned(),
                message,
            })
            .collect()
    };
    // Another enterprise's cylinder is not known at this gun: the answer is R00's, word for
    // word, so that it reveals nothing of the cylinder; the truth is kept with the decision
    // and told to the regulators.
    let foreign = row
        .as_ref()
        .filter(|r| r.owner_enterprise_code != station.enterprise_code)
        .map(|r| Foreign {
            owner_enterprise_code: r.owner_enterprise_code.clone(),
            cylinder_code: r.code.clone(),
            true_reasons: reasons_of(&facts),
        });
    let (facts, hidden) = match &foreign {
        Some(_) => (
            Facts {
                cylinder: None,
                ..facts.clone()
            },
            Some(facts),
        ),
        None => (facts, None),
    };
    let reasons = reasons_of(&facts);
    let allowed = reasons.is_empty();
    let mut kept_facts = facts_json(&facts);
    if let (Some(foreign), Some(hidden), Some(kept)) =
        (&foreign, &hidden, kept_facts.as_object_mut())
    {
        kept.insert(
            "foreign_cylinder".into(),
            serde_json::json!({
                "owner_enterprise_code": foreign.owner_enterprise_code,
                "cylinder_code": foreign.cylinder_code,
                "facts": facts_json(hidden)["cylinder"],
                "reasons": foreign.true_reasons,
            }),
        );
    }
    let digest = crate::access::digest(&kept_facts.to_string());
    let row = DecisionRow {
        id: decision_id,
        station_code: ask.station_code.clone(),
        gun_no: ask.gun_no.as_str().to_owned(),
        cylinder_code: ask.cylinder_code.clone(),
        tag_id: ask.tag_id.clone(),
        medium: ask.medium,
        staff_no: ask.staff_no.clone(),
        device_id: device.device_id.clone(),
        enterprise_code: device.enterprise_code.clone(),
        allowed,
        reasons: serde_json::to_value(&reasons)?,
        facts: kept_facts,
        facts_digest: digest,
    };
    Ok(Some(((allowed, reasons, station, foreign), row)))
}

/// `?date=YYYY-MM-DD` (Beijing time; default today).
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    date: Option<chrono::NaiveDate>,
}

/// `GET /api/v1/stations/{code}/filling-summary`: one station's filling day, for the station
/// view (a user within the station's scope).
#[utoipa::path(get, path = "/api/v1/stations/{code}/filling-summary", tag = "fillings", security(("bearer" = [])), params(("code" = String, Path, description = "The station"), DayQuery), responses((status = 200, description = "The station's filling day", body = shared::filling::StationFillingSummary)))]
pub async fn station_summary(
    path: web::Path<String>,
    query: Result<web::Query<DayQuery>, actix_web::Error>,
    user: crate::access::User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    let code = path.into_inner();
    let no_station = || ApiError::client(ErrorCode::NotFound, format!("no station {code}"));
    // A code that is no valid code names no station.
    let code = StationCode::try_from(code.clone()).map_err(|_| no_station())?;
    let name = store::filling::station_in_scope(&state.pool, &code, &user.scope())
        .await?
        .ok_or_else(no_station)?;
    let date = query.date.unwrap_or_else(today_in_shanghai);
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() - chrono::Duration::hours(8))
        .ok_or_else(|| ApiError::client(ErrorCode::InvalidQuery, "bad date"))?;
    let (from, to) = (midnight, midnight + chrono::Duration::days(1));
    let (counts, by_rule) =
        store::filling::day_counts(&state.pool, &code, from, to, state.settings.late_filling_s)
            .await?;
    let recent = store::filling::recent_decisions(&state.pool, &code, from, to, 50)
        .await?
        .into_iter()
        .map(|row| {
            Ok(shared::filling::DecisionLine {
                id: row.id,
                decided_at: crate::rules::compliance::to_beijing(row.decided_at),
                gun_no: row.gun_no,
                cylinder_code: row.cylinder_code,
                tag_id: row.tag_id,
                allowed: row.allowed,
                reasons: serde_json::from_value(row.reasons)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(
        HttpResponse::Ok().json(shared::filling::StationFillingSummary {
            station_code: code,
            station_name: name,
            date,
            decisions: counts.decisions,
            allowed: counts.allowed,
            refused: counts.decisions - counts.allowed,
            illegal_tags: counts.illegal_tags,
            refusals_by_rule: by_rule
                .into_iter()
                .map(|(rule, count)| shared::filling::RuleCount { rule, count })
                .collect(),
            fillings: counts.fillings,
            flagged_fillings: counts.flagged_fillings,
            late_records: counts.late_records,
            max_late_s: counts.max_late_s,
            mean_late_s: counts.mean_late_s,
            recent,
        }),
    )
}
