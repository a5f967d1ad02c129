//! What a filling decision reads, and the decisions and filling records it writes.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use shared::filling::FillingFlag;
use shared::ids::{
    CylinderCode, DeviceId, DistrictCode, EnterpriseCode, StaffNo, StationCode, TagId,
};
use shared::medium::Medium;
use sqlx::{PgConnection, PgPool};
use std::sync::LazyLock;
use uuid::Uuid;

/// The station's enterprise and its licences, or `None` for no such station; its name,
/// district (its own, else its enterprise's) and place for the alerts it raises.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StationRow {
    pub enterprise_code: EnterpriseCode,
    pub filling_licence_expires: Option<NaiveDate>,
    /// The filling licence's first day (R01) and the media it covers (R15).
    pub filling_licence_valid_from: Option<NaiveDate>,
    pub licensed_media: Vec<String>,
    pub gas_licence_expires: Option<NaiveDate>,
    /// The enterprise's and the station's status (R13).
    pub enterprise_status: shared::auth::RecordStatus,
    pub station_status: shared::auth::RecordStatus,
    /// The enterprise's staff numbers that are suspended, and closed (R13 for a filler): read
    /// and cached with the station, so the gun asks nothing more per question.
    pub suspended_staff: Vec<String>,
    pub closed_staff: Vec<String>,
    /// The enterprise's filling operator certificates (R14), as three columns: whose, first
    /// day (`0001-01-01` when it has none) and last day. Judged against the day of the
    /// question, so a cached row is right across midnight; a number not here has none.
    pub certified_staff: Vec<String>,
    pub certified_from: Vec<NaiveDate>,
    pub certified_to: Vec<NaiveDate>,
    pub name: String,
    pub district_code: DistrictCode,
    pub lon: f64,
    pub lat: f64,
}

/// A station and its enterprise's licences.
pub async fn station(pool: &PgPool, code: &str) -> anyhow::Result<Option<StationRow>> {
    sqlx::query_as(
        "SELECT s.enterprise_code, e.filling_licence_expires, e.filling_licence_valid_from, \
                e.media AS licensed_media, e.gas_licence_expires, \
                e.status AS enterprise_status, s.status AS station_status, \
                ARRAY(SELECT t.staff_no FROM staff t WHERE t.enterprise_code = s.enterprise_code \
                      AND t.status = 'suspended') AS suspended_staff, \
                ARRAY(SELECT t.staff_no FROM staff t WHERE t.enterprise_code = s.enterprise_code \
                      AND t.status = 'closed') AS closed_staff, \
                ARRAY(SELECT c.staff_no FROM staff_certificates c \
                      WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' \
                      ORDER BY c.staff_no, c.number) AS certified_staff, \
                ARRAY(SELECT coalesce(c.valid_from, DATE '0001-01-01') FROM staff_certificates c \
                      WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' \
                      ORDER BY c.staff_no, c.number) AS certified_from, \
                ARRAY(SELECT c.valid_to FROM staff_certificates c \
                      WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' \
                      ORDER BY c.staff_no, c.number) AS certified_to, s.name, \
                coalesce(s.district_code, e.district_code) AS district_code, \
                ST_X(s.location) AS lon, ST_Y(s.location) AS lat \
         FROM stations s JOIN enterprises e ON e.code = s.enterprise_code WHERE s.code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await
    .context("reading a station's licences")
}

/// A cylinder's facts for the gun.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CylinderRow {
    pub id: i64,
    pub code: CylinderCode,
    pub tag_id: TagId,
    pub medium: Medium,
    pub registration_no: Option<String>,
    pub next_inspection_on: NaiveDate,
    pub manufactured_on: NaiveDate,
    pub design_life_years: i32,
    pub scrapped: bool,
    pub station_code: StationCode,
    /// The enterprise it is registered to: another's cylinder is not known at this gun.
    pub owner_enterprise_code: EnterpriseCode,
    pub tare_kg: f64,
    pub max_fill_kg: f64,
    pub last_filled_at: Option<DateTime<Utc>>,
    pub last_fill_started_at: Option<DateTime<Utc>>,
    pub circulated: bool,
    pub last_pre_check_at: Option<DateTime<Utc>>,
    pub post_checked: bool,
    /// Events about it acknowledged (`202`) and not yet applied (its outbox rows).
    pub pending_events: bool,
    /// Under a recall neither inspected nor cleared (R16).
    pub recalled: bool,
}

