#include "web/live_view.h"

#include <sys/socket.h>

#include <httplib.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include "core/json_text.h"
#include "store/band_file.h"
#include "image/png_assembler.h"
#include "report/progress_count.h"
#include "web/page.h"

namespace taskdist {

using nlohmann::json;

namespace {

// The PNG file `path` as the response; 404 if there is none.
void serve_png(const std::optional<std::filesystem::path>& path, httplib::Response& res) {
  std::ifstream in(path ? *path : std::filesystem::path(), std::ios::binary);
  if (!path || !in) {
    res.status = 404;
    return;
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::string(std::istreambuf_iterator<char>(in), {}), "image/png");
}

}  // namespace

// Turns one render's events into the view's events for one panel.
class LiveView::Panel : public RenderObserver {
 public:
  Panel(LiveView& view, int index, std::string title)
      : view_(view), index_(index), title_(std::move(title)) {}

  void on_start(const Job& job, const std::vector<std::string>& slot_names) override {
    width_ = job.width;
    alpha_ = job.alpha;
    output_ = job.output;
    view_.publish({{"type", "start"},
                   {"panel", index_},
                   {"title", title_},
                   {"scene", job.scene.filename().string()},
                   {"width", job.width},
                   {"height", job.height},
                   {"frames", job.animation ? job.frame_count() : 0},
                   {"frame_numbers", job.animation ? job.animation->frames : std::vector<int>{}},
                   {"policy", job.policy == Policy::kStatic ? "static" : "dynamic"},
                   {"slots", slot_names}});
  }

  void on_task(const TaskRecord& r, std::string_view state) override {
    view_.publish({{"type", "task"},
                   {"panel", index_},
                   {"id", r.id},
                   {"slot", r.slot},
                   {"where", r.where},
                   {"first_row", r.rows.begin},
                   {"rows", r.rows.count()},
                   {"attempt", r.attempt},
                   {"copy", r.duplicate_of != 0},
                   {"start_s", r.start_s},
                   {"end_s", state == "running" ? -1.0 : r.end_s},
                   {"state", state},
                   {"outcome", r.outcome}});
  }

  void on_band(RowRange rows, const std::filesystem::path& file) override {
    {
      std::lock_guard lock(view_.mutex_);
      view_.bands_[{index_, rows.begin}] = BandRef{file, width_, alpha_};
    }
    // (An animation's page shows its frames as they are written, not its bands.)
    view_.publish(
        {{"type", "band"}, {"panel", index_}, {"first_row", rows.begin}, {"rows", rows.count()}});
  }

  void on_frame(const FrameRecord& f) override {
    {
      std::lock_guard lock(view_.mutex_);
      view_.frames_[{index_, f.index}] = f.file;
    }
    if (f.index >= last_index_) {  // the image at the end: the animation's last frame
      last_index_ = f.index;
      last_frame_ = f.file;
    }
    view_.publish({{"type", "frame"},
                   {"panel", index_},
                   {"index", f.index},
                   {"number", f.number},
                   {"clock", f.clock},
                   {"reused", f.reused},
                   {"done_s", f.done_s}});
  }

  void on_progress(const ProgressState& s) override {
    // At most 5 updates a second: the page interpolates its clocks in between.
    if (s.elapsed_s - last_progress_s_ < 0.2 && s.rows_done < s.rows_total) return;
    last_progress_s_ = s.elapsed_s;
    // -1: unknown
    const double eta = eta_seconds(s.rows_done, s.rows_total, s.elapsed_s).value_or(-1);
    view_.publish({{"type", "progress"},
                   {"panel", index_},
                   {"rows_done", s.rows_done},
                   {"rows_total", s.rows_total},
                   {"elapsed_s", s.elapsed_s},
                   {"eta_s", eta}});
  }

  void on_end(const RunReport& report, int exit_code, const std::string& message) override {
    if (exit_code == 0) {
      std::lock_guard lock(view_.mutex_);
      // An animation's image is its last frame.
      view_.outputs_[index_] = last_frame_.empty() ? output_ : std::filesystem::path(last_frame_);
    }
    view_.publish({{"type", "end"},
                   {"panel", index_},
                   {"ok", exit_code == 0},
                   {"message", message},
                   {"seq1_s", report.seq1_s()},
                   {"parallel_s", report.parallel_s()},
                   {"seq2_s", report.seq2_s()},
                   {"total_s", report.total_s()}});
  }

