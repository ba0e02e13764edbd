// Renders one band with the unmodified `povray`: builds its argv, runs it in a private directory,
// reads its full-height output from a pipe, keeps only the band's rows and encodes them for the
// PNG stream. The only part of taskdist that knows POV-Ray's command line and output formats.
#pragma once

#include <chrono>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/animation.h"
#include "core/job.h"
#include "core/runner.h"
#include "core/task.h"
#include "exec/subprocess.h"
#include "image/band_encoder.h"
#include "render/povray_output.h"
#include "render/image_stream.h"
#include "render/quick_start.h"

#include "core/error.h"

namespace taskdist {

/// Everything a worker needs to render bands of one job (the same for every band).
struct RenderSettings {
  std::filesystem::path povray;
  std::filesystem::path scene;
  std::filesystem::path scene_dir;
  int width = 0;
  int height = 0;
  int threads = 1;
  bool alpha = false;
  std::vector<std::string> options;  ///< the user's options, passed unchanged
  /// The job was planned with antialiasing off (bands may start on any row): "-A" goes before
  /// the options, so that a node whose own povray.ini turns it on renders what was planned.
  bool antialias_off = false;
  int max_image_buffer_mb = 0;       ///< 0: POV-Ray's default
  int compression_level = 6;
  /// An animation: a task's rows are rows of the stacked frames (core/animation.h).
  std::optional<Animation> animation;
  /// The quick start is wanted (not --no-quick-start); each node decides whether it can.
  bool quick_start = true;
  /// This node's quick-start preload (render/quick_start.h), or empty: never sent to a node.
  std::filesystem::path preload;
  /// The preload is known to load here; until then each band checks it (QuickStart::proven).
  bool preload_proven = false;
};

RenderSettings render_settings_for(const Job& job);

/// Sets settings.preload where the quick start is wanted and may work with this node's povray,
/// its preload written into `dir` (render/quick_start.h). Returns why it is off when it was
/// wanted and cannot be used here, or empty.
std::string enable_quick_start(RenderSettings& settings, const std::filesystem::path& dir);

/// The +MI (MB) that keeps POV-Ray's full-size image buffer in memory on this machine when
/// `slots` bands run at once, or 0 for POV-Ray's default (small images, or not enough memory).
int choose_max_image_buffer_mb(int width, int height, int slots);

/// True when a task renders several whole frames in one povray: it writes them to files (TGA,
/// frame.tga numbered by POV-Ray) in the task's folder, each read as soon as POV-Ray begins the
/// next (BandRender::take_frames), the last once it exits.
bool renders_frame_files(const RenderSettings& settings, RowRange rows);

/// True when a band is read from a bottom-up image (BMP): POV-Ray writes its full-size output
/// row by row after tracing, so a band in the lower half arrives sooner from the bottom. Its rows
/// arrive last first and are held a run at a time (ImageRowStream), whatever the band's size.
bool reads_bottom_up(const RenderSettings& settings, RowRange rows);

/// The argv for one band: the user's options first, then what taskdist must control (later
/// options win in POV-Ray). In an animation, the animation's options and the task's frames. Output goes to stdout uncompressed: TGA (top-down) or BMP
/// (bottom-up), whichever reaches the band's rows sooner; both are the cheapest full-size formats
/// to write and read (../shared/POVRAY_FACTS.md) and identical in pixels to POV-Ray's PNG.
std::vector<std::string> povray_argv(const RenderSettings& settings, RowRange rows,
                                     const std::filesystem::path& work_dir = {});

/// One povray process rendering one band. Single-threaded: the owner polls its descriptors.
/// Once every row of the band has arrived and POV-Ray has reported every pixel traced, the rest
/// of its full-size output is not needed: the process is killed and the band counts as done
/// (its temporary files live in the task's directory, which the owner removes).
class BandRender {
 public:
  using Clock = std::chrono::steady_clock;

  static std::expected<std::unique_ptr<BandRender>, Error> start(
      const RenderSettings& settings, const Task& task, const std::filesystem::path& work_dir);

  const Task& task() const { return task_; }
  /// Descriptors still open (stdout, stderr), to poll for reading.
  std::vector<int> open_fds() const;
  /// Reads what is available on `fd`. Returns a progress fraction if POV-Ray reported one.
  std::optional<double> on_readable(int fd);
  /// A run of whole frames: the frames POV-Ray has finished since the last call, each encoded
  /// as a band of its own (their files removed); finish() gives only the rest.
  std::vector<EncodedBand> take_frames();
  /// The latest progress fraction reported (0 before any).
  double fraction() const { return fraction_; }
  /// CPU seconds of the povray process so far; < 0 if unknown.
  double cpu_seconds() const;
  /// CPU per thread that povray got since it began tracing (see TaskProgress), or -1.
  double cpu_share() const { return cpu_share_; }
  /// True once both pipes are closed: the process is exiting (or was stopped, the band read).
  bool streams_closed() const { return open_fds().empty(); }
  /// Reaps the process and turns everything read into the task's result.
  /// REQUIRES: streams_closed().
  RunnerEvent finish();
  /// Stops the process group (SIGTERM, then SIGKILL after `grace_s`) and reaps it.
  void stop(double grace_s);
  Subprocess& process() { return process_; }

 private:
  BandRender(const RenderSettings& settings, const Task& task, Subprocess process,
             std::filesystem::path work_dir);
  void finish_early_if_band_read();
  RunnerEvent read_frame_files(const TaskTiming& timing);
  /// The frame files in the task's folder, in order (POV-Ray pads every number alike).
  std::vector<std::filesystem::path> frame_files() const;
  /// Frame file `file` as the band of stacked rows `rows`; the error says what is wrong.
  std::expected<EncodedBand, Error> encode_frame(const std::filesystem::path& file,
                                                 RowRange rows) const;

  const Task task_;
  Subprocess process_;
  BandEncoder encoder_;
  ImageRowStream image_;
  PovrayStderr stderr_;
  std::optional<Error> output_error_;
  bool stopped_with_band_read_ = false;
  Clock::time_point started_;
  std::optional<Clock::time_point> first_progress_, last_progress_;
  double cpu_at_first_progress_ = -1;
  double cpu_at_all_pixels_ = -1;  // when POV-Ray first reported every pixel rendered
  double cpu_share_ = -1;
  const int expected_channels_;
  const int threads_;
  const RenderSettings& settings_;
  const std::filesystem::path work_dir_;
  const bool frame_files_;  // several whole frames, written to files (renders_frame_files)
  int frames_taken_ = 0;    // of them, encoded and handed over by take_frames()
  double fraction_ = 0;
};

}  // namespace taskdist
