#!/usr/bin/env bash
# Benchmark: the statistics on a city-sized registry. 3,000,000 cylinders (100 enterprises in
# 12 districts, 500 stations, 4 media) with a current state each (custody spread over every
# state, some lost, some scrapped, dates spread over compliance), generated in SQL in a scratch
# database cloned from `cylwatch_template` and migrated by the server. Then, through the real
# server: GET /api/v1/stats/inventory (city, one district, one enterprise, one station) and
# GET /api/v1/stats/compliance (by enterprise, by district), five times each, median; baseline
# in the same run: `SELECT count(*) FROM cylinders` (a bare scan of the same table) via psql.
#
#   bash bench/stats.sh                 # N=3000000
#   N=300000 bash bench/stats.sh
#   KEEP=1 bash bench/stats.sh          # leave the database cylwatch_bench_stats behind
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=$CARGO_TARGET_DIR/server/cylwatch
DB=cylwatch_bench_stats
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"; [ -n "${KEEP:-}" ] || psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
cargo build --quiet --profile server -p cylwatch
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=bench-stats \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$PASSWORD CYLWATCH_LOG=warn \
  "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
API=http://127.0.0.1:$PORT/api/v1
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$API/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "cannot sign in"; cat "$WORK/err"; exit 1; }

echo "generating $N cylinders ..." >&2
start=$(date +%s.%N)
psql -qAtX "$URL" <<SQL
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
INSERT INTO cylinders (code, tag_id, medium, tare_kg, volume_l, working_pressure_mpa,
    test_pressure_mpa, wall_thickness_mm, max_fill_kg, design_life_years, manufacturer,
    manufactured_on, product_standard, manufacture_licence_no, last_inspected_on,
    next_inspection_on, registration_no, registered_on, registration_authority,
    owner_enterprise_code, station_code)
SELECT 'C' || i, 'T' || i, (ARRAY['LPG','LPG','LPG','DME','N2O','O2'])[1 + i % 6], 16.4, 35.5,
       2.1, 3.2, 2.6, 14.5, 15, '厂', DATE '2008-01-01' + (i % 5000), 'GB 5842', 'TS1',
       DATE '2022-01-01' + (i % 1200), DATE '2025-06-01' + (i % 1400),
       CASE WHEN i % 50 = 0 THEN NULL ELSE 'R' || i END,
       CASE WHEN i % 50 = 0 THEN NULL ELSE DATE '2020-01-01' END,
       CASE WHEN i % 50 = 0 THEN NULL ELSE '郑州市市场监督管理局' END,
       'E' || (i % 100), 'S' || (i % 500)
FROM generate_series(1, $N) i;
INSERT INTO cylinder_state (cylinder_id, custody, place_kind, place_code, custody_at,
    last_seen_at, scrapped_at)
SELECT c.id,
       (ARRAY['in_stock_empty','in_stock_full','in_transit_delivery','at_customer',
              'in_transit_return','at_inspection','scrapped','at_customer'])[1 + c.id % 8],
       CASE WHEN c.id % 8 IN (0, 1) THEN 'station' WHEN c.id % 8 IN (3, 7) THEN 'customer'
            WHEN c.id % 8 IN (2, 4) THEN 'vehicle' END,
       CASE WHEN c.id % 8 IN (0, 1) THEN c.station_code WHEN c.id % 8 IN (3, 7) THEN 'CU' || c.id
            WHEN c.id % 8 IN (2, 4) THEN 'V' || (c.id % 3000) END,
       now() - ((c.id % 200) || ' days')::interval,
       now() - ((c.id % 200) || ' days')::interval,
       CASE WHEN c.id % 8 = 6 THEN now() - interval '30 days' END
FROM cylinders c;
ANALYZE;
SQL
gen=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
echo "generated in ${gen}s" >&2

time_ms() { # url → ms (curl's total time)
  curl -sS -o /dev/null -w '%{time_total}' -H "authorization: Bearer $TOKEN" "$1" | awk '{printf "%.1f", $1 * 1000}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name url
  local t
  curl -sS -f -o /dev/null -H "authorization: Bearer $TOKEN" "$2" # warm-up, and fails loudly
  t=$(for _ in 1 2 3 4 5; do time_ms "$2"; echo; done | median)
  printf '| %s | %s |\n' "$1" "$t"
}
# The registry was written behind the server's back in bulk: every cylinder is marked for
# classification, and the first figure classifies them all (once).
first=$(time_ms "$API/stats/inventory")
echo "first figure after generation (classifies all $N cylinders once): ${first} ms" >&2
churn() { # 1,000 random cylinders seen again: what the pipeline does between two figures
  psql -qAtX "$URL" -c "UPDATE cylinder_state SET last_seen_at = now() WHERE cylinder_id IN
    (SELECT 1 + floor(random() * $N)::bigint FROM generate_series(1, 1000))" > /dev/null
}
measure_churn() { # name url
  local t
  t=$(for _ in 1 2 3 4 5; do churn; time_ms "$2"; echo; done | median)
  printf '| %s | %s |\n' "$1" "$t"
}
echo
echo "| query (N=$N) | median ms of 5 |"
echo "| --- | ---: |"
measure "inventory, city" "$API/stats/inventory"
measure "inventory, district 410105" "$API/stats/inventory?district_code=410105"
measure "inventory, enterprise E7" "$API/stats/inventory?enterprise_code=E7"
measure "inventory, station S7" "$API/stats/inventory?station_code=S7"
measure "compliance by enterprise" "$API/stats/compliance"
measure "compliance by district" "$API/stats/compliance?group_by=district"
measure_churn "inventory, city, 1,000 cylinders changed before each" "$API/stats/inventory"
measure_churn "compliance by enterprise, 1,000 changed before each" "$API/stats/compliance"
base=$(for _ in 1 2 3 4 5; do
  s=$(date +%s%N); psql -qAtX "$URL" -c "SELECT count(*) FROM cylinders" > /dev/null; e=$(date +%s%N)
  python3 -c "print(round(($e - $s) / 1e6, 1))"
done | median)
printf '| baseline: psql SELECT count(*) FROM cylinders | %s |\n' "$base"
