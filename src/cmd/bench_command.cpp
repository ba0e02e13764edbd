#include "cmd/bench_command.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <list>
#include <sstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cmd/render_command.h"
#include "core/job.h"
#include "core/planner.h"
#include "exec/interrupt.h"
#include "exec/subprocess.h"
#include "exec/temp_dir.h"
#include "report/bench_report.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Runs command chains in parallel (each chain one command after the other, as one node of the
// paper's cluster renders then crops), draining their output. Returns the seconds until the
// last chain ended and the peak RSS of any command, or what failed.
struct ChainsResult {
  double seconds = 0;
  uint64_t max_rss_bytes = 0;
  std::string error;
};

ChainsResult run_chains(const std::vector<std::vector<std::vector<std::string>>>& chains,
                        const fs::path& cwd) {
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
      result.error = p.error();
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
  result.seconds = since(start);
  return result;
}

// The paper's method on `nodes` local processes: one equal band each, povray writes its
// full-height PNG, `convert -extract` keeps the band, and the master appends the bands.
BenchSample run_paper(const BenchRequest& req, const fs::path& scene, int w, int h, int nodes,
                      const fs::path& dir) {
  BenchSample s;
  s.method = "paper";
  s.policy = "-";
  s.width = w;
  s.height = h;
  s.nodes = nodes;
  const auto start = Clock::now();
  const auto bands = static_plan(h, nodes, 1);
  std::vector<std::vector<std::vector<std::string>>> chains;
  std::vector<std::string> parts;
  for (size_t i = 0; i < bands.size(); ++i) {
    const auto full = (dir / fmt::format("full{}.png", i)).string();
    const auto part = (dir / fmt::format("part{}.png", i)).string();
    parts.push_back(part);
    chains.push_back(
        {{req.povray, "+I" + scene.string(), "+L" + scene.parent_path().string(),
          fmt::format("+W{}", w), fmt::format("+H{}", h),
          fmt::format("+SR{}", bands[i].begin + 1),
          bands[i].end == 1 ? std::string("+ER1.5") : fmt::format("+ER{}", bands[i].end),
          "+WT1", "-D", "+FN", "+O" + full},
         {req.convert, full, "-extract",
          fmt::format("{}x{}+0+{}", w, bands[i].count(), bands[i].begin), part}});
  }
  s.seq1_s = since(start);
  auto par = run_chains(chains, dir);
  if (!par.error.empty()) {
    s.error = par.error;
    return s;
  }
  s.parallel_s = par.seconds;
  const auto out = (dir / "paper.png").string();
  std::vector<std::string> append = {req.convert};
  append.insert(append.end(), parts.begin(), parts.end());
  append.insert(append.end(), {"-append", out});
  auto tail = run_chains({{append}}, dir);
  if (!tail.error.empty()) {
    s.error = "convert -append: " + tail.error;
    return s;
  }
  s.seq2_s = tail.seconds;
  s.total_s = since(start);
  s.master_peak_rss_bytes = tail.max_rss_bytes;
  s.ok = true;
  return s;
}

// taskdist itself, as a user runs it, with its own report for the phases.
BenchSample run_taskdist(const BenchRequest& req, const fs::path& scene, int w, int h, int nodes,
                         const std::string& policy, const fs::path& dir) {
  BenchSample s;
  s.method = "taskdist";
  s.policy = policy;
  s.width = w;
  s.height = h;
  s.nodes = nodes;
  const auto report = dir / "run.json";
  auto r = run_chains({{{fs::read_symlink("/proc/self/exe").string(), "render", scene.string(),
                         fmt::format("+W{}", w), fmt::format("+H{}", h), "-o",
                         (dir / "taskdist.png").string(), "-j", std::to_string(nodes),
                         "--policy", policy, "--quiet", "--report", report.string(),
                         "--povray", req.povray}}},
                      dir);
  if (!r.error.empty()) {
    s.error = r.error;
    return s;
  }
  try {
    std::ifstream in(report);
    const auto j = nlohmann::json::parse(in);
    s.seq1_s = j.at("seq1_s").get<double>();
    s.parallel_s = j.at("parallel_s").get<double>();
    s.seq2_s = j.at("seq2_s").get<double>();
    s.total_s = j.at("total_s").get<double>();
    s.master_peak_rss_bytes = j.at("master_peak_rss_bytes").get<uint64_t>();
    s.ok = true;
  } catch (const std::exception& e) {
    s.error = std::string("bad report: ") + e.what();
  }
  return s;
}

}  // namespace

