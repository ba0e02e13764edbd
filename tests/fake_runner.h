// A scripted Runner and the clock it drives, for unit tests of the render loop: a test says what
// each started task does (finish with a real band, finish with a damaged one, fail, hang), and
// afterwards reads what the runner was asked (starts, cancels, aborts). Time is fake: wait()
// moves the clock to the next scripted moment, so a test never sleeps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/runner.h"
#include "engine/render_clock.h"
#include "test_support.h"

namespace taskdist::testing {

/// Time that moves only when told (by FakeRunner::wait).
class FakeClock : public RenderClock {
 public:
  double now_s() const override { return now_; }
  /// Moves to `t` unless the clock is past it already.
  void advance_to(double t) {
    if (t > now_) now_ = t;
  }

 private:
  double now_ = 0;
};

/// What a started task does, `seconds` after it started.
struct TaskScript {
  enum class Outcome {
    kFinish,         ///< a band of fake_pixel rows, made by the real BandEncoder
    kFinishDamaged,  ///< the same band with its deflate stream cut short
    kFail,           ///< TaskFailed with `kind`, `message` and `detail`
    kHang,           ///< nothing, ever (until cancelled or aborted)
  };
  Outcome outcome = Outcome::kFinish;
  double seconds = 1;
  FailureKind kind = FailureKind::kRenderError;
  std::string message;
  std::string detail;

  static TaskScript finish(double seconds = 1) {
    return {.outcome = Outcome::kFinish, .seconds = seconds, .message = {}, .detail = {}};
  }
  static TaskScript damaged(double seconds = 1) {
    return {.outcome = Outcome::kFinishDamaged, .seconds = seconds, .message = {}, .detail = {}};
  }
  static TaskScript hang() {
    return {.outcome = Outcome::kHang, .seconds = 0, .message = {}, .detail = {}};
  }
  static TaskScript fail(FailureKind kind, std::string message, std::string detail = {},
                         double seconds = 1) {
    return {Outcome::kFail, seconds, kind, std::move(message), std::move(detail)};
  }
};

/// The pixel every fake band has at (x, y), channel `c`: a pattern that differs between rows.
uint8_t fake_pixel(int x, int y, int c);
/// The whole image of fake pixels, as decode_png returns a correct output.
Image fake_image(int width, int height, int channels);
/// Rows `rows` of fake pixels, filtered and deflated by the real BandEncoder.
EncodedBand fake_band(RowRange rows, int width, int channels);

class FakeRunner : public Runner {
 public:
  /// `script(task, n)`: what the n-th task started (counting from 1) does.
  using Script = std::function<TaskScript(const Task& task, int n)>;
  /// Bands are `width` pixels of `channels` channels. After `give_up_s` of fake time, wait()
  /// reports Interrupted (SIGTERM), so a loop that would wait for ever ends and the test fails.
  FakeRunner(FakeClock& clock, int width, int channels, Script script, double give_up_s = 3600);

  void start(const Task& task) override;
  /// The next scripted event within `timeout_s` (the clock moves to its moment), else nothing
  /// (the clock moves on by `timeout_s`). Events due at the same moment come in start order.
  std::optional<RunnerEvent> wait(double timeout_s) override;
  void cancel(TaskId id) override;
  void abort() override;
  int running() const override { return static_cast<int>(running_.size()); }

  const std::vector<Task>& starts() const { return starts_; }
  const std::vector<TaskId>& cancels() const { return cancels_; }
  int aborts() const { return aborts_; }

 private:
  struct Running {
    Task task;
    TaskScript script;
    double due_s = 0;  // when its scripted event comes; a hang has none
  };
  RunnerEvent event_of(const Running& r) const;

  FakeClock& clock_;
  const int width_;
  const int channels_;
  const Script script_;
  const double give_up_s_;
  std::map<TaskId, Running> running_;
  std::vector<Task> starts_;
  std::vector<TaskId> cancels_;
  int aborts_ = 0;
};

}  // namespace taskdist::testing