/// The facts of the cylinder `c` (its archive and its state row); completed by a `WHERE` on `c`.
macro_rules! cylinder_facts_select {
    () => {
        "SELECT c.id, c.code, c.tag_id, c.medium, c.registration_no, \
                coalesce(s.next_inspection_on, c.next_inspection_on) AS next_inspection_on, \
                c.manufactured_on, c.design_life_years, \
                coalesce(s.custody = 'scrapped', false) AS scrapped, c.station_code, \
                c.owner_enterprise_code, \
                c.tare_kg, c.max_fill_kg, s.last_filled_at, s.last_fill_started_at, \
                coalesce(s.circulated_since_fill, false) AS circulated, s.last_pre_check_at, \
                coalesce(s.post_checked, false) AS post_checked, \
                EXISTS (SELECT 1 FROM event_outbox o WHERE o.cylinder_code = c.code) \
                    AS pending_events, \
                EXISTS (SELECT 1 FROM recall_cylinders r WHERE r.cylinder_id = c.id \
                    AND r.inspected_at IS NULL AND r.cleared_at IS NULL) AS recalled \
         FROM cylinders c LEFT JOIN cylinder_state s ON s.cylinder_id = c.id"
    };
}

/// A cylinder as the gun names it: by code or by tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CylinderKey {
    Code(CylinderCode),
    Tag(TagId),
}

/// The facts of cylinders, in one statement (the group reader's batch): for each key in order,
/// its cylinder or `None`. Its archive and its state row, whose filling facts
/// (`filling_facts`, migration 0014) are written in the same transaction as every history
/// row: primary-key reads as exact as reading the whole history.
pub async fn cylinders(
    conn: &mut PgConnection,
    keys: Vec<CylinderKey>,
) -> anyhow::Result<Vec<Option<CylinderRow>>> {
    // One unique-index lookup per key, whatever the batch's size and the tables' sizes: the
    // generic plan the group reader's connection uses is the right one (OFFSET 0 keeps each
    // lookup a nested loop rather than letting the planner join the keys to whole tables).
    macro_rules! each {
        ($keys:literal, $column:literal) => {
            concat!(
                "SELECT f.* FROM unnest(",
                $keys,
                "::text[]) AS k(v) CROSS JOIN LATERAL (",
                cylinder_facts_select!(),
                " WHERE c.",
                $column,
                " = k.v OFFSET 0) f"
            )
        };
    }
    const BY_CODE: &str = each!("$1", "code");
    const BY_TAG: &str = each!("$1", "tag_id");
    const BY_EITHER: &str = concat!(each!("$1", "code"), " UNION ALL ", each!("$2", "tag_id"));
    // One key (the common case at moderate load) is a plain primary-key read.
    const ONE_CODE: &str = concat!(cylinder_facts_select!(), " WHERE c.code = $1");
    const ONE_TAG: &str = concat!(cylinder_facts_select!(), " WHERE c.tag_id = $1");
    let (mut codes, mut tags) = (Vec::new(), Vec::new());
    for key in &keys {
        match key {
            CylinderKey::Code(c) => codes.push(c.as_str()),
            CylinderKey::Tag(t) => tags.push(t.as_str()),
        }
    }
    // A batch of one kind runs the statement of that kind alone: each part of the statement
    // costs PostgreSQL its executor set-up even when its array is empty.
    let query = match (codes.as_slice(), tags.as_slice()) {
        ([code], []) => sqlx::query_as(ONE_CODE).bind(*code),
        ([], [tag]) => sqlx::query_as(ONE_TAG).bind(*tag),
        (_, []) => sqlx::query_as(BY_CODE).bind(&codes),
        ([], _) => sqlx::query_as(BY_TAG).bind(&tags),
        _ => sqlx::query_as(BY_EITHER).bind(&codes).bind(&tags),
    };
    let rows: Vec<CylinderRow> = query
        .fetch_all(conn)
        .await
        .context("reading cylinders' filling facts")?;
    Ok(keys
        .iter()
        .map(|key| {
            rows.iter()
                .find(|r| match key {
                    CylinderKey::Code(c) => r.code == *c,
                    CylinderKey::Tag(t) => r.tag_id == *t,
                })
                .cloned()
        })
        .collect())
}

/// A decision to keep.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub id: Uuid,
    pub station_code: StationCode,
    pub gun_no: String,
    pub cylinder_code: Option<CylinderCode>,
    pub tag_id: Option<TagId>,
    pub medium: Medium,
    pub staff_no: StaffNo,
    pub device_id: DeviceId,
    pub enterprise_code: EnterpriseCode,
    pub allowed: bool,
    pub reasons: serde_json::Value,
    pub facts: serde_json::Value,
    pub facts_digest: String,
}

