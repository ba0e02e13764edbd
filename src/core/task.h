// The unit of work: a band of rows of one frame, and what comes back about it.
#pragma once

#include <cstdint>
#include <string>

namespace taskdist {

using TaskId = int;

/// Rows [begin, end) of the image, 0-based from the top.
struct RowRange {
  int begin = 0;
  int end = 0;
  int count() const { return end - begin; }
  bool operator==(const RowRange&) const = default;
};

/// One band to render on one slot. `attempt` counts from 1.
struct Task {
  TaskId id = 0;
  int slot = 0;
  RowRange rows;
  int attempt = 1;
  TaskId duplicate_of = 0;  ///< a copy of a straggling band: the original's id
};

/// How long a finished task took, as the renderer measured it.
struct TaskTiming {
  double wall_s = 0;   ///< process start to exit
  double cpu_s = 0;    ///< user + system CPU of the renderer process
  double trace_s = -1; ///< first to last progress report; < 0 if the renderer reported none
  double trace_cpu_s = -1;  ///< CPU seconds of tracing, as the renderer said; < 0 if it did not
  double startup_cpu_s = -1;  ///< CPU seconds before its first progress report (start-up, parse)
  uint64_t peak_rss_bytes = 0;  ///< peak resident memory of the renderer process
};

/// Why a task failed. A scene error is deterministic: retrying it elsewhere cannot help.
enum class FailureKind {
  kSceneError,  ///< parse error, missing include or file, rejected option: stop the job
  kRenderError, ///< the renderer exited non-zero for another reason, or its output was bad
  kCrashed,     ///< killed by a signal
};

struct TaskFailure {
  FailureKind kind = FailureKind::kRenderError;
  std::string message;      ///< one line: what failed
  std::string detail;       ///< the renderer's own words (e.g. POV-Ray's "File ... line ..." lines)
};

}  // namespace taskdist
