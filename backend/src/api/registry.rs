//! Registry records: enterprises, stations, customers, staff, vehicles, geofences.

use super::body::read_json;
use crate::access::User;
use crate::api::state::AppState;
use crate::error::ApiError;
use crate::rules::districts::PlaceError;
use crate::store::{self, WriteError};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use shared::auth::Role;
use shared::ids::{DistrictCode, GeoPoint};
use shared::registry::{
    parse, Created, GeofenceKind, NewCustomer, NewEnterprise, NewGeofence, NewStaff, NewStation,
    NewVehicle, StationKind,
};
use shared::{ErrorCode, ErrorDetail};

/// Registry bodies are small.
const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Reads and parses a record body.
pub async fn read_record<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    read_record_up_to(req, payload, MAX_RECORD_BYTES).await
}

/// [`read_record`] of a body that may be up to `limit` bytes (a list of codes).
pub async fn read_record_up_to<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, ApiError> {
    let value = read_json(req, payload, limit).await?;
    if !value.is_object() {
        return Err(ApiError::client(
            ErrorCode::MalformedBody,
            "the body must be a JSON object",
        ));
    }
    Ok(parse(value)?)
}

/// A refused write as the client's error: which field clashed or named nothing.
pub fn write_error(error: WriteError, what: &str, key: &str) -> ApiError {
    match error {
        WriteError::Duplicate(constraint) => {
            let field = if constraint.ends_with("_pkey") {
                key.to_owned()
            } else {
                field_of(&constraint, "_key")
            };
            ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::AlreadyExists,
                    format!("a {what} with that {field} is already registered"),
                )
                .with_field(field),
            )
        }
        WriteError::MissingReference(constraint) => {
            let field = field_of(&constraint, "_fkey");
            ApiError::Client(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    format!("{field} names a record that does not exist"),
                )
                .with_field(field),
            )
        }
        WriteError::Invalid(detail) => ApiError::Client(detail),
        WriteError::Other(e) => ApiError::from(e),
    }
}

/// `stations_enterprise_code_fkey` → `enterprise_code`.
fn field_of(constraint: &str, suffix: &str) -> String {
    let inner = constraint.strip_suffix(suffix).unwrap_or(constraint);
    match inner.split_once('_') {
        Some((_table, field)) => field.to_owned(),
        None => inner.to_owned(),
    }
}

/// The district a place at `location` lies in on the base map: the claimed one (if any) must
/// be it, and a point outside every district is refused.
pub(crate) fn place_district(
    state: &AppState,
    location: GeoPoint,
    claimed: Option<&DistrictCode>,
) -> Result<DistrictCode, ApiError> {
    let found = state
        .districts
        .place(location.lon(), location.lat(), claimed.map(|d| d.as_str()));
    let refused = |field: &str, message: String| {
        ApiError::Client(ErrorDetail::new(ErrorCode::DistrictMismatch, message).with_field(field))
    };
    match found {
        Ok(code) => DistrictCode::try_from(code.clone())
            .map_err(|_| anyhow::anyhow!("the base map's district code {code} is not a code"))
            .map_err(ApiError::from),
        Err(PlaceError::Outside) => Err(refused(
            "location",
            "location lies outside every district of the base map".to_owned(),
        )),
        Err(PlaceError::Elsewhere(actual)) => Err(refused(
            "district_code",
            format!("district_code must be the district the location lies in: {actual}"),
        )),
    }
}

fn created(id: &str) -> HttpResponse {
    HttpResponse::Created().json(Created { id: id.to_owned() })
}

/// `POST /api/v1/enterprises`.
#[utoipa::path(post, path = "/api/v1/enterprises", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewEnterprise, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_enterprise(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::CityRegulator, Role::DistrictRegulator])?;
    let record: NewEnterprise = read_record(&req, payload).await?;
    record.check()?;
    if !user.scope().admits(
        Some(record.code.as_str()),
        Some(record.district_code.as_str()),
    ) {
        return Err(ApiError::Client(
            ErrorDetail::new(
                ErrorCode::Forbidden,
                "the enterprise is outside your district",
            )
            .with_field("district_code"),
        ));
    }
    store::registry::insert_enterprise(&state.pool, &record)
        .await
        .map_err(|e| write_error(e, "enterprise", "code"))?;
    Ok(created(record.code.as_str()))
}

/// `GET /api/v1/enterprises/{code}`.
#[utoipa::path(get, path = "/api/v1/enterprises/{code}", tag = "registry", security(("bearer" = [])), params(("code" = String, Path, description = "The enterprise")), responses((status = 200, description = "The enterprise, its counts, version (also its ETag) and status", body = shared::registry::EnterpriseView)))]
pub async fn get_enterprise(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    match store::registry::enterprise(&state.pool, &code, &user.scope()).await? {
        Some(view) => Ok(HttpResponse::Ok()
            .insert_header((
                actix_web::http::header::ETAG,
                shared::revision::etag(view.version),
            ))
            .json(view)),
        None => Err(ApiError::client(
            ErrorCode::NotFound,
            format!("no enterprise {code}"),
        )),
    }
}

