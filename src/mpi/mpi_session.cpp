#include "mpi/mpi_session.h"

#include <mpi.h>

#include <cstdlib>
#include <stdexcept>

namespace taskdist {

std::optional<int> launcher_rank() {
  // Open MPI's mpirun, PMIx launchers (srun --mpi=pmix, prterun), and PMI-1/2 (srun --mpi=pmi2).
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
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

}  // namespace taskdist
