#include "engine/render_job.h"

#include <fmt/format.h>

#include <csignal>
#include <set>

#include "engine/cost_learning.h"
#include "engine/local_runner.h"
#include "engine/render_loop.h"
#include "engine/video.h"
#include "exec/interrupt.h"
#include "exec/temp_dir.h"
#include "image/frame_assembler.h"
#include "render/povray_renderer.h"
#include "report/report_recorder.h"
#include "report/run_report.h"
#include "report/terminal_output.h"
#include "store/journal.h"
#include "web/live_view.h"

namespace taskdist {
namespace {

// A master killed outright (SIGKILL) leaves its temporary outputs "<OUT>.part-<pid>" behind;
// a later run of the same outputs (every frame of an animation) removes those whose process is
// gone.
void remove_stale_parts(const std::vector<std::filesystem::path>& outputs) {
  if (outputs.empty()) return;
  std::set<std::string> names;
  for (const auto& o : outputs) names.insert(o.filename().string());
  constexpr std::string_view kPart = ".part-";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(outputs.front().parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    const size_t part = name.rfind(kPart);
    if (part == std::string::npos || !names.contains(name.substr(0, part))) continue;
    const std::string pid = name.substr(part + kPart.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::filesystem::exists("/proc/" + pid, ec)) continue;
    std::filesystem::remove(e.path(), ec);
  }
}

// One job once its journal and assembler are open: re-use, render, finish, or stop.
class JobRun {
 public:
  JobRun(const Job& job, const EngineLayout& layout, RenderClock& clock, RenderObserver& events,
         ReportRecorder& recorder, Journal& journal, FrameAssembler& assembler)
      : job_(job),
        layout_(layout),
        clock_(clock),
        events_(events),
        recorder_(recorder),
        journal_(journal),
        assembler_(assembler) {}

  int run(Runner& runner) {
    if (int code = reuse_bands(); code >= 0) return code;
    LearntCosts costs = recall_costs(job_, journal_.scene_files());
    if (!costs.key.empty()) {
      recorder_.report().profile = {.file = costs.file.string(),
                                    .runs = costs.profile.runs(job_.width, job_.height),
                                    .bands = costs.profile.samples(job_.width, job_.height)};
    }
    RenderLoop loop(job_, layout_, costs.row_costs, runner, clock_, journal_, assembler_, events_);
    if (int code = loop.run(); code >= 0) return stop(code, loop.rows_done(), loop.rows_total());
    CHECK(assembler_.frames_done() == assembler_.frames());  // each written as it completed
    return finish(costs);
  }

 private:
  // The journal's bands of an earlier run go to the assembler first; -1, or the exit code.
  int reuse_bands() {
    for (int k : journal_.done_frames()) frame_reused(k);
    for (const JournalBand& b : journal_.reused()) {
      events_.on_band_reused(b.rows, b.file);
      auto done = assembler_.add_stored(b.rows, b.file);
      std::expected<void, Error> recorded;
      if (done && *done && job_.animation) {
        recorded = journal_.record_frame(**done, job_.frame_output(**done));
        if (recorded) frame_reused(**done);
      }
      if (!done || !recorded) {
        say(events_, MessageKind::kStopped,
            fmt::format("taskdist: {}\n", !done ? done.error() : recorded.error()));
        return stop(kExitRenderFailed, 0, job_.total_rows());
      }
    }
    if (!journal_.reused().empty() || !journal_.done_frames().empty()) {
      const std::string frames =
          journal_.done_frames().empty()
              ? ""
              : fmt::format("{} finished frames are left as they are and ",
                            journal_.done_frames().size());
      say(events_, MessageKind::kResumed,
          fmt::format("taskdist: resuming: {}{} bands from {} are re-used\n", frames,
                      journal_.reused().size(), journal_.dir().string()));
    }
    return -1;
  }

  // A frame complete from an earlier run: in the report, as not rendered now.
  void frame_reused(int k) {
    FrameRecord frame = frame_record(job_, k, clock_.now_s());
    frame.reused = true;
    events_.on_frame(frame);
  }

  // The job failed: no image; the finished bands stay in the journal for --resume.
  int stop(int code, int rows_done, int rows_total) {
    events_.on_end(
        {}, code,
        fmt::format("{} of {} rows done; see taskdist's messages", rows_done, rows_total));
    assembler_.discard();
    if (journal_.bands() == 0 && journal_.frames() == 0) {
      journal_.remove();
    } else {
      const std::string frames =
          job_.animation ? fmt::format("{} finished frames and ", journal_.frames()) : "";
      say(events_, MessageKind::kNote,
          fmt::format("taskdist: {}{} finished bands ({} of {} rows) are kept in {}; run the "
                      "same command with --resume to render only the rest\n",
                      frames, journal_.bands(), rows_done, rows_total, journal_.dir().string()));
    }
    return code;
  }

  // The image is written: the report, the cost profile, the journal's end.
  int finish(LearntCosts& costs) {
    RunReport& report = recorder_.report();
    std::error_code ec;
    for (const auto& frame : job_.frame_outputs()) {
      report.output_bytes += std::filesystem::file_size(frame, ec);
    }
    const int code = encode_video();
    report.end_s = clock_.now_s();
    report.master_peak_rss_bytes = peak_rss_bytes();
    if (code == kExitOk) remember_costs(job_, costs, report);
    if (job_.keep_job_dir) {
      say(events_, MessageKind::kInfo,
          fmt::format("taskdist: the job folder {} is kept (--keep-job-dir)\n",
                      journal_.dir().string()));
    }
    events_.on_end(report, code, code == kExitOk ? "" : "the video was not written");
    if (!job_.keep_job_dir) journal_.remove();  // every frame is written, whatever the video
    if (job_.report) {
      Job shown = job_;  // the engine's slots, not the local default
      shown.slots = layout_.slots;
      if (auto done = write_json_report(shown, report, *job_.report); !done) {
        say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", done.error()));
        return kExitRenderFailed;
      }
    }
    return code;
  }

