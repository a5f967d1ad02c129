//! The record lists behind the figures: cylinders, filling records, decisions, history rows
//! and customers, each in the figure's scope and window.

use super::classify::{classified, Classify, CLASSIFIED};
use super::{SITE_CODE, SITE_KIND};
use crate::access::Scope;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::cylinder::{Compliance, Custody};
use shared::filling::FillingFlag;
use shared::history::{HistoryKind, HistoryOp};
use shared::ids::{
    CustomerCode, CylinderCode, DistrictCode, EnterpriseCode, StaffNo, StationCode, TagId,
};
use shared::medium::Medium;
use shared::place::PlaceKind;
use shared::VehiclePlate;
use sqlx::PgPool;

/// One cylinder of a list behind a figure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub code: CylinderCode,
    pub medium: Medium,
    pub custody: Custody,
    pub compliance: Compliance,
    pub owner: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub place_kind: Option<PlaceKind>,
    pub place_code: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Filters of a list; empty lists mean any.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub medium: Option<String>,
    pub custody: Vec<String>,
    pub compliance: Vec<String>,
    /// With (true) or without (false) usage registration.
    pub registered: Option<bool>,
    /// Tag read in the field at least once (true) or never (false).
    pub seen: Option<bool>,
}

/// The cylinders within `scope` (and at `station`) that pass `filter`, by code after `after`.
pub async fn list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    c: Classify,
    filter: &ListFilter,
    after: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<Listed>> {
    let sql = format!(
        "WITH s AS ({CLASSIFIED}) \
         SELECT code, medium, custody, compliance, owner, district_code, place_kind, place_code, \
                last_seen_at \
         FROM s WHERE ($7::text IS NULL OR medium = $7) \
           AND (cardinality($8::text[]) = 0 OR custody = ANY($8)) \
           AND (cardinality($9::text[]) = 0 OR compliance = ANY($9)) \
           AND ($10::text IS NULL OR code > $10) \
           AND ($12::boolean IS NULL OR registered = $12) \
           AND ($13::boolean IS NULL OR seen = $13) \
         ORDER BY code LIMIT $11"
    );
    classified(&sql, scope, station, c)
        .bind(&filter.medium)
        .bind(&filter.custody)
        .bind(&filter.compliance)
        .bind(after)
        .bind(limit)
        .bind(filter.registered)
        .bind(filter.seen)
        .fetch_all(pool)
        .await
        .context("listing cylinders")
}

/// The stations within `scope` (and `station`, if given), as a SQL fragment binding `$1`
/// enterprise, `$2` district, `$3` station.
const STATIONS_IN_SCOPE: &str = "SELECT s.code FROM stations s \
    JOIN enterprises e ON e.code = s.enterprise_code \
    WHERE ($1::text IS NULL OR s.enterprise_code = $1) \
      AND ($2::text IS NULL OR coalesce(s.district_code, e.district_code) = $2) \
      AND ($3::text IS NULL OR s.code = $3)";

/// Filters of a list of filling records (window on `ended_at`, like the figures).
#[derive(Debug, Clone, Default)]
pub struct FillingFilter {
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// With flags (true) or without (false).
    pub flagged: Option<bool>,
    /// Later than `late_s` (true) or not (false).
    pub late: Option<bool>,
    pub late_s: f64,
}

