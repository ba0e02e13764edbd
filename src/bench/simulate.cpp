#include "bench/simulate.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include "bench/calibration.h"
#include "bench/study.h"
#include "core/job.h"
#include "core/simulator.h"
#include "engine/cost_learning.h"
#include "engine/exit_codes.h"
#include "engine/local_runner.h"
#include "exec/temp_dir.h"
#include "render/povray_renderer.h"
#include "store/journal.h"
#include "store/profile_store.h"

namespace taskdist {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// One field of a CSV line (quotes removed); `at` moves past it and its comma.
std::string csv_field(const std::string& line, size_t& at) {
  std::string out;
  if (at < line.size() && line[at] == '"') {
    const size_t end = line.find('"', at + 1);
    out = line.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    at = end == std::string::npos ? line.size() : end + 1;
  } else {
    const size_t end = line.find(',', at);
    out = line.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? line.size() : end;
  }
  if (at < line.size() && line[at] == ',') ++at;
  return out;
}

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < line.size()) fields.push_back(csv_field(line, at));
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

// What a size's simulations need: the job as a render would build it, and its rows' costs.
struct SizeModel {
  Job job;
  std::vector<double> row_costs;
  std::string source;  // where row_costs came from
};

// Where simulate keeps the profiles of its calibration renders: apart from the renders' own,
// beside the calibration file whose start-up they were priced with, and made again after it is
// (--calibrate removes them).
fs::path simulation_profiles(const fs::path& calibration) {
  return calibration.parent_path() / "simulate-profiles";
}

// Calibration renders are this wide, whatever size is simulated: POV-Ray counts a band's tracing
// in milliseconds (and at 400x300 reported none for some bands), so a smaller image's figures
// would be mostly rounding; a scene's cost per pixel barely moves with the size (blob.pov:
// 0.71 us at 1600x1200, 0.74 at 3200x2400, in 8 bands each).
constexpr int kCalibrationWidth = 1600;

// A calibration render: the scene at `width` on this machine, one band at a time (two at once
// slow each other down), through the real LocalRunner, priced by each band's CPU (the process's
// own count: POV-Ray's trace figure is missing when its statistics come after the band is read
// and the process stopped) less its start-up (`band`: the process and its image buffer, as
// --calibrate measured them). What the rows cost in all comes from the whole image as one band,
// three times (the median: this machine's speed moves by a fifth from one minute to the next,
// and a start-up priced wrong weighs little against a whole image's tracing); how that cost is
// spread over the rows from the image in 8 bands, twice (the mean of each band: a band's
// tracing is barely more than its start-up). The result becomes a run of the scene's simulation
// profile, kept for the simulations to come: what its rows cost, their output included.
struct CalibrationRun {
  std::vector<CostSample> samples;
  int width = 0, height = 0;
};

constexpr int kCalibrationBands = 8;
constexpr int kWholeImageRenders = 3;
constexpr int kBandedRenders = 2;

std::expected<CalibrationRun, Error> calibration_render(const Job& at_size, int width,
                                                        const BandOverhead& band,
                                                        const fs::path& dir) {
  const int height =
      std::max(16, static_cast<int>(std::lround(1.0 * width * at_size.height / at_size.width)));
  Job job = at_size;
  job.width = width;
  job.height = height;
  job.slots = 1;
  RenderSettings settings = render_settings_for(job);
  settings.max_image_buffer_mb = 0;
  enable_quick_start(settings, dir);
  LocalRunner runner(settings, dir);
  TaskId id = 1;
  auto traced = [&](RowRange rows) -> std::expected<double, Error> {
    auto done = render_band(runner, rows, id++);
    if (!done) return fail("the calibration render: " + done.error().message());
    return std::max(0.0, done->timing.cpu_s - band.startup_cpu_s(width, height));
  };
  std::vector<double> wholes;
  for (int i = 0; i < kWholeImageRenders; ++i) {
    auto whole = traced({0, height});
    if (!whole) return std::unexpected(whole.error());
    wholes.push_back(*whole);
  }
  const std::vector<RowRange> bands = static_plan(height, kCalibrationBands, job.row_grain());
  std::vector<double> spread(bands.size(), 0);
  for (int i = 0; i < kBandedRenders; ++i) {
    for (size_t b = 0; b < bands.size(); ++b) {
      auto cpu = traced(bands[b]);
      if (!cpu) return std::unexpected(cpu.error());
      spread[b] += *cpu / kBandedRenders;
    }
  }
  // A band whose start-up was over-priced keeps a little of the whole, not nothing.
  double spread_sum = 0;
  for (double& b : spread) spread_sum += (b = std::max(b, 1e-3));
  const double scale = median(wholes) / spread_sum;
  std::vector<CostSample> samples;
  for (size_t b = 0; b < bands.size(); ++b) {
    samples.push_back({static_cast<double>(bands[b].begin) / height,
                       static_cast<double>(bands[b].end) / height,
                       spread[b] * scale / (static_cast<double>(bands[b].count()) * width)});
  }
  return CalibrationRun{std::move(samples), width, height};
}