/// A decision's columns as `keep_decisions` and `keep_decision` bind them, and their types.
const DECISION_COLUMNS: &str = "id, station_code, gun_no, cylinder_code, tag_id, medium, \
                                staff_no, device_id, enterprise_code, allowed, reasons, facts, \
                                facts_digest";
const DECISION_TYPES: [&str; 13] = [
    "uuid", "text", "text", "text", "text", "text", "text", "text", "text", "bool", "jsonb",
    "jsonb", "text",
];

/// Keeps decisions with their requests' audit records, in one statement (so one transaction
/// and one round trip): a decision is never kept unaudited, nor audited unkept.
pub async fn keep_decisions(
    conn: &mut PgConnection,
    mut rows: Vec<(DecisionRow, super::auth::AuditRow)>,
) -> anyhow::Result<()> {
    static KEEP: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH kept AS (INSERT INTO filling_decisions ({DECISION_COLUMNS}) \
             SELECT * FROM UNNEST({})) {}",
            super::typed_params(1, &DECISION_TYPES, true),
            super::auth::audit_insert(14)
        )
    });
    if rows.len() == 1 {
        if let Some((row, audit)) = rows.pop() {
            return keep_decision(conn, row, audit).await;
        }
    }
    let (mut rows, audits): (Vec<DecisionRow>, Vec<_>) = rows.into_iter().unzip();
    let reasons: Vec<serde_json::Value> = rows.iter_mut().map(|d| d.reasons.take()).collect();
    let facts: Vec<serde_json::Value> = rows.iter_mut().map(|d| d.facts.take()).collect();
    let text = |f: fn(&DecisionRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
    let allowed: Vec<bool> = rows.iter().map(|d| d.allowed).collect();
    let query = sqlx::query(&KEEP)
        .bind(ids)
        .bind(text(|d| Some(d.station_code.to_string())))
        .bind(text(|d| Some(d.gun_no.clone())))
        .bind(text(|d| d.cylinder_code.as_ref().map(ToString::to_string)))
        .bind(text(|d| d.tag_id.as_ref().map(ToString::to_string)))
        .bind(text(|d| Some(d.medium.code().to_owned())))
        .bind(text(|d| Some(d.staff_no.to_string())))
        .bind(text(|d| Some(d.device_id.to_string())))
        .bind(text(|d| Some(d.enterprise_code.to_string())))
        .bind(allowed)
        .bind(reasons)
        .bind(facts)
        .bind(text(|d| Some(d.facts_digest.clone())));
    super::auth::bind_audit(query, audits)
        .execute(conn)
        .await
        .context("keeping filling decisions with their audit records")?;
    Ok(())
}

/// `keep_decisions` for a batch of one (the common case at moderate load): the same rows
/// from one VALUES row each, which costs PostgreSQL less set-up than unnesting 23 arrays.
async fn keep_decision(
    conn: &mut PgConnection,
    d: DecisionRow,
    audit: super::auth::AuditRow,
) -> anyhow::Result<()> {
    static KEEP_ONE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH kept AS (INSERT INTO filling_decisions ({DECISION_COLUMNS}) VALUES ({})) {}",
            super::typed_params(1, &DECISION_TYPES, false),
            super::auth::audit_insert_one(14)
        )
    });
    let query = sqlx::query(&KEEP_ONE)
        .bind(d.id)
        .bind(d.station_code)
        .bind(d.gun_no)
        .bind(d.cylinder_code)
        .bind(d.tag_id)
        .bind(d.medium)
        .bind(d.staff_no)
        .bind(d.device_id)
        .bind(d.enterprise_code)
        .bind(d.allowed)
        .bind(d.reasons)
        .bind(d.facts)
        .bind(d.facts_digest);
    super::auth::bind_audit_one(query, audit)
        .execute(conn)
        .await
        .context("keeping a filling decision with its audit record")?;
    Ok(())
}

/// A decision kept after its answer's deadline had passed (the gun was told `E01`): it is
/// made a refusal, as answered.
pub async fn mark_unsure(
    pool: &PgPool,
    id: Uuid,
    reasons: &serde_json::Value,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE filling_decisions SET allowed = false, reasons = $2 WHERE id = $1")
        .bind(id)
        .bind(reasons)
        .execute(pool)
        .await
        .context("marking a late decision as refused")?;
    Ok(())
}

