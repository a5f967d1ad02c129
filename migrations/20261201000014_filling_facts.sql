-- The facts a filling decision reads about a cylinder's past, kept on its state row so that the
-- gun's question is a primary-key read (issue 5). They are computed by `filling_facts` inside
-- the same transaction as every history write (store::custody::replay → write_state), so they
-- are exact, never a cache: a history row and the facts it implies commit together.
ALTER TABLE cylinder_state
    ADD COLUMN last_fill_started_at timestamptz,
    ADD COLUMN circulated_since_fill boolean NOT NULL DEFAULT false,
    ADD COLUMN last_pre_check_at timestamptz,
    ADD COLUMN post_checked boolean NOT NULL DEFAULT false;

-- A cylinder's filling facts from its whole history: the newest filling (filling record or
-- `fill` scan: its end and its start), whether it went out (load or deliver) and came back
-- (collect_empty or return_in, later) after that filling, its newest passed pre-fill check,
-- and whether a post-fill check was made at or after the newest filling's start.
CREATE FUNCTION filling_facts(cid bigint,
    OUT last_filled_at timestamptz, OUT last_fill_started_at timestamptz,
    OUT circulated boolean, OUT last_pre_check_at timestamptz, OUT post_checked boolean)
LANGUAGE sql STABLE AS $$
    WITH l AS (
        SELECT max(f.ended) AS ended, max(f.started) AS started FROM (
            SELECT ended_at AS ended, started_at AS started FROM fillings WHERE cylinder_id = cid
            UNION ALL
            SELECT occurred_at, occurred_at FROM cylinder_events
            WHERE cylinder_id = cid AND kind = 'scan' AND op = 'fill'
        ) f
    )
    SELECT l.ended, l.started,
           EXISTS (
               SELECT 1 FROM cylinder_events o JOIN cylinder_events i
                 ON i.cylinder_id = o.cylinder_id AND i.occurred_at > o.occurred_at
               WHERE o.cylinder_id = cid AND o.kind = 'scan' AND o.op IN ('load', 'deliver')
                 AND o.occurred_at > coalesce(l.ended, '-infinity')
                 AND i.kind = 'scan' AND i.op IN ('collect_empty', 'return_in')
           ),
           (SELECT max(occurred_at) FROM cylinder_events
             WHERE cylinder_id = cid AND kind = 'check' AND op = 'pre'
               AND (details->>'passed')::boolean),
           EXISTS (
               SELECT 1 FROM cylinder_events
               WHERE cylinder_id = cid AND kind = 'check' AND op = 'post'
                 AND occurred_at >= coalesce(l.started, '-infinity')
           )
    FROM l
$$;

-- Existing states get their facts; the statistics counters do not depend on these columns, so
-- the backfill does not queue every cylinder for reclassification.
ALTER TABLE cylinder_state DISABLE TRIGGER cylinder_state_updated;
UPDATE cylinder_state s SET last_fill_started_at = f.last_fill_started_at,
       circulated_since_fill = f.circulated, last_pre_check_at = f.last_pre_check_at,
       post_checked = f.post_checked
FROM cylinder_state t CROSS JOIN LATERAL filling_facts(t.cylinder_id) f
WHERE s.cylinder_id = t.cylinder_id;
ALTER TABLE cylinder_state ENABLE TRIGGER cylinder_state_updated;
