// The master's side of the cluster engine: runs tasks on worker ranks (and, with --master-slots,
// on local slots of the master's own machine) behind the same Runner interface as the local
// engine. Waits by sleeping between non-blocking probes, never in a busy MPI call.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/runner.h"
#include "engine/local_runner.h"
#include "mpi/channel.h"

namespace taskdist {

/// A worker rank as it introduced itself.
struct WorkerNode {
  int rank = 0;
  std::string host;
  int pid = 0;
  int slots = 1;
  double cpus = 1;  ///< cores the node can use (its CPU quota, if any), as the node measured them
  std::string name() const { return host + " (rank " + std::to_string(rank) + ")"; }
  /// The share of a core each slot can count on: how the master sizes this node's bands.
  double slot_speed() const { return std::min(1.0, cpus / slots); }
};

/// Where a scheduler slot lives: rank 0 means a local slot of the master.
struct SlotPlace {
  int rank = 0;
  int local = 0;  ///< the slot's index on its node
};

class MpiRunner : public Runner {
 public:
  /// `local` runs the tasks of slots placed on rank 0 (may be null if there are none).
  /// A worker that sends nothing for the channel's node timeout is reported lost (once), and
  /// the channel marks it lost.
  MpiRunner(Channel& channel, std::vector<WorkerNode> nodes, std::vector<SlotPlace> slots,
            std::unique_ptr<LocalRunner> local, std::string master_host);

  void start(const Task& task) override;
  std::optional<RunnerEvent> wait(double timeout_s) override;
  void cancel(TaskId id) override;
  void abort() override;
  int running() const override { return unreported_; }
  std::string slot_name(int slot) const override;
  std::string node_name(int slot) const override;

 private:
  using Clock = std::chrono::steady_clock;
  void receive_all();
  std::optional<RunnerEvent> check_lost(int signal);
  const WorkerNode* node(int rank) const;
  std::optional<RunnerEvent> pop_ready();

  // Constant after construction.
  Channel& channel_;
  const std::vector<WorkerNode> nodes_;
  std::vector<int> ranks_;  // of nodes_: another job's nodes may share the channel (race)
  const std::vector<SlotPlace> slots_;
  const std::unique_ptr<LocalRunner> local_;
  const std::string master_host_;

  std::map<TaskId, int> task_rank_;        // tasks in flight and where they run
  std::deque<RunnerEvent> ready_;
  int unreported_ = 0;
};

}  // namespace taskdist
