// The live view's server on its own (no render, no browser): what a page fetches comes back.
#include "web/live_view.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>

#include "image/band_encoder.h"
#include "store/band_file.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

std::pair<std::string, int> host_and_port(const std::string& url) {  // "http://H:P/"
  const auto colon = url.rfind(':');
  return {url.substr(7, colon - 7), std::stoi(url.substr(colon + 1))};
}

// Given a band in the journal that the render announced, expect /band/PANEL/ROW to serve it as
// a PNG with the band's own pixels, and a band never announced to be 404.
TEST(LiveViewTest, ServesAnAnnouncedBandAsAPngOfItsRows) {
  const fs::path dir = testing::fresh_dir("live-view");
  const int width = 6, rows = 4;
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * rows * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  BandEncoder encoder(width, 3, 6);
  for (int y = 0; y < rows; ++y) {
    encoder.add_row(10 + y, {pixels.data() + static_cast<size_t>(y) * width * 3,
                             static_cast<size_t>(width) * 3});
  }
  ASSERT_TRUE(write_band_file(dir, encoder.finish({10, 10 + rows})));

  auto view = LiveView::start("127.0.0.1:0");
  ASSERT_TRUE(view) << view.error();
  Job job;
  job.width = width;
  job.height = 20;
  RenderObserver& panel = (*view)->panel(0, "render");
  panel.on_start(job, {"slot 1"});
  panel.on_band({10, 10 + rows}, dir / band_file_name({10, 10 + rows}));

  const auto [host, port] = host_and_port((*view)->url());
  httplib::Client client(host, port);
  client.set_read_timeout(10, 0);
  const auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);

  const auto band = client.Get("/band/0/10");
  ASSERT_TRUE(band);
  ASSERT_EQ(band->status, 200);
  std::ofstream(dir / "band.png", std::ios::binary) << band->body;
  const testing::Image got = testing::decode_png(dir / "band.png");
  EXPECT_EQ(got.width, width);
  EXPECT_EQ(got.height, rows);
  EXPECT_EQ(got.pixels, pixels);

  const auto missing = client.Get("/band/0/0");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(LiveViewTest, APortInUseIsNamed) {
  auto first = LiveView::start("127.0.0.1:0");
  ASSERT_TRUE(first) << first.error();
  const auto [host, port] = host_and_port((*first)->url());
  auto second = LiveView::start("127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find(std::to_string(port)), std::string::npos)
      << second.error();
}

}  // namespace
}  // namespace taskdist
