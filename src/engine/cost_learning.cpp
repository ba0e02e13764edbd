#include "engine/cost_learning.h"

#include "store/profile_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/planner.h"

namespace taskdist {

namespace fs = std::filesystem;

namespace {

// The scene folder's files less images and reports: renders write those there (PNGs at other
// sizes, --report files), and they must not make the scene look new. (An edited image map
// changes the cost little; an edited .pov or .inc makes a new profile.)
nlohmann::json source_files(const nlohmann::json& scene_files) {
  static const std::set<std::string> kLeftOut = {".png", ".jpg", ".jpeg", ".tga", ".bmp",
                                                 ".ppm", ".pgm", ".gif", ".tif", ".tiff",
                                                 ".exr", ".hdr", ".iff", ".json", ".log"};
  nlohmann::json kept = nlohmann::json::object();
  if (!scene_files.is_object()) return kept;
  for (const auto& [name, hash] : scene_files.items()) {
    std::string ext = fs::path(name).extension().string();
    std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!kLeftOut.contains(ext)) kept[name] = hash;
  }
  return kept;
}

LearntCosts recall_unguarded(const Job& job, const nlohmann::json& scene_files) {
  LearntCosts costs;
  // An animation's costs vary along its clock; profiles cover stills only (for now).
  if (!job.cost_profile || job.animation) return costs;
  const std::string scene = job.scene.lexically_relative(job.scene_dir).string();
  costs.key = profile_key(scene, source_files(scene_files), job.pov_options, job.width,
                          job.height);
  const ProfileStore store(job.profile_dir);
  costs.file = store.file(costs.key);
  std::string note;
  costs.profile = store.load(costs.key, &note);
  if (!note.empty()) fmt::print(stderr, "taskdist: {}\n", note);
  costs.row_costs = costs.profile.row_costs(job.width, job.height);
  return costs;
}

}  // namespace

LearntCosts recall_costs(const Job& job, const nlohmann::json& scene_files) {
  // A profile only ever helps: whatever goes wrong with it, the render goes on without one.
  try {
    return recall_unguarded(job, scene_files);
  } catch (const std::exception& e) {
    fmt::print(stderr, "taskdist: warning: the cost profile was not used: {}\n", e.what());
    return {};
  }
}

namespace {
constexpr double kMinSampleCpuS = 0.05;  // 5 ticks
}  // namespace

std::vector<CostSample> cost_samples(const RunReport& report, int width, int height) {
  struct Measured {
    RowRange rows;
    double cpu = 0;
  };
  std::vector<Measured> bands;
  const BandOverhead overhead;
  for (const TaskRecord& t : report.tasks) {
    if (t.outcome != "ok" || t.rows.count() <= 0) continue;
    // The band's whole CPU less its predicted start-up (the process, the image buffer) and
    // output: POV-Ray's own trace figure leaves out work that grows with the band too (its
    // front end takes in every pixel), up to half the band's CPU on cheap rows of capped nodes.
    // Not the CPU before POV-Ray's first progress report: POV-Ray reports every few tenths of a
    // second, so on a short band that figure holds most of its tracing (blob.pov 640x480 +A0.3
    // in 3 bands: 0.18-0.22 of 0.19-0.25 CPU-s), and cheap rows would be learnt as free. A long
    // parse is then spread over the band's pixels: the same share for bands of the same size.
    const double before =
        overhead.startup_cpu_s(width, height) + overhead.output_cpu_s(t.rows, width, height);
    const double cpu = t.timing.cpu_s > 0 ? std::max(0.0, t.timing.cpu_s - before)
                                          : t.timing.trace_cpu_s;
    if (cpu >= 0) bands.push_back({t.rows, cpu});
  }
  // A band with too little tracing to measure (a process's own CPU varies by a few 10 ms ticks
  // from one to the next) is joined with the bands right below it until the group has enough;
  // a group that never does (the image's last rows) is left out. Dropping such bands alone
  // would leave their rows to be predicted from the costlier ones (CostProfile starts every
  // cell from the mean of the run).
  std::ranges::sort(bands, {}, [](const Measured& b) { return b.rows.begin; });
  std::vector<CostSample> samples;
  Measured group;
  bool open = false;  // `group` holds bands not yet given as a sample
  for (const Measured& b : bands) {
    if (open && group.rows.end == b.rows.begin) {
      group.rows.end = b.rows.end;
      group.cpu += b.cpu;
    } else {
      group = b;
    }
    open = group.cpu < kMinSampleCpuS;
    if (!open) {
      const double pixels = static_cast<double>(group.rows.count()) * width;
      samples.push_back({static_cast<double>(group.rows.begin) / height,
                         static_cast<double>(group.rows.end) / height, group.cpu / pixels});
    }
  }
  return samples;
}

namespace {

void remember_unguarded(const Job& job, LearntCosts& costs, const RunReport& report) {
  auto samples = cost_samples(report, job.width, job.height);
  if (samples.empty()) return;  // all re-used from the journal
  costs.profile.add_run(std::move(samples), job.width, job.height);
  const ProfileStore store(job.profile_dir);
  if (auto saved = store.save(costs.key, costs.profile); !saved) {
    fmt::print(stderr, "taskdist: warning: {} (the image is fine; --no-profile skips this)\n",
               saved.error());
  }
}

}  // namespace

void remember_costs(const Job& job, LearntCosts& costs, const RunReport& report) {
  if (costs.key.empty()) return;
  try {
    remember_unguarded(job, costs, report);
  } catch (const std::exception& e) {
    fmt::print(stderr, "taskdist: warning: the cost profile was not kept: {}\n", e.what());
  }
}

}  // namespace taskdist
