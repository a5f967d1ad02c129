-- A fence is an area (issue 19): the fence index reads Polygon and MultiPolygon geometry only,
-- and a fence it cannot read is now an error of the fence stage rather than silently skipped.
-- The API refuses other geometry (400 naming geometry.type); the table holds to the same. A
-- database with such a fence stored before (closed ones included: the constraint holds for
-- every row) refuses this migration, naming each: give it a polygon, then start again.
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(id::text || ' (' || CASE WHEN ST_IsEmpty(geom) THEN 'empty '
                                              ELSE '' END || GeometryType(geom) || ')',
                      ', ' ORDER BY id) INTO bad
    FROM geofences WHERE GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON') OR ST_IsEmpty(geom);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'geofences that are not polygons: %; give each a polygon before this migration', bad;
    END IF;
END $$;

ALTER TABLE geofences ADD CONSTRAINT geofences_polygon
    CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON') AND NOT ST_IsEmpty(geom));
