-- Alerts (SPEC §5–§6): one row per alert; while unresolved, a repeat of the same kind on the
-- same subject updates the row (count, last_seen_at, evidence) instead of adding one.
CREATE TABLE alerts (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL,
    severity           text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    status             text NOT NULL DEFAULT 'open'
                       CHECK (status IN ('open', 'acknowledged', 'resolved')),
    subject_type       text NOT NULL,
    subject_id         text NOT NULL,
    enterprise_code    text,
    district_code      text,
    place              geometry(Point, 4326),
    place_name         text,
    opened_at          timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    count              bigint NOT NULL DEFAULT 1 CHECK (count >= 1),
    evidence           jsonb NOT NULL,
    condition_ended_at timestamptz,
    escalated_at       timestamptz,
    ack_by             text,
    ack_at             timestamptz,
    ack_note           text,
    resolved_by        text,
    resolved_at        timestamptz,
    resolution_note    text,
    -- Acknowledged and resolved alerts carry who and when; resolving an open alert
    -- acknowledges it with the same note.
    CHECK ((status = 'open') = (ack_at IS NULL)),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- At most one unresolved alert per kind and subject: the upsert's conflict target.
CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (kind, subject_type, subject_id)
    WHERE status <> 'resolved';
CREATE INDEX alerts_newest ON alerts (last_seen_at DESC, id DESC);
CREATE INDEX alerts_status_newest ON alerts (status, last_seen_at DESC);
CREATE INDEX alerts_enterprise ON alerts (enterprise_code, last_seen_at DESC);
CREATE INDEX alerts_district ON alerts (district_code, last_seen_at DESC);

-- Every sighting counted into an alert, by a key unique for ever (`decision:<id>`,
-- `filling:<id>:overfill`, `event:<id>:...`): a sighting handled twice counts once.
CREATE TABLE alert_sightings (
    sighting text PRIMARY KEY,
    counted_at timestamptz NOT NULL DEFAULT now()
);

-- The pipeline's failed attempts per stream entry (retried until `pipeline_max_attempts`,
-- then dead-lettered); a dead letter is written once per entry.
CREATE TABLE pipeline_failures (
    stream_id  text PRIMARY KEY,
    attempts   integer NOT NULL,
    last_error text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipeline_dead_letters_once ON pipeline_dead_letters (stream_id);
