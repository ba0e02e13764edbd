#include "fake_runner.h"

#include <csignal>
#include <optional>

#include "image/band_encoder.h"

namespace taskdist::testing {

uint8_t fake_pixel(int x, int y, int c) { return static_cast<uint8_t>(x * 7 + y * 31 + c * 80); }

Image fake_image(int width, int height, int channels) {
  Image image{width, height, channels, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) image.pixels.push_back(fake_pixel(x, y, c));
    }
  }
  return image;
}

EncodedBand fake_band(RowRange rows, int width, int channels) {
  BandEncoder encoder(width, channels, 6);
  std::vector<uint8_t> row(static_cast<size_t>(width * channels));
  for (int y = rows.begin; y < rows.end; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c)
        row[static_cast<size_t>(x * channels + c)] = fake_pixel(x, y, c);
    }
    encoder.add_row(y, row);
  }
  return encoder.finish(rows);
}

FakeRunner::FakeRunner(FakeClock& clock, int width, int channels, Script script, double give_up_s)
    : clock_(clock),
      width_(width),
      channels_(channels),
      script_(std::move(script)),
      give_up_s_(give_up_s) {}

void FakeRunner::start(const Task& task) {
  starts_.push_back(task);
  const TaskScript script = script_(task, static_cast<int>(starts_.size()));
  running_[task.id] = Running{task, script, clock_.now_s() + script.seconds};
}

RunnerEvent FakeRunner::event_of(const Running& r) const {
  if (r.script.outcome == TaskScript::Outcome::kFail) {
    return TaskFailed{r.task.id, {r.script.kind, r.script.message, r.script.detail}};
  }
  TaskFinished finished{r.task.id, {fake_band(r.task.rows, width_, channels_)}, {}, {}};
  finished.timing.wall_s = r.script.seconds;
  if (r.script.outcome == TaskScript::Outcome::kFinishDamaged) {
    finished.bands[0].deflated.resize(finished.bands[0].deflated.size() / 2);
  }
  return finished;
}

std::optional<RunnerEvent> FakeRunner::wait(double timeout_s) {
  if (clock_.now_s() >= give_up_s_) return Interrupted{SIGTERM};
  const Running* next = nullptr;
  for (const auto& [id, r] : running_) {  // by id: start order
    if (r.script.outcome == TaskScript::Outcome::kHang) continue;
    if (!next || r.due_s < next->due_s) next = &r;
  }
  if (!next || next->due_s > clock_.now_s() + timeout_s) {
    clock_.advance_to(clock_.now_s() + timeout_s);
    return std::nullopt;
  }
  clock_.advance_to(next->due_s);
  RunnerEvent event = event_of(*next);
  running_.erase(next->task.id);
  return event;
}

void FakeRunner::cancel(TaskId id) {
  cancels_.push_back(id);
  running_.erase(id);
}

void FakeRunner::abort() {
  aborts_ += 1;
  running_.clear();
}

}  // namespace taskdist::testing
