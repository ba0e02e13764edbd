#include "core/scheduler.h"

#include "core/error.h"

#include <algorithm>

namespace taskdist {

namespace {

bool any_capped(const SchedulerConfig& c) {
  return std::ranges::any_of(c.slot_speed,
                             [&](double s) { return s < c.prestart_min_cpu_share; });
}

// The predicted cost of the rows still to render, stacked (the scheduler's virtual rows);
// empty if unknown.
std::vector<double> stacked_costs(const SchedulerConfig& c, const std::vector<RowRange>& todo) {
  std::vector<double> costs;
  if (static_cast<int>(c.row_costs.size()) != c.rows) return costs;
  for (const RowRange& t : todo) {
    costs.insert(costs.end(), c.row_costs.begin() + t.begin, c.row_costs.begin() + t.end);
  }
  return costs;
}

// `costs`: of the rows still to render, `rows` of them (all, unless the job resumes).
std::vector<RowRange> one_wave_plan(const SchedulerConfig& c, const std::vector<double>& costs,
                                    int rows) {
  if (rows == 0) return {};
  // An animation of at least a frame per slot: static gives equal runs of whole frames (as a
  // Slurm array splits them); fewer frames than slots: bands, cut at frame boundaries.
  const bool whole_frames = c.frame_rows > 0 && rows / c.frame_rows >= c.slots;
  if (c.policy == Policy::kStatic) return static_plan(rows, c.slots, whole_frames ? c.frame_rows : c.grain);
  // The dynamic policy's one wave on capped slots saves start-ups and full-size outputs; a run of
  // frames pays those per frame anyway, so an animation gets batches (runs, then bands at the
  // tail) there too.
  if (c.policy == Policy::kDynamic && static_cast<int>(c.slot_speed.size()) == c.slots &&
      any_capped(c) && !whole_frames) {
    std::vector<double> speeds;
    for (double s : c.slot_speed) speeds.push_back(std::max(s, 0.01));
    if (!costs.empty()) {
      return balanced_plan(costs, speeds, c.grain, c.width,
                           BandOverhead{.startup_wall_s = c.band_startup_s});
    }
    return weighted_plan(rows, speeds, c.grain);
  }
  return {};
}

std::vector<RowRange> rows_not_done(int rows, const std::vector<RowRange>& done) {
  std::vector<RowRange> todo;
  int at = 0;
  for (const RowRange& d : done) {
    if (d.begin > at) todo.push_back({at, std::min(d.begin, rows)});
    at = std::max(at, d.end);
  }
  if (at < rows) todo.push_back({at, rows});
  return todo;
}

// A band boundary `row` of the stacked frames, moved to the nearest multiple of `grain` within
// its frame (or the frame's end): a pure function of `row`, so two bands that meet there still
// meet after it.
int snap_in_frame(int row, int frame_rows, int grain) {
  const int frame_begin = row / frame_rows * frame_rows;
  const int local = (row - frame_begin + grain / 2) / grain * grain;
  return frame_begin + std::min(local, frame_rows);
}

// `piece` as tasks: runs of whole frames, and rows of one frame whose bounds are on the grain
// within it (see SchedulerConfig::frame_rows). A piece that snaps to nothing gives none.
void split_at_frames(RowRange piece, int frame_rows, int grain, std::deque<RowRange>& out) {
  if (frame_rows <= 0) {
    out.push_back(piece);
    return;
  }
  piece = {snap_in_frame(piece.begin, frame_rows, grain), snap_in_frame(piece.end, frame_rows, grain)};
  for (int at = piece.begin; at < piece.end;) {
    const int frame_end = (at / frame_rows + 1) * frame_rows;
    const int end = at % frame_rows == 0 && piece.end >= frame_end
                        ? piece.end / frame_rows * frame_rows  // whole frames
                        : std::min(piece.end, frame_end);      // rows of one frame
    out.push_back({at, end});
    at = end;
  }
}

int count_rows(const std::vector<RowRange>& ranges) {
  int n = 0;
  for (const RowRange& r : ranges) n += r.count();
  return n;
}

}  // namespace

Scheduler::Scheduler(SchedulerConfig config)
    : config_(config),
      todo_(rows_not_done(config.rows, config.done)),
      todo_rows_(count_rows(todo_)),
      todo_costs_(stacked_costs(config, todo_)),
      static_bands_(one_wave_plan(config, todo_costs_, todo_rows_)),
      static_taken_(static_bands_.size(), false),
      slot_tasks_(static_cast<size_t>(std::max(1, config.slots))),
      rows_done_(config.rows - todo_rows_) {
  for (size_t i = 0; i < static_bands_.size(); ++i) {
    if (static_bands_[i].count() == 0) static_taken_[i] = true;  // a slot too slow to help
  }
}

bool Scheduler::all_excluded() const {
  for (int slot = 0; slot < config_.slots; ++slot) {
    if (!excluded_nodes_.contains(node_of(slot))) return false;
  }
  return true;
}

bool Scheduler::in_tail(const Running& r) const {
  // Tracing is done: POV-Ray is writing its full-size output and shutting down (fixed sleeps).
  // The next band's start-up, mostly sleeping too, overlaps with that. Progress within a band is
  // too uneven (sky is cheap, objects are not) to predict an earlier moment reliably.
  return r.fraction >= 1.0 &&
         (r.cpu_share < 0 || r.cpu_share >= config_.prestart_min_cpu_share);
}

int Scheduler::node_of(int slot) const {
  const auto i = static_cast<size_t>(slot);
  return i < config_.slot_nodes.size() ? config_.slot_nodes[i] : 0;
}

bool Scheduler::other_node_available(const std::set<int>& nodes) const {
  for (int slot = 0; slot < config_.slots; ++slot) {
    const int node = node_of(slot);
    if (!nodes.contains(node) && !excluded_nodes_.contains(node)) return true;
  }
  return false;
}

std::optional<Scheduler::Retry> Scheduler::take_retry(int slot) {
  // A band that failed on this node goes elsewhere if any other node can take it.
  const int node = node_of(slot);
  for (auto it = retry_queue_.begin(); it != retry_queue_.end(); ++it) {
    if (it->failed_on.contains(node) && other_node_available(it->failed_on)) continue;
    Retry retry = std::move(*it);
    retry_queue_.erase(it);
    retry.task.attempt += 1;
    retry.task.duplicate_of = 0;
    return retry;
  }
  return std::nullopt;
}

bool Scheduler::slot_has_room(int slot) const {
  if (excluded_nodes_.contains(node_of(slot))) return false;
  const auto& tasks = slot_tasks_[static_cast<size_t>(slot)];
  if (tasks.empty()) return true;
  if (tasks.size() > 1 || !static_bands_.empty() || !config_.prestart) return false;
  return in_tail(running_.at(tasks.front()));
}

std::optional<RowRange> Scheduler::take_rows(int slot, double now) {
  while (pieces_.empty()) {
    const auto band = take_virtual_rows(slot, now);
    if (!band) return std::nullopt;
    // Rows [begin, end) of the stacked rows still to do -> pieces of the real image.
    int offset = 0;
    for (const RowRange& t : todo_) {
      const int lo = std::max(band->begin, offset);
      const int hi = std::min(band->end, offset + t.count());
      if (lo < hi) {
        split_at_frames({t.begin + lo - offset, t.begin + hi - offset}, config_.frame_rows,
                        config_.grain, pieces_);
      }
      offset += t.count();
    }
  }
  if (pieces_.empty()) return std::nullopt;
  const RowRange piece = pieces_.front();
  pieces_.pop_front();
  return piece;
}

bool Scheduler::nothing_left_to_hand_out() const {
  return pieces_.empty() && retry_queue_.empty() && batch_.empty() &&
         (static_bands_.empty() ? next_row_ >= todo_rows_
                                : std::ranges::all_of(static_taken_, [](bool t) { return t; }));
}

bool Scheduler::copy_may_win(const Running& original, int slot, double now) const {
  // No progress yet (a band stuck in its start-up, a frozen node), or an animation (a run of
  // frames pays its overheads per frame): copy as before.
  if (original.fraction <= 0 || config_.frame_rows > 0) return true;
  // What the original has left at the pace it has kept since it started (a stall makes it grow),
  // against the least a copy needs on `slot`: POV-Ray's start-up and its full-size output.
  const double left_s = (now - original.started) * (1 - original.fraction) / original.fraction;
  const auto i = static_cast<size_t>(slot);
  const double speed = i < config_.slot_speed.size() ? std::max(config_.slot_speed[i], 0.01) : 1.0;
  const BandOverhead overhead{.startup_wall_s = config_.band_startup_s};
  const double copy_floor_s =
      overhead.startup_wall_s +
      overhead.cpu_s(original.task.rows, config_.width, config_.rows) / speed;
  return left_s > copy_floor_s;
}

std::vector<Task> Scheduler::straggler_copies(double now) {
  std::vector<Task> copies;
  if (config_.policy != Policy::kDynamic || config_.duplicate_after_s < 0 ||
      !nothing_left_to_hand_out()) {
    return copies;
  }
  // Bands that may be copied, longest-running first: one copy per band, none of a band that has
  // finished tracing (only its output is left) or that has run less than duplicate_after_s.
  std::vector<const Running*> candidates;
  for (const auto& [id, r] : running_) {
    if (r.copies.empty() && r.fraction < 1.0 && now - r.started >= config_.duplicate_after_s) {
      candidates.push_back(&r);
    }
  }
  std::ranges::sort(candidates, {}, [](const Running* r) { return r->started; });
  for (int slot = 0; slot < config_.slots && !candidates.empty(); ++slot) {
    const int node = node_of(slot);
    if (!slot_tasks_[static_cast<size_t>(slot)].empty() || excluded_nodes_.contains(node)) {
      continue;
    }
    // Preferably a band running on another node; never one that failed on this node.
    auto fits = [&](const Running* r, bool other_node) {
      return !r->failed_on.contains(node) && (!other_node || node_of(r->task.slot) != node) &&
             copy_may_win(*r, slot, now);
    };
    auto it = std::ranges::find_if(candidates, [&](const Running* r) { return fits(r, true); });
    if (it == candidates.end()) {
      it = std::ranges::find_if(candidates, [&](const Running* r) { return fits(r, false); });
    }
    if (it == candidates.end()) continue;
    const Running& original = **it;
    candidates.erase(it);
    Task copy = original.task;
    copy.id = next_id_++;
    copy.slot = slot;
    copy.duplicate_of = original.task.id;
    Running state{copy, now, 0, -1, -1, original.failed_on, {original.task.id},
                  copy.rows.count()};
    running_.at(original.task.id).copies.push_back(copy.id);
    running_[copy.id] = std::move(state);
    slot_tasks_[static_cast<size_t>(slot)].push_back(copy.id);
    copies.push_back(copy);
  }
  return copies;
}

std::optional<RowRange> Scheduler::take_virtual_rows(int slot, double now) {
  if (!static_bands_.empty()) {
    // Band i belongs to slot i; a slot without a band of its own takes none.
    const auto i = static_cast<size_t>(slot);
    if (i < static_bands_.size() && !static_taken_[i]) {
      static_taken_[i] = true;
      return static_bands_[i];
    }
    return std::nullopt;
  }
  if (batch_.empty() && next_row_ < todo_rows_) {  // (the cost model costs O(bands in flight))
    DynamicState state;
    state.total_rows = todo_rows_;
    state.remaining = todo_rows_ - next_row_;
    state.slots = config_.slots;
    state.block = config_.block;
    state.grain = config_.grain;
    state.unit = config_.frame_rows;
    state.model = model_with_running(now);
    if (!todo_costs_.empty()) state.row_costs = &todo_costs_;
    for (const RowRange& r : next_dynamic_batch(next_row_, state, config_.sizing)) {
      batch_.push_back(r);
      next_row_ = r.end;
    }
  }
  if (batch_.empty()) return std::nullopt;
  const RowRange range = batch_.front();
  batch_.pop_front();
  return range;
}

CostModel Scheduler::model_with_running(double now) const {
  // Mean tracing cost per row over everything traced so far, bands in flight included.
  CostModel m = model_;
  if (m.overhead_s <= 0) {
    m.overhead_s = prior_band_overhead_s(
        config_.width, config_.frame_rows > 0 ? config_.frame_rows : config_.rows,
        config_.band_startup_s);
  }
  double seconds = traced_seconds_, rows = traced_rows_;
  for (const auto& [id, r] : running_) {
    if (r.first_progress < 0 || r.fraction <= 0) continue;
    seconds += now - r.first_progress;
    rows += r.fraction * r.rows_started;
  }
  if (rows > 0) m.row_cost_s = std::max(seconds, 1e-3) / rows;
  return m;
}

std::vector<Task> Scheduler::dispatch(double now) {
  std::vector<Task> started;
  for (int slot = 0; slot < config_.slots; ++slot) {
    while (slot_has_room(slot)) {
      Retry next;
      if (auto retry = take_retry(slot)) {
        next = std::move(*retry);
      } else if (auto rows = take_rows(slot, now)) {
        next.task.rows = *rows;
      } else {
        break;
      }
      Task& task = next.task;
      task.id = next_id_++;
      task.slot = slot;
      running_[task.id] =
          Running{task, now, 0, -1, -1, std::move(next.failed_on), {}, task.rows.count()};
      slot_tasks_[static_cast<size_t>(slot)].push_back(task.id);
      started.push_back(task);
    }
  }
  for (const Task& part : split_runs(now)) started.push_back(part);
  for (const Task& copy : straggler_copies(now)) started.push_back(copy);
  return started;
}

void Scheduler::on_progress(TaskId id, double fraction, double now, double cpu_share) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  if (cpu_share >= 0) it->second.cpu_share = cpu_share;
  if (it->second.first_progress < 0) it->second.first_progress = now;
  it->second.fraction = std::clamp(fraction, 0.0, 1.0);
}

