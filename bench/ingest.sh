#!/usr/bin/env bash
# Benchmark: durable ingest rate of POST /api/v1/events end to end, against a raw PostgreSQL
# COPY of the same rows into a table of the same shape and indexes, in the same run, on the
# same database.
#
# Ours: `cylwatch-sim load-ingest` posts N GPS fixes (100 vehicles) in batches of BATCH events from
# CONCURRENCY senders to the real server (`server` profile, scratch database cloned from
# `cylwatch_template`, its pipeline running). Figure 1: events per second from the first
# request to the last 202 (a 202 means committed to PostgreSQL with its outbox rows). Figure 2:
# the time from the first request until the pipeline has applied them all (outbox, stream lag
# and pending entries zero; then vehicle_positions is checked to hold every vehicle's last fix).
# Baseline: `psql \copy` of the same rows (the columns the server writes: id, kind,
# occurred_at, vehicle_plate, location, payload, device_id, enterprise_code; the payload as the
# server stores it) into `events_copy (LIKE events INCLUDING ALL)`, once before and once after
# ours (truncated between); the faster one is the baseline.
#
#   bash bench/ingest.sh                              # N=200000 BATCH=1000 CONCURRENCY=4
#   N=50000 CONCURRENCY=8 bash bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
BATCH=${BATCH:-1000}
CONCURRENCY=${CONCURRENCY:-4}
VEHICLES=${VEHICLES:-100}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
# BIN and SIM may name other builds (an A/B of two servers under one generator); BUILD=0 skips
# the build.
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_ingest
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-ingest-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
[ -n "$PORT" ] || { echo "the server did not start"; cat "$WORK/err"; exit 1; }
BASE=http://127.0.0.1:$PORT
API=$BASE/api/v1
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$API/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "cannot sign in"; cat "$WORK/err"; exit 1; }
post() { # path body → answer; fails unless 2xx
  local status
  status=$(curl -sS -o "$WORK/answer" -w '%{http_code}' -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' --data-binary "$2" "$API/$1")
  case $status in 2??) cat "$WORK/answer" ;; *) echo "POST $1: $status $(head -c 400 "$WORK/answer")" >&2; return 1 ;; esac
}
post enterprises '{"code":"ENT1","name":"基准燃气","credit_code":"91410100X","district_code":"410105","address":"郑州","filling_licence_no":"F1","filling_licence_expires":"2030-01-01","gas_licence_no":"G1","gas_licence_expires":"2030-01-01","media":["LPG"]}' >/dev/null
KEY=$(post devices '{"device_id":"gateway","kind":"gps","enterprise_code":"ENT1"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$KEY" ] || { echo "no device key"; exit 1; }

# The same events for both sides: deterministic from the seed and the start time (an hour ago,
# so that the fixes, one second apart per vehicle, all lie in the past).
START_AT=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
GEN=("$SIM" load-ingest --api "$BASE" --events "$N" --batch "$BATCH" --concurrency "$CONCURRENCY"
  --vehicles "$VEHICLES" --start-at "$START_AT" --device-id gateway --enterprise ENT1)
"${GEN[@]}" --write-csv "$WORK/events.csv" >/dev/null
ls -l "$WORK/events.csv" | awk '{printf "CSV: %s bytes\n", $5}' >&2
psql -qAtX "$URL" -c "CREATE TABLE events_copy (LIKE events INCLUDING ALL)"
COLUMNS="id, kind, occurred_at, vehicle_plate, location, payload, device_id, enterprise_code"
copy() { # → seconds of one \copy of the CSV into the empty events_copy
  psql -qAtX "$URL" -c "TRUNCATE events_copy" -c "VACUUM ANALYZE events_copy"
  local t0 t1
  t0=$(date +%s.%N)
  psql -qAtX "$URL" -c "\\copy events_copy ($COLUMNS) FROM '$WORK/events.csv' (FORMAT csv)"
  t1=$(date +%s.%N)
  python3 -c "print(round($t1 - $t0, 3))"
}
sleep 2
echo "baseline: psql \\copy of $N rows ..." >&2
COPY1=$(copy)
echo "  $COPY1 s" >&2
sleep 2

echo "ours: $N events, batches of $BATCH, $CONCURRENCY senders ..." >&2
"${GEN[@]}" --device-key "$KEY" --token "$TOKEN" > "$WORK/ours"
cat "$WORK/ours" >&2

# Checks: every event stored once, every vehicle at its last fix, nothing filtered.
stored=$(psql -qAtX "$URL" -c "SELECT count(*) FROM events")
positions=$(psql -qAtX "$URL" -c "SELECT count(*) FROM vehicle_positions p WHERE p.occurred_at = (SELECT max(occurred_at) FROM events e WHERE e.vehicle_plate = p.plate)")
filtered=$(psql -qAtX "$URL" -c "SELECT count(*) FROM filtered_fixes")
dead=$(psql -qAtX "$URL" -c "SELECT count(*) FROM pipeline_dead_letters")
same=$(psql -qAtX "$URL" -c "SELECT count(*) FROM events e JOIN events_copy c USING (id) WHERE e.payload = c.payload AND e.location = c.location AND e.occurred_at = c.occurred_at")
echo "checks: $stored events stored, $positions of $VEHICLES vehicles at their last fix, $filtered fixes filtered, $dead dead letters" >&2

sleep 2
echo "baseline again: psql \\copy of $N rows ..." >&2
COPY2=$(copy)
echo "  $COPY2 s" >&2
echo "rows identical to the server's (payload, location, occurred_at): $same of $N" >&2

kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
echo "server errors logged, by message:" >&2
sed 's/\x1b\[[0-9;]*m//g' "$WORK/err" | sed -n 's/.* ERROR [^ ]* \(.\{0,90\}\).*/\1/p' | sed 's/[0-9]\{2,\}/N/g' | sort | uniq -c | sort -rn | head -5 >&2

python3 - "$WORK/ours" "$N" "$COPY1" "$COPY2" "$stored" "$positions" "$VEHICLES" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))
n, copy1, copy2 = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
stored, positions, vehicles = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
copy = min(copy1, copy2)
copy_rate = n / copy
print()
print("| run | events | time | events/s | / COPY |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| psql \\copy (before) | {n:,} | {copy1:.2f} s | {n / copy1:,.0f} | |")
print(f"| psql \\copy (after) | {n:,} | {copy2:.2f} s | {n / copy2:,.0f} | |")
print(f"| POST /events, {ours['concurrency']} senders × {ours['batch']}: last 202 | {ours['accepted']:,} | "
      f"{ours['committed_s']:.2f} s | {ours['committed_per_s']:,.0f} | {ours['committed_per_s'] / copy_rate:.2f} |")
if ours.get("applied_s") is not None:
    print(f"| … pipeline applied all | {ours['accepted']:,} | {ours['applied_s']:.2f} s | "
          f"{ours['applied_per_s']:,.0f} | {ours['applied_per_s'] / copy_rate:.2f} |")
else:
    print("| … pipeline applied all | | not within the wait | | |")
print()
print(f"batch latency: p50 {ours['batch_p50_ms']:.1f} ms, p99 {ours['batch_p99_ms']:.1f} ms, max {ours['batch_max_ms']:.1f} ms")
ratio = ours["committed_per_s"] / copy_rate
ok = ratio >= 0.40 and ours["accepted"] == n and stored == n and positions == vehicles
print(f"ratio ingest / COPY: {ratio:.3f} (goal >= 0.40): {'met' if ok else 'NOT met'}")
PY
