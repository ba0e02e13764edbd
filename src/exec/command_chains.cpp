#include "exec/command_chains.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <list>
#include <optional>

#include "core/elapsed.h"
#include "exec/interrupt.h"
#include "exec/subprocess.h"

namespace taskdist {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

ChainsResult run_chains(const std::vector<CommandChain>& chains, const fs::path& cwd) {
  struct Running {
    size_t chain = 0, step = 0;
    std::optional<Subprocess> process;
    std::string tail;
  };
  const auto start = Clock::now();
  ChainsResult result;
  std::list<Running> running;
  auto launch = [&](size_t chain, size_t step) -> bool {
    auto p = Subprocess::spawn(chains[chain][step], cwd);
    if (!p) {
      result.error = p.error().message();
      return false;
    }
    running.push_back({chain, step, std::move(*p), {}});
    return true;
  };
  for (size_t c = 0; c < chains.size(); ++c) {
    if (!launch(c, 0)) return result;
  }
  std::vector<char> buf(65536);
  while (!running.empty()) {
    if (InterruptSignal::received() != 0) {
      result.error = "interrupted";
      return result;  // Subprocess destructors kill and reap what is left
    }
    std::vector<pollfd> fds;
    std::vector<Running*> owner;
    for (Running& r : running) {
      for (int fd : {r.process->stdout_fd(), r.process->stderr_fd()}) {
        if (fd >= 0) {
          fds.push_back({fd, POLLIN, 0});
          owner.push_back(&r);
        }
      }
    }
    if (InterruptSignal::fd() >= 0) fds.push_back({InterruptSignal::fd(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 200);
    for (size_t k = 0; k < owner.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Running& r = *owner[k];
      const ssize_t n = ::read(fds[k].fd, buf.data(), buf.size());
      if (n > 0) {
        if (fds[k].fd == r.process->stderr_fd()) {
          r.tail.append(buf.data(), static_cast<size_t>(n));
          if (r.tail.size() > 2000) r.tail.erase(0, r.tail.size() - 2000);
        }
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[k].fd == r.process->stdout_fd() ? r.process->close_stdout()
                                            : r.process->close_stderr();
      }
    }
    for (auto it = running.begin(); it != running.end();) {
      Running& r = *it;
      if (r.process->stdout_fd() >= 0 || r.process->stderr_fd() >= 0) {
        ++it;
        continue;
      }
      const ExitStatus st = r.process->reap();
      result.max_rss_bytes = std::max(result.max_rss_bytes, st.max_rss_bytes);
      if (!st.ok()) {
        std::string tail = r.tail.substr(r.tail.find_last_of('\n', r.tail.size() - 2) + 1);
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
        result.error = fmt::format("{} exited with {}: {}",
                                   fs::path(chains[r.chain][r.step][0]).filename().string(),
                                   st.exited ? st.code : 128 + st.signal, tail);
        return result;
      }
      const size_t chain = r.chain, next = r.step + 1;
      it = running.erase(it);
      if (next < chains[chain].size() && !launch(chain, next)) return result;
    }
  }
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace taskdist
