#!/usr/bin/env bash
# One render through Slurm beside the same render through tools/cluster (root only): blob.pov
# (default 1600x1200) on 8 worker nodes capped at 0.25 CPU and an uncapped master.
#   slurm:   tools/slurm up 9 --cpu 0.25 --cpu-of n1=2, then `sbatch --wait -N 9` of the README's
#            examples/slurm/render.sbatch (srun --mpi=pmix; rank 0, the master, on n1)
#   cluster: tools/cluster up 8 --cpu 0.25, then `tools/cluster mpirun` (rank 0 on its master)
# Both up at once, runs interleaved; medians of REPEATS. taskdist's own phases (from --report)
# and the whole command's wall time (sbatch --wait: queueing, srun and Open MPI's start-up).
# Usage: bench/slurm.sh [REPEATS] [SIZE]   (default 3, 1600x1200; `make build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SIZE=${2:-1600x1200}
TASKDIST=$PWD/build/taskdist
[ -x "$TASKDIST" ] || { echo "bench/slurm.sh: build first (make build)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench/slurm.sh: needs root (tools/slurm, tools/cluster)" >&2; exit 1; }
tools/cluster status 2>/dev/null | grep -q '^down' || {
  echo "bench/slurm.sh: an emulated cluster is up already (tools/cluster down first)" >&2; exit 1; }
tools/slurm status 2>/dev/null | grep -q '^down' || {
  echo "bench/slurm.sh: a Slurm cluster is up already (tools/slurm down first)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/taskdist-bench-slurm.XXXXXX)
trap 'tools/cluster down >/dev/null 2>&1 || true; tools/slurm down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
cp /usr/share/doc/povray/examples/objects/blob.pov "$WORK/"

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$1" '{ print $c }' "$WORK/$2" | median; }

# run LABEL COMMAND...: one render; appends "total seq1 parallel seq2 wall" to $WORK/LABEL
run() {
  local label=$1; shift
  local t0 t1 report="$WORK/$label.json"
  rm -f "$WORK/$label.png" "$report"
  t0=$(date +%s.%N)
  "$@" "$WORK/blob.pov" "$WORK/$label.png" "+W${SIZE%x*}" "+H${SIZE#*x}" --quiet --no-profile \
    --report "$report" > "$WORK/$label.log" 2>&1 \
    || { echo "bench/slurm.sh: $label failed:" >&2; cat "$WORK/$label.log" "$WORK/$label.out" >&2 2>/dev/null; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print(r['total_s'], r['seq1_s'], r['parallel_s'], r['seq2_s'], $t1 - $t0)" \
    "$report" >> "$WORK/$label"
  printf '.' >&2
}
via_slurm() {  # SCENE OUT OPTIONS...
  tools/slurm run sbatch --wait -N 9 --ntasks-per-node=1 --cpus-per-task=1 -o "$WORK/slurm.out" \
    examples/slurm/render.sbatch "$@"
}
via_cluster() {  # SCENE OUT OPTIONS...
  local scene=$1 out=$2; shift 2
  tools/cluster mpirun "$TASKDIST" render "$scene" -o "$out" "$@"
}

echo "taskdist bench/slurm.sh — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "blob.pov $SIZE, 8 worker nodes at 0.25 CPU + an uncapped master, dynamic policy, --no-profile; medians of $REPEATS, interleaved"
tools/cluster up 8 --cpu 0.25 >/dev/null 2>&1
tools/slurm up 9 --cpu 0.25 --cpu-of n1=2 2>/dev/null
export PATH=$PWD/build:$PATH
for round in $(seq 1 "$REPEATS"); do
  printf 'round %d ' "$round" >&2
  if (( round % 2 )); then run slurm via_slurm; run cluster via_cluster
  else run cluster via_cluster; run slurm via_slurm; fi
  echo >&2
done
printf '\n| launched by | total (s) | first sequential (s) | parallel (s) | second sequential (s) | whole command (s) |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for label in slurm cluster; do
  name=$([ "$label" = slurm ] && echo "sbatch --wait (srun --mpi=pmix), tools/slurm" || echo "tools/cluster mpirun (ssh)")
  printf '| %s | %.2f | %.3f | %.2f | %.3f | %.2f |\n' "$name" "$(col 1 $label)" "$(col 2 $label)" \
    "$(col 3 $label)" "$(col 4 $label)" "$(col 5 $label)"
done
echo
for label in slurm cluster; do printf '%-8s totals: %s\n' "$label" "$(awk '{ printf "%.2f ", $1 }' "$WORK/$label")"; done
