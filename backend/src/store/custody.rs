//! Cylinders' histories (`cylinder_events`) and current state (`cylinder_state`), the vehicle
//! tag sets BLE diffs against, and references nobody knows.

use crate::rules::custody::Place;
use anyhow::Context;
use chrono::{DateTime, Utc};
use shared::cylinder::Custody;
use shared::history::HistoryOp;
use shared::ids::{
    CustomerCode, CylinderCode, DistrictCode, EnterpriseCode, StaffNo, StationCode, TagId,
};
use shared::medium::Medium;
use shared::place::PlaceKind;
use shared::VehiclePlate;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// A cylinder an event named, as the registry knows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Known {
    pub id: i64,
    pub code: CylinderCode,
    pub tag_id: TagId,
    pub owner_enterprise_code: EnterpriseCode,
}

/// The cylinders with these codes or tags.
pub async fn resolve(pool: &PgPool, codes: &[&str], tags: &[&str]) -> anyhow::Result<Vec<Known>> {
    sqlx::query_as(
        "SELECT id, code, tag_id, owner_enterprise_code FROM cylinders \
         WHERE code = ANY($1) OR tag_id = ANY($2)",
    )
    .bind(codes)
    .bind(tags)
    .fetch_all(pool)
    .await
    .context("resolving cylinder references")
}

/// As `resolve`, on a connection (inside a transaction).
pub async fn resolve_with(
    conn: &mut PgConnection,
    codes: &[&str],
    tags: &[&str],
) -> anyhow::Result<Vec<Known>> {
    sqlx::query_as(
        "SELECT id, code, tag_id, owner_enterprise_code FROM cylinders \
         WHERE code = ANY($1) OR tag_id = ANY($2)",
    )
    .bind(codes)
    .bind(tags)
    .fetch_all(&mut *conn)
    .await
    .context("resolving cylinder references")
}

/// A reference an event made that was not applied.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub event_id: Uuid,
    pub ref_kind: &'static str,
    pub ref_value: String,
    pub occurred_at: DateTime<Utc>,
    /// `unknown` (no such cylinder) or `foreign` (another enterprise's cylinder).
    pub reason: &'static str,
    /// The enterprise whose device sent the event.
    pub enterprise_code: Option<EnterpriseCode>,
}

