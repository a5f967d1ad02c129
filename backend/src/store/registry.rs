//! Enterprises, stations, customers, staff, vehicles and geofences.

use super::WriteError;
use crate::access::Scope;
use anyhow::Context;
use shared::ids::{DistrictCode, EnterpriseCode};
use shared::registry::{
    EnterpriseCounts, EnterpriseView, NewCustomer, NewEnterprise, NewGeofence, NewStaff,
    NewStation, NewVehicle,
};
use shared::{ErrorCode, ErrorDetail};
use sqlx::PgPool;

fn text(t: &Option<shared::registry::Text>) -> Option<&str> {
    t.as_ref().map(|t| t.as_str())
}

fn kind_name<T: serde::Serialize>(kind: &T) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The condition that the enterprise named by parameter `code` exists inside the scope bound
/// as parameters `$e` (enterprise) and `$d` (district).
fn in_scope(code: &str, e: usize, d: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM enterprises x WHERE x.code = {code} \
         AND (${e}::text IS NULL OR x.code = ${e}) AND (${d}::text IS NULL OR x.district_code = ${d}))"
    )
}

/// No row written means the enterprise was unknown or outside the scope: both answer as a
/// reference to nothing.
fn out_of_scope(rows: u64, table: &str) -> Result<(), WriteError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(WriteError::MissingReference(format!(
            "{table}_enterprise_code_fkey"
        )))
    }
}

