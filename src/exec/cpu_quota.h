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

}  // namespace taskdist
