// Ships a scene's folder to nodes that cannot see it: one byte string holding its files,
// directories and relative links as a standard tar archive (POSIX pax, uncompressed; any tar
// lists it: `tar -tvf`), written and read with libarchive. A node unpacks it into a private,
// empty directory with every path checked, so that a pack can never write outside that
// directory.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/error.h"

struct archive;  // libarchive's handle; only scene_pack.cpp sees libarchive

namespace taskdist {

struct ScenePack {
  std::string bytes;  ///< the folder as a tar archive
  int files = 0;
  uint64_t file_bytes = 0;  ///< sum of the files' sizes
};

/// Builds a pack entry by entry (pack_scene_dir uses it; tests build hostile packs with it: it
/// writes whatever it is given, absolute names, "..", any mode or link target included).
class ScenePackWriter {
 public:
  ScenePackWriter();
  ~ScenePackWriter();
  ScenePackWriter(const ScenePackWriter&) = delete;
  ScenePackWriter& operator=(const ScenePackWriter&) = delete;

  void add_file(const std::string& path, const std::string& data, uint32_t mode = 0644);
  void add_dir(const std::string& path, uint32_t mode = 0755);
  void add_link(const std::string& path, const std::string& target);
  /// Ends the archive and hands it over; call once, after the last add.
  std::string take();
  /// The first entry libarchive could not write, if any; that entry is not in the pack.
  const std::optional<Error>& error() const { return error_; }

 private:
  struct Free {
    void operator()(::archive* a) const;
  };
  void add(unsigned type, uint32_t mode, const std::string& path, const std::string& data,
           const std::string& link_target);
  std::string bytes_;
  std::unique_ptr<::archive, Free> archive_;
  std::optional<Error> error_;
};

/// Packs `root` recursively (links are stored as links, not followed). Fails with a sentence
/// naming the folder if it holds more than `limit_bytes` of files, or cannot be read.
std::expected<ScenePack, Error> pack_scene_dir(const std::filesystem::path& root,
                                               uint64_t limit_bytes);

/// Unpacks `bytes` into `dest` (an existing, empty directory). Refuses, with a one-line sentence
/// naming the entry, absolute paths, "..", links whose target is absolute or leaves `dest` (also
/// through other links: those are removed), entries that would be written through a link or
/// over one, hard links, devices, FIFOs and sparse files, and a damaged or truncated archive;
/// stops at the first refusal. Files and folders get at most mode 0755, as pack_scene_dir keeps
/// them; owners, times, ACLs, extended attributes and file flags are never restored.
std::expected<void, Error> unpack_scene(const std::string& bytes,
                                        const std::filesystem::path& dest);

}  // namespace taskdist
