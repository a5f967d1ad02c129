-- Statistics maintained incrementally (issue 7): each cylinder's class (owner, registered
-- station, medium, effective custody incl. lost, worst compliance, whether it has its usage
-- registration, whether its tag was ever read in the field) is kept in `cylinder_class`
-- and counted in `inventory_counts`, `compliance_counts` and `registration_counts`, so that a figure sums a few thousand counters instead of
-- classifying millions of cylinders. Any write to a cylinder or its state marks it in
-- `stats_dirty`; `store::stats::refresh` reclassifies the marked cylinders and those whose
-- class changes with time (`lost_due_at`: when it becomes lost if not seen again;
-- `next_change_on`: the next date its compliance changes), and moves their counts.
-- A queue, not a set: a write always adds its row (a cylinder may be marked many times), so a
-- mark made while a refresh runs is never absorbed by the mark that refresh is taking away.
CREATE TABLE stats_dirty (
    seq         bigserial PRIMARY KEY,
    cylinder_id bigint NOT NULL
);

CREATE TABLE cylinder_class (
    cylinder_id    bigint PRIMARY KEY REFERENCES cylinders (id),
    owner          text NOT NULL,
    station        text NOT NULL,
    medium         text NOT NULL,
    custody        text NOT NULL,
    compliance     text NOT NULL,
    registered     boolean NOT NULL,
    seen           boolean NOT NULL,
    lost_due_at    timestamptz,
    next_change_on date
);
CREATE INDEX cylinder_class_lost_due ON cylinder_class (lost_due_at)
    WHERE lost_due_at IS NOT NULL;
CREATE INDEX cylinder_class_next_change ON cylinder_class (next_change_on)
    WHERE next_change_on IS NOT NULL;

-- The counters, one table per figure, each keyed by only what its figure needs (so that a
-- city-wide figure sums a few thousand rows): the inventory per registered station (and so
-- per owner), medium and custody; compliance per owner and worst status; registration per
-- owner, in use or not, with usage registration or not, tag read in the field or not.
CREATE TABLE inventory_counts (
    owner   text NOT NULL,
    station text NOT NULL,
    medium  text NOT NULL,
    custody text NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (owner, station, medium, custody)
);
CREATE TABLE compliance_counts (
    owner      text NOT NULL,
    station    text NOT NULL,
    compliance text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (owner, station, compliance)
);
CREATE TABLE registration_counts (
    owner      text NOT NULL,
    in_use     boolean NOT NULL,
    registered boolean NOT NULL,
    seen       boolean NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (owner, in_use, registered, seen)
);

-- The settings the classes were computed with; the server rebuilds them when they change.
CREATE TABLE stats_meta (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    loss_after_days integer NOT NULL,
    due_soon_days   integer NOT NULL
);

CREATE FUNCTION stats_mark_cylinders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (cylinder_id) SELECT DISTINCT id FROM changed;
    RETURN NULL;
END $$;

CREATE FUNCTION stats_mark_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (cylinder_id) SELECT DISTINCT cylinder_id FROM changed;
    RETURN NULL;
END $$;

-- A station given to another enterprise changes whether the cylinders stocked there are in
-- their owner's hands (and so whether they can be lost).
CREATE FUNCTION stats_mark_station() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (cylinder_id)
        SELECT cylinder_id FROM cylinder_state
        WHERE place_kind = 'station' AND place_code = NEW.code;
    RETURN NULL;
END $$;

CREATE TRIGGER cylinders_inserted AFTER INSERT ON cylinders
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_cylinders();
CREATE TRIGGER cylinders_updated AFTER UPDATE ON cylinders
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_cylinders();
CREATE TRIGGER cylinder_state_inserted AFTER INSERT ON cylinder_state
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_states();
CREATE TRIGGER cylinder_state_updated AFTER UPDATE ON cylinder_state
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_states();
CREATE TRIGGER stations_owner_changed AFTER UPDATE OF enterprise_code ON stations
    FOR EACH ROW WHEN (OLD.enterprise_code IS DISTINCT FROM NEW.enterprise_code)
    EXECUTE FUNCTION stats_mark_station();

-- Cylinders registered before this migration are classified by the first refresh.
INSERT INTO stats_dirty (cylinder_id) SELECT id FROM cylinders;