/// `POST /api/v1/stations`.
#[utoipa::path(post, path = "/api/v1/stations", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewStation, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_station(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut record: NewStation = read_record(&req, payload).await?;
    user.may_manage(record.enterprise_code.as_str())?;
    super::inactive::require_active_enterprise(&state, record.enterprise_code.as_str()).await?;
    record.check()?;
    record.district_code = Some(place_district(
        &state,
        record.location,
        record.district_code.as_ref(),
    )?);
    // An inspection body (检验机构) is registered by a regulator, never self-declared: its
    // devices report inspections of other enterprises' cylinders.
    let granted_by = if record.kind == StationKind::Inspection {
        user.require(&[Role::Admin, Role::CityRegulator])
            .map_err(|_| {
                ApiError::Client(
                    ErrorDetail::new(
                        ErrorCode::Forbidden,
                        "an inspection station (检验机构) is registered by an administrator or \
                         the city regulator",
                    )
                    .with_field("kind"),
                )
            })?;
        Some(user.username.as_str())
    } else {
        None
    };
    store::registry::insert_station(&state.pool, &record, &user.scope(), granted_by)
        .await
        .map_err(|e| write_error(e, "station", "code"))?;
    Ok(created(record.code.as_str()))
}

/// `POST /api/v1/stations/{code}/inspection-grant`: an administrator or the city regulator
/// grants an inspection station (one registered before grants existed) its inspections.
#[utoipa::path(post, path = "/api/v1/stations/{code}/inspection-grant", tag = "registry", security(("bearer" = [])), params(("code" = String, Path, description = "The inspection station")), responses((status = 200, description = "Granted: its enterprise's devices may report inspections of other enterprises' cylinders", body = shared::registry::Created)))]
pub async fn grant_inspection(
    path: web::Path<String>,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    user.require(&[Role::Admin, Role::CityRegulator])?;
    let code = path.into_inner();
    if !store::registry::grant_inspection(&state.pool, &code, &user.username).await? {
        return Err(ApiError::client(
            ErrorCode::NotFound,
            format!("no inspection station {code}"),
        ));
    }
    Ok(HttpResponse::Ok().json(Created { id: code }))
}

/// `POST /api/v1/customers`.
#[utoipa::path(post, path = "/api/v1/customers", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewCustomer, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_customer(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let record: NewCustomer = read_record(&req, payload).await?;
    user.may_manage(record.enterprise_code.as_str())?;
    super::certified::licence_by_regulator(&user, &record)?;
    super::inactive::require_active_enterprise(&state, record.enterprise_code.as_str()).await?;
    record.check()?;
    place_district(&state, record.location, Some(&record.district_code))?;
    store::registry::insert_customer(&state.pool, &record, &user.scope())
        .await
        .map_err(|e| write_error(e, "customer", "code"))?;
    Ok(created(record.code.as_str()))
}

/// `POST /api/v1/staff`.
#[utoipa::path(post, path = "/api/v1/staff", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewStaff, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_staff(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let record: NewStaff = read_record(&req, payload).await?;
    user.may_manage(record.enterprise_code.as_str())?;
    super::inactive::require_active_enterprise(&state, record.enterprise_code.as_str()).await?;
    super::certified::certificates_by_regulator(&user, &record)?;
    record.check()?;
    // One certificate given the old way joins the list; the stored record is checked whole.
    let record = record.normalized();
    record.check()?;
    store::registry::insert_staff(&state.pool, &record, &user.scope())
        .await
        .map_err(|e| write_error(e, "staff member", "staff_no"))?;
    // The gun caches each station with its enterprise's fillers' certificates (R14).
    state.stations.clear();
    Ok(created(record.staff_no.as_str()))
}

/// `POST /api/v1/vehicles`.
#[utoipa::path(post, path = "/api/v1/vehicles", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewVehicle, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_vehicle(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let record: NewVehicle = read_record(&req, payload).await?;
    user.may_manage(record.enterprise_code.as_str())?;
    super::certified::permit_by_regulator(&user, &record)?;
    record.check()?;
    super::inactive::require_active_enterprise(&state, record.enterprise_code.as_str()).await?;
    store::registry::insert_vehicle(&state.pool, &record, &user.scope())
        .await
        .map_err(|e| write_error(e, "vehicle", "plate"))?;
    Ok(created(record.plate.as_str()))
}

/// `POST /api/v1/geofences`.
#[utoipa::path(post, path = "/api/v1/geofences", tag = "registry", security(("bearer" = [])), request_body = shared::registry::NewGeofence, responses((status = 201, description = "Created", body = shared::registry::Created)))]
pub async fn create_geofence(
    req: HttpRequest,
    payload: web::Payload,
    user: User,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let record: NewGeofence = read_record(&req, payload).await?;
    // Restricted zones and fences for every vehicle (no enterprise: city-wide corridors and
    // sites) bind every company: only the city's regulators draw them. An enterprise's fence
    // applies to its own vehicles only; its admin draws it.
    if record.kind == GeofenceKind::Restricted || record.is_city_wide() {
        user.require(&[Role::Admin, Role::CityRegulator])
            .map_err(|_| {
                ApiError::Client(
                    ErrorDetail::new(
                        ErrorCode::Forbidden,
                        "restricted zones and fences for every vehicle are drawn by the city's regulators",
                    )
                    .with_field(if record.kind == GeofenceKind::Restricted {
                        "kind"
                    } else {
                        "enterprise_code"
                    }),
                )
            })?;
    }
    if let Some(code) = &record.enterprise_code {
        user.may_manage(code.as_str())?;
    }
    record.check()?;
    let id = store::registry::insert_geofence(&state.pool, &record)
        .await
        .map_err(|e| write_error(e, "geofence", "id"))?;
    Ok(created(&id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_become_fields() {
        assert_eq!(
            field_of("stations_enterprise_code_fkey", "_fkey"),
            "enterprise_code"
        );
        assert_eq!(field_of("cylinders_tag_id_key", "_key"), "tag_id");
    }
}
