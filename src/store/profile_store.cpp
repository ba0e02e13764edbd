#include "store/profile_store.h"

#include <cstdlib>
#include <fstream>
#include <numeric>

#include <fmt/format.h>

#include "core/json_text.h"
#include "store/durable_file.h"
#include "store/hash.h"

namespace taskdist {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path ProfileStore::default_dir() {
  if (const char* d = std::getenv("TASKDIST_CACHE_DIR"); d && *d) return fs::path(d) / "profiles";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return fs::path(x) / "taskdist" / "profiles";
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return fs::path(h) / ".cache" / "taskdist" / "profiles";
  }
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  return (ec ? fs::path("/tmp") : tmp) / "taskdist-cache" / "profiles";
}

CostProfile ProfileStore::load(const std::string& key, std::string* note) const {
  const fs::path path = file(key);
  std::ifstream in(path);
  if (!in) return {};
  auto ignored = [&](const std::string& why) {
    if (note) *note = fmt::format("ignored the cost profile {}: {}", path.string(), why);
    return CostProfile{};
  };
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return ignored("not valid JSON");
  auto p = CostProfile::from_json(j);
  return p ? *p : ignored(p.error().message());
}

std::expected<void, Error> ProfileStore::save(const std::string& key,
                                               const CostProfile& profile) const {
  const fs::path path = file(key);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Two renders of one scene may end at once (a race's two sides): each its own temporary file.
  if (auto written = write_file_durably(path, {json_text(profile.to_json()), "\n"},
                                        unique_temp_suffix());
      !written) {
    return fail(fmt::format("cannot write the cost profile {}: {}", path.string(),
                            written.error()));
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
  Fnv1a hash;
  hash.add(text);
  return hash.hex();
}

}  // namespace taskdist