std::optional<std::pair<int, int>> parse_size(std::string_view text) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream in{std::string(text)};
  if (!(in >> w >> x >> h) || x != 'x' || w < 1 || h < 1 || w > 65535 || h > 65535 ||
      in.peek() != std::char_traits<char>::eof()) {
    return std::nullopt;
  }
  return std::pair{w, h};
}

int run_bench(const BenchRequest& request) {
  InterruptSignal::install();
  BenchRequest req = request;
  // Child processes start from a path: resolve the tools once, and say which one is missing.
  for (auto [tool, what] : {std::pair{&req.povray, "povray (install povray)"},
                            std::pair{&req.convert, "convert (install imagemagick)"}}) {
    const bool needed = tool == &req.povray ||
                        std::ranges::find(req.methods, "paper") != req.methods.end();
    if (!needed) continue;
    auto found = find_executable(*tool);
    if (!found) {
      fmt::print(stderr, "taskdist bench: cannot find {}: '{}'\n", what, *tool);
      return kExitUsage;
    }
    *tool = found->string();
  }
  fs::path scene = req.scene.empty()
                       ? fs::path("/usr/share/doc/povray/examples/objects/blob.pov")
                       : fs::absolute(req.scene);
  if (!fs::exists(scene)) {
    fmt::print(stderr, "taskdist bench: scene '{}' not found{}\n", scene.string(),
               req.scene.empty() ? " (install povray-examples, or give --scene)" : "");
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(req.out, ec);
  if (ec) {
    fmt::print(stderr, "taskdist bench: cannot create '{}': {}\n", req.out.string(), ec.message());
    return kExitUsage;
  }
  auto work = TempDir::create(TempDir::default_parent(), "taskdist-bench-");
  if (!work) {
    fmt::print(stderr, "taskdist bench: {}\n", work.error());
    return kExitRenderFailed;
  }
  // Every combination once per round, rounds repeated: noise hits all combinations alike.
  struct Combo {
    std::string method, policy;
    int w, h, nodes;
  };
  std::vector<Combo> combos;
  for (const auto& [w, h] : req.sizes) {
    for (int n : req.nodes) {
      for (const auto& m : req.methods) {
        if (m == "paper") {
          combos.push_back({m, "-", w, h, n});
          continue;
        }
        for (const auto& p : req.policies) combos.push_back({m, p, w, h, n});
      }
    }
  }
  std::vector<BenchSample> samples;
  const int total_runs = static_cast<int>(combos.size()) * req.repeat;
  const auto start = Clock::now();
  int done = 0;
  for (int round = 1; round <= req.repeat; ++round) {
    for (const auto& c : combos) {
      if (InterruptSignal::received() != 0) {
        fmt::print(stderr, "taskdist bench: interrupted; nothing written\n");
        return kExitInterrupted;
      }
      const auto dir = work->path() / fmt::format("run{}", done);
      fs::create_directories(dir);
      BenchSample s = c.method == "paper"
                          ? run_paper(req, scene, c.w, c.h, c.nodes, dir)
                          : run_taskdist(req, scene, c.w, c.h, c.nodes, c.policy, dir);
      fs::remove_all(dir, ec);
      ++done;
      const double elapsed = since(start);
      fmt::print(stderr, "taskdist bench: {}/{} round {}/{}: {} {} {}x{} on {} node{}: {}  "
                 "(elapsed {:.0f} s, ETA {:.0f} s)\n",
                 done, total_runs, round, req.repeat, c.method, c.policy, c.w, c.h, c.nodes,
                 c.nodes == 1 ? "" : "s",
                 s.ok ? fmt::format("{:.2f} s", s.total_s) : "FAILED: " + s.error, elapsed,
                 elapsed / done * (total_runs - done));
      samples.push_back(std::move(s));
    }
  }
  const auto rows = aggregate(samples);
  const fs::path paper_csv = fs::path(TASKDIST_SOURCE_DIR) / "bench/anchors/paper_table2.csv";
  for (auto err : {write_csv(rows, req.out / "results.csv"),
                   write_plots(rows, req.out, paper_csv),
                   write_report(rows, req.out, req.command_line)}) {
    if (err) {
      fmt::print(stderr, "taskdist bench: {}\n", *err);
      return kExitRenderFailed;
    }
  }
  fmt::print("taskdist bench: wrote {}/results.csv, report.md and 4 figures\n", req.out.string());
  return kExitOk;
}

}  // namespace taskdist