/// The median mass before filling over the cylinder's last ten filling records (its own
/// historical tare with residue), if it has any.
pub async fn historical_tare(pool: &PgPool, cylinder_id: i64) -> anyhow::Result<Option<f64>> {
    sqlx::query_scalar(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY mass_before_kg) FROM \
         (SELECT mass_before_kg FROM fillings WHERE cylinder_id = $1 \
          ORDER BY ended_at DESC LIMIT 10) recent",
    )
    .bind(cylinder_id)
    .fetch_one(pool)
    .await
    .context("reading a cylinder's historical tare")
}

/// Whether a decision exists and allowed the filling, for `cylinder_code` at `station`.
pub async fn decision(
    pool: &PgPool,
    id: Uuid,
) -> anyhow::Result<Option<(bool, Option<String>, String)>> {
    sqlx::query_as(
        "SELECT allowed, cylinder_code, station_code FROM filling_decisions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("reading a filling decision")
}

/// A filling record to keep.
#[derive(Debug, Clone)]
pub struct FillingRow {
    pub id: Uuid,
    pub decision_id: Option<Uuid>,
    pub cylinder_id: i64,
    pub station_code: StationCode,
    pub licence_no: String,
    pub gun_no: String,
    pub staff_no: StaffNo,
    pub staff_name: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub mass_before_kg: f64,
    pub mass_after_kg: f64,
    pub flags: Vec<FillingFlag>,
    pub late_s: f64,
    pub device_id: DeviceId,
    pub enterprise_code: EnterpriseCode,
}

/// A filling record kept before: its id, flags and lateness.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptFilling {
    pub id: Uuid,
    pub flags: Vec<FillingFlag>,
    pub late_s: f64,
}

