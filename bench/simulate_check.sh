#!/usr/bin/env bash
# How far `taskdist simulate` is from reality (root, about 30 minutes). This machine's speed
# drifts by a fifth over minutes, so the study and the calibrations take turns, and a prediction
# is the mean of one made with each calibration:
#  1. calibrates this machine (`taskdist simulate --calibrate`), then the emulated cluster's nodes
#     and link (the same under `tools/cluster mpirun`, 8 hosts at 0.25 CPU), into OUT/cal0;
#  2. measures a round of the paper's study there (blob.pov 200x150 .. 3200x2400 on 1, 2, 4, 8
#     worker hosts, both policies) into OUT/round1, and calibrates again into OUT/cal1; ROUNDS
#     rounds (default 5; skipped when RESULTS names a results.csv measured already), each
#     starting from the cost profiles the rounds before it learnt, as `taskdist bench --repeat
#     5` would: the same 1600x1200 band took 2.0 to 3.0 CPU-s in one study, so a point is the
#     median of five;
#  3. predicts the study (hosts sharing this machine's cores: --shared-cores) with the ROUNDS + 1
#     calibrations and prints predicted against measured (the median of the rounds), point by
#     point, with the mean and worst error (`taskdist simulate --against`);
#  4. predicts blob.pov at 3200x2400 and 12800x9600 on 1 to 4096 nodes, and says how long each
#     simulation took.
# Usage: [ROUNDS=N] bench/simulate_check.sh [OUT] [RESULTS]   (default OUT docs/bench/simulate-DATE)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/bench/simulate-$(date -u +%Y-%m-%d)}
RESULTS=${2:-}
ROUNDS=${ROUNDS:-5}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "bench/simulate_check.sh: ROUNDS must be a count" >&2; exit 2; }
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/simulate_check.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/simulate_check.sh: needs root (tools/cluster)" >&2; exit 1; }
mkdir -p "$OUT"
trap 'tools/cluster down >/dev/null 2>&1 || true' EXIT

# calibrate DIR: this machine, then the cluster (which must be down first, and is left up).
calibrate() {
  mkdir -p "$1"
  "$TASKDIST" simulate --calibrate --calibration "$1/calibration.json" 2>&1 |
    tee "$1/calibrate.log"
  tools/cluster up 8 --cpu 0.25
  tools/cluster mpirun "$TASKDIST" simulate --calibrate --calibration "$1/calibration.json" 2>&1 |
    grep -v setpgid | tee -a "$1/calibrate.log"
}

calibrate "$OUT/cal0"
CALS=(--calibration "$OUT/cal0/calibration.json")
AGAINST=()
if [ -z "$RESULTS" ]; then
  for round in $(seq 1 "$ROUNDS"); do
    mkdir -p "$OUT/round$round"
    if [ "$round" -gt 1 ]; then cp -r "$OUT/round$((round - 1))/profiles" "$OUT/round$round/"; fi
    tools/cluster mpirun "$TASKDIST" bench --sizes 200x150,400x300,800x600,1600x1200,3200x2400 \
      --nodes 1,2,4,8 --repeat 1 --method taskdist --out "$OUT/round$round" 2>&1 |
      grep -v setpgid | tee "$OUT/round$round.log"
    AGAINST+=(--against "$OUT/round$round/results.csv")
    tools/cluster down
    calibrate "$OUT/cal$round"
    CALS+=(--calibration "$OUT/cal$round/calibration.json")
  done
else
  AGAINST=(--against "$RESULTS")
fi
tools/cluster down

# The study's hosts share this machine's cores: --shared-cores, with the start-up slowdown by
# hosts starting at once that the calibration measured under mpirun.
"$TASKDIST" simulate "${CALS[@]}" "${AGAINST[@]}" --node-cpu 0.25 \
  --shared-cores "$(nproc)" --out "$OUT/against" | tee "$OUT/against.log"
NODES=1,2,4,8,16,32,64,128,256,512,1024,2048,4096
for size in 3200x2400 12800x9600; do
  start=$(date +%s%N)
  "$TASKDIST" simulate "${CALS[@]}" --sizes "$size" --nodes $NODES \
    --out "$OUT/blob-$size" | tee "$OUT/blob-$size.log"
  echo "simulating $size on 1 to 4096 nodes, both policies, took" \
    "$(( ($(date +%s%N) - start) / 1000000 )) ms" | tee -a "$OUT/blob-$size.log"
done
echo "bench/simulate_check.sh: wrote $OUT"
