#include "render/povray_output.h"

#include <algorithm>
#include <cstdio>
#include <regex>

namespace taskdist {
namespace {

constexpr size_t kRecentLines = 12;
constexpr size_t kErrorLines = 20;

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

}  // namespace

void PovrayStderr::feed(std::string_view data) {
  for (char c : data) {
    if (c == '\n' || c == '\r') {
      if (!partial_.empty()) on_line(partial_);
      partial_.clear();
    } else if (partial_.size() < 4096) {
      partial_.push_back(c);
    }
  }
}

void PovrayStderr::on_line(std::string_view line) {
  unsigned long long done = 0, total = 0;
  if (line.starts_with("Rendered ") &&
      std::sscanf(std::string(line).c_str(), "Rendered %llu of %llu pixels", &done, &total) == 2) {
    if (total > 0) {
      progress_ = (frame_ + static_cast<double>(done) / static_cast<double>(total)) / frames_;
    }
    if (total > 0 && done == total && frame_ + 1 >= frames_) reported_all_ = true;
    return;
  }
  int frame = 0, frames = 0;
  if (line.starts_with("Rendering frame ") &&
      std::sscanf(std::string(line).c_str(), "Rendering frame %d of %d", &frame, &frames) == 2) {
    if (frames >= 1 && frame >= 1 && frame <= frames) {
      frame_ = (frame - 1) / step_;
      frames_ = (frames + step_ - 1) / step_;
    }
    return;
  }
  if (after_trace_time_) {
    after_trace_time_ = false;
    double cpu = -1;
    const auto with = line.find(" with ");
    if (with != std::string_view::npos && contains(line, "CPU-seconds") &&
        std::sscanf(std::string(line.substr(with)).c_str(), " with %lf", &cpu) == 1 && cpu >= 0) {
      trace_cpu_s_ = std::max(trace_cpu_s_, 0.0) + cpu;
    }
  }
  if (contains(line, "Trace Time:")) after_trace_time_ = true;
  static const std::regex kFileLine(R"(^File '.*' line [0-9]+:)");
  const bool error_start = std::regex_search(line.begin(), line.end(), kFileLine) ||
                           contains(line, "Parse Error") || contains(line, "Fatal error") ||
                           contains(line, "Possible Parse Error") ||
                           contains(line, "Problem with option") ||
                           contains(line, "Failed to parse");
  if (contains(line, "Parse Error") || contains(line, "Fatal error in parser") ||
      contains(line, "Cannot open include file") || contains(line, "Problem with option") ||
      contains(line, "Failed to parse command-line option")) {
    scene_error_ = true;
  }
  if (error_start) in_error_ = true;
  if (in_error_ && error_.size() < kErrorLines) error_.emplace_back(line);
  recent_.emplace_back(line);
  if (recent_.size() > kRecentLines) recent_.pop_front();
}

std::optional<double> PovrayStderr::take_progress() {
  auto p = progress_;
  progress_.reset();
  return p;
}

bool PovrayStderr::scene_error() const { return scene_error_; }

std::string PovrayStderr::error_excerpt() const {
  std::string out;
  const auto& lines = error_.empty() ? recent_ : error_;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  if (!partial_.empty() && error_.empty()) out += (out.empty() ? "" : "\n") + partial_;
  return out;
}

}  // namespace taskdist
