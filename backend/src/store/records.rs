//! Registry records one at a time with their version and status (issue 21): read within a
//! scope, and changed only at the version the writer read, in one transaction with the
//! revision that describes the change.

use super::revisions::{self, NewRevision};
use super::WriteError;
use crate::access::Scope;
use anyhow::Context;
use serde_json::{Map, Value};
use shared::auth::RecordStatus;
use shared::ids::EnterpriseCode;
use shared::record::RecordKind;
use shared::registry::{
    CylinderArchive, NewCustomer, NewEnterprise, NewGeofence, NewStaff, NewStation, NewVehicle,
};
use sqlx::{PgConnection, PgPool};

/// A record as stored: its fields in the shape of its `POST` body, version and status.
#[derive(Debug, Clone)]
pub struct Stored {
    pub body: Value,
    pub version: i64,
    pub status: RecordStatus,
    /// Its enterprise: `None` for a fence for every vehicle.
    pub enterprise_code: Option<EnterpriseCode>,
    /// The key its revisions are kept under (staff: `enterprise_code/staff_no`).
    pub key: String,
}

/// The SELECT of one kind: `body`, version, status, enterprise, revision key; `$1` the key,
/// `$2`/`$3` the scope (enterprise, district), `$4` an enterprise the caller names (staff).
fn select(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Enterprise => {
            "SELECT json_build_object('code', t.code, 'name', t.name, 'credit_code', t.credit_code, \
             'district_code', t.district_code, 'address', t.address, \
             'filling_licence_no', t.filling_licence_no, \
             'filling_licence_expires', t.filling_licence_expires, \
             'filling_licence_valid_from', t.filling_licence_valid_from, \
             'gas_licence_no', t.gas_licence_no, 'gas_licence_expires', t.gas_licence_expires, \
             'media', t.media), t.version, t.status, t.code, t.code \
             FROM enterprises t JOIN enterprises x ON x.code = t.code WHERE t.code = $1"
        }
        RecordKind::Station => {
            "SELECT json_build_object('code', t.code, 'enterprise_code', t.enterprise_code, \
             'name', t.name, 'kind', t.kind, \
             'location', json_build_object('lon', ST_X(t.location), 'lat', ST_Y(t.location)), \
             'radius_m', t.radius_m, 'full_stock_limit', t.full_stock_limit, \
             'district_code', t.district_code), t.version, t.status, t.enterprise_code, t.code \
             FROM stations t JOIN enterprises x ON x.code = t.enterprise_code WHERE t.code = $1"
        }
        RecordKind::Customer => {
            "SELECT json_build_object('code', t.code, 'enterprise_code', t.enterprise_code, \
             'name', t.name, 'kind', t.kind, 'phone', t.phone, 'address', t.address, \
             'location', json_build_object('lon', ST_X(t.location), 'lat', ST_Y(t.location)), \
             'district_code', t.district_code, 'full_stock_limit', t.full_stock_limit, \
             'licence_no', t.licence_no, 'licence_expires', t.licence_expires), \
             t.version, t.status, t.enterprise_code, t.code \
             FROM customers t JOIN enterprises x ON x.code = t.enterprise_code WHERE t.code = $1"
        }
        RecordKind::Staff => {
            "SELECT json_build_object('staff_no', t.staff_no, 'enterprise_code', t.enterprise_code, \
             'name', t.name, 'role', t.role, 'certificate_no', t.certificate_no, \
             'certificate_expires', t.certificate_expires, \
             'certificates', coalesce((SELECT json_agg(json_build_object('kind', c.kind, \
                 'number', c.number, 'valid_from', c.valid_from, 'valid_to', c.valid_to) \
                 ORDER BY c.kind, c.valid_to, c.number COLLATE \"C\") FROM staff_certificates c \
                 WHERE c.enterprise_code = t.enterprise_code AND c.staff_no = t.staff_no), \
                 '[]'::json)), t.version, t.status, \
             t.enterprise_code, t.enterprise_code || '/' || t.staff_no \
             FROM staff t JOIN enterprises x ON x.code = t.enterprise_code WHERE t.staff_no = $1"
        }
        RecordKind::Vehicle => {
            "SELECT json_build_object('plate', t.plate, 'enterprise_code', t.enterprise_code, \
             'gps_device_id', t.gps_device_id, 'reader_device_id', t.reader_device_id, \
             'transport_permit_no', t.transport_permit_no, \
             'transport_permit_expires', t.transport_permit_expires), \
             t.version, t.status, t.enterprise_code, t.plate \
             FROM vehicles t JOIN enterprises x ON x.code = t.enterprise_code WHERE t.plate = $1"
        }
        // The archive as registered (an inspection's dates live in the cylinder's state); a
        // scrapped cylinder is closed.
        RecordKind::Cylinder => {
            "SELECT json_build_object('code', t.code, 'tag_id', t.tag_id, 'medium', t.medium, \
             'tare_kg', t.tare_kg, 'volume_l', t.volume_l, \
             'working_pressure_mpa', t.working_pressure_mpa, \
             'test_pressure_mpa', t.test_pressure_mpa, 'wall_thickness_mm', t.wall_thickness_mm, \
             'max_fill_kg', t.max_fill_kg, 'design_life_years', t.design_life_years, \
             'manufacturer', t.manufacturer, 'manufactured_on', t.manufactured_on, \
             'product_standard', t.product_standard, \
             'manufacture_licence_no', t.manufacture_licence_no, \
             'last_inspected_on', t.last_inspected_on, 'next_inspection_on', t.next_inspection_on, \
             'registration_no', t.registration_no, 'registered_on', t.registered_on, \
             'registration_authority', t.registration_authority, \
             'owner_enterprise_code', t.owner_enterprise_code, 'station_code', t.station_code, \
             'serial_no', t.serial_no, 'production_batch', t.production_batch), \
             t.version, CASE WHEN s.custody = 'scrapped' THEN 'closed' ELSE 'active' END, \
             t.owner_enterprise_code, t.code \
             FROM cylinders t JOIN enterprises x ON x.code = t.owner_enterprise_code \
             LEFT JOIN cylinder_state s ON s.cylinder_id = t.id WHERE t.code = $1"
        }
        // A fence for every vehicle has no enterprise: only an unscoped reader (the
        // administrator, a city regulator) finds it.
        RecordKind::Geofence => {
            "SELECT json_build_object('name', t.name, 'kind', t.kind, \
             'geometry', ST_AsGeoJSON(t.geom)::json, 'enterprise_code', t.enterprise_code, \
             'vehicle_plates', t.vehicle_plates), t.version, t.status, \
             t.enterprise_code, t.id::text \
             FROM geofences t LEFT JOIN enterprises x ON x.code = t.enterprise_code \
             WHERE t.id = CASE WHEN $1 ~ '^[0-9]{1,18}$' THEN $1::bigint END"
        }
    }
}

