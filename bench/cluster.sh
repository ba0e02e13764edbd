#!/usr/bin/env bash
# Speedup of taskdist on an emulated cluster of slow nodes (root only), all in one run:
#  1. 8 worker hosts at 0.25 CPU each vs 1 such host: blob.pov 1600x1200, medians of REPEATS,
#     runs interleaved. Speedup on taskdist's own total (first sequential + parallel + second
#     sequential part, from --report), with the whole mpirun command's wall time beside it.
#     Both policies are measured on 8 hosts.
#  2. One host at 0.125 CPU and seven at 0.25: --policy dynamic vs static, 8 worker hosts, with
#     the slow host in two places: node1 (the static split gives it the top band, cheap sky) and
#     node4 (a band through the middle of the blob, among the costliest).
#  Cost profiles (taskdist render --profile-dir): the runs share a fresh folder, so each dynamic
#  run cuts its bands by what the runs before it measured; each round runs static first.
# Usage: bench/cluster.sh [REPEATS]   (default 3; needs `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SIZE=(+W1600 +H1200)
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/cluster.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/cluster.sh: needs root (tools/cluster)" >&2; exit 1; }
SCENE=$(ls /usr/share/doc/povray/examples/objects/blob.pov)
WORK=$(mktemp -d /tmp/taskdist-bench-cluster.XXXXXX)
trap 'tools/cluster down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/scene" && cp "$SCENE" "$WORK/scene/"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# run LABEL WORKERS [taskdist options...]: one render, appends "total wall" to $WORK/LABEL
run() {
  local label=$1 workers=$2; shift 2
  local report="$WORK/$label.json" t0 t1
  t0=$(date +%s.%N)
  tools/cluster mpirun -np $((workers + 1)) "$TASKDIST" render "$WORK/scene/blob.pov" "${SIZE[@]}" \
    -o "$WORK/$label.png" --quiet --report "$report" --profile-dir "$WORK/profiles" "$@" \
    > "$WORK/$label.log" 2>&1 \
    || { echo "bench/cluster.sh: $label failed:" >&2; cat "$WORK/$label.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total_s'], $t1 - $t0)" "$report" >> "$WORK/$label"
  printf '.' >&2
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/$2" | median; }

echo "taskdist bench/cluster.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "blob.pov ${SIZE[*]}, medians of $REPEATS, interleaved; one slot per host (taskdist reads the 0.25 CPU quota)"
echo "cost profiles: this script's own (a fresh folder); each dynamic run starts from what the runs before it measured"
echo "(in each round the static run comes first, so even the first dynamic run has the static run's 8 bands)"

tools/cluster up 8 --cpu 0.25 --hide "$WORK/scene" 2>/dev/null
printf 'part 1: 8 hosts at 0.25 CPU ' >&2
for _ in $(seq 1 "$REPEATS"); do
  run one 1
  run eight_static 8 --policy static
  run eight 8 --policy dynamic
done
tools/cluster down >/dev/null 2>&1
echo >&2
for slow in node1 node4; do
  tools/cluster up 8 --cpu 0.25 --cpu-of "$slow=0.125" --hide "$WORK/scene" 2>/dev/null
  printf 'part 2: %s at 0.125 CPU, seven at 0.25 ' "$slow" >&2
  for _ in $(seq 1 "$REPEATS"); do
    run "static_$slow" 8 --policy static
    run "dynamic_$slow" 8 --policy dynamic
  done
  tools/cluster down >/dev/null 2>&1
  echo >&2
done

row() { printf '%-48s %10.2f %14.2f\n' "$1" "$(col 1 "$2")" "$(col 2 "$2")"; }
ratio() { printf '%-48s %9.2fx %13.2fx   %s\n' "$1" "$(div "$(col 1 "$2")" "$(col 1 "$3")")" \
  "$(div "$(col 2 "$2")" "$(col 2 "$3")")" "$4"; }
printf '\n%-48s %10s %14s\n' "" "total (s)" "mpirun wall (s)"
row "1 worker host (0.25 CPU)" one
row "8 worker hosts (0.25 CPU each), dynamic" eight
row "8 worker hosts (0.25 CPU each), static" eight_static
ratio "speedup 8 vs 1, dynamic" one eight "(target >= 4.5 on total; paper method 2.55)"
ratio "speedup 8 vs 1, static" one eight_static ""
for slow in node1 node4; do
  row "$slow at 0.125, 7 at 0.25: static" "static_$slow"
  row "$slow at 0.125, 7 at 0.25: dynamic" "dynamic_$slow"
  ratio "$slow slow: dynamic / static" "dynamic_$slow" "static_$slow" "(target <= 0.85 on total)"
done

# Every run, in the order run (round by round), so the noise behind each median shows.
runs() { printf '%-48s %s\n' "$1" "$(awk '{ printf "%.2f ", $1 }' "$WORK/$2")"; }
echo
echo "each run's total (s), round by round:"
runs "1 worker host" one
runs "8 hosts, static" eight_static
runs "8 hosts, dynamic" eight
for slow in node1 node4; do
  runs "$slow slow, static" "static_$slow"
  runs "$slow slow, dynamic" "dynamic_$slow"
  printf '%-48s %s\n' "$slow slow, dynamic / static, each round" \
    "$(paste "$WORK/dynamic_$slow" "$WORK/static_$slow" | awk '{ printf "%.2f ", $1 / $3 }')"
done
