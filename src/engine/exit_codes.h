// taskdist's exit codes, the same for every subcommand; --help documents them.
#pragma once

namespace taskdist {

/// Exit codes, documented in --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRenderFailed = 1;  ///< the scene or POV-Ray failed, or output I/O
inline constexpr int kExitUsage = 2;         ///< bad command line, options or files
inline constexpr int kExitNodeLost = 3;      ///< a worker node was lost; no image (cluster engine)
/// The image is complete and correct, but a worker node was lost (cluster engine): the MPI job
/// had to be ended with MPI_Abort, since MPI_Finalize would have waited for that node.
inline constexpr int kExitImageKeptNodeLost = 4;
inline constexpr int kExitInterrupted = 130; ///< SIGINT (128 + signal number for others)

}  // namespace taskdist
