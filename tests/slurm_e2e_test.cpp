// taskdist under a real Slurm (tools/slurm up 3: munged, slurmctld and three slurmd on this
// machine): the README's batch scripts through sbatch, mpirun inside salloc, and srun without an
// MPI launcher, which taskdist refuses. Images are compared pixel by pixel with one full povray
// render. Needs root and slurm-wlm (tools/install-deps); skipped with the reason otherwise.
#include <gtest/gtest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

const fs::path kState = "/run/taskdist-slurm";

fs::path slurm_tool() { return source_dir() / "tools" / "slurm"; }

bool on_path(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}, {}, 10).exit_code == 0;
}

// The PIDs of every Slurm and munge daemon or job step running now (not a zombie, which has
// exited and waits for init to reap it).
std::set<std::string> slurm_processes() {
  const RunResult r = run({"sh", "-c",
                           "for p in /proc/[0-9]*; do c=$(cat $p/comm 2>/dev/null) || continue; "
                           "s=$(awk '/^State:/ { print $2 }' $p/status 2>/dev/null); "
                           "[ \"$s\" = Z ] && continue; "
                           "case $c in slurmctld|slurmd|slurmstepd|munged) echo ${p#/proc/}:$c;; "
                           "esac; done"},
                          {}, 30);
  std::set<std::string> pids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) pids.insert(line);
  return pids;
}

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: tools/slurm starts Slurm's daemons";
    if (!on_path("slurmctld") || !on_path("munged")) {
      GTEST_SKIP() << "needs slurm-wlm and munge: run tools/install-deps";
    }
    before_ = slurm_processes();
    const RunResult up = run({slurm_tool().string(), "up", "3"}, {}, 120);
    ASSERT_EQ(up.exit_code, 0) << up.err;
    up_ = true;
    path_ = taskdist_binary().parent_path().string() + ":" + std::getenv("PATH");
  }

  void TearDown() override {
    if (up_) run({slurm_tool().string(), "down"}, {}, 120);
  }

  // A Slurm command (sbatch, salloc, srun) against this cluster, with the built taskdist first
  // on PATH; run in `dir`.
  RunResult slurm(const std::vector<std::string>& command, const fs::path& dir,
                  double timeout_s = 240) {
    std::vector<std::string> argv = {slurm_tool().string(), "run"};
    argv.insert(argv.end(), command.begin(), command.end());
    return run(argv, {{"PATH", path_}}, timeout_s, dir);
  }

  std::set<std::string> before_;
  bool up_ = false;
  std::string path_;
};

// The README shows each batch script exactly as it is tested here.
void expect_in_readme(const fs::path& script) {
  const std::string readme = read_file(source_dir() / "README.md");
  EXPECT_NE(readme.find(read_file(script)), std::string::npos)
      << script << " is not in README.md as it is";
}

TEST_F(SlurmTest, TheReadmesBatchScriptsRenderPixelIdenticalThroughSbatch) {
  const Image reference = decode_png(reference_render(blob_scene(), 320, 240, {}));
  const fs::path dir = fresh_dir("slurm-sbatch");
  for (const char* name : {"render.sbatch", "render-mpirun.sbatch"}) {
    SCOPED_TRACE(name);
    const fs::path script = source_dir() / "examples" / "slurm" / name;
    expect_in_readme(script);
    const fs::path out = dir / (std::string(name) + ".png");
    const fs::path log = dir / (std::string(name) + ".log");
    const RunResult r = slurm({"sbatch", "--wait", "-o", log.string(), script.string(),
                               blob_scene().string(), out.string(), "+W320", "+H240"},
                              dir);
    const std::string job_log = read_file(log);
    ASSERT_EQ(r.exit_code, 0) << r.err << job_log;
    EXPECT_EQ(count_differences(decode_png(out), reference), 0);
    EXPECT_NE(job_log.find("2 worker ranks"), std::string::npos) << job_log;
    EXPECT_NE(job_log.find("parallel part"), std::string::npos) << job_log;
  }
}

TEST_F(SlurmTest, MpirunInsideSallocRendersPixelIdentical) {
  const Image reference = decode_png(reference_render(blob_scene(), 320, 240, {"+A0.3"}));
  const fs::path dir = fresh_dir("slurm-salloc");
  const fs::path out = dir / "blob.png";
  const RunResult r = slurm({"salloc", "-N", "3", "mpirun", "taskdist", "render",
                             blob_scene().string(), "+W320", "+H240", "+A0.3", "-o", out.string()},
                            dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_differences(decode_png(out), reference), 0);
  EXPECT_NE(r.err.find("2 worker ranks"), std::string::npos) << r.err;
}

TEST_F(SlurmTest, SrunWithoutAnMpiLauncherIsRefusedOnEveryTaskAndWritesNothing) {
  const fs::path dir = fresh_dir("slurm-srun");
  const fs::path out = dir / "blob.png";
  const RunResult r = slurm({"srun", "-n", "3", "taskdist", "render", blob_scene().string(),
                             "+W320", "+H240", "-o", out.string()},
                            dir, 120);
  EXPECT_NE(r.exit_code, 0);
  // One line from each task, each the same advice.
  std::istringstream lines(r.err);
  int refusals = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("taskdist: srun started 3 tasks without an MPI launcher") == std::string::npos) {
      continue;
    }
    ++refusals;
    EXPECT_NE(line.find("--mpi=pmix"), std::string::npos) << line;
    EXPECT_NE(line.find("mpirun"), std::string::npos) << line;
  }
  EXPECT_EQ(refusals, 3) << r.err;
  EXPECT_TRUE(fs::is_empty(dir)) << "no image, no job folder";
}

TEST_F(SlurmTest, DownLeavesNoDaemonSpoolOrSocketBehind) {
  // Given: a job ran (so slurmstepd, spools and PMIx folders existed).
  const fs::path dir = fresh_dir("slurm-down");
  const RunResult job = slurm({"srun", "-N", "3", "--mpi=pmix", "true"}, dir, 120);
  EXPECT_EQ(job.exit_code, 0) << job.err;
  const RunResult down = run({slurm_tool().string(), "down"}, {}, 120);
  ASSERT_EQ(down.exit_code, 0) << down.err;
  up_ = false;
  EXPECT_EQ(slurm_processes(), before_) << "every daemon and step up started has exited";
  EXPECT_FALSE(fs::exists(kState)) << "configuration, spools, sockets and logs are gone";
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/cpu/taskdist-slurm"));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/taskdist-slurm"));
  const RunResult status = run({slurm_tool().string(), "status"}, {}, 30);
  EXPECT_EQ(status.out, "down\n");
}

}  // namespace
}  // namespace taskdist
