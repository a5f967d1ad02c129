#!/usr/bin/env bash
# Benchmark: incidents and recalls (issue 22), on a city-sized registry, through the real server
# (`server` profile, scratch database cloned from `cylwatch_template`, its own Redis prefix).
#
# The city, generated in SQL behind the server's back (stats.sh's generator, grown): 100
# enterprises in 12 districts, 500 filling stations (a filler each), N_CUSTOMERS customers on
# a grid over the city, 3,000 vehicles with a live position and a driver each, N_CYLINDERS
# cylinders (7 manufacturers, production batches of ~500) and N_HISTORY history rows: each
# cylinder cycles fill (station, gun, filler, masses) → post-fill check → delivery (vehicle,
# driver, customer) → return, a step every two days, the newest step today; its current
# state (custody, place, location) is its newest step. About 120 cylinders share a filling
# batch (the same station within ±2 h).
#
# (a) Context assembly: N_INCIDENTS incidents opened through the API, each about a different
#     cylinder; GET /api/v1/incidents/{id}/context of each, one warm-up pass then PASSES
#     passes, one request at a time over one connection (lists of 100, the default; then
#     one pass with ?limit=1); baseline in the same run:
#     GET /api/v1/cylinders/{code} (a primary-key read) of the same cylinders, the same way.
#     p95 of each and the ratio (goal <= 300 ms and <= 20x). Then EXPLAIN ANALYZE of the
#     context's spatial and batch queries (copies of store/incident_context.rs's statements,
#     whole-city scope) for the first incident's cylinder, to show where the time goes.
# (b) Recall of N_RECALL cylinders: `cylwatch-sim load-recall` checks that 100 cylinders with
#     a clean history (built through the API as bench/authorize.sh does) are allowed at the
#     gun, posts POST /api/v1/recalls naming them and N_RECALL - 100 city cylinders, and asks
#     the gun about the 100 until all are refused with R16: the time from the POST until then.
# (c) Authorize p99 at RATE/s (`cylwatch-sim load-authorize`, open loop, DURATION s, 1,000 other
#     cylinders with a clean history, every answer "allowed") with no cylinder under recall,
#     then again after the recall of (b) and a second one bring N_RECALLED cylinders under
#     recall (goal: p99 with / p99 without <= 1.2). The run under recall is made twice: at once
#     after the recall (shown apart: the first seconds after a recall of many were slower) and
#     SETTLE s (10) later, the one the goal is about.
#
#   bash bench/incidents.sh      # 3,000,000 cylinders, 20,000,000 history rows (generation: minutes)
#   N_CYLINDERS=30000 N_HISTORY=200000 N_INCIDENTS=12 PASSES=2 N_RECALL=1000 N_RECALLED=10000 \
#     RATE=500 DURATION=5 SETTLE=2 bash bench/incidents.sh   # a small run: about a minute
#   KEEP=1 bash bench/incidents.sh   # leave the database cylwatch_bench_incidents behind
#   REUSE=1 KEEP=1 bash bench/incidents.sh   # (a) only, on the database a KEEP=1 run left
#                                # (same N_CYLINDERS; the server migrates it first): no generation
set -euo pipefail
cd "$(dirname "$0")/.."
N_CYLINDERS=${N_CYLINDERS:-3000000}
N_HISTORY=${N_HISTORY:-20000000}
N_CUSTOMERS=${N_CUSTOMERS:-50000}
N_INCIDENTS=${N_INCIDENTS:-36}
PASSES=${PASSES:-3}
N_RECALL=${N_RECALL:-10000}
N_RECALLED=${N_RECALLED:-100000}
RATE=${RATE:-2000}
DURATION=${DURATION:-20}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
# BIN and SIM may name other builds; BUILD=0 skips the build.
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_incidents
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-incidents-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
[ "$N_RECALL" -ge 200 ] || { echo "N_RECALL must be at least 200 (100 of them are the sample)"; exit 1; }
[ "$N_RECALLED" -le 100000 ] && [ "$N_RECALLED" -ge "$N_RECALL" ] || { echo "N_RECALL <= N_RECALLED <= 100000"; exit 1; }
[ $((N_RECALLED + 1000)) -le "$N_CYLINDERS" ] || { echo "N_CYLINDERS must exceed N_RECALLED + 1000"; exit 1; }
[ "$N_HISTORY" -ge "$N_CYLINDERS" ] || { echo "N_HISTORY must be at least N_CYLINDERS (a filling each)"; exit 1; }

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
REUSE=${REUSE:-0}
if [ "$REUSE" = 1 ]; then
  [ -n "${KEEP:-}" ] || { echo "REUSE=1 needs KEEP=1 (the database would be dropped at the end)"; exit 1; }
  psql -qAtX "$URL" -c "SELECT 1" >/dev/null || { echo "no database $DB to reuse: run with KEEP=1 first"; exit 1; }
