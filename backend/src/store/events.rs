//! The events table and its outbox.

use anyhow::Context;
use shared::events::{CylinderRef, Event};
use shared::ids::{DeviceId, EnterpriseCode};
use sqlx::PgPool;

/// Inserts the events that are new (by id), written by `device_id` of `enterprise_code`, and
/// queues them in the outbox, in one transaction. Returns how many were new; the rest were
/// already stored.
pub async fn insert_new(
    pool: &PgPool,
    events: &[Event],
    device_id: &DeviceId,
    enterprise_code: &EnterpriseCode,
) -> anyhow::Result<usize> {
    let writers = vec![(device_id, enterprise_code); events.len()];
    let mut conn = pool.acquire().await.context("a connection for events")?;
    insert_written(&mut conn, events, &writers).await
}

/// [`insert_new`] for events of several devices at once (the JT/T 808 gateway's group
/// commit): `writers[i]` is the device and enterprise of `events[i]`. One statement.
pub async fn insert_written(
    conn: &mut sqlx::PgConnection,
    events: &[Event],
    writers: &[(&DeviceId, &EnterpriseCode)],
) -> anyhow::Result<usize> {
    anyhow::ensure!(events.len() == writers.len(), "one writer per event");
    let mut ids = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut plates = Vec::with_capacity(events.len());
    let mut lons = Vec::with_capacity(events.len());
    let mut lats = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    let mut cylinder_codes = Vec::with_capacity(events.len());
    let mut tag_ids = Vec::with_capacity(events.len());
    let devices: Vec<&str> = writers.iter().map(|w| w.0.as_str()).collect();
    let enterprises: Vec<&str> = writers.iter().map(|w| w.1.as_str()).collect();
    for event in events {
        let (code, tag) = cylinder_named(event);
        cylinder_codes.push(code);
        tag_ids.push(tag);
        ids.push(event.id());
        kinds.push(event.kind());
        times.push(event.occurred_at());
        plates.push(event.vehicle_plate().map(|p| p.as_str().to_owned()));
        let point = event.point();
        lons.push(point.map(|p| p.lon()));
        lats.push(point.map(|p| p.lat()));
        payloads.push(serde_json::to_string(event).context("serializing an event")?);
    }
    let inserted: i64 = sqlx::query_scalar(
        r#"
        WITH input AS (
            SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::text[],
                                 $5::float8[], $6::float8[], $7::text[], $10::text[],
                                 $11::text[], $8::text[], $9::text[]) WITH ORDINALITY
                AS t(id, kind, occurred_at, vehicle_plate, lon, lat, payload, cylinder_code,
                     tag_id, device_id, enterprise_code, ord)
        ), ins AS (
            INSERT INTO events (id, kind, occurred_at, vehicle_plate, location, payload,
                                device_id, enterprise_code)
            SELECT id, kind, occurred_at, vehicle_plate,
                   CASE WHEN lon IS NULL THEN NULL
                        ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                   payload::jsonb, device_id, enterprise_code
            FROM input
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ), queued AS (
            -- In the batch's order (the relay keeps it); a tag named by a scan is resolved to
            -- its cylinder, so that the filling decision sees the event as not yet applied.
            INSERT INTO event_outbox (event_id, cylinder_code)
            SELECT id, cylinder_code FROM (
                SELECT DISTINCT ON (i.id) i.id, i.ord,
                       coalesce(i.cylinder_code, c.code) AS cylinder_code
                FROM ins JOIN input i ON i.id = ins.id
                LEFT JOIN cylinders c ON c.tag_id = i.tag_id
                ORDER BY i.id, i.ord
            ) named
            ORDER BY ord
        ), seen AS (
            -- The devices are alive (device_silent); at most one row version per 10 s.
            UPDATE devices SET last_seen_at = now()
            WHERE device_id IN (SELECT DISTINCT device_id FROM input)
              AND (last_seen_at IS NULL OR last_seen_at < now() - interval '10 seconds')
        )
        SELECT count(*) FROM ins
        "#,
    )
    .bind(&ids)
    .bind(&kinds)
    .bind(&times)
    .bind(&plates)
    .bind(&lons)
    .bind(&lats)
    .bind(&payloads)
    .bind(&devices)
    .bind(&enterprises)
    .bind(&cylinder_codes)
    .bind(&tag_ids)
    .fetch_one(conn)
    .await
    .context("inserting events")?;
    usize::try_from(inserted).context("inserted count")
}

/// The cylinder an event names, by code or by tag (scans, checks, inspections); GPS fixes and
/// BLE sightings name none here (a sighting only ever adds circulation, which can only allow
/// a later filling, never refuse one: until it is applied the decision is the stricter).
fn cylinder_named(event: &Event) -> (Option<String>, Option<String>) {
    match event {
        Event::Scan(scan) => match &scan.cylinder {
            CylinderRef::CylinderCode(code) => (Some(code.as_str().to_owned()), None),
            CylinderRef::TagId(tag) => (None, Some(tag.as_str().to_owned())),
        },
        Event::Check(check) => (Some(check.cylinder_code.as_str().to_owned()), None),
        Event::Inspection(i) => (Some(i.cylinder_code.as_str().to_owned()), None),
        Event::Gps(_) | Event::Ble(_) => (None, None),
    }
}

/// Stored events, counted (health and tests).
pub async fn count(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .context("counting events")
}

