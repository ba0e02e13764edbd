#!/usr/bin/env bash
# How far `taskdist simulate` is from reality (root, about 20 minutes):
#  1. calibrates this machine (`taskdist simulate --calibrate`), then the emulated cluster's nodes
#     and link (the same under `tools/cluster mpirun`, 8 hosts at 0.25 CPU);
#  2. measures the paper's study there: blob.pov 200x150 .. 3200x2400 on 1, 2, 4, 8 worker hosts,
#     both policies, repeat 3 (skipped when RESULTS names a results.csv measured already);
#  3. predicts the same study and prints predicted against measured, point by point, with the
#     mean and worst error (`taskdist simulate --against`);
#  4. predicts blob.pov at 3200x2400 and 12800x9600 on 1 to 4096 nodes of a core each, and says
#     how long each simulation took.
# Usage: bench/simulate_check.sh [OUT] [RESULTS]   (default OUT docs/bench/simulate-DATE)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/bench/simulate-$(date -u +%Y-%m-%d)}
RESULTS=${2:-}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/simulate_check.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/simulate_check.sh: needs root (tools/cluster)" >&2; exit 1; }
mkdir -p "$OUT"
CAL=$OUT/calibration.json
trap 'tools/cluster down >/dev/null 2>&1 || true' EXIT

"$TASKDIST" simulate --calibrate --calibration "$CAL" 2>&1 | tee "$OUT/calibrate.log"
tools/cluster up 8 --cpu 0.25
tools/cluster mpirun "$TASKDIST" simulate --calibrate --calibration "$CAL" 2>&1 |
  grep -v setpgid | tee -a "$OUT/calibrate.log"
if [ -z "$RESULTS" ]; then
  tools/cluster mpirun "$TASKDIST" bench --sizes 200x150,400x300,800x600,1600x1200,3200x2400 \
    --nodes 1,2,4,8 --repeat 3 --method taskdist --out "$OUT/study" 2>&1 | grep -v setpgid |
    tee "$OUT/study.log"
  RESULTS=$OUT/study/results.csv
fi
tools/cluster down

"$TASKDIST" simulate --calibration "$CAL" --against "$RESULTS" --node-cpu 0.25 \
  --out "$OUT/against" | tee "$OUT/against.log"
NODES=1,2,4,8,16,32,64,128,256,512,1024,2048,4096
for size in 3200x2400 12800x9600; do
  start=$(date +%s%N)
  "$TASKDIST" simulate --calibration "$CAL" --sizes "$size" --nodes $NODES \
    --out "$OUT/blob-$size" | tee "$OUT/blob-$size.log"
  echo "simulating $size on 1 to 4096 nodes, both policies, took" \
    "$(( ($(date +%s%N) - start) / 1000000 )) ms" | tee -a "$OUT/blob-$size.log"
done
echo "bench/simulate_check.sh: wrote $OUT"
