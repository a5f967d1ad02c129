#!/usr/bin/env bash
# Benchmark: the fence stage (stages 2-3 without I/O: containing fences, fences passed through
# since the previous fix, the enter/exit/cross/dwell diff) per fix with 16,000 fences, against a
# bare rstar + geo point query and against one PostGIS ST_Intersects query per fix on a
# GiST-indexed table, in one process on the same fences and fixes (`cylwatch bench-fences`).
#
#   bash bench/fences.sh                  # 16,000 fences, 100,000 fixes, 5,000 PostGIS queries
#   FENCES=4000 bash bench/fences.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
FENCES=${FENCES:-16000}
DB=cylwatch_bench_fences
ADMIN="postgres://cylwatch:cylwatch@127.0.0.1:5432/postgres"
URL="postgres://cylwatch:cylwatch@127.0.0.1:5432/$DB"
trap 'psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
cargo build --quiet --profile server -p cylwatch
psql -qAtX "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE cylwatch_template"
OUT=$(mktemp)
"$CARGO_TARGET_DIR/server/cylwatch" bench-fences --fences "$FENCES" --database-url "$URL" > "$OUT"
cat "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print()
print("fences %d, fixes %d (%d transitions), PostGIS sample %d" % (r["fences"], r["fixes"], r["transitions"], r["postgis_fixes"]))
print("fence stage:       %10.0f ns per fix" % r["stage_ns_per_fix"])
print("bare rstar + geo:  %10.0f ns per fix" % r["bare_ns_per_fix"])
print("PostGIS per fix:   %10.0f ns per fix" % r["postgis_ns_per_fix"])
print("stage / bare:      %.2f   (goal <= 2)" % r["stage_over_bare"])
print("PostGIS / stage:   %.0f   (goal >= 100)" % r["postgis_over_stage"])
print("hits on the PostGIS sample: PostGIS %d, bare index %d" % (r["postgis_hits"], r["bare_hits_on_postgis_sample"]))
PY
rm -f "$OUT"
