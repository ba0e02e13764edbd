// Child processes, the careful way: argv (never a shell string), its own process group, stdin
// from /dev/null, stdout and stderr on non-blocking close-on-exec pipes, reaped with rusage.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace taskdist {

struct ExitStatus {
  bool exited = false;  ///< true: `code` is the exit code; false: killed by `signal`
  int code = 0;
  int signal = 0;
  double cpu_s = 0;     ///< user + system CPU seconds of the child
  uint64_t max_rss_bytes = 0;  ///< peak resident memory of the child
  bool ok() const { return exited && code == 0; }
};

/// One running child. Owns its pipe ends; the destructor kills (SIGKILL) and reaps the whole
/// process group if the child was not reaped yet, so no child outlives its owner.
class Subprocess {
 public:
  /// Starts argv[0] (a path) with `argv` in `cwd`, with this process's environment plus `env`
  /// ("NAME=value" entries, replacing variables of the same name). The error names the program
  /// and the reason.
  static std::expected<Subprocess, Error> spawn(const std::vector<std::string>& argv,
                                                      const std::filesystem::path& cwd,
                                                      const std::vector<std::string>& env = {});
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_fd_; }
  int stderr_fd() const { return err_fd_; }
  void close_stdout();
  void close_stderr();

  /// Sends `sig` to the child's whole process group.
  void signal_group(int sig) const;
  /// Reaps the child if it has exited; nullopt if it is still running.
  std::optional<ExitStatus> try_reap();
  /// Waits for the child to exit.
  ExitStatus reap();
  bool reaped() const { return reaped_; }

 private:
  Subprocess() = default;
  std::optional<ExitStatus> reap_with(int flags);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
};

/// Sends SIGTERM to each group, waits up to `grace_s` for them to exit, then SIGKILLs the rest;
/// reaps all of them.
void stop_processes(const std::vector<Subprocess*>& processes, double grace_s);

}  // namespace taskdist
