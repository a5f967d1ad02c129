#!/usr/bin/env bash
# Benchmark: event-to-WebSocket latency (POST /api/v1/events → relay → Redis stream → pipeline
# → PUBLISH → live hub → every session) with 1,000 connected clients, against the same with 1
# client in the same run, on the same server and database.
#
# `cylwatch-sim load-live` opens CLIENTS WebSocket sessions (`/api/v1/live`, the token as the first message, signed in as
# the administrator), waits for every snapshot, then posts GPS fixes one per request at RATE per
# second for DURATION s (each fix a new position of one of 100 vehicles, occurred_at = send
# time) and times, for each fix and each client, from just before the POST to the arrival of
# the matching `vehicle` message (matched by plate + lon/lat). Reported over all (fix, client)
# pairs: p50/p90/p99/max and the pairs missed.
#
#   bash bench/live.sh                     # CLIENTS=1000 RATE=50 DURATION=30
#   CLIENTS=200 RATE=20 bash bench/live.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-1000}
RATE=${RATE:-50}
DURATION=${DURATION:-30}
VEHICLES=${VEHICLES:-100}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
# BIN and SIM may name other builds (an A/B of two servers under one generator); BUILD=0 skips
# the build.
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_live
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-live-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# 1,000 sockets on each side (server and generator, both started from this shell).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)" >&2

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LIVE_SESSIONS_PER_USER=100000 \
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

# CPU ticks (user + system) of the server and of PostgreSQL, as in bench/authorize.sh.
cat > "$WORK/cpu.py" <<'PY'
import json, os, sys
server, db = sys.argv[1], sys.argv[2]
out = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        cmd = open(f"/proc/{pid}/cmdline").read().replace("\0", " ")
    except OSError:
        continue
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    if pid == server:
        out["server"] = ticks
    elif comm == "postgres" and (db in cmd or not cmd.startswith("postgres: cylwatch ")):
        out[pid] = ticks
    elif comm.startswith("redis-server"):
        out["redis"] = ticks
json.dump(out, sys.stdout)
PY
HZ=$(getconf CLK_TCK)
load() { # clients → one JSON line with the CPU used during the run
  python3 "$WORK/cpu.py" "$SERVER" "$DB" > "$WORK/cpu0"
  /usr/bin/time -f '%e %U %S' -o "$WORK/gen_time" \
    "$SIM" load-live --api "$BASE" --token "$TOKEN" --device-key "$KEY" --clients "$1" \
      --rate "$RATE" --duration-s "$DURATION" --vehicles "$VEHICLES" > "$WORK/one"
  python3 "$WORK/cpu.py" "$SERVER" "$DB" > "$WORK/cpu1"
  python3 - "$WORK" "$HZ" <<'PY'
import json, sys
work, hz = sys.argv[1], int(sys.argv[2])
run = json.load(open(f"{work}/one"))
wall, user, system = map(float, open(f"{work}/gen_time").read().split()[-3:])
before, after = json.load(open(f"{work}/cpu0")), json.load(open(f"{work}/cpu1"))
used = {k: v - before.get(k, 0) for k, v in after.items()}
run["wall_s"] = wall
run["cores_server"] = round(used.pop("server", 0) / hz / wall, 2)
run["cores_redis"] = round(used.pop("redis", 0) / hz / wall, 2)
run["cores_postgres"] = round(sum(used.values()) / hz / wall, 2)
run["cores_generator"] = round((user + system) / wall, 2)
print(json.dumps(run))
PY
}
: > "$WORK/runs"
echo "baseline: 1 client, $RATE fixes/s for $DURATION s ..." >&2
load 1 | tee -a "$WORK/runs" >&2
sleep 2
echo "ours: $CLIENTS clients, $RATE fixes/s for $DURATION s ..." >&2
load "$CLIENTS" | tee -a "$WORK/runs" >&2
sleep 2
echo "baseline again: 1 client ..." >&2
load 1 | tee -a "$WORK/runs" >&2
filtered=$(psql -qAtX "$URL" -c "SELECT count(*) FROM filtered_fixes")
echo "fixes filtered by the pipeline: $filtered" >&2

kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
echo "server warnings and errors logged, by message:" >&2
sed 's/\x1b\[[0-9;]*m//g' "$WORK/err" | sed -n 's/.* \(WARN\|ERROR\) [^ ]* \(.\{0,90\}\).*/\1 \2/p' | sed 's/[0-9]\{2,\}/N/g' | sort | uniq -c | sort -rn | head -8 >&2

python3 - "$WORK/runs" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print()
print("| run | clients (connected) | connect s | fixes ok | pairs | missed | resyncs | p50 ms | p90 ms | p99 ms | max ms | POST p50 / p99 ms | first client p50 / p99 ms | first→last p50 / p99 ms | cores server / postgres / redis / generator |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |")
names = ["1 client (before)", "many clients", "1 client (after)"]
for name, r in zip(names, runs):
    print(f"| {name} | {r['clients']} ({r['connected']}) | {r['connect_s']:.1f} | {r['fixes_ok']} | {r['pairs_received']:,} | "
          f"{r['missed']:,} | {r['resyncs']} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
          f"{r['post_p50_ms']:.1f} / {r['post_p99_ms']:.1f} | {r['first_client_p50_ms']:.1f} / {r['first_client_p99_ms']:.1f} | "
          f"{r['spread_p50_ms']:.1f} / {r['spread_p99_ms']:.1f} | {r['cores_server']:.2f} / {r['cores_postgres']:.2f} / "
          f"{r['cores_redis']:.2f} / {r['cores_generator']:.2f} |")
if len(runs) == 3:
    many = runs[1]
    base = min(runs[0]["p99_ms"], runs[2]["p99_ms"])
    print()
    print(f"p99 with {many['clients']} clients / p99 with 1 client: {many['p99_ms'] / base:.1f}")
    ok = many["p99_ms"] <= 100.0 and many["missed"] == 0 and many["connected"] == many["clients"]
    print(f"goal (p99 <= 100 ms with {many['clients']} clients, nothing missed): {'met' if ok else 'NOT met'} (p99 {many['p99_ms']:.1f} ms, missed {many['missed']})")
PY
