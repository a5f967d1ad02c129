-- Stage 3 of the live pipeline: which fences each vehicle is in (since when, dwell reported),
-- and the transitions derived by diffing each new position with the previous one.
CREATE TABLE vehicle_fences (
    plate       text NOT NULL,
    fence       text NOT NULL,
    entered_at  timestamptz NOT NULL,
    dwell_noted boolean NOT NULL DEFAULT false,
    PRIMARY KEY (plate, fence)
);

CREATE TABLE fence_transitions (
    event_id    uuid NOT NULL REFERENCES events (id),
    fence       text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('enter', 'exit', 'cross', 'dwell')),
    plate       text NOT NULL,
    occurred_at timestamptz NOT NULL,
    lon         double precision NOT NULL,
    lat         double precision NOT NULL,
    PRIMARY KEY (event_id, fence, kind)
);
CREATE INDEX fence_transitions_plate ON fence_transitions (plate, occurred_at);
CREATE INDEX fence_transitions_fence ON fence_transitions (fence, occurred_at);
