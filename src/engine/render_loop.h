// The loop that connects scheduler, runner, journal and assembler for one job: "start what the
// scheduler hands out, then wait for one result", until every band is in the image or the job
// must stop. It prints nothing and keeps no report: everything that happens goes out as render
// events (report/render_events.h) to whoever listens (the terminal, the RunReport, the live
// view). Its time comes from a RenderClock, so tests drive it with a fake clock and runner.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/runner.h"
#include "core/scheduler.h"
#include "engine/engine_layout.h"
#include "engine/render_clock.h"
#include "image/frame_assembler.h"
#include "report/render_events.h"
#include "store/journal.h"

namespace taskdist {

/// Frame index `k` of `job`'s animation, written at `at_s`: its number, file and clock (where it
/// was rendered and what it cost are the caller's to fill in).
FrameRecord frame_record(const Job& job, int k, double at_s);

class RenderLoop {
 public:
  /// `row_costs`: predicted trace CPU seconds per row (a cost profile's); empty: unknown. The
  /// journal's re-used bands are not handed out; the caller gives them to the assembler.
  /// Every reference must outlive the loop.
  RenderLoop(const Job& job, const EngineLayout& layout, const std::vector<double>& row_costs,
             Runner& runner, RenderClock& clock, Journal& journal, FrameAssembler& assembler,
             RenderObserver& events);

  /// Runs until every band is in the assembler (returns -1: the caller finishes the file) or the
  /// job must stop (returns the exit code, once no task of it runs and a UserMessage has said
  /// why).
  int run();

  int rows_done() const { return scheduler_.rows_done(); }
  int rows_total() const { return scheduler_.rows_total(); }

 private:
  double now() const { return clock_.now_s(); }
  void start_task(const Task& task);
  TaskRecord close_record(TaskId id, std::string outcome);
  std::optional<RunnerEvent> overdue_task();
  std::string failure_summary() const;
  std::string all_excluded_text() const;
  void count_failure(const TaskRecord& rec, const TaskFailure& failure);
  int stop_after_failure(const TaskRecord& rec, const TaskFailure& failure);
  int handle(TaskProgress& e);
  int handle(TaskFinished& e);
  int handle(TaskFailed& e);
  int handle(Interrupted& e);
  int handle(WorkerLost& e);
  void show_progress();
  std::expected<void, Error> take_band(EncodedBand band, const std::string& where, double cpu_s);
  std::string check_bands(const std::vector<EncodedBand>& bands, int from, int to,
                          bool to_the_end) const;
  int stop_on(const Error& error);
  std::expected<void, Error> frame_written(int k);
  std::string rows_text(RowRange stacked) const;
  std::string written_text() const;

  struct FailureTally {
    int count = 0;
    std::string last;
  };
  struct InFlight {
    TaskRecord record;
    double traced = 0;         // share of the band's rows traced so far
    int streamed_rows = 0;     // a run of frames: rows of the frames it sent with its progress
    double cpu_attributed = 0; // its CPU seconds given to those frames
    double timed_from = 0;     // --task-timeout counts from here: its start, or its last frame
  };

  struct FrameCost {  // what the bands of a frame in progress cost, and where they ran
    std::set<std::string> where;
    double cpu_s = 0;
  };

  // Constant after construction.
  const Job& job_;
  const double task_timeout_s_;
  const int width_;
  const int channels_;
  Runner& runner_;
  RenderClock& clock_;
  Journal& journal_;
  FrameAssembler& assembler_;
  RenderObserver& events_;

  Scheduler scheduler_;
  std::map<TaskId, InFlight> in_flight_;
  std::map<std::string, FailureTally> failures_;  // by node name
  std::set<int> excluded_nodes_;                  // told already
  std::set<std::string> excluded_names_;
  std::map<int, FrameCost> frame_costs_;          // by frame index, until it is written
};

}  // namespace taskdist
