// One render job on any engine: the journal, the render loop, the assembler and the reports;
// and the local engine (slots on this machine).
#pragma once

#include <chrono>
#include <string>

#include "core/job.h"
#include "core/runner.h"
#include "engine/engine_layout.h"
#include "engine/exit_codes.h"
#include "engine/render_clock.h"
#include "report/render_events.h"

namespace taskdist {

/// Runs `job` on the local engine (job.slots slots); `program_start` is when the process started
/// (the first sequential part counts from there). Returns the exit code. Prints the timing table
/// on stdout, progress and errors on stderr. `observer`: see run_render_with.
int run_render(const Job& job, std::chrono::steady_clock::time_point program_start,
               RenderObserver* observer = nullptr);

/// Keeps serving a live view after the job (`--linger`) until `seconds` pass or Ctrl-C.
void linger(double seconds, const std::string& url);

/// Runs `job` on `runner` (any engine): schedules, assembles, reports (the terminal output, and
/// `observer`, e.g. a panel of a live view, hear every event; without one, `job.serve` starts
/// the job's own live view). Returns the exit code.
int run_render_with(const Job& job, std::chrono::steady_clock::time_point program_start,
                    Runner& runner, const EngineLayout& layout, RenderObserver* observer = nullptr);

/// The job itself, everything injected: opens the journal, re-uses its bands, runs the render
/// loop, finishes the image, writes the JSON report and the cost profile. It prints nothing
/// (but the cost profile's warnings): every event, messages for the user included, goes to
/// `events`, and on_end carries the RunReport. `clock` gives the time. Returns the exit code.
int run_job(const Job& job, Runner& runner, const EngineLayout& layout, RenderClock& clock,
            RenderObserver& events);

}  // namespace taskdist
