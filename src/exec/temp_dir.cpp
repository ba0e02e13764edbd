#include "exec/temp_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace taskdist {

std::expected<TempDir, Error> TempDir::create(const std::filesystem::path& parent,
                                                    const std::string& prefix) {
  std::string templ = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return std::unexpected("cannot create a temporary directory in '" + parent.string() +
                           "': " + std::strerror(errno));
  }
  return TempDir(templ);
}

std::expected<TempDir, Error> TempDir::create_scratch(const std::string& prefix) {
  const auto parent = default_parent();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos ||
        rest.find_first_not_of("0123456789") != dash) {
      continue;
    }
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) {
      continue;
    }
    if (std::filesystem::exists("/proc/" + rest.substr(0, dash), ec)) continue;
    std::filesystem::remove_all(e.path(), ec);
  }
  return create(parent, prefix + std::to_string(::getpid()) + "-");
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