/// Keeps a filling record and its line in the cylinder's history (kind `filling`), and replays
/// the cylinder, in one transaction. A record of the same gun, cylinder, start and end kept
/// before (the gun sent it again: its answer was lost) is not kept twice: that one is returned
/// and nothing is written (migration 0066).
pub async fn insert_filling(pool: &PgPool, f: &FillingRow) -> anyhow::Result<Option<KeptFilling>> {
    let mut tx = pool
        .begin()
        .await
        .context("opening a filling transaction")?;
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO fillings (id, decision_id, cylinder_id, station_code, licence_no, gun_no, \
         staff_no, staff_name, started_at, ended_at, received_at, mass_before_kg, mass_after_kg, \
         flags, late_s, device_id, enterprise_code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (cylinder_id, station_code, gun_no, started_at, ended_at) DO NOTHING \
         RETURNING id",
    )
    .bind(f.id)
    .bind(f.decision_id)
    .bind(f.cylinder_id)
    .bind(&f.station_code)
    .bind(&f.licence_no)
    .bind(&f.gun_no)
    .bind(&f.staff_no)
    .bind(&f.staff_name)
    .bind(f.started_at)
    .bind(f.ended_at)
    .bind(f.received_at)
    .bind(f.mass_before_kg)
    .bind(f.mass_after_kg)
    .bind(&f.flags)
    .bind(f.late_s)
    .bind(&f.device_id)
    .bind(&f.enterprise_code)
    .fetch_optional(&mut *tx)
    .await
    .context("keeping a filling record")?;
    if inserted.is_none() {
        let (id, flags, late_s): (Uuid, Vec<String>, f64) = sqlx::query_as(
            "SELECT id, flags, late_s FROM fillings WHERE cylinder_id = $1 AND station_code = $2 \
             AND gun_no = $3 AND started_at = $4 AND ended_at = $5",
        )
        .bind(f.cylinder_id)
        .bind(&f.station_code)
        .bind(&f.gun_no)
        .bind(f.started_at)
        .bind(f.ended_at)
        .fetch_one(&mut *tx)
        .await
        .context("reading the filling record kept before")?;
        // A stored flag that does not decode is an error, never dropped.
        let flags = flags
            .iter()
            .map(|name| {
                FillingFlag::from_name(name)
                    .with_context(|| format!("filling record {id}: unknown flag {name:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(Some(KeptFilling { id, flags, late_s }));
    }
    let mut row = super::custody::NewRow::new(
        f.cylinder_id,
        f.id,
        shared::history::HistoryOp::Filling,
        f.ended_at,
    );
    row.station_code = Some(f.station_code.clone());
    row.staff_no = Some(f.staff_no.clone());
    row.mass_before_kg = Some(f.mass_before_kg);
    row.mass_after_kg = Some(f.mass_after_kg);
    row.details = Some(serde_json::json!({
        "gun_no": f.gun_no, "licence_no": f.licence_no, "staff_name": f.staff_name,
        "started_at": f.started_at, "decision_id": f.decision_id, "flags": f.flags,
        "late_s": f.late_s,
    }));
    super::custody::insert_rows(&mut tx, std::slice::from_ref(&row)).await?;
    super::replay::replay(&mut tx, f.cylinder_id).await?;
    tx.commit().await.context("committing a filling")?;
    Ok(None)
}

/// A station's name within `scope`, or `None`.
pub async fn station_in_scope(
    pool: &PgPool,
    code: &str,
    scope: &crate::access::Scope,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT s.name FROM stations s JOIN enterprises e ON e.code = s.enterprise_code \
         WHERE s.code = $1 AND ($2::text IS NULL OR e.code = $2) \
         AND ($3::text IS NULL OR e.district_code = $3)",
    )
    .bind(code)
    .bind(scope.enterprise())
    .bind(scope.district())
    .fetch_optional(pool)
    .await
    .context("reading a station in scope")
}

/// The day's counts of one station: decisions (allowed, refused, R00), refusals per rule,
/// fillings (flagged, late; max and mean lateness).
#[derive(Debug, sqlx::FromRow)]
pub struct DayCounts {
    pub decisions: i64,
    pub allowed: i64,
    pub illegal_tags: i64,
    pub fillings: i64,
    pub flagged_fillings: i64,
    pub late_records: i64,
    pub max_late_s: Option<f64>,
    pub mean_late_s: Option<f64>,
}

/// Counts of `station` between `from` and `to`.
pub async fn day_counts(
    pool: &PgPool,
    station: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    late_after_s: f64,
) -> anyhow::Result<(DayCounts, Vec<(String, i64)>)> {
    let counts: DayCounts = sqlx::query_as(
        r#"
        SELECT
          (SELECT count(*) FROM filling_decisions d WHERE d.station_code = $1 AND d.decided_at >= $2 AND d.decided_at < $3) AS decisions,
          (SELECT count(*) FROM filling_decisions d WHERE d.station_code = $1 AND d.decided_at >= $2 AND d.decided_at < $3 AND d.allowed) AS allowed,
          (SELECT count(*) FROM filling_decisions d WHERE d.station_code = $1 AND d.decided_at >= $2 AND d.decided_at < $3
              AND d.reasons @> '[{"rule": "R00"}]') AS illegal_tags,
          count(f.id) AS fillings,
          count(f.id) FILTER (WHERE cardinality(f.flags) > 0) AS flagged_fillings,
          count(f.id) FILTER (WHERE f.late_s > $4) AS late_records,
          max(f.late_s) AS max_late_s,
          avg(f.late_s) AS mean_late_s
        FROM fillings f WHERE f.station_code = $1 AND f.received_at >= $2 AND f.received_at < $3
        "#,
    )
    .bind(station)
    .bind(from)
    .bind(to)
    .bind(late_after_s)
    .fetch_one(pool)
    .await
    .context("counting a station's day")?;
    let by_rule: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r->>'rule', count(*) FROM filling_decisions d, jsonb_array_elements(d.reasons) r \
         WHERE d.station_code = $1 AND d.decided_at >= $2 AND d.decided_at < $3 \
         GROUP BY 1 ORDER BY 1",
    )
    .bind(station)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .context("counting refusals by rule")?;
    Ok((counts, by_rule))
}

/// One kept decision.
#[derive(Debug, sqlx::FromRow)]
pub struct DecisionListRow {
    pub id: Uuid,
    pub decided_at: DateTime<Utc>,
    pub gun_no: String,
    pub cylinder_code: Option<CylinderCode>,
    pub tag_id: Option<TagId>,
    pub allowed: bool,
    pub reasons: serde_json::Value,
}

/// The newest `limit` decisions of `station` between `from` and `to`.
pub async fn recent_decisions(
    pool: &PgPool,
    station: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<DecisionListRow>> {
    sqlx::query_as(
        "SELECT id, decided_at, gun_no, cylinder_code, tag_id, allowed, reasons \
         FROM filling_decisions WHERE station_code = $1 AND decided_at >= $2 AND decided_at < $3 \
         ORDER BY decided_at DESC, id DESC LIMIT $4",
    )
    .bind(station)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading recent decisions")
}