// What each row of `job`'s image costs to trace on this machine, and where that came from: the
// scene's simulation profile beside `calibration`, made by a calibration render if it has none.
std::expected<std::pair<std::vector<double>, std::string>, Error> traced_costs(
    const Job& job, const fs::path& calibration, const BandOverhead& band, const fs::path& dir) {
  Job own = job;
  own.profile_dir = simulation_profiles(calibration);
  LearntCosts costs = recall_costs(own, scene_file_hashes(own));
  if (costs.profile.empty()) {
    const int at = kCalibrationWidth;
    fmt::print(stderr,
               "taskdist simulate: the scene has no simulation profile yet: calibration renders "
               "({} wide: the whole image {} times, in {} bands {} times) measure its rows\n",
               at, kWholeImageRenders, kCalibrationBands, kBandedRenders);
    auto run = calibration_render(job, at, band, dir);
    if (!run) return std::unexpected(run.error());
    costs.profile.add_run(std::move(run->samples), run->width, run->height);
    if (!costs.key.empty()) {
      if (auto saved = ProfileStore(own.profile_dir).save(costs.key, costs.profile); !saved) {
        fmt::print(stderr, "taskdist simulate: warning: {}\n", saved.error());
      }
    }
  }
  return std::pair{costs.profile.row_costs(job.width, job.height),
                   fmt::format("a calibration render's CPU less its start-up ({})",
                               costs.file.string())};
}

// `request`'s scene and options at width x height, as a render would build the job (its output
// and job folder in `dir`, never written).
std::expected<Job, Error> job_at(JobRequest request, int width, int height, const fs::path& dir) {
  request.pov_args.push_back(fmt::format("+W{}", width));
  request.pov_args.push_back(fmt::format("+H{}", height));
  request.output = (dir / "simulate.png").string();
  request.job_dir = (dir / "job").string();
  request.slots = 1;
  return build_job(request);
}

std::expected<SizeModel, Error> size_model(const SimulateRequest& req, const fs::path& scene,
                                           int width, int height, const fs::path& calibration,
                                           const Calibration& cal, const fs::path& dir) {
  JobRequest jr;
  jr.scene = scene.string();
  jr.pov_args = req.pov_options;
  jr.povray = req.povray;
  jr.profile_dir = req.profile_dir.string();
  jr.quick_start = req.quick_start;
  auto job = job_at(jr, width, height, dir);
  if (!job) return std::unexpected(job.error());
  SizeModel m{*job, {}, {}};
  if (!req.profile_dir.empty()) {
    LearntCosts costs = recall_costs(m.job, scene_file_hashes(m.job));
    if (costs.row_costs.empty()) {
      return fail(fmt::format("no cost profile of the scene in {} (--profile-dir)",
                              req.profile_dir.string()));
    }
    m.row_costs = std::move(costs.row_costs);
    m.source = fmt::format("the renders' cost profile {} ({} runs at this size, {} in all)",
                           costs.file.string(), costs.profile.runs(width, height),
                           costs.profile.runs());
    return m;
  }
  auto traced = traced_costs(m.job, calibration, cal.quick_start, dir);
  if (!traced) return std::unexpected(traced.error());
  m.row_costs = std::move(traced->first);
  m.source = std::move(traced->second);
  // Priced here; a node traces in node_trace_factor times that CPU (measured under mpirun).
  if (cal.nodes_measured) {
    for (double& row : m.row_costs) row *= cal.node_trace_factor;
    m.source += fmt::format(", x{:.2f} on a node", cal.node_trace_factor);
  }
  return m;
}