/// Keeps references to cylinders the registry does not know, or that belong to another
/// enterprise than the writer's.
pub async fn insert_unresolved(conn: &mut PgConnection, refs: &[Unresolved]) -> anyhow::Result<()> {
    if refs.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO unresolved_refs (event_id, ref_kind, ref_value, occurred_at, reason, \
         enterprise_code) \
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], \
         $6::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(refs.iter().map(|r| r.event_id).collect::<Vec<_>>())
    .bind(refs.iter().map(|r| r.ref_kind).collect::<Vec<_>>())
    .bind(refs.iter().map(|r| r.ref_value.clone()).collect::<Vec<_>>())
    .bind(refs.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind(refs.iter().map(|r| r.reason).collect::<Vec<_>>())
    .bind(
        refs.iter()
            .map(|r| r.enterprise_code.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await
    .context("keeping unresolved references")?;
    Ok(())
}

/// One history row to add.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub cylinder_id: i64,
    pub event_id: Uuid,
    pub op: HistoryOp,
    pub occurred_at: DateTime<Utc>,
    pub station_code: Option<StationCode>,
    pub customer_code: Option<CustomerCode>,
    pub to_station_code: Option<StationCode>,
    pub vehicle_plate: Option<VehiclePlate>,
    pub staff_no: Option<StaffNo>,
    pub point: Option<(f64, f64)>,
    pub mass_before_kg: Option<f64>,
    pub mass_after_kg: Option<f64>,
    pub details: Option<serde_json::Value>,
}

impl NewRow {
    /// A row of `op` at `occurred_at` naming no site, person or vehicle yet.
    pub fn new(
        cylinder_id: i64,
        event_id: Uuid,
        op: HistoryOp,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        Self {
            cylinder_id,
            event_id,
            op,
            occurred_at,
            station_code: None,
            customer_code: None,
            to_station_code: None,
            vehicle_plate: None,
            staff_no: None,
            point: None,
            mass_before_kg: None,
            mass_after_kg: None,
            details: None,
        }
    }
}

/// Adds history rows (a row already there is left as it is). Where a row has no point of its
/// own it is placed at its site (the station, the customer, the receiving station).
pub async fn insert_rows(conn: &mut PgConnection, rows: &[NewRow]) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    macro_rules! column {
        ($f:expr) => {
            rows.iter().map($f).collect::<Vec<_>>()
        };
    }
    sqlx::query(
        r#"
        INSERT INTO cylinder_events (cylinder_id, event_id, kind, op, occurred_at, received_at,
            station_code, customer_code, to_station_code, vehicle_plate, staff_no, location,
            mass_before_kg, mass_after_kg, details, custody_after)
        SELECT t.cylinder_id, t.event_id, t.kind, t.op, t.occurred_at,
               coalesce(e.received_at, now()), t.station_code, t.customer_code,
               t.to_station_code, t.vehicle_plate, t.staff_no,
               coalesce(CASE WHEN t.lon IS NOT NULL
                             THEN ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) END,
                        (SELECT location FROM customers WHERE code = t.customer_code),
                        (SELECT location FROM stations WHERE code = t.to_station_code),
                        (SELECT location FROM stations WHERE code = t.station_code)),
               t.mass_before_kg, t.mass_after_kg, t.details::jsonb, 'in_stock_empty'
        FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[],
                    $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                    $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::text[])
            AS t(cylinder_id, event_id, kind, op, occurred_at, station_code, customer_code,
                 to_station_code, vehicle_plate, staff_no, lon, lat, mass_before_kg,
                 mass_after_kg, details)
        LEFT JOIN events e ON e.id = t.event_id
        ON CONFLICT (cylinder_id, event_id) DO NOTHING
        "#,
    )
    .bind(column!(|r| r.cylinder_id))
    .bind(column!(|r| r.event_id))
    .bind(column!(|r| r.op.kind()))
    .bind(column!(|r| r.op.op()))
    .bind(column!(|r| r.occurred_at))
    .bind(column!(|r| r.station_code.clone()))
    .bind(column!(|r| r.customer_code.clone()))
    .bind(column!(|r| r.to_station_code.clone()))
    .bind(column!(|r| r.vehicle_plate.clone()))
    .bind(column!(|r| r.staff_no.clone()))
    .bind(column!(|r| r.point.map(|p| p.0)))
    .bind(column!(|r| r.point.map(|p| p.1)))
    .bind(column!(|r| r.mass_before_kg))
    .bind(column!(|r| r.mass_after_kg))
    .bind(column!(|r| r.details.as_ref().map(|d| d.to_string())))
    .execute(&mut *conn)
    .await
    .context("adding history rows")?;
    Ok(())
}

/// The tags a vehicle's reader listed last, when, and in which event.
pub async fn vehicle_tags(
    conn: &mut PgConnection,
    plate: &str,
) -> anyhow::Result<Option<(Vec<TagId>, DateTime<Utc>, Uuid)>> {
    sqlx::query_as("SELECT tag_ids, occurred_at, event_id FROM vehicle_tags WHERE plate = $1")
        .bind(plate)
        .fetch_optional(&mut *conn)
        .await
        .context("reading a vehicle's tags")
}

/// Records a vehicle's newest tag list (an older one never overwrites a newer).
pub async fn set_vehicle_tags(
    conn: &mut PgConnection,
    plate: &str,
    tags: &[&str],
    occurred_at: DateTime<Utc>,
    event_id: Uuid,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO vehicle_tags AS v (plate, tag_ids, occurred_at, event_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (plate) DO UPDATE \
         SET tag_ids = EXCLUDED.tag_ids, occurred_at = EXCLUDED.occurred_at, \
             event_id = EXCLUDED.event_id \
         WHERE (v.occurred_at, v.event_id) < (EXCLUDED.occurred_at, EXCLUDED.event_id)",
    )
    .bind(plate)
    .bind(tags)
    .bind(occurred_at)
    .bind(event_id)
    .execute(&mut *conn)
    .await
    .context("recording a vehicle's tags")?;
    Ok(())
}

