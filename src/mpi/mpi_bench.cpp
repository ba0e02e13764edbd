#include "mpi/mpi_bench.h"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>

#include "core/elapsed.h"
#include "engine/render_job.h"
#include "core/job.h"
#include "core/planner.h"
#include "exec/scene_pack.h"
#include "mpi/mpi_master.h"
#include "report/run_report.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// How long the master waits for a node's part of the paper's method, or for a node to confirm
// that it stopped: far beyond any run of the study, short of forever.
constexpr double kNodeAnswerSeconds = 3600;
constexpr uint64_t kSceneLimitBytes = 64ull << 20;

}  // namespace

std::expected<std::unique_ptr<MpiBenchEngine>, Error> MpiBenchEngine::create(
    const MpiSession& session, Channel& channel) {
  auto nodes = greet_workers(session, channel);
  if (!nodes) return std::unexpected(nodes.error());
  return std::unique_ptr<MpiBenchEngine>(
      new MpiBenchEngine(channel, std::move(*nodes), session.host()));
}

std::string MpiBenchEngine::describe() const {
  std::string hosts;
  for (const auto& n : nodes_) {
    hosts += fmt::format("{}{}", hosts.empty() ? "" : ", ", n.name());
    hosts += fmt::format(": {:.2f} of a core", n.cpus);
  }
  return fmt::format(
      "Nodes are worker ranks under MPI (one `taskdist` each, started by mpirun; the master, rank "
      "0 on {}, renders nothing). A run on N nodes uses ranks 1..N. Each node has one slot per "
      "core it can use (its cgroup CPU quota, where one is set). Worker ranks: {}.",
      host_, hosts);
}

BenchSample MpiBenchEngine::run(const BenchRun& run) {
  // The first run.nodes worker ranks still answering: a node lost in an earlier run is skipped.
  std::vector<WorkerNode> nodes;
  for (const auto& n : nodes_) {
    if (static_cast<int>(nodes.size()) < run.nodes && !channel_.is_lost(n.rank)) nodes.push_back(n);
  }
  if (static_cast<int>(nodes.size()) < run.nodes) {
    BenchSample s = sample_for(run);
    s.error = fmt::format("only {} of the {} worker ranks still answer (--node-timeout)",
                          nodes.size(), nodes_.size());
    return s;
  }
  BenchSample s = run.method == "paper" ? run_paper(run, nodes) : run_taskdist(run, nodes);
  release(nodes);
  return s;
}

void MpiBenchEngine::release(const std::vector<WorkerNode>& nodes) {
  release_workers(nodes, channel_, kNodeAnswerSeconds);
}

BenchSample MpiBenchEngine::run_taskdist(const BenchRun& run,
                                         const std::vector<WorkerNode>& nodes) {
  BenchSample s = sample_for(run);
  JobRequest request;
  request.scene = run.scene.string();
  request.pov_args = {fmt::format("+W{}", run.width), fmt::format("+H{}", run.height)};
  request.output = (run.dir / "taskdist.png").string();
  request.policy = run.policy == "static" ? Policy::kStatic : Policy::kDynamic;
  request.report = (run.dir / "run.json").string();
  request.quiet = true;
  request.povray = run.povray;
  request.profile_dir = run.profile_dir.string();
  request.quick_start = run.quick_start;
  auto job = build_job(request);
  if (!job) {
    s.error = job.error().message();
    return s;
  }
  ClusterOptions options;
  options.povray_given = run.povray_given;
  reset_peak_rss();  // this process runs every render of the study: measure each alone
  const auto start = Clock::now();
  const int code = run_mpi_job(*job, start, nodes, channel_, options, host_);
  if (code != kExitOk) {
    s.error = fmt::format("taskdist render exited with {}", code);
    return s;
  }
  read_render_report(run.dir / "run.json", s);
  return s;
}

BenchSample MpiBenchEngine::run_paper(const BenchRun& run, const std::vector<WorkerNode>& nodes) {
  BenchSample s = sample_for(run);
  const auto start = Clock::now();
  const auto pack = pack_scene_dir(run.scene.parent_path(), kSceneLimitBytes);
  if (!pack) {
    s.error = pack.error().message();
    return s;
  }
  const auto bands = static_plan(run.height, static_cast<int>(nodes.size()), 1);
  std::map<int, size_t> band_of;  // rank -> band index
  for (size_t i = 0; i < bands.size(); ++i) {
    nlohmann::json h = {{"width", run.width},
                        {"height", run.height},
                        {"begin", bands[i].begin},
                        {"end", bands[i].end},
                        {"scene_rel", run.scene.filename().string()},
                        {"convert", run.convert}};
    if (run.povray_given) h["povray"] = run.povray;
    channel_.send(nodes[i].rank, Tag::kPaperBand, h, pack->bytes);
    band_of[nodes[i].rank] = i;
  }
  s.seq1_s = seconds_since(start);
  std::vector<std::string> payloads(bands.size());
  std::string errors;
  for (const auto& [rank, i] : band_of) {
    auto m = channel_.await(Tag::kPaperPart, rank, kNodeAnswerSeconds);
    if (!m) {
      errors += fmt::format("{}{}: no answer", errors.empty() ? "" : "; ", nodes[i].name());
      continue;
    }
    s.worker_peak_rss_bytes =
        std::max(s.worker_peak_rss_bytes, m->header.value("peak_rss_bytes", uint64_t{0}));
    if (m->header.contains("error")) {
      errors += fmt::format("{}{}: {}", errors.empty() ? "" : "; ", nodes[i].name(),
                            m->header.at("error").get<std::string>());
    }
    payloads[i] = std::move(m->payload);
  }
  if (!errors.empty()) {
    s.error = errors;
    return s;
  }
  s.parallel_s = seconds_since(start) - s.seq1_s;
  // The paper's second sequential part: the parts, as the nodes left them, appended.
  const auto tail_start = Clock::now();
  std::vector<std::string> parts;
  for (size_t i = 0; i < bands.size(); ++i) {
    parts.push_back((run.dir / fmt::format("part{}.png", i)).string());
    std::ofstream(parts.back(), std::ios::binary) << payloads[i];
    payloads[i].clear();
  }
  const ChainsResult tail = append_parts(run, parts);
  if (!tail.error.empty()) {
    s.error = "convert -append: " + tail.error;
    return s;
  }
  s.seq2_s = seconds_since(tail_start);
  s.total_s = seconds_since(start);
  s.master_peak_rss_bytes = tail.max_rss_bytes;  // convert -append: the paper's master
  s.ok = true;
  return s;
}

}  // namespace taskdist
