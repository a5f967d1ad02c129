//! Registry records one at a time (issue 21 item 1): `GET` with the version (also the `ETag`),
//! `PATCH` at the version read (`If-Match`) with a revision of each change, and the list of
//! revisions. Scoped as the registry's reads: another enterprise's record is "not found".
//!
//! A `PATCH` body holds some of the fields of the record's `POST`: the key and the owner never
//! change (400), what the gun's rules rest on (licences, certificates, media) is written by
//! regulators only (403 for anyone else), and the merged record is checked as on create.

use super::guard::AuditDetails;
use super::registry::{place_district, write_error};
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::store;
use crate::store::records::{EditContext, Edited, Stored};
use actix_web::http::header::{ETAG, IF_MATCH};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::auth::{RecordStatus, Role};
use shared::certificate::required_certificate;
use shared::ids::EnterpriseCode;
use shared::record::{
    editable, immutable, renews_licence, CustomerRecord, GeofenceRecord, RecordKind, StaffRecord,
    StationRecord, VehicleRecord, Writer,
};
use shared::registry::{
    parse, CylinderArchive, NewCustomer, NewEnterprise, NewGeofence, NewStaff, NewStation,
    NewVehicle, StaffRole,
};
use shared::revision::{changes, etag, parse_if_match};
use shared::{ErrorCode, ErrorDetail};

/// Who edits registry records at all (each within its scope).
pub(super) const EDITORS: [Role; 4] = [
    Role::Admin,
    Role::CityRegulator,
    Role::DistrictRegulator,
    Role::EnterpriseAdmin,
];

/// The regulators: they alone write what the gun's rules rest on.
pub(super) fn is_regulator(user: &User) -> bool {
    matches!(
        user.role,
        Role::Admin | Role::CityRegulator | Role::DistrictRegulator
    )
}

/// `?enterprise_code=`: which enterprise's staff number is meant (a staff number is unique per
/// enterprise only).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OwnerQuery {
    /// The staff member's enterprise: needed by a regulator when the number is not unique.
    pub enterprise_code: Option<EnterpriseCode>,
}

/// Not found, without echoing the key (a plate may be all a prober knows).
fn not_found(kind: RecordKind) -> ApiError {
    ApiError::client(
        ErrorCode::NotFound,
        format!("no such record among the {}", kind.collection()),
    )
}

/// The one record of `kind` named `key` within the user's scope, or 404 (outside the scope
/// too: nothing is learned); several (a staff number of more than one enterprise): 400 asking
/// for `enterprise_code`.
pub(super) async fn found(
    state: &AppState,
    user: &User,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
) -> Result<Stored, ApiError> {
    let mut records =
        store::records::find(&state.pool, kind, key, enterprise, &user.scope()).await?;
    match records.len() {
        0 => Err(not_found(kind)),
        1 => records.pop().ok_or_else(|| not_found(kind)),
        _ => Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::InvalidQuery,
                "the staff number is registered by several enterprises: name one with ?enterprise_code=",
            )
            .with_field("enterprise_code"),
        )),
    }
}

/// A stored body as its wire type (a stored record that does not parse is a server fault).
fn typed<T: DeserializeOwned>(kind: RecordKind, body: Value) -> Result<T, ApiError> {
    parse(body).map_err(|e| {
        ApiError::from(anyhow::anyhow!(
            "a stored {} record does not parse: {}",
            kind.collection(),
            e.message
        ))
    })
}

