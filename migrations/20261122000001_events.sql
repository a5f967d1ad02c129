-- The traceability record: every accepted event, immutable, keyed by its client-chosen id.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE events (
    id            uuid PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('gps', 'ble', 'scan', 'check', 'inspection')),
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    vehicle_plate text,
    location      geometry(Point, 4326),
    payload       jsonb NOT NULL
);
CREATE INDEX events_vehicle_time ON events (vehicle_plate, occurred_at) WHERE vehicle_plate IS NOT NULL;
CREATE INDEX events_received ON events (received_at);

-- Transactional outbox: written in the same transaction as the event, emptied by the relay once
-- the event is on the Redis stream. Whatever is here survives a Redis outage.
CREATE TABLE event_outbox (
    seq      bigserial PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id)
);

-- Live state: each vehicle's newest fix by event time.
CREATE TABLE vehicle_positions (
    plate       text PRIMARY KEY,
    location    geometry(Point, 4326) NOT NULL,
    speed_kmh   double precision,
    heading     double precision,
    occurred_at timestamptz NOT NULL,
    event_id    uuid NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Stream entries the pipeline could not process: kept with the error, never dropped silently.
CREATE TABLE pipeline_dead_letters (
    id        bigserial PRIMARY KEY,
    stream_id text NOT NULL,
    payload   text NOT NULL,
    error     text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
