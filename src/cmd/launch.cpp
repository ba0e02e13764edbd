#include "cmd/launch.h"

#include <fmt/format.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "engine/exit_codes.h"
#include "mpi/mpi_master.h"
#include "mpi/worker.h"

namespace taskdist {
namespace {

// The process's MPI session, if a launcher started it. A static, so that it outlives an
// exception thrown in main's body: main's handler ends the MPI job (abort_mpi_job) instead of
// leaving the other ranks waiting for this one (MPI_Finalize at exit otherwise).
std::optional<MpiSession>& mpi_session() {
  static std::optional<MpiSession> session;
  return session;
}

// A worker rank's exit: after a signal or a lost rank the job is being torn down, and
// MPI_Finalize would wait for ranks that are gone.
int finish_worker(int code) {
  if (code != 0) {
    std::fflush(nullptr);
    ::_exit(code);
  }
  return 0;
}

}  // namespace

void join_mpi_job(int* argc, char*** argv) {
  // Under a launcher every rank runs this same command line.
  std::optional<MpiSession>& mpi = mpi_session();
  if (const auto refusal = launcher_refusal()) {
    fmt::print(stderr, "taskdist: {}\n", *refusal);
    std::fflush(nullptr);
    std::exit(kExitUsage);
  }
  if (!launcher_rank()) return;
  mpi.emplace(argc, argv);
  if (mpi->size() == 1) mpi.reset();  // one rank: the local engine
}

bool is_worker_rank() { return mpi_session() && mpi_session()->rank() != 0; }

int launch(Command& command, const Invocation& invocation) {
  std::optional<MpiSession>& mpi = mpi_session();
  if (!mpi) return command.run_local(invocation);
  Channel channel(MPI_COMM_WORLD, command.node_timeout());
  if (mpi->rank() != 0) {
    return finish_worker(run_worker(*mpi, channel, command.worker_options()));
  }
  const MasterOutcome outcome = command.run_master(invocation, *mpi, channel);
  return outcome.done_note ? end_mpi_job(*mpi, channel, outcome.code, *outcome.done_note)
                           : end_mpi_job(*mpi, channel, outcome.code);
}

void abort_mpi_job(const std::exception& fatal) {
  const std::optional<MpiSession>& mpi = mpi_session();
  if (!mpi) return;
  fmt::print(stderr, "taskdist: fatal on MPI rank {}: {}; ending the MPI job\n", mpi->rank(),
             fatal.what());
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, kExitRenderFailed);
}

}  // namespace taskdist
