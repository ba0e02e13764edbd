#!/usr/bin/env bash
# The quick start on an emulated cluster (root only): `tools/cluster up 8 --cpu 0.25`, blob.pov
# at 200x150, 800x600, 1600x1200 and 3200x2400, 8 worker hosts against 1, with the quick start
# (the default) and with --no-quick-start, medians of REPEATS, every round interleaved (sizes
# and modes in turn). Speedups on taskdist's own total (first sequential + parallel + second
# sequential part, from --report) and on the whole mpirun command's wall time (with ssh and
# Open MPI's start-up). Dynamic policy; cost profiles off, so every run plans alike.
# Usage: bench/quick_start_cluster.sh [REPEATS] [SIZES]   (default 3, all four sizes; `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SIZES=${2:-200x150 800x600 1600x1200 3200x2400}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/quick_start_cluster.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/quick_start_cluster.sh: needs root (tools/cluster)" >&2; exit 1; }
SCENE=/usr/share/doc/povray/examples/objects/blob.pov
WORK=$(mktemp -d /tmp/taskdist-bench-quick-start.XXXXXX)
tools/cluster status 2>/dev/null | grep -q '^down' || {
  echo "bench/quick_start_cluster.sh: an emulated cluster is up already (tools/cluster down first)" >&2; exit 1; }
trap 'tools/cluster down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/scene" && cp "$SCENE" "$WORK/scene/"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/$2" | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# run LABEL SIZE WORKERS [taskdist options...]: one render; appends "total wall seq1" to $WORK/LABEL
run() {
  local label=$1 size=$2 workers=$3; shift 3
  local report="$WORK/$label.json" t0 t1
  t0=$(date +%s.%N)
  tools/cluster mpirun -np $((workers + 1)) "$TASKDIST" render "$WORK/scene/blob.pov" \
    "+W${size%x*}" "+H${size#*x}" -o "$WORK/$label.png" --quiet --report "$report" --no-profile \
    "$@" > "$WORK/$label.log" 2>&1 \
    || { echo "bench/quick_start_cluster.sh: $label failed:" >&2; cat "$WORK/$label.log" >&2; exit 1; }
  if grep -q "quick start is off" "$WORK/$label.log"; then
    echo "bench/quick_start_cluster.sh: $label: $(grep -m1 "quick start is off" "$WORK/$label.log")" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print(r['total_s'], $t1 - $t0, r['seq1_s'])" \
    "$report" >> "$WORK/$label"
  printf '.' >&2
}

echo "taskdist bench/quick_start_cluster.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "blob.pov, tools/cluster up 8 --cpu 0.25, one slot per host, dynamic policy, --no-profile; medians of $REPEATS, interleaved"
tools/cluster up 8 --cpu 0.25 --hide "$WORK/scene" >/dev/null
for round in $(seq 1 "$REPEATS"); do
  printf 'round %d ' "$round" >&2
  for size in $SIZES; do
    modes=(quick no)
    (( round % 2 )) || modes=(no quick)
    for mode in "${modes[@]}"; do
      opts=()
      [ "$mode" = no ] && opts=(--no-quick-start)
      run "$mode-$size-1" "$size" 1 "${opts[@]}"
      run "$mode-$size-8" "$size" 8 "${opts[@]}"
    done
  done
  echo >&2
done

printf '\n| size | quick start | 1 host total (s) | 8 hosts total (s) | speedup (total) | 1 host wall (s) | 8 hosts wall (s) | speedup (mpirun wall) | 8 hosts seq1 (s) |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
for size in $SIZES; do
  for mode in quick no; do
    one="$mode-$size-1" eight="$mode-$size-8"
    printf '| %s | %s | %.2f | %.2f | **%s** | %.2f | %.2f | %s | %.3f |\n' "$size" \
      "$([ "$mode" = quick ] && echo on || echo off)" "$(col 1 "$one")" "$(col 1 "$eight")" \
      "$(div "$(col 1 "$one")" "$(col 1 "$eight")")" "$(col 2 "$one")" "$(col 2 "$eight")" \
      "$(div "$(col 2 "$one")" "$(col 2 "$eight")")" "$(col 3 "$eight")"
  done
done
echo
echo "each run's total (s), round by round:"
for size in $SIZES; do
  for mode in quick no; do
    for n in 1 8; do
      printf '%-28s %s\n' "$size $mode-quick-start $n host(s)" "$(awk '{ printf "%.2f ", $1 }' "$WORK/$mode-$size-$n")"
    done
  done
done