std::optional<std::vector<TaskId>> Scheduler::on_rows_done(TaskId id, int until) {
  auto it = running_.find(id);
  if (it == running_.end() || until <= it->second.task.rows.begin) return std::nullopt;
  RowRange& rows = it->second.task.rows;
  until = std::min(until, rows.end);
  rows_done_ += until - rows.begin;
  rows.begin = until;
  std::vector<TaskId> copies;
  for (TaskId c : it->second.copies) {
    if (auto copy = running_.find(c); copy != running_.end()) {
      copy->second.task.rows.begin = std::max(copy->second.task.rows.begin, until);
      copies.push_back(c);
    }
  }
  if (rows.count() > 0) return std::nullopt;
  node_failures_[node_of(it->second.task.slot)] = 0;  // a run that ended well
  finish_running(id);
  for (TaskId c : copies) finish_running(c);
  return copies;
}

std::vector<Task> Scheduler::split_runs(double now) {
  std::vector<Task> taken;
  const int h = config_.frame_rows;
  if (h <= 0 || config_.policy != Policy::kDynamic || !nothing_left_to_hand_out()) return taken;
  for (int slot = 0; slot < config_.slots; ++slot) {
    const int node = node_of(slot);
    if (!slot_tasks_[static_cast<size_t>(slot)].empty() || excluded_nodes_.contains(node)) {
      continue;
    }
    // The run (not copied) with the most frames after the one it renders now.
    Running* run = nullptr;
    int left = 0;
    for (auto& [id, r] : running_) {
      const RowRange rows = r.task.rows;
      if (!r.copies.empty() || r.failed_on.contains(node) || rows.begin % h != 0 ||
          rows.count() % h != 0 || rows.count() / h - 1 <= left) {
        continue;
      }
      run = &r;
      left = rows.count() / h - 1;
    }
    if (run == nullptr) break;
    // The back half of those frames is this slot's; the run ends when it has sent the rest.
    Task task;
    task.id = next_id_++;
    task.slot = slot;
    task.rows = {run->task.rows.end - (left + 1) / 2 * h, run->task.rows.end};
    run->task.rows.end = task.rows.begin;
    running_[task.id] = Running{task, now, 0, -1, -1, run->failed_on, {}, task.rows.count()};
    slot_tasks_[static_cast<size_t>(slot)].push_back(task.id);
    taken.push_back(task);
  }
  return taken;
}

