// Ships a scene's folder to nodes that cannot see it: one byte string holding its files,
// directories and relative links, unpacked on the node into a private directory with every
// path checked, so that a pack can never write outside that directory.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>

namespace taskdist {

struct ScenePack {
  std::string bytes;      ///< the serialized folder
  int files = 0;
  uint64_t file_bytes = 0;  ///< sum of the files' sizes
};

/// Builds a pack entry by entry (pack_scene_dir uses it; tests build hostile packs with it).
class ScenePackWriter {
 public:
  ScenePackWriter();
  void add_file(const std::string& path, const std::string& data, uint32_t mode = 0644);
  void add_dir(const std::string& path, uint32_t mode = 0755);
  void add_link(const std::string& path, const std::string& target);
  std::string take() { return std::move(bytes_); }

 private:
  void add(char type, uint32_t mode, const std::string& path, const std::string& data);
  std::string bytes_;
};

/// Packs `root` recursively (links are stored as links, not followed). Fails with a sentence
/// naming the folder if it holds more than `limit_bytes` of files, or cannot be read.
std::expected<ScenePack, std::string> pack_scene_dir(const std::filesystem::path& root,
                                                     uint64_t limit_bytes);

/// Unpacks `bytes` into `dest` (an existing, empty directory). Refuses, with a one-line sentence
/// naming the entry, absolute paths, "..", links whose target is absolute or leaves `dest` (also
/// through other links: those are removed), and entries that would be written through a link;
/// stops at the first refusal. Files get at most mode 0755, as pack_scene_dir keeps them.
std::optional<std::string> unpack_scene(const std::string& bytes,
                                        const std::filesystem::path& dest);

}  // namespace taskdist
