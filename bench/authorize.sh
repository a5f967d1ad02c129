#!/usr/bin/env bash
# Benchmark: POST /api/v1/fillings/authorize (device-key check, station, the cylinder's facts
# from its history, the pure rules, the decision kept, the audit record) under load, against
# pgbench select-only primary-key lookups of the same cylinders on the same database, in the
# same run.
#
# Authorize: 1,000 cylinders with a short history each (a filling three days ago, its post
# check, delivery, return, and a passed pre-fill check an hour ago: every answer is "allowed"),
# asked round-robin by `cylwatch-sim load-authorize`:
#   - open loop at fixed rates (requests started on a schedule whatever earlier ones do;
#     latency measured from the scheduled time, so queueing counts), lowest rate first;
#   - then closed loop, as fast as it goes: 1 concurrent request (the unloaded latency), 16, 64
#     and 128 (maximum throughput: the best of them).
# Baseline: pgbench, `SELECT * FROM cylinders WHERE id = :id` with id random in the cylinders'
# ids, 2 threads, simple protocol as asked at each of PG_CLIENTS (16, 32, 64) clients, the best
# of them being the baseline (max against max: both sides get the same client counts), and
# prepared at 16 (what sqlx does); and the same at -R 2000 with its per-transaction log for
# percentiles.
# Breakdown: the SQL an authorize runs (device key, station, facts, and the decision with its
# audit record in one statement; four autocommit statements, one question at a time; the
# server has the device and station cached) replayed by pgbench -r, without HTTP and
# application.
#
#   bash bench/authorize.sh          # rates 250 500 1000 2000, 20 s; concurrency 1 16 64 128 for 15 s
#   RATES="500 2000" DURATION=10 bash bench/authorize.sh
#   FLOOD_RATE=5000 RATES="" CONCURRENCIES="" bash bench/authorize.sh   # junk keys vs a real gun
#   (on two cores the goal, p99 under the flood within 2x of quiet, holds with two HTTP workers:
#   CYLWATCH_HTTP_WORKERS=2 FLOOD_RATE=5000 ...; with one it does not: BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
RATES=${RATES-250 500 1000 2000}
DURATION=${DURATION:-20}
MAX_DURATION=${MAX_DURATION:-15}
CONCURRENCIES=${CONCURRENCIES-1 16 64 128}
PG_CLIENTS=${PG_CLIENTS:-16 32 64}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
# BIN and SIM may name other builds (an A/B of two servers under one generator); BUILD=0 skips
# the build.
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_authorize
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=bench-authorize \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_LOG=warn "$BIN" serve > "$WORK/out" 2> "$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on port" "$WORK/out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/cylwatch listening on port //p' "$WORK/out")
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
post stations '{"code":"ST1","enterprise_code":"ENT1","name":"一号站","kind":"filling","location":{"lon":113.62,"lat":34.75},"radius_m":100,"full_stock_limit":200}' >/dev/null
post customers '{"code":"C1","enterprise_code":"ENT1","name":"顾客","kind":"restaurant","phone":"1","address":"郑州","location":{"lon":113.66,"lat":34.76},"district_code":"410105"}' >/dev/null
post staff '{"staff_no":"S1","enterprise_code":"ENT1","name":"充装工","role":"filler","certificate_no":"TS-1","certificate_expires":"2030-01-01"}' >/dev/null

# N archives (codes CY000000.., registered at ST1), and each one's history.
python3 - "$N" "$WORK" <<'PY'
import json, sys, uuid, datetime
n, work = int(sys.argv[1]), sys.argv[2]
codes = [f"CY{i:06d}" for i in range(n)]
items = [{"code": c, "tag_id": f"TG{i:06d}", "medium": "LPG", "tare_kg": 16.4, "volume_l": 35.5,
          "working_pressure_mpa": 2.1, "test_pressure_mpa": 3.2, "wall_thickness_mm": 2.6,
          "max_fill_kg": 14.5, "design_life_years": 15, "manufacturer": "江苏民生重工有限公司",
          "manufactured_on": "2020-04-01", "product_standard": "GB 5842",
          "manufacture_licence_no": "TS2210001", "last_inspected_on": "2024-04-01",
          "next_inspection_on": "2028-04-01", "registration_no": f"豫A-LPG-{i:06d}",
          "registered_on": "2020-05-01", "registration_authority": "郑州市市场监督管理局",
          "owner_enterprise_code": "ENT1", "station_code": "ST1"} for i, c in enumerate(codes)]