/// A vehicle's newest position and the site there, if any: a station within its radius, else a
/// customer within `customer_radius_m`.
pub async fn vehicle_site(
    conn: &mut PgConnection,
    plate: &str,
    at: DateTime<Utc>,
    customer_radius_m: f64,
) -> anyhow::Result<(Option<(f64, f64)>, Option<Place>)> {
    // The customer within `customer_radius_m` is found through the customers' spatial index:
    // a box of radius / 50,000 degrees holds the circle up to 63° north (a degree of longitude
    // is at least 50 km there) and lets the index answer; the geography distance alone scanned
    // every customer (155 ms with 5,000 customers, 0.25 ms with the box).
    // Where the vehicle was at `at`: its newest plausible fix at or before it (within 30
    // minutes), else its newest position. Not simply the newest position: behind a backlog,
    // a batch's positions are applied before its sightings, and the truck has moved on.
    let row: Option<(f64, f64, Option<StationCode>, Option<CustomerCode>)> = sqlx::query_as(
        r#"
        WITH v AS (
            SELECT location FROM (
                (SELECT e.location, 0 AS pref FROM events e
                  WHERE e.vehicle_plate = $1 AND e.kind = 'gps' AND e.location IS NOT NULL
                    AND e.occurred_at <= $3 AND e.occurred_at > $3 - interval '30 minutes'
                    AND NOT EXISTS (SELECT 1 FROM filtered_fixes f WHERE f.event_id = e.id)
                  ORDER BY e.occurred_at DESC LIMIT 1)
                UNION ALL
                (SELECT location, 1 FROM vehicle_positions WHERE plate = $1)
            ) x ORDER BY pref LIMIT 1
        )
        SELECT ST_X(v.location), ST_Y(v.location),
               (SELECT code FROM stations s
                 WHERE ST_DWithin(s.location::geography, v.location::geography, s.radius_m)
                 ORDER BY s.location <-> v.location LIMIT 1),
               (SELECT code FROM customers c
                 WHERE c.location && ST_Expand(v.location, $2 / 50000.0)
                   AND ST_DWithin(c.location::geography, v.location::geography, $2)
                 ORDER BY c.location <-> v.location LIMIT 1)
        FROM v
        "#,
    )
    .bind(plate)
    .bind(customer_radius_m)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .context("finding the site at a vehicle")?;
    Ok(match row {
        None => (None, None),
        Some((lon, lat, station, customer)) => (
            Some((lon, lat)),
            station
                .map(Place::Station)
                .or_else(|| customer.map(Place::Customer)),
        ),
    })
}

/// Whether a cylinder's newest BLE row says it is on `plate` (so a repeated sighting adds
/// nothing to its history).
pub async fn on_vehicle(
    conn: &mut PgConnection,
    ids: &[i64],
    plate: &str,
) -> anyhow::Result<HashMap<i64, bool>> {
    let rows: Vec<(i64, bool)> = sqlx::query_as(
        "SELECT cylinder_id, place_kind = 'vehicle' AND place_code = $2 \
         FROM cylinder_state WHERE cylinder_id = ANY($1)",
    )
    .bind(ids)
    .bind(plate)
    .fetch_all(&mut *conn)
    .await
    .context("reading which cylinders are on a vehicle")?;
    Ok(rows.into_iter().collect())
}

/// One history row with the names a reader needs.
#[derive(Debug, sqlx::FromRow)]
pub struct HistoryRow {
    pub event_id: Uuid,
    #[sqlx(flatten)]
    pub op: HistoryOp,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub station_code: Option<StationCode>,
    pub station_name: Option<String>,
    pub customer_name: Option<String>,
    pub to_station_name: Option<String>,
    pub staff_no: Option<StaffNo>,
    pub staff_name: Option<String>,
    pub vehicle_plate: Option<VehiclePlate>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub mass_before_kg: Option<f64>,
    pub mass_after_kg: Option<f64>,
    pub details: Option<serde_json::Value>,
    pub custody_after: Custody,
    pub flag: Option<String>,
}