struct Point {
  BenchSample sample;
  std::string bottleneck;
};

Point simulate_point(const SimulateRequest& req, const SizeModel& m, const std::string& policy,
                     int nodes, const Calibration& cal) {
  SchedulerConfig config;
  config.rows = m.job.height;
  config.width = m.job.width;
  config.policy = policy == "static" ? Policy::kStatic : Policy::kDynamic;
  config.grain = m.job.row_grain();
  config.block = m.job.block_size;
  config.row_costs = m.row_costs;
  config.band_startup_s = req.quick_start ? kQuickStartupWallS : kPovrayStartupWallS;
  SimCluster cluster;
  cluster.nodes = nodes;
  cluster.slots_per_node = req.slots_per_node;
  cluster.cpu_per_slot = req.node_cpu > 0 ? req.node_cpu / req.slots_per_node : 1.0;
  cluster.core_speed = req.node_speed;
  cluster.shared_cores = req.shared_cores;
  cluster.busy_cpu_factor = cal.busy_cpu_factor;
  cluster.band_s = cal.node_band_s;
  cluster.quota_share = cal.node_quota_share;
  cluster.quota_head_s = cal.node_quota_head_s;
  BandOverhead band = req.quick_start ? cal.quick_start : cal.plain;
  band.process_cpu_s *= cal.process_factor_for(nodes, req.shared_cores > 0);
  const SimResult r = simulate_render(config, cluster, m.row_costs, band, cal.master);
  Point p;
  p.sample.method = "simulate";
  p.sample.policy = policy;
  p.sample.width = m.job.width;
  p.sample.height = m.job.height;
  p.sample.nodes = nodes;
  p.sample.ok = !r.aborted;
  if (r.aborted) p.sample.error = "the scheduler gave up";
  p.sample.seq1_s = r.seq1_s;
  p.sample.parallel_s = r.parallel_s;
  p.sample.seq2_s = r.seq2_s;
  p.sample.total_s = r.total_s;
  p.bottleneck = bottleneck(r, cluster, cal.master);
  return p;
}

// The predictions of one point with several calibrations: their phases' mean.
BenchSample mean_of(const std::vector<Point>& points) {
  BenchSample s = points.front().sample;
  s.seq1_s = s.parallel_s = s.seq2_s = s.total_s = 0;
  for (const Point& p : points) {
    s.ok = s.ok && p.sample.ok;
    s.seq1_s += p.sample.seq1_s / static_cast<double>(points.size());
    s.parallel_s += p.sample.parallel_s / static_cast<double>(points.size());
    s.seq2_s += p.sample.seq2_s / static_cast<double>(points.size());
    s.total_s += p.sample.total_s / static_cast<double>(points.size());
  }
  return s;
}

std::string key_of(const std::string& policy, int width, int height, int nodes) {
  return fmt::format("{} {}x{} {}", policy, width, height, nodes);
}

std::string key_of(const BenchRow& r) { return key_of(r.policy, r.width, r.height, r.nodes); }

std::string describe_nodes(const SimulateRequest& req) {
  std::string cpu = req.node_cpu > 0 ? fmt::format("{:g} CPU", req.node_cpu) : "a core a slot";
  const std::string speed = fmt::format("cores {:g}x as fast as this machine's", req.node_speed);
  return fmt::format("nodes of {} slot{} ({}), {}{}",
                     req.slots_per_node, req.slots_per_node == 1 ? "" : "s", cpu, speed,
                     req.shared_cores > 0
                         ? fmt::format(", all on one machine of {:g} cores", req.shared_cores)
                         : "");
}

}  // namespace

