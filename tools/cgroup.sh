# CPU cgroups for the emulated clusters (tools/cluster, tools/slurm): sourced, not run.
# The caller sets CG_V1 and CG_V2 (its own cgroup under the v1 cpu hierarchy and under cgroup
# v2) and defines die.

# cgroup_dir NAME: the cgroup NAME under the caller's own, v1 or v2, whichever this machine has.
cgroup_dir() {
  if [ -d /sys/fs/cgroup/cpu ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then echo "$CG_V1/$1"
  else echo "$CG_V2/$1"; fi
}

# make_cgroup NAME [CORES]: creates it; with CORES, caps it at that many cores (0.25: a quarter).
make_cgroup() {
  local dir; dir=$(cgroup_dir "$1")
  mkdir -p "$dir"
  [ -n "${2:-}" ] || return 0
  local quota; quota=$(awk -v c="$2" 'BEGIN { printf "%d", c * 100000 }')
  [ "$quota" -ge 1000 ] || die "--cpu $2 for $1 is too small (at least 0.01)"
  if [ -f "$dir/cpu.cfs_quota_us" ]; then
    echo 100000 > "$dir/cpu.cfs_period_us"
    echo "$quota" > "$dir/cpu.cfs_quota_us"
  else
    grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control
    grep -qw cpu "$CG_V2/cgroup.subtree_control" 2>/dev/null || echo +cpu > "$CG_V2/cgroup.subtree_control"
    echo "$quota 100000" > "$dir/cpu.max"
  fi
}

# kill_cgroup NAME: kills every process in it (the caller started them all), then removes it;
# fails if it could not be removed.
kill_cgroup() {
  local dir; dir=$(cgroup_dir "$1")
  [ -d "$dir" ] || return 0
  for _ in $(seq 1 30); do
    local pids; pids=$(cat "$dir/cgroup.procs" 2>/dev/null || true)
    [ -z "$pids" ] && break
    kill -TERM $pids 2>/dev/null || true
    sleep 0.1
    pids=$(cat "$dir/cgroup.procs" 2>/dev/null || true)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  done
  rmdir "$dir" 2>/dev/null
}
