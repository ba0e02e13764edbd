// The RunReport as a consumer of render events (report/render_events.h): the tasks, re-used
// bands, excluded and lost nodes and the phases' times, as they happen. The job adds what only
// it knows at the end (output size, end time, memory, the cost profile) before it reports.
#pragma once

#include "report/render_events.h"
#include "report/run_report.h"

namespace taskdist {

class ReportRecorder : public RenderObserver {
 public:
  /// Ended tasks only ("running" is not recorded).
  void on_task(const TaskRecord& record, std::string_view state) override;
  void on_band_reused(RowRange rows, const std::filesystem::path& band_file) override;
  void on_frame(const FrameRecord& frame) override { report_.frames.push_back(frame); }
  void on_dispatch_start(double at_s) override;
  void on_last_arrival(double at_s) override;
  void on_node_excluded(const std::string& node) override;
  void on_node_lost(const std::string& node) override;

  RunReport& report() { return report_; }

 private:
  RunReport report_;
};

}  // namespace taskdist
