#include "mpi/mpi_master.h"

#include <fmt/format.h>

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/elapsed.h"
#include "engine/render_job.h"
#include "exec/interrupt.h"
#include "exec/scene_pack.h"
#include "exec/temp_dir.h"
#include "mpi/mpi_runner.h"
#include "mpi/protocol.h"

namespace taskdist {
namespace {

// A rank that keeps answering (heartbeats) but never greets or never leaves is given up on
// after this long; one that falls silent, after the node timeout.
constexpr double kGreetingTimeoutSeconds = 120;
constexpr double kLeavingTimeoutSeconds = 30;
// How long the master waits, after declaring a node lost, for Open MPI to end the job itself
// before it calls MPI_Abort (see end_mpi_job).
constexpr double kAbortGraceSeconds = 3;

// Waits for one message of `tag` from every rank in `ranks`. The error names the ranks missing;
// a rank silent for the node timeout is declared lost.
std::expected<std::map<int, Message>, Error> gather(const std::vector<int>& ranks,
                                                    Channel& channel, Tag tag, const char* what) {
  std::map<int, Message> got;
  std::vector<int> missing = ranks;
  const auto start = std::chrono::steady_clock::now();
  while (!missing.empty()) {
    auto m = channel.await(tag, missing, 0.2);
    if (InterruptSignal::received() != 0) {
      return std::unexpected(fmt::format("interrupted by signal {} while waiting for {}",
                                         InterruptSignal::received(), what));
    }
    if (m) {
      std::erase(missing, m->source);
      got[m->source] = std::move(*m);
      continue;
    }
    std::string silent, names;
    for (int r : missing) {
      names += (names.empty() ? "" : ", ") + channel.name(r);
      if (!channel.is_lost(r) && !channel.silent(r)) continue;
      channel.declare_lost(r);
      silent += (silent.empty() ? "" : ", ") + channel.name(r);
    }
    if (!silent.empty()) {
      return std::unexpected(fmt::format("lost worker node {}: no {} and nothing else for {:g} s "
                                         "(--node-timeout)",
                                         silent, what, channel.node_timeout()));
    }
    if (seconds_since(start) > kGreetingTimeoutSeconds) {
      return std::unexpected(fmt::format("no {} from {} after {:.0f} s", what, names,
                                         kGreetingTimeoutSeconds));
    }
  }
  return got;
}

std::vector<int> ranks_of(const std::vector<WorkerNode>& nodes) {
  std::vector<int> ranks;
  for (const auto& n : nodes) ranks.push_back(n.rank);
  return ranks;
}

}  // namespace

int end_mpi_job(MpiSession& session, Channel& channel, int code, const std::string& done_note) {
  std::fflush(nullptr);
  if (code > 128) ::_exit(code);  // interrupted: mpirun is ending every rank
  const int code_if_lost = code == kExitOk ? kExitImageKeptNodeLost : code;
  const std::string note = code == kExitOk ? "; " + done_note : "";
  std::vector<int> leaving;
  std::set<int> left;
  for (int r = 1; r < session.size(); ++r) {
    if (channel.is_lost(r) || InterruptSignal::received() != 0) continue;
    channel.send(r, Tag::kShutdown, {});
    leaving.push_back(r);
  }
  for (int r : leaving) {
    // A worker still rendering stops its bands first; one that keeps silent is lost.
    if (channel.await(Tag::kLeaving, r, kLeavingTimeoutSeconds)) {
      left.insert(r);
      continue;
    }
    if (InterruptSignal::received() != 0) break;
    if (channel.silent(r)) {
      fmt::print(stderr, "taskdist: lost worker node {}: sent nothing for {:.1f} s at the end of "
                         "the job (--node-timeout {:g})\n",
                 channel.name(r), channel.silent_for(r), channel.node_timeout());
    } else {
      fmt::print(stderr, "taskdist: lost worker node {}: it still answers, but did not leave "
                         "within {:g} s of being told to\n",
                 channel.name(r), kLeavingTimeoutSeconds);
    }
    channel.declare_lost(r);
  }
  if (!channel.lost().empty()) {
    // Open MPI ends the job itself once it loses a node's daemon (a cut link): let it. An
    // MPI_Abort then would make mpirun wait for that daemon (seen: over 30 s).
    while (channel.since_last_lost() < kAbortGraceSeconds && InterruptSignal::received() == 0) {
      nap(0.05);
    }
  }
  if (const int sig = InterruptSignal::received(); sig != 0) {
    // Open MPI ends every rank when one dies or when it loses a node's daemon; or it is Ctrl-C.
    std::vector<int> not_left;  // those that said they were leaving are quiet in MPI_Finalize
    for (int r = 1; r < session.size(); ++r) {
      if (!left.contains(r)) not_left.push_back(r);
    }
    if (const auto rank = channel.cut_off(not_left)) {
      fmt::print(stderr, "taskdist: Open MPI is ending the job (signal {}); the node silent "
                         "longest is {} ({:.1f} s){}\n",
                 sig, channel.name(*rank), channel.silent_for(*rank), note);
      std::fflush(nullptr);
      ::_exit(code_if_lost);
    }
    fmt::print(stderr, "taskdist: interrupted by signal {} while ending the job{}\n", sig, note);
    std::fflush(nullptr);
    ::_exit(128 + sig);
  }
  channel.listen(false);  // no MPI call from another thread from here on
  const std::set<int> lost = channel.lost();
  if (!lost.empty()) {
    std::string names;
    for (int r : lost) names += (names.empty() ? "" : ", ") + channel.name(r);
    fmt::print(stderr, "taskdist: ending the MPI job with MPI_Abort (exit {}): MPI_Finalize "
                       "would wait forever for {}{}\n",
               code_if_lost, names, note);
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code_if_lost);
    ::_exit(code_if_lost);
  }
  channel.flush(channel.node_timeout());
  session.finish_within(channel.node_timeout() + 5, code_if_lost);
  return code;
}

