// The master's link to a worker rank, measured through taskdist's own channel (what a band's
// trip costs in a render): for `taskdist simulate --calibrate` under mpirun.
#pragma once

#include <filesystem>
#include <string>

#include "bench/calibration.h"
#include "mpi/channel.h"
#include "mpi/mpi_session.h"

namespace taskdist {

/// Echoes small messages and 8 MB payloads off rank 1 (latency, bandwidth), and renders small
/// images of `request.scene` on 1, 2, 4 ... all worker ranks (the master's sequential parts
/// under MPI, a povray's start-up on a node alone and with that many hosts starting at once);
/// adds the figures to the calibration `file` (empty:
/// the default) that --calibrate without mpirun wrote. Returns the exit code; with one rank there
/// is nothing to measure: it says so and returns 0.
int calibrate_cluster(const MpiSession& session, Channel& channel, const std::string& file,
                      const CalibrateRequest& request);

}  // namespace taskdist