json.dump({"items": items}, open(f"{work}/cylinders.json", "w"))
open(f"{work}/codes", "w").write(",".join(codes))
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
want=$((N * 5))
for _ in $(seq 1 200); do
  rows=$(psql -qAtX "$URL" -c "SELECT count(*) FROM cylinder_events")
  [ "$rows" = "$want" ] && break; sleep 0.3
done
[ "$rows" = "$want" ] || { echo "only $rows of $want history rows: $(head -c 400 "$WORK/ingest")"; exit 1; }
CODES=$(cat "$WORK/codes")
probe=$(curl -sS -H "x-device-key: $KEY" -H 'content-type: application/json' -d '{"cylinder_code":"CY000000","station_code":"ST1","gun_no":"G1","medium":"LPG","staff_no":"S1"}' "$API/fillings/authorize")
case $probe in *'"allowed":true'*) ;; *) echo "the probe is not allowed: $probe"; exit 1 ;; esac
psql -qAtX "$URL" -c "VACUUM ANALYZE cylinders, cylinder_events, cylinder_state, fillings, devices, stations, enterprises"

# CPU ticks (user + system) of the server and of the PostgreSQL processes that serve this
# database or the whole cluster (WAL writer, checkpointer, ...; not other databases' backends),
# as JSON {pid: ticks}; a process that ends during a run loses its share (none should).
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
json.dump(out, sys.stdout)
PY
HZ=$(getconf CLK_TCK)
# One run of the load generator; its JSON line gains the CPU the server, PostgreSQL and the
# generator itself used over the whole run (warm-up included), in cores (CPU s / wall s).
# Sessions opened to the benchmark's database so far (asked from another database, so that
# asking opens none): a pool that drops connections shows here.
sessions() { psql -qAtX "$ADMIN" -c "SELECT sessions FROM pg_stat_database WHERE datname = '$DB'"; }
load() {
  local s0
  s0=$(sessions)
  python3 "$WORK/cpu.py" "$SERVER" "$DB" > "$WORK/cpu0"
  /usr/bin/time -f '%e %U %S' -o "$WORK/gen_time" \
    "$SIM" load-authorize --api "$BASE" --device-key "$KEY" --cylinders "$CODES" "$@" > "$WORK/one"
  python3 "$WORK/cpu.py" "$SERVER" "$DB" > "$WORK/cpu1"
  sleep 1 # statistics reach pg_stat_database within a second
  python3 - "$WORK" "$HZ" $(( $(sessions) - s0 )) <<'PY'
import json, sys
work, hz, sessions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
run = json.load(open(f"{work}/one"))
wall, user, system = map(float, open(f"{work}/gen_time").read().split()[-3:])
before, after = json.load(open(f"{work}/cpu0")), json.load(open(f"{work}/cpu1"))
used = {k: v - before.get(k, 0) for k, v in after.items()}
run["cores_server"] = round(used.pop("server", 0) / hz / wall, 2)
run["cores_postgres"] = round(sum(used.values()) / hz / wall, 2)
run["cores_generator"] = round((user + system) / wall, 2)
run["pg_sessions_opened"] = sessions
print(json.dumps(run))
PY
}
: > "$WORK/runs"
# The fixed rates first: each is measured on the database the slower ones leave, as a system
# that has been running at such rates is. The closed loops after them decide up to 20,000/s,
# a million decisions and 1.5 GB of WAL in a minute, and leave what no steady rate would:
# an autovacuum of a million rows, WAL past what the last checkpoint kept for reuse (each new
# 16 MB WAL file written with zeros while every commit waits; see BENCHMARKS.md).
for r in $RATES; do
  echo "authorize open loop, $r req/s, ${DURATION} s ..." >&2
  load --rate "$r" --duration-s "$DURATION" | tee -a "$WORK/runs"
