#include "core/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "bench/calibration.h"
#include "bench/simulate.h"
#include "test_support.h"

namespace taskdist {
namespace {

// The costs of the hand-computed cases: 100 rows of 0.01 CPU-s each on a 10-pixel-wide image (so
// that a band's buffer and output, per pixel, are nothing), a band's start-up 0.2 s of wall and
// 0.1 CPU-s, a master that costs nothing unless a test says so.
constexpr int kRows = 100;

SchedulerConfig job(Policy policy, bool costs_known = true) {
  SchedulerConfig c;
  c.rows = kRows;
  c.width = 10;
  c.grain = 1;
  c.block = 32;
  c.policy = policy;
  c.band_startup_s = 0.2;
  if (costs_known) c.row_costs.assign(kRows, 0.01);
  return c;
}

BandOverhead band() {
  return {.startup_wall_s = 0.2, .process_cpu_s = 0.1, .buffer_cpu_per_pixel = 0,
          .output_cpu_per_pixel = 0};
}

const std::vector<double> kRowCpu(kRows, 0.01);

TEST(SimulatorTest, StaticOnTwoNodesIsHalfTheRowsAfterOneStartUp) {
  // Given two bands of 50 rows: each 0.2 s asleep + 0.1 CPU-s + 0.5 CPU-s of tracing = 0.8 s.
  MasterCosts master{.seq1_s = 0.5, .seq2_s = 0.1};
  const SimResult r = simulate_render(job(Policy::kStatic), {.nodes = 2}, kRowCpu, band(), master);
  EXPECT_EQ(r.bands, 2);
  EXPECT_NEAR(r.seq1_s, 0.5, 1e-9);
  EXPECT_NEAR(r.parallel_s, 0.8, 1e-9);
  EXPECT_NEAR(r.seq2_s, 0.1, 1e-9);
  EXPECT_NEAR(r.total_s, 1.4, 1e-9);
  // The slots trace 0.5 s of their 0.8 s each.
  EXPECT_NEAR(r.trace_share, 0.5 / 0.8, 1e-9);
  EXPECT_NEAR(r.fixed_share, 0.3 / 0.8, 1e-9);
}

TEST(SimulatorTest, ANodesOwnTimePerBandKeepsItsSlotBusy) {
  // The same two bands, each 0.05 s longer on its node (its worker starting povray and sending
  // the band): 0.85 s.
  const SimResult r = simulate_render(job(Policy::kStatic), {.nodes = 2, .band_s = 0.05}, kRowCpu,
                                      band(), {});
  EXPECT_NEAR(r.parallel_s, 0.85, 1e-9);
  EXPECT_NEAR(r.fixed_share, 0.35 / 0.85, 1e-9);
}

TEST(SimulatorTest, ASlotsPovrayGetsOnlyTheMeasuredShareOfItsQuota) {
  // The same two bands on slots of half a core whose povray gets 80% of it (0.4 cores): each
  // 0.2 s asleep + 0.6 CPU-s / 0.4 = 1.7 s; with all of its half core, 0.2 + 1.2 = 1.4 s.
  const SimCluster half{.nodes = 2, .cpu_per_slot = 0.5};
  SimCluster short_of_it = half;
  short_of_it.quota_share = 0.8;
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), half, kRowCpu, band(), {}).parallel_s, 1.4,
              1e-9);
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), short_of_it, kRowCpu, band(), {}).parallel_s,
              1.7, 1e-9);
}

