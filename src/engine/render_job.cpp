#include "engine/render_job.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "engine/cost_learning.h"
#include "core/scheduler.h"
#include "exec/interrupt.h"
#include "engine/local_runner.h"
#include "exec/temp_dir.h"
#include "store/journal.h"
#include "image/png_assembler.h"
#include "render/povray_renderer.h"
#include "report/progress_count.h"
#include "report/progress_line.h"
#include "report/run_report.h"
#include "web/live_view.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;

SchedulerConfig scheduler_config(const Job& job, const EngineLayout& layout,
                                 const Journal& journal, const LearntCosts& costs) {
  SchedulerConfig c;
  c.row_costs = costs.row_costs;
  c.max_attempts = job.retries + 1;
  c.node_failure_limit = job.exclude_after;
  c.duplicate_after_s = job.duplicates ? c.duplicate_after_s : -1;
  for (const JournalBand& b : journal.reused()) c.done.push_back(b.rows);
  c.rows = job.height;
  c.width = job.width;
  c.slots = layout.slots;
  c.slot_nodes = layout.slot_nodes;
  c.slot_speed = layout.slot_speed;
  c.block = job.block_size;
  c.grain = job.row_grain();
  c.policy = job.policy;
  return c;
}

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
             PngAssembler& assembler, Journal& journal, RenderObserver& observer,
             const LearntCosts& costs)
      : observer_(observer), start_(start), task_timeout_s_(job.task_timeout_s), width_(job.width),
        channels_(job.alpha ? 4 : 3), runner_(runner),
        assembler_(assembler), journal_(journal),
        scheduler_(scheduler_config(job, layout, journal, costs)),
        progress_(stderr, job.quiet) {
    for (const JournalBand& b : journal.reused()) report_.reused.push_back(b.rows);
  }

  int rows_done() const { return scheduler_.rows_done(); }
  int rows_total() const { return scheduler_.rows_total(); }

  /// Runs until every band is assembled (returns -1: the caller finishes the file) or the job
  /// must stop (returns the exit code).
  int run() {
    if (report_.first_dispatch_s < 0) report_.first_dispatch_s = now();
    while (!scheduler_.done()) {
      for (const Task& task : scheduler_.dispatch(now())) start_task(task);
      if (scheduler_.in_flight() == 0 && !scheduler_.done()) {
        progress_.finish();
        if (scheduler_.all_excluded()) {
          fmt::print(stderr, "taskdist: every worker failed {} bands in a row; stopped\n{}",
                     scheduler_.failure_limit(), failure_summary());
          return kExitRenderFailed;
        }
        fmt::print(stderr, "taskdist: internal error: no band running and {} rows left\n",
                   scheduler_.rows_total() - scheduler_.rows_done());
        return kExitRenderFailed;
      }
      auto event = runner_.wait(0.25);
      if (!event) event = overdue_task();
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
    TaskRecord rec;
    rec.id = task.id;
    rec.slot = task.slot;
    rec.where = runner_.slot_name(task.slot);
    rec.rows = task.rows;
    rec.attempt = task.attempt;
    rec.duplicate_of = task.duplicate_of;
    rec.start_s = now();
    in_flight_[task.id] = InFlight{rec, 0};
    observer_.on_task(rec, "running");
    runner_.start(task);
  }

  TaskRecord close_record(TaskId id, std::string outcome) {
    TaskRecord rec = in_flight_.at(id).record;
    in_flight_.erase(id);
    rec.end_s = now();
    rec.outcome = std::move(outcome);
    return rec;
  }

  // A band running longer than --task-timeout is stopped and counts as failed.
  std::optional<RunnerEvent> overdue_task() {
    if (task_timeout_s_ <= 0) return std::nullopt;
    for (const auto& [id, t] : in_flight_) {
      if (now() - t.record.start_s <= task_timeout_s_) continue;
      runner_.cancel(id);
      return TaskFailed{id, {FailureKind::kCrashed,
                             fmt::format("ran longer than --task-timeout {:g} s; stopped",
                                         task_timeout_s_),
                             {}}};
    }
    return std::nullopt;
  }

  std::string failure_summary() const {
    std::string out;
    for (const auto& [name, tally] : failures_) {
      out += fmt::format("  {}: {} failed band{}{}; last: {}\n", name, tally.count,
                         tally.count == 1 ? "" : "s",
                         std::ranges::find(report_.excluded, name) != report_.excluded.end()
                             ? " (excluded)"
                             : "",
                         tally.last);
    }
    return out;
  }

  int handle(TaskProgress& e) {
    scheduler_.on_progress(e.id, e.fraction, now(), e.cpu_share);
    if (auto it = in_flight_.find(e.id); it != in_flight_.end()) it->second.traced = e.fraction;
    return -1;
  }

  int handle(TaskFinished& e) {
    if (!in_flight_.contains(e.id)) return -1;  // a losing copy that ended as it was stopped
    if (auto whole = check_band(e.band, width_, channels_); !whole) {
      TaskFailed failed{
          e.id, {FailureKind::kRenderError, "the band arrived damaged: " + whole.error().message(), {}}};
      return handle(failed);
    }
    const std::vector<TaskId> losers = scheduler_.on_finished(e.id, e.timing, now());
    TaskRecord rec = close_record(e.id, "ok");
    rec.timing = e.timing;
    rec.bytes = e.band.deflated.size();
    report_.tasks.push_back(rec);
    observer_.on_task(rec, "ok");
    for (TaskId loser : losers) {
      runner_.cancel(loser);
      report_.tasks.push_back(close_record(
          loser, "stopped: the copy on " + runner_.slot_name(rec.slot) + " finished first"));
      observer_.on_task(report_.tasks.back(), "stopped");
    }
    // In the journal before it is used: a run that dies keeps it, and --resume re-uses it.
    auto file = journal_.record(e.band);
    std::expected<void, Error> added;
    if (!file) {
      added = std::unexpected(file.error());
    } else {
      observer_.on_band(rec.rows, *file);
      added = assembler_.add(std::move(e.band), *file);
    }
    if (!added) {
      runner_.abort();
      fmt::print(stderr, "taskdist: {}\n", added.error());
      return kExitRenderFailed;
    }
    return -1;
  }

  int handle(TaskFailed& e) {
    if (!in_flight_.contains(e.id)) return -1;  // a losing copy that ended as it was stopped
    TaskRecord rec = close_record(e.id, e.failure.message);
    report_.tasks.push_back(rec);
    observer_.on_task(rec, "failed");
    const FailureAction action = scheduler_.on_failed(e.id, e.failure, now());
    progress_.finish();
    const int node = scheduler_.node_of(rec.slot);
    const std::string node_name = runner_.node_name(rec.slot);
    if (e.failure.kind != FailureKind::kSceneError) {
      failures_[node_name].count += 1;
      failures_[node_name].last = e.failure.message;
    }
    if (scheduler_.node_excluded(node) && !excluded_reported_.contains(node)) {
      excluded_reported_.insert(node);
      report_.excluded.push_back(node_name);
      fmt::print(stderr, "taskdist: {} failed {} bands in a row; it gets no more bands\n",
                 node_name, scheduler_.failure_limit());
    }
    if (action == FailureAction::kRetried || action == FailureAction::kDuplicateGoesOn) {
      fmt::print(stderr, "taskdist: band {} failed on {} ({}); {}\n", rows_text(rec.rows),
                 runner_.slot_name(rec.slot), e.failure.message,
                 action == FailureAction::kRetried ? "retrying"
                                                   : "its copy on another slot goes on");
      if (!e.failure.detail.empty()) fmt::print(stderr, "{}\n", indent(e.failure.detail));
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
    } else if (scheduler_.all_excluded()) {
      fmt::print(stderr, "taskdist: every worker failed {} bands in a row; stopped\n{}",
                 scheduler_.failure_limit(), failure_summary());
    } else {
      fmt::print(stderr, "taskdist: band {} failed {} times; last: {}\n{}\n", rows_text(rec.rows),
                 rec.attempt, e.failure.message, indent(e.failure.detail));
      fmt::print(stderr, "taskdist: stopped; failures by worker:\n{}", failure_summary());
    }
    return kExitRenderFailed;
  }

  int handle(Interrupted& e) {
    runner_.abort();
    progress_.finish();
    fmt::print(stderr, "taskdist: interrupted by signal {}; stopped all bands, wrote no image\n",
               e.signal);
    return e.signal == SIGINT ? kExitInterrupted : 128 + e.signal;
  }

  int handle(WorkerLost& e) {
    progress_.finish();
    fmt::print(stderr, "taskdist: lost worker node {}: {}\n", e.node, e.message);
    if (e.others_go_on && e.node_id >= 0) {
      const std::vector<TaskId> lost = scheduler_.on_node_lost(e.node_id);
      for (TaskId id : lost) {
        runner_.cancel(id);
        report_.tasks.push_back(close_record(id, "lost with its node " + e.node));
        observer_.on_task(report_.tasks.back(), "failed");
      }
      report_.lost.push_back(e.node);
      if (!scheduler_.all_excluded()) {
        fmt::print(stderr, "taskdist: {}; the job goes on without it\n",
                   lost.empty() ? std::string("it was running no band")
                                : fmt::format("its {} band{} go{} to other nodes", lost.size(),
                                              lost.size() == 1 ? "" : "s",
                                              lost.size() == 1 ? "es" : ""));
        return -1;
      }
      fmt::print(stderr, "taskdist: no worker node is left\n");
    }
    runner_.abort();
    fmt::print(stderr, "taskdist: stopped with {} of {} rows done; wrote no image\n",
               scheduler_.rows_done(), scheduler_.rows_total());
    return kExitNodeLost;
  }

  void show_progress() {
    std::vector<TracedShare> shares;
    for (const auto& [id, t] : in_flight_) shares.push_back({t.record.rows, t.traced});
    const double rows = rows_traced(scheduler_.rows_done(), scheduler_.rows_total(), shares);
    progress_.update({rows, scheduler_.rows_total(), scheduler_.in_flight(), now()});
    observer_.on_progress(rows, scheduler_.rows_total(), now());
  }

  struct FailureTally {
    int count = 0;
    std::string last;
  };

  RenderObserver& observer_;
  const Clock::time_point start_;
  const double task_timeout_s_;
  const int width_;
  const int channels_;
  Runner& runner_;
  PngAssembler& assembler_;
  Journal& journal_;
  std::set<int> excluded_reported_;
  std::map<std::string, FailureTally> failures_;  // by node name
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

int run_render(const Job& job, Clock::time_point program_start, RenderObserver* observer) {
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

namespace {

int run_job(const Job& job, Clock::time_point program_start, Runner& runner,
            const EngineLayout& layout, RenderObserver& observer) {
  std::vector<std::string> slot_names;
  for (int slot = 0; slot < layout.slots; ++slot) slot_names.push_back(runner.slot_name(slot));
  observer.on_start(job, slot_names);
  // Finished bands land in the job folder (beside the output by default) before they count:
  // early ones wait there, and a run that dies keeps them for --resume.
  auto journal = Journal::open(job);
  if (!journal) {
    fmt::print(stderr, "taskdist: {}\n", journal.error());
    return kExitUsage;
  }
  for (const auto& note : journal->notes()) fmt::print(stderr, "taskdist: {}\n", note);
  remove_stale_parts(job.output);
  auto assembler = PngAssembler::create({.width = job.width, .height = job.height,
                                         .alpha = job.alpha, .output = job.output,
                                         .spill_dir = journal->spill_dir()});
  if (!assembler) {
    fmt::print(stderr, "taskdist: {}\n", assembler.error());
    return kExitUsage;
  }
  auto stop = [&](int code, int rows_done, int rows_total) {
    observer.on_end({}, code, fmt::format("{} of {} rows done; see taskdist's messages",
                                          rows_done, rows_total));
    (*assembler)->discard();
    if (journal->bands() == 0) {
      journal->remove();
    } else {
      fmt::print(stderr,
                 "taskdist: {} finished bands ({} of {} rows) are kept in {}; run the same "
                 "command with --resume to render only the rest\n",
                 journal->bands(), rows_done, rows_total, journal->dir().string());
    }
    return code;
  };
  for (const JournalBand& b : journal->reused()) {
    observer.on_band(b.rows, b.file);
    if (auto done = (*assembler)->add_stored(b.rows, b.file); !done) {
      fmt::print(stderr, "taskdist: {}\n", done.error());
      return stop(kExitRenderFailed, 0, job.height);
    }
  }
  if (!job.quiet && !journal->reused().empty()) {
    fmt::print(stderr, "taskdist: resuming: {} bands from {} are re-used\n",
               journal->reused().size(), journal->dir().string());
  }
  LearntCosts costs = recall_costs(job, journal->scene_files());
  RenderLoop loop(job, layout, program_start, runner, **assembler, *journal, observer, costs);
  if (!costs.key.empty()) {
    loop.report().profile = {.file = costs.file.string(),
                             .runs = costs.profile.runs(),
                             .bands = costs.profile.samples()};
  }
  if (int code = loop.run(); code >= 0) return stop(code, loop.rows_done(), loop.rows_total());
  if (auto done = (*assembler)->finish(); !done) {
    fmt::print(stderr, "taskdist: {}\n", done.error());
    return stop(kExitRenderFailed, loop.rows_done(), loop.rows_total());
  }
  RunReport& report = loop.report();
  std::error_code ec;
  report.output_bytes = std::filesystem::file_size(job.output, ec);
  report.end_s = std::chrono::duration<double>(Clock::now() - program_start).count();
  report.master_peak_rss_bytes = peak_rss_bytes();
  remember_costs(job, costs, report);
  observer.on_end(report, kExitOk, {});
  if (job.keep_job_dir) {
    if (!job.quiet) {
      fmt::print(stderr, "taskdist: the job folder {} is kept (--keep-job-dir)\n",
                 journal->dir().string());
    }
  } else {
    journal->remove();
  }
  Job shown = job;  // the engine's slots, not the local default
  shown.slots = layout.slots;
  if (!job.quiet) fmt::print("{}", timing_table(shown, report));
  if (job.report) {
    if (auto done = write_json_report(shown, report, *job.report); !done) {
      fmt::print(stderr, "taskdist: {}\n", done.error());
      return kExitRenderFailed;
    }
  }
  return kExitOk;
}

}  // namespace

int run_render_with(const Job& job, Clock::time_point program_start, Runner& runner,
                    const EngineLayout& layout, RenderObserver* observer) {
  if (observer) return run_job(job, program_start, runner, layout, *observer);
  if (job.serve.empty()) {
    NoObserver none;
    return run_job(job, program_start, runner, layout, none);
  }
  auto view = LiveView::start(job.serve);
  if (!view) {
    fmt::print(stderr, "taskdist: {}\n", view.error());
    return kExitUsage;
  }
  fmt::print(stderr, "taskdist: watch it at {}\n", (*view)->url());
  const int code =
      run_job(job, program_start, runner, layout, (*view)->panel(0, "render"));
  (*view)->close_stream();
  linger(job.linger_s, (*view)->url());
  return code;
}

void linger(double seconds, const std::string& url) {
  if (seconds <= 0) return;
  fmt::print(stderr, "taskdist: the page stays at {} for {:g} s (Ctrl-C to leave now)\n", url,
             seconds);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end && InterruptSignal::received() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace taskdist