std::expected<std::vector<WorkerNode>, Error> greet_workers(const MpiSession& session,
                                                            Channel& channel) {
  channel.listen(true);  // until end_mpi_job
  std::vector<int> ranks;
  for (int r = 1; r < session.size(); ++r) ranks.push_back(r);
  auto hellos = gather(ranks, channel, Tag::kHello, "greeting");
  if (!hellos) return std::unexpected(hellos.error());
  std::vector<WorkerNode> nodes;
  for (auto& [rank, m] : *hellos) {
    nodes.push_back({rank, m.header.at("host").get<std::string>(), m.header.at("pid").get<int>(),
                     m.header.at("slots").get<int>(), m.header.at("cpus").get<double>()});
    channel.set_name(rank, nodes.back().name());
  }
  return nodes;
}

int run_mpi_master(const Job& job, std::chrono::steady_clock::time_point start,
                   const MpiSession& session, Channel& channel, const ClusterOptions& options) {
  InterruptSignal::install();
  auto nodes = greet_workers(session, channel);
  if (!nodes) {
    fmt::print(stderr, "taskdist: {}\n", nodes.error());
    return channel.lost().empty() ? kExitRenderFailed : kExitNodeLost;
  }
  return run_mpi_job(job, start, *nodes, channel, options, session.host());
}

void release_workers(const std::vector<WorkerNode>& nodes, Channel& channel, double timeout_s) {
  for (const auto& n : nodes) channel.send(n.rank, Tag::kRelease, {});
  for (const auto& n : nodes) {
    if (channel.is_lost(n.rank)) continue;
    // MPI keeps the order of messages between two ranks: everything before kReleased is stale.
    if (!channel.await(Tag::kReleased, n.rank, timeout_s) && channel.silent(n.rank)) {
      fmt::print(stderr, "taskdist: lost worker node {}: no answer for {:.1f} s (--node-timeout "
                         "{:g})\n", n.name(), channel.silent_for(n.rank), channel.node_timeout());
      channel.declare_lost(n.rank);
    }
    channel.discard_held_from(n.rank);
  }
}

