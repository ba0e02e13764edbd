// The job directory: every finished band lands here, checksummed and synced, before it counts,
// so that a run that dies (a killed master, a lost node, a full disk) loses no finished work
// and `taskdist render ... --resume` renders only the rest.
//
//   OUT.png.taskdist/job.json      what the job is: size, options, a hash of every scene file
//   OUT.png.taskdist/bands/*.tdb   finished bands (band_file.h)
//   OUT.png.taskdist/frames/*.json an animation's finished frames: their file's size and hash
//                                  (the frame's bands are removed once it is recorded)
//   OUT.png.taskdist/waiting/      early bands the assembler could not hold in memory
//   OUT.png.taskdist/lock          held (flock) while a taskdist works on the job
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "core/task.h"
#include "core/encoded_band.h"
#include "core/error.h"

namespace taskdist {

/// A band of an earlier run, found whole in the journal.
struct JournalBand {
  RowRange rows;
  std::filesystem::path file;
};

/// The hash of every regular file under the scene's folder, but not the job's own output, its
/// frames and video, and its journal: what Journal::scene_files() records.
nlohmann::json scene_file_hashes(const Job& job);

class Journal {
 public:
  /// Opens `job.job_dir`. A new job creates it. An existing journal is refused unless
  /// job.resume; with --resume it must belong to the same job (same size, options and scene
  /// files), its whole bands are kept and damaged ones removed (see notes()). The error says
  /// what is wrong and what to do.
  static std::expected<Journal, Error> open(const Job& job);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&&) = delete;
  Journal(const Journal&) = delete;
  ~Journal();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path band_dir() const { return dir_ / "bands"; }
  std::filesystem::path spill_dir() const { return dir_ / "waiting"; }
  /// Whole bands of an earlier run, in row order, not overlapping, none of a done frame.
  const std::vector<JournalBand>& reused() const { return reused_; }
  /// Frames (indices) an earlier run finished whose file is still the one it wrote, sorted.
  const std::vector<int>& done_frames() const { return done_frames_; }
  /// What opening found worth telling: damaged band files removed, nothing to resume, ...
  const std::vector<std::string>& notes() const { return notes_; }
  /// Writes `band` (synced, then renamed into place) and returns its file.
  std::expected<std::filesystem::path, Error> record(const EncodedBand& band);
  /// Records that frame index `k` of an animation is complete in `file` (its size and hash,
  /// synced), then removes the frame's band files.
  std::expected<void, Error> record_frame(int k, const std::filesystem::path& file);
  /// Bands in the journal: reused and recorded, less those of frames recorded since.
  int bands() const { return static_cast<int>(reused_.size()) + recorded_ - removed_; }
  /// Finished frames in the journal: done before and recorded now.
  int frames() const { return static_cast<int>(done_frames_.size()) + frames_recorded_; }
  /// Removes the whole directory (after success).
  void remove();
  /// The hash of every file in the scene's folder, as job.json holds it (the output and the
  /// journal left out).
  const nlohmann::json& scene_files() const { return scene_files_; }

 private:
  Journal(std::filesystem::path dir, int lock_fd, int frame_height)
      : dir_(std::move(dir)), lock_fd_(lock_fd), frame_height_(frame_height) {}
  void scan_bands(const Job& job);
  void scan_frames(const Job& job);

  std::filesystem::path dir_;
  int lock_fd_ = -1;
  std::vector<JournalBand> reused_;
  std::vector<std::string> notes_;
  int recorded_ = 0;
  int frame_height_ = 1;
  std::vector<int> done_frames_;
  int frames_recorded_ = 0;
  int removed_ = 0;  // band files of recorded frames, removed
  std::map<int, std::vector<std::filesystem::path>> files_by_frame_;  // band files by frame
  nlohmann::json scene_files_;
};

}  // namespace taskdist
