#include "exec/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

namespace taskdist {
namespace {

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::expected<Subprocess, Error> Subprocess::spawn(const std::vector<std::string>& argv,
                                                         const std::filesystem::path& cwd,
                                                         const std::vector<std::string>& env) {
  int out[2], err[2], status_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    return std::unexpected(std::string("cannot create pipes: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The child's environment, built before fork (the child may only make async-signal-safe calls).
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view var(*e);
    const auto name = var.substr(0, var.find('=') + 1);
    const bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& o) {
      return std::string_view(o).starts_with(name);
    });
    if (!replaced) envp.push_back(*e);
  }
  envp.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return std::unexpected(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    // If taskdist dies outright (SIGKILL), its renderers go with it instead of running on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0 ||
        ::chdir(cwd.c_str()) != 0) {
      const int e = errno;
      (void)!::write(status_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execve(args[0], args.data(), envp.data());
    const int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we ever signal it
  ::close(out[1]);
  ::close(err[1]);
  ::close(status_pipe[1]);
  int child_errno = 0;
  const ssize_t n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  ::close(status_pipe[0]);
  Subprocess p;
  p.pid_ = pid;
  p.out_fd_ = out[0];
  p.err_fd_ = err[0];
  if (n == sizeof child_errno) {
    p.reap();
    return std::unexpected("cannot start '" + argv[0] + "': " + std::strerror(child_errno));
  }
  ::fcntl(p.out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(p.err_fd_, F_SETFL, O_NONBLOCK);
  return p;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(other.pid_), out_fd_(other.out_fd_), err_fd_(other.err_fd_), reaped_(other.reaped_) {
  other.pid_ = -1;
  other.out_fd_ = -1;
  other.err_fd_ = -1;
  other.reaped_ = true;
}

Subprocess::~Subprocess() {
  close_stdout();
  close_stderr();
  if (pid_ > 0 && !reaped_) {
    signal_group(SIGKILL);
    reap();
  }
}

void Subprocess::close_stdout() { close_fd(out_fd_); }
void Subprocess::close_stderr() { close_fd(err_fd_); }

void Subprocess::signal_group(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

std::optional<ExitStatus> Subprocess::reap_with(int flags) {
  if (reaped_) return std::nullopt;
  int status = 0;
  rusage usage{};
  pid_t r;
  do {
    r = ::wait4(pid_, &status, flags, &usage);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return std::nullopt;
  reaped_ = true;
  // Anything the child left in its group (it should leave nothing) goes with it.
  ::kill(-pid_, SIGKILL);
  ExitStatus s;
  s.exited = WIFEXITED(status);
  s.code = s.exited ? WEXITSTATUS(status) : 0;
  s.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  s.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  s.max_rss_bytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  return s;
}

std::optional<ExitStatus> Subprocess::try_reap() { return reap_with(WNOHANG); }

ExitStatus Subprocess::reap() {
  auto s = reap_with(0);
  return s ? *s : ExitStatus{};
}

void stop_processes(const std::vector<Subprocess*>& processes, double grace_s) {
  for (auto* p : processes) p->signal_group(SIGTERM);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  bool all_gone = false;
  while (!all_gone && std::chrono::steady_clock::now() < deadline) {
    all_gone = true;
    for (auto* p : processes) {
      if (!p->reaped() && !p->try_reap()) all_gone = false;
    }
    if (!all_gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto* p : processes) {
    if (!p->reaped()) {
      p->signal_group(SIGKILL);
      p->reap();
    }
  }
}

}  // namespace taskdist
