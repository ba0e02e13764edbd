// Decides which band goes to which slot, and when. Pure: no I/O, no processes, no clock reads;
// time comes in as an argument, so tests can drive thousands of tasks in milliseconds.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "core/job.h"
#include "core/planner.h"
#include "core/task.h"

namespace taskdist {

struct SchedulerConfig {
  int rows = 0;        ///< of the stacked frames of an animation (core/animation.h)
  /// An animation's frame height: a task is either whole frames or rows of one frame (pieces
  /// are cut at frame boundaries), and bands of a frame or more are cut as whole frames. 0: one
  /// image (a still).
  int frame_rows = 0;
  int width = 0;  ///< for the prior on band overhead
  int slots = 1;
  int block = 32;  ///< POV-Ray's render block size: the smallest band of a dynamic batch
  int grain = 32;  ///< band boundaries fall on multiples of it (Job::row_grain())
  Policy policy = Policy::kDynamic;
  int max_attempts = 4;          ///< a band is tried at most this often (1 try + 3 retries)
  /// Dynamic policy: a slot starts its next band as soon as the current one has finished
  /// tracing (POV-Ray's start-up, mostly sleeping, overlaps the current band's output phase),
  /// unless the band got less than `prestart_min_cpu_share` of a core per thread while tracing:
  /// on a capped or crowded node the output phase is CPU-bound and the two only slow each other
  /// down (measured on the emulated cluster: one host at 0.125 CPU took 7.3 s instead of 5.3).
  bool prestart = true;
  double prestart_min_cpu_share = 0.6;
  DynamicSizing sizing;
  /// The node (machine) of each slot, for retries and exclusion; empty: all slots on one node.
  std::vector<int> slot_nodes;
  /// CPU each slot can count on, in cores (measured by the node when it joins); empty: a whole
  /// core each. If any slot has less than prestart_min_cpu_share, a band's start-up cannot be
  /// hidden there and every extra band costs a whole start-up and output: the dynamic policy
  /// then cuts one wave covering the image, each slot's band proportional to its speed.
  std::vector<double> slot_speed;
  /// POV-Ray's fixed wall time per band on these slots (kPovrayStartupWallS, or
  /// kQuickStartupWallS where every node runs the quick start): the overhead the dynamic policy
  /// assumes until bands have measured it, and the start-up of balanced_plan.
  double band_startup_s = kPovrayStartupWallS;
  /// Predicted trace CPU seconds of each row (a CostProfile's), size `rows`; empty: unknown.
  /// With it, the dynamic policy cuts bands by cost, not by rows: its one wave on capped slots
  /// (balanced_plan) and its batches elsewhere (next_dynamic_batch).
  std::vector<double> row_costs;
  /// A node whose bands failed this often in a row gets no more bands; once every node is
  /// out, the job stops.
  int node_failure_limit = 3;
  /// Rows already rendered (a resumed job's journal): sorted, not overlapping. Only the rest is
  /// handed out; the policies split the rest as if it were one image.
  std::vector<RowRange> done;
  /// Dynamic policy: once nothing is left to hand out, an idle slot renders a copy of the band
  /// that has run longest (at least this long; < 0: never), preferably from another node; the
  /// first copy to finish wins. A still's band is not copied while its progress says it will end
  /// sooner than a copy on that slot could even start and write its output (BandOverhead at the
  /// slot's speed): such a copy cannot win, and on a node that shares its CPU (an emulated
  /// cluster, a crowded machine) it only slows the others.
  double duplicate_after_s = 2.0;
};

/// What the loop must do after a failure.
enum class FailureAction {
  kRetried,           ///< the band waits for another try
  kDuplicateGoesOn,   ///< a copy of the band is still running: nothing to retry
  kAbortJob,          ///< a scene error, a band out of attempts, or every node excluded
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerConfig config);

