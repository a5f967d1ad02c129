-- Issue 22 items 4 and 6: responder units, their tasks on incidents, the owning enterprises'
-- acknowledgements, and the timeline entries they leave.

CREATE TABLE responder_units (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL
               CHECK (kind IN ('fire', 'gas_emergency', 'district_bureau', 'police', 'medical', 'other')),
    phone      text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incident_tasks (
    id          uuid PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incidents (id),
    unit_code   text NOT NULL REFERENCES responder_units (code),
    what        text NOT NULL,
    due_at      timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'assigned'
                CHECK (status IN ('assigned', 'en_route', 'on_scene', 'done', 'cancelled')),
    note        text,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id, created_at);

CREATE TABLE incident_acks (
    incident_id     uuid NOT NULL REFERENCES incidents (id),
    enterprise_code text NOT NULL,
    by_user         text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, enterprise_code)
);

-- The timeline's new entries and what they are about (no row changes: it stays append-only).
ALTER TABLE incident_timeline DROP CONSTRAINT incident_timeline_what_check;
ALTER TABLE incident_timeline ADD CONSTRAINT incident_timeline_what_check
    CHECK (what IN ('opened', 'note', 'status', 'reopened', 'context_refreshed',
                    'task_assigned', 'task_status', 'acknowledged', 'recall_issued'));
ALTER TABLE incident_timeline
    ADD COLUMN task_id uuid,
    ADD COLUMN unit_code text,
    ADD COLUMN task_status text
        CHECK (task_status IN ('assigned', 'en_route', 'on_scene', 'done', 'cancelled')),
    ADD COLUMN enterprise_code text,
    ADD COLUMN recall_id uuid;

-- Recalls of an incident (its page and live message list them).
CREATE INDEX recalls_incident ON recalls (incident_id) WHERE incident_id IS NOT NULL;
-- Searching closed incidents by place.
CREATE INDEX incidents_place ON incidents USING gist ((place::geography));
