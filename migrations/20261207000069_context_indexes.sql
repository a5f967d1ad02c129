-- An incident's context at a city's size (issue 22's benchmark): cylinders last seen near a
-- place are found through a spatial index on their state's location (the queries filter by
-- a bounding box on geometry first, then by exact distance on geography), and the batch of
-- the same manufacturer and production batch through a btree. The state's index adds one
-- index entry per location change to the pipeline's writes.
CREATE INDEX cylinder_state_location ON cylinder_state USING gist (location)
    WHERE location IS NOT NULL;
CREATE INDEX cylinders_production_batch ON cylinders (manufacturer, production_batch)
    WHERE production_batch IS NOT NULL;
