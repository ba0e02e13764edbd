// The run report: the paper's three phases as a table and as JSON, from a report built by hand.
#include "report/run_report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

Job job_of(int width, int height, int slots) {
  Job job;
  job.scene = "/scenes/blob.pov";
  job.output = "/out/blob.png";
  job.width = width;
  job.height = height;
  job.slots = slots;
  return job;
}

TaskRecord task(TaskId id, RowRange rows, std::string outcome) {
  TaskRecord t;
  t.id = id;
  t.rows = rows;
  t.where = "slot " + std::to_string(id);
  t.outcome = std::move(outcome);
  return t;
}

// Given a run of 10 s with 1 s before the first band and 2 s after the last, expect the three
// phases of the paper, their shares, and a count of the bands that failed or lost a race.
TEST(RunReportTest, TimingTableShowsThePhasesAndTheBands) {
  RunReport r;
  r.first_dispatch_s = 1;
  r.last_arrival_s = 8;
  r.end_s = 10;
  r.tasks = {task(1, {0, 50}, "ok"), task(2, {50, 100}, "povray crashed"),
             task(3, {50, 100}, "ok"), task(4, {50, 100}, "stopped: the copy finished first")};
  r.lost = {"node2 (rank 2)"};
  const std::string table = timing_table(job_of(320, 100, 2), r);
  EXPECT_NE(table.find("first sequential part        1.000 s   10.0 %"), std::string::npos)
      << table;
  EXPECT_NE(table.find("parallel part                7.000 s   70.0 %"), std::string::npos)
      << table;
  EXPECT_NE(table.find("second sequential part       2.000 s   20.0 %"), std::string::npos)
      << table;
  EXPECT_NE(table.find("320x100, 2 bands (dynamic policy, 2 slots), blob.pov -> /out/blob.png"), std::string::npos)
      << table;
  EXPECT_NE(table.find("1 band failed and was retried; 1 losing copy"), std::string::npos) << table;
  EXPECT_NE(table.find("lost: node2 (rank 2)"), std::string::npos) << table;
}

TEST(RunReportTest, JsonReportHoldsPhasesTasksAndRowsOneBased) {
  RunReport r;
  r.first_dispatch_s = 0.5;
  r.last_arrival_s = 4.5;
  r.end_s = 5;
  r.tasks = {task(7, {10, 20}, "ok")};
  r.reused = {{0, 10}};
  const fs::path file = testing::fresh_dir("run-report") / "run.json";
  ASSERT_TRUE(write_json_report(job_of(64, 20, 1), r, file));
  const nlohmann::json doc = nlohmann::json::parse(std::ifstream(file));
  EXPECT_DOUBLE_EQ(doc["seq1_s"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(doc["parallel_s"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(doc["seq2_s"].get<double>(), 0.5);
  ASSERT_EQ(doc["tasks"].size(), 1u);
  EXPECT_EQ(doc["tasks"][0]["first_row"], 10);
  EXPECT_EQ(doc["tasks"][0]["last_row"], 19);
  EXPECT_EQ(doc["tasks"][0]["rows"], 10);
  EXPECT_EQ(doc["reused"][0]["rows"], 10);
  EXPECT_TRUE(doc["cost_profile"].is_null());
}

TEST(RunReportTest, AnUnwritableReportIsNamed) {
  const auto written = write_json_report(job_of(8, 8, 1), RunReport{}, "/proc/no-such/run.json");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message().find("/proc/no-such/run.json"), std::string::npos)
      << written.error();
}

}  // namespace
}  // namespace taskdist
