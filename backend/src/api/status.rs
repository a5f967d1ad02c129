//! Status instead of delete (issue 21 item 2): `POST …/{code}/suspend`, `/reinstate` and
//! `/close` `{"reason"}` for enterprises, stations, staff and vehicles; suspend and reinstate
//! for devices (their `revoke` is close). Transitions: active → suspended → active
//! (reinstate), active or suspended → closed, for ever; a regulator also suspends a record
//! its enterprise suspended itself (it is then the regulator's suspension: the status and its
//! date stay, the reason, the flag and the version change); anything else is 409
//! `invalid_transition`. Each change bumps the version and keeps a revision with its reason;
//! the guard audits it. Nothing is deleted.
//!
//! Who may: enterprises, the regulators only (a district regulator within its district);
//! the rest, the record's own enterprise administrator or a regulator — but what a regulator
//! suspended only a regulator reinstates. A record out of the caller's scope answers 404.
//! The filling decision's station cache and the device cache of this instance are cleared at
//! once; other instances follow within `registry_cache_s`.

use super::guard::AuditDetails;
use super::registry::read_record;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::status::{Collection, NewStatus, StatusRow};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use shared::auth::{RecordStatus, Role, StatusChange, MAX_REASON_CHARS};
use shared::ids::EnterpriseCode;
use shared::status::StatusView;
use shared::{ErrorCode, ErrorDetail};

/// The regulators: they suspend anything in their scope, and lift any suspension.
const REGULATORS: [Role; 3] = [Role::Admin, Role::CityRegulator, Role::DistrictRegulator];
/// Who changes the status of an enterprise's stations, staff, vehicles and devices.
const MANAGERS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::EnterpriseAdmin,
];

/// A status change and what it may start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Suspend,
    Reinstate,
    Close,
}

impl Change {
    fn from(self) -> &'static [RecordStatus] {
        match self {
            Self::Suspend => &[RecordStatus::Active],
            Self::Reinstate => &[RecordStatus::Suspended],
            Self::Close => &[RecordStatus::Active, RecordStatus::Suspended],
        }
    }

    fn to(self) -> RecordStatus {
        match self {
            Self::Suspend => RecordStatus::Suspended,
            Self::Reinstate => RecordStatus::Active,
            Self::Close => RecordStatus::Closed,
        }
    }

    fn done(self) -> &'static str {
        match self {
            Self::Suspend => "suspended",
            Self::Reinstate => "reinstated (a closed record is closed for ever)",
            Self::Close => "closed",
        }
    }
}

/// `?enterprise_code=`: which enterprise's staff member, when a regulator names a staff number
/// several enterprises use.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaffQuery {
    /// The staff member's enterprise (an enterprise user's own is implied).
    enterprise_code: Option<EnterpriseCode>,
}

/// The reason, trimmed: 1 to 500 characters, no control character (a NUL would reach
/// PostgreSQL, which refuses it).
fn reason_of(body: &StatusChange) -> Result<&str, ApiError> {
    body.valid_reason().ok_or_else(|| {
        ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidField,
                format!(
                    "reason: 1 to {MAX_REASON_CHARS} characters saying why, \
                     no control characters"
                ),
            )
            .with_field("reason"),
        )
    })
}

/// The one record the caller names and may manage: out of its scope, "not found".
async fn target(
    state: &AppState,
    user: &User,
    collection: Collection,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
) -> Result<StatusRow, ApiError> {
    let roles: &[Role] = if collection == Collection::Enterprises {
        &REGULATORS
    } else {
        &MANAGERS
    };
    user.require(roles)?;
    let mut rows =
        store::status::find(&state.pool, collection, key, enterprise, &user.scope()).await?;
    if rows.len() > 1 {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidQuery,
                format!(
                    "several enterprises have a {} {key}: name one with ?enterprise_code=",
                    collection.noun()
                ),
            )
            .with_field("enterprise_code"),
        ));
    }
    // The code is not echoed: it may be all a caller outside the scope knows of the record.
    rows.pop().ok_or_else(|| {
        ApiError::client(
            ErrorCode::NotFound,
            format!("no such {} in your scope", collection.noun()),
        )
    })
}

