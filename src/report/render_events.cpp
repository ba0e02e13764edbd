#include "report/render_events.h"

namespace taskdist {
namespace {

template <typename Method, typename... Args>
void each(const std::vector<RenderObserver*>& consumers, Method method, const Args&... args) {
  for (RenderObserver* c : consumers) (c->*method)(args...);
}

}  // namespace

void RenderFanOut::on_start(const Job& job, const std::vector<std::string>& slot_names) {
  each(consumers_, &RenderObserver::on_start, job, slot_names);
}
void RenderFanOut::on_task(const TaskRecord& record, std::string_view state) {
  each(consumers_, &RenderObserver::on_task, record, state);
}
void RenderFanOut::on_frame(const FrameRecord& frame) {
  each(consumers_, &RenderObserver::on_frame, frame);
}

void RenderFanOut::on_band(RowRange rows, const std::filesystem::path& band_file) {
  each(consumers_, &RenderObserver::on_band, rows, band_file);
}
void RenderFanOut::on_band_reused(RowRange rows, const std::filesystem::path& band_file) {
  each(consumers_, &RenderObserver::on_band_reused, rows, band_file);
}
void RenderFanOut::on_progress(const ProgressState& state) {
  each(consumers_, &RenderObserver::on_progress, state);
}
void RenderFanOut::on_dispatch_start(double at_s) {
  each(consumers_, &RenderObserver::on_dispatch_start, at_s);
}
void RenderFanOut::on_last_arrival(double at_s) {
  each(consumers_, &RenderObserver::on_last_arrival, at_s);
}
void RenderFanOut::on_node_excluded(const std::string& node) {
  each(consumers_, &RenderObserver::on_node_excluded, node);
}
void RenderFanOut::on_node_lost(const std::string& node) {
  each(consumers_, &RenderObserver::on_node_lost, node);
}
void RenderFanOut::on_message(const UserMessage& message) {
  each(consumers_, &RenderObserver::on_message, message);
}
void RenderFanOut::on_end(const RunReport& report, int exit_code, const std::string& message) {
  each(consumers_, &RenderObserver::on_end, report, exit_code, message);
}

}  // namespace taskdist