TEST(SimulatorTest, ABandsHeadStartOnItsQuotaEndsItSoonerWhereItsSlotCouldRunFaster) {
  // The same two bands on slots of half a core, with a head start of 0.1 s: each 0.2 s asleep +
  // 0.6 CPU-s / 0.5 - 0.1 = 1.3 s.
  SimCluster half{.nodes = 2, .cpu_per_slot = 0.5};
  half.quota_head_s = 0.1;
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), half, kRowCpu, band(), {}).parallel_s, 1.3,
              1e-9);
  // Never faster than a core: a head start of 1 s leaves 0.2 + 0.6 = 0.8 s.
  half.quota_head_s = 1;
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), half, kRowCpu, band(), {}).parallel_s, 0.8,
              1e-9);
  // Slots of a whole core have no quota to start ahead of: 0.8 s.
  SimCluster whole{.nodes = 2};
  whole.quota_head_s = 0.1;
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), whole, kRowCpu, band(), {}).parallel_s, 0.8,
              1e-9);
  // The two hosts share a machine of 1.5 cores, 0.5 of them busy: each may burst to 0.5 cores,
  // no more than its quota: no head start, 0.2 + 1.2 = 1.4 s. With 2.5 cores (1 each), all
  // of it: 1.3 s.
  half.quota_head_s = 0.1;
  half.shared_cores = 1.5;
  const MasterCosts busy{.busy_cores = 0.5};
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), half, kRowCpu, band(), busy).parallel_s, 1.4,
              1e-9);
  half.shared_cores = 2.5;
  EXPECT_NEAR(simulate_render(job(Policy::kStatic), half, kRowCpu, band(), busy).parallel_s, 1.3,
              1e-9);
}

TEST(SimulatorTest, OneNodeRendersEverythingInOneBand) {
  for (Policy p : {Policy::kStatic, Policy::kDynamic}) {
    const SimResult r = simulate_render(job(p), {.nodes = 1}, kRowCpu, band(), {});
    EXPECT_EQ(r.bands, 1);
    EXPECT_NEAR(r.total_s, 0.2 + 0.1 + 1.0, 1e-9);  // one start-up, all rows
  }
}

TEST(SimulatorTest, DynamicOnTwoFullCoresPaysASecondStartUpForItsTail) {
  // 1000 rows of 0.001 CPU-s. The dynamic policy's first wave covers 70% of the rows, 350 on
  // each slot: done at 0.2 + 0.1 + 0.35 = 0.65 s. Then a band must trace at least two band
  // overheads (2 x 0.2 s at the 0.001 s a row seen so far: 400 rows or more), capped at an even
  // share of the 300 rows left: 150 each, 0.65 + 0.3 + 0.15 = 1.1 s. Static (two bands of 500:
  // 0.8 s) wins here: the tail's balance saves nothing when every row costs the same, and costs
  // a start-up.
  SchedulerConfig c = job(Policy::kDynamic, false);
  c.rows = 1000;
  const std::vector<double> cpu(1000, 0.001);
  const SimResult dynamic = simulate_render(c, {.nodes = 2}, cpu, band(), {});
  EXPECT_EQ(dynamic.bands, 4);
  EXPECT_NEAR(dynamic.total_s, 1.1, 1e-9);
  c.policy = Policy::kStatic;
  const SimResult fixed = simulate_render(c, {.nodes = 2}, cpu, band(), {});
  EXPECT_EQ(fixed.bands, 2);
  EXPECT_NEAR(fixed.total_s, 0.8, 1e-9);
  // With only 100 rows, 70% would leave 30, less than a band (POV-Ray's 32-row block) for each
  // slot: the policy shares everything at once, as static does.
  const SimResult few = simulate_render(job(Policy::kDynamic, false), {.nodes = 2}, kRowCpu,
                                        band(), {});
  EXPECT_EQ(few.bands, 2);
  EXPECT_NEAR(few.total_s, 0.8, 1e-9);
}

TEST(SimulatorTest, CappedNodesGetOneBandEachAtAQuarterOfTheSpeed) {
  // At 0.25 CPU, the dynamic policy cuts one wave, a band per slot (balanced by cost): each
  // band's CPU (0.1 + 0.5) takes four times as long behind its 0.2 s of sleep: 2.6 s.
  for (Policy p : {Policy::kStatic, Policy::kDynamic}) {
    const SimResult r =
        simulate_render(job(p), {.nodes = 2, .cpu_per_slot = 0.25}, kRowCpu, band(), {});
    EXPECT_EQ(r.bands, 2) << static_cast<int>(p);
    EXPECT_NEAR(r.total_s, 2.6, 1e-9) << static_cast<int>(p);
  }
  // A core twice as fast halves the CPU part, and the scheduler does not know it.
  const SimResult fast = simulate_render(
      job(Policy::kStatic), {.nodes = 2, .cpu_per_slot = 0.25, .core_speed = 2}, kRowCpu,
      band(), {});
  EXPECT_NEAR(fast.total_s, 0.2 + 0.6 / 0.5, 1e-9);
}

