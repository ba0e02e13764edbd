#include "mpi/worker.h"

#include <algorithm>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "core/elapsed.h"
#include "bench/study.h"
#include "core/job.h"
#include "exec/command_chains.h"
#include "exec/cpu_quota.h"
#include "exec/interrupt.h"
#include "engine/local_runner.h"
#include "exec/scene_pack.h"
#include "exec/temp_dir.h"
#include "mpi/protocol.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kHeartbeatSeconds = 0.1;
constexpr double kProgressEverySeconds = 0.1;
constexpr int kMaster = 0;
constexpr int kWorkerCannotRun = 1;

// Turns the master's job into settings for this node: the scene's unpacked copy (or the shared
// path), this node's povray, and an image buffer sized for this node's memory.
std::expected<RenderSettings, Error> prepare(const WorkerJob& job, const Message& msg,
                                             const std::filesystem::path& scratch, int slots) {
  RenderSettings s = job.settings;
  if (job.shipped) {
    const auto dir = scratch / "scene";
    std::filesystem::create_directories(dir);
    if (auto unpacked = unpack_scene(msg.payload, dir); !unpacked) {
      return std::unexpected(unpacked.error());
    }
    s.scene = dir / job.scene_rel;
    s.scene_dir = s.scene.parent_path();
  } else if (!std::filesystem::exists(s.scene)) {
    return std::unexpected(fmt::format(
        "the scene '{}' is not visible here (--shared-dir says every node sees it)",
        s.scene.string()));
  }
  const std::string povray = job.povray_given ? s.povray.string() : std::string("povray");
  auto found = find_executable(povray);
  if (!found) {
    return std::unexpected(fmt::format("cannot find '{}' to run here (install povray, or give "
                                       "--povray with a path valid on every node)",
                                       povray));
  }
  s.povray = *found;
  if (!job.user_max_image_buffer) {
    s.max_image_buffer_mb = choose_max_image_buffer_mb(s.width, s.height, slots);
  }
  return s;
}

// How a job ended for this node: the master said to leave, or released the node for another job
// (taskdist bench), or a signal came.
struct JobEnd {
  bool leave = false;
  int exit_code = 0;
};

// The paper's method on this node (taskdist bench --method paper): povray writes the full-height
// PNG of one band, convert -extract crops it, and the crop goes back to the master.
void run_paper_band(const Message& m, Channel& channel) {
  const auto& h = m.header;
  nlohmann::json reply;
  std::string part_bytes;
  auto dir = TempDir::create_scratch("taskdist-paper-");
  std::string error;
  if (!dir) {
    error = dir.error().message();
  } else {
    std::filesystem::create_directories(dir->path() / "scene");
    if (auto unpacked = unpack_scene(m.payload, dir->path() / "scene"); !unpacked) {
      error = unpacked.error().message();
    }
  }
  const std::string povray = h.value("povray", std::string("povray"));
  auto povray_path = find_executable(povray);
  auto convert_path = find_executable(h.at("convert").get<std::string>());
  if (error.empty() && !povray_path) error = fmt::format("cannot find '{}' here", povray);
  if (error.empty() && !convert_path) {
    error = fmt::format("cannot find '{}' here (install imagemagick)",
                        h.at("convert").get<std::string>());
  }
  if (error.empty()) {
    const auto part = dir->path() / "part.png";
    const RowRange band{h.at("begin").get<int>(), h.at("end").get<int>()};
    const auto chain = paper_band_chain(
        povray_path->string(), convert_path->string(),
        dir->path() / "scene" / h.at("scene_rel").get<std::string>(), h.at("width").get<int>(),
        h.at("height").get<int>(), band, dir->path() / "full.png", part);
    const ChainsResult r = run_chains({chain}, dir->path());
    reply["seconds"] = r.seconds;
    reply["peak_rss_bytes"] = r.max_rss_bytes;
    error = r.error;
    if (error.empty()) {
      std::ifstream in(part, std::ios::binary);
      part_bytes.assign(std::istreambuf_iterator<char>(in), {});
      if (part_bytes.empty()) error = "convert wrote no part";
    }
  }
  if (!error.empty()) reply["error"] = error;
  channel.send(kMaster, Tag::kPaperPart, reply, std::move(part_bytes));
}

class WorkerLoop {
 public:
  WorkerLoop(Channel& channel, LocalRunner& runner) : channel_(channel), runner_(runner) {}

  JobEnd run() {
    while (true) {
      while (auto m = channel_.receive()) {
        if (m->tag == Tag::kShutdown || m->tag == Tag::kRelease) {
          runner_.abort();
          send(m->tag == Tag::kRelease ? Tag::kReleased : Tag::kLeaving, {});
          channel_.flush(5);
          return {m->tag == Tag::kShutdown, 0};
        }
        handle(*m);
        pause_ = kShortestPause;
      }
      // Events from povray wake this at once (it polls their pipes); the master's messages
      // are looked for every `pause`, which grows while nothing happens: on a node capped at a
      // quarter of a core, polling Open MPI every 5 ms took 4% of its CPU.
      auto event = runner_.wait(pause_);
      pause_ = std::min(pause_ * 2, kLongestPause);
      if (event) {
        if (auto* i = std::get_if<Interrupted>(&*event)) {
          runner_.abort();
          return {true, 128 + i->signal};
        }
        std::visit([this](auto& e) { forward(e); }, *event);
      }
    }
  }