/// Registers an enterprise.
pub async fn insert_enterprise(pool: &PgPool, e: &NewEnterprise) -> Result<(), WriteError> {
    let media: Vec<&str> = e.media.iter().map(|m| m.code()).collect();
    sqlx::query(
        "INSERT INTO enterprises (code, name, credit_code, district_code, address, \
         filling_licence_no, filling_licence_expires, gas_licence_no, gas_licence_expires, media, \
         filling_licence_valid_from) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(e.code.as_str())
    .bind(e.name.as_str())
    .bind(e.credit_code.as_str())
    .bind(e.district_code.as_str())
    .bind(e.address.as_str())
    .bind(text(&e.filling_licence_no))
    .bind(e.filling_licence_expires)
    .bind(text(&e.gas_licence_no))
    .bind(e.gas_licence_expires)
    .bind(&media)
    .bind(e.filling_licence_valid_from)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EnterpriseRow {
    code: EnterpriseCode,
    name: String,
    credit_code: String,
    district_code: DistrictCode,
    address: String,
    filling_licence_no: Option<String>,
    filling_licence_expires: Option<chrono::NaiveDate>,
    filling_licence_valid_from: Option<chrono::NaiveDate>,
    gas_licence_no: Option<String>,
    gas_licence_expires: Option<chrono::NaiveDate>,
    media: Vec<String>,
    version: i64,
    status: shared::auth::RecordStatus,
}

/// An enterprise within `scope` and what it has, or `None`.
pub async fn enterprise(
    pool: &PgPool,
    code: &str,
    scope: &Scope,
) -> anyhow::Result<Option<EnterpriseView>> {
    let row: Option<EnterpriseRow> = sqlx::query_as(
        "SELECT code, name, credit_code, district_code, address, filling_licence_no, \
         filling_licence_expires, filling_licence_valid_from, gas_licence_no, \
         gas_licence_expires, media, version, status \
         FROM enterprises WHERE code = $1 \
         AND ($2::text IS NULL OR code = $2) AND ($3::text IS NULL OR district_code = $3)",
    )
    .bind(code)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_optional(pool)
    .await
    .context("reading an enterprise")?;
    let Some(row) = row else { return Ok(None) };
    let counts: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        r#"
        SELECT (SELECT count(*) FROM stations WHERE enterprise_code = $1),
               (SELECT count(*) FROM customers WHERE enterprise_code = $1),
               (SELECT count(*) FROM staff WHERE enterprise_code = $1),
               (SELECT count(*) FROM vehicles WHERE enterprise_code = $1),
               (SELECT count(*) FROM cylinders WHERE owner_enterprise_code = $1),
               (SELECT count(*) FROM cylinders c JOIN cylinder_state s ON s.cylinder_id = c.id
                 WHERE c.owner_enterprise_code = $1 AND s.custody = 'scrapped')
        "#,
    )
    .bind(code)
    .fetch_one(pool)
    .await
    .context("counting an enterprise's records")?;
    let json = serde_json::json!({
        "code": row.code, "name": row.name, "credit_code": row.credit_code,
        "district_code": row.district_code, "address": row.address,
        "filling_licence_no": row.filling_licence_no,
        "filling_licence_expires": row.filling_licence_expires,
        "filling_licence_valid_from": row.filling_licence_valid_from,
        "gas_licence_no": row.gas_licence_no, "gas_licence_expires": row.gas_licence_expires,
        "media": row.media,
    });
    let enterprise = shared::registry::parse::<NewEnterprise>(json)
        .map_err(|e| anyhow::anyhow!("stored enterprise {code}: {}", e.message))?;
    let status = row.status;
    Ok(Some(EnterpriseView {
        enterprise,
        counts: EnterpriseCounts {
            stations: counts.0,
            customers: counts.1,
            staff: counts.2,
            vehicles: counts.3,
            cylinders: counts.4,
            cylinders_scrapped: counts.5,
        },
        version: row.version,
        status,
    }))
}

/// Registers a station.
pub async fn insert_station(
    pool: &PgPool,
    s: &NewStation,
    scope: &Scope,
    granted_by: Option<&str>,
) -> Result<(), WriteError> {
    let done = sqlx::query(&format!(
        "INSERT INTO stations (code, enterprise_code, name, kind, location, radius_m, \
         full_stock_limit, district_code, inspection_granted_at, inspection_granted_by) \
         SELECT $1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), $7, $8, $9, \
                CASE WHEN $12::text IS NULL THEN NULL ELSE now() END, $12 WHERE {}",
        in_scope("$2", 10, 11)
    ))
    .bind(s.code.as_str())
    .bind(s.enterprise_code.as_str())
    .bind(s.name.as_str())
    .bind(kind_name(&s.kind))
    .bind(s.location.lon())
    .bind(s.location.lat())
    .bind(s.radius_m)
    .bind(i64::from(s.full_stock_limit))
    .bind(s.district_code.as_ref().map(|d| d.as_str()))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(granted_by)
    .execute(pool)
    .await?;
    out_of_scope(done.rows_affected(), "stations")
}

/// Registers a customer.
pub async fn insert_customer(
    pool: impl sqlx::PgExecutor<'_>,
    c: &NewCustomer,
    scope: &Scope,
) -> Result<(), WriteError> {
    let done = sqlx::query(&format!(
        "INSERT INTO customers (code, enterprise_code, name, kind, phone, address, location, \
         district_code, full_stock_limit, licence_no, licence_expires) \
         SELECT $1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10, $11, \
                $14 WHERE {}",
        in_scope("$2", 12, 13)
    ))
    .bind(c.code.as_str())
    .bind(c.enterprise_code.as_str())
    .bind(c.name.as_str())
    .bind(kind_name(&c.kind))
    .bind(c.phone.as_str())
    .bind(c.address.as_str())
    .bind(c.location.lon())
    .bind(c.location.lat())
    .bind(c.district_code.as_str())
    .bind(i64::from(c.full_stock_limit))
    .bind(text(&c.licence_no))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(c.licence_expires)
    .execute(pool)
    .await?;
    out_of_scope(done.rows_affected(), "customers")
}

/// Registers a staff member with its certificates (as `NewStaff::normalized` stores them), in
/// one statement.
pub async fn insert_staff(
    pool: impl sqlx::PgExecutor<'_>,
    s: &NewStaff,
    scope: &Scope,
) -> Result<(), WriteError> {
    let s = &s.clone().normalized();
    let c = CertificateColumns::of(&s.certificates);
    let inserted: i64 = sqlx::query_scalar(&format!(
        "WITH s AS (INSERT INTO staff (staff_no, enterprise_code, name, role, certificate_no, \
         certificate_expires) SELECT $1, $2, $3, $4, $5, $6 WHERE {} \
         RETURNING enterprise_code, staff_no), \
         c AS (INSERT INTO staff_certificates (enterprise_code, staff_no, kind, number, \
               valid_from, valid_to) \
               SELECT s.enterprise_code, s.staff_no, k.kind, k.number, k.valid_from, k.valid_to \
               FROM s CROSS JOIN unnest($9::text[], $10::text[], $11::date[], $12::date[]) \
                    AS k(kind, number, valid_from, valid_to)) \
         SELECT count(*) FROM s",
        in_scope("$2", 7, 8)
    ))
    .bind(s.staff_no.as_str())
    .bind(s.enterprise_code.as_str())
    .bind(s.name.as_str())
    .bind(kind_name(&s.role))
    .bind(text(&s.certificate_no))
    .bind(s.certificate_expires)
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(&c.kinds)
    .bind(&c.numbers)
    .bind(&c.valid_from)
    .bind(&c.valid_to)
    .fetch_one(pool)
    .await?;
    out_of_scope(u64::try_from(inserted).unwrap_or(0), "staff")
}

/// A certificate list as the columns `unnest` takes.
pub(crate) struct CertificateColumns<'a> {
    pub kinds: Vec<&'static str>,
    pub numbers: Vec<&'a str>,
    pub valid_from: Vec<Option<chrono::NaiveDate>>,
    pub valid_to: Vec<chrono::NaiveDate>,
}

