-- Each vehicle's current stop (where it has been standing since when), for suspicious_stop.
CREATE TABLE vehicle_stops (
    plate text PRIMARY KEY,
    lon   double precision NOT NULL,
    lat   double precision NOT NULL,
    since timestamptz NOT NULL,
    noted boolean NOT NULL DEFAULT false
);