namespace {

// Says `error` on stderr; returns `code`.
int stop_with(int code, const Error& error) {
  fmt::print(stderr, "taskdist: {}\n", error);
  return code;
}

// Sends every node the job, and the scene's folder packed unless they all see it
// (--shared-dir). Returns the exit code: 0, or kExitUsage when the folder cannot be shipped.
int send_job(const Job& job, const std::vector<WorkerNode>& nodes, Channel& channel,
             const ClusterOptions& options) {
  WorkerJob wj;
  wj.settings = render_settings_for(job);
  wj.povray_given = options.povray_given;
  wj.user_max_image_buffer = job.user_max_image_buffer;
  std::string pack_bytes;
  if (!options.shared_dir) {
    const auto root = options.scene_dir.value_or(job.scene_dir);
    const auto rel = job.scene.lexically_relative(root);
    if (rel.empty() || rel.begin()->string() == "..") {
      return stop_with(kExitUsage, fmt::format("--scene-dir '{}' does not contain the scene '{}'",
                                          root.string(), job.scene.string()));
    }
    auto pack = pack_scene_dir(root, options.scene_limit_bytes);
    if (!pack) return stop_with(kExitUsage, pack.error());
    wj.shipped = true;
    wj.scene_rel = rel.generic_string();
    pack_bytes = std::move(pack->bytes);
    if (!job.quiet) {
      fmt::print(stderr, "taskdist: shipping the scene folder {} ({} files, {:.1f} MiB) to {} "
                 "worker ranks\n", root.string(), pack->files,
                 static_cast<double>(pack->file_bytes) / (1 << 20), nodes.size());
    }
  }
  const auto header = to_json(wj);
  for (const auto& n : nodes) channel.send(n.rank, Tag::kJob, header, pack_bytes);
  return kExitOk;
}

// Waits until every node has set the job up. Returns the exit code: 0 when all can render.
// `quick_start`: whether every node runs povray with the quick start.
int await_readiness(const std::vector<WorkerNode>& nodes, Channel& channel, bool& quick_start) {
  auto ready = gather(ranks_of(nodes), channel, Tag::kReady, "readiness report");
  if (!ready) {
    const bool lost = std::ranges::any_of(nodes, [&](const WorkerNode& n) {
      return channel.is_lost(n.rank);
    });
    return stop_with(lost ? kExitNodeLost : kExitRenderFailed, ready.error());
  }
  std::string errors;
  for (const auto& n : nodes) {
    const auto& h = ready->at(n.rank).header;
    if (h.contains("error")) errors += fmt::format("\n  {}: {}", n.name(), h.at("error").get<std::string>());
    if (const std::string off = h.value("quick_start_off", std::string()); !off.empty()) {
      fmt::print(stderr, "taskdist: {}\n", quick_start_off_line("on " + n.name(), off));
    }
    quick_start = quick_start && h.value("quick_start", false);
  }
  if (!errors.empty()) return stop_with(kExitRenderFailed, "worker nodes cannot render:" + errors);
  return kExitOk;
}

// Where each slot is, and what the render loop needs to know of them.
struct SlotPlan {
  std::vector<SlotPlace> places;
  EngineLayout layout;
};

// Slots: the master's own first (if any), then every worker's. The static policy gives each
// node one band, as the paper did.
SlotPlan plan_slots(const std::vector<WorkerNode>& nodes, int master_slots, bool one_per_node) {
  SlotPlan plan;
  auto add = [&](int rank, int slot, double speed) {
    plan.places.push_back({rank, slot});
    plan.layout.slot_nodes.push_back(rank);
    plan.layout.slot_speed.push_back(speed);
  };
  const int own_slots = one_per_node ? std::min(1, master_slots) : master_slots;
  for (int i = 0; i < own_slots; ++i) add(0, i, 1.0);
  for (const auto& n : nodes) {
    for (int i = 0; i < (one_per_node ? 1 : n.slots); ++i) add(n.rank, i, n.slot_speed());
  }
  plan.layout.slots = static_cast<int>(plan.places.size());
  return plan;
}

// On stderr: how many slots there are, and how much of a core each has.
void print_slots(const std::vector<WorkerNode>& nodes, int master_slots, bool one_per_node) {
  int worker_slots = 0;
  double slowest = 1, fastest = 0;
  for (const auto& n : nodes) {
    worker_slots += one_per_node ? 1 : n.slots;
    slowest = std::min(slowest, n.slot_speed());
    fastest = std::max(fastest, n.slot_speed());
  }
  fmt::print(stderr, "taskdist: {} worker ranks, {} slots{}, {:.2f}-{:.2f} of a core each\n",
             nodes.size(), worker_slots,
             master_slots > 0 ? fmt::format(" (+{} on the master)", master_slots) : std::string(),
             slowest, fastest);
}

}  // namespace

int run_mpi_job(const Job& job, std::chrono::steady_clock::time_point start,
                const std::vector<WorkerNode>& nodes, Channel& channel,
                const ClusterOptions& options, const std::string& master_host,
                RenderObserver* observer) {
  InterruptSignal::install();
  if (const int code = send_job(job, nodes, channel, options); code != kExitOk) return code;
  bool quick_start = true;
  if (const int code = await_readiness(nodes, channel, quick_start); code != kExitOk) return code;
  const bool one_per_node = job.policy == Policy::kStatic;
  SlotPlan plan = plan_slots(nodes, options.master_slots, one_per_node);
  // The master's own slots render in a scratch folder of their own.
  std::unique_ptr<LocalRunner> local;
  std::optional<TempDir> scratch;
  if (options.master_slots > 0) {
    auto dir = TempDir::create_scratch("taskdist-");
    if (!dir) return stop_with(kExitRenderFailed, dir.error());
    scratch.emplace(std::move(*dir));
    Job local_job = job;
    local_job.slots = options.master_slots;
    RenderSettings settings = render_settings_for(local_job);
    if (const std::string off = enable_quick_start(settings, scratch->path()); !off.empty()) {
      fmt::print(stderr, "taskdist: {}\n", quick_start_off_line("on the master", off));
    }
    quick_start = quick_start && !settings.preload.empty();
    local = std::make_unique<LocalRunner>(std::move(settings), scratch->path());
  }
  plan.layout.quick_start = quick_start;
  if (!job.quiet) print_slots(nodes, options.master_slots, one_per_node);
  MpiRunner runner(channel, nodes, plan.places, std::move(local), master_host);
  return run_render_with(job, start, runner, plan.layout, observer);
}

}  // namespace taskdist
