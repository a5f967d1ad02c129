#!/usr/bin/env bash
# Benchmark: POST /api/v1/cylinders/import of N archives (parse, check every row, check codes,
# tags and references against the registry, insert) against a raw PostgreSQL COPY of the same
# CSV into a table of the same shape (same unique indexes), on the same machine, one run after
# the other. Prints both times and the ratio.
#
#   bash bench/import_cylinders.sh            # N=100000
#   N=20000 bash bench/import_cylinders.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=$CARGO_TARGET_DIR/server/cylwatch
DB=cylwatch_bench_import
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --quiet --profile server -p cylwatch
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"

ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=bench-import \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
API=http://127.0.0.1:$PORT/api/v1
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$API/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
post() { curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2" "$API/$1"; }
post enterprises '{"code":"ENT1","name":"基准燃气","credit_code":"91410100X","district_code":"410105","address":"郑州","filling_licence_no":"F1","filling_licence_expires":"2030-01-01","gas_licence_no":"G1","gas_licence_expires":"2030-01-01","media":["LPG"]}' >/dev/null
post stations '{"code":"ST1","enterprise_code":"ENT1","name":"一号站","kind":"filling","location":{"lon":113.62,"lat":34.75},"radius_m":100,"full_stock_limit":200}' >/dev/null

CSV=$WORK/cylinders.csv
echo "code,tag_id,medium,tare_kg,volume_l,working_pressure_mpa,test_pressure_mpa,wall_thickness_mm,max_fill_kg,design_life_years,manufacturer,manufactured_on,product_standard,manufacture_licence_no,last_inspected_on,next_inspection_on,registration_no,registered_on,registration_authority,owner_enterprise_code,station_code" > "$CSV"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "B%07d,T%07d,LPG,%.2f,35.5,2.1,3.2,2.6,14.5,15,江苏民生重工有限公司,2020-04-01,GB 5842,TS2210001,2024-04-01,2028-04-01,豫A-%07d,2020-05-01,郑州市市场监督管理局,ENT1,ST1\n", i, i, 15 + (i % 300) / 100.0, i }' >> "$CSV"

now() { date +%s.%N; }
t0=$(now)
status=$(curl -sS -o "$WORK/report" -w '%{http_code}' -H "authorization: Bearer $TOKEN" -H 'content-type: text/csv' --data-binary @"$CSV" "$API/cylinders/import")
t1=$(now)
[ "$status" = 200 ] || { echo "import failed: $status $(head -c 400 "$WORK/report")"; exit 1; }

psql -qAtX "$URL" -c "CREATE TABLE copy_target (LIKE cylinders INCLUDING ALL)"
t2=$(now)
psql -qAtX "$URL" -c "\\copy copy_target (code,tag_id,medium,tare_kg,volume_l,working_pressure_mpa,test_pressure_mpa,wall_thickness_mm,max_fill_kg,design_life_years,manufacturer,manufactured_on,product_standard,manufacture_licence_no,last_inspected_on,next_inspection_on,registration_no,registered_on,registration_authority,owner_enterprise_code,station_code) FROM '$CSV' CSV HEADER"
t3=$(now)

imported=$(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinders")
copied=$(psql -qAtX "$URL" -c "SELECT count(*) FROM copy_target")
awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v i="$imported" -v k="$copied" 'BEGIN {
  imp = b - a; cp = d - c;
  printf "rows: %d (imported %d, copied %d)\n", n, i, k;
  printf "POST /cylinders/import: %.2f s (%.0f rows/s)\n", imp, n / imp;
  printf "raw COPY baseline:      %.2f s (%.0f rows/s)\n", cp, n / cp;
  printf "ratio import/COPY:      %.2f\n", imp / cp }'
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
