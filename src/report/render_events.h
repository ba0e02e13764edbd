// What a render tells whoever watches it (the live web view): its slots, tasks, bands, progress
// and end. Called on the render loop's thread; an observer must not block it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/job.h"
#include "core/task.h"
#include "report/run_report.h"

namespace taskdist {

class RenderObserver {
 public:
  virtual ~RenderObserver() = default;
  /// The job begins on these slots (named as the runner names them).
  virtual void on_start(const Job& job, const std::vector<std::string>& slot_names) = 0;
  /// A task started ("running") or ended ("ok", "failed", "stopped").
  virtual void on_task(const TaskRecord& record, std::string_view state) = 0;
  /// A band is in the journal (read it with read_band_file), or re-used from it.
  virtual void on_band(RowRange rows, const std::filesystem::path& band_file) = 0;
  /// Rows done (fractions of bands in flight included) of `rows_total`, `elapsed_s` in.
  virtual void on_progress(double rows_done, int rows_total, double elapsed_s) = 0;
  /// The job ended: exit code 0 with the output written, else what `message` says.
  virtual void on_end(const RunReport& report, int exit_code, const std::string& message) = 0;
};

/// Hears nothing.
class NoObserver : public RenderObserver {
 public:
  void on_start(const Job&, const std::vector<std::string>&) override {}
  void on_task(const TaskRecord&, std::string_view) override {}
  void on_band(RowRange, const std::filesystem::path&) override {}
  void on_progress(double, int, double) override {}
  void on_end(const RunReport&, int, const std::string&) override {}
};

}  // namespace taskdist
