#include "report/run_report.h"

#include "core/json_text.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

namespace taskdist {

namespace {
// A "Name: N kB" line of /proc/self/status, in bytes; 0 if absent.
uint64_t status_bytes(const char* name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(name) + ":";
  while (std::getline(status, line)) {
    if (line.starts_with(prefix)) return std::strtoull(line.c_str() + prefix.size(), nullptr, 10) * 1024;
  }
  return 0;
}
}  // namespace

uint64_t rss_bytes() { return status_bytes("VmRSS"); }

uint64_t peak_rss_bytes() {
  // VmHWM can be reset (reset_peak_rss); getrusage's maximum cannot.
  if (const uint64_t hwm = status_bytes("VmHWM"); hwm > 0) return hwm;
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::string timing_table(const Job& job, const RunReport& r) {
  const double total = r.total_s() > 0 ? r.total_s() : 1;
  auto row = [&](const char* name, double s) {
    return fmt::format("  {:<24} {:>9.3f} s {:>6.1f} %\n", name, s, 100.0 * s / total);
  };
  int ok = 0, failed = 0, stopped = 0;
  for (const auto& t : r.tasks) {
    ok += t.outcome == "ok";
    stopped += t.outcome.starts_with("stopped");
  }
  failed = static_cast<int>(r.tasks.size()) - ok - stopped;
  std::string out = "\n";
  out += row("first sequential part", r.seq1_s());
  out += row("parallel part", r.parallel_s());
  out += row("second sequential part", r.seq2_s());
  out += fmt::format("  {:<24} {:>9.3f} s\n", "total", r.total_s());
  // An animation: its frames, and the tasks (runs of frames or bands) that rendered them.
  const std::string what =
      job.animation ? fmt::format("{} frames in {} task{}", job.frame_count(), ok, ok == 1 ? "" : "s")
                    : fmt::format("{} band{}", ok, ok == 1 ? "" : "s");
  const std::string output =
      job.animation ? fmt::format("{} ... {}", job.frame_output(0).string(),
                                  job.frame_output(job.frame_count() - 1).filename().string())
                    : job.output.string();
  out += fmt::format("  {}x{}, {} ({} policy, {} slot{}), {} -> {} ({:.1f} KiB), master "
                     "peak RSS {:.1f} MiB\n",
                     job.width, job.height, what,
                     job.policy == Policy::kStatic ? "static" : "dynamic", job.slots,
                     job.slots == 1 ? "" : "s", job.scene.filename().string(), output,
                     r.output_bytes / 1024.0, r.master_peak_rss_bytes / 1048576.0);
  if (!r.reused.empty()) {
    int rows = 0;
    for (const auto& b : r.reused) rows += b.count();
    out += fmt::format("  resumed: {} bands ({} rows) taken from the journal, not rendered again\n",
                       r.reused.size(), rows);
  }
  if (failed > 0 || stopped > 0) {
    out += fmt::format("  {} band{} failed and {} retried; {} losing cop{} of straggling bands "
                       "stopped\n",
                       failed, failed == 1 ? "" : "s", failed == 1 ? "was" : "were", stopped,
                       stopped == 1 ? "y" : "ies");
  }
  for (const auto& name : r.excluded) out += fmt::format("  excluded: {}\n", name);
  for (const auto& name : r.lost) out += fmt::format("  lost: {}\n", name);
  if (r.profile.runs > 0) {
    out += fmt::format("  cost profile: {} bands of {} earlier run{} of this scene ({})\n",
                       r.profile.bands, r.profile.runs, r.profile.runs == 1 ? "" : "s",
                       r.profile.file);
  }
  return out;
}

std::expected<void, Error> write_json_report(const Job& job, const RunReport& r,
                                             const std::filesystem::path& path) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& t : r.tasks) {
    tasks.push_back({{"id", t.id},
                     {"slot", t.slot},
                     {"where", t.where},
                     {"first_row", t.rows.begin},
                     {"last_row", t.rows.end - 1},
                     {"rows", t.rows.count()},
                     {"attempt", t.attempt},
                     {"duplicate_of", t.duplicate_of},
                     {"start_s", t.start_s},
                     {"end_s", t.end_s},
                     {"povray_wall_s", t.timing.wall_s},
                     {"povray_cpu_s", t.timing.cpu_s},
                     {"povray_trace_s", t.timing.trace_s},
                     {"povray_trace_cpu_s", t.timing.trace_cpu_s},
                     {"povray_startup_cpu_s", t.timing.startup_cpu_s},
                     {"povray_peak_rss_bytes", t.timing.peak_rss_bytes},
                     {"bytes", t.bytes},
                     {"outcome", t.outcome}});
  }
  nlohmann::json frames = nlohmann::json::array();
  for (const auto& f : r.frames) {
    frames.push_back({{"index", f.index}, {"frame", f.number}, {"file", f.file},
                      {"done_s", f.done_s}, {"clock", f.clock}, {"where", f.where},
                      {"povray_cpu_s", f.cpu_s}, {"reused", f.reused}});
  }
  nlohmann::json reused = nlohmann::json::array();
  for (const auto& b : r.reused) {
    reused.push_back({{"first_row", b.begin}, {"last_row", b.end - 1}, {"rows", b.count()}});
  }
  nlohmann::json doc = {
      {"scene", job.scene.string()},
      {"output", job.output.string()},
      {"width", job.width},
      {"height", job.height},
      {"policy", job.policy == Policy::kStatic ? "static" : "dynamic"},
      {"slots", job.slots},
      {"threads_per_band", job.threads_per_band},
      {"pov_options", job.pov_options},
      {"seq1_s", r.seq1_s()},
      {"parallel_s", r.parallel_s()},
      {"seq2_s", r.seq2_s()},
      {"total_s", r.total_s()},
      {"output_bytes", r.output_bytes},
      {"master_peak_rss_bytes", r.master_peak_rss_bytes},
      {"tasks", tasks},
      {"frames", frames},
      {"reused", reused},
      {"excluded", r.excluded},
      {"lost_nodes", r.lost},
      {"cost_profile",
       r.profile.file.empty()
           ? nlohmann::json(nullptr)
           : nlohmann::json{{"file", r.profile.file},
                            {"earlier_runs", r.profile.runs},
                            {"bands", r.profile.bands}}},
  };
  std::ofstream out(path);
  out << json_text(doc, 2) << '\n';
  if (!out) return fail("cannot write report '" + path.string() + "'");
  return {};
}

}  // namespace taskdist