std::expected<std::vector<BenchRow>, Error> read_results_csv(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return fail(file.string(), "cannot read it (a `taskdist bench` results.csv)");
  std::string line;
  std::getline(in, line);
  const auto header = csv_fields(line);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const char* needed : {"method", "policy", "width", "height", "nodes", "ok_runs",
                             "seq1_median_s", "parallel_median_s", "seq2_median_s",
                             "total_median_s", "speedup", "efficiency"}) {
    if (!col.contains(needed)) {
      return fail(fmt::format("{}:1", file.string()),
                  fmt::format("no column '{}': not a `taskdist bench` results.csv", needed));
    }
  }
  std::vector<BenchRow> rows;
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const auto f = csv_fields(line);
    if (f.size() < header.size()) {
      return fail(fmt::format("{}:{}", file.string(), number),
                  fmt::format("{} fields where the header has {}", f.size(), header.size()));
    }
    try {
      BenchRow r;
      r.method = f[col["method"]];
      r.policy = f[col["policy"]];
      r.width = std::stoi(f[col["width"]]);
      r.height = std::stoi(f[col["height"]]);
      r.nodes = std::stoi(f[col["nodes"]]);
      r.ok_runs = std::stoi(f[col["ok_runs"]]);
      r.runs = r.ok_runs;
      r.status = "ok";
      r.seq1.median = std::stod(f[col["seq1_median_s"]]);
      r.parallel.median = std::stod(f[col["parallel_median_s"]]);
      r.seq2.median = std::stod(f[col["seq2_median_s"]]);
      r.total.median = std::stod(f[col["total_median_s"]]);
      r.speedup = std::stod(f[col["speedup"]]);
      r.efficiency = std::stod(f[col["efficiency"]]);
      rows.push_back(r);
    } catch (const std::exception&) {
      return fail(fmt::format("{}:{}", file.string(), number), "a number that does not read");
    }
  }
  if (rows.empty()) return fail(file.string(), "it has no results");
  return rows;
}

std::vector<BenchRow> merge_rounds(const std::vector<std::vector<BenchRow>>& rounds) {
  std::vector<BenchRow> merged;
  std::map<std::string, std::vector<const BenchRow*>> by_key;
  for (const auto& round : rounds) {
    for (const BenchRow& r : round) {
      auto& rows = by_key[r.method + " " + key_of(r)];
      if (rows.empty()) merged.push_back(r);
      rows.push_back(&r);
    }
  }
  for (BenchRow& m : merged) {
    const auto& rows = by_key[m.method + " " + key_of(m)];
    std::vector<double> seq1, parallel, seq2, total;
    m.ok_runs = 0;
    for (const BenchRow* r : rows) {
      m.ok_runs += r->ok_runs;
      if (r->ok_runs == 0) continue;
      seq1.push_back(r->seq1.median);
      parallel.push_back(r->parallel.median);
      seq2.push_back(r->seq2.median);
      total.push_back(r->total.median);
    }
    m.runs = m.ok_runs;
    if (total.empty()) continue;
    m.seq1.median = median(seq1);
    m.parallel.median = median(parallel);
    m.seq2.median = median(seq2);
    m.total.median = median(total);
  }
  return merged;
}

PredictionError prediction_error(const std::vector<BenchRow>& measured,
                                 const std::vector<BenchRow>& predicted) {
  std::map<std::string, const BenchRow*> by_key;
  for (const BenchRow& p : predicted) by_key[key_of(p)] = &p;
  PredictionError e;
  double sum = 0;
  for (const BenchRow& m : measured) {
    const auto it = by_key.find(key_of(m));
    if (m.method != "taskdist" || m.ok_runs == 0 || it == by_key.end() || m.total.median <= 0) {
      continue;
    }
    const double err = std::abs(it->second->total.median - m.total.median) / m.total.median;
    sum += err;
    e.worst = std::max(e.worst, err);
    ++e.points;
  }
  if (e.points > 0) e.mean = sum / e.points;
  return e;
}

