#include "core/job.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/pov_options.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;

fs::path write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
  return p;
}

JobRequest request_for(const fs::path& scene, std::vector<std::string> args = {}) {
  JobRequest r;
  r.scene = scene.string();
  r.pov_args = std::move(args);
  r.output = (scene.parent_path() / "out.png").string();
  return r;
}

TEST(JobTest, TakesSizeAndPassesOtherOptionsInOrder) {
  const fs::path dir = fresh_dir("job");
  const fs::path scene = write(dir / "s.pov", "sphere{0,1}");
  auto job = build_job(request_for(scene, {"+W800", "+A0.3", "Height=600", "+AM2"}));
  ASSERT_TRUE(job) << job.error();
  EXPECT_EQ(job->width, 800);
  EXPECT_EQ(job->height, 600);
  EXPECT_EQ(job->pov_options, (std::vector<std::string>{"+A0.3", "+AM2"}));
  EXPECT_EQ(job->scene_dir, dir);
  EXPECT_EQ(job->threads_per_band, 1);
}

TEST(JobTest, BandsMayStartOnAnyRowOnlyWhereAntialiasingIsOff) {
  // Given: antialiasing method 1 gives a full render's pixels only to bands cut on render blocks.
  const fs::path dir = fresh_dir("job-grain");
  const fs::path scene = write(dir / "s.pov", "sphere{0,1}");
  const fs::path ini = write(dir / "aa.ini", "Input_File_Name=s.pov\nAntialias=on\n");
  auto grain = [&](const fs::path& input, std::vector<std::string> args) {
    auto job = build_job(request_for(input, std::move(args)));
    EXPECT_TRUE(job) << job.error();
    return job ? job->row_grain() : -1;
  };
  // Expect: the options, in order, decide; the block size is the grain where it is on.
  EXPECT_EQ(grain(scene, {"+A0.3"}), 32);
  EXPECT_EQ(grain(scene, {"+A0.3", "+BS16"}), 16);
  EXPECT_EQ(grain(scene, {"+A0.3", "-A"}), 1);
  EXPECT_EQ(grain(ini, {}), 32);
  EXPECT_EQ(grain(ini, {"Antialias=off"}), 1);
  EXPECT_EQ(grain(scene, {"Include_Ini=quality.ini"}), 32) << "an INI taskdist does not read";
  EXPECT_EQ(grain(scene, {"Include_Ini=quality.ini", "-A"}), 1);
  // POV-Ray's own INI files come first: $POVINI turning it on counts unless the options say off.
  const char* old = std::getenv("POVINI");
  const std::string saved = old ? old : "";
  ::setenv("POVINI", write(dir / "povray.ini", "+A0.2\n").c_str(), 1);
  EXPECT_EQ(grain(scene, {}), 32);
  EXPECT_EQ(grain(scene, {"-A"}), 1);
  old ? ::setenv("POVINI", saved.c_str(), 1) : ::unsetenv("POVINI");
  if (ini_files_may_antialias(default_ini_files())) {
    GTEST_SKIP() << "this machine's own povray.ini may turn antialiasing on";
  }
  EXPECT_EQ(grain(scene, {}), 1);
}

TEST(JobTest, ReadsSizeAndSceneFromAnIniFile) {
  const fs::path dir = fresh_dir("job");
  fs::create_directories(dir / "sub");
  write(dir / "sub" / "s.pov", "sphere{0,1}");
  const fs::path ini = write(dir / "r.ini",
                             "; a comment\nInput_File_Name=sub/s.pov\nWidth=64\nHeight = 48\n"
                             "Antialias=on\n+AM2\n[other]\nWidth=5\n");
  auto job = build_job(request_for(ini));
  ASSERT_TRUE(job) << job.error();
  EXPECT_EQ(job->scene, dir / "sub" / "s.pov");
  EXPECT_EQ(job->width, 64);
  EXPECT_EQ(job->height, 48);
  EXPECT_EQ(job->pov_options, (std::vector<std::string>{"Antialias=on", "+AM2"}));
}

TEST(JobTest, NamesTheIniLineOfARefusedSetting) {
  const fs::path dir = fresh_dir("job");
  write(dir / "s.pov", "sphere{0,1}");
  const fs::path ini = write(dir / "r.ini", "Input_File_Name=s.pov\nStart_Row=10\n");
  auto job = build_job(request_for(ini));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("r.ini:2"), std::string::npos) << job.error();
  EXPECT_NE(job.error().message().find("Start_Row=10"), std::string::npos) << job.error();
}

TEST(JobTest, RefusesBadSizes) {
  const fs::path dir = fresh_dir("job");
  const fs::path scene = write(dir / "s.pov", "sphere{0,1}");
  for (const char* bad : {"+W0", "+W-5", "+Wabc", "+H70000"}) {
    auto job = build_job(request_for(scene, {bad}));
    ASSERT_FALSE(job) << bad;
    EXPECT_NE(job.error().message().find(std::string(bad[1] == 'W' ? "width" : "height")), std::string::npos)
        << job.error();
  }
}

TEST(JobTest, MissingSceneAndOutputDirectoryAreNamed) {
  const fs::path dir = fresh_dir("job");
  auto job = build_job(request_for(dir / "nope.pov"));
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("nope.pov' not found"), std::string::npos) << job.error();

  const fs::path scene = write(dir / "s.pov", "sphere{0,1}");
  JobRequest r = request_for(scene);
  r.output = (dir / "missing" / "out.png").string();
  job = build_job(r);
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("does not exist"), std::string::npos) << job.error();
}

TEST(JobTest, LibraryPathsBecomeAbsoluteAndQuoted) {
  const fs::path dir = fresh_dir("job");
  const fs::path scene = write(dir / "s.pov", "sphere{0,1}");
  auto job = build_job(request_for(scene, {"+Lmy includes"}));
  ASSERT_TRUE(job) << job.error();
  ASSERT_EQ(job->pov_options.size(), 1u);
  EXPECT_EQ(job->pov_options[0], "+L\"" + (fs::current_path() / "my includes").string() + "\"");
}

TEST(JobTest, MissingPovrayNamesThePackage) {
  const fs::path dir = fresh_dir("job");
  JobRequest r = request_for(write(dir / "s.pov", "sphere{0,1}"));
  r.povray = (dir / "no-povray-here").string();
  auto job = build_job(r);
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("apt-get install povray"), std::string::npos) << job.error();
}

TEST(JobTest, OptionsMustBeUtf8) {
  const fs::path dir = fresh_dir("job");
  JobRequest r = request_for(write(dir / "s.pov", "sphere{0,1}"));
  r.pov_args = {"Declare=Name=\"h\xc3\xa9llo\""};  // UTF-8: fine
  EXPECT_TRUE(build_job(r));
  r.pov_args = {"-P\x8cI"};
  auto job = build_job(r);
  ASSERT_FALSE(job);
  EXPECT_NE(job.error().message().find("is not valid UTF-8 text"), std::string::npos) << job.error();
  r.pov_args = {"+W\xe2\x82"};  // cut short
  EXPECT_FALSE(build_job(r));
}

}  // namespace
}  // namespace taskdist
