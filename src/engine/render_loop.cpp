#include "engine/render_loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "engine/exit_codes.h"
#include "image/band_encoder.h"
#include "render/quick_start.h"
#include "report/progress_count.h"

namespace taskdist {
namespace {

SchedulerConfig scheduler_config(const Job& job, const EngineLayout& layout, const Journal& journal,
                                 const std::vector<double>& row_costs) {
  SchedulerConfig c;
  c.row_costs = row_costs;
  c.max_attempts = job.retries + 1;
  c.node_failure_limit = job.exclude_after;
  c.duplicate_after_s = job.duplicates ? c.duplicate_after_s : -1;
  for (const JournalBand& b : journal.reused()) c.done.push_back(b.rows);
  for (int k : journal.done_frames()) c.done.push_back(frame_rows(k, job.height));
  std::ranges::sort(c.done, {}, &RowRange::begin);
  c.rows = job.total_rows();
  c.frame_rows = job.animation ? job.height : 0;
  c.width = job.width;
  c.slots = layout.slots;
  c.slot_nodes = layout.slot_nodes;
  c.slot_speed = layout.slot_speed;
  c.band_startup_s = layout.quick_start ? kQuickStartupWallS : kPovrayStartupWallS;
  c.block = job.block_size;
  c.grain = job.row_grain();
  c.policy = job.policy;
  return c;
}

std::string indent(const std::string& text) {
  std::string out = "  ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

}  // namespace

FrameRecord frame_record(const Job& job, int k, double at_s) {
  const int number = job.animation->frames[static_cast<size_t>(k)];
  return {.index = k,
          .number = number,
          .file = job.frame_output(k).string(),
          .done_s = at_s,
          .clock = job.animation->clock(number),
          .where = {},
          .cpu_s = 0,
          .reused = false};
}

RenderLoop::RenderLoop(const Job& job, const EngineLayout& layout,
                       const std::vector<double>& row_costs, Runner& runner, RenderClock& clock,
                       Journal& journal, FrameAssembler& assembler, RenderObserver& events)
    : job_(job),
      task_timeout_s_(job.task_timeout_s),
      width_(job.width),
      channels_(job.alpha ? 4 : 3),
      runner_(runner),
      clock_(clock),
      journal_(journal),
      assembler_(assembler),
      events_(events),
      scheduler_(scheduler_config(job, layout, journal, row_costs)) {}

int RenderLoop::run() {
  events_.on_dispatch_start(now());
  while (!scheduler_.done()) {
    for (const Task& task : scheduler_.dispatch(now())) start_task(task);
    if (scheduler_.in_flight() == 0 && !scheduler_.done()) {
      if (scheduler_.all_excluded()) {
        say(events_, MessageKind::kStopped, all_excluded_text());
        return kExitRenderFailed;
      }
      say(events_, MessageKind::kStopped,
          fmt::format("taskdist: internal error: no band running and {} rows left\n",
                      scheduler_.rows_total() - scheduler_.rows_done()));
      return kExitRenderFailed;
    }
    auto event = runner_.wait(0.25);
    if (!event) event = overdue_task();
    if (event) {
      if (int code = std::visit([this](auto& e) { return handle(e); }, *event); code >= 0) {
        return code;
      }
    }
    show_progress();
  }
  events_.on_last_arrival(now());
  return -1;
}

void RenderLoop::start_task(const Task& task) {
  TaskRecord rec;
  rec.id = task.id;
  rec.slot = task.slot;
  rec.where = runner_.slot_name(task.slot);
  rec.rows = task.rows;
  rec.attempt = task.attempt;
  rec.duplicate_of = task.duplicate_of;
  rec.start_s = now();
  in_flight_[task.id] = InFlight{rec, 0, 0, 0, rec.start_s};
  events_.on_task(rec, "running");
  runner_.start(task);
}

TaskRecord RenderLoop::close_record(TaskId id, std::string outcome) {
  TaskRecord rec = in_flight_.at(id).record;
  in_flight_.erase(id);
  rec.end_s = now();
  rec.outcome = std::move(outcome);
  return rec;
}

// A band running longer than --task-timeout is stopped and counts as failed (a run of frames:
// one frame taking longer).
std::optional<RunnerEvent> RenderLoop::overdue_task() {
  if (task_timeout_s_ <= 0) return std::nullopt;
  for (const auto& [id, t] : in_flight_) {
    if (now() - t.timed_from <= task_timeout_s_) continue;
    runner_.cancel(id);
    return TaskFailed{
        id,
        {FailureKind::kCrashed,
         fmt::format("ran longer than --task-timeout {:g} s; stopped", task_timeout_s_),
         {}}};
  }
  return std::nullopt;
}

std::string RenderLoop::failure_summary() const {
  std::string out;
  for (const auto& [name, tally] : failures_) {
    out += fmt::format("  {}: {} failed band{}{}; last: {}\n", name, tally.count,
                       tally.count == 1 ? "" : "s",
                       excluded_names_.contains(name) ? " (excluded)" : "", tally.last);
  }
  return out;
}

std::string RenderLoop::all_excluded_text() const {
  return fmt::format("taskdist: every worker failed {} bands in a row; stopped\n{}",
                     scheduler_.failure_limit(), failure_summary());
}

int RenderLoop::handle(TaskProgress& e) {
  scheduler_.on_progress(e.id, e.fraction, now(), e.cpu_share);
  auto it = in_flight_.find(e.id);
  if (it == in_flight_.end()) return -1;
  InFlight& task = it->second;
  task.traced = e.fraction;
  if (e.frames.empty()) return -1;
  // Frames a run has finished: written now, not when the run ends.
  if (const std::string damage = check_bands(e.frames, task.record.rows.begin + task.streamed_rows,
                                             task.record.rows.end, /*to_the_end=*/false);
      !damage.empty()) {
    runner_.cancel(e.id);
    TaskFailed failed{e.id, {FailureKind::kRenderError, "a frame arrived damaged: " + damage, {}}};
    return handle(failed);
  }
  const double cpu_each =
      e.cpu_s >= task.cpu_attributed ? (e.cpu_s - task.cpu_attributed) / e.frames.size() : 0;
  task.cpu_attributed = std::max(task.cpu_attributed, e.cpu_s);
  task.timed_from = now();
  std::optional<std::vector<TaskId>> ended;  // the run holds no frames any more
  for (EncodedBand& band : e.frames) {
    task.streamed_rows += band.rows.count();
    task.record.bytes += band.deflated.size();
    const int until = band.rows.end;
    if (auto added = take_band(std::move(band), task.record.where, cpu_each); !added) {
      return stop_on(added.error());
    }
    // A retry or copy of the run renders only the rest; once its last frames have gone to
    // another slot (split), it has sent all it holds and is stopped.
    if (!ended) ended = scheduler_.on_rows_done(e.id, until);
  }
  if (ended) {
    const std::string where = task.record.where;
    runner_.cancel(e.id);
    events_.on_task(close_record(e.id, "ok"), "ok");
    for (TaskId copy : *ended) {
      runner_.cancel(copy);
      events_.on_task(close_record(copy, "stopped: the run on " + where + " sent these frames"),
                      "stopped");
    }
  }
  return -1;
}

// Empty if `bands` are whole, in order and contiguous from row `from`, within row `to` (and up
// to it if `to_the_end`); else what is wrong.
std::string RenderLoop::check_bands(const std::vector<EncodedBand>& bands, int from, int to,
                                    bool to_the_end) const {
  int at = from;
  for (const EncodedBand& band : bands) {
    if (band.rows.begin != at || band.rows.count() <= 0 || band.rows.end > to) {
      return "its bands do not match its rows";
    }
    at = band.rows.end;
    if (auto whole = check_band(band, width_, channels_); !whole) return whole.error().message();
  }
  if (to_the_end && at != to) return "its bands do not match its rows";
  return {};
}

// An I/O error while taking a band: every task is stopped, and the job with it.
int RenderLoop::stop_on(const Error& error) {
  runner_.abort();
  say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", error));
  return kExitRenderFailed;
}

// What a job that stops has written: no image, or an animation's frames finished so far.
std::string RenderLoop::written_text() const {
  if (!job_.animation) return "wrote no image";
  return fmt::format("{} of {} frames are written", assembler_.frames_done(), assembler_.frames());
}

std::string RenderLoop::rows_text(RowRange stacked) const {
  if (!job_.animation) return fmt::format("rows {}-{}", stacked.begin + 1, stacked.end);
  const FrameSpan span = frame_span(stacked, job_.height);
  if (span.whole_frames && span.count > 1) {
    return fmt::format("{}-{}", job_.frame_name(span.first),
                       job_.animation->frames[static_cast<size_t>(span.first + span.count - 1)]);
  }
  if (span.whole_frames) return job_.frame_name(span.first);
  return fmt::format("{} rows {}-{}", job_.frame_name(span.first), span.rows.begin + 1,
                     span.rows.end);
}

int RenderLoop::handle(TaskFinished& e) {
  if (!in_flight_.contains(e.id)) return -1;  // a losing copy that ended as it was stopped
  const InFlight task = in_flight_.at(e.id);
  // Said whatever becomes of the band (a damaged one is retried): the node's next bands run
  // without the quick start.
  if (!e.quick_start_off.empty()) {
    const std::string node = runner_.node_name(task.record.slot);
    const bool local = node == runner_.slot_name(task.record.slot);
    say(events_, MessageKind::kNote,
        fmt::format("taskdist: {}\n", quick_start_off_line(local ? "on this machine" : "on " + node,
                                                           e.quick_start_off)));
  }
  // Its bands must be exactly its rows: one band, or one whole frame each (less the frames it
  // sent with its progress).
  const RowRange task_rows = task.record.rows;
  if (const std::string damage = check_bands(e.bands, task_rows.begin + task.streamed_rows,
                                             task_rows.end, /*to_the_end=*/true);
      !damage.empty()) {
    TaskFailed failed{e.id, {FailureKind::kRenderError, "the band arrived damaged: " + damage, {}}};
    return handle(failed);
  }
  const std::vector<TaskId> losers = scheduler_.on_finished(e.id, e.timing, now());
  TaskRecord rec = close_record(e.id, "ok");
  rec.timing = e.timing;
  for (const EncodedBand& band : e.bands) rec.bytes += band.deflated.size();
  events_.on_task(rec, "ok");
  for (TaskId loser : losers) {
    runner_.cancel(loser);
    events_.on_task(close_record(loser, "stopped: the copy on " + runner_.slot_name(rec.slot) +
                                            " finished first"),
                    "stopped");
  }
  // The task's CPU not yet given to frames it sent before: shared by its bands, by rows.
  const double cpu_left = std::max(0.0, e.timing.cpu_s - task.cpu_attributed);
  const int rows_left = task_rows.count() - task.streamed_rows;
  for (EncodedBand& band : e.bands) {
    const double cpu = cpu_left * band.rows.count() / std::max(1, rows_left);
    if (auto added = take_band(std::move(band), rec.where, cpu); !added) {
      return stop_on(added.error());
    }
  }
  return -1;
}

// One band (rendered on `where`, costing `cpu_s` of POV-Ray CPU): journaled, then assembled; a
// frame it completes is recorded. A whole frame that is written already (sent by a copy of the
// same run) is dropped.
std::expected<void, Error> RenderLoop::take_band(EncodedBand band, const std::string& where,
                                                 double cpu_s) {
  const RowRange rows = band.rows;
  const int k = rows.begin / job_.height;
  if (assembler_.done(k)) return {};
  // In the journal before it is used: a run that dies keeps it, and --resume re-uses it.
  auto file = journal_.record(band);
  if (!file) return std::unexpected(file.error());
  events_.on_band(rows, *file);
  FrameCost& cost = frame_costs_[k];
  cost.where.insert(where);
  cost.cpu_s += cpu_s;
  auto written = assembler_.add(std::move(band), *file);
  if (!written) return std::unexpected(written.error());
  if (*written) return frame_written(**written);
  return {};
}

std::expected<void, Error> RenderLoop::frame_written(int k) {
  const FrameCost cost = std::move(frame_costs_[k]);
  frame_costs_.erase(k);
  if (!job_.animation) return {};
  if (auto recorded = journal_.record_frame(k, job_.frame_output(k)); !recorded) return recorded;
  FrameRecord frame = frame_record(job_, k, now());
  frame.where = {cost.where.begin(), cost.where.end()};
  frame.cpu_s = cost.cpu_s;
  events_.on_frame(frame);
  return {};
}

void RenderLoop::count_failure(const TaskRecord& rec, const TaskFailure& failure) {
  const int node = scheduler_.node_of(rec.slot);
  const std::string node_name = runner_.node_name(rec.slot);
  if (failure.kind != FailureKind::kSceneError) {
    failures_[node_name].count += 1;
    failures_[node_name].last = failure.message;
  }
  if (scheduler_.node_excluded(node) && !excluded_nodes_.contains(node)) {
    excluded_nodes_.insert(node);
    excluded_names_.insert(node_name);
    events_.on_node_excluded(node_name);
    say(events_, MessageKind::kExcluded,
        fmt::format("taskdist: {} failed {} bands in a row; it gets no more bands\n", node_name,
                    scheduler_.failure_limit()));
  }
}

int RenderLoop::handle(TaskFailed& e) {
  if (!in_flight_.contains(e.id)) return -1;  // a losing copy that ended as it was stopped
  const TaskRecord rec = close_record(e.id, e.failure.message);
  events_.on_task(rec, "failed");
  const FailureAction action = scheduler_.on_failed(e.id, e.failure, now());
  count_failure(rec, e.failure);
  if (action == FailureAction::kRetried || action == FailureAction::kDuplicateGoesOn) {
    std::string text = fmt::format(
        "taskdist: band {} failed on {} ({}); {}\n", rows_text(rec.rows),
        runner_.slot_name(rec.slot), e.failure.message,
        action == FailureAction::kRetried ? "retrying" : "its copy on another slot goes on");
    if (!e.failure.detail.empty()) text += indent(e.failure.detail) + "\n";
    say(events_, MessageKind::kRetry, std::move(text));
    return -1;
  }
  return stop_after_failure(rec, e.failure);
}

// The band cannot be retried: a scene error, out of attempts, or no worker left.
int RenderLoop::stop_after_failure(const TaskRecord& rec, const TaskFailure& failure) {
  runner_.abort();
  if (failure.kind == FailureKind::kSceneError) {
    say(events_, MessageKind::kStopped,
        fmt::format("taskdist: POV-Ray refused the job ({}, band {} on {}):\n{}\n"
                    "taskdist: stopped: this error is the same for every band; fix the scene or "
                    "the options and run again\n",
                    failure.message, rows_text(rec.rows), runner_.slot_name(rec.slot),
                    indent(failure.detail)));
  } else if (scheduler_.all_excluded()) {
    say(events_, MessageKind::kStopped, all_excluded_text());
  } else {
    say(events_, MessageKind::kStopped, fmt::format("taskdist: band {} failed {} times; last: {}\n{}\n"
                                           "taskdist: stopped; failures by worker:\n{}",
                                           rows_text(rec.rows), rec.attempt, failure.message,
                                           indent(failure.detail), failure_summary()));
  }
  return kExitRenderFailed;
}

int RenderLoop::handle(Interrupted& e) {
  runner_.abort();
  say(events_, MessageKind::kInterrupted,
      fmt::format("taskdist: interrupted by signal {}; stopped all bands, {}\n", e.signal,
                  written_text()));
  return e.signal == SIGINT ? kExitInterrupted : 128 + e.signal;
}

int RenderLoop::handle(WorkerLost& e) {
  say(events_, MessageKind::kLost, fmt::format("taskdist: lost worker node {}: {}\n", e.node, e.message));
  if (e.others_go_on && e.node_id >= 0) {
    const std::vector<TaskId> lost = scheduler_.on_node_lost(e.node_id);
    for (TaskId id : lost) {
      runner_.cancel(id);
      events_.on_task(close_record(id, "lost with its node " + e.node), "failed");
    }
    events_.on_node_lost(e.node);
    if (!scheduler_.all_excluded()) {
      say(events_, MessageKind::kLost,
          fmt::format("taskdist: {}; the job goes on without it\n",
                      lost.empty() ? std::string("it was running no band")
                                   : fmt::format("its {} band{} go{} to other nodes", lost.size(),
                                                 lost.size() == 1 ? "" : "s",
                                                 lost.size() == 1 ? "es" : "")));
      return -1;
    }
    say(events_, MessageKind::kStopped, "taskdist: no worker node is left\n");
  }
  runner_.abort();
  say(events_, MessageKind::kStopped,
      fmt::format("taskdist: stopped with {} of {} rows done; {}\n", scheduler_.rows_done(),
                  scheduler_.rows_total(), written_text()));
  return kExitNodeLost;
}

void RenderLoop::show_progress() {
  std::vector<TracedShare> shares;
  for (const auto& [id, t] : in_flight_) shares.push_back({t.record.rows, t.traced});
  const double rows = rows_traced(scheduler_.rows_done(), scheduler_.rows_total(), shares);
  events_.on_progress({rows, scheduler_.rows_total(), scheduler_.in_flight(), now(),
                       assembler_.frames_done(), job_.animation ? assembler_.frames() : 0});
}

}  // namespace taskdist