/// Filling records at the stations within `scope`, newest end first, after the cursor
/// `(ended_at, id)`.
pub async fn filling_list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    filter: &FillingFilter,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::FillingItem>> {
    let rows: Vec<FillingRow> = sqlx::query_as(&format!(
        "SELECT f.id, f.station_code, f.gun_no, c.code AS cylinder_code, f.staff_no, \
                f.started_at, f.ended_at, f.received_at, f.late_s, f.mass_before_kg, \
                f.mass_after_kg, f.flags, f.decision_id \
         FROM fillings f JOIN cylinders c ON c.id = f.cylinder_id \
         WHERE f.station_code IN ({STATIONS_IN_SCOPE}) \
           AND ($4::timestamptz IS NULL OR f.ended_at >= $4) \
           AND ($5::timestamptz IS NULL OR f.ended_at < $5) \
           AND ($6::boolean IS NULL OR (cardinality(f.flags) > 0) = $6) \
           AND ($7::boolean IS NULL OR (f.late_s > $8) = $7) \
           AND ($9::timestamptz IS NULL OR (f.ended_at, f.id) < ($9, $10)) \
         ORDER BY f.ended_at DESC, f.id DESC LIMIT $11"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(filter.window.map(|w| w.0))
    .bind(filter.window.map(|w| w.1))
    .bind(filter.flagged)
    .bind(filter.late)
    .bind(filter.late_s)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing fillings")?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(sqlx::FromRow)]
struct FillingRow {
    id: uuid::Uuid,
    station_code: StationCode,
    gun_no: String,
    cylinder_code: CylinderCode,
    staff_no: StaffNo,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    late_s: f64,
    mass_before_kg: f64,
    mass_after_kg: f64,
    flags: Vec<FillingFlag>,
    decision_id: Option<uuid::Uuid>,
}

impl From<FillingRow> for shared::stats::FillingItem {
    fn from(r: FillingRow) -> Self {
        Self {
            id: r.id,
            station_code: r.station_code,
            gun_no: r.gun_no,
            cylinder_code: r.cylinder_code,
            staff_no: r.staff_no,
            started_at: r.started_at,
            ended_at: r.ended_at,
            received_at: r.received_at,
            late_s: r.late_s,
            mass_before_kg: r.mass_before_kg,
            mass_after_kg: r.mass_after_kg,
            flags: r.flags.iter().map(|f| f.name().to_owned()).collect(),
            decision_id: r.decision_id,
        }
    }
}

/// Filters of a list of decisions (window on `decided_at`).
#[derive(Debug, Clone, Default)]
pub struct DecisionFilter {
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub allowed: Option<bool>,
    /// Refused by this rule (among others).
    pub rule: Option<String>,
}

/// Decisions at the stations within `scope`, newest first, after the cursor
/// `(decided_at, id)`.
pub async fn decision_list(
    pool: &PgPool,
    scope: &Scope,
    station: Option<&str>,
    filter: &DecisionFilter,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> anyhow::Result<Vec<shared::stats::DecisionItem>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: uuid::Uuid,
        decided_at: DateTime<Utc>,
        station_code: StationCode,
        gun_no: String,
        cylinder_code: Option<CylinderCode>,
        tag_id: Option<TagId>,
        medium: Medium,
        staff_no: StaffNo,
        allowed: bool,
        rules: Vec<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT d.id, d.decided_at, d.station_code, d.gun_no, d.cylinder_code, d.tag_id, \
                d.medium, d.staff_no, d.allowed, \
                ARRAY(SELECT r->>'rule' FROM jsonb_array_elements(d.reasons) r) AS rules \
         FROM filling_decisions d \
         WHERE d.station_code IN ({STATIONS_IN_SCOPE}) \
           AND ($4::timestamptz IS NULL OR d.decided_at >= $4) \
           AND ($5::timestamptz IS NULL OR d.decided_at < $5) \
           AND ($6::boolean IS NULL OR d.allowed = $6) \
           AND ($7::text IS NULL OR d.reasons @> jsonb_build_array(jsonb_build_object('rule', $7::text))) \
           AND ($8::timestamptz IS NULL OR (d.decided_at, d.id) < ($8, $9)) \
         ORDER BY d.decided_at DESC, d.id DESC LIMIT $10"
    ))
    .bind(scope.enterprise())
    .bind(scope.district())
    .bind(station)
    .bind(filter.window.map(|w| w.0))
    .bind(filter.window.map(|w| w.1))
    .bind(filter.allowed)
    .bind(&filter.rule)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing decisions")?;
    Ok(rows
        .into_iter()
        .map(|r| shared::stats::DecisionItem {
            id: r.id,
            decided_at: r.decided_at,
            station_code: r.station_code,
            gun_no: r.gun_no,
            cylinder_code: r.cylinder_code,
            tag_id: r.tag_id,
            medium: r.medium.into(),
            staff_no: r.staff_no,
            allowed: r.allowed,
            rules: r.rules,
        })
        .collect())
}

/// Filters of a history list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// On `occurred_at`.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub kind: Option<HistoryKind>,
    /// An operation that exists (`HistoryOp::known_op`).
    pub op: Option<&'static str>,
    /// Collected empty or returned to a station after this row (true) or not (false): the
    /// recovery figure's test.
    pub recovered: Option<bool>,
    /// Moves from one site to the next within the window, as the flows count them:
    /// ((kind, code) before, (kind, code) after).
    pub moved: Option<((PlaceKind, String), (PlaceKind, String))>,
}

/// The cursor of a history list: (occurred_at, event, cylinder id).
pub type HistoryCursor = (DateTime<Utc>, uuid::Uuid, i64);

