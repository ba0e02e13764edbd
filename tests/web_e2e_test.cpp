// The live view and the race in a real headless Chromium: the page is opened while taskdist
// renders, followed until it shows completion, and what it shows is checked against the output
// PNGs and the JSON report. With TASKDIST_SCREENSHOTS=DIR the screenshots are kept there (the
// ones in docs/ were taken so).
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;
using Clock = std::chrono::steady_clock;

bool have_chromium() { return fs::exists("/usr/bin/chromium"); }

// Chromium as the issue asks: headless, no sandbox (root), a fresh profile. Virtual time runs
// once the page's event stream has closed (the render or race is over, or ?freeze= froze it).
RunResult chromium(const std::vector<std::string>& what, const std::string& url,
                   const fs::path& dir) {
  static int profiles = 0;
  std::vector<std::string> argv = {"/usr/bin/chromium", "--headless", "--no-sandbox",
                                   "--disable-gpu", "--disable-background-networking",
                                   "--disable-component-update", "--no-first-run",
                                   "--user-data-dir=" + (dir / fmt::format("profile-{}", ++profiles)).string(),
                                   "--window-size=1300,1000", "--virtual-time-budget=3000"};
  argv.insert(argv.end(), what.begin(), what.end());
  argv.push_back(url);
  return run(argv, {}, 120, dir);
}

// The URL taskdist prints once its live view is up.
std::string wait_for_url(Background& b) {
  const std::regex url(R"(http://127\.0\.0\.1:\d+/)");
  for (int i = 0; i < 600; ++i) {
    std::smatch m;
    const std::string err = b.err();
    if (std::regex_search(err, m, url)) return m.str();
    if (b.poll()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no URL printed: " << b.err();
  return {};
}

std::string base64_decode(const std::string& in) {
  std::string out;
  int bits = 0, value = 0;
  for (char c : in) {
    int d = -1;
    if (c >= 'A' && c <= 'Z') d = c - 'A';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 26;
    else if (c >= '0' && c <= '9') d = c - '0' + 52;
    else if (c == '+') d = 62;
    else if (c == '/') d = 63;
    if (d < 0) continue;
    value = (value << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xff);
    }
  }
  return out;
}

// The image a panel of the page shows (its "save this image" link), decoded.
Image shown_image(const std::string& dom, int panel, const fs::path& dir) {
  // (std::regex recurses per character: no use on a data URL of a few hundred KiB.)
  const size_t link = dom.find(fmt::format("id=\"save-{}\"", panel));
  const std::string prefix = "href=\"data:image/png;base64,";
  const size_t data = link == std::string::npos ? link : dom.find(prefix, link);
  const size_t tag_end = link == std::string::npos ? link : dom.find('>', link);
  if (data == std::string::npos || data > tag_end) {
    ADD_FAILURE() << "panel " << panel << " shows no finished image";
    return {};
  }
  const size_t begin = data + prefix.size();
  const fs::path png = dir / fmt::format("shown-{}.png", panel);
  std::ofstream(png, std::ios::binary) << base64_decode(dom.substr(begin, dom.find('"', begin) - begin));
  // A canvas saves RGBA; the render is RGB, so every pixel must be opaque.
  return opaque_rgb(decode_png(png));
}

void keep_screenshot(const fs::path& shot, const std::string& name) {
  const char* keep = std::getenv("TASKDIST_SCREENSHOTS");
  EXPECT_TRUE(fs::exists(shot)) << "no screenshot taken";
  if (keep && fs::exists(shot)) {
    fs::create_directories(keep);
    fs::copy_file(shot, fs::path(keep) / name, fs::copy_options::overwrite_existing);
  }
}

// A povray that waits a second before rendering, so that the page opens while bands run.
fs::path slow_povray(const fs::path& dir) {
  return write_script(dir, "povray-slow", "sleep 1\nexec povray \"$@\"\n");
}

TEST(WebTest, TheRenderPageFillsInAndShowsTheImageAndTheTimings) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (tools/install-deps)";
  const fs::path dir = fresh_dir("web-render");
  const fs::path out = dir / "out.png";
  Background taskdist({taskdist_binary().string(), "render", blob_scene().string(), "+W480",
                       "+H360", "+A0.3", "-o", out.string(), "-j", "2", "--quiet", "--serve", "0",
                       "--linger", "120", "--report", (dir / "run.json").string(), "--povray",
                       slow_povray(dir).string()},
                      dir, "taskdist");
  const std::string url = wait_for_url(taskdist);
  ASSERT_FALSE(url.empty());
  // Opened while the bands render; dumped once the page has shown the end.
  const RunResult dom = chromium({"--dump-dom"}, url, dir);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_NE(dom.out.find("data-state=\"complete\""), std::string::npos) << dom.out.substr(0, 2000);
  ASSERT_TRUE(fs::exists(out)) << taskdist.err();
  const Image shown = shown_image(dom.out, 0, dir);
  EXPECT_EQ(count_differences(shown, decode_png(out)), 0);
  const auto report = read_json(dir / "run.json");
  for (const auto& [name, key] : {std::pair{"first sequential part", "seq1_s"},
                                  {"parallel part", "parallel_s"},
                                  {"second sequential part", "seq2_s"},
                                  {"total", "total_s"}}) {
    const std::string cell =
        fmt::format("<td>{}</td><td class=\"v\">{:.3f} s</td>", name, report[key].get<double>());
    EXPECT_NE(dom.out.find(cell), std::string::npos) << "the page shows " << cell;
  }
  // The timeline has a bar per task.
  size_t bars = 0;
  for (size_t at = dom.out.find("<rect "); at != std::string::npos; at = dom.out.find("<rect ", at + 1)) {
    ++bars;
  }
  EXPECT_EQ(bars, report["tasks"].size());

  const RunResult shot = chromium({"--screenshot=" + (dir / "render.png").string()}, url, dir);
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  keep_screenshot(dir / "render.png", "live-render.png");

  ::kill(taskdist.pid(), SIGINT);  // ends --linger early (the taskdist this test started)
  EXPECT_EQ(exit_code(taskdist.wait(30)), 0) << taskdist.err();
}

