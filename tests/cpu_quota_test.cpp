#include "exec/cpu_quota.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(CpuQuotaTest, ReadsTheTightestV1QuotaOnThePath) {
  const fs::path root = testing::fresh_dir("cgroup-v1");
  write(root / "self", "4:memory:/x\n2:cpu,cpuacct:/cluster/node3\n0::/\n");
  write(root / "fs/cpu,cpuacct/cluster/cpu.cfs_quota_us", "50000\n");
  write(root / "fs/cpu,cpuacct/cluster/cpu.cfs_period_us", "100000\n");
  write(root / "fs/cpu,cpuacct/cluster/node3/cpu.cfs_quota_us", "12500\n");
  write(root / "fs/cpu,cpuacct/cluster/node3/cpu.cfs_period_us", "100000\n");
  auto q = cpu_quota_cores(root / "self", root / "fs");
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(*q, 0.125);
}

TEST(CpuQuotaTest, ReadsV2AndIgnoresMax) {
  const fs::path root = testing::fresh_dir("cgroup-v2");
  write(root / "self", "0::/job/step\n");
  write(root / "fs/job/cpu.max", "max 100000\n");
  write(root / "fs/job/step/cpu.max", "200000 100000\n");
  auto q = cpu_quota_cores(root / "self", root / "fs");
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(*q, 2.0);
}

TEST(CpuQuotaTest, NoQuotaIsNone) {
  const fs::path root = testing::fresh_dir("cgroup-none");
  write(root / "self", "1:cpu:/\n");
  write(root / "fs/cpu/cpu.cfs_quota_us", "-1\n");
  write(root / "fs/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_FALSE(cpu_quota_cores(root / "self", root / "fs"));
  EXPECT_FALSE(cpu_quota_cores(root / "missing", root / "fs"));
}

TEST(CpuQuotaTest, LocalRenderTakesItsDefaultSlotsFromTheQuota) {
  // Given: taskdist started in a cgroup capped at half a core (root and cgroup v1 needed).
  // Expect: one slot by default, not one per core.
  const fs::path cpu = "/sys/fs/cgroup/cpu";
  if (::geteuid() != 0 || !fs::exists(cpu / "cgroup.procs")) GTEST_SKIP() << "needs root, v1";
  const fs::path group = cpu / ("taskdist-test-" + std::to_string(::getpid()));
  fs::create_directory(group);
  write(group / "cpu.cfs_period_us", "100000");
  write(group / "cpu.cfs_quota_us", "50000");
  const fs::path out = testing::fresh_dir("quota") / "blob.png";
  const auto r = testing::run(
      {"sh", "-c",
       "echo $$ > " + (group / "cgroup.procs").string() + "; exec \"$0\" \"$@\"",
       testing::taskdist_binary().string(), "render", testing::blob_scene().string(), "+W160",
       "+H120", "-o", out.string()});
  std::error_code ec;
  fs::remove(group, ec);  // empty again: the child has exited
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 slot)"), std::string::npos) << r.out;
}

TEST(CpuQuotaTest, TheTightestOfCoresAffinityQuotaAndSlurmCpusApplies) {
  EXPECT_DOUBLE_EQ(tightest_cores(16, std::nullopt, std::nullopt, std::nullopt), 16);
  EXPECT_DOUBLE_EQ(tightest_cores(16, 4, std::nullopt, std::nullopt), 4);
  EXPECT_DOUBLE_EQ(tightest_cores(16, 4, 0.5, std::nullopt), 0.5);
  EXPECT_DOUBLE_EQ(tightest_cores(16, 8, 6.0, 2), 2);
  EXPECT_DOUBLE_EQ(tightest_cores(16, 1, 6.0, 2), 1);
  EXPECT_DOUBLE_EQ(tightest_cores(0, std::nullopt, std::nullopt, std::nullopt), 1)
      << "an unknown core count is one core";
}

// A local render's default slot count, read from its summary ("... (N slots)").
std::string default_slots_line(const std::vector<std::string>& prefix,
                               const std::map<std::string, std::string>& env) {
  const fs::path out = testing::fresh_dir("default-slots") / "blob.png";
  std::vector<std::string> argv = prefix;
  for (const std::string& a : {testing::taskdist_binary().string(), std::string("render"),
                               testing::blob_scene().string(), std::string("+W160"),
                               std::string("+H120"), std::string("-o"), out.string()}) {
    argv.push_back(a);
  }
  const auto r = testing::run(argv, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(CpuQuotaTest, UnderTasksetALocalRenderTakesOneSlotPerCpuItMayRunOn) {
  // Given: taskdist bound to CPU 0 (what Slurm's task binding and a container's cpuset do).
  // Expect: one slot by default, not one per core of the machine.
  if (affinity_cpus().value_or(1) < 2) GTEST_SKIP() << "this process may run on one CPU only";
  const std::string out = default_slots_line({"taskset", "-c", "0"}, {});
  EXPECT_NE(out.find(", 1 slot)"), std::string::npos) << out;
}

TEST(CpuQuotaTest, SlurmCpusPerTaskSetsTheDefaultSlots) {
  if (usable_cores() < 2) GTEST_SKIP() << "fewer than 2 usable cores: 1 slot either way";
  const std::string out = default_slots_line({}, {{"SLURM_CPUS_PER_TASK", "1"}});
  EXPECT_NE(out.find(", 1 slot)"), std::string::npos) << out;
  const std::string two = default_slots_line({}, {{"SLURM_CPUS_PER_TASK", "2"}});
  EXPECT_NE(two.find(", 2 slots)"), std::string::npos) << two;
}

}  // namespace
}  // namespace taskdist