/// The record's answer: its view (enterprises with their counts) and `ETag`.
pub(super) async fn answer(
    state: &AppState,
    user: &User,
    kind: RecordKind,
    stored: Stored,
) -> Result<HttpResponse, ApiError> {
    let Stored {
        body,
        version,
        status,
        key,
        ..
    } = stored;
    let view = match kind {
        RecordKind::Enterprise => {
            let view = store::registry::enterprise(&state.pool, &key, &user.scope())
                .await?
                .ok_or_else(|| not_found(kind))?;
            json(&view)?
        }
        RecordKind::Station => json(&StationRecord {
            station: typed(kind, body)?,
            version,
            status,
        })?,
        RecordKind::Customer => json(&CustomerRecord {
            customer: typed(kind, body)?,
            version,
            status,
        })?,
        RecordKind::Staff => json(&StaffRecord {
            staff: typed(kind, body)?,
            version,
            status,
        })?,
        RecordKind::Vehicle => json(&VehicleRecord {
            vehicle: typed(kind, body)?,
            version,
            status,
        })?,
        RecordKind::Cylinder => {
            let record = super::cylinders::find(state, Some(&key), None, &user.scope()).await?;
            json(&super::cylinders::view(state, record, None)?)?
        }
        RecordKind::Geofence => json(&GeofenceRecord {
            id: fence_id(&key)?,
            geofence: typed(kind, body)?,
            version,
            status,
        })?,
    };
    let version = view
        .get("version")
        .and_then(Value::as_i64)
        .unwrap_or(version);
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag(version)))
        .json(view))
}

fn json<T: Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value)
        .map_err(|e| ApiError::from(anyhow::anyhow!("serializing a record: {e}")))
}

/// The version named by `If-Match`: 428 without one.
fn if_match(req: &HttpRequest) -> Result<i64, ApiError> {
    req.headers()
        .get(IF_MATCH)
        .and_then(|h| h.to_str().ok())
        .and_then(parse_if_match)
        .ok_or_else(|| {
            ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::VersionRequired,
                    "send If-Match: <version> naming the version you read (the record's ETag)",
                )
                .with_field("If-Match"),
            )
        })
}

fn stale(version: i64) -> ApiError {
    ApiError::Client(
        ErrorDetail::new(
            ErrorCode::VersionStale,
            format!(
                "the record changed since version {version} was read: read it again, then decide"
            ),
        )
        .with_field("If-Match"),
    )
}

