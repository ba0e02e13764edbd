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
constexpr int kProfileVersion = 1;
}  // namespace

void CostProfile::add_run(std::vector<CostSample> samples) {
  std::erase_if(samples, [](const CostSample& s) {
    return !(s.begin >= 0 && s.end <= 1 && s.end > s.begin && s.cpu_per_pixel >= 0 &&
             std::isfinite(s.cpu_per_pixel));
  });
  if (samples.empty()) return;
  runs_.push_back(std::move(samples));
  if (runs_.size() > kRunsKept) runs_.erase(runs_.begin());
}

int CostProfile::samples() const {
  int n = 0;
  for (const auto& run : runs_) n += static_cast<int>(run.size());
  return n;
}

std::vector<double> CostProfile::row_costs(int width, int height) const {
  if (runs_.empty() || width <= 0 || height <= 0) return {};
  // Weighted mean per row by difference arrays: a band of a fraction w of the height weighs
  // 1/w^2 (a narrow band says more about its rows than a wide one), halved per run of age.
  const auto rows = static_cast<size_t>(height);
  std::vector<double> weight(rows + 1, 0), weighted(rows + 1, 0);
  double mean_num = 0, mean_den = 0;
  double age_factor = 1;
  for (auto run = runs_.rbegin(); run != runs_.rend(); ++run, age_factor *= 0.5) {
    for (const CostSample& s : *run) {
      // Rows whose centre lies in [begin, end).
      const auto first = static_cast<size_t>(std::clamp(std::ceil(s.begin * height - 0.5), 0.0,
                                                        static_cast<double>(height)));
      const auto last = static_cast<size_t>(std::clamp(std::ceil(s.end * height - 0.5), 0.0,
                                                       static_cast<double>(height)));
      const double span = s.end - s.begin;
      const double w = age_factor / (span * span);
      if (first < last) {
        weight[first] += w;
        weight[last] -= w;
        weighted[first] += w * s.cpu_per_pixel;
        weighted[last] -= w * s.cpu_per_pixel;
      }
      if (age_factor == 1) {  // the mean over the image, from the newest run
        mean_num += span * s.cpu_per_pixel;
        mean_den += span;
      }
    }
  }
  const double mean = mean_den > 0 ? mean_num / mean_den : 0;
  std::vector<double> costs(rows);
  double w = 0, wd = 0;
  for (size_t r = 0; r < rows; ++r) {
    w += weight[r];
    wd += weighted[r];
    const double per_pixel = w > 1e-12 ? std::max(0.0, wd / w) : mean;
    costs[r] = per_pixel * width;
  }
  return costs;
}

json CostProfile::to_json() const {
  json runs = json::array();
  for (const auto& run : runs_) {
    json bands = json::array();
    for (const CostSample& s : run) bands.push_back({s.begin, s.end, s.cpu_per_pixel});
    runs.push_back(std::move(bands));
  }
  return {{"taskdist_profile", kProfileVersion}, {"runs", std::move(runs)}};
}

std::expected<CostProfile, std::string> CostProfile::from_json(const json& j) {
  if (!j.is_object() || j.value("taskdist_profile", 0) != kProfileVersion) {
    return std::unexpected("not a taskdist cost profile of this version");
  }
  CostProfile p;
  try {
    for (const json& run : j.at("runs")) {
      std::vector<CostSample> samples;
      for (const json& b : run) {
        samples.push_back({b.at(0).get<double>(), b.at(1).get<double>(), b.at(2).get<double>()});
      }
      p.add_run(std::move(samples));
    }
  } catch (const json::exception& e) {
    return std::unexpected(std::string("malformed: ") + e.what());
  }
  return p;
}

fs::path ProfileStore::default_dir() {
  if (const char* d = std::getenv("TASKDIST_CACHE_DIR"); d && *d) return fs::path(d) / "profiles";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return fs::path(x) / "taskdist" / "profiles";
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return fs::path(h) / ".cache" / "taskdist" / "profiles";
  }
  return fs::temp_directory_path() / "taskdist-cache" / "profiles";
}

CostProfile ProfileStore::load(const std::string& key, std::string* note) const {
  const fs::path path = file(key);
  std::ifstream in(path);
  if (!in) return {};
  auto fail = [&](const std::string& why) {
    if (note) *note = fmt::format("ignored the cost profile {}: {}", path.string(), why);
    return CostProfile{};
  };
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return fail("not valid JSON");
  auto p = CostProfile::from_json(j);
  return p ? *p : fail(p.error());
}

std::expected<void, std::string> ProfileStore::save(const std::string& key,
                                                    const CostProfile& profile) const {
  const fs::path path = file(key);
  const fs::path temp = path.string() + ".part-" + std::to_string(::getpid());
  std::error_code ec;
  fs::create_directories(dir_, ec);
  {
    std::ofstream out(temp, std::ios::trunc);
    out << json_text(profile.to_json()) << '\n';
    out.close();
    if (!out) {
      fs::remove(temp, ec);
      return std::unexpected(fmt::format("cannot write the cost profile {}", temp.string()));
    }
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    return std::unexpected(
        fmt::format("cannot write the cost profile {}: {}", path.string(), ec.message()));
  }
  return {};
}

std::string profile_key(const std::string& scene, const json& scene_files,
                        const std::vector<std::string>& options, int width, int height) {
  const int g = std::gcd(std::max(width, 1), std::max(height, 1));
  const std::string text = json_text(json{{"scene", scene},
                                          {"scene_files", scene_files},
                                          {"options", options},
                                          {"aspect", fmt::format("{}:{}", width / g, height / g)}});
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return fmt::format("{:016x}", h);
}

}  // namespace taskdist
