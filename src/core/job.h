// A render job: what to render, at what size, with which POV-Ray options, where to, and how.
// Built once from the command line (and an optional POV-Ray INI file), validated once.
#pragma once

#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/animation.h"
#include "core/error.h"

namespace taskdist {

enum class Policy {
  kStatic,   ///< the paper's split: H/N rows to each of N slots, one band each
  kDynamic,  ///< slots pull bands from a queue; sizes shrink towards the end
};

/// What the user asked for, before validation (the command line's raw values).
struct JobRequest {
  std::string scene;                  ///< SCENE.pov or SCENE.ini, as given
  std::vector<std::string> pov_args;  ///< POV-Ray options, as given
  std::string output;                 ///< -o; empty: SCENE's name with .png, in the cwd
  int slots = 0;                      ///< -j; 0: the number of online CPUs
  Policy policy = Policy::kDynamic;
  std::string report;                 ///< --report; empty: none
  bool quiet = false;
  std::string povray = "povray";      ///< the POV-Ray executable (name on PATH, or a path)
  std::string job_dir;                ///< --job-dir; empty: OUT.png.taskdist beside the output
  bool resume = false;
  bool keep_job_dir = false;
  int retries = 3;
  double task_timeout_s = 0;          ///< 0: none
  int exclude_after = 3;
  bool duplicates = true;
  std::string serve;                  ///< --serve [ADDR:]PORT; empty: no live view
  double linger_s = 0;                ///< --linger
  bool cost_profile = true;           ///< false: --no-profile
  bool quick_start = true;            ///< false: --no-quick-start
  std::string profile_dir;            ///< --profile-dir; empty: the default (store/profile_store.h)
  std::string video;                  ///< --video FILE.mp4; empty: none
  double fps = 24;                    ///< --fps
};

/// A validated job. Paths are absolute.
struct Job {
  std::filesystem::path scene;        ///< the .pov file
  std::filesystem::path scene_dir;    ///< on POV-Ray's library path for every band
  int width = 320;                    ///< POV-Ray's defaults
  int height = 240;
  int block_size = 32;                ///< +BS: POV-Ray's render blocks, block_size square
  /// Antialiasing may be on (the options, or POV-Ray's own INI files, turn it on). Method 1
  /// then gives a full render's pixels only to bands that start on a multiple of block_size.
  bool antialias = false;
  int threads_per_band = 1;           ///< +WT given to every band of the job
  bool alpha = false;                 ///< +UA: RGBA output
  bool user_max_image_buffer = false; ///< +MI given: taskdist does not choose one
  /// Options handed to every band unchanged, in the order given (INI settings first).
  std::vector<std::string> pov_options;
  std::filesystem::path output;
  int slots = 1;
  Policy policy = Policy::kDynamic;
  std::optional<std::filesystem::path> report;
  bool quiet = false;
  std::filesystem::path povray;       ///< resolved executable
  /// Finished bands are journaled here (checksummed, synced) for --resume.
  std::filesystem::path job_dir;
  bool resume = false;                ///< re-use the bands of an earlier run of the same job
  bool keep_job_dir = false;          ///< keep the journal after success
  int retries = 3;                    ///< a failed band is tried again this often
  double task_timeout_s = 0;          ///< a band running longer is stopped and retried; 0: never
  int exclude_after = 3;              ///< a slot/node failing this many bands in a row is out
  bool duplicates = true;             ///< copy stragglers onto idle slots at the end
  std::string serve;                  ///< live view on [ADDR:]PORT; empty: none
  double linger_s = 0;                ///< seconds the live view stays after the job
  /// Cut bands by the cost of rows learnt from earlier runs of the scene, and learn from this
  /// one (see core/cost_profile.h); the profiles live in profile_dir.
  bool cost_profile = true;
  std::filesystem::path profile_dir;
  /// Run povray with the quick-start preload where a node's check shows it works
  /// (render/quick_start.h): POV-Ray's polling timers no longer delay every band.
  bool quick_start = true;
  /// POV-Ray's animation options: the frames to render. nullopt: a still.
  std::optional<Animation> animation;
  std::optional<std::filesystem::path> video;  ///< encode the frames into this MP4 at the end
  std::filesystem::path ffmpeg;                ///< with `video`: the resolved executable
  double fps = 24;

  /// Frames rendered: 1 for a still.
  int frame_count() const {
    return animation ? static_cast<int>(animation->frames.size()) : 1;
  }
  /// Rows of all frames, stacked (core/animation.h): the rows the scheduler hands out.
  int total_rows() const { return frame_count() * height; }
  /// The file of frame index `k` (0-based, in the order rendered): the output for a still.
  std::filesystem::path frame_output(int k) const {
    return animation ? animation->frame_file(output, animation->frames[static_cast<size_t>(k)])
                     : output;
  }
  /// Every frame's file, by index.
  std::vector<std::filesystem::path> frame_outputs() const {
    std::vector<std::filesystem::path> files;
    for (int k = 0; k < frame_count(); ++k) files.push_back(frame_output(k));
    return files;
  }
  /// How messages name frame index `k`: "frame 12" ("" for a still).
  std::string frame_name(int k) const {
    return animation ? "frame " + std::to_string(animation->frames[static_cast<size_t>(k)]) : "";
  }

  /// Band boundaries fall on multiples of this: the render block size where antialiasing may
  /// be on, any row where it is off (../shared/POVRAY_FACTS.md: bands are then identical to a
  /// full render wherever they are cut).
  int row_grain() const { return antialias ? block_size : 1; }
};

/// Validates `request`. The error is one sentence for the user, naming the bad flag, option,
/// file or file:line, and what would be accepted.
std::expected<Job, Error> build_job(const JobRequest& request);

/// Finds `name` on PATH (or checks it, if it contains a '/').
std::optional<std::filesystem::path> find_executable(const std::string& name);

}  // namespace taskdist