impl<'a> CertificateColumns<'a> {
    pub(crate) fn of(list: &'a [shared::certificate::Certificate]) -> Self {
        Self {
            kinds: list.iter().map(|c| c.kind.name()).collect(),
            numbers: list.iter().map(|c| c.number.as_str()).collect(),
            valid_from: list.iter().map(|c| c.valid_from).collect(),
            valid_to: list.iter().map(|c| c.valid_to).collect(),
        }
    }
}

/// Registers a vehicle.
pub async fn insert_vehicle(
    pool: impl sqlx::PgExecutor<'_>,
    v: &NewVehicle,
    scope: &Scope,
) -> Result<(), WriteError> {
    let done = sqlx::query(&format!(
        "INSERT INTO vehicles (plate, enterprise_code, gps_device_id, reader_device_id, \
         transport_permit_no, transport_permit_expires) \
         SELECT $1, $2, $3, $4, $7, $8 WHERE {}",
        in_scope("$2", 5, 6)
    ))
    .bind(v.plate.as_str())
    .bind(v.enterprise_code.as_str())
    .bind(v.gps_device_id.as_ref().map(|d| d.as_str()))
    .bind(v.reader_device_id.as_ref().map(|d| d.as_str()))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(text(&v.transport_permit_no))
    .bind(v.transport_permit_expires)
    .execute(pool)
    .await?;
    out_of_scope(done.rows_affected(), "vehicles")
}

/// Registers a geofence; returns its id. An invalid polygon is a client error.
pub async fn insert_geofence(pool: &PgPool, g: &NewGeofence) -> Result<i64, WriteError> {
    check_geofence(pool, g).await?;
    let plates: Vec<&str> = g.vehicle_plates.iter().map(|p| p.as_str()).collect();
    let (lon, lat) = g.center.map(|c| (c.lon(), c.lat())).unzip();
    let id: i64 = sqlx::query_scalar(
        r#"
        INSERT INTO geofences (name, kind, geom, enterprise_code, vehicle_plates)
        VALUES ($1, $2,
                CASE WHEN $3::text IS NOT NULL THEN ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)
                     ELSE ST_Buffer(ST_SetSRID(ST_MakePoint($4, $5), 4326)::geography, $6)::geometry END,
                $7, $8)
        RETURNING id
        "#,
    )
    .bind(g.name.as_str())
    .bind(kind_name(&g.kind))
    .bind(g.geometry.as_ref().map(|v| v.to_string()))
    .bind(lon)
    .bind(lat)
    .bind(g.radius_m)
    .bind(g.enterprise_code.as_ref().map(|e| e.as_str()))
    .bind(&plates)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// What the database checks of a fence before it is written: a valid polygon (else a client
/// error naming `geometry`), a corridor of an enterprise listing its own vehicles only.
pub async fn check_geofence(pool: &PgPool, g: &NewGeofence) -> Result<(), WriteError> {
    if let Some(geometry) = &g.geometry {
        let reason: Option<String> = sqlx::query_scalar(
            "SELECT CASE WHEN ST_IsValid(g) THEN NULL ELSE ST_IsValidReason(g) END \
             FROM (SELECT ST_GeomFromGeoJSON($1) AS g) t",
        )
        .bind(geometry.to_string())
        .fetch_one(pool)
        .await
        .map_err(|_| {
            WriteError::Invalid(
                ErrorDetail::new(ErrorCode::InvalidField, "geometry is not valid GeoJSON")
                    .with_field("geometry"),
            )
        })?;
        if let Some(reason) = reason {
            return Err(WriteError::Invalid(
                ErrorDetail::new(
                    ErrorCode::InvalidGeometry,
                    format!("geometry is not a valid polygon: {reason}"),
                )
                .with_field("geometry"),
            ));
        }
    }
    let plates: Vec<&str> = g.vehicle_plates.iter().map(|p| p.as_str()).collect();
    // An enterprise's corridor lists its own vehicles only.
    if let (Some(enterprise), false) = (&g.enterprise_code, plates.is_empty()) {
        let owned: Vec<String> = sqlx::query_scalar(
            "SELECT plate FROM vehicles WHERE plate = ANY($1) AND enterprise_code = $2",
        )
        .bind(&plates)
        .bind(enterprise.as_str())
        .fetch_all(pool)
        .await
        .context("reading the corridor's vehicles")
        .map_err(WriteError::Other)?;
        if let Some(i) = plates.iter().position(|p| !owned.iter().any(|o| o == p)) {
            return Err(WriteError::Invalid(
                ErrorDetail::new(
                    ErrorCode::UnknownReference,
                    format!("vehicle_plates[{i}] is not a vehicle of the fence's enterprise"),
                )
                .with_field(format!("vehicle_plates[{i}]")),
            ));
        }
    }
    Ok(())
}

