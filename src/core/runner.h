// The interface between the scheduler's loop and whatever executes tasks: local slots, MPI
// ranks, or a fake in tests. The loop never knows which one it drives.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/task.h"
#include "core/encoded_band.h"

namespace taskdist {

/// A running task reported how far its tracing has come (0..1).
struct TaskProgress {
  TaskId id = 0;
  double fraction = 0;
  /// CPU the renderer got while tracing, per thread (1.0: a whole core each); < 0 if unknown.
  /// Well below 1 means the node's CPU is contended or capped.
  double cpu_share = -1;
  /// A run of whole frames of an animation: frames it has finished since its last report, in
  /// order, one band each (its TaskFinished then holds only the frames not sent yet), so that
  /// each frame is written as soon as POV-Ray has rendered it.
  std::vector<EncodedBand> frames;
  double cpu_s = -1;  ///< with `frames`: the renderer's CPU seconds so far
};

/// A task finished; its band is ready for the assembler. A task of several whole frames of an
/// animation gives one band per frame not sent with its progress (TaskProgress::frames), in
/// order; any other task one band.
struct TaskFinished {
  TaskId id = 0;
  std::vector<EncodedBand> bands;
  TaskTiming timing;
  /// Non-empty: this band, one of the first on its node, showed that the node's povray does not
  /// load the quick start, and why (render/quick_start.h); the node's next bands run without it.
  std::string quick_start_off;
};

struct TaskFailed {
  TaskId id = 0;
  TaskFailure failure;
};

/// The user asked to stop (SIGINT/SIGTERM).
struct Interrupted {
  int signal = 0;
};

/// A worker node stopped answering or left the job; its bands in flight are lost with it.
struct WorkerLost {
  std::string node;     ///< e.g. "node3 (rank 3)"
  std::string message;  ///< what was seen
  /// The scheduler's node (EngineLayout::slot_nodes) whose slots are gone; < 0: unknown.
  int node_id = -1;
  /// True if the other nodes can go on without it (its bands go to them); false if the whole
  /// job is ending (Open MPI is stopping every rank).
  bool others_go_on = false;
};

/// What waiting can return: a closed set, handled exhaustively by the loop.
using RunnerEvent = std::variant<TaskProgress, TaskFinished, TaskFailed, Interrupted, WorkerLost>;

class Runner {
 public:
  virtual ~Runner() = default;
  /// Starts `task` now. The scheduler decides when there is room; the runner only executes.
  virtual void start(const Task& task) = 0;
  /// Waits up to `timeout_s` for the next event; nullopt if none came.
  virtual std::optional<RunnerEvent> wait(double timeout_s) = 0;
  /// Stops a running task (e.g. a duplicate); no event follows for it.
  virtual void cancel(TaskId id) = 0;
  /// Stops every running task and waits until all are gone. Idempotent.
  virtual void abort() = 0;
  /// Number of tasks started and not yet reported finished or failed.
  virtual int running() const = 0;
  /// How messages name a slot, e.g. "slot 2" or "node3 (rank 3) slot 1".
  virtual std::string slot_name(int slot) const { return "slot " + std::to_string(slot + 1); }
  /// How messages name the failure domain of a slot: the slot itself locally, its node under MPI.
  virtual std::string node_name(int slot) const { return slot_name(slot); }
};

}  // namespace taskdist
