#include "core/scheduler.h"

#include <algorithm>
#include <stdexcept>

namespace taskdist {

Scheduler::Scheduler(SchedulerConfig config)
    : config_(config),
      static_bands_(config.policy == Policy::kStatic
                        ? static_plan(config.rows, config.slots, config.block)
                        : std::vector<RowRange>{}),
      static_taken_(static_bands_.size(), false),
      slot_tasks_(static_cast<size_t>(std::max(1, config.slots))) {}

bool Scheduler::in_tail(const Running& r, double now) const {
  if (r.fraction >= 1.0) return true;
  if (r.first_progress < 0 || r.fraction < 0.02) return false;
  const double elapsed = now - r.first_progress;
  const double remaining = elapsed * (1.0 - r.fraction) / r.fraction;
  return remaining < config_.prestart_lead_s;
}

bool Scheduler::slot_has_room(int slot, double now) const {
  const auto& tasks = slot_tasks_[static_cast<size_t>(slot)];
  if (tasks.empty()) return true;
  if (tasks.size() > 1 || config_.policy == Policy::kStatic) return false;
  return in_tail(running_.at(tasks.front()), now);
}

std::optional<RowRange> Scheduler::take_rows(int slot) {
  if (config_.policy == Policy::kStatic) {
    // Band i belongs to slot i; a slot without a band of its own takes none.
    const auto i = static_cast<size_t>(slot);
    if (i < static_bands_.size() && !static_taken_[i]) {
      static_taken_[i] = true;
      return static_bands_[i];
    }
    return std::nullopt;
  }
  const int remaining = config_.rows - next_row_;
  if (remaining <= 0) return std::nullopt;
  const int rows =
      next_dynamic_rows(remaining, config_.slots, config_.block, model_, config_.sizing);
  RowRange range{next_row_, next_row_ + rows};
  next_row_ += rows;
  return range;
}

std::vector<Task> Scheduler::dispatch(double now) {
  std::vector<Task> started;
  for (int slot = 0; slot < config_.slots; ++slot) {
    while (slot_has_room(slot, now)) {
      Task task;
      if (!retry_queue_.empty()) {
        task = retry_queue_.front();
        retry_queue_.pop_front();
        task.attempt += 1;
      } else if (auto rows = take_rows(slot)) {
        task.rows = *rows;
      } else {
        break;
      }
      task.id = next_id_++;
      task.slot = slot;
      running_[task.id] = Running{task, now, 0, -1};
      slot_tasks_[static_cast<size_t>(slot)].push_back(task.id);
      started.push_back(task);
    }
  }
  return started;
}

void Scheduler::on_progress(TaskId id, double fraction, double now) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  if (it->second.first_progress < 0) it->second.first_progress = now;
  it->second.fraction = std::clamp(fraction, 0.0, 1.0);
}

void Scheduler::finish_running(TaskId id) {
  auto it = running_.find(id);
  if (it == running_.end()) throw std::logic_error("scheduler: unknown task id");
  auto& tasks = slot_tasks_[static_cast<size_t>(it->second.task.slot)];
  tasks.erase(std::ranges::find(tasks, id));
  running_.erase(it);
}

void Scheduler::on_finished(TaskId id, const TaskTiming& timing, double /*now*/) {
  const RowRange rows = running_.at(id).task.rows;
  finish_running(id);
  rows_done_ += rows.count();
  if (timing.trace_s > 0 && rows.count() > 0) {
    // The costliest rows seen so far set the floor on band size: bands stay small enough to
    // balance where the scene is expensive.
    model_.row_cost_s = std::max(model_.row_cost_s, timing.trace_s / rows.count());
    const double overhead = std::max(0.0, timing.wall_s - timing.trace_s);
    model_.overhead_s = model_.overhead_s > 0 ? 0.5 * (model_.overhead_s + overhead) : overhead;
  }
}

FailureAction Scheduler::on_failed(TaskId id, const TaskFailure& failure, double /*now*/) {
  Task task = running_.at(id).task;
  finish_running(id);
  if (failure.kind == FailureKind::kSceneError || task.attempt >= config_.max_attempts) {
    return FailureAction::kAbortJob;
  }
  retry_queue_.push_back(task);
  return FailureAction::kRetried;
}

}  // namespace taskdist
