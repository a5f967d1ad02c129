#!/usr/bin/env bash
# Benchmark: GET /api/v1/cylinders/{code}/history of a cylinder with N events (default 500,
# one page) against GET /api/v1/auth/me (the same HTTP stack, authentication and one tiny
# query) on the same server, R requests each, one after the other. Prints milliseconds per
# request and the ratio.
#
#   bash bench/history.sh            # N=500 R=200
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-500}
R=${R:-200}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=$CARGO_TARGET_DIR/server/cylwatch
DB=cylwatch_bench_history
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --quiet --profile server -p cylwatch
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=bench-history \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
API=http://127.0.0.1:$PORT/api/v1
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASSWORD\"}" "$API/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
post() { curl -sS -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2" "$API/$1"; }
post enterprises '{"code":"ENT1","name":"基准燃气","credit_code":"91410100X","district_code":"410105","address":"郑州","media":["LPG"]}' >/dev/null
post stations '{"code":"ST1","enterprise_code":"ENT1","name":"一号站","kind":"filling","location":{"lon":113.62,"lat":34.75},"radius_m":100,"full_stock_limit":200}' >/dev/null
post customers '{"code":"C1","enterprise_code":"ENT1","name":"顾客","kind":"restaurant","phone":"1","address":"郑州","location":{"lon":113.66,"lat":34.76},"district_code":"410105"}' >/dev/null
post cylinders '{"code":"H1","tag_id":"TH1","medium":"LPG","tare_kg":16.4,"volume_l":35.5,"working_pressure_mpa":2.1,"test_pressure_mpa":3.2,"wall_thickness_mm":2.6,"max_fill_kg":14.5,"design_life_years":15,"manufacturer":"厂","manufactured_on":"2020-04-01","product_standard":"GB 5842","manufacture_licence_no":"TS1","last_inspected_on":"2024-04-01","next_inspection_on":"2028-04-01","registration_no":"R1","registered_on":"2020-05-01","registration_authority":"局","owner_enterprise_code":"ENT1","station_code":"ST1"}' >/dev/null
KEY=$(post devices '{"device_id":"bench","kind":"phone","enterprise_code":"ENT1"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
# N scans cycling fill → deliver → return, one minute apart.
python3 - "$N" > "$WORK/events.json" <<'PY'
import json, sys, uuid, datetime
n = int(sys.argv[1]); base = datetime.datetime(2026, 1, 1, 8, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
ops = [("fill", {"station_code": "ST1", "mass_before_kg": 16.5, "mass_after_kg": 31.0}), ("deliver", {"customer_code": "C1"}), ("return_in", {"station_code": "ST1"})]
events = []
for i in range(n):
    op, extra = ops[i % 3]
    events.append({"id": str(uuid.uuid4()), "kind": "scan", "op": op, "cylinder_code": "H1",
                   "occurred_at": (base + datetime.timedelta(minutes=i)).isoformat(), **extra})
print(json.dumps({"events": events}))
PY
curl -sS -o /dev/null -H "x-device-key: $KEY" -H 'content-type: application/json' --data-binary @"$WORK/events.json" "$API/events"
for _ in $(seq 1 100); do
  rows=$(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinder_events")
  [ "$rows" = "$N" ] && break; sleep 0.3
done
[ "$rows" = "$N" ] || { echo "only $rows of $N history rows"; exit 1; }

timed() { # url → seconds for R requests over one connection
  local start end
  start=$(date +%s.%N)
  for _ in $(seq 1 "$R"); do echo "url = \"$1\""; echo 'output = "/dev/null"'; done > "$WORK/curlrc"
  curl -sS -H "authorization: Bearer $TOKEN" -K "$WORK/curlrc"
  end=$(date +%s.%N)
  awk -v a="$end" -v b="$start" 'BEGIN { print a - b }'
}
size=$(curl -sS -H "authorization: Bearer $TOKEN" "$API/cylinders/H1/history?limit=1000" | wc -c)
me=$(timed "$API/auth/me")
history=$(timed "$API/cylinders/H1/history?limit=1000")
awk -v n="$N" -v r="$R" -v h="$history" -v m="$me" -v size="$size" 'BEGIN {
  printf "history of %d events (%d bytes): %.2f ms per request\n", n, size, h / r * 1000;
  printf "GET /auth/me baseline:             %.2f ms per request\n", m / r * 1000;
  printf "ratio history/me:                  %.1f\n", h / m }'
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