 private:
  void handle(const Message& m) {
    switch (m.tag) {
      case Tag::kTask:
        runner_.start(task_from_json(m.header));
        break;
      case Tag::kCancel:
        runner_.cancel(m.header.at("id").get<int>());
        break;
      case Tag::kStopAll:
        runner_.abort();
        break;
      default:
        break;
    }
  }

  void send(Tag tag, const nlohmann::json& header, std::string payload = {}) {
    channel_.send(kMaster, tag, header, std::move(payload));
    pause_ = kShortestPause;  // an answer may follow
  }

  void forward(TaskProgress& e) {
    auto& last = progress_sent_[e.id];
    // Finished frames always go at once; bare progress at most every kProgressEverySeconds.
    if (e.frames.empty() && e.fraction < 1.0 && seconds_since(last) < kProgressEverySeconds) {
      return;
    }
    last = Clock::now();
    send(Tag::kProgress, progress_to_json(e), bands_payload(e.frames));
  }
  void forward(TaskFinished& e) {
    progress_sent_.erase(e.id);
    send(Tag::kFinished, finished_to_json(e), bands_payload(e.bands));
  }
  void forward(TaskFailed& e) {
    progress_sent_.erase(e.id);
    send(Tag::kFailed, to_json(e.id, e.failure));
  }
  void forward(Interrupted&) {}
  void forward(WorkerLost&) {}

  Channel& channel_;
  LocalRunner& runner_;
  static constexpr double kShortestPause = 0.001;
  static constexpr double kLongestPause = 0.04;
  double pause_ = kShortestPause;
  std::map<TaskId, Clock::time_point> progress_sent_;
};

// One job: unpack its scene, say whether this node can render it, then render bands until the
// master ends the job.
JobEnd serve_job(const Message& job_msg, Channel& channel, int slots) {
  auto scratch = TempDir::create_scratch("taskdist-node-");
  if (!scratch) {
    channel.send(kMaster, Tag::kReady, {{"error", scratch.error().message()}});
    return {};
  }
  const WorkerJob job = worker_job_from_json(job_msg.header);
  auto settings = prepare(job, job_msg, scratch->path(), slots);
  if (!settings) {
    channel.send(kMaster, Tag::kReady, {{"error", settings.error().message()}});
    return {};
  }
  // The quick start: its preload written here; this node's first bands check it
  // (render/quick_start.h).
  const std::string quick_start_off = enable_quick_start(*settings, scratch->path());
  channel.send(kMaster, Tag::kReady, {{"povray", settings->povray.string()},
                                      {"quick_start", !settings->preload.empty()},
                                      {"quick_start_off", quick_start_off}});
  const auto tasks_dir = scratch->path() / "tasks";
  std::filesystem::create_directories(tasks_dir);
  LocalRunner runner(*settings, tasks_dir);
  WorkerLoop loop(channel, runner);
  return loop.run();
}

}  // namespace

int run_worker(const MpiSession& session, Channel& channel, const WorkerOptions& options) {
  InterruptSignal::install();
  const double cpus = usable_cores();
  const int slots = options.slots > 0 ? options.slots : std::max(1, static_cast<int>(cpus));
  // The cores this node can use tell the master how to size its bands (WorkerNode::slot_speed).
  channel.send(kMaster, Tag::kHello,
               {{"host", session.host()}, {"pid", ::getpid()}, {"slots", slots}, {"cpus", cpus}});
  // The worker's loop and this thread share MPI one call at a time (MPI_THREAD_SERIALIZED).
  if (!session.serialized()) {
    fmt::print(stderr, "taskdist: worker rank {}: this MPI library cannot be called from two "
                       "threads one at a time (MPI_THREAD_SERIALIZED), which taskdist's "
                       "heartbeats need; use Open MPI 4 or another MPI that provides it\n",
               session.rank());
    return kWorkerCannotRun;
  }
  // A heartbeat every kHeartbeatSeconds from a thread of its own, so that this rank sends one in
  // every state: idle between jobs, unpacking a scene, running the paper's method, rendering. A
  // rank that is stopped (SIGSTOP, a frozen machine) or cut off falls silent, and the master
  // declares it lost after --node-timeout. Stopped when this function returns.
  const std::jthread heartbeat =
      every(kHeartbeatSeconds, [&channel] { channel.send(kMaster, Tag::kHeartbeat, {}); });
  // Idle between jobs: one job for `taskdist render`, one per run for `taskdist bench`.
  double pause = 0.001;
  while (true) {
    if (InterruptSignal::received() != 0) return 128 + InterruptSignal::received();
    auto m = channel.receive();
    if (!m) {
      nap(pause);
      pause = std::min(pause * 2, 0.02);
      continue;
    }
    pause = 0.001;
    switch (m->tag) {
      case Tag::kShutdown:
        channel.send(kMaster, Tag::kLeaving, {});
        channel.flush(5);
        return 0;
      case Tag::kRelease:  // a job this node could not start
        channel.send(kMaster, Tag::kReleased, {});
        break;
      case Tag::kPaperBand:
        run_paper_band(*m, channel);
        break;
      case Tag::kEcho:
        channel.send(kMaster, Tag::kEcho, m->header);
        break;
      case Tag::kJob: {
        const JobEnd end = serve_job(*m, channel, slots);
        if (end.leave) return end.exit_code;
        break;
      }
      default:
        break;  // what is left of an earlier job
    }
  }
}

}  // namespace taskdist