type Row = (Value, i64, RecordStatus, Option<EnterpriseCode>, String);

/// The records of `kind` with key `key` inside `scope` (and of `enterprise`, if named): one,
/// none, or — staff numbers being unique per enterprise only — several.
pub async fn find(
    pool: &PgPool,
    kind: RecordKind,
    key: &str,
    enterprise: Option<&EnterpriseCode>,
    scope: &Scope,
) -> anyhow::Result<Vec<Stored>> {
    let sql = format!(
        "{} AND ($2::text IS NULL OR x.code = $2) AND ($3::text IS NULL OR x.district_code = $3) \
         AND ($4::text IS NULL OR x.code = $4) ORDER BY x.code",
        select(kind)
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(key)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(enterprise)
        .fetch_all(pool)
        .await
        .with_context(|| format!("reading {} {key}", kind.collection()))?;
    Ok(rows
        .into_iter()
        .map(|(body, version, status, enterprise_code, key)| Stored {
            body,
            version,
            status,
            enterprise_code,
            key,
        })
        .collect())
}

/// A record's new fields, parsed and checked.
#[derive(Debug, Clone)]
pub enum Edited {
    Enterprise(NewEnterprise),
    Station(NewStation),
    Customer(NewCustomer),
    Staff(NewStaff),
    Vehicle(NewVehicle),
    Cylinder(CylinderArchive),
    /// A fence (its id) redrawn.
    Geofence(i64, NewGeofence),
}

fn text(t: &Option<shared::registry::Text>) -> Option<&str> {
    t.as_ref().map(|t| t.as_str())
}

fn name_of<T: serde::Serialize>(kind: &T) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Writes `edited` over the record if it is still at `version`: its new version, or `None`
/// when someone changed it first.
async fn update(
    conn: &mut PgConnection,
    edited: &Edited,
    version: i64,
) -> Result<Option<i64>, WriteError> {
    let returned: Option<i64> = match edited {
        Edited::Enterprise(e) => {
            let media: Vec<&str> = e.media.iter().map(|m| m.code()).collect();
            sqlx::query_scalar(
                "UPDATE enterprises SET name = $3, credit_code = $4, district_code = $5, \
                 address = $6, filling_licence_no = $7, filling_licence_expires = $8, \
                 gas_licence_no = $9, gas_licence_expires = $10, media = $11, \
                 filling_licence_valid_from = $12, version = version + 1 WHERE code = $1 AND version = $2 RETURNING version",
            )
            .bind(e.code.as_str())
            .bind(version)
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
            .fetch_optional(conn)
            .await?
        }
        Edited::Station(s) => sqlx::query_scalar(
            "UPDATE stations SET name = $3, location = ST_SetSRID(ST_MakePoint($4, $5), 4326), \
                 radius_m = $6, full_stock_limit = $7, district_code = $8, version = version + 1 \
                 WHERE code = $1 AND version = $2 RETURNING version",
        )
        .bind(s.code.as_str())
        .bind(version)
        .bind(s.name.as_str())
        .bind(s.location.lon())
        .bind(s.location.lat())
        .bind(s.radius_m)
        .bind(i64::from(s.full_stock_limit))
        .bind(s.district_code.as_ref().map(|d| d.as_str()))
        .fetch_optional(conn)
        .await?,
        Edited::Customer(c) => {
            sqlx::query_scalar(
                "UPDATE customers SET name = $3, kind = $4, phone = $5, address = $6, \
                 location = ST_SetSRID(ST_MakePoint($7, $8), 4326), district_code = $9, \
                 full_stock_limit = $10, licence_no = $11, licence_expires = $12, \
                 version = version + 1 \
                 WHERE code = $1 AND version = $2 RETURNING version",
            )
            .bind(c.code.as_str())
            .bind(version)
            .bind(c.name.as_str())
            .bind(name_of(&c.kind))
            .bind(c.phone.as_str())
            .bind(c.address.as_str())
            .bind(c.location.lon())
            .bind(c.location.lat())
            .bind(c.district_code.as_str())
            .bind(i64::from(c.full_stock_limit))
            .bind(text(&c.licence_no))
            .bind(c.licence_expires)
            .fetch_optional(conn)
            .await?
        }
        Edited::Staff(s) => {
            let updated: Option<i64> = sqlx::query_scalar(
                "UPDATE staff SET name = $4, role = $5, certificate_no = $6, \
                 certificate_expires = $7, version = version + 1 \
                 WHERE enterprise_code = $1 AND staff_no = $2 AND version = $3 RETURNING version",
            )
            .bind(s.enterprise_code.as_str())
            .bind(s.staff_no.as_str())
            .bind(version)
            .bind(s.name.as_str())
            .bind(name_of(&s.role))
            .bind(text(&s.certificate_no))
            .bind(s.certificate_expires)
            .fetch_optional(&mut *conn)
            .await?;
            if updated.is_some() {
                // The list is replaced whole (in the edit's transaction).
                let c = super::registry::CertificateColumns::of(&s.certificates);
                sqlx::query(
                    "DELETE FROM staff_certificates WHERE enterprise_code = $1 AND staff_no = $2",
                )
                .bind(s.enterprise_code.as_str())
                .bind(s.staff_no.as_str())
                .execute(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO staff_certificates (enterprise_code, staff_no, kind, number, \
                     valid_from, valid_to) \
                     SELECT $1, $2, k.kind, k.number, k.valid_from, k.valid_to \
                     FROM unnest($3::text[], $4::text[], $5::date[], $6::date[]) \
                          AS k(kind, number, valid_from, valid_to)",
                )
                .bind(s.enterprise_code.as_str())
                .bind(s.staff_no.as_str())
                .bind(&c.kinds)
                .bind(&c.numbers)
                .bind(&c.valid_from)
                .bind(&c.valid_to)
                .execute(&mut *conn)
                .await?;
            }
            updated
        }
        Edited::Vehicle(v) => {
            sqlx::query_scalar(
                "UPDATE vehicles SET gps_device_id = $3, reader_device_id = $4, \
                 transport_permit_no = $5, transport_permit_expires = $6, \
                 version = version + 1 WHERE plate = $1 AND version = $2 RETURNING version",
            )
            .bind(v.plate.as_str())
            .bind(version)
            .bind(v.gps_device_id.as_ref().map(|d| d.as_str()))
            .bind(v.reader_device_id.as_ref().map(|d| d.as_str()))
            .bind(text(&v.transport_permit_no))
            .bind(v.transport_permit_expires)
            .fetch_optional(conn)
            .await?
        }
        Edited::Cylinder(c) => {
            sqlx::query_scalar(
                "UPDATE cylinders SET tare_kg = $3, volume_l = $4, working_pressure_mpa = $5, \
                 test_pressure_mpa = $6, wall_thickness_mm = $7, max_fill_kg = $8, \
                 design_life_years = $9, manufacturer = $10, manufactured_on = $11, \
                 product_standard = $12, manufacture_licence_no = $13, registration_no = $14, \
                 registered_on = $15, registration_authority = $16, serial_no = $17, \
                 production_batch = $18, version = version + 1 \
                 WHERE code = $1 AND version = $2 RETURNING version",
            )
            .bind(c.code.as_str())
            .bind(version)
            .bind(c.tare_kg)
            .bind(c.volume_l)
            .bind(c.working_pressure_mpa)
            .bind(c.test_pressure_mpa)
            .bind(c.wall_thickness_mm)
            .bind(c.max_fill_kg)
            .bind(i32::from(c.design_life_years))
            .bind(c.manufacturer.as_str())
            .bind(c.manufactured_on)
            .bind(c.product_standard.as_str())
            .bind(c.manufacture_licence_no.as_str())
            .bind(text(&c.registration_no))
            .bind(c.registered_on)
            .bind(text(&c.registration_authority))
            .bind(text(&c.serial_no))
            .bind(text(&c.production_batch))
            .fetch_optional(conn)
            .await?
        }
        Edited::Geofence(id, g) => {
            let plates: Vec<&str> = g.vehicle_plates.iter().map(|p| p.as_str()).collect();
            let (lon, lat) = g.center.map(|c| (c.lon(), c.lat())).unzip();
            sqlx::query_scalar(
                "UPDATE geofences SET name = $3, vehicle_plates = $4, \
                 geom = CASE WHEN $5::text IS NOT NULL \
                             THEN ST_SetSRID(ST_GeomFromGeoJSON($5), 4326) \
                             ELSE ST_Buffer(ST_SetSRID(ST_MakePoint($6, $7), 4326)::geography, \
                                            $8)::geometry END, \
                 version = version + 1 WHERE id = $1 AND version = $2 RETURNING version",
            )
            .bind(id)
            .bind(version)
            .bind(g.name.as_str())
            .bind(&plates)
            .bind(g.geometry.as_ref().map(|v| v.to_string()))
            .bind(lon)
            .bind(lat)
            .bind(g.radius_m)
            .fetch_optional(conn)
            .await?
        }
    };
    Ok(returned)
}

/// Changes a record at `version` and keeps the revision (`changes`, by `by`) in one
/// transaction: the new version, or `None` when the record is no longer at `version`.
/// Who makes an edit, why (kept in the revision) and the proposal it approves (marked approved
/// in the same transaction; one decided already refuses the whole edit).
#[derive(Debug, Clone, Copy)]
pub struct EditContext<'a> {
    pub by: &'a str,
    pub reason: Option<&'a str>,
    pub proposal: Option<i64>,
}

