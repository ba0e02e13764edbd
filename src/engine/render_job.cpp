#include "engine/render_job.h"

#include <fmt/format.h>

#include "engine/cost_learning.h"
#include "engine/local_runner.h"
#include "engine/render_loop.h"
#include "exec/interrupt.h"
#include "exec/temp_dir.h"
#include "image/png_assembler.h"
#include "render/povray_renderer.h"
#include "report/report_recorder.h"
#include "report/run_report.h"
#include "report/terminal_output.h"
#include "store/journal.h"
#include "web/live_view.h"

namespace taskdist {
namespace {

// A master killed outright (SIGKILL) leaves its temporary output "<OUT>.part-<pid>" behind;
// a later run of the same output removes those whose process is gone.
void remove_stale_parts(const std::filesystem::path& output) {
  std::error_code ec;
  const std::string prefix = output.filename().string() + ".part-";
  for (const auto& e : std::filesystem::directory_iterator(output.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::filesystem::exists("/proc/" + pid, ec)) continue;
    std::filesystem::remove(e.path(), ec);
  }
}

// One job once its journal and assembler are open: re-use, render, finish, or stop.
class JobRun {
 public:
  JobRun(const Job& job, const EngineLayout& layout, RenderClock& clock, RenderObserver& events,
         ReportRecorder& recorder, Journal& journal, PngAssembler& assembler)
      : job_(job),
        layout_(layout),
        clock_(clock),
        events_(events),
        recorder_(recorder),
        journal_(journal),
        assembler_(assembler) {}

  int run(Runner& runner) {
    if (int code = reuse_bands(); code >= 0) return code;
    LearntCosts costs = recall_costs(job_, journal_.scene_files());
    if (!costs.key.empty()) {
      recorder_.report().profile = {.file = costs.file.string(),
                                    .runs = costs.profile.runs(),
                                    .bands = costs.profile.samples()};
    }
    RenderLoop loop(job_, layout_, costs.row_costs, runner, clock_, journal_, assembler_, events_);
    if (int code = loop.run(); code >= 0) return stop(code, loop.rows_done(), loop.rows_total());
    if (auto done = assembler_.finish(); !done) {
      say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", done.error()));
      return stop(kExitRenderFailed, loop.rows_done(), loop.rows_total());
    }
    return finish(costs);
  }

 private:
  // The journal's bands of an earlier run go to the assembler first; -1, or the exit code.
  int reuse_bands() {
    for (const JournalBand& b : journal_.reused()) {
      events_.on_band_reused(b.rows, b.file);
      if (auto done = assembler_.add_stored(b.rows, b.file); !done) {
        say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", done.error()));
        return stop(kExitRenderFailed, 0, job_.height);
      }
    }
    if (!journal_.reused().empty()) {
      say(events_, MessageKind::kResumed,
          fmt::format("taskdist: resuming: {} bands from {} are re-used\n",
                      journal_.reused().size(), journal_.dir().string()));
    }
    return -1;
  }

  // The job failed: no image; the finished bands stay in the journal for --resume.
  int stop(int code, int rows_done, int rows_total) {
    events_.on_end(
        {}, code,
        fmt::format("{} of {} rows done; see taskdist's messages", rows_done, rows_total));
    assembler_.discard();
    if (journal_.bands() == 0) {
      journal_.remove();
    } else {
      say(events_, MessageKind::kNote,
          fmt::format("taskdist: {} finished bands ({} of {} rows) are kept in {}; run the same "
                      "command with --resume to render only the rest\n",
                      journal_.bands(), rows_done, rows_total, journal_.dir().string()));
    }
    return code;
  }

  // The image is written: the report, the cost profile, the journal's end.
  int finish(LearntCosts& costs) {
    RunReport& report = recorder_.report();
    std::error_code ec;
    report.output_bytes = std::filesystem::file_size(job_.output, ec);
    report.end_s = clock_.now_s();
    report.master_peak_rss_bytes = peak_rss_bytes();
    remember_costs(job_, costs, report);
    if (job_.keep_job_dir) {
      say(events_, MessageKind::kInfo,
          fmt::format("taskdist: the job folder {} is kept (--keep-job-dir)\n",
                      journal_.dir().string()));
    }
    events_.on_end(report, kExitOk, {});
    if (!job_.keep_job_dir) journal_.remove();
    if (job_.report) {
      Job shown = job_;  // the engine's slots, not the local default
      shown.slots = layout_.slots;
      if (auto done = write_json_report(shown, report, *job_.report); !done) {
        say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", done.error()));
        return kExitRenderFailed;
      }
    }
    return kExitOk;
  }