/// A page of a cylinder's history in event-time order, after `(occurred_at, event_id)`. An
/// enterprise (`viewer`, the current owner) sees its own period only: the rows from the
/// transfer that gave it the cylinder on (`cylinders.owned_since`), never the earlier owners'
/// customers and staff; a regulator (`None`) sees every period.
pub async fn history(
    pool: &PgPool,
    cylinder_id: i64,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
    viewer: Option<&EnterpriseCode>,
) -> anyhow::Result<Vec<HistoryRow>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as(
        r#"
        SELECT h.event_id, h.kind, h.op, h.occurred_at, h.received_at, h.station_code,
               s.name AS station_name, c.name AS customer_name, ts.name AS to_station_name,
               h.staff_no, p.name AS staff_name, h.vehicle_plate,
               ST_X(h.location) AS lon, ST_Y(h.location) AS lat,
               h.mass_before_kg, h.mass_after_kg, h.details, h.custody_after, h.flag
        FROM (
            SELECT cylinder_id, event_id, kind, op, occurred_at, received_at, station_code,
                   to_station_code, customer_code, staff_no, vehicle_plate, location,
                   mass_before_kg, mass_after_kg, details, custody_after, flag
            FROM cylinder_events WHERE cylinder_id = $1
            UNION ALL
            -- Tag replacements (archive operations, not sightings: kept apart from the
            -- events the custody replay reads).
            SELECT r.cylinder_id, r.id, 'archive', 'replace_tag', r.replaced_at, r.replaced_at,
                   NULL, NULL, NULL, NULL, NULL, NULL::geometry, NULL, NULL,
                   jsonb_build_object('old_tag_id', r.old_tag_id, 'tag_id', r.new_tag_id,
                                      'reason', r.reason, 'by', r.replaced_by),
                   coalesce((SELECT st.custody FROM cylinder_state st
                             WHERE st.cylinder_id = r.cylinder_id), 'in_stock_empty'),
                   NULL
            FROM tag_replacements r WHERE r.cylinder_id = $1
            UNION ALL
            -- Accepted transfers (archive operations too), at the moment of the accept.
            SELECT tc.cylinder_id, md5('transfer:' || t.id || ':' || tc.cylinder_id)::uuid,
                   'archive', 'change_owner', t.decided_at, t.decided_at, t.station_code, NULL,
                   NULL, NULL, NULL, NULL::geometry, NULL, NULL,
                   jsonb_build_object('transfer_id', t.id,
                                      'from_enterprise_code', t.from_enterprise_code,
                                      'to_enterprise_code', t.to_enterprise_code,
                                      'station_code', t.station_code, 'by', t.decided_by),
                   coalesce((SELECT st.custody FROM cylinder_state st
                             WHERE st.cylinder_id = tc.cylinder_id), 'in_stock_empty'),
                   NULL
            FROM transfer_cylinders tc
            JOIN transfers t ON t.id = tc.transfer_id AND t.status = 'accepted'
            WHERE tc.cylinder_id = $1
        ) h
        JOIN cylinders cy ON cy.id = h.cylinder_id
        LEFT JOIN stations s ON s.code = h.station_code
        LEFT JOIN stations ts ON ts.code = h.to_station_code
        LEFT JOIN customers c ON c.code = h.customer_code
        -- A staff number is the enterprise's that owned the cylinder then (only its own
        -- devices write its rows).
        LEFT JOIN staff p ON p.enterprise_code = coalesce(
                             (SELECT op.enterprise_code FROM ownership_periods op
                              WHERE op.cylinder_id = h.cylinder_id AND h.occurred_at < op.until
                                AND (op.since IS NULL OR h.occurred_at >= op.since)
                              ORDER BY op.until LIMIT 1),
                             cy.owner_enterprise_code)
                         AND p.staff_no = h.staff_no
        WHERE ($2::timestamptz IS NULL OR (h.occurred_at, h.event_id) > ($2, $3::uuid))
          AND ($5::text IS NULL OR cy.owned_since IS NULL OR h.occurred_at >= cy.owned_since)
        ORDER BY h.occurred_at, h.event_id
        LIMIT $4
        "#,
    )
    .bind(cylinder_id)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .bind(viewer)
    .fetch_all(pool)
    .await
    .context("reading a history")
}

