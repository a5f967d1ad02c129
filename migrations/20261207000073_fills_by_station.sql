-- The incident context's "filled together" list (issue 22): the fillings of one station
-- within two hours of a time. Without it the window is read through cylinder_events_occurred,
-- every station's history rows of those four hours (about 256,000 at 3,000,000 cylinders and
-- 20,000,000 history rows), and filtered by station; with it, only the station's fills.
-- The predicate is the statement's own (`IS_FILLING` in store/incident_context.rs).
CREATE INDEX IF NOT EXISTS cylinder_events_fills_by_station
    ON cylinder_events (station_code, occurred_at)
    WHERE op = 'fill' AND kind IN ('filling', 'scan');
