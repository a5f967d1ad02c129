-- The filling decisions and the audit log are append-only logs written at the guns' rate and
-- read through their indexes (station and time, actor and time). While they are young the
-- insert-driven autovacuum analyzes them about once a minute; with the default sample (30,000
-- rows) that cost 0.3 s + 0.1 s of CPU at 225,000 decisions, a stall the guns felt every minute
-- at 2,000 decisions/s (BENCHMARKS.md, issue 5). A sample of 3,000 rows (statistics target 10)
-- is plenty for their few access paths; analyzing them takes about a tenth as long.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT attrelid::regclass AS tbl, attname
        FROM pg_attribute
        WHERE attrelid IN ('filling_decisions'::regclass, 'audit_log'::regclass)
          AND attnum > 0 AND NOT attisdropped
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS 10', col.tbl, col.attname);
    END LOOP;
END
$$;