async fn change_status(
    req: HttpRequest,
    payload: web::Payload,
    key: String,
    enterprise: Option<EnterpriseCode>,
    user: User,
    state: web::Data<AppState>,
    (collection, change): (Collection, Change),
) -> Result<HttpResponse, ApiError> {
    let row = target(&state, &user, collection, &key, enterprise.as_ref()).await?;
    let body: StatusChange = read_record(&req, payload).await?;
    let reason = reason_of(&body)?;
    let mut details = serde_json::Map::new();
    details.insert("record".into(), collection.name().into());
    details.insert("code".into(), key.clone().into());
    details.insert(
        "enterprise_code".into(),
        row.enterprise_code.as_str().into(),
    );
    details.insert("status".into(), change.to().name().into());
    details.insert("reason".into(), reason.into());
    req.extensions_mut().insert(AuditDetails(details));
    let refused = |now: RecordStatus| {
        ApiError::client(
            ErrorCode::InvalidTransition,
            format!(
                "{} {key} is {}: only {} records can be {}",
                collection.noun(),
                now.name(),
                change
                    .from()
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(" or "),
                change.done(),
            ),
        )
    };
    let by_regulator = REGULATORS.contains(&user.role);
    let by_city = matches!(user.role, Role::Admin | Role::CityRegulator);
    // A regulator's suspension also takes over one the enterprise made itself: from then on
    // only a regulator lifts it; the city's takes over a district regulator's: from then on
    // only the city lifts it.
    let takes_over = change == Change::Suspend
        && row.status == RecordStatus::Suspended
        && ((by_regulator && !row.suspended_by_regulator) || (by_city && !row.suspended_by_city));
    if !change.from().contains(&row.status) && !takes_over {
        return Err(refused(row.status));
    }
    if change == Change::Reinstate && row.suspended_by_city && !by_city {
        return Err(ApiError::client(
            ErrorCode::Forbidden,
            format!(
                "the city regulator suspended {} {key}: only the city regulator or an \
                 administrator reinstates it",
                collection.noun()
            ),
        ));
    }
    if change == Change::Reinstate && row.suspended_by_regulator && !by_regulator {
        return Err(ApiError::client(
            ErrorCode::Forbidden,
            format!(
                "a regulator suspended {} {key}: only a regulator reinstates it",
                collection.noun()
            ),
        ));
    }
    let new = NewStatus {
        to: change.to(),
        reason,
        by: &user.username,
        by_regulator,
        by_city,
    };
    let Some(done) = store::status::set(&state.pool, collection, &row, &new).await? else {
        // Changed by someone else meanwhile.
        let now = store::status::find(
            &state.pool,
            collection,
            &key,
            Some(&row.enterprise_code),
            &user.scope(),
        )
        .await?
        .pop()
        .map_or(row.status, |r| r.status);
        return Err(refused(now));
    };
    // This instance stops allowing at once: the gun's station and licence cache, the device
    // keys. Other instances follow within `registry_cache_s`.
    state.stations.clear();
    state.devices.clear();
    state.terminal_sweep.notify_one();
    // A licence of a record no longer active is no one's notice.
    state.licence_wakeup.notify_one();
    if collection == Collection::Devices {
        // The broker refuses a suspended device at once (and accepts it again when reinstated).
        super::device_keys::to_broker(
            &state,
            &done.key,
            crate::store::mqtt::Action::for_status(done.status),
            None,
        )
        .await?;
    }
    Ok(HttpResponse::Ok().json(StatusView {
        code: done.key,
        enterprise_code: done.enterprise_code,
        status: done.status,
        status_reason: done.status_reason,
        status_changed_at: done.status_changed_at,
        suspended_by_regulator: done.suspended_by_regulator,
        version: done.version,
    }))
}

/// A status route: its contract and a handler handing the change to [`change_status`]. The
/// `staff` form also takes `?enterprise_code=` (a staff number is unique per enterprise only).
macro_rules! status_route {
    ($name:ident, $doc:tt, $path:tt, $param:tt, $what:tt, $collection:ident, $change:ident, $example:tt, $answer:tt) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what)), request_body(content = shared::auth::StatusChange, example = json!({"reason": $example})), responses((status = 200, description = $answer, body = shared::status::StatusView)))]
        pub async fn $name(
            req: HttpRequest,
            payload: web::Payload,
            path: web::Path<String>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            let key = path.into_inner();
            let change = (Collection::$collection, Change::$change);
            change_status(req, payload, key, None, user, state, change).await
        }
    };
    (staff $name:ident, $doc:tt, $path:tt, $param:tt, $what:tt, $collection:ident, $change:ident, $example:tt, $answer:tt) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what), StaffQuery), request_body(content = shared::auth::StatusChange, example = json!({"reason": $example})), responses((status = 200, description = $answer, body = shared::status::StatusView)))]
        pub async fn $name(
            req: HttpRequest,
            payload: web::Payload,
            path: web::Path<String>,
            query: Result<web::Query<StaffQuery>, actix_web::Error>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            let query = query.map_err(super::QueryError::malformed)?;
            let (key, enterprise) = (path.into_inner(), query.into_inner().enterprise_code);
            let change = (Collection::$collection, Change::$change);
            change_status(req, payload, key, enterprise, user, state, change).await
        }
    };
}