done
# Junk keys (issue 20 item 7), with FLOOD_RATE set: the real controller open loop at
# FLOOD_REAL/s alone, then the same while a second generator sends junk device keys at
# FLOOD_RATE/s. Goal: the real p99 under the flood within 2x of the quiet one.
if [ -n "${FLOOD_RATE:-}" ]; then
  REAL=${FLOOD_REAL:-500}
  echo "authorize open loop, $REAL req/s, quiet ..." >&2
  load --rate "$REAL" --duration-s "$DURATION" | sed 's/^{/{"label":"quiet, ",/' | tee -a "$WORK/runs"
  echo "authorize open loop, $REAL req/s, with junk keys at $FLOOD_RATE/s ..." >&2
  "$SIM" load-authorize --api "$BASE" --device-key "junk-key-$$" --cylinders "$CODES" \
    --rate "$FLOOD_RATE" --concurrency 64 --warmup-s 0 --duration-s "$((DURATION + 4))" \
    > "$WORK/junk" 2> "$WORK/junk_err" &
  JUNK=$!
  sleep 2
  load --rate "$REAL" --duration-s "$DURATION" | sed 's/^{/{"label":"junk flood, ",/' | tee -a "$WORK/runs"
  wait "$JUNK" || true
  echo "junk generator: $(head -c 400 "$WORK/junk") $(tail -c 300 "$WORK/junk_err")" >&2
fi
for c in $CONCURRENCIES; do
  echo "authorize closed loop, concurrency $c, ${MAX_DURATION} s ..." >&2
  load --rate 0 --concurrency "$c" --duration-s "$MAX_DURATION" | tee -a "$WORK/runs"
done
decisions=$(psql -qAtX "$URL" -c "SELECT count(*) FROM filling_decisions")
audits=$(psql -qAtX "$URL" -c "SELECT count(*) FROM audit_log WHERE action LIKE '%authorize%'")
echo "kept: $decisions decisions, $audits audit records of authorize" >&2

# Baseline: primary-key lookups of the same cylinders.
read -r LO HI < <(psql -qAtX -F' ' "$URL" -c "SELECT min(id), max(id) FROM cylinders")
printf '\\set id random(%s, %s)\nSELECT * FROM cylinders WHERE id = :id;\n' "$LO" "$HI" > "$WORK/pk.sql"
tps() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1"; }
pgb() { # output-file pgbench-arguments...; run in $WORK
  local out=$1; shift
  (cd "$WORK" && "$PGBENCH" "$@" "$URL" > "$out" 2>&1) || { echo "pgbench $*:"; cat "$WORK/$out"; exit 1; }
}
SIMPLE=0; SIMPLE_CLIENTS=
for c in $PG_CLIENTS; do
  echo "pgbench select-only, simple protocol, $c clients ..." >&2
  pgb "pg_simple_$c" -n -f pk.sql -c "$c" -j 2 -T "$MAX_DURATION"
  t=$(tps "$WORK/pg_simple_$c"); echo "  $t tps" >&2
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$t" "$SIMPLE"; then
    SIMPLE=$t; SIMPLE_CLIENTS=$c
  fi
done
echo "pgbench select-only, prepared ..." >&2
pgb pg_prepared -n -M prepared -f pk.sql -c 16 -j 2 -T "$MAX_DURATION"
echo "pgbench select-only at 2000/s, logged ..." >&2
pgb pg_rate -n -f pk.sql -c 16 -j 2 -T "$DURATION" -R 2000 -l --log-prefix=pglog

# Breakdown: the statements of one authorize, replayed without HTTP (the facts query is read
# out of store/filling.rs so that it stays the server's). pgbench takes ":name" for a variable,
# so the colons of the kept facts are spelt '#' and put back by replace().
KEY_HASH=$(psql -qAtX "$URL" -c "SELECT key_hash FROM devices WHERE device_id = 'ctl'")
python3 - "$WORK/authorize.sql" "$LO" "$HI" "$KEY_HASH" <<'PY'
import re, sys
out, lo, hi, key_hash = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
src = open("backend/src/store/filling.rs", encoding="utf-8").read()
facts = re.search(r'macro_rules! cylinder_facts_select \{.*?"(.*?)"', src, re.S).group(1)
facts = re.sub(r'\\\n\s*', '', facts) + " WHERE c.code = $1"
code = "('CY' || lpad((:id - %d)::text, 6, '0'))" % lo
facts = " ".join(facts.replace("$1", code).replace("$2", "NULL").split())
decision_facts = ('{"now":"2026-11-22T08:00:00Z","today":"2026-11-22","station_code":"ST1",'
    '"gun_medium":"LPG","filling_licence_expires":"2030-01-01","gas_licence_expires":"2030-01-01",'
    '"cylinder":{"medium":"LPG","registered":true,"next_inspection_on":"2028-04-01",'
    '"life_ends_on":"2035-04-01","scrapped":false,"registered_station":"ST1",'
    '"last_filled_at":"2026-11-19T08:00:00Z","circulated_since_last_filling":true,'
    '"last_passed_pre_check_at":"2026-11-22T07:00:00Z","previous_filling_post_checked":true}}')
