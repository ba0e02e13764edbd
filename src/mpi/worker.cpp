#include "mpi/worker.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "core/job.h"
#include "exec/cpu_quota.h"
#include "exec/interrupt.h"
#include "exec/local_runner.h"
#include "exec/scene_pack.h"
#include "exec/temp_dir.h"
#include "mpi/protocol.h"

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kHeartbeatSeconds = 0.1;
constexpr double kProgressEverySeconds = 0.1;
constexpr int kMaster = 0;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Turns the master's job into settings for this node: the scene's unpacked copy (or the shared
// path), this node's povray, and an image buffer sized for this node's memory.
std::expected<RenderSettings, std::string> prepare(const WorkerJob& job, const Message& msg,
                                                   const std::filesystem::path& scratch,
                                                   int slots) {
  RenderSettings s = job.settings;
  if (job.shipped) {
    const auto dir = scratch / "scene";
    std::filesystem::create_directories(dir);
    if (auto err = unpack_scene(msg.payload, dir)) return std::unexpected(*err);
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

class WorkerLoop {
 public:
  WorkerLoop(Channel& channel, LocalRunner& runner) : channel_(channel), runner_(runner) {}

  int run() {
    while (true) {
      while (auto m = channel_.receive()) {
        if (!handle(*m)) {
          runner_.abort();
          channel_.flush(5);
          return 0;
        }
      }
      auto event = runner_.wait(runner_.running() > 0 ? 0.005 : 0.01);
      if (event) {
        if (auto* i = std::get_if<Interrupted>(&*event)) {
          runner_.abort();
          return 128 + i->signal;
        }
        std::visit([this](auto& e) { forward(e); }, *event);
      }
      if (seconds_since(last_sent_) > kHeartbeatSeconds) send(Tag::kHeartbeat, {});
    }
  }

 private:
  bool handle(const Message& m) {
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
      case Tag::kShutdown:
        return false;
      default:
        break;
    }
    return true;
  }

  void send(Tag tag, const nlohmann::json& header, std::string payload = {}) {
    channel_.send(kMaster, tag, header, std::move(payload));
    last_sent_ = Clock::now();
  }

  void forward(TaskProgress& e) {
    auto& last = progress_sent_[e.id];
    if (e.fraction < 1.0 && seconds_since(last) < kProgressEverySeconds) return;
    last = Clock::now();
    send(Tag::kProgress, {{"id", e.id}, {"fraction", e.fraction}, {"cpu_share", e.cpu_share}});
  }
  void forward(TaskFinished& e) {
    progress_sent_.erase(e.id);
    send(Tag::kFinished, finished_to_json(e), std::move(e.band.deflated));
  }
  void forward(TaskFailed& e) {
    progress_sent_.erase(e.id);
    send(Tag::kFailed, to_json(e.id, e.failure));
  }
  void forward(Interrupted&) {}
  void forward(WorkerLost&) {}

  Channel& channel_;
  LocalRunner& runner_;
  Clock::time_point last_sent_ = Clock::now();
  std::map<TaskId, Clock::time_point> progress_sent_;
};

}  // namespace

int run_worker(const MpiSession& session, Channel& channel, const WorkerOptions& options) {
  InterruptSignal::install();
  const double cpus = usable_cores();
  const int slots = options.slots > 0 ? options.slots : std::max(1, static_cast<int>(cpus));
  // The share of a core each slot can count on tells the master how to size this node's bands.
  const double slot_speed = std::min(1.0, cpus / slots);
  channel.send(kMaster, Tag::kHello,
               {{"host", session.host()}, {"pid", ::getpid()}, {"slots", slots},
                {"slot_speed", slot_speed}});
  std::optional<Message> job_msg;
  while (!job_msg) {
    job_msg = channel.await(Tag::kJob, kMaster, 1.0);
    if (InterruptSignal::received() != 0) return 128 + InterruptSignal::received();
    if (!job_msg) {
      // The master may give up before sending a job (bad command line): it says so.
      if (auto bye = channel.await(Tag::kShutdown, kMaster, 0)) return 0;
    }
  }
  auto scratch = TempDir::create(TempDir::default_parent(), "taskdist-node-");
  if (!scratch) {
    channel.send(kMaster, Tag::kReady, {{"error", scratch.error()}});
    channel.flush(5);
    channel.await(Tag::kShutdown, kMaster, 60);
    return 1;
  }
  const WorkerJob job = worker_job_from_json(job_msg->header);
  auto settings = prepare(job, *job_msg, scratch->path(), slots);
  job_msg.reset();
  if (!settings) {
    channel.send(kMaster, Tag::kReady, {{"error", settings.error()}});
    channel.flush(5);
    channel.await(Tag::kShutdown, kMaster, 60);
    return 1;
  }
  channel.send(kMaster, Tag::kReady, {{"povray", settings->povray.string()}});
  const auto tasks_dir = scratch->path() / "tasks";
  std::filesystem::create_directories(tasks_dir);
  LocalRunner runner(*settings, tasks_dir);
  WorkerLoop loop(channel, runner);
  return loop.run();
}

}  // namespace taskdist