 private:
  LiveView& view_;
  const int index_;
  const std::string title_;
  int width_ = 0;
  bool alpha_ = false;
  std::string last_frame_;
  int last_index_ = -1;
  double last_progress_s_ = -1;
  std::filesystem::path output_;
};

std::expected<std::unique_ptr<LiveView>, Error> LiveView::start(const std::string& where) {
  std::string host = "127.0.0.1";
  std::string port_text = where;
  if (const auto colon = where.rfind(':'); colon != std::string::npos) {
    host = where.substr(0, colon);
    port_text = where.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);  // [::1]:8080
    }
  }
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535 || host.empty()) {
    return std::unexpected(fmt::format(
        "--serve '{}': give [ADDR:]PORT, e.g. 8080 or 0.0.0.0:8080 (0: any free port)", where));
  }
  std::unique_ptr<LiveView> view(new LiveView());
  view->server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second taskdist on the
  // same port would bind too and the kernel would split the pages between the two.
  view->server_->set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  view->install_routes();
  const int bound = port == 0 ? view->server_->bind_to_any_port(host)
                              : (view->server_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return std::unexpected(fmt::format("--serve: cannot listen on {}:{} (in use, or not an "
                                       "address of this machine)",
                                       host, port));
  }
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  view->url_ = fmt::format("http://{}:{}/", shown == "0.0.0.0" ? "127.0.0.1" : shown, bound);
  view->thread_ = std::thread([v = view.get()] {
    v->server_->listen_after_bind();
    v->listen_returned_ = true;
  });
  // httplib's stop() does nothing before the server runs: wait until it runs (or its listening
  // failed at once), so that a view destroyed at once (a failed job) does not wait forever for a
  // server that starts after stop().
  while (!view->server_->is_running() && !view->listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!view->server_->is_running()) {
    return std::unexpected(fmt::format("--serve: the server on {}:{} did not start", host, bound));
  }
  return view;
}

LiveView::~LiveView() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  changed_.notify_all();
  // Pages get what is left (the "closing" event) before the server goes.
  changed_.wait_for(lock, std::chrono::seconds(2), [&] { return open_streams_ == 0; });
  lock.unlock();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string LiveView::url() const { return url_; }

RenderObserver& LiveView::panel(int index, const std::string& title) {
  std::lock_guard lock(mutex_);
  auto& p = panels_[index];
  p = std::make_unique<Panel>(*this, index, title);
  return *p;
}

void LiveView::reset(const json& info) {
  {
    std::lock_guard lock(mutex_);
    first_seq_ += events_.size();
    events_.clear();
    bands_.clear();
    outputs_.clear();
    frames_.clear();
  }
  json event = info;
  event["type"] = "reset";
  publish(std::move(event));
}

void LiveView::publish(json event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(json_text(event));
  }
  changed_.notify_all();
}

bool LiveView::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

std::vector<std::string> LiveView::events_after(uint64_t* cursor, double wait_s) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::duration<double>(wait_s), [&] {
    return stopping_ || *cursor < first_seq_ + events_.size();
  });
  std::vector<std::string> out;
  // A page that was behind a reset starts from the reset.
  if (*cursor < first_seq_) *cursor = first_seq_;
  for (uint64_t i = *cursor - first_seq_; i < events_.size(); ++i) out.push_back(events_[i]);
  *cursor = first_seq_ + events_.size();
  return out;
}

std::optional<std::string> LiveView::band_png_of(int panel, int first_row) {
  BandRef ref;
  {
    std::lock_guard lock(mutex_);
    auto it = bands_.find({panel, first_row});
    if (it == bands_.end()) return std::nullopt;
    ref = it->second;
  }
  auto band = read_band_file(ref.file);  // gone once the job is done: the page loads the image
  if (!band) return std::nullopt;
  return band_png(*band, ref.width, ref.alpha);
}

std::optional<std::filesystem::path> LiveView::frame_of(int panel, int index) {
  std::lock_guard lock(mutex_);
  auto it = frames_.find({panel, index});
  if (it == frames_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::filesystem::path> LiveView::output_of(int panel) {
  std::lock_guard lock(mutex_);
  auto it = outputs_.find(panel);
  if (it == outputs_.end()) return std::nullopt;
  return it->second;
}

void LiveView::install_routes() {
  httplib::Server& s = *server_;
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kLivePage, "text/html; charset=utf-8");
  });
  s.Get("/events", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    auto cursor = std::make_shared<uint64_t>(0);
    {
      std::lock_guard lock(mutex_);
      ++open_streams_;
    }
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, cursor](size_t, httplib::DataSink& sink) {
          const auto events = events_after(cursor.get(), 1.0);
          std::string text;
          for (const auto& e : events) text += "data: " + e + "\n\n";
          if (text.empty()) text = ": still here\n\n";  // finds pages that went away
          if (!sink.write(text.data(), text.size())) return false;
          if (stopping()) sink.done();  // everything was sent
          return true;
        },
        [this](bool) {
          std::lock_guard lock(mutex_);
          --open_streams_;
          changed_.notify_all();
        });
  });
  s.Get(R"(/band/(\d+)/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto png = band_png_of(std::stoi(req.matches[1]), std::stoi(req.matches[2]));
    if (!png) {
      res.status = 404;
      return;
    }
    res.set_content(std::move(*png), "image/png");
  });
  s.Get(R"(/frame/(\d+)/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_png(frame_of(std::stoi(req.matches[1]), std::stoi(req.matches[2])), res);
  });
  s.Get(R"(/image/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_png(output_of(std::stoi(req.matches[1])), res);
  });
}

}  // namespace taskdist
