#include "mpi/link_probe.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <utility>
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

// CPU seconds this machine has been busy (all cores, /proc/stat), if it can be read.
std::optional<double> machine_busy_s() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return std::nullopt;
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) return std::nullopt;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(ticks);
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
      const double povray_wall = t.at("povray_wall_s").get<double>();
      const double waited = t.at("end_s").get<double>() - t.at("start_s").get<double>();
      samples.push_back({width, height, rows, t.at("povray_cpu_s").get<double>(), here,
                         waited - povray_wall, povray_wall});
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The host counts measured: 1, 2, 4 ... and all of them.
std::vector<int> host_counts(int all) {
  std::vector<int> counts;
  for (int k = 1; k < all; k *= 2) counts.push_back(k);
  counts.push_back(all);
  return counts;
}

// The slope and intercept of the least-squares line through (x, y).
std::pair<double, double> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double spread = n * sxx - sx * sx;
  const double slope = spread > 0 ? (n * sxy - sx * sy) / spread : 0;
  return {slope, (sy - slope * sx) / n};
}

// The image whose tracing on a node is measured against here (the calibration render's width).
constexpr int kTraceWidth = 1600;
constexpr int kTraceHeight = 1200;

// A band's figures on the worker ranks, from renders (static): 200x150 five times on 1, 2, 4 ...
// all of them, interleaved (a povray process's own CPU on a node against here, alone and with
// that many hosts starting at once: node_process_factor, shared_process_factors; a node's own
// time per band); 1600x1200 as one band on one node three times, between them (a node's tracing
// against here: node_trace_factor; what its povray gets of its slot's CPU: node_quota_share,
// and how much sooner than that a small band on one host ends: node_quota_head_s); 1600x1200
// on all of them (the cores the povrays do not get while they render); the master's first and
// second sequential parts, and the first's growth with the nodes, from all of them.
bool measure_on_nodes(MpiBenchEngine& engine, const CalibrateRequest& request,
                      const std::filesystem::path& file, Calibration& cal) {
  auto scratch = TempDir::create_scratch("taskdist-calibrate-");
  if (!scratch) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", scratch.error());
    return false;
  }
  const int all = engine.max_nodes();
  const std::vector<int> counts = host_counts(all);
  struct Plan {
    int width, height, nodes;
  };
  std::vector<Plan> plans;
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    for (int k : counts) plans.push_back({200, 150, k});
    if (round % 2 == 0) plans.push_back({kTraceWidth, kTraceHeight, 1});
  }
  plans.push_back({kTraceWidth, kTraceHeight, all});
  std::map<int, std::vector<double>> seq1_all;         // by nodes, every render
  std::map<int, std::vector<BandSample>> samples;      // by nodes
  std::map<int, std::vector<double>> row_costs;        // by width
  std::vector<double> seq2, busy, whole_cpu, lone_rates;
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
    fmt::print(stderr, "taskdist simulate --calibrate: {}/{}: {}x{} on {} node{}\n", i + 1,
               plans.size(), p.width, p.height, p.nodes, p.nodes == 1 ? "" : "s");
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto machine_before = machine_busy_s();
    const auto started = Clock::now();
    const BenchSample s = engine.run(run);
    const double wall = std::chrono::duration<double>(Clock::now() - started).count();
    const auto machine_after = machine_busy_s();
    std::vector<BandSample> bands;
    if (!s.ok || !read_bands(run.dir / "run.json", p.width, p.height, row_costs[p.width], bands)) {
      fmt::print(stderr, "taskdist simulate --calibrate: a render on {} nodes: {}\n", run.nodes,
                 s.ok ? "its report has no band figures" : s.error);
      return false;
    }
    if (p.width == kTraceWidth && p.nodes == all) {
      // The cores the nodes' povrays do not get on a machine they share with the rest
      // (--shared-cores): the master's own CPU, or, where this machine is theirs too
      // (tools/cluster), all of its CPU but theirs (the worker ranks, MPI's daemons).
      rusage after{};
      getrusage(RUSAGE_SELF, &after);
      double others = (cpu_seconds(after) - cpu_seconds(before)) / wall;
      if (machine_before && machine_after) {
        double povrays = 0;
        for (const BandSample& b : bands) povrays += b.cpu_s;
        others = std::max(others, (*machine_after - *machine_before - povrays) / wall);
      }
      busy.push_back(others);
    }
    seq1_all[p.nodes].push_back(s.seq1_s);
    if (p.width == kTraceWidth && p.nodes == 1) {
      for (const BandSample& b : bands) {
        whole_cpu.push_back(b.cpu_s);
        if (b.wall_s > 0) lone_rates.push_back(b.cpu_s / b.wall_s);
      }
    } else if (p.width == 200) {
      samples[p.nodes].insert(samples[p.nodes].end(), bands.begin(), bands.end());
      seq2.push_back(s.seq2_s);
    }
  }
  std::vector<double> nodes, seq1_medians;
  for (int k : counts) {
    nodes.push_back(k);
    seq1_medians.push_back(median(seq1_all[k]));
  }
  const auto [slope, intercept] = fit_line(nodes, seq1_medians);
  MasterCosts& m = cal.master;
  m.seq1_per_node_s = std::max(0.0, slope);
  m.seq1_s = std::max(0.0, slope >= 0 ? intercept : median(seq1_medians));
  m.seq2_s = median(seq2);
  m.busy_cores = median(busy);
  // A node's own start-up from the renders on one host; with more hosts starting at once on a
  // machine they share (tools/cluster), they slow each other: that is the table, used only for
  // simulations of hosts sharing a machine (--shared-cores).
  cal.node_process_factor = node_process_factor(samples[1], cal.quick_start);
  cal.shared_process_factors.clear();
  for (int k : counts) {
    cal.shared_process_factors.emplace_back(k, node_process_factor(samples[k], cal.quick_start));
  }
  // Tracing on a node: the whole image's CPU there less its start-up as the node pays it,
  // against the same rows as the calibration render priced them here.
  double here = 0;
  for (double row : row_costs[kTraceWidth]) here += row;
  BandOverhead on_node = cal.quick_start;
  on_node.process_cpu_s *= cal.node_process_factor;
  const double startup = on_node.startup_cpu_s(kTraceWidth, kTraceHeight);
  cal.node_trace_factor =
      whole_cpu.empty() || here <= 0 ? 1.0 : std::max(0.05, (median(whole_cpu) - startup) / here);
  // A node's own time per band: what the master waits beyond povray, less the link both ways.
  std::vector<double> outside;
  for (const auto& [k, bands] : samples) {
    for (const BandSample& b : bands) outside.push_back(b.outside_s);
  }
  cal.node_band_s = outside.empty() ? 0 : std::max(0.0, median(outside) - 2 * m.latency_s);
  // What a lone node's povray gets of its slot's CPU: its CPU over its wall in those renders.
  cal.node_slot_cpu = engine.first_slot_cpu();
  cal.node_quota_share =
      lone_rates.empty() ? 1.0 : std::clamp(median(lone_rates) / cal.node_slot_cpu, 0.05, 1.5);
  // A short band's head start on the quota: the small renders on one host end sooner than their
  // CPU at that share says (the start-up's sleep aside).
  std::vector<double> heads;
  for (const BandSample& b : samples[1]) {
    if (b.wall_s <= 0) continue;
    heads.push_back(b.cpu_s / (cal.node_slot_cpu * cal.node_quota_share) +
                    cal.quick_start.startup_wall_s - b.wall_s);
  }
  cal.node_quota_head_s = heads.empty() ? 0 : std::clamp(median(heads), 0.0, 0.5);
  cal.nodes_measured = true;
  std::string seq1_text, factors_text;
  for (size_t i = 0; i < counts.size(); ++i) {
    seq1_text += fmt::format("{}{:.3f} s on {}", i == 0 ? "" : ", ", seq1_medians[i], counts[i]);
    factors_text += fmt::format("{}{:.2f}x with {}", i == 0 ? "" : ", ",
                                cal.shared_process_factors[i].second, counts[i]);
  }
  fmt::print("taskdist simulate --calibrate: the first sequential part of a render under MPI "
             "(median of the renders above): {} (+{:.4f} s a node); the nodes' povrays do not "
             "get {:.2f} cores of this machine while they render; a povray process's own CPU on "
             "a node against here: {} host{} starting at once; its tracing: {:.2f}x ({}x{} on "
             "one node, {:.2f} CPU-s, median of {}, against {:.2f} here); alone, its povray "
             "gets {:.0f}% of its slot's CPU ({:.3f} of {:g} cores), and a 200x150 band ends "
             "{:.0f} ms sooner than that says (median of {}); {:.0f} ms a band of its own "
             "outside povray and the link\n",
             seq1_text, m.seq1_per_node_s, m.busy_cores, factors_text, all == 1 ? "" : "s",
             cal.node_trace_factor, kTraceWidth, kTraceHeight,
             whole_cpu.empty() ? 0.0 : median(whole_cpu), whole_cpu.size(), here,
             100 * cal.node_quota_share, cal.node_quota_share * cal.node_slot_cpu,
             cal.node_slot_cpu, 1e3 * cal.node_quota_head_s, heads.size(),
             1e3 * cal.node_band_s);
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