/// The newest `limit` history rows, newest first (the public page).
pub async fn recent(
    pool: &PgPool,
    cylinder_id: i64,
    limit: i64,
) -> anyhow::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        r#"
        SELECT h.event_id, h.kind, h.op, h.occurred_at, h.received_at, h.station_code,
               s.name AS station_name, NULL::text AS customer_name, ts.name AS to_station_name,
               NULL::text AS staff_no, NULL::text AS staff_name, NULL::text AS vehicle_plate,
               NULL::float8 AS lon, NULL::float8 AS lat, h.mass_before_kg, h.mass_after_kg,
               NULL::jsonb AS details, h.custody_after, h.flag
        FROM cylinder_events h
        LEFT JOIN stations s ON s.code = h.station_code
        LEFT JOIN stations ts ON ts.code = h.to_station_code
        WHERE h.cylinder_id = $1 AND h.kind IN ('scan', 'inspection', 'filling')
        ORDER BY h.occurred_at DESC, h.event_id DESC
        LIMIT $2
        "#,
    )
    .bind(cylinder_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("reading recent history")
}

/// A cylinder after its replay: code, owner, the owner's district, what its alerts depend on.
#[derive(Debug, Clone)]
pub struct Standing {
    pub code: CylinderCode,
    pub medium: Medium,
    pub custody: Option<Custody>,
    pub location: Option<(f64, f64)>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Where it is now: its kind and code.
    pub place: Option<Place>,
    pub owner: EnterpriseCode,
    pub district: Option<DistrictCode>,
    pub standing: crate::rules::history_alerts::Standing,
}

/// These cylinders as they stand now (inside the custody transaction, after the replay).
pub async fn standing(
    conn: &mut PgConnection,
    ids: &[i64],
) -> anyhow::Result<std::collections::HashMap<i64, Standing>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        code: CylinderCode,
        medium: Medium,
        place_kind: Option<PlaceKind>,
        place_code: Option<String>,
        custody: Option<Custody>,
        lon: Option<f64>,
        lat: Option<f64>,
        last_seen_at: Option<DateTime<Utc>>,
        owner: EnterpriseCode,
        district: Option<DistrictCode>,
        scrapped_at: Option<DateTime<Utc>>,
        next_on: chrono::NaiveDate,
        life_ends_on: chrono::NaiveDate,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.id, c.code, c.medium, s.place_kind, s.place_code, s.custody, \
                ST_X(s.location) AS lon, ST_Y(s.location) AS lat, s.last_seen_at, \
                c.owner_enterprise_code AS owner, e.district_code AS district, s.scrapped_at, \
                coalesce(s.next_inspection_on, c.next_inspection_on) AS next_on, \
                (c.manufactured_on + make_interval(years => c.design_life_years))::date \
                    AS life_ends_on \
         FROM cylinders c JOIN enterprises e ON e.code = c.owner_enterprise_code \
         LEFT JOIN cylinder_state s ON s.cylinder_id = c.id WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .context("reading cylinders as they stand")?;
    rows.into_iter()
        .map(|r| {
            let place = r
                .place_kind
                .zip(r.place_code)
                .map(|(kind, code)| Place::from_parts(kind, code))
                .transpose()
                .with_context(|| format!("reading where cylinder {} is", r.code))?;
            Ok((
                r.id,
                Standing {
                    code: r.code,
                    medium: r.medium,
                    place,
                    custody: r.custody,
                    location: r.lon.zip(r.lat),
                    last_seen_at: r.last_seen_at,
                    owner: r.owner,
                    district: r.district,
                    standing: crate::rules::history_alerts::Standing {
                        scrapped_at: r.scrapped_at,
                        next_inspection_on: r.next_on,
                        life_ends_on: r.life_ends_on,
                    },
                },
            ))
        })
        .collect()
}

/// The districts of these enterprises.
pub async fn districts(
    conn: &mut PgConnection,
    enterprises: &[&str],
) -> anyhow::Result<std::collections::HashMap<EnterpriseCode, DistrictCode>> {
    if enterprises.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(EnterpriseCode, DistrictCode)> =
        sqlx::query_as("SELECT code, district_code FROM enterprises WHERE code = ANY($1)")
            .bind(enterprises)
            .fetch_all(&mut *conn)
            .await
            .context("reading enterprises' districts")?;
    Ok(rows.into_iter().collect())
}

/// A site's full cylinders against its limit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteStock {
    /// `station` or `customer`.
    pub kind: PlaceKind,
    /// The station's or customer's code.
    pub code: String,
    pub name: String,
    pub enterprise_code: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub lon: f64,
    pub lat: f64,
    pub full_stock_limit: i32,
    pub full: i64,
    /// A customer's licence for controlled media, and its last valid day.
    pub licence_no: Option<String>,
    pub licence_expires: Option<chrono::NaiveDate>,
}

