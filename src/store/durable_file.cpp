#include "store/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace taskdist {

std::expected<void, Error> write_file_durably(const std::filesystem::path& path,
                                              std::initializer_list<std::string_view> parts,
                                              std::string_view temp_suffix) {
  const std::filesystem::path temp = path.string() + std::string(temp_suffix);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(Error(std::strerror(errno)));
  bool ok = true;
  for (const std::string_view part : parts) {
    size_t done = 0;
    while (ok && done < part.size()) {
      const ssize_t n = ::write(fd, part.data() + done, part.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      else done += static_cast<size_t>(n);
    }
  }
  const int saved = errno;
  if (ok && ::fdatasync(fd) != 0) ok = false;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    const int reason = ok ? errno : saved;
    ::unlink(temp.c_str());
    return std::unexpected(Error(std::strerror(reason)));
  }
  return {};
}

std::string unique_temp_suffix() {
  static std::atomic<uint64_t> counter{0};
  return fmt::format(".part-{}-{}", ::getpid(), counter.fetch_add(1));
}

void sync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace taskdist
