#!/usr/bin/env bash
# Samples a test's own PostgreSQL while it runs (e.g. the fault suite's long run, bench/chaos.sh):
# every PostgreSQL listening on a port other than 5432 (the suites start theirs on free ports,
# user `postgres`, trust auth), each of its databases: the outbox (acknowledged events not yet
# applied; those not yet relayed) and what its busy backends are doing (a backend "idle in
# transaction" waiting on ClientRead is the server between statements: round trips).
#
#   EVERY=30 bash bench/pg-sample.sh > samples.log &    # beside bash bench/chaos.sh
#
# For where the time goes inside PostgreSQL, load pg_stat_statements into the suite's cluster
# while it runs: `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'` (psql -h
# 127.0.0.1 -p PORT -U postgres), and after the suite's next PostgreSQL restart (a
# PostgresImmediate fault) `CREATE EXTENSION pg_stat_statements` in its database.
set -uo pipefail
while true; do
  for port in $(ss -ltnp 2>/dev/null | grep '"postgres"' | awk '{print $4}' | sed 's/.*://' | sort -u | grep -v '^5432$'); do
    for db in $(psql -h 127.0.0.1 -p "$port" -U postgres -Atc "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','template0','template1')" 2>/dev/null); do
      echo "== $(date +%T) port $port db $db"
      psql -h 127.0.0.1 -p "$port" -U postgres -d "$db" -Atc "SELECT 'outbox', count(*), count(*) FILTER (WHERE relayed_at IS NULL) FROM event_outbox" 2>&1 | head -2
      psql -h 127.0.0.1 -p "$port" -U postgres -d "$db" -Atc "SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\s+', ' ', 'g'), 140), round(extract(epoch FROM now() - query_start)::numeric, 2) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'" 2>&1 | head -20
    done
  done
  sleep "${EVERY:-15}"
done
