#include "exec/local_runner.h"

#include <gtest/gtest.h>

#include "core/job.h"
#include "test_support.h"

namespace taskdist {
namespace {

// Given: three tiny bands rendered at once by real povray processes (they often end in the same
// poll). Expect: running() counts every task until wait() has returned its end, so the loop
// never believes that nothing is running while results are still queued.
TEST(LocalRunnerTest, CountsTasksUntilTheirEndIsReturned) {
  JobRequest request;
  request.scene = testing::blob_scene().string();
  request.pov_args = {"+W64", "+H96"};
  const auto dir = testing::fresh_dir("runner");
  request.output = (dir / "o.png").string();
  auto job = build_job(request);
  ASSERT_TRUE(job) << job.error();
  LocalRunner runner(render_settings_for(*job), dir);
  for (int i = 0; i < 3; ++i) runner.start(Task{i + 1, i, {i * 32, i * 32 + 32}, 1});
  int ended = 0;
  for (int spins = 0; ended < 3 && spins < 1000; ++spins) {
    EXPECT_EQ(runner.running(), 3 - ended);
    auto e = runner.wait(1.0);
    if (!e) continue;
    if (std::holds_alternative<TaskFinished>(*e)) {
      ++ended;
    } else {
      ASSERT_TRUE(std::holds_alternative<TaskProgress>(*e)) << "a band failed";
    }
  }
  EXPECT_EQ(ended, 3);
  EXPECT_EQ(runner.running(), 0);
}

}  // namespace
}  // namespace taskdist