else
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
fi
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

if [ "$REUSE" != 1 ]; then
echo "generating $N_CYLINDERS cylinders and $N_HISTORY history rows ..." >&2
start=$(date +%s.%N)
psql -qAtX -v ON_ERROR_STOP=1 "$URL" <<SQL
INSERT INTO enterprises (code, name, credit_code, district_code, address, filling_licence_no,
    filling_licence_expires, gas_licence_no, gas_licence_expires, media)
SELECT 'E' || i, '企业' || i, '9141' || i, (ARRAY['410102','410103','410104','410105','410106',
       '410108','410122','410181','410182','410183','410184','410185'])[1 + i % 12], '郑州',
       'F' || i, '2030-01-01', 'G' || i, '2030-01-01', ARRAY['LPG','DME','N2O','O2']
FROM generate_series(0, 99) i;
INSERT INTO stations (code, enterprise_code, name, kind, location, radius_m, full_stock_limit)
SELECT 'S' || i, 'E' || (i % 100), '站' || i, 'filling',
       ST_SetSRID(ST_MakePoint(113.4 + (i % 50) * 0.01, 34.6 + (i / 50) * 0.03), 4326), 100, 500
FROM generate_series(0, 499) i;
INSERT INTO customers (code, enterprise_code, name, kind, phone, address, location,
    district_code, full_stock_limit)
SELECT 'CU' || j, 'E' || (j % 100), '用户' || j, (ARRAY['household','restaurant','industrial'])[1 + j % 3],
       '1380000' || lpad((j % 10000)::text, 4, '0'), '郑州',
       ST_SetSRID(ST_MakePoint(113.45 + (j % 250) * 0.0016, 34.62 + (j / 250) * (0.26 / greatest(1, $N_CUSTOMERS / 250))), 4326),
       '410105', 10
FROM generate_series(0, $N_CUSTOMERS - 1) j;
INSERT INTO staff (staff_no, enterprise_code, name, role, certificate_no, certificate_expires)
SELECT 'F' || i, 'E' || (i % 100), '充装工' || i, 'filler', 'TS-F' || i, '2030-01-01'
FROM generate_series(0, 499) i;
INSERT INTO staff (staff_no, enterprise_code, name, role)
SELECT 'D' || i, 'E' || (i % 100), '司机' || i, 'driver' FROM generate_series(0, 2999) i;
INSERT INTO vehicles (plate, enterprise_code) SELECT '豫V' || lpad(i::text, 5, '0'), 'E' || (i % 100)
FROM generate_series(0, 2999) i;
INSERT INTO vehicle_positions (plate, location, speed_kmh, heading, occurred_at, event_id)
SELECT '豫V' || lpad(i::text, 5, '0'),
       ST_SetSRID(ST_MakePoint(113.45 + (i % 60) * 0.0066, 34.62 + (i / 60) * 0.0052), 4326),
       30, 90, now() - (i % 300) * interval '1 second', md5('vp' || i)::uuid
FROM generate_series(0, 2999) i;
INSERT INTO cylinders (code, tag_id, medium, tare_kg, volume_l, working_pressure_mpa,
    test_pressure_mpa, wall_thickness_mm, max_fill_kg, design_life_years, manufacturer,
    manufactured_on, product_standard, manufacture_licence_no, last_inspected_on,
    next_inspection_on, registration_no, registered_on, registration_authority,
    owner_enterprise_code, station_code, production_batch)
SELECT 'C' || i, 'T' || i, 'LPG', 16.4, 35.5, 2.1, 3.2, 2.6, 14.5, 15,
       '厂' || (i % 7), DATE '2012-01-01' + (i % 4000), 'GB 5842', 'TS1',
       DATE '2024-01-01' + (i % 700), DATE '2027-06-01' + (i % 700),
       'R' || i, DATE '2020-01-01', '郑州市市场监督管理局',
       'E' || (i % 100), 'S' || (i % 500), 'PB' || (i / 3500)
