#!/usr/bin/env bash
# Benchmark: the JT/T 808 gateway (issue 23) against POST /api/v1/events in batches of 100, in
# the same run, on the same server and database.
#
# The real server (`server` profile, scratch database cloned from `cylwatch_template`, its own
# Redis prefix, the gateway on a port of its own) and `cylwatch-sim load-jt808`:
#   1. N vehicles (one CSV import per 10,000) and N `jt808` terminals bound to them
#      (POST /api/v1/devices, 16 at a time) registered through the API;
#   2. memory per connected terminal: the server's VmRSS with all N connected (registered
#      0x0100, authenticated 0x0102) and idle, minus before any connected, divided by N; and
#      all minus half connected, divided by N/2 (steadier: the allocator may give back the
#      registrations' memory between the first two readings) (goal <= 20 KB);
#   3. steady load: each terminal reports a location (0x0200) every INTERVAL s (N / INTERVAL
#      fixes/s; 10,000 / 5 = 2,000), phases spread over the interval; answer latency from the
#      time the report was due until its 0x8001 success (given only once committed): p50 / p99;
#   4. maximum: every terminal keeps WINDOW reports outstanding, the next sent as each answer
#      comes, MAX_DURATION s: committed fixes per second.
# Baseline: `cylwatch-sim load-ingest` posting GPS fixes in batches of 100 from CONCURRENCY
# senders (events/s from the first request to the last 202, each 202 meaning committed), after
# the terminals are gone. Ratio gateway maximum / HTTP (goal >= 0.5).
#
# File descriptors: the server and the generator each hold one socket per terminal. The script
# raises its soft `ulimit -n` to the hard limit; the server and the generator, started by it,
# inherit it (the server's own limit is printed from /proc/PID/limits). The server also stops
# at `jt808_max_connections` (default 20,000; set CYLWATCH_JT808_MAX_CONNECTIONS above N).
#
#   bash bench/jt808.sh                                # N=10000 INTERVAL=5 DURATION=30
#   N=200 DURATION=10 MAX_DURATION=5 HTTP_EVENTS=20000 bash bench/jt808.sh   # a small run (~1 min)
#   WINDOW=4 bash bench/jt808.sh                       # four reports outstanding per terminal
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
INTERVAL=${INTERVAL:-5}
DURATION=${DURATION:-30}
MAX_DURATION=${MAX_DURATION:-15}
WINDOW=${WINDOW:-1}
CONCURRENCY=${CONCURRENCY:-4}
HTTP_EVENTS=${HTTP_EVENTS:-200000}
VEHICLES=${VEHICLES:-100}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
# BIN and SIM may name other builds; BUILD=0 skips the build.
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_jt808
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-jt808-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# One socket per terminal in the server and in the generator, plus their pools and files.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((N + 1000)) ]; then
  echo "ulimit -n is $NOFILE (hard $(ulimit -Hn)): $N terminals need at least $((N + 1000)); raise the hard limit (limits.conf, or run as root)" >&2
  exit 1
fi

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_JT808_ADDR=127.0.0.1:0 \
  CYLWATCH_JT808_MAX_CONNECTIONS=${CYLWATCH_JT808_MAX_CONNECTIONS:-$((N + 1000 > 20000 ? N + 1000 : 20000))} \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
JT808_PORT=$(sed -n 's/cylwatch jt808 on port //p' "$WORK/out")
[ -n "$PORT" ] && [ -n "$JT808_PORT" ] || { echo "the server did not start (or without its gateway)"; cat "$WORK/out" "$WORK/err"; exit 1; }
echo "server open files limit: $(awk '/Max open files/ {print $4 " soft, " $5 " hard"}' "/proc/$SERVER/limits")" >&2
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

echo "JT/T 808: $N terminals (registering, connecting, ${DURATION} s at one report each ${INTERVAL} s, ${MAX_DURATION} s flat out with window $WINDOW) ..." >&2
"$SIM" load-jt808 --api "$BASE" --token "$TOKEN" --register --enterprise ENT1 \
  --jt808-addr "127.0.0.1:$JT808_PORT" --terminals "$N" --server-pid "$SERVER" \
  --interval-s "$INTERVAL" --duration-s "$DURATION" --max-duration-s "$MAX_DURATION" \
  --window "$WINDOW" > "$WORK/jt808"
