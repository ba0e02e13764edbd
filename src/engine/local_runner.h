// Runs tasks as povray processes on this machine: the embedded default engine.
#pragma once

#include <deque>
#include <map>
#include <memory>

#include "core/runner.h"
#include "exec/temp_dir.h"
#include "render/povray_renderer.h"

namespace taskdist {

/// Executes each task in its own povray process with a private working directory under
/// `scratch`. Single-threaded: wait() polls every child's pipes and the interrupt signal.
class LocalRunner : public Runner {
 public:
  LocalRunner(RenderSettings settings, std::filesystem::path scratch);
  ~LocalRunner() override;

  void start(const Task& task) override;
  std::optional<RunnerEvent> wait(double timeout_s) override;
  void cancel(TaskId id) override;
  void abort() override;
  int running() const override { return unreported_; }

 private:
  struct Running {  // one povray process and its private directory
    std::unique_ptr<BandRender> render;
    std::filesystem::path work_dir;
  };
  void remove_work_dir(const std::filesystem::path& dir);

  /// The quick start's check: the end of a band that ran with an unproven preload decides
  /// whether the next bands have it (render/quick_start.h).
  void judge_quick_start(RunnerEvent& end, const std::filesystem::path& work_dir);

  RenderSettings settings_;  // constant after construction but for the quick start's verdict
  const std::filesystem::path scratch_;

  std::map<TaskId, Running> renders_;
  std::deque<RunnerEvent> ready_;  // events produced but not yet returned
  int unreported_ = 0;             // tasks started whose end was not returned by wait() yet
};

}  // namespace taskdist
