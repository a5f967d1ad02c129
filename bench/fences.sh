#!/usr/bin/env bash
# Benchmark: the fence stage (stages 2-3 without I/O: containing fences, fences passed through
# since the previous fix, the enter/exit/cross/dwell diff) per fix with 16,000 fences, against a
# bare rstar + geo point query, in one process on the same fences and fixes, in memory
# (`cargo bench -p cylwatch --bench fences`, `backend/benches/fences.rs`; built with the
# `server` profile, as the server is).
#
#   bash bench/fences.sh                  # 16,000 fences, 100,000 fixes
#   FENCES=4000 bash bench/fences.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/cylwatch/target}
export BENCH_FENCES=${FENCES:-16000}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
cargo bench --quiet --profile server -p cylwatch --bench fences > "$OUT"
cat "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print()
print("fences %d, fixes %d (%d transitions)" % (r["fences"], r["fixes"], r["transitions"]))
print("fence stage:       %10.0f ns per fix" % r["stage_ns_per_fix"])
print("bare rstar + geo:  %10.0f ns per fix" % r["bare_ns_per_fix"])
print("stage / bare:      %.2f   (goal <= 2)" % r["stage_over_bare"])
PY
