#!/usr/bin/env bash
# Animation throughput on an emulated cluster of slow nodes (root only), all in one run:
#   taskdist on 1 worker host, taskdist on 8, and on the same 8 hosts the way people render
#   animations on a cluster today: one `povray +SF f +EF f` per frame, handed out like GNU
#   Parallel's --sshlogin (one frame per job over ssh, the next job as soon as a host is free).
# Hosts are tools/cluster's, each at 0.25 CPU with one slot. Runs interleaved (in each round:
# 1 host, 8 hosts, one frame per job; the order rotates each round), medians of REPEATS. Every
# frame of every run is compared with the first one-frame-per-job run (pixels, by ImageMagick).
# Usage: bench/frames.sh [REPEATS]   (default 3; needs `make build` first)
# Environment: FRAMES (default 48), SIZE (default "+W320 +H240"), EXAMPLE (one of POV-Ray's
# animations/*; default vect2: 0.32 CPU-s a frame at 320x240, frames alike, like all shipped
# examples but one; fractalzoom is that one: 2.6 CPU-s a frame on average, from 0.4 to 7.5).
# KEEP=1 keeps the work folder (every run's frames and taskdist's reports) for a closer look.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
FRAMES=${FRAMES:-48}
read -r -a SIZE <<< "${SIZE:-+W320 +H240}"
EXAMPLE=${EXAMPLE:-vect2}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/frames.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/frames.sh: needs root (tools/cluster)" >&2; exit 1; }
SOURCE=/usr/share/doc/povray/examples/animations/$EXAMPLE
INI=$(ls "$SOURCE"/*.ini | head -1)
[ -f "$INI" ] || { echo "bench/frames.sh: no INI in $SOURCE (apt-get install povray-examples)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/taskdist-bench-frames.XXXXXX)
chmod 755 "$WORK"
trap 'tools/cluster down >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
cp -r "$SOURCE" "$WORK/scene"
INI=$WORK/scene/$(basename "$INI")
FRAME_OPTS=(+SF1 "+EF$FRAMES")

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

# taskdist LABEL WORKERS: one render of the animation; appends "total wall" to $WORK/LABEL
taskdist_run() {
  local label=$1 workers=$2 out="$WORK/$1.$RANDOM" t0 t1
  mkdir -p "$out"
  t0=$(now)
  tools/cluster mpirun -np $((workers + 1)) "$TASKDIST" render "$INI" "${SIZE[@]}" "${FRAME_OPTS[@]}" \
    -o "$out/out.png" --quiet --report "$out/report.json" > "$out/log" 2>&1 \
    || { echo "bench/frames.sh: $label failed:" >&2; cat "$out/log" >&2; exit 1; }
  t1=$(now)
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total_s'], $t1 - $t0)" \
    "$out/report.json" >> "$WORK/$label"
  check_frames "$label" "$out"
  printf '.' >&2
}

# one_frame_per_job LABEL: every frame its own povray over ssh, 8 hosts pulling frames
one_frame_per_job() {
  local label=$1 out="$WORK/$1.$RANDOM" t0 t1
  mkdir -p "$out" && echo 0 > "$out/next"
  t0=$(now)
  for host in $(seq 1 8); do
    (
      while true; do
        f=$(flock "$out/next" sh -c 'n=$(( $(cat "$1") + 1 )); echo $n > "$1"; echo $n' _ "$out/next")
        [ "$f" -le "$FRAMES" ] || break
        tools/cluster ssh "node$host" "cd '$WORK/scene' && povray '$INI' ${SIZE[*]} +SF$f +EF$f \
          +WT1 -D '+O$out/out.png'" >> "$out/log.$host" 2>&1 \
          || { echo "bench/frames.sh: frame $f on node$host failed" >&2; exit 1; }
      done
    ) &
  done
  wait
  t1=$(now)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$WORK/$label"
  check_frames "$label" "$out"
  printf '.' >&2
}

# The first one-frame-per-job run is the reference; every other run's frames must match it.
check_frames() {
  local label=$1 out=$2
  local count
  count=$(ls "$out"/out*.png | wc -l)
  [ "$count" -eq "$FRAMES" ] || { echo "bench/frames.sh: $label wrote $count of $FRAMES frames" >&2; exit 1; }
  if [ ! -d "$WORK/reference" ]; then
    [ "$label" = per_frame ] && cp -r "$out" "$WORK/reference"
    return 0
  fi
  for f in "$WORK/reference"/out*.png; do
    local n
    n=$(compare -metric AE "$f" "$out/$(basename "$f")" null: 2>&1 || true)
    [ "$n" = 0 ] || { echo "bench/frames.sh: $label: $(basename "$f") differs ($n pixels)" >&2; exit 1; }
  done
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/$2" | median; }

echo "taskdist bench/frames.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "$EXAMPLE ($(basename "$INI")) frames 1-$FRAMES at ${SIZE[*]}, medians of $REPEATS, interleaved;"
echo "worker hosts at 0.25 CPU each, one slot per host; every frame pixel-compared between runs"

tools/cluster up 8 --cpu 0.25 2>/dev/null
printf 'runs ' >&2
for round in $(seq 1 "$REPEATS"); do
  case $(( (round - 1) % 3 )) in
    0) one_frame_per_job per_frame; taskdist_run one 1; taskdist_run eight 8 ;;
    1) taskdist_run one 1; taskdist_run eight 8; one_frame_per_job per_frame ;;
    2) taskdist_run eight 8; one_frame_per_job per_frame; taskdist_run one 1 ;;
  esac
done
echo >&2

row() { printf '%-52s %10.2f %12.2f %10.1f\n' "$1" "$(col 1 "$2")" "$(col 2 "$2")" \
  "$(awk -v w="$(col 2 "$2")" -v f="$FRAMES" 'BEGIN { print f * 60 / w }')"; }
printf '\n%-52s %10s %12s %10s\n' "" "total (s)" "wall (s)" "frames/min"
row "taskdist, 1 worker host" one
row "taskdist, 8 worker hosts" eight
row "one povray per frame over ssh, 8 hosts (GNU Parallel way)" per_frame
printf '%-52s %9.2fx %11.2fx   %s\n' "speedup of taskdist, 8 hosts over 1" \
  "$(div "$(col 1 one)" "$(col 1 eight)")" "$(div "$(col 2 one)" "$(col 2 eight)")" "(target >= 7.0)"
printf '%-52s %22.2fx   %s\n' "taskdist 8 hosts / one frame per job (wall)" \
  "$(div "$(col 2 eight)" "$(col 2 per_frame)")" "(target <= 0.8)"
echo
echo "each run's wall (s), round by round:"
for l in one eight per_frame; do printf '%-12s %s\n' "$l" "$(awk '{ printf "%.2f ", $2 }' "$WORK/$l")"; done
