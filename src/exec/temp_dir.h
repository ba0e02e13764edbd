// Private temporary directories, removed with everything in them when their owner goes.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

#include "core/error.h"

namespace taskdist {

class TempDir {
 public:
  /// Creates `<parent>/<prefix>XXXXXX` with mode 0700. The error says where and why.
  static std::expected<TempDir, Error> create(const std::filesystem::path& parent,
                                                    const std::string& prefix);
  /// The parent for scratch files: $TMPDIR, or /tmp.
  static std::filesystem::path default_parent();
  /// Creates `<default_parent>/<prefix><pid>-XXXXXX`, after removing the scratch directories
  /// `<prefix><pid>-*` of processes that are gone (a run killed outright leaves its own behind).
  static std::expected<TempDir, Error> create_scratch(const std::string& prefix);

  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  ~TempDir() { remove(); }

  const std::filesystem::path& path() const { return path_; }
  /// Removes the directory now (also done by the destructor).
  void remove();
  /// Keeps the directory: it outlives this object.
  void release() { path_.clear(); }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace taskdist