open(out, "w").write(f"""\\set id random({lo}, {hi})
SELECT device_id, kind, enterprise_code, vehicle_plate, station_code FROM devices WHERE key_hash = '{key_hash}' AND revoked_at IS NULL;
SELECT s.enterprise_code, e.filling_licence_expires, e.filling_licence_valid_from, e.media, e.gas_licence_expires, e.status, s.status, ARRAY(SELECT t.staff_no FROM staff t WHERE t.enterprise_code = s.enterprise_code AND t.status = 'suspended'), ARRAY(SELECT t.staff_no FROM staff t WHERE t.enterprise_code = s.enterprise_code AND t.status = 'closed'), ARRAY(SELECT c.staff_no FROM staff_certificates c WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' ORDER BY c.staff_no, c.number), ARRAY(SELECT coalesce(c.valid_from, DATE '0001-01-01') FROM staff_certificates c WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' ORDER BY c.staff_no, c.number), ARRAY(SELECT c.valid_to FROM staff_certificates c WHERE c.enterprise_code = s.enterprise_code AND c.kind = 'filling_operator' ORDER BY c.staff_no, c.number), s.name, coalesce(s.district_code, e.district_code), ST_X(s.location), ST_Y(s.location) FROM stations s JOIN enterprises e ON e.code = s.enterprise_code WHERE s.code = 'ST1';
{facts};
WITH kept AS (INSERT INTO filling_decisions (id, station_code, gun_no, cylinder_code, tag_id, medium, staff_no, device_id, enterprise_code, allowed, reasons, facts, facts_digest) VALUES (gen_random_uuid(), 'ST1', 'G1', {code}, NULL, 'LPG', 'S1', 'ctl', 'ENT1', true, '[]', replace('{decision_facts.replace(":", "#")}', '#', chr(58))::jsonb, md5(random()::text) || md5(random()::text))) INSERT INTO audit_log (actor, actor_kind, actor_enterprise, actor_district, action, target, outcome, status, source_addr, details) VALUES ('ctl', 'device', 'ENT1', NULL, 'POST /api/v1/fillings/authorize', '/api/v1/fillings/authorize', 'ok', 200, '127.0.0.1', NULL);
""")
PY
echo "pgbench: the SQL of one authorize, prepared, per-statement latencies ..." >&2
pgb pg_mix -n -M prepared -r -f authorize.sql -c 16 -j 2 -T "$MAX_DURATION"
echo "pgbench: the SQL of one authorize, one client (unloaded statement latencies) ..." >&2
pgb pg_mix1 -n -M prepared -r -f authorize.sql -c 1 -j 1 -T "$MAX_DURATION"
head -n 4 "$WORK/authorize.sql" > "$WORK/authorize_reads.sql"
echo "pgbench: the reads of one authorize (no decision, no audit insert), prepared ..." >&2
pgb pg_reads -n -M prepared -f authorize_reads.sql -c 16 -j 2 -T "$MAX_DURATION"
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
echo "server errors logged, by message:" >&2
sed 's/\x1b\[[0-9;]*m//g' "$WORK/err" | sed -n 's/.* ERROR [^ ]* \(.\{0,90\}\).*/\1/p' | sed 's/[0-9]\{2,\}/N/g' | sort | uniq -c | sort -rn | head -5 >&2

