// The live web view: a read-only page served by taskdist itself that shows renders as they
// happen — the image filling in band by band, a timeline of tasks per worker, progress with ETA,
// the three phases at the end — with every update pushed as a server-sent event. It has panels:
// one for a render, two for a race (solo and team).
#pragma once

#include <atomic>
#include <condition_variable>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "report/render_events.h"

namespace httplib {
class Server;
}

#include "core/error.h"

namespace taskdist {

class LiveView {
 public:
  /// Serves on "[ADDR:]PORT" (127.0.0.1 unless an address is given; port 0: any free port).
  /// The error names the address and the reason.
  static std::expected<std::unique_ptr<LiveView>, Error> start(const std::string& where);
  ~LiveView();
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  /// e.g. "http://127.0.0.1:8080/"
  std::string url() const;
  /// The observer that feeds panel `index` (0: a render, or the race's solo; 1: the race's team).
  RenderObserver& panel(int index, const std::string& title);
  /// Starts over (the race's next scene): pages clear their panels; `info` goes with the event.
  void reset(const nlohmann::json& info);
  /// Publishes an event of the caller's own (e.g. {"type":"race", ...}).
  void publish(nlohmann::json event);
  /// Tells pages that nothing more will come: they close their event stream.
  void close_stream() { publish({{"type", "closing"}}); }

 private:
  /// Events after sequence number `*cursor` (waiting up to `wait_s` for one); advances it.
  std::vector<std::string> events_after(uint64_t* cursor, double wait_s);
  bool stopping() const;

  class Panel;
  struct BandRef {
    std::filesystem::path file;
    int width = 0;
    bool alpha = false;
  };

  LiveView() = default;
  void install_routes();
  std::optional<std::string> band_png_of(int panel, int first_row);
  std::optional<std::filesystem::path> output_of(int panel);
  std::optional<std::filesystem::path> frame_of(int panel, int index);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // the server's thread is done listening
  std::string url_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  int open_streams_ = 0;              // event streams being served
  uint64_t first_seq_ = 0;            // sequence number of events_[0]
  std::vector<std::string> events_;   // since the last reset, as JSON text
  std::map<int, std::unique_ptr<Panel>> panels_;
  std::map<std::pair<int, int>, BandRef> bands_;          // (panel, first row) -> band
  std::map<int, std::filesystem::path> outputs_;          // panel -> finished image
  std::map<std::pair<int, int>, std::filesystem::path> frames_;  // (panel, frame) -> its file
};

}  // namespace taskdist