FROM generate_series(0, $N_CYLINDERS - 1) i;
SQL
BASE_ID=$(psql -qAtX "$URL" -c "SELECT min(id) FROM cylinders")
# History: row r is step k = r / N of cylinder x = r % N (id BASE_ID + x); steps cycle fill →
# post-fill check → delivery → return, two days apart, the newest today.
STEPS=$(( (N_HISTORY + N_CYLINDERS - 1) / N_CYLINDERS ))
psql -qAtX -v ON_ERROR_STOP=1 "$URL" <<SQL
ALTER TABLE cylinder_events SET (autovacuum_enabled = false);
INSERT INTO cylinder_events (cylinder_id, event_id, kind, op, occurred_at, received_at,
    station_code, customer_code, vehicle_plate, staff_no, mass_before_kg, mass_after_kg,
    details, custody_after)
SELECT $BASE_ID + x, md5('h' || r)::uuid,
       CASE WHEN k % 4 = 1 THEN 'check' ELSE 'scan' END,
       (ARRAY['fill', 'post', 'deliver', 'return_in'])[1 + k % 4],
       t, t,
       CASE WHEN k % 4 <> 2 THEN 'S' || (x % 500) END,
       CASE WHEN k % 4 = 2 THEN 'CU' || (x % $N_CUSTOMERS) END,
       CASE WHEN k % 4 = 2 THEN '豫V' || lpad((x % 3000)::text, 5, '0') END,
       CASE WHEN k % 4 IN (0, 1) THEN 'F' || (x % 500) WHEN k % 4 = 2 THEN 'D' || (x % 3000) END,
       CASE WHEN k % 4 = 0 THEN 16.5 END, CASE WHEN k % 4 = 0 THEN 31.0 END,
       CASE WHEN k % 4 = 0 THEN jsonb_build_object('gun_no', 'G' || (1 + x % 4))
            WHEN k % 4 = 1 THEN jsonb_build_object('passed', true) END,
       (ARRAY['in_stock_full', 'in_stock_full', 'at_customer', 'in_stock_empty'])[1 + k % 4]
FROM (SELECT r, r % $N_CYLINDERS AS x, r / $N_CYLINDERS AS k FROM generate_series(0, $N_HISTORY - 1) r) g,
     LATERAL (SELECT now() - ($STEPS - 1 - k) * interval '2 days' - (x % 86400) * interval '1 second'
                     - interval '10 minutes' AS t) tt;
ALTER TABLE cylinder_events RESET (autovacuum_enabled);
-- Each cylinder's state: its newest step.
INSERT INTO cylinder_state (cylinder_id, custody, place_kind, place_code, custody_at,
    last_seen_at, location, last_filled_at)
SELECT $BASE_ID + x,
       (ARRAY['in_stock_full', 'in_stock_full', 'at_customer', 'in_stock_empty'])[1 + last % 4],
       CASE WHEN last % 4 = 2 THEN 'customer' ELSE 'station' END,
       CASE WHEN last % 4 = 2 THEN 'CU' || (x % $N_CUSTOMERS) ELSE 'S' || (x % 500) END,
       t, t, coalesce(cu.location, st.location), t - (last % 4) * interval '2 days'
FROM (SELECT x, $N_HISTORY / $N_CYLINDERS - 1 + CASE WHEN x < $N_HISTORY % $N_CYLINDERS THEN 1 ELSE 0 END AS last
      FROM generate_series(0, $N_CYLINDERS - 1) x) g
CROSS JOIN LATERAL (SELECT now() - ($STEPS - 1 - last) * interval '2 days' - (x % 86400) * interval '1 second'
                           - interval '10 minutes' AS t) tt
LEFT JOIN customers cu ON last % 4 = 2 AND cu.code = 'CU' || (x % $N_CUSTOMERS)
LEFT JOIN stations st ON last % 4 <> 2 AND st.code = 'S' || (x % 500);
VACUUM ANALYZE enterprises, stations, customers, staff, vehicles, vehicle_positions, cylinders,
    cylinder_events, cylinder_state;
SQL
gen=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
echo "generated in ${gen}s: $(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinder_events") history rows" >&2
# The registry was written behind the server's back: the first figure classifies every
# cylinder once (see stats.sh); done now so that it does not run during the measurements.
curl -sS -f -o /dev/null -H "authorization: Bearer $TOKEN" "$API/stats/inventory"

