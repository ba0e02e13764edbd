#include "cmd/render_command.h"

#include <fmt/format.h>

#include <csignal>
#include <map>
#include <set>

#include "core/scheduler.h"
#include "exec/interrupt.h"
#include "exec/local_runner.h"
#include "exec/temp_dir.h"
#include "image/band_file.h"
#include "image/png_assembler.h"
#include "render/povray_renderer.h"
#include "report/progress_line.h"
#include "report/run_report.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;

SchedulerConfig scheduler_config(const Job& job, const EngineLayout& layout) {
  SchedulerConfig c;
  c.rows = job.height;
  c.width = job.width;
  c.slots = layout.slots;
  c.slot_nodes = layout.slot_nodes;
  c.slot_speed = layout.slot_speed;
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
  RenderLoop(const Job& job, const EngineLayout& layout, Clock::time_point start, Runner& runner,
             PngAssembler& assembler, std::filesystem::path band_dir)
      : start_(start), runner_(runner), assembler_(assembler), band_dir_(std::move(band_dir)),
        scheduler_(scheduler_config(job, layout)),
        progress_(stderr, job.quiet) {}

  /// True if the run ended in a way worth keeping its finished bands for (a lost node, or a
  /// launcher ending the job), and there are some.
  bool keep_bands() const { return keep_bands_ && bands_saved_ > 0; }
  int bands_saved() const { return bands_saved_; }

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
    rec.where = runner_.slot_name(task.slot);
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
    scheduler_.on_progress(e.id, e.fraction, now(), e.cpu_share);
    if (auto it = in_flight_.find(e.id); it != in_flight_.end()) it->second.traced = e.fraction;
    return -1;
  }

  int handle(TaskFinished& e) {
    scheduler_.on_finished(e.id, e.timing, now());
    TaskRecord rec = close_record(e.id, "ok");
    rec.timing = e.timing;
    rec.bytes = e.band.deflated.size();
    report_.tasks.push_back(rec);
    // On disk before it is used: a run that dies (a lost node ends an MPI job) keeps it.
    auto err = write_band_file(band_dir_, e.band);
    if (!err) {
      ++bands_saved_;
      err = assembler_.add(std::move(e.band));
    }
    if (err) {
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
      fmt::print(stderr, "taskdist: band {} failed on {} ({}); retrying\n",
                 rows_text(rec.rows), runner_.slot_name(rec.slot), e.failure.message);
      if (!e.failure.detail.empty()) fmt::print(stderr, "{}\n", indent(e.failure.detail));
      const int node = scheduler_.node_of(rec.slot);
      if (scheduler_.node_excluded(node) && !excluded_reported_.contains(node)) {
        excluded_reported_.insert(node);
        fmt::print(stderr, "taskdist: {} failed {} bands in a row; its node gets no more bands\n",
                   runner_.slot_name(rec.slot), SchedulerConfig{}.node_failure_limit);
      }
      return -1;
    }
    runner_.abort();
    if (e.failure.kind == FailureKind::kSceneError) {
      fmt::print(stderr, "taskdist: POV-Ray refused the job ({}, band {} on {}):\n{}\n",
                 e.failure.message, rows_text(rec.rows), runner_.slot_name(rec.slot),
                 indent(e.failure.detail));
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
    // Ctrl-C is the user's own decision; another signal (a launcher ending the job) keeps the
    // finished bands.
    keep_bands_ = e.signal != SIGINT;
    fmt::print(stderr, "taskdist: interrupted by signal {}; stopped all bands, wrote no image\n",
               e.signal);
    return e.signal == SIGINT ? kExitInterrupted : 128 + e.signal;
  }

  int handle(WorkerLost& e) {
    runner_.abort();
    progress_.finish();
    keep_bands_ = true;
    fmt::print(stderr, "taskdist: lost worker node {}: {}\n", e.node, e.message);
    fmt::print(stderr, "taskdist: stopped with {} of {} rows done; wrote no image\n",
               scheduler_.rows_done(), scheduler_.rows_total());
    return kExitNodeLost;
  }

  void show_progress() {
    double rows = scheduler_.rows_done();
    for (const auto& [id, t] : in_flight_) rows += t.traced * t.record.rows.count();
    progress_.update({rows, scheduler_.rows_total(), scheduler_.in_flight(), now()});
  }

  const Clock::time_point start_;
  Runner& runner_;
  PngAssembler& assembler_;
  const std::filesystem::path band_dir_;
  std::set<int> excluded_reported_;
  int bands_saved_ = 0;
  bool keep_bands_ = false;
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
  LocalRunner runner(render_settings_for(job), scratch->path());
  return run_render_with(job, program_start, runner, {.slots = job.slots, .slot_nodes = {}, .slot_speed = {}});
}

int run_render_with(const Job& job, Clock::time_point program_start, Runner& runner,
                    const EngineLayout& layout) {
  // Finished bands land next to the output (same filesystem): early ones wait there, and they
  // survive a run that dies.
  auto job_dir = TempDir::create(job.output.parent_path(), job.output.filename().string() +
                                                               ".taskdist-");
  if (!job_dir) {
    fmt::print(stderr, "taskdist: {}\n", job_dir.error());
    return kExitUsage;
  }
  const auto band_dir = job_dir->path() / "bands";
  const auto spill_dir = job_dir->path() / "waiting";
  std::error_code ec;
  std::filesystem::create_directory(band_dir, ec);
  std::filesystem::create_directory(spill_dir, ec);
  auto assembler = PngAssembler::create({.width = job.width, .height = job.height,
                                         .alpha = job.alpha, .output = job.output,
                                         .spill_dir = spill_dir});
  if (!assembler) {
    fmt::print(stderr, "taskdist: {}\n", assembler.error());
    return kExitUsage;
  }
  RenderLoop loop(job, layout, program_start, runner, **assembler, band_dir);
  if (int code = loop.run(); code >= 0) {
    (*assembler)->discard();
    if (loop.keep_bands()) {
      std::filesystem::remove_all(spill_dir, ec);
      fmt::print(stderr, "taskdist: the {} bands received are safe in {}\n", loop.bands_saved(),
                 band_dir.string());
      job_dir->release();
    }
    return code;
  }
  if (auto err = (*assembler)->finish()) {
    fmt::print(stderr, "taskdist: {}\n", *err);
    return kExitRenderFailed;
  }
  job_dir->remove();
  RunReport& report = loop.report();
  report.output_bytes = std::filesystem::file_size(job.output, ec);
  report.end_s = std::chrono::duration<double>(Clock::now() - program_start).count();
  report.master_peak_rss_bytes = peak_rss_bytes();
  Job shown = job;  // the engine's slots, not the local default
  shown.slots = layout.slots;
  if (!job.quiet) fmt::print("{}", timing_table(shown, report));
  if (job.report) {
    if (auto err = write_json_report(shown, report, *job.report)) {
      fmt::print(stderr, "taskdist: {}\n", *err);
      return kExitRenderFailed;
    }
  }
  return kExitOk;
}

}  // namespace taskdist