/// History rows of the cylinders owned within `scope` (an enterprise: in the periods it owned
/// them), newest first, after the cursor.
pub async fn history_list(
    pool: &PgPool,
    scope: &Scope,
    filter: &HistoryFilter,
    after: Option<HistoryCursor>,
    limit: i64,
) -> anyhow::Result<Vec<(i64, shared::stats::HistoryItem)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        cylinder_id: i64,
        cylinder_code: CylinderCode,
        event_id: uuid::Uuid,
        #[sqlx(flatten)]
        op: HistoryOp,
        occurred_at: DateTime<Utc>,
        station_code: Option<StationCode>,
        customer_code: Option<CustomerCode>,
        to_station_code: Option<StationCode>,
        vehicle_plate: Option<VehiclePlate>,
        staff_no: Option<StaffNo>,
    }
    // An enterprise's rows are those of its current period of each cylinder it owns, and of
    // its earlier periods of cylinders it transferred away (`ownership_periods`).
    let columns = format!(
        "ce.cylinder_id, c.code AS cylinder_code, ce.event_id, ce.kind, ce.op, \
         ce.occurred_at, ce.station_code, ce.customer_code, ce.to_station_code, \
         ce.vehicle_plate, ce.staff_no, {SITE_KIND} AS site_kind, {SITE_CODE} AS site_code"
    );
    let window = "($3::timestamptz IS NULL OR ce.occurred_at >= $3) \
                  AND ($4::timestamptz IS NULL OR ce.occurred_at < $4)";
    let rows_in_scope = format!(
        "SELECT {columns} \
         FROM cylinder_events ce \
         JOIN cylinders c ON c.id = ce.cylinder_id \
         JOIN enterprises e ON e.code = c.owner_enterprise_code \
         WHERE ($1::text IS NULL OR (c.owner_enterprise_code = $1 \
                AND (c.owned_since IS NULL OR ce.occurred_at >= c.owned_since))) \
           AND ($2::text IS NULL OR e.district_code = $2) AND {window} \
         UNION ALL \
         SELECT {columns} \
         FROM ownership_periods op \
         JOIN cylinder_events ce ON ce.cylinder_id = op.cylinder_id \
              AND ce.occurred_at < op.until \
              AND (op.since IS NULL OR ce.occurred_at >= op.since) \
         JOIN cylinders c ON c.id = ce.cylinder_id \
         JOIN enterprises e ON e.code = op.enterprise_code \
         WHERE op.enterprise_code = $1 AND ($2::text IS NULL OR e.district_code = $2) \
           AND {window}"
    );
    // Moves need each row's predecessor among the window's rows that name a site.
    let source = if filter.moved.is_some() {
        format!(
            "(SELECT h.*, lag(site_kind) OVER w AS prev_kind, lag(site_code) OVER w AS prev_code \
              FROM (SELECT * FROM ({rows_in_scope}) r WHERE r.site_code IS NOT NULL) h \
              WINDOW w AS (PARTITION BY cylinder_id ORDER BY occurred_at, event_id))"
        )
    } else {
        format!("(SELECT h.*, NULL::text AS prev_kind, NULL::text AS prev_code FROM ({rows_in_scope}) h)")
    };
    let sql = format!(
        "SELECT cylinder_id, cylinder_code, event_id, kind, op, occurred_at, station_code, \
                customer_code, to_station_code, vehicle_plate, staff_no \
         FROM {source} x \
         WHERE ($5::text IS NULL OR kind = $5) AND ($6::text IS NULL OR op = $6) \
           AND ($7::boolean IS NULL OR EXISTS ( \
                   SELECT 1 FROM cylinder_events r \
                   WHERE r.cylinder_id = x.cylinder_id AND r.occurred_at > x.occurred_at \
                     AND r.kind = 'scan' AND r.op IN ('collect_empty', 'return_in')) = $7) \
           AND ($8::text IS NULL OR (prev_kind = $8 AND prev_code = $9 \
                                     AND site_kind = $10 AND site_code = $11 \
                                     AND (prev_kind, prev_code) <> (site_kind, site_code))) \
           AND ($12::timestamptz IS NULL \
                OR (occurred_at, event_id, cylinder_id) < ($12, $13, $14)) \
         ORDER BY occurred_at DESC, event_id DESC, cylinder_id DESC LIMIT $15"
    );
    let moved = filter.moved.as_ref();
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(scope.enterprise())
        .bind(scope.district())
        .bind(filter.window.map(|w| w.0))
        .bind(filter.window.map(|w| w.1))
        .bind(filter.kind)
        .bind(filter.op)
        .bind(filter.recovered)
        .bind(moved.map(|m| m.0 .0))
        .bind(moved.map(|m| m.0 .1.as_str()))
        .bind(moved.map(|m| m.1 .0))
        .bind(moved.map(|m| m.1 .1.as_str()))
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(after.map(|a| a.2))
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("listing history")?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.cylinder_id,
                shared::stats::HistoryItem {
                    cylinder_code: r.cylinder_code,
                    event_id: r.event_id,
                    kind: r.op.kind().name().to_owned(),
                    op: Some(r.op.op().to_owned()),
                    occurred_at: r.occurred_at,
                    station_code: r.station_code,
                    customer_code: r.customer_code,
                    to_station_code: r.to_station_code,
                    vehicle_plate: r.vehicle_plate,
                    staff_no: r.staff_no,
                },
            )
        })
        .collect())
}