status_route!(
    suspend_enterprise,
    "`POST /api/v1/enterprises/{code}/suspend` `{\"reason\"}`.",
    "/api/v1/enterprises/{code}/suspend",
    "code",
    "The enterprise",
    Enterprises,
    Suspend,
    "its licence was withdrawn",
    "Suspended"
);
status_route!(
    reinstate_enterprise,
    "`POST /api/v1/enterprises/{code}/reinstate` `{\"reason\"}`.",
    "/api/v1/enterprises/{code}/reinstate",
    "code",
    "The enterprise",
    Enterprises,
    Reinstate,
    "the licence was renewed",
    "Active again"
);
status_route!(
    close_enterprise,
    "`POST /api/v1/enterprises/{code}/close` `{\"reason\"}`.",
    "/api/v1/enterprises/{code}/close",
    "code",
    "The enterprise",
    Enterprises,
    Close,
    "the station was demolished",
    "Closed for ever"
);
status_route!(
    suspend_station,
    "`POST /api/v1/stations/{code}/suspend` `{\"reason\"}`.",
    "/api/v1/stations/{code}/suspend",
    "code",
    "The station",
    Stations,
    Suspend,
    "its licence was withdrawn",
    "Suspended"
);
status_route!(
    reinstate_station,
    "`POST /api/v1/stations/{code}/reinstate` `{\"reason\"}`.",
    "/api/v1/stations/{code}/reinstate",
    "code",
    "The station",
    Stations,
    Reinstate,
    "the licence was renewed",
    "Active again"
);
status_route!(
    close_station,
    "`POST /api/v1/stations/{code}/close` `{\"reason\"}`.",
    "/api/v1/stations/{code}/close",
    "code",
    "The station",
    Stations,
    Close,
    "the station was demolished",
    "Closed for ever"
);
status_route!(
    staff suspend_staff,
    "`POST /api/v1/staff/{code}/suspend` `{\"reason\"}`.",
    "/api/v1/staff/{code}/suspend", "code", "The staff number", Staff, Suspend, "its licence was withdrawn", "Suspended");
status_route!(
    staff reinstate_staff,
    "`POST /api/v1/staff/{code}/reinstate` `{\"reason\"}`.",
    "/api/v1/staff/{code}/reinstate", "code", "The staff number", Staff, Reinstate, "the licence was renewed", "Active again");
status_route!(
    staff close_staff,
    "`POST /api/v1/staff/{code}/close` `{\"reason\"}`.",
    "/api/v1/staff/{code}/close", "code", "The staff number", Staff, Close, "the station was demolished", "Closed for ever");
status_route!(
    suspend_vehicle,
    "`POST /api/v1/vehicles/{code}/suspend` `{\"reason\"}`.",
    "/api/v1/vehicles/{code}/suspend",
    "code",
    "The vehicle's plate",
    Vehicles,
    Suspend,
    "its licence was withdrawn",
    "Suspended"
);
status_route!(
    reinstate_vehicle,
    "`POST /api/v1/vehicles/{code}/reinstate` `{\"reason\"}`.",
    "/api/v1/vehicles/{code}/reinstate",
    "code",
    "The vehicle's plate",
    Vehicles,
    Reinstate,
    "the licence was renewed",
    "Active again"
);
status_route!(
    close_vehicle,
    "`POST /api/v1/vehicles/{code}/close` `{\"reason\"}`.",
    "/api/v1/vehicles/{code}/close",
    "code",
    "The vehicle's plate",
    Vehicles,
    Close,
    "the station was demolished",
    "Closed for ever"
);
status_route!(
    suspend_device,
    "`POST /api/v1/devices/{device_id}/suspend` `{\"reason\"}`.",
    "/api/v1/devices/{device_id}/suspend",
    "device_id",
    "The device",
    Devices,
    Suspend,
    "its licence was withdrawn",
    "Suspended"
);
status_route!(
    reinstate_device,
    "`POST /api/v1/devices/{device_id}/reinstate` `{\"reason\"}`.",
    "/api/v1/devices/{device_id}/reinstate",
    "device_id",
    "The device",
    Devices,
    Reinstate,
    "the licence was renewed",
    "Active again"
);
