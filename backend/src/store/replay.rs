//! The custody replay (the pipeline's custody stage and a filling record): each cylinder's
//! stored history folded in event-time order through `rules::custody::replay_stored`, the rows
//! whose custody or flag changed rewritten, the state written. A few statements for a whole
//! set of cylinders, not a few per cylinder.

use crate::rules::custody::{replay_stored, Place, Recorded, State, Step};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use shared::cylinder::Custody;
use shared::events::Conclusion;
use shared::history::HistoryOp;
use shared::ids::{CustomerCode, StationCode};
use shared::place::PlaceKind;
use shared::VehiclePlate;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ReplayRow {
    cylinder_id: i64,
    event_id: Uuid,
    #[sqlx(flatten)]
    op: HistoryOp,
    station_code: Option<StationCode>,
    customer_code: Option<CustomerCode>,
    to_station_code: Option<StationCode>,
    vehicle_plate: Option<VehiclePlate>,
    custody_after: Custody,
    flag: Option<String>,
    occurred_at: DateTime<Utc>,
    lon: Option<f64>,
    lat: Option<f64>,
    /// An inspection `pass`: the dates it gives (else both `None`).
    inspected_on: Option<NaiveDate>,
    next_inspection_on: Option<NaiveDate>,
}

/// Replays one cylinder's history (see [`replay_many`]).
pub async fn replay(tx: &mut PgConnection, cylinder_id: i64) -> anyhow::Result<()> {
    replay_many(tx, &[cylinder_id]).await
}

/// Replays each cylinder's history in event-time order (ties by event id) through
/// `rules::custody::replay_stored`: rewrites each row's `custody_after` and `flag` where they
/// changed and the cylinders' states, in one transaction (the caller's) that locks the
/// cylinders in id order, so two workers never interleave on one and never deadlock. A few
/// statements for the whole set, not a few per cylinder: the pipeline's custody stage was
/// bound by round trips (four per cylinder) when the machine was busy.
pub async fn replay_many(tx: &mut PgConnection, cylinder_ids: &[i64]) -> anyhow::Result<()> {
    if cylinder_ids.is_empty() {
        return Ok(());
    }
    let stations: Vec<(i64, StationCode)> = sqlx::query_as(
        "SELECT id, station_code FROM cylinders WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(cylinder_ids)
    .fetch_all(&mut *tx)
    .await
    .context("locking cylinders")?;
    if stations.len() != cylinder_ids.len() {
        anyhow::bail!(
            "replaying {} cylinders: {} found",
            cylinder_ids.len(),
            stations.len()
        );
    }
    let rows: Vec<ReplayRow> = sqlx::query_as(
        "SELECT cylinder_id, event_id, kind, op, station_code, customer_code, to_station_code, \
         vehicle_plate, custody_after, flag, occurred_at, ST_X(location) AS lon, \
         ST_Y(location) AS lat, \
         CASE WHEN kind = 'inspection' AND op = 'pass' \
              THEN (details->>'inspected_on')::date END AS inspected_on, \
         CASE WHEN kind = 'inspection' AND op = 'pass' \
              THEN (details->>'next_inspection_on')::date END AS next_inspection_on \
         FROM cylinder_events \
         WHERE cylinder_id = ANY($1) ORDER BY cylinder_id, occurred_at, event_id",
    )
    .bind(cylinder_ids)
    .fetch_all(&mut *tx)
    .await
    .context("reading histories to replay")?;
    let mut by_cylinder: HashMap<i64, &[ReplayRow]> = HashMap::new();
    for chunk in rows.chunk_by(|a, b| a.cylinder_id == b.cylinder_id) {
        if let Some(first) = chunk.first() {
            by_cylinder.insert(first.cylinder_id, chunk);
        }
    }
    let mut rewritten = Rewritten::default();
    let mut states = States::default();
    for (cylinder_id, station) in &stations {
        let history = by_cylinder.get(cylinder_id).copied().unwrap_or_default();
        let recorded: Vec<Recorded> = history.iter().map(recorded).collect();
        let (state, rewrites) = replay_stored(station, &recorded);
        // Each row's custody and flag after the replay (the rewrites applied).
        let mut after: Vec<(Custody, Option<&str>)> = history
            .iter()
            .map(|r| (r.custody_after, r.flag.as_deref()))
            .collect();
        for r in &rewrites {
            if let Some(slot) = after.get_mut(r.index) {
                *slot = (r.custody, r.flag.as_deref());
            }
        }
        states.push(*cylinder_id, &state, history, &after);
        for r in rewrites {
            if let Some(row) = history.get(r.index) {
                rewritten.cylinder_ids.push(*cylinder_id);
                rewritten.event_ids.push(row.event_id);
                rewritten.custodies.push(r.custody);
                rewritten.flags.push(r.flag);
            }
        }
    }
    if !rewritten.event_ids.is_empty() {
        sqlx::query(
            "UPDATE cylinder_events c SET custody_after = t.custody, flag = t.flag \
             FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[]) \
                  AS t(cylinder_id, event_id, custody, flag) \
             WHERE c.cylinder_id = t.cylinder_id AND c.event_id = t.event_id",
        )
        .bind(&rewritten.cylinder_ids)
        .bind(&rewritten.event_ids)
        .bind(&rewritten.custodies)
        .bind(&rewritten.flags)
        .execute(&mut *tx)
        .await
        .context("rewriting replayed rows")?;
    }
    write_states(tx, &states).await
}

/// The rows a replay rewrites, as columns.
#[derive(Default)]
struct Rewritten {
    cylinder_ids: Vec<i64>,
    event_ids: Vec<Uuid>,
    custodies: Vec<Custody>,
    flags: Vec<Option<String>>,
}

/// The replayed states, as columns: what the replay gives and what is read off the history the
/// replay read (its newest time, newest place, flags, scrapping, newest inspection). The
/// filling facts are computed by `filling_facts` in the statement.
#[derive(Default)]
struct States {
    cylinder_ids: Vec<i64>,
    custodies: Vec<Custody>,
    place_kinds: Vec<Option<PlaceKind>>,
    place_codes: Vec<Option<String>>,
    last_at: Vec<Option<DateTime<Utc>>>,
    lons: Vec<Option<f64>>,
    lats: Vec<Option<f64>>,
    flagged: Vec<i64>,
    scrapped_at: Vec<Option<DateTime<Utc>>>,
    inspected_on: Vec<Option<NaiveDate>>,
    next_inspection_on: Vec<Option<NaiveDate>>,
}

impl States {
    /// One cylinder's state from its replay, its history in event-time order and each row's
    /// custody and flag after the replay.
    fn push(
        &mut self,
        cylinder_id: i64,
        state: &State,
        history: &[ReplayRow],
        after: &[(Custody, Option<&str>)],
    ) {
        let (place_kind, place_code) = state.place.as_ref().map(Place::parts).unzip();
        let located = history
            .iter()
            .rev()
            .find(|r| r.lon.is_some() && r.lat.is_some());
        let inspected = history
            .iter()
            .rev()
            .find(|r| r.op == HistoryOp::Inspection(Conclusion::Pass));
        self.cylinder_ids.push(cylinder_id);
        self.custodies.push(state.custody);
        self.place_kinds.push(place_kind);
        self.place_codes.push(place_code.map(str::to_owned));
        self.last_at
            .push(history.iter().map(|r| r.occurred_at).max());
        self.lons.push(located.and_then(|r| r.lon));
        self.lats.push(located.and_then(|r| r.lat));
        self.flagged.push(
            i64::try_from(after.iter().filter(|(_, flag)| flag.is_some()).count())
                .unwrap_or(i64::MAX),
        );
        self.scrapped_at.push(
            history
                .iter()
                .zip(after)
                .filter(|(_, (custody, _))| *custody == Custody::Scrapped)
                .map(|(r, _)| r.occurred_at)
                .min(),
        );
        self.inspected_on
            .push(inspected.and_then(|r| r.inspected_on));
        self.next_inspection_on
            .push(inspected.and_then(|r| r.next_inspection_on));
    }
}

fn recorded(row: &ReplayRow) -> Recorded<'_> {
    let step = Step::from_row(
        row.op,
        row.station_code.as_ref(),
        row.customer_code.as_ref(),
        row.to_station_code.as_ref(),
        row.vehicle_plate.as_ref(),
    );
    if step.is_none() {
        tracing::warn!(event_id = %row.event_id, op = row.op.op(), "history row with no custody meaning");
    }
    Recorded {
        step,
        custody_after: row.custody_after,
        flag: row.flag.as_deref(),
    }
}

