// `taskdist race` under MPI: the solo side is one worker node, the team side the other worker
// nodes (or --team N of them); both render at once through one channel, each job hearing only
// its own nodes.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "race/race.h"
#include "mpi/channel.h"
#include "mpi/mpi_session.h"

namespace taskdist {

/// Greets the worker ranks (at least 2 are needed). `team` 0: every worker but the solo one.
/// `povray_given`: the nodes run the --povray given, not their own povray.
std::expected<std::unique_ptr<RaceEngine>, Error> make_mpi_race_engine(
    const MpiSession& session, Channel& channel, int team, bool povray_given);

}  // namespace taskdist
