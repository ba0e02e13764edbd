#!/usr/bin/env bash
# Two taskdist binaries side by side in one run: `taskdist render` of the same scene, interleaved
# (A B, B A, A B, ...) so that machine noise hits both alike, after one warm-up run each (which
# also writes each binary's own cost profile, kept apart in its own cache). Prints every run's
# wall time, the medians, and B/A (below 1: B is faster).
# Usage: bench/ab.sh OLD_TASKDIST NEW_TASKDIST [REPEATS] [render arguments...]
#   default: 5 repeats of blob.pov +W3200 +H2400 -j2
set -euo pipefail
a=$(realpath "$1") b=$(realpath "$2")
repeats=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(/usr/share/doc/povray/examples/objects/blob.pov +W3200 +H2400 -j2)
work=$(mktemp -d /tmp/taskdist-ab-XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {  # run NAME BINARY: prints wall seconds
  local start end
  start=$(date +%s.%N)
  TASKDIST_CACHE_DIR="$work/cache-$1" "$2" render "${args[@]}" -o "$work/$1.png" -q
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.3f\n", e - s}'
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "A: $a"
echo "B: $b"
echo "render ${args[*]}; $repeats repeats each, interleaved, after one warm-up each"
run A "$a" >/dev/null
run B "$b" >/dev/null
ta=() tb=()
for i in $(seq "$repeats"); do
  if (( i % 2 )); then  # A B, then B A: neither always runs right after the other
    ta+=("$(run A "$a")")
    tb+=("$(run B "$b")")
  else
    tb+=("$(run B "$b")")
    ta+=("$(run A "$a")")
  fi
  printf 'round %d: A %.2f s  B %.2f s\n' "$i" "${ta[-1]}" "${tb[-1]}"
done
ma=$(printf '%s\n' "${ta[@]}" | median)
mb=$(printf '%s\n' "${tb[@]}" | median)
# Band splits differ from run to run (costs are learnt), so the files' bytes may differ; the
# pixels must not.
pixels() { convert "$1" rgba:- | md5sum; }
[ "$(pixels "$work/A.png")" = "$(pixels "$work/B.png")" ] && same="identical" || same="DIFFERENT"
printf 'median: A %.2f s  B %.2f s  B/A %.3f  (pixels of the last two images: %s)\n' "$ma" "$mb" \
  "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print b / a}')" "$same"