int run_simulate(const SimulateRequest& request) {
  SimulateRequest req = request;
  if (req.calibrations.empty()) req.calibrations.push_back(default_calibration_file());
  std::vector<Calibration> cals;
  for (const fs::path& file : req.calibrations) {
    auto cal = load_calibration(file);
    if (!cal) {
      fmt::print(stderr, "taskdist simulate: {}\n", cal.error());
      return kExitUsage;
    }
    cals.push_back(std::move(*cal));
  }
  std::vector<BenchRow> measured;
  std::string against;  // the files, for the output
  if (!req.against.empty()) {
    std::vector<std::vector<BenchRow>> rounds;
    for (const fs::path& file : req.against) {
      auto rows = read_results_csv(file);
      if (!rows) {
        fmt::print(stderr, "taskdist simulate: --against: {}\n", rows.error());
        return kExitUsage;
      }
      rounds.push_back(std::move(*rows));
      against += (against.empty() ? "" : ", ") + file.string();
    }
    for (const BenchRow& r : merge_rounds(rounds)) {
      if (r.method != "taskdist" || r.ok_runs == 0) continue;
      measured.push_back(r);
      const std::pair size{r.width, r.height};
      if (std::ranges::find(req.sizes, size) == req.sizes.end()) req.sizes.push_back(size);
      if (std::ranges::find(req.nodes, r.nodes) == req.nodes.end()) req.nodes.push_back(r.nodes);
      if (std::ranges::find(req.policies, r.policy) == req.policies.end()) {
        req.policies.push_back(r.policy);
      }
    }
    if (measured.empty()) {
      fmt::print(stderr, "taskdist simulate: --against {}: no taskdist run in it\n", against);
      return kExitUsage;
    }
    std::ranges::sort(req.nodes);
  }
  if (req.sizes.empty() || req.nodes.empty()) {
    fmt::print(stderr, "taskdist simulate: give the image size (+W and +H, or --sizes) and "
                       "--nodes (or --against a bench's results.csv)\n");
    return kExitUsage;
  }
  if (req.policies.empty()) req.policies = {"dynamic", "static"};
  const fs::path scene = study_scene(req.scene);
  if (!fs::exists(scene)) {
    fmt::print(stderr, "taskdist simulate: scene '{}' not found{}\n", scene.string(),
               req.scene.empty() ? " (install povray-examples, or give a scene)" : "");
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(req.out, ec);
  if (ec) {
    fmt::print(stderr, "taskdist simulate: cannot create '{}': {}\n", req.out.string(), ec.message());
    return kExitUsage;
  }
  auto scratch = TempDir::create_scratch("taskdist-simulate-");
  if (!scratch) {
    fmt::print(stderr, "taskdist simulate: {}\n", scratch.error());
    return kExitRenderFailed;
  }

  std::string md = fmt::format("# taskdist simulate\n\n`{}`\n\n{}, scene {}.\n\nFigures used:\n\n",
                               req.command_line, describe_nodes(req), scene.string());
  fmt::print("taskdist simulate: {}; figures used:\n", describe_nodes(req));
  auto figure_used = [&](const std::string& line) {
    fmt::print("  - {}\n", line);
    md += fmt::format("- {}\n", line);
  };
  for (size_t i = 0; i < cals.size(); ++i) {
    Calibration& cal = cals[i];
    if (req.latency_s >= 0) cal.master.latency_s = req.latency_s;
    if (req.bandwidth_bytes_s >= 0) cal.master.bandwidth_bytes_s = req.bandwidth_bytes_s;
    if (req.latency_s >= 0 || req.bandwidth_bytes_s >= 0) {
      cal.network = "given on the command line (--latency, --bandwidth), the rest " + cal.network;
    }
    for (const std::string& line : calibration_figures(cal, req.quick_start)) {
      figure_used(fmt::format("{} [{}]", line, req.calibrations[i].string()));
    }
  }
  if (cals.size() > 1) {
    figure_used(fmt::format("each point is the mean of its predictions with the {} calibrations",
                            cals.size()));
  }
  std::vector<BenchSample> samples;
  std::map<std::string, std::string> bottlenecks;
  for (auto [w, h] : req.sizes) {
    std::vector<SizeModel> models;
    for (size_t i = 0; i < cals.size(); ++i) {
      auto model = size_model(req, scene, w, h, req.calibrations[i], cals[i], scratch->path());
      if (!model) {
        fmt::print(stderr, "taskdist simulate: {}x{}: {}\n", w, h, model.error());
        return kExitUsage;
      }
      figure_used(fmt::format("row costs at {}x{}: {}", w, h, model->source));
      models.push_back(std::move(*model));
    }
    for (const std::string& policy : req.policies) {
      for (int n : req.nodes) {
        const auto start = Clock::now();
        std::vector<Point> points;
        for (size_t i = 0; i < cals.size(); ++i) {
          points.push_back(simulate_point(req, models[i], policy, n, cals[i]));
        }
        const double took = std::chrono::duration<double>(Clock::now() - start).count();
        if (took > 1) {
          fmt::print(stderr, "taskdist simulate: {}x{} {} on {} nodes took {:.1f} s to simulate\n",
                     w, h, policy, n, took);
        }
        BenchSample mean = mean_of(points);
        // What limits it: as the calibration whose prediction is nearest the mean says.
        const Point& nearest = *std::ranges::min_element(points, {}, [&](const Point& p) {
          return std::abs(p.sample.total_s - mean.total_s);
        });
        bottlenecks[key_of(policy, w, h, n)] = nearest.bottleneck;
        samples.push_back(std::move(mean));
      }
    }
  }
  const std::vector<BenchRow> predicted = aggregate(samples);

  std::string table = fmt::format("\n{:>10} {:>8} {:>6} {:>8} {:>10} {:>8} {:>9} {:>8} {:>6}  {}\n",
                                  "size", "policy", "nodes", "seq1 s", "parallel s", "seq2 s",
                                  "total s", "speedup", "effic.", "limited by");
  std::string md_table = "\n| size | policy | nodes | seq1 (s) | parallel (s) | seq2 (s) | total (s) "
                         "| speedup | efficiency | limited by |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const BenchRow& r : predicted) {
    const std::string& limit = bottlenecks[key_of(r)];
    // No run on one node: no speedup to show.
    const std::string speedup = r.speedup > 0 ? fmt::format("{:.2f}", r.speedup) : "-";
    const std::string efficiency = r.speedup > 0 ? fmt::format("{:.2f}", r.efficiency) : "-";
    table += fmt::format("{:>10} {:>8} {:>6} {:>8.3f} {:>10.3f} {:>8.4f} {:>9.3f} {:>8} {:>6}  {}\n",
                         fmt::format("{}x{}", r.width, r.height), r.policy, r.nodes, r.seq1.median,
                         r.parallel.median, r.seq2.median, r.total.median, speedup, efficiency,
                         limit);
    md_table += fmt::format("| {}x{} | {} | {} | {:.3f} | {:.3f} | {:.4f} | {:.3f} | {} | {} | {} |\n",
                            r.width, r.height, r.policy, r.nodes, r.seq1.median, r.parallel.median,
                            r.seq2.median, r.total.median, speedup, efficiency, limit);
  }
  fmt::print("{}", table);
  md += md_table;

  std::vector<BenchRow> plotted = predicted;
  if (!measured.empty()) {
    std::map<std::string, const BenchRow*> by_key;
    for (const BenchRow& p : predicted) by_key[key_of(p)] = &p;
    std::string csv = "policy,width,height,nodes,measured_total_s,predicted_total_s,error_pct\n";
    std::string cmp = fmt::format("\nAgainst {}:\n{:>10} {:>8} {:>6} {:>11} {:>12} {:>8}\n",
                                  against, "size", "policy", "nodes", "measured s",
                                  "predicted s", "error");
    md += fmt::format("\n## Against {}\n\n| size | policy | nodes | measured total (s) | "
                      "predicted total (s) | error |\n|---|---|---:|---:|---:|---:|\n",
                      against);
    for (const BenchRow& m : measured) {
      const BenchRow& p = *by_key.at(key_of(m));
      const double err = 100 * (p.total.median - m.total.median) / m.total.median;
      cmp += fmt::format("{:>10} {:>8} {:>6} {:>11.3f} {:>12.3f} {:>+7.1f}%\n",
                         fmt::format("{}x{}", m.width, m.height), m.policy, m.nodes,
                         m.total.median, p.total.median, err);
      md += fmt::format("| {}x{} | {} | {} | {:.3f} | {:.3f} | {:+.1f}% |\n", m.width, m.height,
                        m.policy, m.nodes, m.total.median, p.total.median, err);
      csv += fmt::format("{},{},{},{},{:.4f},{:.4f},{:.2f}\n", m.policy, m.width, m.height,
                         m.nodes, m.total.median, p.total.median, err);
    }
    const PredictionError e = prediction_error(measured, predicted);
    const std::string summary =
        fmt::format("mean absolute error {:.1f}%, worst {:.1f}%, over {} points", 100 * e.mean,
                    100 * e.worst, e.points);
    fmt::print("{}{}\n", cmp, summary);
    md += "\n" + summary + "\n";
    if (auto done = write_text(req.out / "comparison.csv", csv); !done) {
      fmt::print(stderr, "taskdist simulate: {}\n", done.error());
      return kExitRenderFailed;
    }
    plotted.insert(plotted.end(), measured.begin(), measured.end());
  }
  md += "\n![Speedup](fig9_speedup.png)\n\n![Runtime by phase](fig7_phases.png)\n";
  const fs::path paper_csv = fs::path(TASKDIST_SOURCE_DIR) / "bench/anchors/paper_table2.csv";
  for (const auto& written : {write_csv(predicted, req.out / "results.csv"),
                              write_plots(plotted, req.out, paper_csv),
                              write_text(req.out / "simulate.md", md)}) {
    if (!written) {
      fmt::print(stderr, "taskdist simulate: {}\n", written.error());
      return kExitRenderFailed;
    }
  }
  fmt::print("taskdist simulate: wrote {}/results.csv, simulate.md{} and the figures\n",
             req.out.string(), measured.empty() ? "" : ", comparison.csv");
  return kExitOk;
}

