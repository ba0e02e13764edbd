// Where a command runs, chosen once from how the process was started: by hand, the local engine;
// under a launcher (mpirun, srun) with several ranks, rank 0 as the MPI master and every other
// rank as a worker node serving it.
#pragma once

#include <exception>

#include "cmd/command.h"

namespace taskdist {

/// Joins the MPI job when a launcher started this process among several ranks (MPI_Init); one
/// rank alone runs the local engine. Call once, before the command line is parsed.
void join_mpi_job(int* argc, char*** argv);

/// True on an MPI rank other than 0: it serves the master, and leaves saying what is wrong
/// with the command line to rank 0.
bool is_worker_rank();

/// Runs `command` where this process stands: locally; as the master, then ends the MPI job
/// (end_mpi_job); or as a worker until the master lets it go. Returns the exit code; a worker
/// rank that ends on a signal or a lost rank exits at once, since MPI_Finalize would wait for
/// ranks that are gone.
int launch(Command& command, const Invocation& invocation);

/// For the fatal path (an exception that reached main): on an MPI rank, says so and ends the
/// whole MPI job (MPI_Abort), since the other ranks would wait for this one forever. Returns
/// only when there is no MPI job.
void abort_mpi_job(const std::exception& fatal);

}  // namespace taskdist
