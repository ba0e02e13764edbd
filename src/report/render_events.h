// What a render tells whoever watches it: the events of one job, as they happen.
//
// The render loop (engine/render_loop.h) and the job around it (engine/render_job.h) print
// nothing and fill no report themselves: they emit every event to one RenderObserver, and
// RenderFanOut hands each event on to a list of consumers, in order:
//   - TerminalOutput (report/terminal_output.h): the progress line and every message on stderr,
//     the timing table on stdout;
//   - ReportRecorder (report/report_recorder.h): the RunReport (the timing table, the JSON
//     report and the cost profile are made from it);
//   - a panel of the live view (web/live_view.h);
//   - in tests, probes that check what happened and when.
// An event is a virtual call with the facts as arguments; every method has an empty default, so
// a consumer overrides only what it hears. Every line the user reads on stderr is a
// UserMessage, worded where the decision is made; the facts that consumers keep (tasks, bands,
// excluded and lost nodes, the phases' times) come as events of their own.
//
// Calls come on the render loop's thread, in the order things happened; a consumer must not
// block it. Times are seconds since the program started (the loop's RenderClock).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/task.h"
#include "report/progress_line.h"
#include "report/run_report.h"

namespace taskdist {

/// What a message to the user is about.
enum class MessageKind {
  kNote,         ///< worth knowing even with --quiet: a journal note, bands kept for --resume
  kInfo,         ///< how the job went (e.g. the job folder kept); --quiet leaves it out
  kResumed,      ///< bands of an earlier run are re-used; --quiet leaves it out
  kRetry,        ///< a band failed and the job goes on (retried, or its copy goes on)
  kExcluded,     ///< a node failed too often and gets no more bands
  kLost,         ///< a worker node was lost (and whether the job goes on)
  kInterrupted,  ///< the user stopped the job
  kStopped,      ///< the job stops: why (a scene error, failures by worker, an I/O error...)
};

/// Words for the user, as they are printed: whole lines, each ending in '\n'.
struct UserMessage {
  MessageKind kind = MessageKind::kNote;
  std::string text;
};

class RenderObserver {
 public:
  virtual ~RenderObserver() = default;
  /// The job begins on these slots (named as the runner names them).
  virtual void on_start(const Job& /*job*/, const std::vector<std::string>& /*slot_names*/) {}
  /// A task started ("running") or ended ("ok", "failed", "stopped"); an ended record has its
  /// end time and outcome.
  virtual void on_task(const TaskRecord& /*record*/, std::string_view /*state*/) {}
  /// A band is in the journal (read it with read_band_file); it goes to the assembler next.
  virtual void on_band(RowRange /*rows*/, const std::filesystem::path& /*band_file*/) {}
  /// A band of an earlier run is re-used from the journal. Unless overridden, heard as on_band:
  /// the band is in the journal like any other.
  virtual void on_band_reused(RowRange rows, const std::filesystem::path& band_file) {
    on_band(rows, band_file);
  }
  /// A frame of an animation is written (its file in place), or found complete (--resume).
  virtual void on_frame(const FrameRecord& /*frame*/) {}
  /// How far the render is (fractions of bands in flight included).
  virtual void on_progress(const ProgressState& /*state*/) {}
  /// The first band can be handed out: the first sequential part ends at `at_s`.
  virtual void on_dispatch_start(double /*at_s*/) {}
  /// Every band is in: the parallel part ends at `at_s`.
  virtual void on_last_arrival(double /*at_s*/) {}
  /// A node (named as Runner::node_name names it) gets no more bands.
  virtual void on_node_excluded(const std::string& /*node*/) {}
  /// A worker node was lost and the job goes on without it.
  virtual void on_node_lost(const std::string& /*node*/) {}
  /// Something for the user to read.
  virtual void on_message(const UserMessage& /*message*/) {}
  /// The job ended: exit code 0 with the output written, else what `message` says.
  virtual void on_end(const RunReport& /*report*/, int /*exit_code*/,
                      const std::string& /*message*/) {}
};

/// Tells `events` something for the user to read: whole lines, each ending in '\n'.
inline void say(RenderObserver& events, MessageKind kind, std::string text) {
  events.on_message({kind, std::move(text)});
}

/// Hears nothing.
class NoObserver : public RenderObserver {};

/// Hands every event to each consumer, in the order given. The consumers must outlive it.
class RenderFanOut : public RenderObserver {
 public:
  explicit RenderFanOut(std::vector<RenderObserver*> consumers)
      : consumers_(std::move(consumers)) {}

  void on_start(const Job& job, const std::vector<std::string>& slot_names) override;
  void on_task(const TaskRecord& record, std::string_view state) override;
  void on_band(RowRange rows, const std::filesystem::path& band_file) override;
  void on_band_reused(RowRange rows, const std::filesystem::path& band_file) override;
  void on_frame(const FrameRecord& frame) override;
  void on_progress(const ProgressState& state) override;
  void on_dispatch_start(double at_s) override;
  void on_last_arrival(double at_s) override;
  void on_node_excluded(const std::string& node) override;
  void on_node_lost(const std::string& node) override;
  void on_message(const UserMessage& message) override;
  void on_end(const RunReport& report, int exit_code, const std::string& message) override;

 private:
  const std::vector<RenderObserver*> consumers_;
};

}  // namespace taskdist
