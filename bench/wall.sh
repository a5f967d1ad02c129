#!/usr/bin/env bash
# Benchmark: the command-hall wall in headless Chromium with N cylinders on the map's density
# layer and VEHICLES simulated vehicles reporting every second: frame time (p50/p95 of the
# map's drawing per frame, and of the interval between animation frames) and the page's
# memory (JS heap after a forced GC, and the wasm heap) at the start and the end of DURATION
# seconds of live feed.
#
# The server (`server` profile) runs on a scratch database; the cylinders, stations and
# customers are written with SQL (as bench/stats.sh does), each cylinder with a last known
# position near a station or a customer; `cylwatch simulate` drives the vehicles through the
# real ingest and live feed. Chromium is driven over WebDriver (chromedriver) from Python; the
# page is opened with `?bench`, which makes the map push each frame's drawing time to
# `window.__cylwatch_draw_ms` and expose the wasm memory.
#
#   bash bench/wall.sh                              # N=100000 VEHICLES=2000 DURATION=120
#   DURATION=1800 bash bench/wall.sh                # the 30-minute memory run
#   N=10000 VEHICLES=200 DURATION=60 bash bench/wall.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
VEHICLES=${VEHICLES:-2000}
DURATION=${DURATION:-120}
WARMUP=${WARMUP:-30}
SAMPLE=${SAMPLE:-10}
WIDTH=${WIDTH:-1920}
HEIGHT=${HEIGHT:-1080}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
export PATH=$HOME/.cache/cylwatch/tools/bin:$HOME/.cache/cylwatch/tools/node_modules/.bin:$PATH
BIN=$CARGO_TARGET_DIR/server/cylwatch
DB=cylwatch_bench_wall
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-wall-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER= SIM= DRIVER=
cleanup() {
  for p in $SIM $DRIVER $SERVER; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -f dist/index.html ] || trunk build --release
cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$PASSWORD CYLWATCH_LOG=warn \
  CYLWATCH_FRONTEND_DIR=$PWD/dist \
  CYLWATCH_BASEMAP_PATH=$PWD/assets/basemap/zhengzhou_districts.wgs84.geojson \
  "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 150); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
[ -n "$PORT" ] || { echo "the server did not start"; cat "$WORK/err"; exit 1; }
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -sS -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/auth/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "cannot sign in"; cat "$WORK/err"; exit 1; }

echo "generating $N cylinders with positions ..." >&2
psql -qAtX "$URL" <<SQL
INSERT INTO enterprises (code, name, credit_code, district_code, address, filling_licence_no,
    filling_licence_expires, gas_licence_no, gas_licence_expires, media)
SELECT 'E' || i, '企业' || i, '9141' || i, (ARRAY['410102','410103','410104','410105','410106',
       '410108','410122','410181','410182','410183','410184','410185'])[1 + i % 12], '郑州',
       'F' || i, '2030-01-01', 'G' || i, '2030-01-01', ARRAY['LPG','DME','N2O','O2']
FROM generate_series(0, 99) i;
INSERT INTO stations (code, enterprise_code, name, kind, location, radius_m, full_stock_limit)
SELECT 'S' || i, 'E' || (i % 100), '站' || i,
       (ARRAY['filling','distribution','warehouse','inspection'])[1 + i % 4],
       ST_SetSRID(ST_MakePoint(113.35 + random() * 0.75, 34.55 + random() * 0.45), 4326), 100, 500
FROM generate_series(0, 499) i;
INSERT INTO customers (code, enterprise_code, name, kind, phone, address, location,
    district_code, full_stock_limit)
SELECT 'CU' || i, 'E' || (i % 100), '用户' || i, (ARRAY['household','restaurant','industrial'])[1 + i % 3],
       '138', '郑州', ST_SetSRID(ST_MakePoint(113.35 + random() * 0.75, 34.55 + random() * 0.45), 4326),
       '410105', 2
FROM generate_series(0, 9999) i;
INSERT INTO cylinders (code, tag_id, medium, tare_kg, volume_l, working_pressure_mpa,
    test_pressure_mpa, wall_thickness_mm, max_fill_kg, design_life_years, manufacturer,
    manufactured_on, product_standard, manufacture_licence_no, last_inspected_on,
    next_inspection_on, registration_no, registered_on, registration_authority,
    owner_enterprise_code, station_code)