# (b) and (c)'s cylinders with a clean history, through the API (bench/authorize.sh's).
post enterprises '{"code":"ENT1","name":"基准燃气","credit_code":"91410100X","district_code":"410105","address":"郑州","filling_licence_no":"F1","filling_licence_expires":"2030-01-01","gas_licence_no":"G1","gas_licence_expires":"2030-01-01","media":["LPG"]}' >/dev/null
post stations '{"code":"ST1","enterprise_code":"ENT1","name":"一号站","kind":"filling","location":{"lon":113.62,"lat":34.75},"radius_m":100,"full_stock_limit":200}' >/dev/null
post customers '{"code":"C1","enterprise_code":"ENT1","name":"顾客","kind":"restaurant","phone":"1","address":"郑州","location":{"lon":113.66,"lat":34.76},"district_code":"410105"}' >/dev/null
post staff '{"staff_no":"S1","enterprise_code":"ENT1","name":"充装工","role":"filler","certificate_no":"TS-1","certificate_expires":"2030-01-01"}' >/dev/null
python3 - "$WORK" <<'PY'
import json, sys, uuid, datetime
work = sys.argv[1]
codes = [f"CY{i:06d}" for i in range(1100)]
items = [{"code": c, "tag_id": f"TG{i:06d}", "medium": "LPG", "tare_kg": 16.4, "volume_l": 35.5,
          "working_pressure_mpa": 2.1, "test_pressure_mpa": 3.2, "wall_thickness_mm": 2.6,
          "max_fill_kg": 14.5, "design_life_years": 15, "manufacturer": "江苏民生重工有限公司",
          "manufactured_on": "2020-04-01", "product_standard": "GB 5842",
          "manufacture_licence_no": "TS2210001", "last_inspected_on": "2024-04-01",
          "next_inspection_on": "2028-04-01", "registration_no": f"豫A-LPG-{i:06d}",
          "registered_on": "2020-05-01", "registration_authority": "郑州市市场监督管理局",
          "owner_enterprise_code": "ENT1", "station_code": "ST1"} for i, c in enumerate(codes)]
json.dump({"items": items}, open(f"{work}/cylinders.json", "w"))
open(f"{work}/asked", "w").write(",".join(codes[:1000]))
open(f"{work}/sample", "w").write(",".join(codes[1000:]))
now = datetime.datetime.now(datetime.timezone.utc)
at = lambda hours: (now - datetime.timedelta(hours=hours)).isoformat()
events = []
for c in codes:
    ev = lambda **kw: events.append({"id": str(uuid.uuid4()), "cylinder_code": c, **kw})
    ev(kind="scan", op="fill", occurred_at=at(72), station_code="ST1", mass_before_kg=16.5, mass_after_kg=31.0)
    ev(kind="check", stage="post", occurred_at=at(71.9), station_code="ST1", staff_no="S1", passed=True, items={"valve": "ok"})
    ev(kind="scan", op="deliver", occurred_at=at(48), customer_code="C1")
    ev(kind="scan", op="return_in", occurred_at=at(24), station_code="ST1")
    ev(kind="check", stage="pre", occurred_at=at(1), station_code="ST1", staff_no="S1", passed=True, items={"valve": "ok"})
