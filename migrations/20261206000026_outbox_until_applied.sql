-- An event's outbox row stays until the pipeline has applied it (issue 20 item 8). Before, the
-- relay deleted it once the event was on the Redis stream, so a Redis that lost its streams
-- lost those events for good. Now:
--   relayed_at  NULL until the relay puts it on the stream; set back to NULL to relay again
--               (Redis came back empty, or it was relayed long ago and is still not applied);
--   dead        the pipeline dead-lettered it: not relayed again, still "not applied";
--   cylinder_code  the cylinder a scan, check or inspection names (a tag resolved to its
--               cylinder): the filling decision refuses (E02) while such a row exists.
ALTER TABLE event_outbox
    ADD COLUMN relayed_at    timestamptz,
    ADD COLUMN dead          boolean NOT NULL DEFAULT false,
    ADD COLUMN cylinder_code text;

CREATE UNIQUE INDEX event_outbox_event ON event_outbox (event_id);
CREATE INDEX event_outbox_unrelayed ON event_outbox (seq) WHERE relayed_at IS NULL AND NOT dead;
CREATE INDEX event_outbox_cylinder ON event_outbox (cylinder_code) WHERE cylinder_code IS NOT NULL;

-- Rows here now were not relayed yet (relayed rows were deleted); name their cylinders.
UPDATE event_outbox o
SET cylinder_code = coalesce(e.payload -> 'cylinder' ->> 'cylinder_code',
                             e.payload ->> 'cylinder_code', c.code)
FROM events e
LEFT JOIN cylinders c ON c.tag_id = e.payload -> 'cylinder' ->> 'tag_id'
WHERE e.id = o.event_id;
