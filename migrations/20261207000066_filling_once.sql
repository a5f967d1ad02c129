-- A filling record is kept once (issue 24, found building the fault suite): a gun that sends
-- its record again — its answer lost to a killed server or a cut connection, the same body
-- retried — had it kept twice (two records, two `filling` history rows, counted twice in the
-- statistics, its alerts twice). A record is the gun's filling of one cylinder from one start
-- to one end: `POST /api/v1/fillings` keeps the first and answers a repeat with it.
--
-- Repeats already kept go first, with their history rows. The one kept is the first of them in
-- replay order (ties go by id); a repeat, replayed after it at the same time, was a filling of
-- a full cylinder: no impossible step (no flag), the same custody, the same newest filling. So
-- every cylinder's state, flag count and kept filling facts stay what its history says.
CREATE TEMPORARY TABLE filling_repeats ON COMMIT DROP AS
SELECT id FROM (
    SELECT id, row_number() OVER (
        PARTITION BY cylinder_id, station_code, gun_no, started_at, ended_at
        ORDER BY id) AS n
    FROM fillings) ranked
WHERE n > 1;

DELETE FROM cylinder_events ce USING filling_repeats r
WHERE ce.event_id = r.id AND ce.kind = 'filling';
DELETE FROM fillings f USING filling_repeats r WHERE f.id = r.id;

CREATE UNIQUE INDEX fillings_once
    ON fillings (cylinder_id, station_code, gun_no, started_at, ended_at);