# pgbench at 2000/s: latency per transaction (from its scheduled start, lag included) from the log.
cat "$WORK"/pglog.* | awk '$3 >= 0 { print $3 / 1000 }' | sort -n > "$WORK/pg_rate_ms"
python3 - "$WORK" "$SIMPLE" "$(tps "$WORK/pg_prepared")" "$(tps "$WORK/pg_mix")" "$(tps "$WORK/pg_rate")" "$(tps "$WORK/pg_reads")" "$SIMPLE_CLIENTS" "$PG_CLIENTS" <<'PY'
import json, sys
work, simple, prepared, mix = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rate_tps, reads, simple_clients = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
runs = [json.loads(line) for line in open(f"{work}/runs") if line.startswith("{")]
lat = [float(x) for x in open(f"{work}/pg_rate_ms")]
def pct(xs, p):
    return xs[max(1, -(-len(xs) * p // 1000)) - 1] if xs else float("nan")
rate_text = open(f"{work}/pg_rate").read()
skipped = next((l.strip() for l in rate_text.splitlines() if "skipped" in l), "")
print()
print("| run | sent | 200 | errors | E01 | decided/s | p50 ms | p90 ms | p99 ms | max ms | cores: server / postgres / generator | PG sessions opened |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
for r in runs:
    name = f"authorize closed, {r['concurrency']} concurrent" if r["mode"] == "closed" else f"authorize open, {r.get('label', '')}{r['rate']}/s"
    print(f"| {name} | {r['sent']} | {r['ok']} | {r['errors']} | {r['unsure_e01']} | {r['achieved_rps']:.0f} | "
          f"{r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} | "
          f"{r['cores_server']:.2f} / {r['cores_postgres']:.2f} / {r['cores_generator']:.2f} | {r['pg_sessions_opened']} |")
print(f"| pgbench PK lookup at 2000/s, 16 clients | {len(lat)} | {len(lat)} | | | {rate_tps:.0f} | "
      f"{pct(lat, 500):.2f} | {pct(lat, 900):.2f} | {pct(lat, 990):.2f} | {lat[-1] if lat else float('nan'):.1f} | | |")
print()
best = max((r["achieved_rps"] for r in runs if r["mode"] == "closed"), default=0.0)
for c in sys.argv[8].split():
    t = next((float(l.split()[2]) for l in open(f"{work}/pg_simple_{c}") if l.startswith("tps = ")), 0.0)
    print(f"pgbench PK lookup, {c:>3} clients, simple protocol:  {t:9.0f} tps")
print(f"pgbench PK lookup, best ({simple_clients} clients), simple:     {simple:9.0f} tps  (the baseline)")
print(f"pgbench PK lookup, 16 clients, prepared:          {prepared:9.0f} tps")
print(f"pgbench, the SQL of one authorize, prepared:      {mix:9.0f} tps")
print(f"pgbench, its three reads only, prepared:          {reads:9.0f} tps")
print(f"authorize maximum (best closed loop):             {best:9.0f} req/s")
print(f"ratio authorize / pgbench simple:   {best / simple:.3f}")
print(f"ratio authorize / pgbench prepared: {best / prepared:.3f}")
print(f"ratio authorize / its own SQL:      {best / mix:.3f}")
at2000 = next((r for r in runs if r["mode"] == "open" and r["rate"] == 2000), None)
if at2000:
    met = (at2000["p99_ms"] <= 5.0 and at2000["errors"] == 0 and at2000["unsure_e01"] == 0
           and best >= 0.5 * simple)
    print(f"goal (p99 <= 5 ms at 2000/s, max >= 50 % of pgbench): {'met' if met else 'NOT met'}"
          f" (p99 {at2000['p99_ms']:.2f} ms, {100 * best / simple:.1f} % of pgbench simple)")
if lat:
    print(f"pgbench -R 2000 log: {len(lat)} transactions, mean {sum(lat) / len(lat):.3f} ms (schedule lag included)")
if skipped:
    print(f"pgbench -R 2000: {skipped}")
PY
echo
echo "pgbench -R 2000 summary:"; grep -E "^(tps|latency|rate limit|number of trans)" "$WORK/pg_rate"
for f in pg_mix1 pg_mix; do
  echo "the SQL of one authorize under pgbench, $(sed -n 's/^number of clients: //p' "$WORK/$f") client(s): $(tps "$WORK/$f") tps; latency per statement (ms):"
  sed -n '/statement latencies/,$p' "$WORK/$f" | grep -v -e 'set id' -e 'statement latencies' | cut -c1-100
done
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
