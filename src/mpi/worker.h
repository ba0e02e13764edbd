// A worker rank: renders the bands the master sends, on `slots` local slots, and sends them back
// deflated. Its scene comes from the master, unpacked into a private directory.
#pragma once

#include "mpi/channel.h"
#include "mpi/mpi_session.h"

namespace taskdist {

struct WorkerOptions {
  int slots = 0;  ///< bands at once on this node; 0: its number of cores
};

/// Serves the master until it says to leave. Returns the process's exit code.
int run_worker(const MpiSession& session, Channel& channel, const WorkerOptions& options);

}  // namespace taskdist