TEST(SimulatorTest, HostsSharingAMachineGetAnEvenShareOfTheCoresTheMasterLeaves) {
  // Four hosts at 0.5 CPU on one machine of 1.25 cores, the master using 0.25 of them: each gets
  // (1.25 - 0.25) / 4 = 0.25. A band of 25 rows: 0.2 s asleep + (0.1 + 0.25) CPU-s at 0.25.
  const SimCluster shared{.nodes = 4, .cpu_per_slot = 0.5, .shared_cores = 1.25};
  const SimResult r = simulate_render(job(Policy::kStatic), shared, kRowCpu, band(),
                                      {.busy_cores = 0.25});
  EXPECT_NEAR(r.total_s, 0.2 + 0.35 / 0.25, 1e-9);
  // On machines of their own, the same hosts run at their 0.5.
  const SimResult apart =
      simulate_render(job(Policy::kStatic), {.nodes = 4, .cpu_per_slot = 0.5}, kRowCpu, band(),
                      {.busy_cores = 0.25});
  EXPECT_NEAR(apart.total_s, 0.2 + 0.35 / 0.5, 1e-9);
}

TEST(SimulatorTest, TheMasterServesOneBandAtATimeAndIsNamedWhenItSaturates) {
  // Four bands of 25 rows end together at 0.2 + 0.1 + 0.25 = 0.55 s; the master takes 1 s
  // each, one after the other: the last is in at 4.55 s, the master busy 4 s of it.
  MasterCosts master{.band_s = 1.0};
  const SimCluster four{.nodes = 4};
  const SimResult r = simulate_render(job(Policy::kStatic), four, kRowCpu, band(), master);
  EXPECT_NEAR(r.parallel_s, 4.55, 1e-9);
  EXPECT_NEAR(r.master_share, 4.0 / 4.55, 1e-9);
  EXPECT_NE(bottleneck(r, four, master).find("the master"), std::string::npos)
      << bottleneck(r, four, master);
}

TEST(SimulatorTest, BandsShareTheMastersLinkAndPayItsLatencyBothWays) {
  // Four bands of 25 rows x 10 pixels at 2 bytes a pixel: 500 bytes each, at 1000 bytes/s; the
  // order takes 0.01 s to the node, the band 0.01 s back after its turn on the link.
  MasterCosts master{.bytes_per_pixel = 2, .latency_s = 0.01, .bandwidth_bytes_s = 1000};
  const SimCluster four{.nodes = 4};
  const SimResult r = simulate_render(job(Policy::kStatic), four, kRowCpu, band(), master);
  // All done at 0.01 + 0.55 s; on the link one after the other until 0.56 + 4 x 0.5 = 2.56 s.
  EXPECT_NEAR(r.parallel_s, 2.57, 1e-9);
  EXPECT_NEAR(r.link_share, 2.0 / 2.57, 1e-9);
  EXPECT_NE(bottleneck(r, four, master).find("link"), std::string::npos)
      << bottleneck(r, four, master);
}

TEST(SimulatorTest, NamesPovRaysFixedCostWhenBandsAreMostlyStartUp) {
  // 64 nodes, static: bands of 1-2 rows trace 0.01-0.02 s behind 0.3 s of start-up.
  const SimCluster many{.nodes = 64};
  const SimResult r = simulate_render(job(Policy::kStatic), many, kRowCpu, band(), {});
  EXPECT_EQ(r.bands, 64);
  EXPECT_NE(bottleneck(r, many, {}).find("fixed cost per band"), std::string::npos)
      << bottleneck(r, many, {});
  // More nodes than rows: the rest never get a band.
  const SimCluster more{.nodes = 400};
  const SimResult idle = simulate_render(job(Policy::kStatic), more, kRowCpu, band(), {});
  EXPECT_EQ(idle.idle_slots, 300);
  EXPECT_NE(bottleneck(idle, more, {}).find("too few bands"), std::string::npos);
}

