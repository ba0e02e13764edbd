#include "engine/render_loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "engine/exit_codes.h"
#include "image/band_encoder.h"
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
  in_flight_[task.id] = InFlight{rec, 0};
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

// A band running longer than --task-timeout is stopped and counts as failed.
std::optional<RunnerEvent> RenderLoop::overdue_task() {
  if (task_timeout_s_ <= 0) return std::nullopt;
  for (const auto& [id, t] : in_flight_) {
    if (now() - t.record.start_s <= task_timeout_s_) continue;
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
  if (auto it = in_flight_.find(e.id); it != in_flight_.end()) it->second.traced = e.fraction;
  return -1;
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
  // Its bands must be exactly its rows: one band, or one whole frame each.
  const RowRange task_rows = in_flight_.at(e.id).record.rows;
  int at = task_rows.begin;
  std::string damage;
  for (const EncodedBand& band : e.bands) {
    if (band.rows.begin != at) damage = "its bands do not match its rows";
    at = band.rows.end;
    if (auto whole = check_band(band, width_, channels_); !whole && damage.empty()) {
      damage = whole.error().message();
    }
  }
  if (at != task_rows.end && damage.empty()) damage = "its bands do not match its rows";
  if (!damage.empty()) {
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
  const int frames = static_cast<int>(e.bands.size());
  for (EncodedBand& band : e.bands) {
    if (auto added = take_band(std::move(band), rec, frames); !added) {
      runner_.abort();
      say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", added.error()));
      return kExitRenderFailed;
    }
  }
  return -1;
}

// One band of a finished task (of `frames` bands): journaled, then assembled; a frame it
// completes is recorded.
std::expected<void, Error> RenderLoop::take_band(EncodedBand band, const TaskRecord& rec,
                                                 int frames) {
  // In the journal before it is used: a run that dies keeps it, and --resume re-uses it.
  const RowRange rows = band.rows;
  auto file = journal_.record(band);
  if (!file) return std::unexpected(file.error());
  events_.on_band(rows, *file);
  const int k = rows.begin / job_.height;
  FrameCost& cost = frame_costs_[k];
  cost.where.insert(rec.where);
  cost.cpu_s += rec.timing.cpu_s * (frames > 1 ? 1.0 / frames
                                               : static_cast<double>(rows.count()) / job_.height);
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
  const int number = job_.animation->frames[static_cast<size_t>(k)];
  events_.on_frame({.index = k,
                    .number = number,
                    .file = job_.frame_output(k).string(),
                    .done_s = now(),
                    .clock = job_.animation->clock(number),
                    .where = {cost.where.begin(), cost.where.end()},
                    .cpu_s = cost.cpu_s,
                    .reused = false});
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
      fmt::format("taskdist: interrupted by signal {}; stopped all bands, wrote no image\n",
                  e.signal));
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
      fmt::format("taskdist: stopped with {} of {} rows done; wrote no image\n",
                  scheduler_.rows_done(), scheduler_.rows_total()));
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
