// The journal on its own: what it refuses, what it re-uses, what it throws away.
#include "image/band_encoder.h"
#include "store/journal.h"

#include <gtest/gtest.h>

#include <fstream>

#include "store/band_file.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

Job job_in(const fs::path& dir) {
  fs::create_directories(dir / "scene");
  if (!fs::exists(dir / "scene" / "s.pov")) std::ofstream(dir / "scene" / "s.pov") << "sphere{0,1}\n";
  Job job;
  job.scene = dir / "scene" / "s.pov";
  job.scene_dir = dir / "scene";
  job.width = 4;
  job.height = 10;
  job.pov_options = {"+A0.3"};
  job.output = dir / "out.png";
  job.job_dir = dir / "out.png.taskdist";
  return job;
}

EncodedBand band(RowRange rows, int width = 4) {
  BandEncoder enc(width, 3, 6);
  std::vector<uint8_t> row(static_cast<size_t>(width) * 3, 7);
  for (int r = rows.begin; r < rows.end; ++r) enc.add_row(r, row);
  return enc.finish(rows);
}

TEST(JournalTest, ANewJobCreatesTheFolderAndRemovesItAfterSuccess) {
  const fs::path dir = fresh_dir("journal-new");
  const Job job = job_in(dir);
  auto j = Journal::open(job);
  ASSERT_TRUE(j) << j.error();
  EXPECT_TRUE(fs::exists(job.job_dir / "job.json"));
  EXPECT_TRUE(j->reused().empty());
  auto file = j->record(band({0, 5}));
  ASSERT_TRUE(file) << file.error();
  EXPECT_TRUE(read_band_file(*file));
  EXPECT_EQ(j->bands(), 1);
  j->remove();
  EXPECT_FALSE(fs::exists(job.job_dir));
}

TEST(JournalTest, AnUnfinishedRunIsRefusedWithoutResumeAndReusedWithIt) {
  const fs::path dir = fresh_dir("journal-resume");
  Job job = job_in(dir);
  {
    auto j = Journal::open(job);
    ASSERT_TRUE(j) << j.error();
    ASSERT_TRUE(j->record(band({5, 10})));
    ASSERT_TRUE(j->record(band({0, 3})));
    std::ofstream(job.job_dir / "bands" / "band-000004-000005.tdb.part") << "torn";
  }
  auto refused = Journal::open(job);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("2 finished bands"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().message().find("--resume"), std::string::npos) << refused.error();

  job.resume = true;
  auto j = Journal::open(job);
  ASSERT_TRUE(j) << j.error();
  ASSERT_EQ(j->reused().size(), 2u);
  EXPECT_EQ(j->reused()[0].rows, (RowRange{0, 3}));
  EXPECT_EQ(j->reused()[1].rows, (RowRange{5, 10}));
  EXPECT_FALSE(fs::exists(job.job_dir / "bands" / "band-000004-000005.tdb.part"))
      << "a band torn by the crash is cleared away";
}

TEST(JournalTest, ADamagedOrMisfittingBandIsRemovedAndNamed) {
  const fs::path dir = fresh_dir("journal-damaged");
  Job job = job_in(dir);
  fs::path damaged;
  {
    auto j = Journal::open(job);
    ASSERT_TRUE(j);
    damaged = *j->record(band({0, 5}));
    ASSERT_TRUE(j->record(band({5, 10}, 6)));  // rows of another width
  }
  std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(-3, std::ios::end);
  f.put('\x5a');
  f.close();
  job.resume = true;
  auto j = Journal::open(job);
  ASSERT_TRUE(j) << j.error();
  EXPECT_TRUE(j->reused().empty());
  ASSERT_EQ(j->notes().size(), 2u);
  EXPECT_NE(j->notes()[0].find("damaged"), std::string::npos) << j->notes()[0];
  EXPECT_NE(j->notes()[1].find("does not fit a 4x10 image"), std::string::npos) << j->notes()[1];
  EXPECT_FALSE(fs::exists(damaged));
}

TEST(JournalTest, AnotherJobIsRefusedAndTheDifferenceNamed) {
  const fs::path dir = fresh_dir("journal-other");
  Job job = job_in(dir);
  ASSERT_TRUE(Journal::open(job));
  job.resume = true;

  Job bigger = job;
  bigger.width = 8;
  auto r1 = Journal::open(bigger);
  ASSERT_FALSE(r1);
  EXPECT_NE(r1.error().message().find("its size is 4x10, not 8x10"), std::string::npos) << r1.error();

  Job other_options = job;
  other_options.pov_options = {"+A0.1"};
  auto r2 = Journal::open(other_options);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message().find("+A0.3"), std::string::npos) << r2.error();

  std::ofstream(dir / "scene" / "s.pov", std::ios::app) << "// edited\n";
  auto r3 = Journal::open(job);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message().find("the scene file s.pov has changed"), std::string::npos) << r3.error();

  std::ofstream(dir / "scene" / "s.pov") << "sphere{0,1}\n";  // as it was
  EXPECT_TRUE(Journal::open(job)) << "the same files again: the same job";
  std::ofstream(dir / "scene" / "texture.inc") << "#declare T = 1;\n";
  auto r4 = Journal::open(job);
  ASSERT_FALSE(r4);
  EXPECT_NE(r4.error().message().find("texture.inc is new"), std::string::npos) << r4.error();
}

TEST(JournalTest, TheOutputAndAForeignFolderAreHandled) {
  const fs::path dir = fresh_dir("journal-foreign");
  Job job = job_in(dir);
  // The output beside the scene does not count as a scene file (it changes from run to run).
  job.output = dir / "scene" / "out.png";
  job.job_dir = dir / "scene" / "out.png.taskdist";
  ASSERT_TRUE(Journal::open(job));
  std::ofstream(dir / "scene" / "out.png.part-99999") << "partial";
  job.resume = true;
  EXPECT_TRUE(Journal::open(job));

  Job foreign = job_in(dir);
  foreign.job_dir = dir / "not-a-job";
  fs::create_directories(foreign.job_dir);
  std::ofstream(foreign.job_dir / "notes.txt") << "mine";
  auto r = Journal::open(foreign);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("is not a taskdist job folder"), std::string::npos) << r.error();
  EXPECT_TRUE(fs::exists(foreign.job_dir / "notes.txt")) << "nothing of the user's is touched";
}

TEST(JournalTest, ASecondTaskdistOnTheSameJobIsRefused) {
  const fs::path dir = fresh_dir("journal-lock");
  const Job job = job_in(dir);
  auto first = Journal::open(job);
  ASSERT_TRUE(first);
  Job again = job;
  again.resume = true;
  auto second = Journal::open(again);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("another taskdist is working on"), std::string::npos)
      << second.error();
}

}  // namespace
}  // namespace taskdist
