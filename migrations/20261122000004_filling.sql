-- Filling control: every decision a gun asked for, with the facts it was made on; and the
-- filling records (seed 004 Appendix C.1).

CREATE TABLE filling_decisions (
    id              uuid PRIMARY KEY,
    decided_at      timestamptz NOT NULL DEFAULT now(),
    station_code    text NOT NULL,
    gun_no          text NOT NULL,
    cylinder_code   text,
    tag_id          text,
    medium          text NOT NULL,
    staff_no        text NOT NULL,
    device_id       text,
    enterprise_code text,
    allowed         boolean NOT NULL,
    reasons         jsonb NOT NULL,
    facts           jsonb NOT NULL,
    facts_digest    text NOT NULL
);
CREATE INDEX filling_decisions_station ON filling_decisions (station_code, decided_at);

CREATE TABLE fillings (
    id              uuid PRIMARY KEY,
    decision_id     uuid REFERENCES filling_decisions (id),
    cylinder_id     bigint NOT NULL REFERENCES cylinders (id),
    station_code    text NOT NULL,
    licence_no      text NOT NULL,
    gun_no          text NOT NULL,
    staff_no        text NOT NULL,
    staff_name      text NOT NULL,
    started_at      timestamptz NOT NULL,
    ended_at        timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    mass_before_kg  double precision NOT NULL,
    mass_after_kg   double precision NOT NULL,
    flags           text[] NOT NULL,
    late_s          double precision NOT NULL,
    device_id       text,
    enterprise_code text
);
CREATE INDEX fillings_cylinder ON fillings (cylinder_id, ended_at);
CREATE INDEX fillings_station ON fillings (station_code, received_at);