void Scheduler::finish_running(TaskId id) {
  auto it = running_.find(id);
  CHECK(it != running_.end());  // the loop reports each task it started once
  auto& tasks = slot_tasks_[static_cast<size_t>(it->second.task.slot)];
  tasks.erase(std::ranges::find(tasks, id));
  running_.erase(it);
}

std::vector<TaskId> Scheduler::on_finished(TaskId id, const TaskTiming& timing, double /*now*/) {
  const RowRange rows = running_.at(id).task.rows;
  const int rows_traced = running_.at(id).rows_started;
  node_failures_[node_of(running_.at(id).task.slot)] = 0;
  std::vector<TaskId> losers;
  for (TaskId copy : running_.at(id).copies) {
    if (running_.contains(copy)) losers.push_back(copy);
  }
  finish_running(id);
  for (TaskId copy : losers) finish_running(copy);
  rows_done_ += rows.count();
  if (timing.trace_s >= 0 && rows_traced > 0) {
    traced_seconds_ += timing.trace_s;
    traced_rows_ += rows_traced;
    const double overhead = std::max(0.0, timing.wall_s - timing.trace_s);
    model_.overhead_s = model_.overhead_s > 0 ? 0.5 * (model_.overhead_s + overhead) : overhead;
  }
  return losers;
}