// An animation: the page shows the newest frame, a strip of every finished frame in order, and a
// bar per task on the timeline.
TEST(WebTest, TheAnimationPageShowsTheNewestFrameAndAStripOfFrames) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (tools/install-deps)";
  const fs::path dir = fresh_dir("web-animation");
  const fs::path scene = dir / "clock.pov";
  std::ofstream(scene) << "camera { location <0, 0, -4> look_at 0 }\n"
                          "light_source { <3, 5, -4> rgb 1 }\n"
                          "sphere { <clock * 2 - 1, 0, 0>, 0.6 pigment { rgb <clock, 0.5, 1> } }\n";
  Background taskdist({taskdist_binary().string(), "render", scene.string(), "+W64", "+H48",
                       "+KFI1", "+KFF7", "-o", (dir / "out.png").string(), "-j", "2", "--quiet",
                       "--serve", "0", "--linger", "120", "--report", (dir / "run.json").string(),
                       "--povray", slow_povray(dir).string()},
                      dir, "taskdist");
  const std::string url = wait_for_url(taskdist);
  ASSERT_FALSE(url.empty());
  const RunResult dom = chromium({"--dump-dom"}, url, dir);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_NE(dom.out.find("data-state=\"complete\""), std::string::npos) << dom.out.substr(0, 2000);
  std::vector<int> strip;
  const std::regex thumb(R"re(<img class="frame" src="/frame/0/(\d+)")re");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), thumb);
       it != std::sregex_iterator(); ++it) {
    strip.push_back(std::stoi((*it)[1]));
  }
  EXPECT_EQ(strip, (std::vector<int>{0, 1, 2, 3, 4, 5, 6})) << "every frame in the strip, in order";
  EXPECT_NE(dom.out.find("· 7 frames</div>"), std::string::npos) << "the status counts the frames";
  // The image shown at the end is the last frame.
  EXPECT_EQ(count_differences(shown_image(dom.out, 0, dir), decode_png(dir / "out7.png")), 0);
  size_t bars = 0;
  for (size_t at = dom.out.find("<rect "); at != std::string::npos; at = dom.out.find("<rect ", at + 1)) {
    ++bars;
  }
  EXPECT_EQ(bars, read_json(dir / "run.json")["tasks"].size());
  ::kill(taskdist.pid(), SIGINT);  // ends --linger early (the taskdist this test started)
  EXPECT_EQ(exit_code(taskdist.wait(30)), 0) << taskdist.err();
}

