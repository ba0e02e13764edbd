// The CPU this process may use, which the number of cores does not show: a cgroup quota (a
// container, an emulated node), the CPUs it may run on (taskset, a cpuset: Slurm binds tasks to
// CPUs this way), and the CPUs Slurm gave each task (SLURM_CPUS_PER_TASK).
#pragma once

#include <filesystem>
#include <optional>

namespace taskdist {

/// The tightest CPU quota (in cores, e.g. 0.25) over this process's cgroup and its ancestors,
/// from cgroup v1 (cpu.cfs_quota_us / cpu.cfs_period_us) or v2 (cpu.max); nullopt when there
/// is none or the cgroup files are not visible. `proc_cgroup` and `root` are for tests.
std::optional<double> cpu_quota_cores(
    const std::filesystem::path& proc_cgroup = "/proc/self/cgroup",
    const std::filesystem::path& root = "/sys/fs/cgroup");

/// The CPUs this process may run on (sched_getaffinity); nullopt when it cannot be read.
std::optional<int> affinity_cpus();

/// SLURM_CPUS_PER_TASK when it is a positive number (srun, sbatch --cpus-per-task); else nullopt.
std::optional<int> slurm_cpus_per_task();

/// The tightest of the limits that are known, at most `cores` (the machine's online cores).
double tightest_cores(double cores, std::optional<int> affinity, std::optional<double> quota,
                      std::optional<int> slurm_cpus);

/// The CPUs this process can use: its cores, or fewer where its CPU affinity, a cgroup quota or
/// Slurm's CPUs per task limit it (the tightest).
double usable_cores();

/// Bands to run at once on this machine by default: usable_cores() rounded down, at least 1.
int default_slots();

}  // namespace taskdist
