// `taskdist bench` end to end on the local engine: the real taskdist, povray, ImageMagick and
// gnuplot, at small sizes (issue 4's CI check).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bench/study.h"
#include "core/planner.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(BenchTest, SmallStudyWritesTheTableFiguresAndReport) {
  const fs::path out = fresh_dir("bench") / "study";
  const RunResult r = run({taskdist_binary().string(), "bench", "--sizes", "200x150,800x600",
                           "--nodes", "1,2", "--repeat", "1", "--out", out.string()},
                          {}, 600);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("12/12"), std::string::npos) << "progress for every run: " << r.err;

  // results.csv: every column the study asks for, one row per size x nodes x policy x method.
  std::istringstream csv(read_all(out / "results.csv"));
  std::string header;
  std::getline(csv, header);
  std::vector<std::string> expected = {"method", "policy", "width", "height", "nodes", "status",
                                       "speedup", "efficiency", "seq1_pct", "parallel_pct",
                                       "seq2_pct", "master_peak_rss_mib",
                                       "worker_peak_rss_mib"};
  for (const char* phase : {"seq1", "parallel", "seq2", "total"}) {
    for (const char* stat : {"mean", "median", "min", "max"}) {
      expected.push_back(std::string(phase) + "_" + stat + "_s");
    }
  }
  for (const auto& col : expected) {
    EXPECT_NE(("," + header + ",").find("," + col + ","), std::string::npos) << col;
  }
  int rows = 0, paper_rows = 0;
  for (std::string line; std::getline(csv, line);) {
    ++rows;
    if (line.starts_with("paper,")) ++paper_rows;
    EXPECT_NE(line.find("\"ok\""), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 12);       // 2 sizes x 2 node counts x (dynamic, static, paper)
  EXPECT_EQ(paper_rows, 4);

  for (const char* png : {"fig7_phases.png", "fig9_speedup.png", "fig10_shares.png",
                          "efficiency.png"}) {
    SCOPED_TRACE(png);
    const Image image = decode_png(out / png);  // libpng: a valid PNG or the test fails
    EXPECT_GT(image.width, 100);
    EXPECT_GT(image.height, 100);
  }
  const std::string report = read_all(out / "report.md");
  EXPECT_NE(report.find("POV-Ray 3.7"), std::string::npos) << report;
  EXPECT_NE(report.find("cores online"), std::string::npos) << report;
  EXPECT_NE(report.find("fig9_speedup.png"), std::string::npos) << report;
  EXPECT_NE(report.find("| paper | - | 800x600 | 2 |"), std::string::npos) << report;
}

TEST(BenchTest, ThePapersMethodRebuildsTheFullRender) {
  // Given: the paper's per-node commands (povray full-height PNG, convert -extract) for 3 bands
  // of blob.pov 320x240, and the master's convert -append.
  // Expect: the appended image is pixel-identical to one full render.
  const fs::path dir = fresh_dir("paper-method");
  BenchRun run{"paper", "-", 320, 240, 3, blob_scene(), "/usr/bin/povray", false,
               "/usr/bin/convert", dir, dir / "profiles"};
  std::vector<CommandChain> chains;
  std::vector<std::string> parts;
  const auto bands = static_plan(240, 3, 1);
  ASSERT_EQ(bands.size(), 3u);
  for (size_t i = 0; i < bands.size(); ++i) {
    parts.push_back((dir / ("part" + std::to_string(i) + ".png")).string());
    chains.push_back(paper_band_chain(run.povray, run.convert, run.scene, 320, 240, bands[i],
                                      dir / ("full" + std::to_string(i) + ".png"), parts.back()));
  }
  const ChainsResult nodes = run_chains(chains, dir);
  ASSERT_EQ(nodes.error, "");
  const ChainsResult master = append_parts(run, parts);
  ASSERT_EQ(master.error, "");
  EXPECT_EQ(count_differences(decode_png(dir / "paper.png"),
                              decode_png(reference_render(blob_scene(), 320, 240, {}))),
            0);
  // A part that is not the band (here: a whole image) makes a wrong image: an error, not a time.
  parts[1] = (dir / "full1.png").string();
  EXPECT_NE(append_parts(run, parts).error.find("the appended image is 320x400"),
            std::string::npos);
}

TEST(BenchTest, RefusesABadSize) {
  const RunResult r = run({taskdist_binary().string(), "bench", "--sizes", "200by150", "--out",
                           (fresh_dir("bench-bad") / "x").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'200by150' is not WIDTHxHEIGHT"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace taskdist