/// Who owns the referenced records: vehicles, stations (with their kind) and customers.
#[derive(Debug, Default)]
pub struct Owners {
    pub vehicles: std::collections::HashMap<String, String>,
    pub stations: std::collections::HashMap<String, (String, String)>,
    pub customers: std::collections::HashMap<String, String>,
}

/// The owners of these plates, stations and customers (unknown ones are absent).
pub async fn owners(
    pool: &PgPool,
    plates: &[&str],
    stations: &[&str],
    customers: &[&str],
) -> anyhow::Result<Owners> {
    let vehicles: Vec<(String, String)> =
        sqlx::query_as("SELECT plate, enterprise_code FROM vehicles WHERE plate = ANY($1)")
            .bind(plates)
            .fetch_all(pool)
            .await
            .context("reading vehicle owners")?;
    let station_rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT code, enterprise_code, kind FROM stations WHERE code = ANY($1)")
            .bind(stations)
            .fetch_all(pool)
            .await
            .context("reading station owners")?;
    let customer_rows: Vec<(String, String)> =
        sqlx::query_as("SELECT code, enterprise_code FROM customers WHERE code = ANY($1)")
            .bind(customers)
            .fetch_all(pool)
            .await
            .context("reading customer owners")?;
    Ok(Owners {
        vehicles: vehicles.into_iter().collect(),
        stations: station_rows
            .into_iter()
            .map(|(code, owner, kind)| (code, (owner, kind)))
            .collect(),
        customers: customer_rows.into_iter().collect(),
    })
}

/// Whether a device of `enterprise` (bound to `station`, if it is bound) writes for an
/// inspection body: its enterprise holds an inspection station a regulator granted, and a bound
/// device is bound to such a station. Such a device may report inspections of other
/// enterprises' cylinders.
pub async fn inspects(
    pool: &PgPool,
    enterprise: &str,
    station: Option<&str>,
) -> anyhow::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM stations WHERE enterprise_code = $1 AND kind = 'inspection' \
         AND inspection_granted_at IS NOT NULL AND ($2::text IS NULL OR code = $2))",
    )
    .bind(enterprise)
    .bind(station)
    .fetch_one(pool)
    .await
    .context("checking for a granted inspection station")
}

/// The owning enterprise of each of these cylinder codes (unknown ones are absent).
pub async fn cylinder_owners(
    pool: &PgPool,
    codes: &[&str],
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    if codes.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT code, owner_enterprise_code FROM cylinders WHERE code = ANY($1)")
            .bind(codes)
            .fetch_all(pool)
            .await
            .context("reading cylinder owners")?;
    Ok(rows.into_iter().collect())
}

/// Of these staff numbers, those registered to another enterprise and not to `enterprise`:
/// a number is resolved within the writer's enterprise, and one that only another enterprise
/// has is not the writer's to name.
pub async fn foreign_staff(
    pool: &PgPool,
    nos: &[&str],
    enterprise: &str,
) -> anyhow::Result<std::collections::HashSet<String>> {
    if nos.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT staff_no FROM staff WHERE staff_no = ANY($1) \
         GROUP BY staff_no HAVING NOT bool_or(enterprise_code = $2)",
    )
    .bind(nos)
    .bind(enterprise)
    .fetch_all(pool)
    .await
    .context("resolving staff numbers")?;
    Ok(rows.into_iter().collect())
}

/// Grants an inspection station its inspections (a regulator's act): `false` when there is no
/// such station of kind `inspection`.
pub async fn grant_inspection(pool: &PgPool, code: &str, by: &str) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE stations SET inspection_granted_at = coalesce(inspection_granted_at, now()), \
         inspection_granted_by = coalesce(inspection_granted_by, $2) \
         WHERE code = $1 AND kind = 'inspection'",
    )
    .bind(code)
    .bind(by)
    .execute(pool)
    .await
    .context("granting an inspection station")?;
    Ok(done.rows_affected() == 1)
}
