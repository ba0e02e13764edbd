// `taskdist render`: runs one job on the local engine and reports it.
#pragma once

#include <chrono>

#include "core/job.h"

namespace taskdist {

/// Exit codes, documented in --help.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRenderFailed = 1;  ///< the scene or POV-Ray failed, or output I/O
inline constexpr int kExitUsage = 2;         ///< bad command line, options or files
inline constexpr int kExitInterrupted = 130; ///< SIGINT (128 + signal number for others)

/// Runs `job`; `program_start` is when the process started (the first sequential part counts
/// from there). Returns the exit code. Prints the timing table on stdout, progress and errors
/// on stderr.
int run_render(const Job& job, std::chrono::steady_clock::time_point program_start);

}  // namespace taskdist