/// Events acknowledged and not yet applied by the pipeline (dead letters apart).
pub async fn outbox_len(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM event_outbox WHERE NOT dead")
        .fetch_one(pool)
        .await
        .context("counting the outbox")
}

/// Entries in the dead-letter table.
pub async fn dead_letters(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM pipeline_dead_letters")
        .fetch_one(pool)
        .await
        .context("counting dead letters")
}

/// A batch taken from the outbox inside an open transaction: commit it once the entries are on
/// the stream; drop it (rolls back) to leave them for the next try.
pub struct OutboxBatch {
    pub tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// Canonical event JSON, the writing enterprise and when the event was received (ms since
    /// the epoch), oldest first.
    pub payloads: Vec<(String, Option<String>, i64)>,
}

/// The advisory lock the relays of all instances take in turn.
const RELAY_LOCK: i64 = 0x6379_6c77_0006;

/// Takes up to `limit` outbox entries not on the stream yet, in the order they were committed,
/// one relay at a time; they stay in the outbox (marked relayed) until the pipeline has
/// applied them.
pub async fn take_outbox(pool: &PgPool, limit: i64) -> anyhow::Result<OutboxBatch> {
    let mut tx = pool
        .begin()
        .await
        .context("opening an outbox transaction")?;
    // One relay at a time across instances (until this batch commits, after its XADD): two
    // relays taking consecutive batches side by side could put a vehicle's later fix on the
    // stream before its earlier one.
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(RELAY_LOCK)
        .execute(&mut *tx)
        .await
        .context("waiting for the relay lock")?;
    let payloads: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        r#"
        WITH batch AS (
            SELECT seq FROM event_outbox WHERE relayed_at IS NULL AND NOT dead
            ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
        ), taken AS (
            UPDATE event_outbox o SET relayed_at = now() FROM batch b WHERE o.seq = b.seq
            RETURNING o.seq, o.event_id
        )
        SELECT e.payload::text, e.enterprise_code,
               (extract(epoch FROM e.received_at) * 1000)::bigint
        FROM taken t JOIN events e ON e.id = t.event_id ORDER BY t.seq
        "#,
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .context("taking outbox entries")?;
    Ok(OutboxBatch { tx, payloads })
}

/// The pipeline applied these events: they leave the outbox. Dead-lettered ones (`dead`) stay
/// there, not applied.
pub async fn applied(pool: &PgPool, event_ids: &[uuid::Uuid]) -> anyhow::Result<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM event_outbox WHERE event_id = ANY($1) AND NOT dead")
        .bind(event_ids)
        .execute(pool)
        .await
        .context("removing applied events from the outbox")?;
    Ok(())
}

/// The pipeline gave up on these events (dead letters): never relayed again, still not
/// applied (a decision about their cylinder stays refused, `E02`, until an operator acts).
pub async fn dead(pool: &PgPool, event_ids: &[uuid::Uuid]) -> anyhow::Result<()> {
    if event_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("UPDATE event_outbox SET dead = true WHERE event_id = ANY($1)")
        .bind(event_ids)
        .execute(pool)
        .await
        .context("marking dead-lettered events in the outbox")?;
    Ok(())
}

/// Outbox entries relayed and not applied are relayed again: all of them (`older_than` zero)
/// when the stream was lost (Redis came back empty), else those relayed longer ago than
/// `older_than` (a stream that lost entries some other way). The stages are idempotent, so an
/// entry on the stream twice is applied once. Returns how many.
pub async fn relay_again(pool: &PgPool, older_than: std::time::Duration) -> anyhow::Result<u64> {
    let seconds = older_than.as_secs_f64();
    let done = sqlx::query(
        "UPDATE event_outbox SET relayed_at = NULL \
         WHERE relayed_at IS NOT NULL AND NOT dead \
           AND relayed_at <= now() - make_interval(secs => $1)",
    )
    .bind(seconds)
    .execute(pool)
    .await
    .context("queueing relayed events again")?;
    Ok(done.rows_affected())
}

/// Keeps a stream entry the pipeline could not process.
pub async fn dead_letter(
    pool: &PgPool,
    stream_id: &str,
    payload: &str,
    error: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO pipeline_dead_letters (stream_id, payload, error) VALUES ($1, $2, $3) \
         ON CONFLICT (stream_id) DO NOTHING",
    )
    .bind(stream_id)
    .bind(payload)
    .bind(error)
    .execute(pool)
    .await
    .context("writing a dead letter")?;
    Ok(())
}

/// Counts one more failed attempt at a stream entry; returns the attempts so far.
pub async fn count_failure(pool: &PgPool, stream_id: &str, error: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO pipeline_failures (stream_id, attempts, last_error) VALUES ($1, 1, $2) \
         ON CONFLICT (stream_id) DO UPDATE SET attempts = pipeline_failures.attempts + 1, \
             last_error = EXCLUDED.last_error, updated_at = now() \
         RETURNING attempts::bigint",
    )
    .bind(stream_id)
    .bind(error)
    .fetch_one(pool)
    .await
    .context("counting a failed stream entry")
}

/// Forgets the failed attempts of entries that went through.
pub async fn clear_failures(pool: &PgPool, stream_ids: &[&str]) -> anyhow::Result<()> {
    if stream_ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM pipeline_failures WHERE stream_id = ANY($1)")
        .bind(stream_ids)
        .execute(pool)
        .await
        .context("clearing a stream entry's failures")?;
    Ok(())
}
