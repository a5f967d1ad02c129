-- Autovacuum of the two append-only logs written at the guns' rate (filling decisions, the
-- audit log). An insert-only table is still vacuumed (to mark its pages all-visible and, later,
-- frozen); by default that happens when the rows inserted since the last time exceed 20 % of the
-- table, so the larger the log, the larger and rarer each vacuum: every page it marks is
-- dirtied and written back through vacuum's small ring of buffers, each write flushing the WAL
-- first, beside the decisions' own commits. A fixed threshold keeps each vacuum small and
-- regular (every 100,000 rows: under a minute at 2,000 decisions/s, a few times a day at a
-- city's ordinary rate), and a gentler pace (10 ms pauses instead of 2: about 8 MB/s of
-- dirtied pages instead of 40) spreads its writes; at 2,000 decisions/s the two logs grow by
-- about 220 pages/s, a fifth of that pace (BENCHMARKS.md, issue 5).
ALTER TABLE filling_decisions SET (
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_vacuum_cost_delay = 10
);
ALTER TABLE audit_log SET (
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 100000,
    autovacuum_vacuum_cost_delay = 10
);