cat "$WORK/jt808" >&2
sleep 2
JT_STORED=$(psql -qAtX "$URL" -c "SELECT count(*) FROM events WHERE device_id LIKE 'jt-%'")
echo "gateway fixes stored: $JT_STORED" >&2
# The HTTP run starts with the pipeline idle, as the gateway's did: wait until it has applied
# every fix of the gateway (outbox, stream lag and pending entries zero; up to 10 minutes).
applied() {
  curl -sS -H "authorization: Bearer $TOKEN" "$API/health" | python3 -c '
import json, sys
s = json.load(sys.stdin).get("stream", {})
sys.exit(0 if s.get("outbox") == 0 and s.get("lag") == 0 and s.get("pending") == 0 else 1)'
}
T_WAIT=$(date +%s)
until applied; do
  [ $(( $(date +%s) - T_WAIT )) -lt 600 ] || { echo "the pipeline did not catch up within 10 minutes" >&2; break; }
  sleep 1
done
echo "pipeline caught up $(( $(date +%s) - T_WAIT )) s after the terminals stopped" >&2

echo "HTTP: $HTTP_EVENTS events, batches of 100, $CONCURRENCY senders ..." >&2
"$SIM" load-ingest --api "$BASE" --events "$HTTP_EVENTS" --batch 100 --concurrency "$CONCURRENCY" \
  --vehicles "$VEHICLES" --start-at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
  --device-id gateway --enterprise ENT1 --device-key "$KEY" --token "$TOKEN" \
  --wait-applied-s 0 > "$WORK/http"
cat "$WORK/http" >&2

kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
echo "server errors logged, by message:" >&2
sed 's/\x1b\[[0-9;]*m//g' "$WORK/err" | sed -n 's/.* \(ERROR\|WARN\) [^ ]* \(.\{0,90\}\).*/\2/p' | sed 's/[0-9]\{2,\}/N/g' | sort | uniq -c | sort -rn | head -5 >&2

python3 - "$WORK/jt808" "$WORK/http" "$JT_STORED" <<'PY'
import json, sys
jt, http, stored = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
steady, mx = jt.get("steady") or {}, jt.get("max") or {}
print()
print(f"terminals: {jt['connected']:,} of {jt['terminals']:,} connected in {jt['connect_s']:.1f} s "
      f"(registered through the API in {jt['registered_s']:.1f} s)")
if jt.get("per_terminal_kb") is not None:
    print(f"server RSS: {jt['rss_before_kb']:,} kB before, {jt['rss_half_kb']:,} kB half connected, "
          f"{jt['rss_connected_kb']:,} kB all connected and idle, {jt['rss_after_steady_kb']:,} kB after the steady load")
    per, second = jt["per_terminal_kb"], jt["per_terminal_second_half_kb"]
    print(f"memory per connected terminal: {per:.2f} kB (all - before) / N; {second:.2f} kB (all - half) / (N/2); "
          f"goal <= 20 KB: {'met' if max(per, second) <= 20 else 'NOT met'}"
          + (" (a negative figure: the allocator gave memory back meanwhile; take the other)" if min(per, second) < 0 else ""))
print()
print("| run | reports | success | failed | fixes/s | p50 ms | p90 ms | p99 ms | max ms | / HTTP |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
rate = http["committed_per_s"]
if steady:
    print(f"| JT/T 808, {jt['connected']:,} terminals, one report each {jt['interval_s']} s | {steady['reports']:,} | "
          f"{steady['ok']:,} | {steady['failed']:,} | {steady['fixes_per_s']:,.0f} | {steady['p50_ms']:.2f} | "
          f"{steady['p90_ms']:.2f} | {steady['p99_ms']:.2f} | {steady['max_ms']:.1f} | |")
if mx:
    print(f"| JT/T 808, flat out, window {jt['window']} | {mx['reports']:,} | {mx['ok']:,} | {mx['failed']:,} | "
          f"{mx['fixes_per_s']:,.0f} | {mx['p50_ms']:.2f} | {mx['p90_ms']:.2f} | {mx['p99_ms']:.2f} | "
          f"{mx['max_ms']:.1f} | {mx['fixes_per_s'] / rate:.2f} |")
print(f"| POST /events, {http['concurrency']} senders × 100 | {http['batches']:,} batches | {http['accepted']:,} | "
      f"{http['events'] - http['accepted']:,} | {rate:,.0f} | {http['batch_p50_ms']:.2f} | | {http['batch_p99_ms']:.2f} | "
      f"{http['batch_max_ms']:.1f} | 1.00 |")
print()
if steady:
    print(f"steady: p99 {steady['p99_ms']:.2f} ms at {steady['fixes_per_s']:,.0f} fixes/s; generator lag p99 "
          f"{steady['lag_p99_ms']:.2f} ms; terminals failed: {jt['steady_failed_terminals']}")
if mx:
    ratio = mx["fixes_per_s"] / rate
    print(f"ratio gateway maximum / HTTP batches of 100: {ratio:.3f} (goal >= 0.5): {'met' if ratio >= 0.5 else 'NOT met'}")
print(f"gateway fixes stored: {stored:,}; successes answered: {steady.get('ok', 0) + mx.get('ok', 0):,} "
      f"(counted ones; warm-ups add more)")
PY