/// Refuses fields that are immutable, unknown, or the regulators' when `user` is not one.
pub(super) fn check_fields(
    kind: RecordKind,
    user: &User,
    patch: &Map<String, Value>,
) -> Result<(), ApiError> {
    if patch.is_empty() {
        return Err(ApiError::client(
            ErrorCode::MalformedBody,
            "the body names no field to change",
        ));
    }
    for field in patch.keys() {
        if let Some(why) = immutable(kind, field) {
            return Err(ApiError::Client(
                ErrorDetail::new(ErrorCode::InvalidField, format!("{field} {why}"))
                    .with_field(field.clone()),
            ));
        }
        match editable(kind, field) {
            None => {
                return Err(ApiError::Client(
                    ErrorDetail::new(
                        ErrorCode::UnknownField,
                        format!("unknown field `{field}`: not a field that can be changed"),
                    )
                    .with_field(field.clone()),
                ))
            }
            Some(Writer::Regulator) if !is_regulator(user) => {
                return Err(ApiError::Client(
                    ErrorDetail::new(
                        ErrorCode::Forbidden,
                        format!("{field} is written by a regulator only"),
                    )
                    .with_field(field.clone()),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Only an active record (a cylinder: not scrapped) is edited, except a regulator renewing a suspended enterprise's
/// licences.
pub(super) fn check_status(
    kind: RecordKind,
    user: &User,
    status: RecordStatus,
    patch: &Map<String, Value>,
) -> Result<(), ApiError> {
    let renewal = status == RecordStatus::Suspended
        && is_regulator(user)
        && patch.keys().all(|f| renews_licence(kind, f));
    if status == RecordStatus::Active || renewal {
        return Ok(());
    }
    Err(ApiError::client(
        ErrorCode::RecordInactive,
        format!("the record is {}: it is not edited", status.name()),
    ))
}

/// The merged record parsed and checked as on create; with its normalized JSON.
pub(super) fn merged(
    state: &AppState,
    user: &User,
    kind: RecordKind,
    key: &str,
    before: &Value,
    patch: &Map<String, Value>,
) -> Result<(Edited, Value), ApiError> {
    let mut after = before.as_object().cloned().unwrap_or_default();
    // A fence's shape is one: a new polygon replaces a circle, a new circle the polygon.
    if kind == RecordKind::Geofence {
        if patch.contains_key("geometry") {
            after.remove("center");
            after.remove("radius_m");
        } else if patch.contains_key("center") || patch.contains_key("radius_m") {
            after.remove("geometry");
        }
    }
    for (field, value) in patch {
        after.insert(field.clone(), value.clone());
    }
    // A moved place gets the district of its new point unless the writer names one.
    if patch.contains_key("location") && !patch.contains_key("district_code") {
        after.remove("district_code");
    }
    let after = Value::Object(after);
    let edited = match kind {
        RecordKind::Enterprise => {
            let e: NewEnterprise = parse(after)?;
            e.check()?;
            if !user
                .scope()
                .admits(Some(e.code.as_str()), Some(e.district_code.as_str()))
            {
                return Err(ApiError::Client(
                    ErrorDetail::new(
                        ErrorCode::Forbidden,
                        "the district is outside your district",
                    )
                    .with_field("district_code"),
                ));
            }
            Edited::Enterprise(e)
        }
        RecordKind::Station => {
            let mut s: NewStation = parse(after)?;
            s.check()?;
            s.district_code = Some(place_district(state, s.location, s.district_code.as_ref())?);
            Edited::Station(s)
        }
        RecordKind::Customer => {
            let mut after = after;
            if after.get("district_code").is_none() {
                let location: shared::GeoPoint = parse(after["location"].clone())?;
                let district = place_district(state, location, None)?;
                after["district_code"] = Value::String(district.as_str().to_owned());
            }
            let c: NewCustomer = parse(after)?;
            c.check()?;
            place_district(state, c.location, Some(&c.district_code))?;
            Edited::Customer(c)
        }
        RecordKind::Staff => {
            let mut after = after;
            // The stored one-certificate fields are the summary of the list: unless the
            // writer names them, they do not come back as a certificate (a list replaced,
            // a role changed), except for a role that needs no certificate, whose they are.
            let named =
                patch.contains_key("certificate_no") || patch.contains_key("certificate_expires");
            let role_of = |v: &Value| v.get("role").cloned().map(parse::<StaffRole>);
            let before_role = role_of(before).transpose()?;
            let after_role = role_of(&after).transpose()?;
            let derived =
                before_role.and_then(required_certificate).is_some() || before_role != after_role;
            if !named && derived {
                if let Some(fields) = after.as_object_mut() {
                    fields.remove("certificate_no");
                    fields.remove("certificate_expires");
                }
            }
            let s: NewStaff = parse(after)?;
            s.check()?;
            let s = s.normalized();
            s.check()?;
            Edited::Staff(s)
        }
        RecordKind::Vehicle => {
            let v: NewVehicle = parse(after)?;
            v.check()?;
            Edited::Vehicle(v)
        }
        RecordKind::Cylinder => {
            let c: CylinderArchive = parse(after)?;
            c.check()?;
            Edited::Cylinder(c)
        }
        RecordKind::Geofence => {
            let g: NewGeofence = parse(after)?;
            g.check()?;
            Edited::Geofence(fence_id(key)?, g)
        }
    };
    let normalized = match &edited {
        Edited::Enterprise(e) => json(e)?,
        Edited::Station(s) => json(s)?,
        Edited::Customer(c) => json(c)?,
        Edited::Staff(s) => json(s)?,
        Edited::Vehicle(v) => json(v)?,
        Edited::Cylinder(c) => json(c)?,
        Edited::Geofence(_, g) => json(g)?,
    };
    Ok((edited, normalized))
}

/// The stored body as its wire type would write it (so unchanged fields compare equal).
fn normalized(kind: RecordKind, body: &Value) -> Result<Value, ApiError> {
    let body = body.clone();
    match kind {
        RecordKind::Enterprise => json(&typed::<NewEnterprise>(kind, body)?),
        RecordKind::Station => json(&typed::<NewStation>(kind, body)?),
        RecordKind::Customer => json(&typed::<NewCustomer>(kind, body)?),
        RecordKind::Staff => json(&typed::<NewStaff>(kind, body)?.normalized()),
        RecordKind::Vehicle => json(&typed::<NewVehicle>(kind, body)?),
        RecordKind::Cylinder => json(&typed::<CylinderArchive>(kind, body)?),
        RecordKind::Geofence => json(&typed::<NewGeofence>(kind, body)?),
    }
}

async fn get(
    state: web::Data<AppState>,
    user: User,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
) -> Result<HttpResponse, ApiError> {
    let stored = found(&state, &user, kind, key, enterprise).await?;
    answer(&state, &user, kind, stored).await
}

async fn patch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    user: User,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
) -> Result<HttpResponse, ApiError> {
    user.require(&EDITORS)?;
    let stored = found(&state, &user, kind, key, enterprise).await?;
    let version = if_match(&req)?;
    let patch: Map<String, Value> = super::registry::read_record(&req, payload).await?;
    check_fields(kind, &user, &patch)?;
    check_status(kind, &user, stored.status, &patch)?;
    if version != stored.version {
        return Err(stale(version));
    }
    let fresh = apply(&req, &state, &user, kind, stored, &patch, None).await?;
    answer(&state, &user, kind, fresh).await
}

/// Makes the checked change `patch` of `stored` at the version read, with its revision (and
/// the proposal it approves, with the revision's reason, if any); returns the record as now
/// stored.
pub(super) async fn apply(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    kind: RecordKind,
    stored: Stored,
    patch: &Map<String, Value>,
    approves: Option<(&str, i64)>,
) -> Result<Stored, ApiError> {
    let context = EditContext {
        by: &user.username,
        reason: approves.map(|(reason, _)| reason),
        proposal: approves.map(|(_, id)| id),
    };
    if kind == RecordKind::Geofence {
        city_fence_guard(user, &stored)?;
    }
    let (edited, after) = merged(state, user, kind, &stored.key, &stored.body, patch)?;
    let before = normalized(kind, &stored.body)?;
    let changed = changes(&before, &after);
    let mut details = Map::new();
    details.insert(
        "record".into(),
        format!("{}/{}", kind.collection(), stored.key).into(),
    );
    details.insert(
        "fields".into(),
        Value::Array(changed.keys().cloned().map(Value::String).collect()),
    );
    req.extensions_mut().insert(AuditDetails(details));
    if changed.is_empty() && context.proposal.is_none() {
        return Ok(stored);
    }
    let version = stored.version;
    let saved = store::records::save(
        &state.pool,
        kind,
        &stored.key,
        &edited,
        version,
        &changed,
        context,
    )
    .await
    .map_err(|e| write_error(e, kind.collection(), "code"))?;
    if saved.is_none() {
        return Err(stale(version));
    }
    state.licence_wakeup.notify_one();
    if matches!(
        kind,
        RecordKind::Enterprise | RecordKind::Station | RecordKind::Staff
    ) {
        // The gun's decision caches stations with their enterprise's licences and its
        // fillers' certificates (R14).
        state.stations.clear();
    }
    // Read back the record written (a staff number: of its enterprise).
    let (key, enterprise) = path_key(kind, &stored);
    found(state, user, kind, key, enterprise).await
}

async fn revisions(
    state: web::Data<AppState>,
    user: User,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
) -> Result<HttpResponse, ApiError> {
    let stored = found(&state, &user, kind, key, enterprise).await?;
    let mut list = store::revisions::of(&state.pool, kind.collection(), &stored.key).await?;
    // A transferred cylinder's enterprise sees its own period only (not the earlier owner's
    // edits and users).
    if kind == RecordKind::Cylinder && user.scope().enterprise().is_some() {
        if let Some(since) = store::transfers::owned_since(&state.pool, &stored.key).await? {
            list.retain(|r| r.at >= since);
        }
    }
    Ok(HttpResponse::Ok().json(list))
}

/// The key a record is found by (a staff number within its enterprise) from its stored key.
pub(super) fn path_key(kind: RecordKind, stored: &Stored) -> (&str, Option<&EnterpriseCode>) {
    match (kind, &stored.enterprise_code) {
        (RecordKind::Staff, Some(enterprise)) => {
            let prefix = format!("{enterprise}/");
            let staff_no = stored.key.get(prefix.len()..).unwrap_or(&stored.key);
            (staff_no, Some(enterprise))
        }
        _ => (stored.key.as_str(), None),
    }
}

/// A fence's id from its path.
fn fence_id(key: &str) -> Result<i64, ApiError> {
    key.parse::<i64>().map_err(|_| {
        ApiError::from(anyhow::anyhow!(
            "a stored geofence's key {key} is not its id"
        ))
    })
}

/// Restricted zones and fences for every vehicle bind every company: only the city's
/// regulators redraw them, as only they draw them.
fn city_fence_guard(user: &User, stored: &Stored) -> Result<(), ApiError> {
    let restricted = stored.body.get("kind").and_then(Value::as_str) == Some("restricted");
    if restricted || stored.enterprise_code.is_none() {
        user.require(&[Role::Admin, Role::CityRegulator])?;
    }
    Ok(())
}

pub(super) fn owner_query(
    query: Result<web::Query<OwnerQuery>, actix_web::Error>,
) -> Result<Option<EnterpriseCode>, ApiError> {
    let query = query.map_err(super::QueryError::malformed)?;
    Ok(query.into_inner().enterprise_code)
}

macro_rules! get_route {
    ($kind:expr, $get:ident, $path:literal, $param:literal, $view:ty, $what:literal) => {
        #[doc = concat!("`GET ", $path, "`: the record, its version (also its ETag) and status.")]
        #[utoipa::path(get, path = $path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what)), responses((status = 200, description = "The record with its version and status", body = $view)))]
        pub async fn $get(
            path: web::Path<String>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            get(state, user, $kind, &path.into_inner(), None).await
        }
    };
}

macro_rules! edit_routes {
    ($kind:expr, $patch:ident, $revisions:ident, $path:literal, $revisions_path:literal, $param:literal, $view:ty, $what:literal) => {
        #[doc = concat!("`PATCH ", $path, "` with `If-Match: <version>`.")]
        #[utoipa::path(patch, path = $path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what), ("If-Match" = String, Header, description = "The version read (its ETag)")), request_body(content = Object, description = "Fields of the record's POST that may change"), responses((status = 200, description = "The changed record with its new version", body = $view)))]
        pub async fn $patch(
            req: HttpRequest,
            payload: web::Payload,
            path: web::Path<String>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            patch(req, payload, state, user, $kind, &path.into_inner(), None).await
        }

        #[doc = concat!("`GET ", $revisions_path, "`: its changes, oldest first.")]
        #[utoipa::path(get, path = $revisions_path, tag = "registry", security(("bearer" = [])), params(($param = String, Path, description = $what)), responses((status = 200, description = "Each change: version, when, by whom, fields before and after", body = Vec<shared::revision::Revision>)))]
        pub async fn $revisions(
            path: web::Path<String>,
            user: User,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            revisions(state, user, $kind, &path.into_inner(), None).await
        }
    };
}

edit_routes!(
    RecordKind::Enterprise,
    patch_enterprise,
    enterprise_revisions,
    "/api/v1/enterprises/{code}",
    "/api/v1/enterprises/{code}/revisions",
    "code",
    shared::registry::EnterpriseView,
    "The enterprise's code"
);
get_route!(
    RecordKind::Station,
    get_station,
    "/api/v1/stations/{code}",
    "code",
    shared::record::StationRecord,
    "The station's code"
);
get_route!(
    RecordKind::Geofence,
    get_geofence,
    "/api/v1/geofences/{id}",
    "id",
    shared::record::GeofenceRecord,
    "The geofence's id"
);
edit_routes!(
    RecordKind::Geofence,
    patch_geofence,
    geofence_revisions,
    "/api/v1/geofences/{id}",
    "/api/v1/geofences/{id}/revisions",
    "id",
    shared::record::GeofenceRecord,
    "The geofence's id"
);
edit_routes!(
    RecordKind::Cylinder,
    patch_cylinder,
    cylinder_revisions,
    "/api/v1/cylinders/{code}",
    "/api/v1/cylinders/{code}/revisions",
    "code",
    shared::cylinder::CylinderView,
    "The cylinder's code"
);
edit_routes!(
    RecordKind::Station,
    patch_station,
    station_revisions,
    "/api/v1/stations/{code}",
    "/api/v1/stations/{code}/revisions",
    "code",
    shared::record::StationRecord,
    "The station's code"
);
get_route!(
    RecordKind::Customer,
    get_customer,
    "/api/v1/customers/{code}",
    "code",
    shared::record::CustomerRecord,
    "The customer's code"
);
edit_routes!(
    RecordKind::Customer,
    patch_customer,
    customer_revisions,
    "/api/v1/customers/{code}",
    "/api/v1/customers/{code}/revisions",
    "code",
    shared::record::CustomerRecord,
    "The customer's code"
);
get_route!(
    RecordKind::Vehicle,
    get_vehicle,
    "/api/v1/vehicles/{plate}",
    "plate",
    shared::record::VehicleRecord,
    "The vehicle's plate"
);
edit_routes!(
    RecordKind::Vehicle,
    patch_vehicle,
    vehicle_revisions,
    "/api/v1/vehicles/{plate}",
    "/api/v1/vehicles/{plate}/revisions",
    "plate",
    shared::record::VehicleRecord,
    "The vehicle's plate"
);

/// `GET /api/v1/staff/{staff_no}`: the staff member, its version (also its ETag) and status.
#[utoipa::path(get, path = "/api/v1/staff/{staff_no}", tag = "registry", security(("bearer" = [])), params(("staff_no" = String, Path, description = "The staff number (unique per enterprise)"), OwnerQuery), responses((status = 200, description = "The staff member with its version and status", body = shared::record::StaffRecord)))]
pub async fn get_staff(
    path: web::Path<String>,
    query: Result<web::Query<OwnerQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner_query(query)?;
    get(
        state,
        user,
        RecordKind::Staff,
        &path.into_inner(),
        owner.as_ref(),
    )
    .await
}

/// `PATCH /api/v1/staff/{staff_no}` with `If-Match: <version>`.
#[utoipa::path(patch, path = "/api/v1/staff/{staff_no}", tag = "registry", security(("bearer" = [])), params(("staff_no" = String, Path, description = "The staff number (unique per enterprise)"), OwnerQuery, ("If-Match" = String, Header, description = "The version read (its ETag)")), request_body(content = Object, description = "Fields of the staff member's POST that may change"), responses((status = 200, description = "The changed staff member with its new version", body = shared::record::StaffRecord)))]
pub async fn patch_staff(
    req: HttpRequest,
    payload: web::Payload,
    path: web::Path<String>,
    query: Result<web::Query<OwnerQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner_query(query)?;
    let key = path.into_inner();
    patch(
        req,
        payload,
        state,
        user,
        RecordKind::Staff,
        &key,
        owner.as_ref(),
    )
    .await
}

/// `GET /api/v1/staff/{staff_no}/revisions`: its changes, oldest first.
#[utoipa::path(get, path = "/api/v1/staff/{staff_no}/revisions", tag = "registry", security(("bearer" = [])), params(("staff_no" = String, Path, description = "The staff number (unique per enterprise)"), OwnerQuery), responses((status = 200, description = "Each change: version, when, by whom, fields before and after", body = Vec<shared::revision::Revision>)))]
pub async fn staff_revisions(
    path: web::Path<String>,
    query: Result<web::Query<OwnerQuery>, actix_web::Error>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let owner = owner_query(query)?;
    revisions(
        state,
        user,
        RecordKind::Staff,
        &path.into_inner(),
        owner.as_ref(),
    )
    .await
}