json.dump({"events": events}, open(f"{work}/events.json", "w"))
PY
post cylinders "@$WORK/cylinders.json" >/dev/null
KEY=$(post devices '{"device_id":"ctl","kind":"controller","enterprise_code":"ENT1","station_code":"ST1"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
GATEWAY=$(post devices '{"device_id":"gateway","kind":"phone","enterprise_code":"ENT1"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$KEY" ] && [ -n "$GATEWAY" ] || { echo "no device keys"; exit 1; }
curl -sS -o "$WORK/ingest" -H "x-device-key: $GATEWAY" -H 'content-type: application/json' --data-binary @"$WORK/events.json" "$API/events"
for _ in $(seq 1 200); do
  rows=$(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinder_events ce JOIN cylinders c ON c.id = ce.cylinder_id WHERE c.code LIKE 'CY%'")
  [ "$rows" = 5500 ] && break; sleep 0.3
done
[ "$rows" = 5500 ] || { echo "only $rows of 5500 history rows: $(head -c 400 "$WORK/ingest")"; exit 1; }
psql -qAtX "$URL" -c "VACUUM ANALYZE cylinders, cylinder_events, cylinder_state, fillings, devices, stations"
fi # not REUSE
BASE_ID=$(psql -qAtX "$URL" -c "SELECT min(id) FROM cylinders")

# (a) Incidents about N_INCIDENTS cylinders spread over the city's ids.
: > "$WORK/incidents"; : > "$WORK/codes"
for i in $(seq 0 $((N_INCIDENTS - 1))); do
  code=$(psql -qAtX "$URL" -c "SELECT code FROM cylinders WHERE id = $BASE_ID + ($i * ($N_CYLINDERS / $N_INCIDENTS) + 123) % $N_CYLINDERS")
  id=$(post incidents "{\"kind\":\"leak\",\"level\":\"general\",\"description\":\"基准：$code 泄漏\",\"cylinder_code\":\"$code\"}" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
  [ -n "$id" ] || id=$(sed -n 's/.*"id":"\([0-9a-f-]\{36\}\)".*/\1/p' "$WORK/answer" | head -1)
  [ -n "$id" ] || { echo "no incident id: $(head -c 300 "$WORK/answer")"; exit 1; }
  echo "$id" >> "$WORK/incidents"; echo "$code" >> "$WORK/codes"
done
FIRST=$(head -1 "$WORK/incidents")
curl -sS -f -H "authorization: Bearer $TOKEN" "$API/incidents/$FIRST/context" > "$WORK/context.json"
python3 - "$WORK/context.json" <<'PY' >&2
import json, sys
c = json.load(open(sys.argv[1]))
chain, near, batch = c.get("chain") or {}, c.get("nearby") or {}, c.get("batch") or {}
lf = chain.get("last_filling") or {}
print(f"first incident's context: last filling at {lf.get('station_code')} gun {lf.get('gun_no')} by {lf.get('staff_no')}, "
      f"vehicle {chain.get('vehicle_plate')}, driver {chain.get('driver_staff_no')}, customer {chain.get('customer_code')}; "
      f"nearby {len(near.get('sites', []))} of {near.get('sites_total')} sites, "
      f"{len(near.get('vehicles', []))} of {near.get('vehicles_total')} vehicles, "
      f"{len(near.get('cylinders', []))} of {near.get('cylinders_total')} cylinders; "
      f"batch {len(batch.get('cylinders', []))} listed of {batch.get('filled_total')} filled with it "
      f"and {batch.get('production_total')} of its production batch (page of {c.get('limit')}); "
      f"{len(open(sys.argv[1], 'rb').read()):,} bytes")
PY
timed() { # file-of-urls → one time per line (ms), one request at a time over one connection
  local cfg=$WORK/curlrc
  : > "$cfg"
  while read -r u; do printf 'url = "%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code} %%{time_total}\\n"\n' "$u" >> "$cfg"; done < "$1"
  curl -sS -H "authorization: Bearer $TOKEN" -K "$cfg" | awk '$1 != 200 { bad++ } { printf "%.3f\n", $2 * 1000 } END { if (bad) print "non-200 answers: " bad > "/dev/stderr" }'
}
sed "s|^|$API/incidents/|; s|\$|/context|" "$WORK/incidents" > "$WORK/ctx_urls"
sed "s|^|$API/cylinders/|" "$WORK/codes" > "$WORK/pk_urls"
echo "(a) context of $N_INCIDENTS incidents: one warm-up pass, then $PASSES passes; the same for the primary-key GET ..." >&2
timed "$WORK/ctx_urls" > "$WORK/ctx_cold"
timed "$WORK/pk_urls" > "$WORK/pk_cold"
: > "$WORK/ctx_ms"; : > "$WORK/pk_ms"
for _ in $(seq 1 "$PASSES"); do
  timed "$WORK/ctx_urls" >> "$WORK/ctx_ms"
  timed "$WORK/pk_urls" >> "$WORK/pk_ms"
done
# Pages of one row: no list's plan may depend on the limit (one once walked 3,000,000 rows
# for LIMIT 1).
sed 's|$|?limit=1|' "$WORK/ctx_urls" > "$WORK/ctx1_urls"
timed "$WORK/ctx1_urls" > "$WORK/ctx1_ms"

# Where a context's time goes: its spatial and batch statements (copies of
# store/incident_context.rs's, whole-city scope) for the first incident's cylinder.
CODE1=$(head -1 "$WORK/codes")
read -r CID LON LAT < <(psql -qAtX -F' ' "$URL" -c "SELECT c.id, ST_X(s.location), ST_Y(s.location) FROM cylinders c JOIN cylinder_state s ON s.cylinder_id = c.id WHERE c.code = '$CODE1'")
read -r FST FAT < <(psql -qAtX -F' ' "$URL" -c "SELECT station_code, occurred_at FROM cylinder_events WHERE cylinder_id = $CID AND op = 'fill' ORDER BY occurred_at DESC LIMIT 1")
CENTER="ST_SetSRID(ST_MakePoint($LON, $LAT), 4326)::geography"
# The box the server filters by first (store::incident_context::box_degrees, 500 m).
DEG=$(awk -v lat="$LAT" 'BEGIN { c = cos(lat * 3.141592653589793 / 180); if (c < 0.01) c = 0.01; printf "%.8f", 500 / (111320 * c) * 1.1 }')
BOX="ST_Expand(ST_SetSRID(ST_MakePoint($LON, $LAT), 4326), $DEG)"
explain() { # title sql (serial, as the server reads them: store::incident_context::serial)
  echo "--- $1" >> "$WORK/explain"
  local plan
  plan=$(psql -qAtX "$URL" -c "SET max_parallel_workers_per_gather = 0" -c "EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) $2")
  { grep -E "Scan|Join|Sort|Rows Removed|Limit" <<< "$plan" | head -13; grep "Execution Time" <<< "$plan"; } >> "$WORK/explain"
}
: > "$WORK/explain"
explain "last filling" "SELECT ce.station_code FROM cylinder_events ce JOIN cylinders c ON c.id = ce.cylinder_id LEFT JOIN fillings f ON f.id = ce.event_id LEFT JOIN stations st ON st.code = ce.station_code WHERE ce.cylinder_id = $CID AND ce.op = 'fill' AND ce.kind IN ('filling', 'scan') ORDER BY ce.occurred_at DESC, ce.event_id DESC LIMIT 1"
# The lists are pages of LIMIT (the context's default) with their totals; distances in the
# plane tangent at the center (store::incident_context::metres).
LIMIT=${LIMIT:-100}
M() { echo "(6371008.8 * sqrt((radians(ST_X($1) - $LON) * cos(radians($LAT)))^2 + radians(ST_Y($1) - $LAT)^2))"; }
ML=$(M location); MP=$(M p.location)
explain "sites nearby" "WITH s AS MATERIALIZED (SELECT code, $ML AS d FROM stations WHERE location && $BOX AND $ML <= 500 UNION ALL SELECT code, $ML FROM customers WHERE location && $BOX AND $ML <= 500) SELECT code, (SELECT count(*) FROM s) FROM s ORDER BY d LIMIT $LIMIT"
explain "vehicles nearby" "WITH n AS MATERIALIZED (SELECT p.plate, $MP AS d FROM vehicle_positions p LEFT JOIN vehicles v ON v.plate = p.plate WHERE p.location && $BOX AND $MP <= 500) SELECT plate, (SELECT count(*) FROM n) FROM n ORDER BY d LIMIT $LIMIT"
explain "cylinders nearby" "WITH s AS MATERIALIZED (SELECT cylinder_id, $ML AS d FROM cylinder_state WHERE location IS NOT NULL AND location && $BOX AND $ML <= 500) SELECT c.code, (SELECT count(*) FROM s) FROM (SELECT * FROM s ORDER BY d, cylinder_id LIMIT $LIMIT) n JOIN cylinders c ON c.id = n.cylinder_id ORDER BY n.d, n.cylinder_id"
FILLED="SELECT DISTINCT ON (c.id) c.code, ce.details->>'gun_no' AS gun_no, ce.staff_no, ce.occurred_at AS filled_at FROM cylinder_events ce JOIN cylinders c ON c.id = ce.cylinder_id WHERE ce.op = 'fill' AND ce.kind IN ('filling', 'scan') AND ce.station_code = '$FST' AND c.medium = 'LPG' AND ce.occurred_at BETWEEN timestamptz '$FAT' - interval '2 hours' AND timestamptz '$FAT' + interval '2 hours' AND c.id <> $CID ORDER BY c.id, abs(extract(epoch FROM ce.occurred_at - timestamptz '$FAT'))"
explain "filled together (±2 h): page, facets, total" "WITH b AS MATERIALIZED ($FILLED) SELECT 'row', code, NULL::text, 0::bigint FROM (SELECT * FROM b ORDER BY filled_at, code LIMIT $LIMIT) page UNION ALL SELECT 'gun', gun_no, NULL, count(*) FROM b WHERE gun_no IS NOT NULL GROUP BY gun_no UNION ALL SELECT 'filler', NULL, staff_no, count(*) FROM b WHERE staff_no IS NOT NULL GROUP BY staff_no UNION ALL SELECT 'total', NULL, NULL, count(*) FROM b"
explain "same production batch" "WITH b AS MATERIALIZED (SELECT c.code FROM cylinders me JOIN cylinders c ON c.manufacturer = me.manufacturer AND c.production_batch = me.production_batch AND c.id <> me.id WHERE me.id = $CID AND me.production_batch IS NOT NULL) SELECT code, (SELECT count(*) FROM b) FROM b ORDER BY code LIMIT $LIMIT"

if [ "$REUSE" = 1 ]; then
  python3 - "$WORK" "$N_CYLINDERS" <<'PY'
import sys
work, n_cyl = sys.argv[1], int(sys.argv[2])
def ms(name):
    return sorted(float(x) for x in open(f"{work}/{name}") if x.strip())
def pct(xs, p):
    return xs[max(1, -(-len(xs) * p // 100)) - 1]
ctx, pk = ms("ctx_ms"), ms("pk_ms")
print(f"| (a) reused database, N = {n_cyl:,} cylinders | requests | p50 ms | p95 ms | max ms |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| GET /incidents/{{id}}/context | {len(ctx)} | {pct(ctx, 50):.1f} | {pct(ctx, 95):.1f} | {ctx[-1]:.1f} |")
print(f"| GET /cylinders/{{code}} (primary key) | {len(pk)} | {pct(pk, 50):.2f} | {pct(pk, 95):.2f} | {pk[-1]:.1f} |")
ctx1 = ms("ctx1_ms")
print(f"| context ?limit=1, one pass | {len(ctx1)} | {pct(ctx1, 50):.1f} | {pct(ctx1, 95):.1f} | {ctx1[-1]:.1f} |")
ratio = pct(ctx, 95) / pct(pk, 95)
print(f"context p95 {pct(ctx, 95):.1f} ms, {ratio:.1f}x the primary-key GET (goal <= 300 ms and <= 20x): {'met' if pct(ctx, 95) <= 300 and ratio <= 20 else 'NOT met'}")
PY
  echo "EXPLAIN ANALYZE of the context's statements, first incident:"
  cat "$WORK/explain"
  exit 0
fi

# (c) without a recall, (b) the recall of N_RECALL, a second recall up to N_RECALLED, (c) again.
ASKED=$(cat "$WORK/asked")
authorize() {
  "$SIM" load-authorize --api "$BASE" --device-key "$KEY" --cylinders "$ASKED" --rate "$RATE" --duration-s "$DURATION"
}
echo "(c) authorize open loop, $RATE/s, ${DURATION} s, no cylinder under recall ..." >&2
authorize > "$WORK/auth_none"
cat "$WORK/auth_none" >&2
# The recalled: the 100 clean cylinders of the sample and city cylinders after the first
# 1,000 (none of the incidents' cylinders is needed: they are read only).
psql -qAtX "$URL" -c "SELECT code FROM cylinders WHERE id >= $BASE_ID + 1000 AND id < $BASE_ID + $N_CYLINDERS ORDER BY id LIMIT $((N_RECALLED - 100))" > "$WORK/city_codes"
{ tr ',' '\n' < "$WORK/sample"; echo; head -n $((N_RECALL - 100)) "$WORK/city_codes"; } | sed '/^$/d' > "$WORK/recall1"
tail -n +$((N_RECALL - 100 + 1)) "$WORK/city_codes" > "$WORK/recall2"
echo "(b) recall of $N_RECALL cylinders; asking the gun about 100 of them until all are refused (R16) ..." >&2
"$SIM" load-recall --api "$BASE" --token "$TOKEN" --device-key "$KEY" \
  --codes-file "$WORK/recall1" --sample "$(cat "$WORK/sample")" > "$WORK/recall"
cat "$WORK/recall" >&2
# The rest in recalls of 20,000 codes: a recall's body is read with the registry's limit of
# 256 KiB (about 23,000 codes), below the 100,000 codes a recall may name.
split -l 20000 "$WORK/recall2" "$WORK/recall2."
for part in "$WORK"/recall2.*; do
  [ -s "$part" ] || continue
  python3 -c "import json,sys; print(json.dumps({'reason': '基准召回二', 'cylinder_codes': open(sys.argv[1]).read().split()}))" "$part" > "$part.json"
  post recalls "@$part.json" >/dev/null
done
UNDER=$(psql -qAtX "$URL" -c "SELECT count(DISTINCT cylinder_id) FROM recall_cylinders WHERE inspected_at IS NULL AND cleared_at IS NULL")
# Right after the recall (the seconds after a recall of many were seen slower, and are shown
# apart), then, after SETTLE s, the run the goal is about.
echo "(c) authorize open loop, $RATE/s, ${DURATION} s, $UNDER cylinders under recall, right after the recall ..." >&2
authorize > "$WORK/auth_after"
cat "$WORK/auth_after" >&2
sleep "${SETTLE:-10}"
echo "(c) authorize open loop, $RATE/s, ${DURATION} s, $UNDER cylinders under recall, ${SETTLE:-10} s later ..." >&2
authorize > "$WORK/auth_recalled"
cat "$WORK/auth_recalled" >&2

kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
echo "server errors logged, by message:" >&2
sed 's/\x1b\[[0-9;]*m//g' "$WORK/err" | sed -n 's/.* ERROR [^ ]* \(.\{0,90\}\).*/\1/p' | sed 's/[0-9]\{2,\}/N/g' | sort | uniq -c | sort -rn | head -5 >&2

echo
echo "EXPLAIN ANALYZE of the context's statements, first incident ($CODE1):"
cat "$WORK/explain"
python3 - "$WORK" "$N_CYLINDERS" "$N_HISTORY" "$N_INCIDENTS" "$UNDER" "$RATE" <<'PY'
import json, sys
work, n_cyl, n_hist, n_inc, under, rate = sys.argv[1], *map(int, sys.argv[2:])
def ms(name):
    return sorted(float(x) for x in open(f"{work}/{name}") if x.strip())
def pct(xs, p):
    return xs[max(1, -(-len(xs) * p // 100)) - 1] if xs else float("nan")
ctx, pk, ctx_cold, pk_cold = ms("ctx_ms"), ms("pk_ms"), ms("ctx_cold"), ms("pk_cold")
print()
print(f"| (a) N = {n_cyl:,} cylinders, {n_hist:,} history rows, {n_inc} incidents | requests | p50 ms | p95 ms | max ms |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| GET /incidents/{{id}}/context | {len(ctx)} | {pct(ctx, 50):.1f} | {pct(ctx, 95):.1f} | {ctx[-1]:.1f} |")
print(f"| GET /cylinders/{{code}} (primary key) | {len(pk)} | {pct(pk, 50):.2f} | {pct(pk, 95):.2f} | {pk[-1]:.1f} |")
print(f"| context, first pass (cold) | {len(ctx_cold)} | {pct(ctx_cold, 50):.1f} | {pct(ctx_cold, 95):.1f} | {ctx_cold[-1]:.1f} |")
print(f"| primary key, first pass | {len(pk_cold)} | {pct(pk_cold, 50):.2f} | {pct(pk_cold, 95):.2f} | {pk_cold[-1]:.1f} |")
ctx1 = ms("ctx1_ms")
print(f"| context ?limit=1, one pass | {len(ctx1)} | {pct(ctx1, 50):.1f} | {pct(ctx1, 95):.1f} | {ctx1[-1]:.1f} |")
ratio = pct(ctx, 95) / pct(pk, 95)
met = pct(ctx, 95) <= 300 and ratio <= 20
print(f"context p95 {pct(ctx, 95):.1f} ms, {ratio:.1f}x the primary-key GET (goal <= 300 ms and <= 20x): {'met' if met else 'NOT met'}")
r = json.load(open(f"{work}/recall"))
print()
print(f"(b) recall of {r['recalled']:,} cylinders: POST answered in {r['post_ms']:.1f} ms; "
      f"{r['refused']} of {r['sample']} sample cylinders refused with R16, the first at {r['first_refused_ms']} ms, "
      f"all at {r['all_refused_ms']} ms after the POST was sent ({r['polls']} gun questions)")
ok = r["all_refused_ms"] is not None and r["all_refused_ms"] <= 1000
print(f"goal (all refused within a second of the POST): {'met' if ok else 'NOT met'}")
none, rec = json.load(open(f"{work}/auth_none")), json.load(open(f"{work}/auth_recalled"))
after = json.load(open(f"{work}/auth_after"))
print()
print(f"| (c) authorize open loop at {rate}/s | sent | allowed | refused | errors | E01 | decided/s | p50 ms | p90 ms | p99 ms | max ms |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, x in (("no cylinder under recall", none),
                (f"{under:,} under recall, right after the recall", after),
                (f"{under:,} cylinders under recall", rec)):
    print(f"| {name} | {x['sent']} | {x['allowed']} | {x['refused']} | {x['errors']} | {x['unsure_e01']} | {x['achieved_rps']:.0f} | "
          f"{x['p50_ms']:.2f} | {x['p90_ms']:.2f} | {x['p99_ms']:.2f} | {x['max_ms']:.1f} |")
ratio = rec["p99_ms"] / none["p99_ms"] if none["p99_ms"] else float("nan")
print(f"p99 under recall / without: {ratio:.2f} (goal <= 1.2): {'met' if ratio <= 1.2 else 'NOT met'}")
PY