async fn write_states(tx: &mut PgConnection, states: &States) -> anyhow::Result<()> {
    sqlx::query(
        r#"
        INSERT INTO cylinder_state AS s (cylinder_id, custody, place_kind, place_code, custody_at,
            last_seen_at, location, last_filled_at, flagged, last_inspected_on,
            next_inspection_on, scrapped_at, last_fill_started_at, circulated_since_fill,
            last_pre_check_at, post_checked, updated_at)
        SELECT t.id, t.custody, t.place_kind, t.place_code, t.last_at, t.last_at,
               CASE WHEN t.lon IS NOT NULL AND t.lat IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) END,
               f.last_filled_at, t.flagged, t.inspected_on, t.next_on, t.scrapped_at,
               f.last_fill_started_at, f.circulated, f.last_pre_check_at, f.post_checked,
               now()
        FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                    $6::float8[], $7::float8[], $8::int8[], $9::timestamptz[], $10::date[],
                    $11::date[])
             WITH ORDINALITY AS t(id, custody, place_kind, place_code, last_at, lon, lat,
                                  flagged, scrapped_at, inspected_on, next_on, n)
        CROSS JOIN LATERAL filling_facts(t.id) AS f
        ORDER BY t.n
        ON CONFLICT (cylinder_id) DO UPDATE SET
            custody = EXCLUDED.custody, place_kind = EXCLUDED.place_kind,
            place_code = EXCLUDED.place_code, custody_at = EXCLUDED.custody_at,
            last_seen_at = EXCLUDED.last_seen_at, location = EXCLUDED.location,
            last_filled_at = EXCLUDED.last_filled_at, flagged = EXCLUDED.flagged,
            last_inspected_on = EXCLUDED.last_inspected_on,
            next_inspection_on = EXCLUDED.next_inspection_on,
            scrapped_at = EXCLUDED.scrapped_at,
            last_fill_started_at = EXCLUDED.last_fill_started_at,
            circulated_since_fill = EXCLUDED.circulated_since_fill,
            last_pre_check_at = EXCLUDED.last_pre_check_at,
            post_checked = EXCLUDED.post_checked, updated_at = now()
        "#,
    )
    .bind(&states.cylinder_ids)
    .bind(&states.custodies)
    .bind(&states.place_kinds)
    .bind(&states.place_codes)
    .bind(&states.last_at)
    .bind(&states.lons)
    .bind(&states.lats)
    .bind(&states.flagged)
    .bind(&states.scrapped_at)
    .bind(&states.inspected_on)
    .bind(&states.next_inspection_on)
    .execute(&mut *tx)
    .await
    .context("writing cylinders' states")?;
    Ok(())
}
