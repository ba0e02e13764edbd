#include "report/report_recorder.h"

namespace taskdist {

void ReportRecorder::on_task(const TaskRecord& record, std::string_view state) {
  if (state != "running") report_.tasks.push_back(record);
}

void ReportRecorder::on_band_reused(RowRange rows, const std::filesystem::path& /*band_file*/) {
  report_.reused.push_back(rows);
}

void ReportRecorder::on_dispatch_start(double at_s) {
  if (report_.first_dispatch_s < 0) report_.first_dispatch_s = at_s;
}

void ReportRecorder::on_last_arrival(double at_s) { report_.last_arrival_s = at_s; }

void ReportRecorder::on_node_excluded(const std::string& node) { report_.excluded.push_back(node); }

void ReportRecorder::on_node_lost(const std::string& node) { report_.lost.push_back(node); }

}  // namespace taskdist