FailureAction Scheduler::on_failed(TaskId id, const TaskFailure& failure, double /*now*/) {
  Task task = running_.at(id).task;
  std::set<int> failed_on = std::move(running_.at(id).failed_on);
  const std::vector<TaskId> copies = running_.at(id).copies;
  finish_running(id);
  if (failure.kind == FailureKind::kSceneError) return FailureAction::kAbortJob;
  const int node = node_of(task.slot);
  failed_on.insert(node);
  if (++node_failures_[node] >= config_.node_failure_limit) excluded_nodes_.insert(node);
  bool copy_goes_on = false;
  for (TaskId c : copies) {
    auto it = running_.find(c);
    if (it == running_.end()) continue;
    std::erase(it->second.copies, id);
    it->second.failed_on.insert(node);
    copy_goes_on = true;
  }
  if (copy_goes_on) return FailureAction::kDuplicateGoesOn;
  if (task.attempt >= config_.max_attempts || all_excluded()) return FailureAction::kAbortJob;
  retry_queue_.push_back({task, std::move(failed_on)});
  return FailureAction::kRetried;
}

std::vector<TaskId> Scheduler::on_node_lost(int node) {
  excluded_nodes_.insert(node);
  std::vector<TaskId> lost;
  for (const auto& [id, r] : running_) {
    if (node_of(r.task.slot) == node) lost.push_back(id);
  }
  std::set<TaskId> requeued;  // a band and its copies on the node are handed out again once
  for (TaskId id : lost) {
    Task task = running_.at(id).task;
    std::set<int> failed_on = std::move(running_.at(id).failed_on);
    const std::vector<TaskId> copies = running_.at(id).copies;
    finish_running(id);
    failed_on.insert(node);
    bool handled = false;  // a copy runs on another node, or the band is queued already
    for (TaskId c : copies) {
      if (requeued.contains(c)) handled = true;
      auto it = running_.find(c);
      if (it == running_.end() || std::ranges::find(lost, c) != lost.end()) continue;
      std::erase(it->second.copies, id);
      it->second.failed_on.insert(node);
      handled = true;
    }
    if (handled) continue;
    requeued.insert(id);
    task.attempt -= 1;  // take_retry counts a try; losing a node is not the band's failure
    task.duplicate_of = 0;
    retry_queue_.push_front({task, std::move(failed_on)});
  }
  return lost;
}

}  // namespace taskdist
