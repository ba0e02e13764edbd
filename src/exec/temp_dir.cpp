#include "exec/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace taskdist {

std::expected<TempDir, std::string> TempDir::create(const std::filesystem::path& parent,
                                                    const std::string& prefix) {
  std::string templ = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return std::unexpected("cannot create a temporary directory in '" + parent.string() +
                           "': " + std::strerror(errno));
  }
  return TempDir(templ);
}

std::filesystem::path TempDir::default_parent() {
  const char* t = std::getenv("TMPDIR");
  return (t && *t) ? std::filesystem::path(t) : std::filesystem::path("/tmp");
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void TempDir::remove() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  path_.clear();
}

}  // namespace taskdist
