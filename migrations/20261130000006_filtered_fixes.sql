-- GPS fixes the plausibility filters kept off the live state (future, far_past, jump,
-- duplicate), with the reason; the fix itself stays in `events`. The newest jump after a
-- vehicle's position is read back: a later fix that agrees with it moves the vehicle.
CREATE TABLE filtered_fixes (
    event_id          uuid PRIMARY KEY REFERENCES events (id),
    plate             text NOT NULL,
    reason            text NOT NULL CHECK (reason IN ('future', 'far_past', 'jump', 'duplicate')),
    implied_speed_kmh double precision,
    occurred_at       timestamptz NOT NULL,
    lon               double precision NOT NULL,
    lat               double precision NOT NULL,
    filtered_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX filtered_fixes_plate ON filtered_fixes (plate, occurred_at);
