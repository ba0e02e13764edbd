// Where cost profiles (core/cost_profile.h) live on disk, one small JSON file per scene, and the
// key that names a scene's file.
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cost_profile.h"
#include "core/error.h"

namespace taskdist {

/// Where profiles live: `dir`/<key>.json, one per scene. Reading a missing, damaged or foreign
/// file gives an empty profile (and a note); writing is atomic (a temporary file renamed).
class ProfileStore {
 public:
  /// `dir` empty: default_dir().
  explicit ProfileStore(std::filesystem::path dir) : dir_(dir.empty() ? default_dir() : std::move(dir)) {}
  /// $TASKDIST_CACHE_DIR, else $XDG_CACHE_HOME/taskdist, else ~/.cache/taskdist; plus "profiles".
  static std::filesystem::path default_dir();

  std::filesystem::path file(const std::string& key) const { return dir_ / (key + ".json"); }
  /// The stored profile; empty if there is none. `note` gets a sentence if a file was unusable.
  CostProfile load(const std::string& key, std::string* note = nullptr) const;
  /// The error names the file.
  std::expected<void, Error> save(const std::string& key, const CostProfile& profile) const;

 private:
  std::filesystem::path dir_;
};

/// A scene's identity for its profile: the scene file's name, the hashes of the files in its
/// folder that it may read (the caller leaves out what renders write there), its POV-Ray options
/// and the image's aspect ratio, but not its size.
std::string profile_key(const std::string& scene, const nlohmann::json& scene_files,
                        const std::vector<std::string>& options, int width, int height);

}  // namespace taskdist