  /// Tasks to start now, each with its slot. Call after every event.
  /// A copy of a straggling band has `duplicate_of` set to the original's id.
  std::vector<Task> dispatch(double now);
  /// `cpu_share`: CPU per thread the band got while tracing (< 0: unknown); see in_tail().
  void on_progress(TaskId id, double fraction, double now, double cpu_share = -1);
  /// A running run of whole frames has written its frames up to row `until`: they count as
  /// done, and the run (and its copies) now holds only the rest, which is all a retry, a copy
  /// or a lost node's requeue renders again. nullopt while the run holds rows still (or is not
  /// running); once it holds none (its last frames went to another slot: split_runs), it is
  /// finished here and the result lists its copies, which the caller must stop with it.
  std::optional<std::vector<TaskId>> on_rows_done(TaskId id, int until);
  /// Returns the copies of the band still running, which the caller must stop (no event follows
  /// for them in the scheduler).
  std::vector<TaskId> on_finished(TaskId id, const TaskTiming& timing, double now);
  /// A scene error aborts the job; anything else is retried up to max_attempts.
  FailureAction on_failed(TaskId id, const TaskFailure& failure, double now);
  /// `node` is gone with every band it was running: it gets no more bands, and each of its
  /// bands is handed out again (not counted as a failed attempt) unless a copy of it runs on
  /// another node. Returns the ids of its tasks, which the caller must stop and close (no event
  /// follows for them in the scheduler). all_excluded() tells whether any node is left.
  std::vector<TaskId> on_node_lost(int node);

  /// True once `node` failed node_failure_limit bands in a row and was taken out of the job.
  bool node_excluded(int node) const { return excluded_nodes_.contains(node); }
  int failure_limit() const { return config_.node_failure_limit; }
  /// True once no node may render any more (all excluded).
  bool all_excluded() const;
  /// The node of `slot` (see SchedulerConfig::slot_nodes).
  int node_of(int slot) const;

  bool done() const { return rows_done_ == config_.rows; }
  int rows_done() const { return rows_done_; }
  int rows_total() const { return config_.rows; }
  int in_flight() const { return static_cast<int>(running_.size()); }

 private:
  struct Running {
    Task task;
    double started = 0;
    double fraction = 0;
    double first_progress = -1;  // time of the first progress report
    double cpu_share = -1;
    std::set<int> failed_on;     // nodes where earlier attempts at this band failed
    std::vector<TaskId> copies;  // other running copies of the same band
    int rows_started = 0;        // rows it began with (a run of frames sends some before it ends)
  };

  struct Retry {
    Task task;
    std::set<int> failed_on;  // nodes where this band failed
  };

  bool slot_has_room(int slot) const;
  std::optional<Retry> take_retry(int slot);
  bool other_node_available(const std::set<int>& nodes) const;
  bool in_tail(const Running& r) const;
  bool copy_may_win(const Running& original, int slot, double now) const;
  std::optional<RowRange> take_rows(int slot, double now);
  std::optional<RowRange> take_virtual_rows(int slot, double now);
  bool nothing_left_to_hand_out() const;
  std::vector<Task> straggler_copies(double now);
  std::vector<Task> split_runs(double now);
  CostModel model_with_running(double now) const;
  void finish_running(TaskId id);

  // Constant after construction.
  const SchedulerConfig config_;
  // The rows still to render (complement of config_.done). The policies plan in a "virtual"
  // image of just these rows, stacked; take_rows maps a virtual band back to real pieces.
  const std::vector<RowRange> todo_;
  const int todo_rows_;
  const std::vector<double> todo_costs_;  // predicted cost of each of those rows; empty: unknown
  // Static, or dynamic on capped slots: band i for slot i, one wave over the image. Empty: the
  // dynamic policy's batches.
  const std::vector<RowRange> static_bands_;

  std::deque<RowRange> pieces_;          // real pieces of a virtual band, not handed out yet
  int next_row_ = 0;                     // dynamic: first virtual row not in any batch yet
  std::deque<RowRange> batch_;           // dynamic: bands of the current batch not handed out
  std::vector<bool> static_taken_;       // static: band i handed out
  std::deque<Retry> retry_queue_;        // failed bands waiting for another try
  std::map<int, int> node_failures_;     // node -> failures in a row
  std::set<int> excluded_nodes_;
  std::map<TaskId, Running> running_;
  std::vector<std::vector<TaskId>> slot_tasks_;
  int rows_done_ = 0;
  TaskId next_id_ = 1;
  CostModel model_;               // overhead measured on finished bands
  double traced_seconds_ = 0;      // tracing time and rows of finished bands
  double traced_rows_ = 0;
};

}  // namespace taskdist
