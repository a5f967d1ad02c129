-- The registry: who operates, where, with whom, and every cylinder's archive (seed 004 App. A).

CREATE TABLE enterprises (
    code                    text PRIMARY KEY,
    name                    text NOT NULL,
    credit_code             text NOT NULL,
    district_code           text NOT NULL,
    address                 text NOT NULL,
    filling_licence_no      text,
    filling_licence_expires date,
    gas_licence_no          text,
    gas_licence_expires     date,
    media                   text[] NOT NULL,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stations (
    code             text PRIMARY KEY,
    enterprise_code  text NOT NULL REFERENCES enterprises (code),
    name             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('filling', 'distribution', 'warehouse', 'inspection')),
    location         geometry(Point, 4326) NOT NULL,
    radius_m         double precision NOT NULL CHECK (radius_m > 0),
    full_stock_limit integer NOT NULL CHECK (full_stock_limit >= 0),
    district_code    text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stations_enterprise ON stations (enterprise_code);
CREATE INDEX stations_location ON stations USING gist (location);

CREATE TABLE customers (
    code             text PRIMARY KEY,
    enterprise_code  text NOT NULL REFERENCES enterprises (code),
    name             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('household', 'restaurant', 'industrial')),
    phone            text NOT NULL,
    address          text NOT NULL,
    location         geometry(Point, 4326) NOT NULL,
    district_code    text NOT NULL,
    full_stock_limit integer NOT NULL CHECK (full_stock_limit >= 0),
    licence_no       text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_enterprise ON customers (enterprise_code);
CREATE INDEX customers_location ON customers USING gist (location);

CREATE TABLE staff (
    staff_no            text PRIMARY KEY,
    enterprise_code     text NOT NULL REFERENCES enterprises (code),
    name                text NOT NULL,
    role                text NOT NULL CHECK (role IN ('filler', 'driver', 'warehouse', 'inspector', 'repair')),
    certificate_no      text,
    certificate_expires date,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_enterprise ON staff (enterprise_code);

CREATE TABLE vehicles (
    plate            text PRIMARY KEY,
    enterprise_code  text NOT NULL REFERENCES enterprises (code),
    gps_device_id    text,
    reader_device_id text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_enterprise ON vehicles (enterprise_code);

-- Devices and their keys are issued through POST /api/v1/devices (access control).
CREATE TABLE devices (
    device_id       text PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('gps', 'reader', 'controller', 'phone')),
    enterprise_code text NOT NULL REFERENCES enterprises (code),
    vehicle_plate   text,
    station_code    text,
    key_hash        text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE geofences (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('site', 'restricted', 'corridor')),
    geom            geometry(Geometry, 4326) NOT NULL,
    enterprise_code text REFERENCES enterprises (code),
    vehicle_plates  text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX geofences_geom ON geofences USING gist (geom);

-- One cylinder, one code, one tag: both unique for ever (rows are never deleted, so a scrapped
-- cylinder's tag stays taken: void).
CREATE TABLE cylinders (
    id                     bigserial PRIMARY KEY,
    code                   text NOT NULL UNIQUE,
    tag_id                 text NOT NULL UNIQUE,
    medium                 text NOT NULL,
    tare_kg                double precision NOT NULL,
    volume_l               double precision NOT NULL,
    working_pressure_mpa   double precision NOT NULL,
    test_pressure_mpa      double precision NOT NULL,
    wall_thickness_mm      double precision NOT NULL,
    max_fill_kg            double precision NOT NULL,
    design_life_years      integer NOT NULL,
    manufacturer           text NOT NULL,
    manufactured_on        date NOT NULL,
    product_standard       text NOT NULL,
    manufacture_licence_no text NOT NULL,
    last_inspected_on      date NOT NULL,
    next_inspection_on     date NOT NULL,
    registration_no        text,
    registered_on          date,
    registration_authority text,
    owner_enterprise_code  text NOT NULL REFERENCES enterprises (code),
    station_code           text NOT NULL REFERENCES stations (code),
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cylinders_owner ON cylinders (owner_enterprise_code, id);
CREATE INDEX cylinders_station ON cylinders (station_code);

-- Each cylinder's history (钢瓶历史跟踪): one row per event that concerns it, derived by the
-- pipeline from the events table. `custody_after` and `flag` are recomputed by replaying the
-- cylinder's rows in event-time order whenever a late event lands among them.
CREATE TABLE cylinder_events (
    cylinder_id     bigint NOT NULL REFERENCES cylinders (id),
    event_id        uuid NOT NULL,
    kind            text NOT NULL,
    op              text,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    station_code    text,
    customer_code   text,
    to_station_code text,
    vehicle_plate   text,
    staff_no        text,
    location        geometry(Point, 4326),
    mass_before_kg  double precision,
    mass_after_kg   double precision,
    details         jsonb,
    custody_after   text NOT NULL,
    flag            text,
    PRIMARY KEY (cylinder_id, event_id)
);
CREATE INDEX cylinder_events_time ON cylinder_events (cylinder_id, occurred_at, event_id);

-- Each cylinder's current state: what its newest event by event time says.
CREATE TABLE cylinder_state (
    cylinder_id        bigint PRIMARY KEY REFERENCES cylinders (id),
    custody            text NOT NULL,
    place_kind         text,
    place_code         text,
    custody_at         timestamptz,
    last_seen_at       timestamptz,
    location           geometry(Point, 4326),
    last_filled_at     timestamptz,
    flagged            integer NOT NULL DEFAULT 0,
    last_inspected_on  date,
    next_inspection_on date,
    scrapped_at        timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cylinder_state_custody ON cylinder_state (custody, last_seen_at);

-- Which tags each vehicle's reader saw last, to tell which tags left the vehicle.
CREATE TABLE vehicle_tags (
    plate       text PRIMARY KEY,
    tag_ids     text[] NOT NULL,
    occurred_at timestamptz NOT NULL,
    event_id    uuid NOT NULL
);

-- Events naming a cylinder code or tag the registry does not know (illegal tags, late
-- registrations): kept for the alerts, never dropped.
CREATE TABLE unresolved_refs (
    event_id    uuid NOT NULL,
    ref_kind    text NOT NULL CHECK (ref_kind IN ('cylinder_code', 'tag_id')),
    ref_value   text NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (event_id, ref_kind, ref_value)
);