SELECT 'C' || i, 'T' || i, 'LPG', 16.4, 35.5, 2.1, 3.2, 2.6, 14.5, 15, '厂', DATE '2018-01-01',
       'GB 5842', 'TS1', DATE '2024-01-01', DATE '2028-01-01', 'R' || i, DATE '2020-01-01',
       '郑州市市场监督管理局', 'E' || (i % 100), 'S' || (i % 500)
FROM generate_series(1, $N) i;
-- Half at their station, half at a customer, a few hundred metres around it.
INSERT INTO cylinder_state (cylinder_id, custody, place_kind, place_code, custody_at,
    last_seen_at, location)
SELECT c.id,
       CASE WHEN c.id % 2 = 0 THEN 'in_stock_full' ELSE 'at_customer' END,
       CASE WHEN c.id % 2 = 0 THEN 'station' ELSE 'customer' END,
       CASE WHEN c.id % 2 = 0 THEN c.station_code ELSE 'CU' || (c.id % 10000) END,
       now(), now(),
       ST_SetSRID(ST_MakePoint(ST_X(p.location) + (random() - 0.5) * 0.01,
                               ST_Y(p.location) + (random() - 0.5) * 0.01), 4326)
FROM cylinders c
JOIN LATERAL (
    SELECT location FROM stations WHERE c.id % 2 = 0 AND code = c.station_code
    UNION ALL
    SELECT location FROM customers WHERE c.id % 2 = 1 AND code = 'CU' || (c.id % 10000)
) p ON true;
ANALYZE enterprises; ANALYZE stations; ANALYZE customers; ANALYZE cylinders; ANALYZE cylinder_state;
SQL
cells=$(curl -sS -H "authorization: Bearer $TOKEN" "$BASE/api/v1/stats/density" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total"], len(d["cells"]))')
echo "density layer: $cells (cylinders, cells)" >&2

CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$PASSWORD "$BIN" simulate --api "$BASE" \
  --vehicles "$VEHICLES" --interval-s 1 --customers 500 --cylinders 1000 \
  2> "$WORK/sim.err" > /dev/null &
SIM=$!

DPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chromedriver --port="$DPORT" > /dev/null 2>&1 &
DRIVER=$!
sleep 1

python3 - "$DPORT" "$BASE" "$TOKEN" "$VEHICLES" "$WARMUP" "$DURATION" "$SAMPLE" "$WIDTH" "$HEIGHT" "$N" <<'PY'
import json, sys, tempfile, time, urllib.request

dport, base, token, vehicles, warmup, duration, sample, width, height, n = sys.argv[1:]
vehicles, warmup, duration, sample = int(vehicles), int(warmup), int(duration), int(sample)
wd = f"http://127.0.0.1:{dport}"

def call(method, path, body=None):
    req = urllib.request.Request(wd + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=900) as r:
        return json.load(r)["value"]

profile = tempfile.mkdtemp()
caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--enable-precise-memory-info", "--js-flags=--expose-gc",
             f"--window-size={width},{height}", f"--user-data-dir={profile}"]}}}}
sid = call("POST", "/session", caps)["sessionId"]
s = f"/session/{sid}"
call("POST", s + "/timeouts", {"script": 900_000})
def js(script, *args):
    return call("POST", s + "/execute/sync", {"script": script, "args": list(args)})
def js_async(script, *args):
    return call("POST", s + "/execute/async", {"script": script, "args": list(args)})

call("POST", s + "/url", {"url": base + "/login"})
js("localStorage.setItem('cylwatch.token', arguments[0]);", token)
call("POST", s + "/url", {"url": base + "/?bench&layout=standard"})

start = time.time()
while True:
    count = js("const c = document.getElementById('city-map'); return c ? [+c.dataset.vehicleCount, +c.dataset.cylinders] : [0, 0];")
    if count[0] >= vehicles and count[1] > 0:
        break
    if time.time() - start > 600:
        sys.exit(f"the wall did not show {vehicles} vehicles and the density layer: {count}")
    time.sleep(1)
