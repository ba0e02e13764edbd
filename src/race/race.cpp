#include "race/race.h"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <thread>

#include "core/elapsed.h"
#include "engine/render_job.h"
#include "exec/command_chains.h"
#include "exec/interrupt.h"
#include "report/run_report.h"
#include "web/live_view.h"

namespace fs = std::filesystem;

namespace taskdist {
namespace {

using Clock = std::chrono::steady_clock;

std::string slots_text(int n) { return n == 1 ? "slot" : fmt::format("{} slots", n); }

class LocalRaceEngine : public RaceEngine {
 public:
  LocalRaceEngine(int solo, int team) : solo_(solo), team_(team) {}
  std::string solo_label() const override { return slots_text(solo_); }
  std::string team_label() const override { return slots_text(team_); }

  int run(const Job& job, bool team, Clock::time_point start, RenderObserver& observer) override {
    Job side = job;
    side.slots = team ? team_ : solo_;
    return run_render(side, start, &observer);
  }

 private:
  const int solo_;
  const int team_;
};

// The caption's font, named as a file: ImageMagick's default (Helvetica) exists only with
// Ghostscript's fonts, which a bare Debian does not have. Debian's fonts-dejavu-core
// (tools/install-deps).
constexpr const char* kCaptionFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// The two images side by side with both times below (ImageMagick), for people without a browser.
// Returns empty, or what failed with convert's last words; a half-made picture is removed (convert
// writes the images without the caption when it cannot render the caption).
std::string write_race_png(const fs::path& solo, const fs::path& team, const fs::path& out,
                           const std::string& caption, int width) {
  const int points = std::max(14, width / 18);
  const CommandChain chain = {{"/usr/bin/convert", fs::absolute(solo).string(),
                               fs::absolute(team).string(), "+append", "(",
                               "-background", "black", "-fill", "white", "-font", kCaptionFont,
                               "-pointsize", std::to_string(points), "-size",
                               fmt::format("{}x{}", 2 * width, points * 2), "-gravity", "center",
                               "label:" + caption, ")", "-append", fs::absolute(out).string()}};
  std::string error = run_chains({chain}, out.parent_path()).error;
  std::error_code ec;
  if (!error.empty() && fs::is_regular_file(out, ec)) fs::remove(out, ec);
  return error;
}

struct Side {
  int code = -1;
  double seconds = 0;
};

// One scene of the playlist: the job of each side.
struct Entry {
  Job solo, team;
  std::string name;
};

// What every race of one run shares.
struct Track {
  const RaceRequest& request;
  RaceEngine& engine;
  LiveView* view;  ///< null: no live view
  std::string solo_label, team_label;
};

bool create_out_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    fmt::print(stderr, "taskdist race: cannot create the output folder '{}': {}\n", dir,
               ec.message());
    return false;
  }
  return true;
}

// Every scene is checked before the first race starts: nullopt after saying which is wrong.
std::optional<std::vector<Entry>> build_playlist(const RaceRequest& request) {
  std::vector<Entry> playlist;
  for (const auto& scene : request.scenes) {
    JobRequest jr;
    jr.scene = scene;
    jr.pov_args = request.pov_args;
    jr.povray = request.povray;
    jr.quiet = true;
    jr.duplicates = false;  // a race compares one worker with many, copies would blur it
    const std::string stem = fs::path(scene).stem().string();
    Entry e;
    for (bool team : {false, true}) {
      jr.output = (fs::path(request.out_dir) / (stem + (team ? "-team.png" : "-solo.png"))).string();
      auto job = build_job(jr);
      if (!job) {
        fmt::print(stderr, "taskdist race: {}\n", job.error());
        return std::nullopt;
      }
      (team ? e.team : e.solo) = std::move(*job);
    }
    e.name = fs::path(scene).filename().string();
    playlist.push_back(std::move(e));
  }
  return playlist;
}

// The live view on `serve`; a null view if `serve` is empty, nullopt if it cannot start.
std::optional<std::unique_ptr<LiveView>> start_view(const std::string& serve) {
  if (serve.empty()) return std::unique_ptr<LiveView>();
  auto started = LiveView::start(serve);
  if (!started) {
    fmt::print(stderr, "taskdist race: {}\n", started.error());
    return std::nullopt;
  }
  fmt::print(stderr, "taskdist race: watch it at {}\n", (*started)->url());
  return std::move(*started);
}

// Both sides render `e` at once, each from its own thread, timed from the same start.
std::array<Side, 2> run_sides(const Entry& e, const Track& track) {
  std::array<Side, 2> sides;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int team = 0; team < 2; ++team) {
    threads.emplace_back([&, team] {
      const Job& job = team ? e.team : e.solo;
      NoObserver observer;
      RenderObserver& target = track.view
                                   ? track.view->panel(team, team ? "team of " + track.team_label
                                                                  : "one " + track.solo_label)
                                   : static_cast<RenderObserver&>(observer);
      sides[team].code = track.engine.run(job, team == 1, start, target);
      sides[team].seconds = seconds_since(start);
    });
  }
  for (auto& t : threads) t.join();
  return sides;
}

