#!/usr/bin/env bash
# The paper's scaling study with `taskdist bench`, as committed under docs/bench/ (root only):
#  1. on an emulated cluster of 8 hosts at 0.25 CPU each (tools/cluster up 8 --cpu 0.25): blob.pov
#     200x150 .. 3200x2400 on 1, 2, 4, 8 worker ranks, repeat 3, both policies and both methods;
#  2. the memory study on the same cluster: 6400x4800 on 1 and 8 hosts, repeat 1;
#  3. the memory study on the local engine: 12800x9600 on 2 slots, repeat 1.
# Each part writes results.csv, report.md and the figures into OUT/<part>/; a log beside them.
# About 40 minutes on the project's 2-core machine.
# Usage: bench/study.sh [OUT]   (default docs/bench/study-DATE; needs `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/bench/study-$(date -u +%Y-%m-%d)}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/study.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/study.sh: needs root (tools/cluster)" >&2; exit 1; }
mkdir -p "$OUT"
trap 'tools/cluster down >/dev/null 2>&1 || true' EXIT

tools/cluster up 8 --cpu 0.25
tools/cluster mpirun "$TASKDIST" bench --sizes 200x150,400x300,800x600,1600x1200,3200x2400 \
  --nodes 1,2,4,8 --repeat 3 --out "$OUT/cluster" 2>&1 | grep -v setpgid | tee "$OUT/cluster.log"
tools/cluster mpirun "$TASKDIST" bench --sizes 6400x4800 --nodes 1,8 --repeat 1 \
  --policy dynamic --out "$OUT/cluster-6400x4800" 2>&1 | grep -v setpgid |
  tee "$OUT/cluster-6400x4800.log"
tools/cluster down
"$TASKDIST" bench --sizes 12800x9600 --nodes 2 --repeat 1 --policy dynamic \
  --out "$OUT/local-12800x9600" 2>&1 | tee "$OUT/local-12800x9600.log"
echo "bench/study.sh: wrote $OUT"
