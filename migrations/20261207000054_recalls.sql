-- Issue 22 item 3: recalls. A regulator recalls a set of cylinders; each recalled cylinder is
-- refused at every gun (R16) until it is inspected or cleared. Progress (located, recovered,
-- inspected) follows from the cylinder's history as the pipeline applies it.
CREATE TABLE recalls (
    id             uuid PRIMARY KEY,
    reason         text NOT NULL,
    incident_id    uuid REFERENCES incidents (id),
    -- What was recalled: the criteria as posted (codes, station and window, or manufacturer
    -- and production batch).
    criteria       jsonb NOT NULL,
    cylinder_count integer NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recall_cylinders (
    recall_id       uuid NOT NULL REFERENCES recalls (id),
    cylinder_id     bigint NOT NULL REFERENCES cylinders (id),
    -- The owner when recalled: an enterprise sees its own share.
    enterprise_code text NOT NULL,
    recalled_at     timestamptz NOT NULL,
    located_at      timestamptz,
    recovered_at    timestamptz,
    inspected_at    timestamptz,
    cleared_at      timestamptz,
    cleared_by      text,
    clear_note      text,
    PRIMARY KEY (recall_id, cylinder_id)
);
CREATE INDEX recall_cylinders_cylinder ON recall_cylinders (cylinder_id);
CREATE INDEX recall_cylinders_enterprise ON recall_cylinders (recall_id, enterprise_code);
-- The gun's question (R16): is this cylinder under an open recall?
CREATE INDEX recall_cylinders_open ON recall_cylinders (cylinder_id)
    WHERE inspected_at IS NULL AND cleared_at IS NULL;

-- Progress from the history as it is applied: any record after the recall locates the
-- cylinder; an inbound scan (collect_empty, return_in, store_in) recovers it; an inspection
-- after the recall ends its refusal. One statement per batch of history rows.
CREATE FUNCTION recall_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE recall_cylinders r SET
        located_at = coalesce(r.located_at, h.first_at),
        recovered_at = coalesce(r.recovered_at, h.recovered_at),
        inspected_at = coalesce(r.inspected_at, h.inspected_at)
    FROM (
        SELECT n.cylinder_id, rc.recall_id,
               min(n.occurred_at) AS first_at,
               min(n.occurred_at) FILTER (WHERE n.kind = 'scan'
                   AND n.op IN ('collect_empty', 'return_in', 'store_in')) AS recovered_at,
               min(n.occurred_at) FILTER (WHERE n.kind = 'inspection') AS inspected_at
        FROM new_rows n
        JOIN recall_cylinders rc ON rc.cylinder_id = n.cylinder_id
            AND n.occurred_at >= rc.recalled_at
        GROUP BY n.cylinder_id, rc.recall_id
    ) h
    WHERE r.cylinder_id = h.cylinder_id AND r.recall_id = h.recall_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER recall_progress AFTER INSERT ON cylinder_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recall_progress();
