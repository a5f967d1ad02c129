-- A station's or customer's district is the one its point lies in on the base map (issue 20
-- item 4), no longer what the client sent. The base map is not in the database (it is a file,
-- `basemap_path`, read at start), so the existing rows are recomputed by the server at start,
-- once per base map: this table remembers which base maps (by SHA-256 of the file) every
-- station's and customer's district was recomputed against. A new base map recomputes again.
CREATE TABLE basemap_applied (
    fingerprint text PRIMARY KEY,
    districts   integer NOT NULL,
    changed     integer NOT NULL,
    outside     integer NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