pub async fn save(
    pool: &PgPool,
    kind: RecordKind,
    key: &str,
    edited: &Edited,
    version: i64,
    changes: &Map<String, Value>,
    context: EditContext<'_>,
) -> Result<Option<i64>, WriteError> {
    let by = context.by;
    if let Edited::Geofence(_, g) = edited {
        super::registry::check_geofence(pool, g).await?;
    }
    let mut tx = pool
        .begin()
        .await
        .context("beginning an edit")
        .map_err(WriteError::Other)?;
    let Some(new_version) = update(&mut tx, edited, version).await? else {
        return Ok(None);
    };
    let revision = NewRevision {
        kind: kind.collection(),
        key,
        version: new_version,
        by,
        reason: context.reason,
        changes,
    };
    revisions::record(&mut tx, &revision)
        .await
        .map_err(WriteError::Other)?;
    if let Some(id) = context.proposal {
        if !super::proposals::mark_approved(&mut tx, id, by, context.reason, new_version)
            .await
            .map_err(WriteError::Other)?
        {
            return Err(WriteError::Invalid(shared::ErrorDetail::new(
                shared::ErrorCode::InvalidTransition,
                "the proposal was decided already",
            )));
        }
    }
    tx.commit()
        .await
        .context("committing an edit")
        .map_err(WriteError::Other)?;
    Ok(Some(new_version))
}
