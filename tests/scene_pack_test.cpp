#include "exec/scene_pack.h"

#include <gtest/gtest.h>

#include <fstream>

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
  ASSERT_TRUE(pack) << pack.error();
  EXPECT_EQ(pack->files, 2);
  ASSERT_EQ(unpack_scene(pack->bytes, dst), std::nullopt);
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
  EXPECT_NE(pack.error().find("more than 2 MiB"), std::string::npos) << pack.error();
  EXPECT_NE(pack.error().find("--scene-dir"), std::string::npos) << pack.error();
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
    auto err = unpack_scene(w.take(), dst);
    ASSERT_TRUE(err.has_value());
    EXPECT_NE(err->find("refused"), std::string::npos) << *err;
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
  auto err = unpack_scene(pack->bytes, dst);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("secret"), std::string::npos) << *err;
}

TEST(ScenePackTest, RefusesADamagedPack) {
  const fs::path dst = fresh_dir("pack-bad");
  EXPECT_TRUE(unpack_scene("not a pack", dst).has_value());
  ScenePackWriter w;
  w.add_file("a.pov", "0123456789");
  std::string bytes = w.take();
  bytes.resize(bytes.size() - 3);
  auto err = unpack_scene(bytes, dst);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("truncated"), std::string::npos) << *err;
}

}  // namespace
}  // namespace taskdist
