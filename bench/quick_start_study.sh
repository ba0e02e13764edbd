#!/usr/bin/env bash
# Issue 17's study (root only): `taskdist bench` on `tools/cluster up 8 --cpu 0.25`, 8 worker
# hosts, blob.pov at 200x150, 800x600, 1600x1200 and 3200x2400, both policies, REPEATS rounds,
# with the quick start (the default). Prints dynamic against static round by round (the first
# round has no cost profile yet), then the study's medians.
# Usage: bench/quick_start_study.sh [REPEATS]   (default 3; needs `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/quick_start_study.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/quick_start_study.sh: needs root (tools/cluster)" >&2; exit 1; }
tools/cluster status 2>/dev/null | grep -q '^down' || {
  echo "bench/quick_start_study.sh: an emulated cluster is up already (tools/cluster down first)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/taskdist-bench-study.XXXXXX)
trap 'tools/cluster down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
tools/cluster up 8 --cpu 0.25 >/dev/null
tools/cluster mpirun -np 9 "$TASKDIST" bench --sizes 200x150,800x600,1600x1200,3200x2400 \
  --nodes 8 --repeat "$REPEATS" --method taskdist --out "$WORK/study" 2> "$WORK/study.log" >/dev/null \
  || { echo "bench/quick_start_study.sh: the study failed:" >&2; tail -5 "$WORK/study.log" >&2; exit 1; }
python3 - "$WORK/study.log" "$WORK/study/results.csv" <<'PY'
import csv, re, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.search(r'round (\d+)/\d+: taskdist (\w+) (\d+x\d+) on 8 nodes: ([\d.]+) s', line)
    if m:
        runs[(m[3], m[2], int(m[1]))] = float(m[4])
sizes = sorted({k[0] for k in runs}, key=lambda s: int(s.split('x')[0]))
rounds = sorted({k[2] for k in runs})
print('| size | round | dynamic (s) | static (s) | dynamic / static |')
print('|---|---:|---:|---:|---:|')
for size in sizes:
    for r in rounds:
        d, s = runs.get((size, 'dynamic', r)), runs.get((size, 'static', r))
        if d and s:
            print(f'| {size} | {r} | {d:.2f} | {s:.2f} | {d / s:.2f} |')
print()
print('| size | dynamic median (s) | static median (s) |')
print('|---|---:|---:|')
rows = {(r['width'] + 'x' + r['height'], r['policy']): r for r in csv.DictReader(open(sys.argv[2]))}
for size in sizes:
    print(f"| {size} | {float(rows[(size, 'dynamic')]['total_median_s']):.2f} | "
          f"{float(rows[(size, 'static')]['total_median_s']):.2f} |")
PY