  // --video: the frames, all written, encoded by ffmpeg. The exit code: 0, 1 if it failed, or
  // that of Ctrl-C.
  int encode_video() {
    if (!job_.video) return kExitOk;
    say(events_, MessageKind::kInfo,
        fmt::format("taskdist: encoding {} frames into {} with ffmpeg ({:g} frames a second)\n",
                    job_.frame_count(), job_.video->string(), job_.fps));
    auto done = taskdist::encode_video(job_.frame_outputs(), *job_.video, job_.fps, job_.ffmpeg);
    if (done) return kExitOk;
    say(events_, MessageKind::kStopped, fmt::format("taskdist: {}\n", done.error()));
    if (const int signal = InterruptSignal::received(); signal != 0) {
      return signal == SIGINT ? kExitInterrupted : 128 + signal;
    }
    return kExitRenderFailed;
  }

  const Job& job_;
  const EngineLayout& layout_;
  RenderClock& clock_;
  RenderObserver& events_;
  ReportRecorder& recorder_;
  Journal& journal_;
  FrameAssembler& assembler_;
};

}  // namespace

int run_render(const Job& job, std::chrono::steady_clock::time_point program_start,
               RenderObserver* observer) {
  InterruptSignal::install();
  auto scratch = TempDir::create_scratch("taskdist-");
  if (!scratch) {
    fmt::print(stderr, "taskdist: {}\n", scratch.error());
    return kExitRenderFailed;
  }
  RenderSettings settings = render_settings_for(job);
  if (const std::string off = enable_quick_start(settings, scratch->path()); !off.empty()) {
    fmt::print(stderr, "taskdist: {}\n", quick_start_off_line("on this machine", off));
  }
  const bool quick_start = !settings.preload.empty();
  LocalRunner runner(std::move(settings), scratch->path());
  // Each local slot is its own failure domain: a slot that keeps failing is taken out alone.
  EngineLayout layout{
      .slots = job.slots, .slot_nodes = {}, .slot_speed = {}, .quick_start = quick_start};
  for (int slot = 0; slot < job.slots; ++slot) layout.slot_nodes.push_back(slot);
  return run_render_with(job, program_start, runner, layout, observer);
}

int run_job(const Job& job, Runner& runner, const EngineLayout& layout, RenderClock& clock,
            RenderObserver& observer) {
  ReportRecorder recorder;
  RenderFanOut events({&recorder, &observer});
  std::vector<std::string> slot_names;
  for (int slot = 0; slot < layout.slots; ++slot) slot_names.push_back(runner.slot_name(slot));
  events.on_start(job, slot_names);
  // Finished bands land in the job folder (beside the output by default) before they count:
  // early ones wait there, and a run that dies keeps them for --resume.
  auto journal = Journal::open(job);
  if (!journal) {
    say(events, MessageKind::kStopped, fmt::format("taskdist: {}\n", journal.error()));
    return kExitUsage;
  }
  for (const auto& note : journal->notes()) {
    say(events, MessageKind::kNote, fmt::format("taskdist: {}\n", note));
  }
  FrameAssembler::Options frames{.width = job.width,
                                 .height = job.height,
                                 .alpha = job.alpha,
                                 .outputs = job.frame_outputs(),
                                 .spill_dir = journal->spill_dir(),
                                 .done = std::vector<bool>(static_cast<size_t>(job.frame_count()))};
  for (int k : journal->done_frames()) frames.done[static_cast<size_t>(k)] = true;
  remove_stale_parts(frames.outputs);
  auto assembler = FrameAssembler::create(std::move(frames));
  if (!assembler) {
    say(events, MessageKind::kStopped, fmt::format("taskdist: {}\n", assembler.error()));
    return kExitUsage;
  }
  JobRun run(job, layout, clock, events, recorder, *journal, **assembler);
  return run.run(runner);
}

int run_render_with(const Job& job, std::chrono::steady_clock::time_point program_start,
                    Runner& runner, const EngineLayout& layout, RenderObserver* observer) {
  SteadyRenderClock clock(program_start);
  TerminalOutput terminal(stderr, stdout);
  if (observer) {
    RenderFanOut events({&terminal, observer});
    return run_job(job, runner, layout, clock, events);
  }
  if (job.serve.empty()) return run_job(job, runner, layout, clock, terminal);
  auto view = LiveView::start(job.serve);
  if (!view) {
    fmt::print(stderr, "taskdist: {}\n", view.error());
    return kExitUsage;
  }
  fmt::print(stderr, "taskdist: watch it at {}\n", (*view)->url());
  RenderFanOut events({&terminal, &(*view)->panel(0, "render")});
  const int code = run_job(job, runner, layout, clock, events);
  (*view)->close_stream();
  linger(job.linger_s, (*view)->url());
  return code;
}

void linger(double seconds, const std::string& url) {
  if (seconds <= 0) return;
  fmt::print(stderr, "taskdist: the page stays at {} for {:g} s (Ctrl-C to leave now)\n", url,
             seconds);
  InterruptSignal::sleep(seconds);
}

}  // namespace taskdist
