// The CPU this process may use when a cgroup caps it (a container, a Slurm job, an emulated
// node), which the number of cores does not show.
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

/// The CPUs this process can use: its cores, or fewer where a cgroup quota caps them.
double usable_cores();

/// Bands to run at once on this machine by default: usable_cores() rounded down, at least 1.
int default_slots();

}  // namespace taskdist
