#include "render/quick_start.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <fmt/format.h>

#include "exec/subprocess.h"

namespace taskdist {

// The preload's bytes (cmake/embed_file.cmake, from quick_start_preload.c).
extern const unsigned char kQuickStartLibrary[];
extern const std::size_t kQuickStartLibrary_size;

namespace {

constexpr double kCheckTimeoutSeconds = 30;
// The verdict when povray fails alone: off, and nothing to say.
constexpr const char* kPovrayFails = "\n";  // POV-Ray alone takes about 0.8 s
constexpr int kCheckWidth = 4, kCheckHeight = 2;
// Every pixel of this scene is pure red in any POV-Ray 3.7 build: a known image to compare.
constexpr const char* kCheckScene =
    "#version 3.7;\n"
    "global_settings { assumed_gamma 1 }\n"
    "background { rgb <1, 0, 0> }\n"
    "camera { location <0, 0, -1> look_at <0, 0, 0> }\n";

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

// The last line of `text` that mentions `needle`, or its last line.
std::string line_about(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  std::string line, last, match;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    last = line;
    if (line.find(needle) != std::string::npos) match = line;
  }
  return match.empty() ? last : match;
}

// Runs argv in `cwd` with `env`, for at most `timeout_s`; its stderr goes to `err`.
std::optional<ExitStatus> run_bounded(const std::vector<std::string>& argv,
                                      const std::filesystem::path& cwd,
                                      const std::vector<std::string>& env, double timeout_s,
                                      std::string& err) {
  auto process = Subprocess::spawn(argv, cwd, env);
  if (!process) {
    err = process.error().message();
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  char buffer[4096];
  while (process->stdout_fd() >= 0 || process->stderr_fd() >= 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      process->signal_group(SIGKILL);
      process->reap();
      err = fmt::format("it did not finish within {:.0f} s", timeout_s);
      return std::nullopt;
    }
    std::vector<pollfd> fds;
    for (int fd : {process->stdout_fd(), process->stderr_fd()}) {
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      const ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      if (n > 0 && p.fd == process->stderr_fd()) err.append(buffer, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        p.fd == process->stdout_fd() ? process->close_stdout() : process->close_stderr();
      }
    }
  }
  return process->reap();
}

// The check's TGA (+FT: uncompressed, 24-bit): empty when every pixel is red, else what is wrong.
std::string check_image(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string tga((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(tga[i]); };
  if (tga.size() < 18) return "povray wrote no image";
  const size_t id = byte(0);
  const int width = byte(12) | byte(13) << 8, height = byte(14) | byte(15) << 8;
  const size_t pixels = static_cast<size_t>(kCheckWidth) * kCheckHeight;
  if (byte(2) != 2 || byte(16) != 24 || width != kCheckWidth || height != kCheckHeight ||
      tga.size() < 18 + id + 3 * pixels) {
    return "povray wrote an image of an unexpected form";
  }
  for (size_t p = 0; p < pixels; ++p) {
    const size_t at = 18 + id + 3 * p;  // blue, green, red
    if (byte(at) != 0 || byte(at + 1) != 0 || byte(at + 2) != 255) {
      return "its pixels differ from POV-Ray's own";
    }
  }
  return {};
}

// Why the quick start cannot be used with `library` here, or empty when it can.
std::string check(const std::filesystem::path& povray, const std::filesystem::path& library,
                  const std::filesystem::path& dir) {
  const auto folder = dir / "quick-start-check";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return "cannot create " + folder.string() + ": " + ec.message();
  std::ofstream(folder / "check.pov") << kCheckScene;
  const auto proof = folder / "proof";
  std::string err;
  const std::vector<std::string> argv{
      povray.string(), "+Icheck.pov", "+W" + std::to_string(kCheckWidth),
      "+H" + std::to_string(kCheckHeight), "-D", "-A", "-UA", "+WT1", "+FT", "+Ocheck.tga"};
  const auto status = run_bounded(
      argv, folder,
      {preload_environment(library), "TASKDIST_QUICK_START_PROOF=" + proof.string(),
       "POV_TEMP_DIR=" + folder.string() + "/"},
      kCheckTimeoutSeconds, err);
  std::string why;
  if (!status) {
    why = "a test render with it failed: " + err;
  } else if (!status->ok()) {
    why = fmt::format("a test render with it failed ({}): {}",
                      status->exited ? fmt::format("exit code {}", status->code)
                                     : fmt::format("signal {}", status->signal),
                      line_about(err, "rror"));
    // A povray that fails without the preload too is not the preload's to report: its bands
    // fail with POV-Ray's own words.
    std::string alone_err;
    const auto alone = run_bounded(argv, folder, {}, kCheckTimeoutSeconds, alone_err);
    if (!alone || !alone->ok()) why = kPovrayFails;
  } else if (const std::string wrong = check_image(folder / "check.tga"); !wrong.empty()) {
    why = "in a test render with it, " + wrong;
  } else if (!std::filesystem::exists(proof)) {
    const std::string said = line_about(err, "preload");
    why = said.find("preload") != std::string::npos
              ? "povray did not load it: " + said
              : "povray did not load it or has none of the waits it shortens (a static binary, "
                "LD_PRELOAD ignored, or another POV-Ray build)";
  }
  std::filesystem::remove_all(folder, ec);
  return why;
}

}  // namespace

std::string preload_environment(const std::filesystem::path& library) {
  const char* set = std::getenv("LD_PRELOAD");
  return "LD_PRELOAD=" + library.string() +
         (set != nullptr && *set != '\0' ? std::string(":") + set : std::string());
}

std::string quick_start_off_line(const std::string& where, const std::string& why_off) {
  return fmt::format("quick start is off {}: {}; each band pays POV-Ray's full start-up "
                     "(about 0.7 s)", where, why_off);
}

QuickStart prepare_quick_start(const std::filesystem::path& povray,
                               const std::filesystem::path& dir) {
  static std::mutex mutex;
  static std::map<std::string, std::string> verdicts;  // why off, by povray and location
  const auto library = dir / "povray-quick-start.so";
  if (const std::string failed = write_library(library); !failed.empty()) return {{}, failed};
  const std::string key = povray.string() + '\n' + dir.parent_path().string();
  const std::lock_guard lock(mutex);
  auto it = verdicts.find(key);
  if (it == verdicts.end()) it = verdicts.emplace(key, check(povray, library, dir)).first;
  if (it->second == kPovrayFails) return {};
  if (!it->second.empty()) return {{}, it->second};
  return {library, {}};
}

}  // namespace taskdist
