#include "exec/scene_pack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(ScenePackTest, RoundTripsFilesFoldersAndInnerLinks) {
  const fs::path src = fresh_dir("pack-src"), dst = fresh_dir("pack-dst");
  write(src / "scene.pov", "#include \"inc/colors.inc\"\n");
  write(src / "inc" / "colors.inc", "// colors\n");
  fs::create_directory(src / "empty");
  fs::create_symlink("inc/colors.inc", src / "alias.inc");
  auto pack = pack_scene_dir(src, 1 << 20);
  ASSERT_TRUE(pack) << pack.error().message();
  EXPECT_EQ(pack->files, 2);
  const auto unpacked = unpack_scene(pack->bytes, dst);
  ASSERT_TRUE(unpacked) << unpacked.error().message();
  EXPECT_EQ(read(dst / "scene.pov"), read(src / "scene.pov"));
  EXPECT_EQ(read(dst / "inc" / "colors.inc"), "// colors\n");
  EXPECT_TRUE(fs::is_directory(dst / "empty"));
  EXPECT_TRUE(fs::is_symlink(dst / "alias.inc"));
  EXPECT_EQ(read(dst / "alias.inc"), "// colors\n");
}

TEST(ScenePackTest, RefusesAFolderOverTheLimit) {
  const fs::path src = fresh_dir("pack-big");
  write(src / "big.dat", std::string(3 << 20, 'x'));
  auto pack = pack_scene_dir(src, 2 << 20);
  ASSERT_FALSE(pack);
  const std::string message = pack.error().message();
  EXPECT_NE(message.find("more than 2 MiB"), std::string::npos) << message;
  EXPECT_NE(message.find("--scene-dir"), std::string::npos) << message;
}

