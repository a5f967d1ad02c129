#!/usr/bin/env bash
# Benchmark: MQTT ingest against POST /api/v1/events in batches of 100, in the same run, on the
# same server and database.
#
# A broker of the run's own (Debian's Mosquitto with dynamic security, temp dir, own port) and
# the real server (`server` profile, scratch database cloned from `cylwatch_template`, MQTT on).
# HTTP: `cylwatch-sim load-ingest` posts N GPS fixes in batches of 100 from CONCURRENCY senders
# (events/s from the first request to the last 202). MQTT: CONCURRENCY `mosquitto_pub -l`
# (Debian's client) publish the same number of fixes, 100 per message at QoS 1, as a device of
# their own; events/s from the first publish until all N are committed (the platform
# acknowledges a message only once its events are).
#
#   bash bench/mqtt.sh                        # N=100000 CONCURRENCY=4
#   N=2000 CONCURRENCY=2 bash bench/mqtt.sh   # a tiny run: the script works
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
BATCH=100
CONCURRENCY=${CONCURRENCY:-4}
VEHICLES=${VEHICLES:-100}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
BIN=${BIN:-$CARGO_TARGET_DIR/server/cylwatch}
SIM=${SIM:-$CARGO_TARGET_DIR/server/cylwatch-sim}
DB=cylwatch_bench_mqtt
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
PREFIX=bench-mqtt-$$-$(date +%s)
WORK=$(mktemp -d)
# The broker's own directory: run as root, Mosquitto drops to its own user, who must read its
# dynamic-security file (and cannot enter root's $WORK): every login was refused.
BROKER_DIR=$(mktemp -d)
SERVER=
BROKER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  [ -n "$BROKER" ] && kill "$BROKER" 2>/dev/null
  redis-cli --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK" "$BROKER_DIR"
}
trap cleanup EXIT

[ "${BUILD:-1}" = 0 ] || cargo build --quiet --profile server -p cylwatch -p cylwatch-sim

# The broker.
MQTT_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
MQTT_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mosquitto_ctrl dynsec init "$BROKER_DIR/dynsec.json" cylwatch "$MQTT_PASSWORD" >/dev/null
cat >"$BROKER_DIR/mosquitto.conf" <<CONF
per_listener_settings false
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
plugin $(dpkg -L mosquitto | grep -m1 'mosquitto_dynamic_security.so$')
plugin_opt_config_file $BROKER_DIR/dynsec.json
persistence false
max_queued_messages 1000000
max_inflight_messages 100
CONF
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto: "$BROKER_DIR"; fi
mosquitto -c "$BROKER_DIR/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER=$!

psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
ADMIN_PASSWORD=Bench-Admin-2026!
CYLWATCH_DATABASE_URL=$URL CYLWATCH_HTTP_ADDR=127.0.0.1:0 CYLWATCH_REDIS_PREFIX=$PREFIX \
  CYLWATCH_ADMIN_USER=admin CYLWATCH_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CYLWATCH_MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT CYLWATCH_MQTT_ADMIN_USER=cylwatch \
  CYLWATCH_MQTT_ADMIN_PASSWORD=$MQTT_PASSWORD \
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
MQTT_KEY=$(post devices '{"device_id":"mqtt-reader","kind":"gps","enterprise_code":"ENT1"}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[ -n "$KEY" ] && [ -n "$MQTT_KEY" ] || { echo "no device key"; exit 1; }

# The MQTT messages: N fixes of VEHICLES vehicles, an hour ago, 100 a message, one file per
# publisher (a line a message).
START_AT=$(date -u -d '-1 hour' +%s)
python3 - "$WORK" "$N" "$BATCH" "$CONCURRENCY" "$VEHICLES" "$START_AT" <<'PY'
import json, sys, uuid, datetime
work, n, batch, conc, vehicles, start = sys.argv[1], *map(int, sys.argv[2:])
files = [open(f"{work}/mqtt-{i}.lines", "w") for i in range(conc)]
events, line = [], 0
for k in range(n):
    v = k % vehicles
    at = datetime.datetime.fromtimestamp(start + k // vehicles, datetime.timezone.utc)
    events.append({"id": str(uuid.uuid4()), "kind": "gps", "occurred_at": at.isoformat(),
                   "vehicle_plate": f"豫M{v:05d}", "lon": 113.6 + v * 0.001, "lat": 34.7,
                   "speed_kmh": 30.0})
    if len(events) == batch or k == n - 1:
        files[line % conc].write(json.dumps({"events": events}, ensure_ascii=False) + "\n")
        events, line = [], line + 1
for f in files:
    f.close()
PY

echo "HTTP: $N events, batches of $BATCH, $CONCURRENCY senders ..." >&2
"$SIM" load-ingest --api "$BASE" --events "$N" --batch "$BATCH" --concurrency "$CONCURRENCY" \
  --vehicles "$VEHICLES" --start-at "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
  --device-id gateway --enterprise ENT1 --device-key "$KEY" --token "$TOKEN" > "$WORK/http"
cat "$WORK/http" >&2
sleep 2

echo "MQTT: $N events, messages of $BATCH, $CONCURRENCY publishers at QoS 1 ..." >&2
mqtt_stored() { psql -qAtX "$URL" -c "SELECT count(*) FROM events WHERE device_id = 'mqtt-reader'"; }
T0=$(date +%s.%N)
pubs=()
for i in $(seq 0 $((CONCURRENCY - 1))); do
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -i "mqtt-reader-$i" -u mqtt-reader -P "$MQTT_KEY" \
    -t cylwatch/devices/mqtt-reader/events -l <"$WORK/mqtt-$i.lines" &
  pubs+=($!)
done
for p in "${pubs[@]}"; do wait "$p"; done
T_PUB=$(date +%s.%N)
for _ in $(seq 1 6000); do
  [ "$(mqtt_stored)" -ge "$N" ] && break
  sleep 0.05
done
T1=$(date +%s.%N)
STORED=$(mqtt_stored)
echo "  published in $(python3 -c "print(round($T_PUB - $T0, 2))") s; $STORED stored" >&2

python3 - "$WORK/http" "$N" "$T0" "$T1" "$STORED" "$CONCURRENCY" <<'PY'
import json, sys
http = json.load(open(sys.argv[1]))
n, t0, t1, stored, conc = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
mqtt_s = t1 - t0
mqtt_rate = stored / mqtt_s
print()
print("| run | events | time | events/s | / HTTP |")
print("| --- | ---: | ---: | ---: | ---: |")
print(f"| POST /events, {conc} senders × 100: last 202 | {http['accepted']:,} | {http['committed_s']:.2f} s | {http['committed_per_s']:,.0f} | 1.00 |")
print(f"| MQTT QoS 1, {conc} publishers × 100: all committed | {stored:,} | {mqtt_s:.2f} s | {mqtt_rate:,.0f} | {mqtt_rate / http['committed_per_s']:.2f} |")
ok = stored == n and http["accepted"] == n
print(f"every event stored: {'yes' if ok else 'NO'}")
PY
