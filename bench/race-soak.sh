#!/usr/bin/env bash
# The festival race on an emulated cluster, for a long time (issue: watch it happen, Done-when 3):
# tools/cluster up 5 --cpu 0.25 (solo = node1, team = node2..node5), three scenes in a --loop,
# with the live view served (--serve 0), stopped with Ctrl-C (SIGINT to mpirun) after LOOPS
# passes through the playlist. Prints every race line (both times, speedup, the master's RSS),
# the RSS after 3 and after LOOPS passes, and the processes left behind (povray and taskdist, on
# every host) after the race and after `down`.
# Usage: bench/race-soak.sh [LOOPS] [SIZE]   (default 10 and 320x240; root; `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
LOOPS=${1:-10}
SIZE=${2:-320x240}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/race-soak.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/race-soak.sh: needs root (tools/cluster)" >&2; exit 1; }
BLOB=$(ls /usr/share/doc/povray/examples/objects/blob.pov)
WORK=$(mktemp -d /tmp/taskdist-race-soak.XXXXXX)
trap 'tools/cluster down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/scenes" && cp "$BLOB" scenes/sample.pov scenes/skewed.pov "$WORK/scenes/"

tools/cluster up 5 --cpu 0.25
tools/cluster mpirun "$TASKDIST" race "$WORK/scenes/blob.pov" "$WORK/scenes/sample.pov" \
  "$WORK/scenes/skewed.pov" "+W${SIZE%x*}" "+H${SIZE#*x}" --loop --hold 0 --serve 0 -o "$WORK/race" \
  > "$WORK/race.log" 2> "$WORK/race.err" &
MPIRUN=$!
races=$((3 * LOOPS))
while [ "$(grep -c '^race ' "$WORK/race.log" || true)" -lt "$races" ]; do
  kill -0 "$MPIRUN" 2>/dev/null || { echo "the race ended early:" >&2; cat "$WORK/race.err" >&2; exit 1; }
  sleep 1
done
kill -INT "$MPIRUN"  # the mpirun this script started
wait "$MPIRUN" || true
cat "$WORK/race.log"
rss() { sed -n "s/^race $1: .*taskdist RSS \([0-9.]*\) MiB$/\1/p" "$WORK/race.log"; }
echo "master RSS after 3 loops (race 9): $(rss 9) MiB; after $LOOPS loops (race $races): $(rss "$races") MiB"
sleep 2
echo "left after the race: $(pgrep -c -x povray || true) povray, $(pgrep -c -x taskdist || true) taskdist processes"
tools/cluster down
echo "left after down: $(pgrep -c -x povray || true) povray, $(pgrep -c -x taskdist || true) taskdist processes"
