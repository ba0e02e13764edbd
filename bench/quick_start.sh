#!/usr/bin/env bash
# The quick start's effect on one povray band, measured side by side in one run: every figure is
# the median of N interleaved repeats (without, with, with, without, ...) of the same command,
# with and without the preload (build/povray-quick-start.so) in LD_PRELOAD.
#   1. A band's fixed cost: one row (+SR1 +ER1) of blob.pov from 200x150 to 6400x4800, its
#      full-size TGA read to the end (start-up, image buffer, output, parse): wall and CPU.
#   2. CPU per band: an eighth of blob.pov (as on 8 nodes) at 800x600 and 3200x2400, on a full
#      core and in a cgroup capped at 0.25 CPU (as on `tools/cluster up 8 --cpu 0.25`): the
#      preload's extra CPU per band, which must stay under 2%.
#   3. Locally: taskdist -j2 (quick start on, and --no-quick-start) against one `povray +WT2`
#      render of blob.pov at 640x480 and 3200x2400.
#   4. The preload's CPU by count, for the bands of part 2: the timer wakeups it added (it counts
#      them: TASKDIST_QUICK_START_COUNT) times the CPU of one such wakeup on this machine
#      (bench/wakeup_cost.c), against the band's CPU. CPU medians of single bands vary by 10% and
#      more on a shared machine; this bound does not.
# Usage: bench/quick_start.sh [REPEATS] [PARTS]   (default 5 repeats, parts "1 2 3 4"; the 0.25
#        CPU cap of parts 2 and 4 needs root; needs a built build/: `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
parts=${2:-1 2 3 4}
preload=$(realpath build/povray-quick-start.so)
td=build/taskdist
blob=/usr/share/doc/povray/examples/objects/blob.pov
[ -x "$td" ] && [ -f "$preload" ] || { echo "build first: make build" >&2; exit 1; }
work=$(mktemp -d /tmp/taskdist-quick-start-XXXXXX)
cg=""
cleanup() {
  if [ -n "$cg" ] && [ -d "$cg" ]; then  # only this script's own processes are in it
    for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done
    rmdir "$cg" || echo "bench/quick_start.sh: could not remove the cgroup $cg" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# timed VAR COMMAND...: appends "wall cpu" (seconds; cpu: user+sys of every child) to array VAR.
# A command that fails stops the script with its last words; a run of taskdist that says the
# quick start is off is flagged (the "with" figures would not be).
timed() {
  local -n into=$1
  shift
  local t
  if ! t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>"$work/stderr"; } 2>&1 ); then
    echo "bench/quick_start.sh: failed: $*" >&2
    tail -5 "$work/stderr" >&2
    exit 1
  fi
  if grep -q "quick start is off" "$work/stderr"; then
    echo "WARNING: $(grep -m1 "quick start is off" "$work/stderr")"
  fi
  into+=("$(tail -1 <<<"$t" | awk '{printf "%.4f %.4f", $1, $2 + $3}')")
}
col() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }

# ab LABEL COMMAND...: runs COMMAND without and with the preload, interleaved; prints a row.
ab() {
  local label=$1
  shift
  local off=() on=()
  for i in $(seq "$repeats"); do
    if (( i % 2 )); then
      timed off "$@"; timed on with_preload "$@"
    else
      timed on with_preload "$@"; timed off "$@"
    fi
  done
  local w0 w1 c0 c1
  w0=$(col 1 "${off[@]}") w1=$(col 1 "${on[@]}") c0=$(col 2 "${off[@]}") c1=$(col 2 "${on[@]}")
  printf '| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %+.1f%% |\n' "$label" "$w0" "$w1" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN {print a - b}')" "$c0" "$c1" \
    "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print (a > 0) ? 100 * (b - a) / a : 0}')"
}

with_preload() { (export LD_PRELOAD="$preload"; "$@"); }
counted() { (export LD_PRELOAD="$preload" TASKDIST_QUICK_START_COUNT="$work/count"; "$@"); }

band() {  # band W H FIRST LAST: povray renders rows FIRST..LAST, its TGA read whole
  (cd "$work" && povray "+I$blob" "+W$1" "+H$2" "+SR$3" "+ER$4" +WT1 -D +FT -O- -GA | cat >/dev/null)
}
export -f band
export work blob

capped_band() {  # capped_band W H FIRST LAST: band, in the 0.25 CPU cgroup
  bash -c 'echo $$ > "$0/cgroup.procs"; band "$@"' "$cg" "$@"
}