/// Full cylinders now at these stations (in stock full) and customers (at the customer).
pub async fn site_stock(
    conn: &mut PgConnection,
    stations: &[&str],
    customers: &[&str],
) -> anyhow::Result<Vec<SiteStock>> {
    sqlx::query_as(
        "SELECT 'station' AS kind, s.code, s.name, s.enterprise_code, \
                coalesce(s.district_code, e.district_code) AS district_code, \
                ST_X(s.location) AS lon, ST_Y(s.location) AS lat, s.full_stock_limit, \
                (SELECT count(*) FROM cylinder_state cs WHERE cs.place_kind = 'station' \
                   AND cs.place_code = s.code AND cs.custody = 'in_stock_full') AS full, \
                NULL::text AS licence_no, NULL::date AS licence_expires \
         FROM stations s JOIN enterprises e ON e.code = s.enterprise_code WHERE s.code = ANY($1) \
         UNION ALL \
         SELECT 'customer', c.code, c.name, c.enterprise_code, c.district_code, \
                ST_X(c.location), ST_Y(c.location), c.full_stock_limit, \
                (SELECT count(*) FROM cylinder_state cs WHERE cs.place_kind = 'customer' \
                   AND cs.place_code = c.code AND cs.custody = 'at_customer'), c.licence_no, \
                c.licence_expires \
         FROM customers c WHERE c.code = ANY($2)",
    )
    .bind(stations)
    .bind(customers)
    .fetch_all(&mut *conn)
    .await
    .context("counting sites' full cylinders")
}

/// A staff member's role and certificates, for the operations they sign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffCertificate {
    /// The cylinder whose row named the number (its enterprise is the member's).
    pub cylinder_id: i64,
    pub staff_no: StaffNo,
    pub name: String,
    pub enterprise_code: EnterpriseCode,
    pub district_code: Option<DistrictCode>,
    pub certificate_no: Option<String>,
    pub certificate_expires: Option<chrono::NaiveDate>,
    pub role: String,
    /// The member's certificates as three columns: kind, first day (`0001-01-01` when it
    /// names none), last day.
    pub certificate_kinds: Vec<String>,
    pub certificate_from: Vec<chrono::NaiveDate>,
    pub certificate_to: Vec<chrono::NaiveDate>,
}

/// The certificates of these staff members, each named by a cylinder whose row they signed
/// and their number: a number is resolved within the cylinder's enterprise (unregistered ones
/// are absent).
pub async fn staff(
    conn: &mut PgConnection,
    signed: &[(i64, &str)],
) -> anyhow::Result<Vec<StaffCertificate>> {
    if signed.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, nos): (Vec<i64>, Vec<&str>) = signed.iter().copied().unzip();
    sqlx::query_as(
        "SELECT k.cylinder_id, s.staff_no, s.name, s.enterprise_code, e.district_code, \
                s.certificate_no, s.certificate_expires, s.role, \
                ARRAY(SELECT t.kind FROM staff_certificates t WHERE t.enterprise_code = \
                      s.enterprise_code AND t.staff_no = s.staff_no ORDER BY t.kind, t.number) \
                    AS certificate_kinds, \
                ARRAY(SELECT coalesce(t.valid_from, DATE '0001-01-01') FROM staff_certificates t \
                      WHERE t.enterprise_code = s.enterprise_code AND t.staff_no = s.staff_no \
                      ORDER BY t.kind, t.number) AS certificate_from, \
                ARRAY(SELECT t.valid_to FROM staff_certificates t WHERE t.enterprise_code = \
                      s.enterprise_code AND t.staff_no = s.staff_no ORDER BY t.kind, t.number) \
                    AS certificate_to \
         FROM unnest($1::bigint[], $2::text[]) AS k(cylinder_id, staff_no) \
         JOIN cylinders c ON c.id = k.cylinder_id \
         JOIN staff s ON s.enterprise_code = c.owner_enterprise_code AND s.staff_no = k.staff_no \
         JOIN enterprises e ON e.code = s.enterprise_code",
    )
    .bind(ids)
    .bind(nos)
    .fetch_all(&mut *conn)
    .await
    .context("reading staff certificates")
}