TEST(SimulatorTest, TheDynamicPolicyCutsNoBandUnderABlockSoThousandsOfNodesWait) {
  // The README's case: 4096 nodes on 9600 rows. The dynamic policy's bands are at least
  // POV-Ray's render block (32 rows): at most 300 bands, and most nodes never get one.
  SchedulerConfig c = job(Policy::kDynamic);
  c.rows = 9600;
  c.row_costs.assign(9600, 0.01);
  const std::vector<double> cpu(9600, 0.01);
  const SimCluster nodes{.nodes = 4096};
  const SimResult r = simulate_render(c, nodes, cpu, band(), {.band_s = 0.002});
  EXPECT_FALSE(r.aborted);
  EXPECT_LE(r.bands, 9600 / 32);
  EXPECT_GE(r.idle_slots, 4096 - 9600 / 32);
  EXPECT_NE(bottleneck(r, nodes, {}).find("too few bands"), std::string::npos)
      << bottleneck(r, nodes, {});
}

// --- the calibration file ---

class CalibrationFileTest : public ::testing::Test {
 protected:
  const std::filesystem::path dir_ = testing::fresh_dir("calibration");
};

TEST_F(CalibrationFileTest, AMissingFileIsAnErrorThatSaysHowToMakeOne) {
  auto c = load_calibration(dir_ / "none.json");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("none.json"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("taskdist simulate --calibrate"), std::string::npos);
}

TEST_F(CalibrationFileTest, ADamagedFileIsAnErrorThatNamesItAndWhatIsWrong) {
  const auto file = dir_ / "cal.json";
  std::ofstream(file) << "{\"taskdist_calibration\": 1, \"band_quick";
  auto c = load_calibration(file);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("damaged"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("cal.json"), std::string::npos);

  Calibration good;
  good.master.band_s = 0.002;
  auto j = to_json(good);
  j["master"].erase("band_s");
  std::ofstream(file, std::ios::trunc) << j.dump();
  c = load_calibration(file);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("master.band_s"), std::string::npos) << c.error().message();

  j = to_json(good);
  j["master"]["band_s"] = -1;
  std::ofstream(file, std::ios::trunc) << j.dump();
  EXPECT_FALSE(load_calibration(file));
}

TEST_F(CalibrationFileTest, WhatIsSavedIsWhatIsLoaded) {
  Calibration c;
  c.quick_start.startup_wall_s = 0.07;
  c.plain.output_cpu_per_pixel = 1.2e-7;
  c.master = {.seq1_s = 0.08, .seq1_per_node_s = 0.01, .seq2_s = 0.001, .band_s = 0.003,
              .pixel_s = 2e-9, .bytes_per_pixel = 0.4, .latency_s = 6e-5,
              .bandwidth_bytes_s = 1e9};
  c.host = "here";
  const auto file = dir_ / "sub" / "cal.json";
  ASSERT_TRUE(save_calibration(c, file));
  auto back = load_calibration(file);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->quick_start.startup_wall_s, 0.07);
  EXPECT_EQ(back->plain.output_cpu_per_pixel, 1.2e-7);
  EXPECT_EQ(back->master.bandwidth_bytes_s, 1e9);
  EXPECT_EQ(back->master.seq1_per_node_s, 0.01);
  EXPECT_EQ(back->host, "here");
}