make_cgroup() {  # a cgroup of this script's own, capped at 0.25 CPU (v1 or v2)
  [ -z "$cg" ] || return 0
  [ "$(id -u)" -eq 0 ] || { echo "the 0.25 CPU cap needs root" >&2; return 1; }
  if [ -d /sys/fs/cgroup/cpu ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    cg=/sys/fs/cgroup/cpu/taskdist-quick-start-$$
    mkdir "$cg"
    echo 100000 > "$cg/cpu.cfs_period_us"
    echo 25000 > "$cg/cpu.cfs_quota_us"
  else
    cg=/sys/fs/cgroup/taskdist-quick-start-$$
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control
    mkdir "$cg"
    echo "25000 100000" > "$cg/cpu.max"
  fi
}

header() {
  echo
  echo "| $1 | wall without (s) | wall with (s) | saved (s) | CPU without (s) | CPU with (s) | CPU change |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
}

echo "$(povray --version 2>&1 | grep -m1 'POV-Ray'): $(nproc) cores; medians of $repeats, interleaved"
for part in $parts; do
  case $part in
    1)
      header "one-row band of blob.pov (full core)"
      for size in 200x150 400x300 800x600 1600x1200 3200x2400 6400x4800; do
        ab "$size" band "${size%x*}" "${size#*x}" 1 1.5  # +ER1 would be the whole image
      done ;;
    2)
      make_cgroup
      header "an eighth of blob.pov"
      ab "800x600 rows 1-75, full core" band 800 600 1 75
      ab "3200x2400 rows 1-300, full core" band 3200 2400 1 300
      ab "800x600 rows 1-75, 0.25 CPU" capped_band 800 600 1 75
      ab "3200x2400 rows 1-300, 0.25 CPU" capped_band 3200 2400 1 300 ;;
    3)
      echo
      echo "| blob.pov | taskdist -j2 (s) | -j2 --no-quick-start (s) | povray +WT2 (s) | -j2 / povray |"
      echo "|---|---:|---:|---:|---:|"
      for size in 640x480 3200x2400; do
        w=${size%x*} h=${size#*x}
        q=() n=() p=()
        for i in $(seq "$repeats"); do
          cmds=(q n p)
          (( i % 2 )) || cmds=(p n q)
          for c in "${cmds[@]}"; do
            case $c in
              q) timed q "$td" render "$blob" "+W$w" "+H$h" -o "$work/q.png" -j2 -q --no-profile ;;
              n) timed n "$td" render "$blob" "+W$w" "+H$h" -o "$work/n.png" -j2 -q --no-profile --no-quick-start ;;
              p) timed p bash -c "cd '$work' && povray '+I$blob' +W$w +H$h +WT2 -D '+O$work/p.png' -GA" ;;
            esac
          done
        done
        mq=$(col 1 "${q[@]}") mn=$(col 1 "${n[@]}") mp=$(col 1 "${p[@]}")
        printf '| %s | %.3f | %.3f | %.3f | %.2f |\n' "$size" "$mq" "$mn" "$mp" \
          "$(awk -v a="$mq" -v b="$mp" 'BEGIN {print a / b}')"
      done ;;
    4)
      make_cgroup
      gcc -O2 -o "$work/wakeup_cost" bench/wakeup_cost.c -lpthread
      cost_us=$("$work/wakeup_cost")
      echo
      echo "| band of blob.pov (with the preload) | wakeups it added | band CPU (s) | their CPU at $cost_us µs each | share |"
      echo "|---|---:|---:|---:|---:|"
      for b in "800 600 75 full core" "3200 2400 300 full core" "800 600 75 0.25 CPU" "3200 2400 300 0.25 CPU"; do
        read -r w h last where <<<"$b"
        runner=band
        [ "$where" = "0.25 CPU" ] && runner=capped_band
        counts=() runs=()
        for _ in $(seq "$repeats"); do
          rm -f "$work/count"
          timed runs counted "$runner" "$w" "$h" 1 "$last"
          counts+=("$(cat "$work/count" 2>/dev/null || echo 0)")
        done
        n=$(printf '%s\n' "${counts[@]}" | median) cpu=$(col 2 "${runs[@]}")
        printf '| %sx%s rows 1-%s, %s | %s | %.3f | %.4f | %.2f%% |\n' "$w" "$h" "$last" "$where" "$n" \
          "$cpu" "$(awk -v n="$n" -v c="$cost_us" 'BEGIN {print n * c / 1e6}')" \
          "$(awk -v n="$n" -v c="$cost_us" -v t="$cpu" 'BEGIN {print 100 * n * c / 1e6 / t}')"
      done ;;
  esac
done
