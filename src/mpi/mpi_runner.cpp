#include "mpi/mpi_runner.h"

#include <fmt/format.h>

#include <set>

#include "exec/interrupt.h"
#include "mpi/protocol.h"

namespace taskdist {

MpiRunner::MpiRunner(Channel& channel, std::vector<WorkerNode> nodes,
                     std::vector<SlotPlace> slots, std::unique_ptr<LocalRunner> local,
                     std::string master_host)
    : channel_(channel), nodes_(std::move(nodes)), slots_(std::move(slots)),
      local_(std::move(local)), master_host_(std::move(master_host)) {
  for (const auto& n : nodes_) ranks_.push_back(n.rank);
}

const WorkerNode* MpiRunner::node(int rank) const {
  for (const auto& n : nodes_) {
    if (n.rank == rank) return &n;
  }
  return nullptr;
}

std::string MpiRunner::slot_name(int slot) const {
  const SlotPlace& p = slots_.at(static_cast<size_t>(slot));
  const std::string where = p.rank == 0 ? master_host_ + " (master)" : node(p.rank)->name();
  return fmt::format("{} slot {}", where, p.local + 1);
}

std::string MpiRunner::node_name(int slot) const {
  const SlotPlace& p = slots_.at(static_cast<size_t>(slot));
  return p.rank == 0 ? master_host_ + " (master)" : node(p.rank)->name();
}

void MpiRunner::start(const Task& task) {
  ++unreported_;
  const SlotPlace& place = slots_.at(static_cast<size_t>(task.slot));
  task_rank_[task.id] = place.rank;
  if (place.rank == 0) {
    local_->start(task);
    return;
  }
  Task remote = task;
  remote.slot = place.local;
  channel_.send(place.rank, Tag::kTask, to_json(remote));
}

void MpiRunner::receive_all() {
  while (auto m = channel_.receive(ranks_)) {
    switch (m->tag) {
      case Tag::kProgress:
        if (task_rank_.contains(m->header.at("id").get<int>())) {
          ready_.push_back(progress_from_json(m->header, m->payload));
        }
        break;
      case Tag::kFinished: {
        TaskFinished f = finished_from_json(m->header, std::move(m->payload));
        if (task_rank_.erase(f.id) != 0) ready_.push_back(std::move(f));
        break;
      }
      case Tag::kFailed: {
        TaskFailed f = failed_from_json(m->header);
        if (task_rank_.erase(f.id) != 0) ready_.push_back(std::move(f));
        break;
      }
      default:
        break;
    }
  }
}

std::optional<RunnerEvent> MpiRunner::check_lost(int signal) {
  if (signal != 0) {
    // Open MPI 4.1 ends the whole job when a rank dies or a node's daemon is cut off: everyone
    // else gets SIGTERM. The rank that fell silent first (heartbeats come every 0.1 s) is the
    // one that was lost.
    if (const auto rank = channel_.cut_off(ranks_)) {
      return WorkerLost{node(*rank)->name(),
                        fmt::format("sent nothing for {:.1f} s, then Open MPI ended the job "
                                    "(signal {})",
                                    channel_.silent_for(*rank), signal),
                        *rank, false};
    }
    return Interrupted{signal};
  }
  for (const auto& n : nodes_) {
    if (channel_.is_lost(n.rank) || !channel_.silent(n.rank)) continue;
    channel_.declare_lost(n.rank);
    return WorkerLost{n.name(),
                      fmt::format("sent nothing for {:.1f} s (--node-timeout {:g})",
                                  channel_.silent_for(n.rank), channel_.node_timeout()),
                      n.rank, true};
  }
  return std::nullopt;
}

std::optional<RunnerEvent> MpiRunner::pop_ready() {
  if (ready_.empty()) return std::nullopt;
  RunnerEvent e = std::move(ready_.front());
  ready_.pop_front();
  if (std::holds_alternative<TaskFinished>(e) || std::holds_alternative<TaskFailed>(e)) {
    --unreported_;
  }
  return e;
}

std::optional<RunnerEvent> MpiRunner::wait(double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  double pause = 0.0005;
  while (true) {
    if (int sig = InterruptSignal::received(); sig != 0) return check_lost(sig);
    receive_all();
    if (auto e = pop_ready()) return e;
    if (auto lost = check_lost(0)) return lost;
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    if (local_ && local_->running() > 0) {
      // Polls the local povray processes' pipes: this is the nap.
      // Local events join the queue, so that pop_ready() accounts for them like remote ones.
      if (auto e = local_->wait(std::min(pause, left))) {
        if (std::holds_alternative<Interrupted>(*e)) continue;
        if (auto* f = std::get_if<TaskFinished>(&*e)) task_rank_.erase(f->id);
        if (auto* f = std::get_if<TaskFailed>(&*e)) task_rank_.erase(f->id);
        ready_.push_back(std::move(*e));
        continue;
      }
    } else {
      nap(std::min(pause, left));
    }
    // Up to 20 ms: band results wait a little, but the master does not steal CPU from nodes
    // that share its machine (polling 8 ranks every 5 ms took ~5% of a core).
    pause = std::min(pause * 2, 0.02);
  }
}

void MpiRunner::cancel(TaskId id) {
  auto it = task_rank_.find(id);
  if (it == task_rank_.end()) return;
  if (it->second == 0) {
    local_->cancel(id);
  } else if (!channel_.is_lost(it->second)) {
    channel_.send(it->second, Tag::kCancel, {{"id", id}});
  }
  task_rank_.erase(it);
  --unreported_;
}

void MpiRunner::abort() {
  std::set<int> ranks;
  for (const auto& [id, rank] : task_rank_) ranks.insert(rank);
  for (int rank : ranks) {
    if (rank != 0 && !channel_.is_lost(rank)) channel_.send(rank, Tag::kStopAll, {});
  }
  if (local_) local_->abort();
  task_rank_.clear();
  ready_.clear();
  unreported_ = 0;
}

}  // namespace taskdist