TEST_F(CalibrationFileTest, HostsSharingAMachineStartSlowerTheMoreStartAtOnce) {
  Calibration c;
  EXPECT_EQ(c.process_factor_for(8, true), 1.0) << "nothing measured on nodes: as here";
  c.nodes_measured = true;
  c.node_process_factor = 1.1;
  c.shared_process_factors = {{1, 1.2}, {2, 1.4}, {4, 1.6}, {8, 2.0}};
  EXPECT_EQ(c.process_factor_for(8, false), 1.1) << "separate machines: a node's own factor";
  EXPECT_DOUBLE_EQ(c.process_factor_for(1, true), 1.2);
  EXPECT_DOUBLE_EQ(c.process_factor_for(3, true), 1.5);
  EXPECT_DOUBLE_EQ(c.process_factor_for(6, true), 1.8);
  EXPECT_DOUBLE_EQ(c.process_factor_for(8, true), 2.0);
  EXPECT_DOUBLE_EQ(c.process_factor_for(100, true), 2.0) << "held beyond what was measured";

  const auto file = dir_ / "shared.json";
  ASSERT_TRUE(save_calibration(c, file));
  auto back = load_calibration(file);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->shared_process_factors, c.shared_process_factors);
  const auto figures = calibration_figures(*back, true);
  EXPECT_TRUE(std::ranges::any_of(figures, [](const std::string& f) {
    return f.find("by hosts starting at once: 1: 1.20x 2: 1.40x 4: 1.60x 8: 2.00x") !=
           std::string::npos;
  }));

  auto j = to_json(c);
  j["nodes"].erase("shared_process_factors");
  j["nodes"].erase("quota_share");
  j["nodes"].erase("slot_cpu");
  std::ofstream(file, std::ios::trunc) << j.dump();
  back = load_calibration(file);
  ASSERT_TRUE(back) << "a calibration from before the table still loads: " << back.error();
  EXPECT_TRUE(back->shared_process_factors.empty());
  EXPECT_EQ(back->process_factor_for(8, true), 1.1);
  EXPECT_EQ(back->node_quota_share, 1.0) << "nothing measured: all of the quota";

  j["nodes"]["shared_process_factors"] = {{{"hosts", 4}, {"factor", 1.6}},
                                          {{"hosts", 2}, {"factor", 1.4}}};
  std::ofstream(file, std::ios::trunc) << j.dump();
  back = load_calibration(file);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message().find("nodes.shared_process_factors' is wrong at 2 hosts"),
            std::string::npos)
      << back.error().message();
}

TEST_F(CalibrationFileTest, ALoneNodesShareOfItsQuotaIsKeptAndNamed) {
  Calibration c;
  c.nodes_measured = true;
  c.node_quota_share = 0.932;
  c.node_slot_cpu = 0.25;
  c.node_quota_head_s = 0.071;
  const auto file = dir_ / "share.json";
  ASSERT_TRUE(save_calibration(c, file));
  auto back = load_calibration(file);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->node_quota_share, 0.932);
  EXPECT_EQ(back->node_slot_cpu, 0.25);
  EXPECT_EQ(back->node_quota_head_s, 0.071);
  const auto figures = calibration_figures(*back, true);
  EXPECT_TRUE(std::ranges::any_of(figures, [](const std::string& f) {
    return f.find("alone, its povray gets 93% of its slot's CPU (0.233 of 0.25 cores), and a "
                  "band ends 71 ms sooner") != std::string::npos;
  })) << figures[4];

  auto j = to_json(c);
  j["nodes"]["quota_share"] = 0;
  std::ofstream(file, std::ios::trunc) << j.dump();
  back = load_calibration(file);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message().find("'nodes.quota_share' is not a share of a quota"),
            std::string::npos)
      << back.error().message();

  j["nodes"]["quota_share"] = 0.9;
  j["nodes"]["quota_head_s"] = -0.05;
  std::ofstream(file, std::ios::trunc) << j.dump();
  back = load_calibration(file);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message().find("'nodes.quota_head_s' is -0.05"), std::string::npos)
      << back.error().message();
}

// --- a study's results, read back and compared ---

TEST_F(CalibrationFileTest, ReadsABenchsResultsAndMeasuresThePredictionsError) {
  BenchRow a;
  a.method = "taskdist";
  a.policy = "static";
  a.width = 200;
  a.height = 150;
  a.runs = a.ok_runs = 3;
  a.status = "ok";
  a.total = {.mean = 2, .median = 2, .min = 2, .max = 2};
  BenchRow b = a;
  b.nodes = 2;
  b.total = {.mean = 1, .median = 1, .min = 1, .max = 1};
  const auto file = dir_ / "results.csv";
  ASSERT_TRUE(write_csv({a, b}, file));
  auto rows = read_results_csv(file);
  ASSERT_TRUE(rows) << rows.error();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].nodes, 2);
  EXPECT_EQ((*rows)[1].total.median, 1);

  std::vector<BenchRow> predicted = *rows;
  for (auto& p : predicted) p.method = "simulate";
  predicted[0].total.median = 2.2;  // +10%
  predicted[1].total.median = 0.7;  // -30%
  const PredictionError e = prediction_error(*rows, predicted);
  EXPECT_EQ(e.points, 2);
  EXPECT_NEAR(e.mean, 0.2, 1e-9);
  EXPECT_NEAR(e.worst, 0.3, 1e-9);

  std::ofstream(file, std::ios::trunc) << "method,width\ntaskdist,200\n";
  rows = read_results_csv(file);
  ASSERT_FALSE(rows);
  EXPECT_NE(rows.error().message().find("results.csv:1"), std::string::npos) << rows.error();
}

}  // namespace
}  // namespace taskdist

