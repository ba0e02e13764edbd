#include "report/terminal_output.h"

#include <fmt/format.h>

namespace taskdist {

void TerminalOutput::on_start(const Job& job, const std::vector<std::string>& slot_names) {
  job_ = job;
  job_.slots = static_cast<int>(slot_names.size());  // the engine's slots, not the local default
  progress_.emplace(err_, job.quiet);
}

void TerminalOutput::on_progress(const ProgressState& state) {
  if (progress_) progress_->update(state);
}

void TerminalOutput::on_last_arrival(double /*at_s*/) {
  if (progress_) progress_->finish();
}

void TerminalOutput::on_message(const UserMessage& message) {
  if (progress_) progress_->finish();
  const bool chatter = message.kind == MessageKind::kInfo || message.kind == MessageKind::kResumed;
  if (chatter && job_.quiet) return;
  fmt::print(err_, "{}", message.text);
}

void TerminalOutput::on_end(const RunReport& report, int exit_code, const std::string&) {
  if (progress_) progress_->finish();
  if (exit_code == 0 && !job_.quiet) fmt::print(out_, "{}", timing_table(job_, report));
}

}  // namespace taskdist