  const Job& job_;
  const EngineLayout& layout_;
  RenderClock& clock_;
  RenderObserver& events_;
  ReportRecorder& recorder_;
  Journal& journal_;
  PngAssembler& assembler_;
};

}  // namespace

int run_render(const Job& job, std::chrono::steady_clock::time_point program_start,
               RenderObserver* observer) {
  InterruptSignal::install();
  auto scratch = TempDir::create_scratch("taskdist-");
  if (!scratch) {
    fmt::print(stderr, "taskdist: {}\n", scratch.error());
    return kExitRenderFailed;
  }
  LocalRunner runner(render_settings_for(job), scratch->path());
  // Each local slot is its own failure domain: a slot that keeps failing is taken out alone.
  EngineLayout layout{.slots = job.slots, .slot_nodes = {}, .slot_speed = {}};
  for (int slot = 0; slot < job.slots; ++slot) layout.slot_nodes.push_back(slot);
  return run_render_with(job, program_start, runner, layout, observer);
}

int run_job(const Job& job, Runner& runner, const EngineLayout& layout, RenderClock& clock,
            RenderObserver& observer) {
  ReportRecorder recorder;
  RenderFanOut events({&recorder, &observer});
  std::vector<std::string> slot_names;
  for (int slot = 0; slot < layout.slots; ++slot) slot_names.push_back(runner.slot_name(slot));
  events.on_start(job, slot_names);
  // Finished bands land in the job folder (beside the output by default) before they count:
  // early ones wait there, and a run that dies keeps them for --resume.
  auto journal = Journal::open(job);
  if (!journal) {
    say(events, MessageKind::kStopped, fmt::format("taskdist: {}\n", journal.error()));
    return kExitUsage;
  }
  for (const auto& note : journal->notes()) {
    say(events, MessageKind::kNote, fmt::format("taskdist: {}\n", note));
  }
  remove_stale_parts(job.output);
  auto assembler = PngAssembler::create({.width = job.width,
                                         .height = job.height,
                                         .alpha = job.alpha,
                                         .output = job.output,
                                         .spill_dir = journal->spill_dir()});
  if (!assembler) {
    say(events, MessageKind::kStopped, fmt::format("taskdist: {}\n", assembler.error()));
    return kExitUsage;
  }
  JobRun run(job, layout, clock, events, recorder, *journal, **assembler);
  return run.run(runner);
}

int run_render_with(const Job& job, std::chrono::steady_clock::time_point program_start,
                    Runner& runner, const EngineLayout& layout, RenderObserver* observer) {
  SteadyRenderClock clock(program_start);
  TerminalOutput terminal(stderr, stdout);
  if (observer) {
    RenderFanOut events({&terminal, observer});
    return run_job(job, runner, layout, clock, events);
  }
  if (job.serve.empty()) return run_job(job, runner, layout, clock, terminal);
  auto view = LiveView::start(job.serve);
  if (!view) {
    fmt::print(stderr, "taskdist: {}\n", view.error());
    return kExitUsage;
  }
  fmt::print(stderr, "taskdist: watch it at {}\n", (*view)->url());
  RenderFanOut events({&terminal, &(*view)->panel(0, "render")});
  const int code = run_job(job, runner, layout, clock, events);
  (*view)->close_stream();
  linger(job.linger_s, (*view)->url());
  return code;
}

void linger(double seconds, const std::string& url) {
  if (seconds <= 0) return;
  fmt::print(stderr, "taskdist: the page stays at {} for {:g} s (Ctrl-C to leave now)\n", url,
             seconds);
  InterruptSignal::sleep(seconds);
}

}  // namespace taskdist