namespace taskdist {
namespace {

namespace fs = std::filesystem;

TEST(SimulatorTest, RoundsOfAStudyMeasuredApartMergeIntoTheMedianOfEachPoint) {
  auto row = [](int nodes, double total, int ok) {
    BenchRow r;
    r.method = "taskdist";
    r.policy = "static";
    r.width = 200;
    r.height = 150;
    r.nodes = nodes;
    r.ok_runs = ok;
    r.seq1.median = 0.1;
    r.parallel.median = total - 0.1;
    r.total.median = total;
    return r;
  };
  const auto merged = merge_rounds({{row(1, 1.0, 1), row(2, 0.6, 1)},
                                    {row(1, 3.0, 1), row(2, 0.5, 0)},
                                    {row(1, 2.0, 1), row(2, 0.7, 1)}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].nodes, 1);
  EXPECT_DOUBLE_EQ(merged[0].total.median, 2.0);
  EXPECT_DOUBLE_EQ(merged[0].parallel.median, 1.9);
  EXPECT_EQ(merged[0].ok_runs, 3);
  // A round whose runs all failed has no say.
  EXPECT_DOUBLE_EQ(merged[1].total.median, 0.65);
  EXPECT_EQ(merged[1].ok_runs, 2);
}

TEST(SimulatorTest, ANodesProcessFactorIsWhatItsBandsLeaveForTheProcess) {
  // Here: 0.05 CPU-s of process, 100 ns a pixel of buffer. Two 200x150 bands (0.003 CPU-s of
  // buffer here, 0.01 of rows) took 0.083 and 0.086 CPU-s on the node: the median leaves
  // 0.0845 - 0.01 - 0.003 for the process, 1.43x here.
  BandOverhead here{.startup_wall_s = 0.02, .process_cpu_s = 0.05, .buffer_cpu_per_pixel = 1e-7,
                    .output_cpu_per_pixel = 0};
  std::vector<BandSample> bands = {{200, 150, {0, 150}, 0.083, 0.01},
                                   {200, 150, {0, 150}, 0.086, 0.01}};
  EXPECT_NEAR(node_process_factor(bands, here), (0.0845 - 0.01 - 0.003) / 0.05, 1e-9);
  EXPECT_EQ(node_process_factor({}, here), 1.0);
}

TEST(SimulateCliTest, WithoutACalibrationItSaysHowToMakeOneAndExitsTwo) {
  const fs::path dir = testing::fresh_dir("simulate-cli");
  const auto r = testing::run({testing::taskdist_binary().string(), "simulate",
                               testing::blob_scene().string(), "+W320", "+H240", "--nodes", "1,2",
                               "--calibration", (dir / "none.json").string(), "--out",
                               (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("none.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("taskdist simulate --calibrate"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out" / "results.csv"));

  std::ofstream(dir / "damaged.json") << "{\"taskdist_calibration\": 1, \"master\": {";
  const auto d = testing::run({testing::taskdist_binary().string(), "simulate", "+W320", "+H240",
                               "--nodes", "1", "--calibration", (dir / "damaged.json").string(),
                               "--out", (dir / "out").string()});
  EXPECT_EQ(d.exit_code, 2) << d.err;
  EXPECT_NE(d.err.find("damaged"), std::string::npos) << d.err;
}

TEST(SimulateCliTest, SimulatesASceneWithItsCalibrationAndNamesEveryFigure) {
  // A calibration written by hand; the scene's rows are measured by a real calibration render
  // (1600 wide, 8 bands of blob.pov), kept beside the calibration for the next simulation.
  const fs::path dir = testing::fresh_dir("simulate-run");
  Calibration c;
  c.quick_start = {.startup_wall_s = 0.02, .process_cpu_s = 0.05, .buffer_cpu_per_pixel = 1e-7,
                   .output_cpu_per_pixel = 0};
  c.plain = c.quick_start;
  c.master = {.seq1_s = 0.06, .seq1_per_node_s = 0.004, .seq2_s = 0.001, .band_s = 0.001,
              .pixel_s = 2e-9, .bytes_per_pixel = 0.13, .latency_s = 1e-4,
              .bandwidth_bytes_s = 1e8};
  c.host = "the test";
  ASSERT_TRUE(save_calibration(c, dir / "cal.json"));
  const auto r = testing::run({testing::taskdist_binary().string(), "simulate",
                               testing::blob_scene().string(), "+W800", "+H600", "--nodes",
                               "1,2,4", "--calibration", (dir / "cal.json").string(), "--out",
                               (dir / "out").string()},
                              {}, 300);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* figure : {"band start-up: 0.020 s", "master: 1.00 ms a band",
                             "first sequential part 0.060 s", "network: 100 us latency",
                             "row costs at 800x600: a calibration render"}) {
    EXPECT_NE(r.out.find(figure), std::string::npos) << figure << "\n" << r.out;
  }
  EXPECT_TRUE(fs::exists(dir / "simulate-profiles")) << "the calibration render is kept";
  auto rows = read_results_csv(dir / "out" / "results.csv");
  ASSERT_TRUE(rows) << rows.error();
  EXPECT_EQ(rows->size(), 6u) << "2 policies x 3 node counts";
  for (const BenchRow& row : *rows) {
    EXPECT_EQ(row.method, "simulate");
    // The first sequential part is the calibration's, whatever the rows cost.
    EXPECT_NEAR(row.seq1.median, 0.06 + 0.004 * row.nodes, 1e-4) << row.nodes;
    EXPECT_GT(row.parallel.median, 0) << row.nodes;
  }
  EXPECT_TRUE(fs::exists(dir / "out" / "fig9_speedup.png"));
  EXPECT_TRUE(fs::exists(dir / "out" / "simulate.md"));
  EXPECT_NE(r.out.find("limited by"), std::string::npos) << r.out;

  // The link given on the command line wins, and says so; the calibration render is re-used.
  const auto given = testing::run({testing::taskdist_binary().string(), "simulate",
                                   testing::blob_scene().string(), "+W800", "+H600", "--nodes",
                                   "2", "--latency", "0.001", "--bandwidth", "50",
                                   "--calibration", (dir / "cal.json").string(), "--out",
                                   (dir / "out2").string()});
  ASSERT_EQ(given.exit_code, 0) << given.err;
  EXPECT_NE(given.out.find("network: 1000 us latency, 50 MB/s at the master"), std::string::npos)
      << given.out;
  EXPECT_NE(given.out.find("given on the command line"), std::string::npos) << given.out;
  EXPECT_EQ(given.err.find("calibration render"), std::string::npos) << given.err;

  // Hosts sharing a machine (--shared-cores) start povray 3x slower with 8 starting at once, as
  // measured; separate machines as one alone. 64 cores: the share of the cores does not bind.
  c.nodes_measured = true;
  c.node_process_factor = 1.0;
  c.shared_process_factors = {{1, 1.0}, {8, 3.0}};
  ASSERT_TRUE(save_calibration(c, dir / "cal-shared.json"));
  auto parallel_on_8 = [&](const std::vector<std::string>& extra, const std::string& out) {
    std::vector<std::string> args = {testing::taskdist_binary().string(), "simulate",
                                     testing::blob_scene().string(), "+W800", "+H600",
                                     "--nodes", "8", "--policy", "static", "--calibration",
                                     (dir / "cal-shared.json").string(), "--out",
                                     (dir / out).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto run = testing::run(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    auto got = read_results_csv(dir / out / "results.csv");
    return got && got->size() == 1 ? got->front().parallel.median : -1.0;
  };
  const double apart = parallel_on_8({}, "apart");
  const double shared = parallel_on_8({"--shared-cores", "64"}, "shared");
  ASSERT_GT(apart, 0);
  EXPECT_NEAR(shared - apart, (3.0 - 1.0) * 0.05, 1e-3) << "each band's start-up, 2x 0.05 CPU-s";
}

}  // namespace
}  // namespace taskdist
