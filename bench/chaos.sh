#!/usr/bin/env bash
# The fault suite's long run (issue 24): the `chaos` test target (tests/chaos/) with the server
# built in the `server` profile, for DURATION seconds of workload under every fault kind —
# server kill -9 + restart, Redis kill -9 + restart EMPTY, Redis SIGSTOP for PAUSE_S seconds
# (30 by default: a hang, not a crash), PostgreSQL `pg_ctl stop -m immediate` + start, and the
# proxy cutting the server's Redis or PostgreSQL connections — mixed at random intervals
# (BETWEEN_MS, `lo-hi`) from a seeded RNG (SEED, printed). It starts its own PostgreSQL cluster
# (initdb, PostGIS) and Redis on free ports: nothing the other tests use is touched.
# At the end the checker prints one line, "chaos report (seed …)": faults injected by kind,
# operations acknowledged, lost, doubled, time to drain after the last fault; the run fails on
# any loss, double or wrong state. `cargo test --profile server` compiles the test target in that
# profile too, so `env!("CARGO_BIN_EXE_cylwatch")` is the server-profile binary.
#
#   bash bench/chaos.sh                      # an hour
#   DURATION=120 PAUSE_S=10 BETWEEN_MS=3000-10000 bash bench/chaos.sh   # verified: 12 faults, 0 lost, 0 doubled
#   SEED=42 FAULTS=ServerKill,RedisRestartEmpty DURATION=600 bash bench/chaos.sh
#   INSTANCES=3 bash bench/chaos.sh          # three instances behind HAProxy (a kill takes a
#                                            # random one; the proxy cuts reach all three)
#   INSTANCES=3 MQTT=2 JT808=20 bash bench/chaos.sh   # and 2 of the 6 GPS devices over MQTT (the
#                                            # run's own Mosquitto), 20 vehicles over JT/T 808
# Only the long run itself runs (`acknowledged_operations_survive_mixed_faults`), not the
# target's shorter CI tests.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-3600}
PAUSE_S=${PAUSE_S:-30}
BETWEEN_MS=${BETWEEN_MS:-5000-30000}
FAULTS=${FAULTS:-all}
# No event quota in the long run: the duration ends it.
MAX_EVENTS=${MAX_EVENTS:-1000000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
export CHAOS_DURATION_S=$DURATION CHAOS_PAUSE_S=$PAUSE_S CHAOS_BETWEEN_MS=$BETWEEN_MS \
  CHAOS_FAULTS=$FAULTS CHAOS_MAX_EVENTS=$MAX_EVENTS CHAOS_DRAIN_S=${DRAIN_S:-900}
export CHAOS_INSTANCES=${INSTANCES:-1} CHAOS_MQTT=${MQTT:-0} CHAOS_JT808=${JT808:-0}
[ -n "${SEED:-}" ] && export CHAOS_SEED=$SEED
[ -n "${VEHICLES:-}" ] && export CHAOS_VEHICLES=$VEHICLES
[ -n "${CYLINDERS:-}" ] && export CHAOS_CYLINDERS=$CYLINDERS
# Events per second the devices offer together (default 400).
[ -n "${RATE:-}" ] && export CHAOS_RATE=$RATE
exec cargo test --profile server -p cylwatch --test chaos -- --nocapture --exact \
  acknowledged_operations_survive_mixed_faults
