// One render job on any engine: the journal, the render loop, the assembler and the reports;
// and the local engine (slots on this machine).
#pragma once

#include <chrono>

#include <vector>

#include "core/job.h"
#include "core/runner.h"
#include "engine/engine_layout.h"
#include "engine/exit_codes.h"
#include "report/render_events.h"

namespace taskdist {

/// Runs `job` on the local engine (job.slots slots); `program_start` is when the process started
/// (the first sequential part counts from there). Returns the exit code. Prints the timing table
/// on stdout, progress and errors on stderr. `observer`: see run_render_with.
int run_render(const Job& job, std::chrono::steady_clock::time_point program_start,
               RenderObserver* observer = nullptr);

/// Keeps serving a live view after the job (`--linger`) until `seconds` pass or Ctrl-C.
void linger(double seconds, const std::string& url);

/// Runs `job` on `runner` (any engine): schedules, assembles, reports. Returns the exit code.
/// `observer` (e.g. a panel of a live view) hears every event; without one, `job.serve` starts
/// the job's own live view.
int run_render_with(const Job& job, std::chrono::steady_clock::time_point program_start,
                    Runner& runner, const EngineLayout& layout,
                    RenderObserver* observer = nullptr);

}  // namespace taskdist
