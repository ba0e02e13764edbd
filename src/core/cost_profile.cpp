#include "core/cost_profile.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>

#include <fmt/format.h>

#include "core/json_text.h"

namespace taskdist {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr int kProfileVersion = 2;  // 1: runs without their image size

// How much of [begin, end) (fractions of the height) cell c of `cells` equal cells covers.
double overlap(double begin, double end, size_t c, int cells) {
  const double cell = 1.0 / cells;
  return std::max(0.0, std::min(end, (c + 1.0) * cell) - std::max(begin, c * cell));
}
}  // namespace

void CostProfile::add_run(std::vector<CostSample> samples, int width, int height) {
  std::erase_if(samples, [](const CostSample& s) {
    return !(s.begin >= 0 && s.end <= 1 && s.end > s.begin && s.cpu_per_pixel >= 0 &&
             std::isfinite(s.cpu_per_pixel));
  });
  if (samples.empty()) return;
  if (width < 0 || height < 0) width = height = 0;
  runs_.push_back({width, height, std::move(samples)});
  // The oldest run of this size beyond kRunsKept goes, then the oldest of all beyond
  // kRunsKeptInAll.
  const auto same = [&](const Run& r) { return r.width == width && r.height == height; };
  if (std::ranges::count_if(runs_, same) > kRunsKept) {
    runs_.erase(std::ranges::find_if(runs_, same));
  }
  if (runs_.size() > kRunsKeptInAll) runs_.erase(runs_.begin());
}

std::vector<const CostProfile::Run*> CostProfile::used(int width, int height) const {
  std::vector<const Run*> runs;
  for (const Run& r : runs_) {
    if (r.width == width && r.height == height && width > 0) runs.push_back(&r);
  }
  if (!runs.empty()) return runs;
  const size_t from = runs_.size() > kRunsKept ? runs_.size() - kRunsKept : 0;
  for (size_t i = from; i < runs_.size(); ++i) runs.push_back(&runs_[i]);
  return runs;
}

int CostProfile::runs_at(int width, int height) const {
  return static_cast<int>(std::ranges::count_if(
      runs_, [&](const Run& r) { return r.width == width && r.height == height; }));
}

int CostProfile::samples(int width, int height) const {
  int n = 0;
  for (const Run* run : used(width, height)) n += static_cast<int>(run->samples.size());
  return n;
}

std::vector<double> CostProfile::density(const std::vector<const Run*>& runs) {
  // Every band says how much its span of the height cost in all. Kaczmarz's method finds a
  // density over kCells cells that agrees with all of them, changing the first guess (the
  // newest run's mean) as little as it can: bands of several runs, cut at other rows, together
  // tell apart rows that no single band does. Older runs go first in each sweep, so where runs
  // disagree (a scene edited, a noisy machine) the newest one counts most.
  std::vector<double> cells(kCells, 0);
  double mean_num = 0, mean_den = 0;
  for (const CostSample& s : runs.back()->samples) {
    mean_num += (s.end - s.begin) * s.cpu_per_pixel;
    mean_den += s.end - s.begin;
  }
  std::ranges::fill(cells, mean_den > 0 ? mean_num / mean_den : 0);
  const double cell = 1.0 / kCells;
  for (int sweep = 0; sweep < 30; ++sweep) {
    for (const Run* run : runs) {
      for (const CostSample& s : run->samples) {
        const auto first = static_cast<size_t>(std::clamp(s.begin / cell, 0.0, kCells - 1.0));
        const auto last = static_cast<size_t>(std::clamp(std::ceil(s.end / cell), 1.0,
                                                         static_cast<double>(kCells)));
        double predicted = 0, norm = 0;
        for (size_t c = first; c < last; ++c) {
          const double o = overlap(s.begin, s.end, c, kCells);
          predicted += o * cells[c];
          norm += o * o;
        }
        if (norm <= 0) continue;
        const double step = (s.cpu_per_pixel * (s.end - s.begin) - predicted) / norm;
        for (size_t c = first; c < last; ++c) {
          cells[c] = std::max(0.0, cells[c] + overlap(s.begin, s.end, c, kCells) * step);
        }
      }
    }
  }
  return cells;
}

std::vector<double> CostProfile::row_costs(int width, int height) const {
  if (runs_.empty() || width <= 0 || height <= 0) return {};
  std::vector<double> cells = density(used(width, height));
  // No row is free: a band's sample can come out as 0 once its predicted overhead is taken off,
  // and a free stretch would all go to one band.
  double mean = 0;
  for (double c : cells) mean += c / kCells;
  for (double& c : cells) c = std::max(c, 0.05 * mean);
  std::vector<double> costs(static_cast<size_t>(height));
  for (int r = 0; r < height; ++r) {
    // The cells under the row, each by how much of the row it covers.
    const double top = static_cast<double>(r) / height, bottom = static_cast<double>(r + 1) / height;
    double per_pixel = 0;
    for (auto c = static_cast<size_t>(top * kCells);
         c < static_cast<size_t>(kCells) && c * (1.0 / kCells) < bottom; ++c) {
      per_pixel += overlap(top, bottom, c, kCells) * cells[c];
    }
    costs[static_cast<size_t>(r)] = per_pixel * height * width;
  }
  return costs;
}

json CostProfile::to_json() const {
  json runs = json::array();
  for (const Run& run : runs_) {
    json bands = json::array();
    for (const CostSample& s : run.samples) bands.push_back({s.begin, s.end, s.cpu_per_pixel});
    runs.push_back({{"width", run.width}, {"height", run.height}, {"bands", std::move(bands)}});
  }
  return {{"taskdist_profile", kProfileVersion}, {"runs", std::move(runs)}};
}

std::expected<CostProfile, Error> CostProfile::from_json(const json& j) {
  CostProfile p;
  try {
    const int version = j.is_object() && j.contains("taskdist_profile") &&
                                j.at("taskdist_profile").is_number_integer()
                            ? j.at("taskdist_profile").get<int>()
                            : -1;
    if (version != 1 && version != kProfileVersion) {
      return fail("not a taskdist cost profile of this version");
    }
    for (const json& run : j.at("runs")) {
      // Version 1: a run is its bands alone, of a size not known.
      const json& bands = version == 1 ? run : run.at("bands");
      std::vector<CostSample> samples;
      for (const json& b : bands) {
        samples.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<double>()});
      }
      if (version == 1) {
        p.add_run(std::move(samples));
      } else {
        p.add_run(std::move(samples), run.at("width").get<int>(), run.at("height").get<int>());
      }
    }
  } catch (const json::exception& e) {
    return fail(std::string("malformed: ") + e.what());
  }
  return p;
}

}  // namespace taskdist
