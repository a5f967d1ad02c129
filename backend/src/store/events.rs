//! The events table and its outbox.

use anyhow::Context;
use shared::events::Event;
use sqlx::PgPool;

/// Inserts the events that are new (by id), written by `device_id` of `enterprise_code`, and
/// queues them in the outbox, in one transaction. Returns how many were new; the rest were
/// already stored.
pub async fn insert_new(
    pool: &PgPool,
    events: &[Event],
    device_id: &str,
    enterprise_code: &str,
) -> anyhow::Result<usize> {
    let mut ids = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut plates = Vec::with_capacity(events.len());
    let mut lons = Vec::with_capacity(events.len());
    let mut lats = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    for event in events {
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
                                 $5::float8[], $6::float8[], $7::text[])
                AS t(id, kind, occurred_at, vehicle_plate, lon, lat, payload)
        ), ins AS (
            INSERT INTO events (id, kind, occurred_at, vehicle_plate, location, payload,
                                device_id, enterprise_code)
            SELECT id, kind, occurred_at, vehicle_plate,
                   CASE WHEN lon IS NULL THEN NULL
                        ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END,
                   payload::jsonb, $8, $9
            FROM input
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ), queued AS (
            INSERT INTO event_outbox (event_id) SELECT id FROM ins
        ), seen AS (
            -- The device is alive (device_silent); at most one row version per 10 s.
            UPDATE devices SET last_seen_at = now()
            WHERE device_id = $8
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
    .bind(device_id)
    .bind(enterprise_code)
    .fetch_one(pool)
    .await
    .context("inserting events")?;
    usize::try_from(inserted).context("inserted count")
}

/// Stored events, counted (health and tests).
pub async fn count(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
        .context("counting events")
}

/// Events waiting in the outbox.
pub async fn outbox_len(pool: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM event_outbox")
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

/// Takes up to `limit` outbox entries, in the order they were committed, one relay at a time.
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
            SELECT seq FROM event_outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
        ), taken AS (
            DELETE FROM event_outbox o USING batch b WHERE o.seq = b.seq
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
