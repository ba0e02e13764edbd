#include "cmd/render_command.h"

#include <fmt/format.h>

#include <csignal>
#include <map>

#include "core/scheduler.h"
#include "exec/interrupt.h"
#include "exec/local_runner.h"
#include "exec/temp_dir.h"
#include "image/png_assembler.h"
#include "render/povray_renderer.h"
#include "report/progress_line.h"
#include "report/run_report.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;

SchedulerConfig scheduler_config(const Job& job) {
  SchedulerConfig c;
  c.rows = job.height;
  c.width = job.width;
  c.slots = job.slots;
  c.block = job.block_size;
  c.policy = job.policy;
  return c;
}

std::string rows_text(RowRange r) { return fmt::format("rows {}-{}", r.begin + 1, r.end); }

std::string indent(const std::string& text) {
  std::string out = "  ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

// The loop that connects scheduler, runner, assembler and reports for one job.
class RenderLoop {
 public:
  RenderLoop(const Job& job, Clock::time_point start, Runner& runner, PngAssembler& assembler)
      : start_(start), runner_(runner), assembler_(assembler),
        scheduler_(scheduler_config(job)),
        progress_(stderr, job.quiet) {}

  /// Runs until every band is assembled (returns -1: the caller finishes the file) or the job
  /// must stop (returns the exit code).
  int run() {
    while (!scheduler_.done()) {
      for (const Task& task : scheduler_.dispatch(now())) start_task(task);
      if (scheduler_.in_flight() == 0 && !scheduler_.done()) {
        fmt::print(stderr, "taskdist: internal error: no band running and {} rows left\n",
                   scheduler_.rows_total() - scheduler_.rows_done());
        return kExitRenderFailed;
      }
      auto event = runner_.wait(0.25);
      if (event) {
        if (int code = std::visit([this](auto& e) { return handle(e); }, *event); code >= 0) {
          progress_.finish();
          return code;
        }
      }
      show_progress();
    }
    report_.last_arrival_s = now();
    progress_.finish();
    return -1;
  }

  RunReport& report() { return report_; }

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void start_task(const Task& task) {
    if (report_.first_dispatch_s < 0) report_.first_dispatch_s = now();
    TaskRecord rec;
    rec.id = task.id;
    rec.slot = task.slot;
    rec.rows = task.rows;
    rec.attempt = task.attempt;
    rec.start_s = now();
    in_flight_[task.id] = InFlight{rec, 0};
    runner_.start(task);
  }

  TaskRecord close_record(TaskId id, std::string outcome) {
    TaskRecord rec = in_flight_.at(id).record;
    in_flight_.erase(id);
    rec.end_s = now();
    rec.outcome = std::move(outcome);
    return rec;
  }

  int handle(TaskProgress& e) {
    scheduler_.on_progress(e.id, e.fraction, now());
    if (auto it = in_flight_.find(e.id); it != in_flight_.end()) it->second.traced = e.fraction;
    return -1;
  }

  int handle(TaskFinished& e) {
    scheduler_.on_finished(e.id, e.timing, now());
    TaskRecord rec = close_record(e.id, "ok");
    rec.timing = e.timing;
    rec.bytes = e.band.deflated.size();
    report_.tasks.push_back(rec);
    if (auto err = assembler_.add(std::move(e.band))) {
      runner_.abort();
      fmt::print(stderr, "taskdist: {}\n", *err);
      return kExitRenderFailed;
    }
    return -1;
  }

  int handle(TaskFailed& e) {
    TaskRecord rec = close_record(e.id, e.failure.message);
    report_.tasks.push_back(rec);
    const FailureAction action = scheduler_.on_failed(e.id, e.failure, now());
    progress_.finish();
    if (action == FailureAction::kRetried) {
      fmt::print(stderr, "taskdist: band {} failed on slot {} ({}); retrying\n",
                 rows_text(rec.rows), rec.slot + 1, e.failure.message);
      if (!e.failure.detail.empty()) fmt::print(stderr, "{}\n", indent(e.failure.detail));
      return -1;
    }
    runner_.abort();
    if (e.failure.kind == FailureKind::kSceneError) {
      fmt::print(stderr, "taskdist: POV-Ray refused the job ({}, band {}):\n{}\n",
                 e.failure.message, rows_text(rec.rows), indent(e.failure.detail));
      fmt::print(stderr,
                 "taskdist: stopped: this error is the same for every band; fix the scene or "
                 "the options and run again\n");
    } else {
      fmt::print(stderr, "taskdist: band {} failed {} times; last: {}\n{}\n", rows_text(rec.rows),
                 rec.attempt, e.failure.message, indent(e.failure.detail));
      fmt::print(stderr, "taskdist: stopped; no output was written\n");
    }
    return kExitRenderFailed;
  }

  int handle(Interrupted& e) {
    runner_.abort();
    progress_.finish();
    fmt::print(stderr, "taskdist: interrupted by signal {}; stopped all bands, wrote nothing\n",
               e.signal);
    return e.signal == SIGINT ? kExitInterrupted : 128 + e.signal;
  }

  void show_progress() {
    double rows = scheduler_.rows_done();
    for (const auto& [id, t] : in_flight_) rows += t.traced * t.record.rows.count();
    progress_.update({rows, scheduler_.rows_total(), scheduler_.in_flight(), now()});
  }

  const Clock::time_point start_;
  Runner& runner_;
  PngAssembler& assembler_;
  Scheduler scheduler_;
  ProgressLine progress_;
  RunReport report_;
  struct InFlight {
    TaskRecord record;
    double traced = 0;  // share of the band's rows traced so far
  };
  std::map<TaskId, InFlight> in_flight_;
};

}  // namespace

int run_render(const Job& job, Clock::time_point program_start) {
  InterruptSignal::install();
  auto scratch = TempDir::create(TempDir::default_parent(), "taskdist-");
  if (!scratch) {
    fmt::print(stderr, "taskdist: {}\n", scratch.error());
    return kExitRenderFailed;
  }
  // Early bands beyond the memory budget wait next to the output (same filesystem).
  auto job_dir = TempDir::create(job.output.parent_path(), job.output.filename().string() +
                                                               ".taskdist-");
  if (!job_dir) {
    fmt::print(stderr, "taskdist: {}\n", job_dir.error());
    return kExitUsage;
  }
  auto assembler = PngAssembler::create({.width = job.width, .height = job.height,
                                         .alpha = job.alpha, .output = job.output,
                                         .spill_dir = job_dir->path()});
  if (!assembler) {
    fmt::print(stderr, "taskdist: {}\n", assembler.error());
    return kExitUsage;
  }
  LocalRunner runner(render_settings_for(job), scratch->path());
  RenderLoop loop(job, program_start, runner, **assembler);
  if (int code = loop.run(); code >= 0) {
    (*assembler)->discard();
    return code;
  }
  if (auto err = (*assembler)->finish()) {
    fmt::print(stderr, "taskdist: {}\n", *err);
    return kExitRenderFailed;
  }
  scratch->remove();
  job_dir->remove();
  RunReport& report = loop.report();
  std::error_code ec;
  report.output_bytes = std::filesystem::file_size(job.output, ec);
  report.end_s = std::chrono::duration<double>(Clock::now() - program_start).count();
  report.master_peak_rss_bytes = peak_rss_bytes();
  if (!job.quiet) fmt::print("{}", timing_table(job, report));
  if (job.report) {
    if (auto err = write_json_report(job, report, *job.report)) {
      fmt::print(stderr, "taskdist: {}\n", *err);
      return kExitRenderFailed;
    }
  }
  return kExitOk;
}

}  // namespace taskdist