TEST(ScenePackTest, RefusesEntriesThatLeaveTheFolder) {
  struct Case {
    const char* name;
    std::function<void(ScenePackWriter&)> build;
  };
  const std::vector<Case> cases = {
      {"absolute path", [](ScenePackWriter& w) { w.add_file("/tmp/evil", "x"); }},
      {"dot-dot", [](ScenePackWriter& w) { w.add_file("a/../../evil", "x"); }},
      {"absolute link", [](ScenePackWriter& w) { w.add_link("l", "/etc/passwd"); }},
      {"link leaving", [](ScenePackWriter& w) { w.add_link("d/l", "../../evil"); }},
      {"through a link", [](ScenePackWriter& w) {
         w.add_link("here", ".");
         w.add_file("here/x", "x");
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path root = fresh_dir("pack-evil");
    const fs::path dst = root / "dst";
    fs::create_directory(dst);
    ScenePackWriter w;
    c.build(w);
    auto unpacked = unpack_scene(w.take(), dst);
    ASSERT_FALSE(unpacked);
    const std::string err = unpacked.error().message();
    EXPECT_NE(err.find("refused"), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(root / "evil"));
    EXPECT_FALSE(fs::exists("/tmp/evil"));
  }
}

TEST(ScenePackTest, LinksLeavingTheFolderArePackedButRefusedOnUnpack) {
  const fs::path src = fresh_dir("pack-leak"), dst = fresh_dir("pack-leak-dst");
  write(src / "scene.pov", "sphere{0,1}\n");
  fs::create_symlink("/etc/passwd", src / "secret");
  auto pack = pack_scene_dir(src, 1 << 20);
  ASSERT_TRUE(pack);
  auto unpacked = unpack_scene(pack->bytes, dst);
  ASSERT_FALSE(unpacked);
  EXPECT_NE(unpacked.error().message().find("secret"), std::string::npos)
      << unpacked.error().message();
}

TEST(ScenePackTest, RefusesADamagedPack) {
  const fs::path dst = fresh_dir("pack-bad");
  EXPECT_FALSE(unpack_scene("not a pack", dst));
  ScenePackWriter w;
  w.add_file("a.pov", "0123456789");
  const std::string whole = w.take();
  // Cut in its end-of-archive marker, in its data, or right after its last entry.
  for (const size_t cut : {size_t{3}, whole.size() - 520, size_t{1024}}) {
    SCOPED_TRACE(cut);
    const fs::path into = fresh_dir("pack-cut");
    auto unpacked = unpack_scene(whole.substr(0, whole.size() - cut), into);
    ASSERT_FALSE(unpacked);
    EXPECT_NE(unpacked.error().message().find("truncated"), std::string::npos)
        << unpacked.error().message();
  }
  auto unpacked = unpack_scene(whole + "junk", fresh_dir("pack-junk"));
  ASSERT_FALSE(unpacked);
  EXPECT_NE(unpacked.error().message().find("4 bytes after"), std::string::npos)
      << unpacked.error().message();
}

// The pack is a standard tar: GNU tar lists the entries pack_scene_dir wrote, with their types,
// modes and link targets, and extracts them.
TEST(ScenePackTest, APackIsATarThatGnuTarListsAndExtracts) {
  const fs::path src = fresh_dir("pack-tar-src"), box = fresh_dir("pack-tar");
  write(src / "scene.pov", "#include \"inc/colors.inc\"\n");
  write(src / "inc" / "colors.inc", "// colors\n");
  fs::permissions(src / "scene.pov", fs::perms(0644));
  fs::permissions(src / "inc", fs::perms(0755));
  fs::create_directory(src / "empty", src / "inc");
  fs::create_symlink("inc/colors.inc", src / "alias.inc");
  auto pack = pack_scene_dir(src, 1 << 20);
  ASSERT_TRUE(pack) << pack.error().message();
  std::ofstream(box / "scene.tar", std::ios::binary) << pack->bytes;

  const RunResult list = run({"tar", "-tvf", (box / "scene.tar").string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::set<std::string> listed;  // mode and name (" -> target" for a link), per line
  std::istringstream lines(list.out);
  for (std::string line; std::getline(lines, line);) {
    // -rw-r--r-- 0/0  26 1970-01-01 00:00 scene.pov
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, name;
    fields >> mode >> owner >> size >> date >> time;
    std::getline(fields >> std::ws, name);
    listed.insert(mode + " " + name);
  }
  EXPECT_EQ(listed, (std::set<std::string>{"-rw-r--r-- scene.pov", "drwxr-xr-x inc/",
                                           "-rw-r--r-- inc/colors.inc", "drwxr-xr-x empty/",
                                           "lrwxrwxrwx alias.inc -> inc/colors.inc"}))
      << list.out;

  fs::create_directory(box / "out");
  const RunResult extract =
      run({"tar", "-xf", (box / "scene.tar").string(), "-C", (box / "out").string()});
  ASSERT_EQ(extract.exit_code, 0) << extract.err;
  EXPECT_EQ(read(box / "out" / "scene.pov"), read(src / "scene.pov"));
  EXPECT_EQ(read(box / "out" / "alias.inc"), "// colors\n");
}

// A tar made by another program may hold hard links and FIFOs, which pack_scene_dir never
// writes: they are refused, by name.
TEST(ScenePackTest, RefusesHardLinksAndFifosFromAnotherTar) {
  struct Case {
    const char* name;
    const char* entry;
    const char* why;
  };
  for (const Case& c : {Case{"hard link", "b.pov", "hard link"}, Case{"fifo", "pipe", "FIFO"}}) {
    SCOPED_TRACE(c.name);
    const fs::path src = fresh_dir("pack-gnu-src"), dst = fresh_dir("pack-gnu-dst");
    write(src / "a.pov", "sphere{0,1}\n");
    if (std::string(c.entry) == "b.pov") {
      fs::create_hard_link(src / "a.pov", src / "b.pov");
    } else {
      ASSERT_EQ(::mkfifo((src / "pipe").c_str(), 0644), 0);
    }
    const fs::path tar = fresh_dir("pack-gnu") / "x.tar";
    const RunResult made = run({"tar", "-cf", tar.string(), "-C", src.string(), "a.pov", c.entry});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto unpacked = unpack_scene(read(tar), dst);
    ASSERT_FALSE(unpacked);
    const std::string err = unpacked.error().message();
    EXPECT_NE(err.find(std::string("refused scene entry '") + c.entry + "'"), std::string::npos)
        << err;
    EXPECT_NE(err.find(c.why), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace taskdist
