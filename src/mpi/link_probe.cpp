#include "mpi/link_probe.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include "bench/calibration.h"
#include "bench/simulate.h"
#include "exec/temp_dir.h"
#include "mpi/mpi_bench.h"
#include "engine/exit_codes.h"
#include "report/bench_report.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWorker = 1;
constexpr double kAnswerSeconds = 30;

// Seconds from sending a message with `payload` bytes to rank 1 until its echo is back.
std::optional<double> round_trip(Channel& channel, int n, size_t payload) {
  const auto start = Clock::now();
  channel.send(kWorker, Tag::kEcho, {{"n", n}}, std::string(payload, 'x'));
  while (true) {
    auto echo = channel.await(Tag::kEcho, kWorker, kAnswerSeconds);
    if (!echo) return std::nullopt;
    if (echo->header.value("n", -1) == n) break;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The bands of a render's report as samples: each band's CPU (the process's own count) and
// what its rows cost to trace here (`row_costs`, of this image).
bool read_bands(const std::filesystem::path& report, int width, int height,
                const std::vector<double>& row_costs, std::vector<BandSample>& samples) {
  try {
    std::ifstream in(report);
    const auto j = nlohmann::json::parse(in);
    for (const auto& t : j.at("tasks")) {
      if (t.value("outcome", std::string()) != "ok") continue;
      const RowRange rows{t.at("first_row").get<int>(), t.at("last_row").get<int>() + 1};
      if (rows.end > static_cast<int>(row_costs.size())) return false;
      double here = 0;
      for (int r = rows.begin; r < rows.end; ++r) here += row_costs[static_cast<size_t>(r)];
      samples.push_back({width, height, rows, t.at("povray_cpu_s").get<double>(), here});
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A band's figures on the worker ranks, from small renders (static): 200x150 five times on one
// and three times on all of them (the master's first and second sequential parts under MPI and
// how they grow with the nodes; a povray process's own CPU on a node against here:
// node_process_factor), and 1600x1200 on all of them (the master's own CPU while they render).
bool measure_on_nodes(MpiBenchEngine& engine, const CalibrateRequest& request,
                      const std::filesystem::path& file, Calibration& cal) {
  auto scratch = TempDir::create_scratch("taskdist-calibrate-");
  if (!scratch) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", scratch.error());
    return false;
  }
  const int all = engine.max_nodes();
  struct Plan {
    int width, height, nodes;
  };
  const std::vector<Plan> plans = {{200, 150, 1}, {200, 150, all}, {200, 150, 1},
                                   {200, 150, all}, {200, 150, 1}, {200, 150, all},
                                   {200, 150, 1}, {200, 150, 1}, {1600, 1200, all}};
  std::vector<double> seq1_one, seq1_all, seq2, busy;
  std::vector<BandSample> samples;
  std::map<int, std::vector<double>> row_costs;  // by width
  for (const Plan& p : plans) {
    if (row_costs.contains(p.width)) continue;
    auto costs = traced_row_costs(request.scene, request.povray, p.width, p.height, file,
                                  cal.quick_start);
    if (!costs) {
      fmt::print(stderr, "taskdist simulate --calibrate: {}x{} here: {}\n", p.width, p.height,
                 costs.error());
      return false;
    }
    row_costs[p.width] = std::move(*costs);
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    const Plan& p = plans[i];
    BenchRun run;
    run.method = "taskdist";
    run.policy = "static";
    run.width = p.width;
    run.height = p.height;
    run.nodes = p.nodes;
    run.scene = request.scene;
    run.povray = request.povray;
    run.dir = scratch->path() / fmt::format("run{}", i);
    run.profile_dir = scratch->path() / "profiles";
    std::filesystem::create_directories(run.dir);
    fmt::print(stderr, "taskdist simulate --calibrate: {}x{} on {} node{}\n", p.width, p.height,
               p.nodes, p.nodes == 1 ? "" : "s");
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto started = Clock::now();
    const BenchSample s = engine.run(run);
    if (p.width == 1600 && p.nodes == all) {
      rusage after{};
      getrusage(RUSAGE_SELF, &after);
      busy.push_back((cpu_seconds(after) - cpu_seconds(before)) /
                     std::chrono::duration<double>(Clock::now() - started).count());
    }
    // A node's start-up from the small renders on one node: on all of them, hosts that share a
    // machine (tools/cluster) slow each other, which is not a node's own cost.
    std::vector<BandSample> bands;
    if (!s.ok || !read_bands(run.dir / "run.json", p.width, p.height, row_costs[p.width], bands)) {
      fmt::print(stderr, "taskdist simulate --calibrate: a render on {} nodes: {}\n", run.nodes,
                 s.ok ? "its report has no band figures" : s.error);
      return false;
    }
    if (p.width == 200 && p.nodes == 1) samples.insert(samples.end(), bands.begin(), bands.end());
    if (p.width == 200) {
      (p.nodes == 1 ? seq1_one : seq1_all).push_back(s.seq1_s);
      seq2.push_back(s.seq2_s);
    }
  }
  MasterCosts& m = cal.master;
  m.seq1_per_node_s =
      all > 1 ? std::max(0.0, (median(seq1_all) - median(seq1_one)) / (all - 1)) : 0;
  m.seq1_s = std::max(0.0, median(seq1_one) - m.seq1_per_node_s);
  m.seq2_s = median(seq2);
  m.busy_cores = median(busy);
  cal.node_process_factor = node_process_factor(samples, cal.quick_start);
  cal.nodes_measured = true;
  fmt::print("taskdist simulate --calibrate: the first sequential part of a 200x150 render under "
             "MPI: {:.3f} s on 1 node, {:.3f} s on {}; a povray process's own CPU on a node: "
             "{:.2f}x here\n",
             median(seq1_one), median(seq1_all), all, cal.node_process_factor);
  return true;
}

}  // namespace

int calibrate_cluster(const MpiSession& session, Channel& channel, const std::string& file,
                      const CalibrateRequest& request) {
  if (session.size() < 2) {
    fmt::print(stderr, "taskdist simulate --calibrate: one rank: no link to measure\n");
    return kExitOk;
  }
  const std::filesystem::path path =
      file.empty() ? default_calibration_file() : std::filesystem::path(file);
  auto cal = load_calibration(path);
  if (!cal) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", cal.error());
    return kExitRenderFailed;
  }
  auto engine = MpiBenchEngine::create(session, channel);
  if (!engine) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", engine.error());
    return kExitRenderFailed;
  }
  constexpr size_t kBig = 8u << 20;
  std::vector<double> small, big;
  for (int i = 0; i < 40; ++i) {
    auto t = round_trip(channel, i, 0);
    if (!t) {
      fmt::print(stderr, "taskdist simulate --calibrate: rank 1 did not answer an echo\n");
      return kExitRenderFailed;
    }
    if (i >= 5) small.push_back(*t);  // the first ones wake the worker from its idle naps
  }
  for (int i = 0; i < 6; ++i) {
    auto t = round_trip(channel, 100 + i, kBig);
    if (!t) {
      fmt::print(stderr, "taskdist simulate --calibrate: rank 1 did not answer an 8 MB echo\n");
      return kExitRenderFailed;
    }
    big.push_back(*t);
  }
  cal->master.latency_s = median(small) / 2;
  cal->master.bandwidth_bytes_s = kBig / std::max(1e-6, median(big) - median(small));
  cal->network = fmt::format("measured under MPI between {} (rank 0) and rank 1, through "
                             "taskdist's channel",
                             session.host());
  fmt::print("taskdist simulate --calibrate: the link to rank 1: {:.0f} us latency, {:.0f} MB/s\n",
             1e6 * cal->master.latency_s, cal->master.bandwidth_bytes_s / 1e6);
  if (!measure_on_nodes(**engine, request, path, *cal)) return kExitRenderFailed;
  if (auto saved = save_calibration(*cal, path); !saved) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", saved.error());
    return kExitRenderFailed;
  }
  fmt::print("taskdist simulate --calibrate: wrote {}\n", path.string());
  return kExitOk;
}

}  // namespace taskdist
