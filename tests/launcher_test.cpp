// How taskdist meets the launchers it cannot work with (mpi/mpi_session.h): srun with several
// tasks and no MPI launcher, and srun over PMI-1/2. The rules on their own, then the binary.
#include "mpi/mpi_session.h"

#include <gtest/gtest.h>

#include <map>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(LauncherTest, SrunWithSeveralTasksAndNoMpiLauncherIsRefusedWithTheWayThatWorks) {
  const auto why = launcher_refusal(env_of({{"SLURM_STEP_NUM_TASKS", "3"}, {"SLURM_PROCID", "1"}}));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("srun started 3 tasks without an MPI launcher"), std::string::npos) << *why;
  EXPECT_NE(why->find("--mpi=pmix"), std::string::npos) << *why;
  EXPECT_NE(why->find("mpirun"), std::string::npos) << *why;
  EXPECT_EQ(why->find('\n'), std::string::npos) << "one line";
}

TEST(LauncherTest, PmiTwoWithoutPmixIsRefusedBeforeMpiInit) {
  const auto why = launcher_refusal(env_of({{"PMI_RANK", "0"}, {"PMI_SIZE", "3"}, {"PMI_FD", "5"},
                                            {"SLURM_STEP_NUM_TASKS", "3"}}));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("PMI-1/2"), std::string::npos) << *why;
  EXPECT_NE(why->find("--mpi=pmix"), std::string::npos) << *why;
  EXPECT_FALSE(launcher_rank(env_of({{"PMI_RANK", "1"}})));
}

TEST(LauncherTest, MpirunPmixOneTaskAndNoLauncherAreAccepted) {
  // mpirun inside an allocation: its ranks also inherit the srun step of Open MPI's daemons.
  EXPECT_FALSE(launcher_refusal(
      env_of({{"OMPI_COMM_WORLD_RANK", "2"}, {"SLURM_STEP_NUM_TASKS", "3"}})));
  EXPECT_EQ(launcher_rank(env_of({{"OMPI_COMM_WORLD_RANK", "2"}})), 2);
  EXPECT_FALSE(launcher_refusal(env_of({{"PMIX_RANK", "1"}, {"PMI_RANK", "1"}})));
  EXPECT_EQ(launcher_rank(env_of({{"PMIX_RANK", "1"}})), 1);
  EXPECT_FALSE(launcher_refusal(env_of({{"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_PROCID", "0"}})));
  EXPECT_FALSE(launcher_refusal(env_of({{"SLURM_JOB_ID", "7"}, {"SLURM_NTASKS", "3"}})))
      << "an sbatch script itself, outside any srun step";
  EXPECT_FALSE(launcher_refusal(env_of({})));
  EXPECT_FALSE(launcher_rank(env_of({})));
}

// The binary: refused with one line and exit 2, before anything is written.
void expect_refused_before_writing(const std::map<std::string, std::string>& env,
                                   const std::string& says) {
  const fs::path dir = testing::fresh_dir("launcher");
  const fs::path out = dir / "blob.png";
  const auto r = testing::run({testing::taskdist_binary().string(), "render",
                               testing::blob_scene().string(), "+W64", "+H48", "-o", out.string()},
                              env, 60);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_TRUE(fs::is_empty(dir)) << "nothing written: no image, no job folder";
}

TEST(LauncherTest, TheBinaryRefusesSrunWithoutMpiOnEveryTaskBeforeWritingAnything) {
  for (const char* rank : {"0", "2"}) {
    SCOPED_TRACE(rank);
    expect_refused_before_writing(
        {{"SLURM_STEP_NUM_TASKS", "3"}, {"SLURM_PROCID", rank}, {"SLURM_JOB_ID", "1"}},
        "--mpi=pmix");
  }
}

TEST(LauncherTest, TheBinaryRefusesPmiTwoInsteadOfFailingInsideMpiInit) {
  expect_refused_before_writing({{"PMI_RANK", "0"}, {"PMI_SIZE", "2"}, {"PMI_FD", "99"}},
                                "PMI-1/2");
}

}  // namespace
}  // namespace taskdist
