#include "report/progress_line.h"

#include "report/progress_count.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace taskdist {

ProgressLine::ProgressLine(std::FILE* out, bool quiet) : out_(out) {
  const char* term = std::getenv("TERM");
  const bool smart = ::isatty(::fileno(out)) && term && std::strcmp(term, "dumb") != 0;
  mode_ = quiet ? Mode::kQuiet : smart ? Mode::kTerminal : Mode::kPlain;
}

void ProgressLine::update(const ProgressState& s) {
  if (mode_ == Mode::kQuiet) return;
  const double interval = mode_ == Mode::kTerminal ? 0.1 : 2.0;
  if (s.elapsed_s - last_shown_ < interval) return;
  last_shown_ = s.elapsed_s;
  const double share = s.rows_total > 0 ? std::clamp(s.rows_done / s.rows_total, 0.0, 1.0) : 0;
  const auto left = eta_seconds(s.rows_done, s.rows_total, s.elapsed_s);
  const std::string eta = left ? fmt::format("{:.0f}s", *left) : "--";
  const std::string frames =
      s.frames_total > 1 ? fmt::format("frames {}/{}  ", s.frames_done, s.frames_total) : "";
  const std::string text = fmt::format(
      "{}rows traced {:.0f}/{} ({:.0f}%)  {} in flight {}  elapsed {:.1f}s  ETA {}", frames,
      s.rows_done, s.rows_total, 100 * share, s.frames_total > 1 ? "tasks" : "bands",
      s.in_flight, s.elapsed_s, eta);
  if (mode_ == Mode::kTerminal) {
    fmt::print(out_, "\r\x1b[K{}", text);
    drawn_ = true;
  } else {
    fmt::print(out_, "taskdist: {}\n", text);
  }
  std::fflush(out_);
}

void ProgressLine::finish() {
  if (mode_ == Mode::kTerminal && drawn_) {
    fmt::print(out_, "\r\x1b[K");
    std::fflush(out_);
  }
  drawn_ = false;
}

}  // namespace taskdist
