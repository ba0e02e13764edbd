// A render as the user sees it in the terminal: the progress line and the messages on stderr,
// the timing table on stdout once the image is written. A consumer of render events
// (report/render_events.h); it decides nothing, only prints.
#pragma once

#include <cstdio>
#include <optional>

#include "report/progress_line.h"
#include "report/render_events.h"

namespace taskdist {

class TerminalOutput : public RenderObserver {
 public:
  /// Messages and the progress line go to `err`, the timing table to `out`.
  TerminalOutput(std::FILE* err, std::FILE* out) : err_(err), out_(out) {}

  /// Takes --quiet and the slots from the job.
  void on_start(const Job& job, const std::vector<std::string>& slot_names) override;
  void on_progress(const ProgressState& state) override;
  /// The progress line is cleared: the second sequential part shows none.
  void on_last_arrival(double at_s) override;
  /// Clears the progress line and prints the message (with --quiet, not kInfo and kResumed).
  void on_message(const UserMessage& message) override;
  /// Clears the progress line; prints the timing table unless --quiet or the job failed.
  void on_end(const RunReport& report, int exit_code, const std::string& message) override;

 private:
  std::FILE* const err_;
  std::FILE* const out_;
  Job job_;                               // as on_start gave it, with the engine's slots
  std::optional<ProgressLine> progress_;  // from on_start on
};

}  // namespace taskdist
