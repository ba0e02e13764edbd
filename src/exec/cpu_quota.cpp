#include "exec/cpu_quota.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace taskdist {
namespace {

namespace fs = std::filesystem;

std::optional<double> read_number(const fs::path& p) {
  std::ifstream in(p);
  double v = 0;
  if (in >> v) return v;
  return std::nullopt;
}

// The quota in cores set directly on `dir`, if any.
std::optional<double> quota_at(const fs::path& dir, bool v2) {
  if (v2) {
    std::ifstream in(dir / "cpu.max");
    std::string quota;
    double period = 0;
    if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
    return std::stod(quota) / period;
  }
  const auto quota = read_number(dir / "cpu.cfs_quota_us");
  const auto period = read_number(dir / "cpu.cfs_period_us");
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return *quota / *period;
}

}  // namespace

std::optional<double> cpu_quota_cores(const fs::path& proc_cgroup, const fs::path& root) {
  std::ifstream in(proc_cgroup);
  std::string line;
  std::optional<double> tightest;
  while (std::getline(in, line)) {
    // "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
    const auto a = line.find(':');
    const auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    const fs::path path = line.substr(b + 1);
    std::vector<fs::path> mounts;
    bool v2 = false;
    if (controllers.empty()) {
      v2 = true;
      mounts.push_back(root);
    } else {
      std::istringstream list(controllers);
      std::string c;
      bool has_cpu = false;
      while (std::getline(list, c, ',')) has_cpu |= c == "cpu";
      if (!has_cpu) continue;
      mounts = {root / controllers, root / "cpu", root / "cpu,cpuacct"};
    }
    for (const auto& mount : mounts) {
      if (!fs::exists(mount)) continue;
      // The cgroup and each of its ancestors may carry a quota; the tightest one applies.
      fs::path dir = path.relative_path();
      while (true) {
        if (auto q = quota_at(mount / dir, v2); q && (!tightest || *q < *tightest)) tightest = q;
        if (dir.empty()) break;
        dir = dir.parent_path();
      }
      break;
    }
  }
  return tightest;
}

std::optional<int> affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return std::nullopt;
  const int n = CPU_COUNT(&set);
  return n > 0 ? std::optional<int>(n) : std::nullopt;
}

std::optional<int> slurm_cpus_per_task() {
  const char* v = std::getenv("SLURM_CPUS_PER_TASK");
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n <= 0 || n > 1 << 20) return std::nullopt;
  return static_cast<int>(n);
}

double tightest_cores(double cores, std::optional<int> affinity, std::optional<double> quota,
                      std::optional<int> slurm_cpus) {
  double tightest = std::max(1.0, cores);
  if (affinity) tightest = std::min(tightest, static_cast<double>(*affinity));
  if (quota) tightest = std::min(tightest, *quota);
  if (slurm_cpus) tightest = std::min(tightest, static_cast<double>(*slurm_cpus));
  return tightest;
}

double usable_cores() {
  return tightest_cores(std::thread::hardware_concurrency(), affinity_cpus(), cpu_quota_cores(),
                        slurm_cpus_per_task());
}

int default_slots() { return std::max(1, static_cast<int>(usable_cores())); }

}  // namespace taskdist
