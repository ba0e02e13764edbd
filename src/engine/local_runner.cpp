#include "engine/local_runner.h"

#include <poll.h>

#include <cerrno>
#include <chrono>

#include "exec/interrupt.h"

namespace taskdist {

namespace {
constexpr double kStopGraceSeconds = 2.0;
}

LocalRunner::LocalRunner(RenderSettings settings, std::filesystem::path scratch)
    : settings_(std::move(settings)), scratch_(std::move(scratch)) {}

LocalRunner::~LocalRunner() { abort(); }

void LocalRunner::start(const Task& task) {
  ++unreported_;
  const auto dir = scratch_ / ("task-" + std::to_string(task.id));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    ready_.push_back(TaskFailed{task.id, {FailureKind::kRenderError,
                                          "cannot create work directory " + dir.string() + ": " +
                                              ec.message(),
                                          {}}});
    return;
  }
  auto render = BandRender::start(settings_, task, dir);
  if (!render) {
    remove_work_dir(dir);
    ready_.push_back(TaskFailed{task.id, {FailureKind::kRenderError, render.error().message(), {}}});
    return;
  }
  renders_[task.id] = Running{std::move(*render), dir};
}

void LocalRunner::judge_quick_start(RunnerEvent& end, const std::filesystem::path& work_dir) {
  if (settings_.preload.empty() || settings_.preload_proven) return;
  if (auto* finished = std::get_if<TaskFinished>(&end)) {
    finished->quick_start_off = taskdist::judge_quick_start(settings_.povray, work_dir);
    settings_.preload_proven = finished->quick_start_off.empty();
    if (!settings_.preload_proven) settings_.preload.clear();
  } else if (std::holds_alternative<TaskFailed>(end)) {
    // A band that failed with it says nothing sure (the scene may be at fault): this job's next
    // bands run without it, and the failure is reported as any other.
    settings_.preload.clear();
  }
}

void LocalRunner::remove_work_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::optional<RunnerEvent> LocalRunner::wait(double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    if (InterruptSignal::received() != 0) return Interrupted{InterruptSignal::received()};
    if (!ready_.empty()) {
      RunnerEvent e = std::move(ready_.front());
      ready_.pop_front();
      if (!std::holds_alternative<TaskProgress>(e)) --unreported_;
      return e;
    }
    std::vector<pollfd> fds;
    std::vector<TaskId> owners;
    if (InterruptSignal::fd() >= 0) {
      fds.push_back({InterruptSignal::fd(), POLLIN, 0});
      owners.push_back(0);
    }
    for (auto& [id, r] : renders_) {
      for (int fd : r.render->open_fds()) {
        fds.push_back({fd, POLLIN, 0});
        owners.push_back(id);
      }
    }
    const auto left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    const int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left * 1000) + 1);
    if (rc < 0 && errno != EINTR) return std::nullopt;
    if (rc <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0 || owners[i] == 0) continue;
      auto it = renders_.find(owners[i]);
      if (it == renders_.end()) continue;
      BandRender& render = *it->second.render;
      const auto p = render.on_readable(fds[i].fd);
      std::vector<EncodedBand> frames = render.take_frames();
      if (p || !frames.empty()) {
        const double cpu = frames.empty() ? -1 : render.cpu_seconds();
        ready_.push_back(TaskProgress{render.task().id, render.fraction(), render.cpu_share(),
                                      std::move(frames), cpu});
      }
      if (render.streams_closed()) {
        RunnerEvent end = render.finish();
        judge_quick_start(end, it->second.work_dir);
        ready_.push_back(std::move(end));
        remove_work_dir(it->second.work_dir);
        renders_.erase(it);
      }
    }
  }
}

void LocalRunner::cancel(TaskId id) {
  auto it = renders_.find(id);
  if (it == renders_.end()) {
    // Ended already: drop its end if wait() has not returned it yet.
    const auto n = std::erase_if(ready_, [id](const RunnerEvent& e) {
      return std::visit(
          [id](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, TaskFinished> || std::is_same_v<T, TaskFailed>) {
              return v.id == id;
            }
            return false;
          },
          e);
    });
    unreported_ -= static_cast<int>(n);
    return;
  }
  it->second.render->stop(kStopGraceSeconds);
  remove_work_dir(it->second.work_dir);
  renders_.erase(it);
  --unreported_;
}

void LocalRunner::abort() {
  std::vector<Subprocess*> processes;
  for (auto& [id, r] : renders_) processes.push_back(&r.render->process());
  for (auto* p : processes) {
    p->close_stdout();
    p->close_stderr();
  }
  stop_processes(processes, kStopGraceSeconds);
  for (auto& [id, r] : renders_) remove_work_dir(r.work_dir);
  renders_.clear();
  ready_.clear();
  unreported_ = 0;
}

}  // namespace taskdist
