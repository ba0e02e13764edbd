#include "render/quick_start.h"

#include <sys/statvfs.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace taskdist {

// The preload's bytes (cmake/embed_file.cmake, from quick_start_preload.c).
extern const unsigned char kQuickStartLibrary[];
extern const std::size_t kQuickStartLibrary_size;

namespace {

constexpr const char* kNotLoaded =
    "povray did not load it, or has none of the waits it shortens (a static or setuid binary, "
    "LD_PRELOAD ignored, or another POV-Ray build)";

// What bands of each povray in this process showed: true, it works; false, it is not loaded.
std::mutex verdicts_mutex;
std::map<std::string, bool> verdicts;

std::string write_library(const std::filesystem::path& file) {
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(kQuickStartLibrary),
              static_cast<std::streamsize>(kQuickStartLibrary_size));
    if (!out) return "cannot write " + file.string();
  }
  std::error_code ec;
  std::filesystem::permissions(file, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::others_read, ec);
  return ec ? "cannot make " + file.string() + " readable: " + ec.message() : std::string();
}

}  // namespace

QuickStart prepare_quick_start(const std::filesystem::path& povray,
                               const std::filesystem::path& dir) {
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) == 0 && (fs.f_flag & ST_NOEXEC) != 0) {
    return {{}, false,
            fmt::format("{} is on a noexec filesystem, from which the loader maps no library "
                        "(set TMPDIR to a folder on another)", dir.string())};
  }
  const auto library = dir / "povray-quick-start.so";
  if (library.string().find_first_of(" :") != std::string::npos) {
    return {{}, false,
            fmt::format("the loader splits LD_PRELOAD at spaces and colons, and its path {} has "
                        "one (set TMPDIR to a folder without)", library.string())};
  }
  if (const std::string failed = write_library(library); !failed.empty()) {
    return {{}, false, failed};
  }
  const std::lock_guard lock(verdicts_mutex);
  const auto it = verdicts.find(povray.string());
  if (it == verdicts.end()) return {library, false, {}};
  if (!it->second) return {{}, false, kNotLoaded};
  return {library, true, {}};
}

std::string judge_quick_start(const std::filesystem::path& povray,
                              const std::filesystem::path& band_dir) {
  const bool loaded = std::filesystem::exists(band_dir / kQuickStartProof);
  const std::lock_guard lock(verdicts_mutex);
  verdicts.emplace(povray.string(), loaded);
  return loaded ? std::string() : std::string(kNotLoaded);
}

std::string preload_environment(const std::filesystem::path& library) {
  const char* set = std::getenv("LD_PRELOAD");
  return "LD_PRELOAD=" + library.string() +
         (set != nullptr && *set != '\0' ? std::string(":") + set : std::string());
}

std::string quick_start_off_line(const std::string& where, const std::string& why_off) {
  return fmt::format("quick start is off {}: {}; each band pays POV-Ray's full start-up "
                     "(about 0.7 s)", where, why_off);
}

}  // namespace taskdist