TEST(WebTest, TheRacePageShowsBothPanelsTheirTimesAndTheSpeedup) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (tools/install-deps)";
  const fs::path dir = fresh_dir("web-race");
  // --linger keeps the page up until this test is done with it (a page opened after the race
  // still gets all of it), however long Chromium takes to start.
  Background race({taskdist_binary().string(), "race", blob_scene().string(), "+W400", "+H300",
                   "+A0.3", "--solo", "1", "--team", "2", "--hold", "1", "--serve", "0",
                   "--linger", "120", "-o", (dir / "race").string(), "--povray",
                   slow_povray(dir).string()},
                  dir, "race");
  const std::string url = wait_for_url(race);
  ASSERT_FALSE(url.empty());
  // A snapshot of the race in progress, then the whole race followed to its end.
  const RunResult progress =
      chromium({"--screenshot=" + (dir / "race-progress.png").string()}, url + "?freeze=0.3", dir);
  EXPECT_EQ(progress.exit_code, 0) << progress.err;
  keep_screenshot(dir / "race-progress.png", "race-in-progress.png");
  const RunResult dom = chromium({"--dump-dom"}, url, dir);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  ::kill(race.pid(), SIGINT);  // ends --linger early (the taskdist this test started)
  EXPECT_EQ(exit_code(race.wait(30)), 0) << race.err();
  EXPECT_NE(dom.out.find("data-state=\"complete\""), std::string::npos) << dom.out.substr(0, 2000);
  EXPECT_NE(dom.out.find("id=\"panel-0\""), std::string::npos);
  EXPECT_NE(dom.out.find("id=\"panel-1\""), std::string::npos);
  const size_t banner = dom.out.find("id=\"race\">");
  ASSERT_NE(banner, std::string::npos);
  const std::string text = dom.out.substr(banner, dom.out.find('<', banner) - banner);
  const std::regex result(R"(blob\.pov: one slot ([0-9.]+) s · 2 slots ([0-9.]+) s · speedup ([0-9.]+)x)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, result)) << text;
  EXPECT_NEAR(std::stod(m[3].str()), std::stod(m[1].str()) / std::stod(m[2].str()), 0.05);
  EXPECT_EQ(count_differences(shown_image(dom.out, 0, dir), decode_png(dir / "race" / "blob-solo.png")), 0);
  EXPECT_EQ(count_differences(shown_image(dom.out, 1, dir), decode_png(dir / "race" / "blob-team.png")), 0);
  // For people without a browser: both images side by side, with the times.
  const Image both = decode_png(dir / "race" / "blob-race.png");
  EXPECT_EQ(both.width, 800);
  EXPECT_GT(both.height, 300);
  EXPECT_GT(count_bright_pixels(both, 300), 100) << "no caption below the images";
  EXPECT_EQ(race.err().find("side-by-side"), std::string::npos) << race.err();
  EXPECT_NE(race.out().find("speedup"), std::string::npos) << race.out();
}

}  // namespace
}  // namespace taskdist
