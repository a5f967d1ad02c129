#!/usr/bin/env bash
# Load run: the simulated city as fast as it goes against a release (`server` profile) build of
# the server, and how far the pipeline falls behind.
#
# Builds the `server` profile (the server and `cylwatch-sim`, its client), starts the server on a
# scratch database cloned from `cylwatch_template` with its own Redis prefix, registers a city
# of VEHICLES trucks, CUSTOMERS customers and CYLINDERS cylinders, uploads its history and waits
# until the platform has applied it (the simulator does), then runs SPAN simulated seconds at
# `--speed 0` (as fast as possible, no rate cap). While it runs, /api/v1/health is sampled every
# second: the backlog is the stream's outbox + lag + pending entries (acknowledged events the
# pipeline has not applied yet). After the last event is sent the script waits (up to DRAIN_S)
# until the backlog is zero.
#
# Reports: events sent per second during the simulated span (wall clock, resends included),
# accepted / duplicates / rejected over the whole run (history included), fillings allowed / refused and the guns asked before their
# check was applied; the largest backlog, the backlog when sending ended, the time to drain it,
# and the rate at which the pipeline applied the span's events (accepted / (send + drain time)).
#
#   bash bench/sim_load.sh                            # 500 trucks, 5,000 customers, 20,000 cylinders, 900 s
#   SPAN=1800 VEHICLES=200 bash bench/sim_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VEHICLES=${VEHICLES:-500}
CUSTOMERS=${CUSTOMERS:-5000}
CYLINDERS=${CYLINDERS:-20000}
ENTERPRISES=${ENTERPRISES:-20}
STATIONS=${STATIONS:-100}
SPAN=${SPAN:-900}
SEED=${SEED:-20261122}
DRAIN_S=${DRAIN_S:-900}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=$CARGO_TARGET_DIR/server/cylwatch
SIM=$CARGO_TARGET_DIR/server/cylwatch-sim
DB=cylwatch_bench_sim
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-sim-$$-$(date +%s)
WORK=$(mktemp -d)
SERVER=
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
# Faster than real time every filling record is up to SPAN seconds late: the late-record flag
# only for the injected ones (3 x SPAN late).
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LATE_FILLING_S=$((SPAN * 2)) \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
[ -n "$PORT" ] || { echo "the server did not start"; cat "$WORK/err"; exit 1; }
BASE=http://127.0.0.1:$PORT

# The backlog figures of health are shown to a signed-in administrator only.
TOKEN=$(curl -sS --max-time 10 -H 'content-type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$ADMIN_PASSWORD\"}" "$BASE/api/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
backlog() { # outbox + lag + pending, from health
  curl -sS --max-time 5 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/health" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stream"]
print(sum(int(s.get(k) or 0) for k in ("outbox", "lag", "pending")))' 2>/dev/null || echo -1
}
sample() { # unix-time backlog, every second
  while true; do echo "$(date +%s.%N) $(backlog)"; sleep 1; done
}

echo "load run: $ENTERPRISES companies, $STATIONS stations, $VEHICLES trucks, $CUSTOMERS customers, $CYLINDERS cylinders, $SPAN simulated s at --speed 0" >&2
echo "machine: $(nproc) cores; $(uptime)" >&2
sample > "$WORK/backlog" &
SAMPLER=$!
"$SIM" simulate --api "$BASE" --admin-user admin --admin-password "$ADMIN_PASSWORD" \
  --seed "$SEED" --enterprises "$ENTERPRISES" --stations "$STATIONS" --vehicles "$VEHICLES" \
  --customers "$CUSTOMERS" --cylinders "$CYLINDERS" --speed 0 --duration-s "$SPAN" \
  --late-record-s $((SPAN * 3)) --ledger "$WORK/ledger.json" \
  > "$WORK/report.json" 2> "$WORK/sim.log" || { echo "simulator failed"; tail -20 "$WORK/sim.log"; exit 1; }
SENT_END=$(date +%s.%N)
AT_END=$(backlog)
DRAINED=
for _ in $(seq 1 "$DRAIN_S"); do
  if [ "$(backlog)" = 0 ]; then DRAINED=$(date +%s.%N); break; fi
  sleep 1
done
kill "$SAMPLER" 2>/dev/null; SAMPLER=
EVENTS=$(psql -qAtX "$URL" -c "SELECT count(*) FROM events")
HISTORY=$(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinder_events")
DEAD=$(psql -qAtX "$URL" -c "SELECT count(*) FROM pipeline_dead_letters")

python3 - "$WORK" "$SENT_END" "$AT_END" "${DRAINED:-}" "$EVENTS" "$HISTORY" "$DEAD" "$DRAIN_S" <<'PY'
import json, sys
work, sent_end, at_end, drained, events, history, dead, drain_cap = sys.argv[1:]
run = json.load(open(f"{work}/report.json"))
r = run["report"]
wall = run["wall_s"]
sent = sum(r["sent"].values())
start = float(sent_end) - wall
samples = []
for line in open(f"{work}/backlog"):
    t, b = line.split()
    if float(t) >= start and int(b) >= 0:
        samples.append((float(t) - start, int(b)))
peak = max(samples, key=lambda s: s[1]) if samples else (0, 0)
# per_second counts from the simulator's sign-in; the span is its last `wall` seconds (the
# city's registration and history come first, applied before the span begins).
per_second = r["per_second"]
span_sent = sum(per_second[-round(wall):])
print(f"simulated span: {run['simulated_s']:.0f} s in {wall:.1f} s of wall clock ({run['simulated_s'] / wall:.1f}x real time)")
print(f"sent during the span: {span_sent:,} events ({span_sent / wall:,.0f} /s); busiest second {max(per_second[-round(wall):] or [0]):,}")
print(f"whole run incl. history: sent {sent:,}; accepted {r['accepted']:,}, duplicates {r['duplicates']:,}, rejected {r['rejected']:,}, failed requests {r['failed_requests']}")
print(f"  by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["sent"].items(), key=lambda kv: -kv[1])[:8]))
print(f"fillings: allowed {r['fillings_allowed']}, refused {r['fillings_refused']}, asked before the check was applied {r['asked_before_check_applied']}, records {r['filling_records']}")
print(f"backlog (outbox + stream lag + pending): peak {peak[1]:,} at {peak[0]:.0f} s, {int(at_end):,} when sending ended")
if drained:
    drain = float(drained) - float(sent_end)
    print(f"drained {drain:.1f} s after sending ended: {int(at_end) / drain:,.0f} entries/s applied while draining; the span's events applied at {span_sent / (wall + drain):,.0f} /s overall (sending + draining)")
else:
    print(f"NOT drained within {drain_cap} s of the end")
print(f"events table: {int(events):,} rows; cylinder history rows: {int(history):,}; dead letters: {dead}")
PY
echo "machine after: $(uptime)" >&2
