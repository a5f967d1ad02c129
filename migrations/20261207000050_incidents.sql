-- Incidents (应急联动, issue 22): one row per incident, its context snapshot (assembled when it
-- was opened, replaced when refreshed), and an append-only timeline of every action.

CREATE TABLE incidents (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL
                     CHECK (kind IN ('leak', 'fire', 'explosion', 'illegal_filling', 'abandoned', 'other')),
    level            text NOT NULL
                     CHECK (level IN ('general', 'large', 'major', 'especially_major')),
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'responding', 'contained', 'closed')),
    description      text NOT NULL,
    cylinder_id      bigint REFERENCES cylinders (id),
    alert_id         uuid REFERENCES alerts (id),
    place            geometry(Point, 4326),
    district_code    text,
    -- The enterprises it is about (the cylinder's owner, the alert's enterprise): they see it.
    enterprise_codes text[] NOT NULL DEFAULT '{}',
    caller_name      text,
    caller_phone     text,
    opened_by        text NOT NULL,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    context          jsonb
);
CREATE INDEX incidents_newest ON incidents (opened_at DESC, id DESC);
CREATE INDEX incidents_cylinder ON incidents (cylinder_id);
CREATE INDEX incidents_enterprises ON incidents USING gin (enterprise_codes);

CREATE TABLE incident_timeline (
    seq         bigserial PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incidents (id),
    at          timestamptz NOT NULL DEFAULT now(),
    by_user     text NOT NULL,
    what        text NOT NULL
                CHECK (what IN ('opened', 'note', 'status', 'reopened', 'context_refreshed')),
    status      text CHECK (status IN ('open', 'responding', 'contained', 'closed')),
    note        text
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, seq);

-- The timeline is append-only.
CREATE FUNCTION incident_timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident_timeline is append-only';
END
$$;
CREATE TRIGGER incident_timeline_append_only
    BEFORE UPDATE OR DELETE ON incident_timeline
    FOR EACH ROW EXECUTE FUNCTION incident_timeline_append_only();
