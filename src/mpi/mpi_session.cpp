#include "mpi/mpi_session.h"

#include <mpi.h>

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace taskdist {

namespace {

bool is_set(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v != nullptr && *v != '\0';
}

constexpr const char* kLaunchAdvice =
    "run `srun --mpi=pmix taskdist ...` (every node needs libpmix-dev, Slurm's PMIx plugin loads "
    "it), or `mpirun taskdist ...` inside the allocation (salloc, or an sbatch script)";

}  // namespace

std::optional<int> launcher_rank(const EnvLookup& env) {
  // Open MPI's mpirun, and PMIx launchers (srun --mpi=pmix, prterun). PMI-1/2 (srun --mpi=pmi2)
  // is refused before this is asked (launcher_refusal).
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK"}) {
    if (is_set(env, name)) return std::atoi(env(name));
  }
  return std::nullopt;
}

std::optional<std::string> launcher_refusal(const EnvLookup& env) {
  if (launcher_rank(env)) return std::nullopt;
  if (is_set(env, "PMI_RANK") || is_set(env, "PMI_FD")) {
    return fmt::format("srun started this task over PMI-1/2 (--mpi=pmi2 or pmi), which Open MPI "
                       "cannot use here: it speaks PMIx only; {}", kLaunchAdvice);
  }
  // srun sets SLURM_STEP_NUM_TASKS for the tasks of a step (not for an sbatch script itself).
  const char* step_tasks = env("SLURM_STEP_NUM_TASKS");
  if (const int tasks = step_tasks != nullptr ? std::atoi(step_tasks) : 0; tasks > 1) {
    return fmt::format("srun started {} tasks without an MPI launcher (no --mpi=pmix, and no "
                       "MpiDefault in slurm.conf): each would render the whole image alone; {}; "
                       "or `srun -n 1` for one node's slots",
                       tasks, kLaunchAdvice);
  }
  return std::nullopt;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  // Serialized: the race runs two jobs from two threads, one MPI call at a time (Channel's lock).
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    throw std::runtime_error("MPI_Init_thread failed");
  }
  serialized_ = provided >= MPI_THREAD_SERIALIZED;
  // Errors come back as codes so that taskdist can say what failed instead of aborting blind.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  host_.assign(name, static_cast<size_t>(len));
}

MpiSession::~MpiSession() { finish(); }

void MpiSession::finish() {
  if (finished_) return;
  finished_ = true;
  MPI_Finalize();
}

void MpiSession::finish_within(double limit_s, int code_if_stuck) {
  if (finished_) return;
  std::mutex m;
  std::condition_variable done;
  bool finalized = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (done.wait_for(lock, std::chrono::duration<double>(limit_s), [&] { return finalized; })) {
      return;
    }
    fmt::print(stderr, "taskdist: MPI_Finalize did not return within {:g} s (a rank stopped "
                       "answering); ending the MPI job (exit {})\n", limit_s, code_if_stuck);
    std::fflush(nullptr);
    ::_exit(code_if_stuck);
  });
  finish();
  {
    std::lock_guard lock(m);
    finalized = true;
  }
  done.notify_one();
  watchdog.join();
}

}  // namespace taskdist
