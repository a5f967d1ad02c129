//! Cylinder archives: bulk insert (all or nothing), lookup with their state, export.

use super::WriteError;
use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use shared::auth::RecordStatus;
use shared::cylinder::Custody;
use shared::ids::{CylinderCode, EnterpriseCode, StationCode, TagId};
use shared::medium::Medium;
use shared::place::PlaceKind;
use shared::registry::{CylinderArchive, RowError};
use shared::ErrorCode;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

/// Checks archives against each other and the registry: codes and tags unique (within the
/// batch and against every cylinder ever archived; a scrapped cylinder's tag is void), owner
/// (within `scope`) and station known, the station the owner's. Returns one error per bad item
/// (`row` is the item's index in `archives`).
pub async fn conflicts(
    pool: &PgPool,
    archives: &[(usize, CylinderArchive)],
    scope: &Scope,
) -> anyhow::Result<Vec<RowError>> {
    let mut errors = Vec::new();
    let error = |row: usize, column: &str, code: ErrorCode, reason: String| RowError {
        row,
        column: Some(column.to_owned()),
        code,
        reason,
    };
    let codes: Vec<&str> = archives.iter().map(|(_, a)| a.code.as_str()).collect();
    let tags: Vec<&str> = archives.iter().map(|(_, a)| a.tag_id.as_str()).collect();
    let taken_codes: HashSet<String> =
        sqlx::query_scalar("SELECT code FROM cylinders WHERE code = ANY($1)")
            .bind(&codes)
            .fetch_all(pool)
            .await
            .context("checking cylinder codes")?
            .into_iter()
            .collect();
    // The cylinder holding a tag is named only to whom it is in scope.
    let taken_tags: HashMap<String, (Option<String>, bool)> =
        sqlx::query_as::<_, (String, String, bool, String, Option<String>)>(
            "SELECT c.tag_id, c.code, coalesce(s.custody = 'scrapped', false), \
             c.owner_enterprise_code, e.district_code \
             FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id \
             LEFT JOIN enterprises e ON e.code = c.owner_enterprise_code \
             WHERE c.tag_id = ANY($1)",
        )
        .bind(&tags)
        .fetch_all(pool)
        .await
        .context("checking tag ids")?
        .into_iter()
        .map(|(tag, code, scrapped, owner, district)| {
            let visible = scope.admits(Some(&owner), district.as_deref());
            (tag, (visible.then_some(code), scrapped))
        })
        .collect();
    // A replaced tag is void for ever, like a scrapped cylinder's.
    let void_tags = super::lifecycle::void_tags(pool, &tags, scope).await?;
    // Each station's owner and status (a suspended or closed one gets no new cylinders).
    let stations: HashMap<String, (String, RecordStatus)> =
        sqlx::query_as::<_, (String, String, RecordStatus)>(
            "SELECT code, enterprise_code, status FROM stations WHERE code = ANY($1)",
        )
        .bind(
            archives
                .iter()
                .map(|(_, a)| a.station_code.as_str())
                .collect::<Vec<_>>(),
        )
        .fetch_all(pool)
        .await
        .context("checking stations")?
        .into_iter()
        .map(|(code, owner, status)| (code, (owner, status)))
        .collect();
    let enterprises: HashMap<String, RecordStatus> = sqlx::query_as(
        "SELECT code, status FROM enterprises WHERE code = ANY($1) \
         AND ($2::text IS NULL OR code = $2) AND ($3::text IS NULL OR district_code = $3)",
    )
    .bind(
        archives
            .iter()
            .map(|(_, a)| a.owner_enterprise_code.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_all(pool)
    .await
    .context("checking enterprises")?
    .into_iter()
    .collect();

    let mut seen_codes: HashMap<&str, usize> = HashMap::new();
    let mut seen_tags: HashMap<&str, usize> = HashMap::new();
    for (row, a) in archives {
        let (row, code, tag) = (*row, a.code.as_str(), a.tag_id.as_str());
        if taken_codes.contains(code) {
            errors.push(error(
                row,
                "code",
                ErrorCode::AlreadyExists,
                format!("cylinder {code} is already registered"),
            ));
        } else if let Some(first) = seen_codes.insert(code, row) {
            errors.push(error(
                row,
                "code",
                ErrorCode::AlreadyExists,
                format!("cylinder {code} appears twice (also row {first})"),
            ));
        } else if let Some(holder) = void_tags.get(tag) {
            let on = holder
                .as_ref()
                .map(|h| format!(" of cylinder {h}"))
                .unwrap_or_default();
            errors.push(error(
                row,
                "tag_id",
                ErrorCode::TagVoid,
                format!("tag {tag} was replaced{on} and is void for ever"),
            ));
        } else if let Some((holder, scrapped)) = taken_tags.get(tag) {
            let (code, why) = match (holder, *scrapped) {
                (Some(holder), true) => (
                    ErrorCode::TagVoid,
                    format!(
                        "tag {tag} belonged to scrapped cylinder {holder} and is void for ever"
                    ),
                ),
                (None, true) => (
                    ErrorCode::TagVoid,
                    format!("tag {tag} belonged to a scrapped cylinder and is void for ever"),
                ),
                (Some(holder), false) => (
                    ErrorCode::AlreadyExists,
                    format!("tag {tag} is bound to cylinder {holder}"),
                ),
                (None, false) => (
                    ErrorCode::AlreadyExists,
                    format!("tag {tag} is already registered"),
                ),
            };
            errors.push(error(row, "tag_id", code, why));
        } else if let Some(first) = seen_tags.insert(tag, row) {
            errors.push(error(
                row,
                "tag_id",
                ErrorCode::AlreadyExists,
                format!("tag {tag} appears twice (also row {first})"),
            ));
        } else if let Some(status) = enterprises
            .get(a.owner_enterprise_code.as_str())
            .filter(|s| **s != RecordStatus::Active)
        {
            errors.push(error(
                row,
                "owner_enterprise_code",
                ErrorCode::RecordInactive,
                format!(
                    "enterprise {} is {}: it gets no new cylinders",
                    a.owner_enterprise_code,
                    status.name()
                ),
            ));
        } else if !enterprises.contains_key(a.owner_enterprise_code.as_str()) {
            errors.push(error(
                row,
                "owner_enterprise_code",
                ErrorCode::UnknownReference,
                format!("no enterprise {}", a.owner_enterprise_code),
            ));
        } else {
            // Another enterprise's station answers as no station: its owner is not named.
            let station = stations.get(a.station_code.as_str());
            if station.map(|(owner, _)| owner.as_str()) != Some(a.owner_enterprise_code.as_str()) {
                errors.push(error(
                    row,
                    "station_code",
                    ErrorCode::UnknownReference,
                    format!(
                        "{} has no station {}",
                        a.owner_enterprise_code, a.station_code
                    ),
                ));
            } else if let Some((_, status)) = station.filter(|(_, s)| *s != RecordStatus::Active) {
                errors.push(error(
                    row,
                    "station_code",
                    ErrorCode::RecordInactive,
                    format!(
                        "station {} is {}: it gets no new cylinders",
                        a.station_code,
                        status.name()
                    ),
                ));
            }
        }
    }
    Ok(errors)
}

/// Inserts archives in one statement and one transaction: all or none. An owner outside
/// `scope` writes nothing and answers as a reference to nothing.
pub async fn insert(
    pool: &PgPool,
    archives: &[CylinderArchive],
    scope: &Scope,
) -> Result<u64, WriteError> {
    macro_rules! column {
        ($f:expr) => {
            archives.iter().map($f).collect::<Vec<_>>()
        };
    }
    let text = |t: &Option<shared::registry::Text>| t.as_ref().map(|t| t.as_str().to_owned());
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| WriteError::Other(e.into()))?;
    let result = sqlx::query(
        r#"
        INSERT INTO cylinders (code, tag_id, medium, tare_kg, volume_l, working_pressure_mpa,
            test_pressure_mpa, wall_thickness_mm, max_fill_kg, design_life_years, manufacturer,
            manufactured_on, product_standard, manufacture_licence_no, last_inspected_on,
            next_inspection_on, registration_no, registered_on, registration_authority,
            owner_enterprise_code, station_code, serial_no, production_batch)
        SELECT t.code, t.tag_id, t.medium, t.tare_kg, t.volume_l, t.working_pressure_mpa,
               t.test_pressure_mpa, t.wall_thickness_mm, t.max_fill_kg, t.design_life_years,
               t.manufacturer, t.manufactured_on, t.product_standard, t.manufacture_licence_no,
               t.last_inspected_on, t.next_inspection_on, t.registration_no, t.registered_on,
               t.registration_authority, t.owner_enterprise_code, t.station_code,
               t.serial_no, t.production_batch
        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[],
            $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::int4[], $11::text[],
            $12::date[], $13::text[], $14::text[], $15::date[], $16::date[], $17::text[],
            $18::date[], $19::text[], $20::text[], $21::text[], $24::text[],
            $25::text[]) WITH ORDINALITY
            AS t(code, tag_id, medium, tare_kg, volume_l, working_pressure_mpa,
                 test_pressure_mpa, wall_thickness_mm, max_fill_kg, design_life_years,
                 manufacturer, manufactured_on, product_standard, manufacture_licence_no,
                 last_inspected_on, next_inspection_on, registration_no, registered_on,
                 registration_authority, owner_enterprise_code, station_code, serial_no,
                 production_batch, ord)
        WHERE EXISTS (SELECT 1 FROM enterprises x WHERE x.code = t.owner_enterprise_code
                      AND ($22::text IS NULL OR x.code = $22)
                      AND ($23::text IS NULL OR x.district_code = $23))
        -- Ids (the export's order) follow the input's order.
        ORDER BY t.ord
        "#,
    )
    .bind(column!(|a| a.code.as_str()))
    .bind(column!(|a| a.tag_id.as_str()))
    .bind(column!(|a| a.medium.code()))
    .bind(column!(|a| a.tare_kg))
    .bind(column!(|a| a.volume_l))
    .bind(column!(|a| a.working_pressure_mpa))
    .bind(column!(|a| a.test_pressure_mpa))
    .bind(column!(|a| a.wall_thickness_mm))
    .bind(column!(|a| a.max_fill_kg))
    .bind(column!(|a| i32::from(a.design_life_years)))
    .bind(column!(|a| a.manufacturer.as_str()))
    .bind(column!(|a| a.manufactured_on))
    .bind(column!(|a| a.product_standard.as_str()))
    .bind(column!(|a| a.manufacture_licence_no.as_str()))
    .bind(column!(|a| a.last_inspected_on))
    .bind(column!(|a| a.next_inspection_on))
    .bind(column!(|a| text(&a.registration_no)))
    .bind(column!(|a| a.registered_on))
    .bind(column!(|a| text(&a.registration_authority)))
    .bind(column!(|a| a.owner_enterprise_code.as_str()))
    .bind(column!(|a| a.station_code.as_str()))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(column!(|a| text(&a.serial_no)))
    .bind(column!(|a| text(&a.production_batch)))
    .execute(&mut *tx)
    .await?;
    let written = result.rows_affected();
    if usize::try_from(written).ok() != Some(archives.len()) {
        // Dropping the transaction rolls the partial insert back.
        return Err(WriteError::MissingReference(
            "cylinders_owner_enterprise_code_fkey".into(),
        ));
    }
    tx.commit().await.map_err(|e| WriteError::Other(e.into()))?;
    Ok(written)
}

/// An archive as stored, with its current state (what the pipeline derived) joined in.
#[derive(Debug, sqlx::FromRow)]
pub struct CylinderRecord {
    pub id: i64,
    pub code: CylinderCode,
    pub tag_id: TagId,
    pub medium: Medium,
    pub tare_kg: f64,
    pub volume_l: f64,
    pub working_pressure_mpa: f64,
    pub test_pressure_mpa: f64,
    pub wall_thickness_mm: f64,
    pub max_fill_kg: f64,
    pub design_life_years: i32,
    pub manufacturer: String,
    pub manufactured_on: NaiveDate,
    pub product_standard: String,
    pub manufacture_licence_no: String,
    /// The newest passed inspection's date when there is one, else the archive's.
    pub last_inspected_on: NaiveDate,
    pub next_inspection_on: NaiveDate,
    pub registration_no: Option<String>,
    pub registered_on: Option<NaiveDate>,
    pub registration_authority: Option<String>,
    pub owner_enterprise_code: EnterpriseCode,
    pub station_code: StationCode,
    pub serial_no: Option<String>,
    pub production_batch: Option<String>,
    pub owner_name: Option<String>,
    pub station_name: Option<String>,
    pub custody: Option<Custody>,
    pub place_kind: Option<PlaceKind>,
    pub place_code: Option<String>,
    pub place_name: Option<String>,
    /// The enterprise of the customer it is at, when it is at a customer.
    pub place_enterprise: Option<String>,
    pub at_owner_site: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_filled_at: Option<DateTime<Utc>>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub flagged: Option<i32>,
    pub scrapped_at: Option<DateTime<Utc>>,
    /// The record's version (its ETag).
    pub version: i64,
}

impl CylinderRecord {
    /// The archive part, parsed back into its wire type.
    pub fn archive(&self) -> anyhow::Result<CylinderArchive> {
        let json = serde_json::json!({
            "code": self.code, "tag_id": self.tag_id, "medium": self.medium,
            "tare_kg": self.tare_kg, "volume_l": self.volume_l,
            "working_pressure_mpa": self.working_pressure_mpa,
            "test_pressure_mpa": self.test_pressure_mpa,
            "wall_thickness_mm": self.wall_thickness_mm, "max_fill_kg": self.max_fill_kg,
            "design_life_years": self.design_life_years, "manufacturer": self.manufacturer,
            "manufactured_on": self.manufactured_on, "product_standard": self.product_standard,
            "manufacture_licence_no": self.manufacture_licence_no,
            "last_inspected_on": self.last_inspected_on,
            "next_inspection_on": self.next_inspection_on,
            "registration_no": self.registration_no, "registered_on": self.registered_on,
            "registration_authority": self.registration_authority,
            "owner_enterprise_code": self.owner_enterprise_code,
            "station_code": self.station_code,
            "serial_no": self.serial_no, "production_batch": self.production_batch,
        });
        shared::registry::parse(json)
            .map_err(|e| anyhow::anyhow!("stored cylinder {}: {}", self.code, e.message))
    }
}

const RECORD_SELECT: &str = r#"
    SELECT c.id, c.code, c.tag_id, c.medium, c.tare_kg, c.volume_l, c.working_pressure_mpa,
           c.test_pressure_mpa, c.wall_thickness_mm, c.max_fill_kg, c.design_life_years,
           c.manufacturer, c.manufactured_on, c.product_standard, c.manufacture_licence_no,
           coalesce(s.last_inspected_on, c.last_inspected_on) AS last_inspected_on,
           coalesce(s.next_inspection_on, c.next_inspection_on) AS next_inspection_on,
           c.registration_no, c.registered_on, c.registration_authority,
           c.owner_enterprise_code, c.station_code, c.serial_no, c.production_batch,
           e.name AS owner_name, st.name AS station_name,
           s.custody, s.place_kind, s.place_code,
           coalesce(ps.name, pc.name, s.place_code) AS place_name,
           pc.enterprise_code AS place_enterprise,
           CASE WHEN s.cylinder_id IS NULL THEN true
                ELSE coalesce(s.place_kind = 'station' AND ps.enterprise_code = c.owner_enterprise_code
                              AND s.custody IN ('in_stock_empty', 'in_stock_full'), false)
           END AS at_owner_site,
           s.last_seen_at, s.last_filled_at, ST_X(s.location) AS lon, ST_Y(s.location) AS lat,
           s.flagged, s.scrapped_at, c.version
    FROM cylinders c
    LEFT JOIN cylinder_state s ON s.cylinder_id = c.id
    LEFT JOIN enterprises e ON e.code = c.owner_enterprise_code
    LEFT JOIN stations st ON st.code = c.station_code
    LEFT JOIN stations ps ON s.place_kind = 'station' AND ps.code = s.place_code
    LEFT JOIN customers pc ON s.place_kind = 'customer' AND pc.code = s.place_code
"#;

/// The scope predicate of `RECORD_SELECT` queries, with the enterprise and district bound as
/// parameters `$e` and `$d`.
fn in_scope(e: usize, d: usize) -> String {
    format!(
        "AND (${e}::text IS NULL OR c.owner_enterprise_code = ${e}) \
         AND (${d}::text IS NULL OR e.district_code = ${d})"
    )
}

/// A cylinder by code or by tag id, within `scope`.
pub async fn record(
    pool: &PgPool,
    code: Option<&str>,
    tag_id: Option<&str>,
    scope: &Scope,
) -> anyhow::Result<Option<CylinderRecord>> {
    let sql = format!(
        "{RECORD_SELECT} WHERE (($1::text IS NOT NULL AND c.code = $1) \
         OR ($2::text IS NOT NULL AND c.tag_id = $2)) {}",
        in_scope(3, 4)
    );
    sqlx::query_as(&sql)
        .bind(code)
        .bind(tag_id)
        .bind(scope.enterprise())
        .bind(scope.district())
        .fetch_optional(pool)
        .await
        .context("reading a cylinder")
}

/// Archives in export order (by id), `limit` after `after_id`, optionally of one owner,
/// within `scope`.
pub async fn page_for_export(
    pool: &PgPool,
    enterprise_code: Option<&EnterpriseCode>,
    after_id: i64,
    limit: i64,
    scope: &Scope,
) -> anyhow::Result<Vec<CylinderRecord>> {
    let sql = format!(
        "{RECORD_SELECT} WHERE c.id > $1 AND ($2::text IS NULL OR c.owner_enterprise_code = $2) \
         {} ORDER BY c.id LIMIT $5",
        in_scope(3, 4)
    );
    sqlx::query_as(&sql)
        .bind(after_id)
        .bind(enterprise_code)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("reading cylinders for export")
}

/// Whether an enterprise exists within `scope`.
pub async fn enterprise_exists(pool: &PgPool, code: &str, scope: &Scope) -> anyhow::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM enterprises WHERE code = $1 \
         AND ($2::text IS NULL OR code = $2) AND ($3::text IS NULL OR district_code = $3))",
    )
    .bind(code)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_one(pool)
    .await
    .context("checking an enterprise")
}