// The result of round `round`: on the live view, as DIR/SCENE-race.png, and as a line on stdout.
void show_result(int round, const Entry& e, const std::array<Side, 2>& sides, const Track& track) {
  const double speedup = sides[0].seconds / std::max(sides[1].seconds, 1e-9);
  const fs::path race_png =
      fs::path(track.request.out_dir) / (fs::path(e.name).stem().string() + "-race.png");
  const std::string caption =
      fmt::format("{}: one {} {:.2f} s    {} {:.2f} s    speedup {:.2f}x", e.name, track.solo_label,
                  sides[0].seconds, track.team_label, sides[1].seconds, speedup);
  if (track.view) {
    track.view->publish({{"type", "race"},
                         {"round", round},
                         {"scene", e.name},
                         {"solo_label", track.solo_label},
                         {"team_label", track.team_label},
                         {"solo_s", sides[0].seconds},
                         {"team_s", sides[1].seconds},
                         {"speedup", speedup},
                         {"image", race_png.filename().string()}});
  }
  const std::string png_error =
      write_race_png(e.solo.output, e.team.output, race_png, caption, e.solo.width);
  if (!png_error.empty()) {
    fmt::print(stderr, "taskdist race: could not make the side-by-side picture {}: {}\n",
               race_png.string(), png_error);
  }
  fmt::print("race {}: {} -> {}; taskdist RSS {:.1f} MiB\n", round, caption,
             png_error.empty() ? race_png.string() : "no side-by-side picture (see stderr)",
             rss_bytes() / 1048576.0);
  std::fflush(stdout);
}

// Round `round`: `e` raced and its result shown. Returns 0, or the exit code of a side whose
// render failed (the live view's stream closed).
int race_round(int round, const Entry& e, const Track& track) {
  std::error_code ec;
  for (const Job* job : {&e.solo, &e.team}) fs::remove_all(job->job_dir, ec);  // ours, earlier
  if (track.view) {
    track.view->reset({{"title", fmt::format("race {}: {} — one {} against {}", round, e.name,
                                             track.solo_label, track.team_label)}});
  }
  const std::array<Side, 2> sides = run_sides(e, track);
  for (int team = 0; team < 2; ++team) {
    if (sides[team].code != 0) {
      fmt::print(stderr, "taskdist race: the {} side's render of {} failed (exit {})\n",
                 team ? "team" : "solo", e.name, sides[team].code);
      if (track.view) track.view->close_stream();
      return sides[team].code;
    }
  }
  show_result(round, e, sides, track);
  return kExitOk;
}

// After the last race (or Ctrl-C): the pages hear the end; the live view lingers.
int end_playlist(const RaceRequest& request, LiveView* view) {
  const int signal = InterruptSignal::received();  // before the pages hear the end
  if (view) view->close_stream();
  if (signal != 0) {
    fmt::print(stderr, "taskdist race: stopped by signal {}\n", signal);
    return signal == 2 ? kExitInterrupted : 128 + signal;
  }
  // As a render's: pages opened late still get the whole last race; Ctrl-C here ends it, exit 0.
  if (view) linger(request.linger_s, view->url());
  return kExitOk;
}

}  // namespace

std::unique_ptr<RaceEngine> make_local_race_engine(int solo, int team) {
  return std::make_unique<LocalRaceEngine>(solo, team);
}

int run_race(const RaceRequest& request, RaceEngine& engine) {
  InterruptSignal::install();
  if (request.scenes.empty()) {
    fmt::print(stderr, "taskdist race: give at least one scene\n");
    return kExitUsage;
  }
  if (!create_out_dir(request.out_dir)) return kExitUsage;
  const auto playlist = build_playlist(request);
  if (!playlist) return kExitUsage;
  const auto view = start_view(request.serve);
  if (!view) return kExitUsage;
  const Track track{request, engine, view->get(), engine.solo_label(), engine.team_label()};
  fmt::print("taskdist race: one {} against {}\n", track.solo_label, track.team_label);
  std::fflush(stdout);
  for (int round = 1;; ++round) {
    const Entry& e = (*playlist)[static_cast<size_t>(round - 1) % playlist->size()];
    if (const int code = race_round(round, e, track); code != kExitOk) return code;
    const bool last = !request.loop && round == static_cast<int>(playlist->size());
    if (!InterruptSignal::sleep(request.hold_s) || last) break;
  }
  return end_playlist(request, track.view);
}

}  // namespace taskdist