print(f"wall ready after {time.time() - start:.0f} s: {count[0]} vehicles, {count[1]} cylinders", file=sys.stderr)
time.sleep(warmup)

FRAMES = """
const done = arguments[arguments.length - 1];
const ms = arguments[0];
(window.__cylwatch_draw_ms || []).splice(0);
const gaps = [];
let last = null;
const end = performance.now() + ms;
function frame(t) {
  if (last !== null) gaps.push(t - last);
  last = t;
  if (t < end) requestAnimationFrame(frame);
  else done({gaps, draws: (window.__cylwatch_draw_ms || []).splice(0)});
}
requestAnimationFrame(frame);
"""
MEMORY = """
if (window.gc) { gc(); }
const m = window.__cylwatch_wasm_memory;
return {js: performance.memory.usedJSHeapSize, wasm: m ? m.buffer.byteLength : null,
        dom: document.getElementsByTagName('*').length,
        vehicles: +document.getElementById('city-map').dataset.vehicleCount, lag_s: lag()};
function lag() {
  // How far behind the newest fix shown is (Beijing time on the tile), in seconds.
  const shown = document.querySelector('#kpi-last-update .kpi-value').textContent.split(':').map(Number);
  const now = new Date(Date.now() + 8 * 3600e3);
  let d = now.getUTCHours() * 3600 + now.getUTCMinutes() * 60 + now.getUTCSeconds()
        - (shown[0] * 3600 + shown[1] * 60 + shown[2]);
  return d < -43200 ? d + 86400 : d;
}
"""

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

def frames(label):
    r = js_async(FRAMES, sample * 1000)
    gaps, draws = r["gaps"], r["draws"]
    row = {"when": label, "frames": len(gaps), "draws": len(draws),
           "draw_p50": pct(draws, 50), "draw_p95": pct(draws, 95), "draw_max": max(draws or [0]),
           "gap_p50": pct(gaps, 50), "gap_p95": pct(gaps, 95)}
    print(json.dumps(row), file=sys.stderr)
    return row

def memory(label):
    m = js(MEMORY)
    m["when"] = label
    m["t"] = round(time.time() - t0)
    print(json.dumps(m), file=sys.stderr)
    return m

t0 = time.time()
mem = [memory("start")]
fr = [frames("start")]
while time.time() - t0 < duration:
    time.sleep(min(60, max(0, duration - (time.time() - t0))))
    mem.append(memory("during"))
fr.append(frames("end"))
mem.append(memory("end"))
call("DELETE", s)

first, lastm = mem[0], mem[-1]
growth = lambda a, b: (b - a) / a * 100 if a else float("nan")
print()
print(f"| run | cylinders | vehicles | viewport | frames | draw p50 ms | draw p95 ms | draw max ms | frame interval p50 / p95 ms |")
print(f"| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
for r in fr:
    print(f"| {r['when']} | {int(n):,} | {vehicles:,} | {width}x{height} | {r['frames']} | {r['draw_p50']:.2f} | {r['draw_p95']:.2f} | {r['draw_max']:.2f} | {r['gap_p50']:.1f} / {r['gap_p95']:.1f} |")
print()
print(f"| memory after {duration} s | start | end | growth |")
print(f"| --- | ---: | ---: | ---: |")
print(f"| JS heap after GC (bytes) | {first['js']:,} | {lastm['js']:,} | {growth(first['js'], lastm['js']):+.1f} % |")
if first["wasm"] and lastm["wasm"]:
    print(f"| wasm memory (bytes) | {first['wasm']:,} | {lastm['wasm']:,} | {growth(first['wasm'], lastm['wasm']):+.1f} % |")
print(f"| DOM elements | {first['dom']:,} | {lastm['dom']:,} | {growth(first['dom'], lastm['dom']):+.1f} % |")
print()
print("samples:", json.dumps([{k: m[k] for k in ("t", "js", "wasm", "dom", "vehicles", "lag_s")} for m in mem]))
PY
echo "simulator: $(tail -2 "$WORK/sim.err" | tr '\n' ' ')" >&2
