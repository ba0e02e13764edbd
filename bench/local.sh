#!/usr/bin/env bash
# Local benchmark of taskdist on this machine (issue: taskdist render). Prints, from one run,
# medians of N interleaved repeats (so machine noise hits every configuration alike):
#   blob.pov 3200x2400: taskdist -j1, -j2 static, -j2 dynamic, and one full `povray +WT2` render;
#   scenes/skewed.pov 3200x2400: -j2 static vs -j2 dynamic;
#   blob.pov 6400x4800 -j2: the master's peak RSS and the second sequential part's share.
# Usage: bench/local.sh [REPEATS]   (default 5; needs a built build/taskdist: `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
td=build/taskdist
blob=/usr/share/doc/povray/examples/objects/blob.pov
skewed=scenes/skewed.pov
[ -x "$td" ] || { echo "build first: make build" >&2; exit 1; }
TIMEFORMAT=%R  # bash's own `time`: wall seconds
work=$(mktemp -d /tmp/taskdist-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

names=(j1 j2_static j2_dynamic povray_wt2 skewed_static skewed_dynamic one_trace two_traces)
cmd() {
  case $1 in
    j1)             $td render $blob +W3200 +H2400 -o $work/a.png -j1 -q ;;
    j2_static)      $td render $blob +W3200 +H2400 -o $work/a.png -j2 --policy static -q ;;
    j2_dynamic)     $td render $blob +W3200 +H2400 -o $work/a.png -j2 --policy dynamic -q ;;
    povray_wt2)     (cd $work && povray +I$blob +W3200 +H2400 +WT2 -D +O$work/p.png -GA 2>/dev/null) ;;
    skewed_static)  $td render $skewed +W3200 +H2400 -o $work/s.png -j2 --policy static -q ;;
    skewed_dynamic) $td render $skewed +W3200 +H2400 -o $work/s.png -j2 --policy dynamic -q ;;
    # The machine's own ceiling: one single-threaded trace alone, and two at once (-F: no output).
    one_trace)      povray +I$blob +W1600 +H1200 +WT1 -D -F -GA 2>/dev/null ;;
    two_traces)     povray +I$blob +W1600 +H1200 +WT1 -D -F -GA 2>/dev/null &
                    povray +I$blob +W1600 +H1200 +WT1 -D -F -GA 2>/dev/null; wait ;;
  esac
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(povray --version 2>&1 | grep -m1 -o 'POV-Ray [0-9.]*')"
echo "repeats: $repeats, interleaved"
for ((i = 1; i <= repeats; i++)); do
  for n in "${names[@]}"; do
    s=$( { time cmd "$n" >/dev/null 2>&1; } 2>&1 )
    [ -n "$s" ] || { echo "error: $n failed" >&2; exit 1; }
    echo "$n $s" >> "$work/times"
    printf '\r  round %d/%d: %-15s %6.2f s' "$i" "$repeats" "$n" "$s" >&2
  done
done
echo >&2

median() { grep "^$1 " "$work/times" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -A m
for n in "${names[@]}"; do m[$n]=$(median $n); done

echo
echo "blob.pov 3200x2400, wall seconds (median of $repeats)"
printf '  %-34s %7.2f\n' "taskdist -j1" "${m[j1]}" "taskdist -j2 --policy static" "${m[j2_static]}" \
  "taskdist -j2 --policy dynamic" "${m[j2_dynamic]}" "povray +WT2 (one full render)" "${m[povray_wt2]}"
awk -v j1="${m[j1]}" -v d="${m[j2_dynamic]}" -v s="${m[j2_static]}" -v p="${m[povray_wt2]}" 'BEGIN {
  printf "  speedup -j2 dynamic over -j1:      %5.2fx   (target >= 1.7)\n", j1 / d;
  printf "  speedup -j2 static over -j1:       %5.2fx\n", j1 / s;
  printf "  -j2 dynamic / povray +WT2:         %5.2f    (target <= 1.10)\n", d / p }'
awk -v one="${m[one_trace]}" -v two="${m[two_traces]}" 'BEGIN {
  printf "  this machine'"'"'s ceiling for 2 slots: two single-threaded traces at once deliver %.2fx one\n", 2 * one / two }'
echo
echo "scenes/skewed.pov 3200x2400 -j2, wall seconds (median of $repeats)"
printf '  %-34s %7.2f\n' "static" "${m[skewed_static]}" "dynamic" "${m[skewed_dynamic]}"
awk -v s="${m[skewed_static]}" -v d="${m[skewed_dynamic]}" 'BEGIN {
  printf "  dynamic / static:                  %5.2f    (target <= 0.80)\n", d / s }'

echo
echo "blob.pov 6400x4800 -j2 (one run)"
$td render $blob +W6400 +H4800 -o $work/big.png -j2 -q --report $work/big.json
grep -E '"(seq1_s|parallel_s|seq2_s|total_s|master_peak_rss_bytes)"' $work/big.json | tr -d ' ,"' |
  awk -F: '{v[$1]=$2} END {
    printf "  total %.2f s, second sequential part %.3f s (%.2f%% of the run; target < 2%%)\n", v["total_s"], v["seq2_s"], 100 * v["seq2_s"] / v["total_s"];
    printf "  master peak RSS %.1f MiB (target <= 64 MiB)\n", v["master_peak_rss_bytes"] / 1048576 }'