std::expected<std::vector<double>, Error> traced_row_costs(const fs::path& scene,
                                                          const std::string& povray, int width,
                                                          int height, const fs::path& calibration,
                                                          const BandOverhead& startup) {
  auto scratch = TempDir::create_scratch("taskdist-simulate-");
  if (!scratch) return std::unexpected(scratch.error());
  JobRequest jr;
  jr.scene = scene.string();
  jr.povray = povray;
  auto job = job_at(jr, width, height, scratch->path());
  if (!job) return std::unexpected(job.error());
  auto traced = traced_costs(*job, calibration, startup, scratch->path());
  if (!traced) return std::unexpected(traced.error());
  return std::move(traced->first);
}

int run_calibrate(const std::string& scene, const std::string& povray, const fs::path& file) {
  CalibrateRequest r;
  r.scene = study_scene(scene);
  if (!fs::exists(r.scene)) {
    fmt::print(stderr, "taskdist simulate --calibrate: scene '{}' not found\n", r.scene.string());
    return kExitUsage;
  }
  r.povray = povray;
  std::error_code ec;
  r.taskdist = fs::read_symlink("/proc/self/exe", ec);
  const fs::path out = file.empty() ? default_calibration_file() : file;
  fmt::print(stderr, "taskdist simulate --calibrate: measuring this machine (about a minute)\n");
  auto cal = calibrate(r, [](const std::string& line) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", line);
  });
  if (!cal) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", cal.error());
    return kExitRenderFailed;
  }
  if (auto saved = save_calibration(*cal, out); !saved) {
    fmt::print(stderr, "taskdist simulate --calibrate: {}\n", saved.error());
    return kExitRenderFailed;
  }
  fs::remove_all(simulation_profiles(out), ec);  // their rows were priced on the old figures
  for (const std::string& line : calibration_figures(*cal, true)) fmt::print("  - {}\n", line);
  fmt::print("taskdist simulate --calibrate: wrote {}\n", out.string());
  return kExitOk;
}

}  // namespace taskdist
