// The job directory: every finished band lands here, checksummed and synced, before it counts,
// so that a run that dies (a killed master, a lost node, a full disk) loses no finished work
// and `taskdist render ... --resume` renders only the rest.
//
//   OUT.png.taskdist/job.json      what the job is: size, options, a hash of every scene file
//   OUT.png.taskdist/bands/*.tdb   finished bands (band_file.h)
//   OUT.png.taskdist/waiting/      early bands the assembler could not hold in memory
//   OUT.png.taskdist/lock          held (flock) while a taskdist works on the job
#pragma once

#include <expected>
#include <filesystem>
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
  /// Whole bands of an earlier run, in row order, not overlapping.
  const std::vector<JournalBand>& reused() const { return reused_; }
  /// What opening found worth telling: damaged band files removed, nothing to resume, ...
  const std::vector<std::string>& notes() const { return notes_; }
  /// Writes `band` (synced, then renamed into place) and returns its file.
  std::expected<std::filesystem::path, Error> record(const EncodedBand& band);
  /// Bands in the journal: reused and recorded.
  int bands() const { return static_cast<int>(reused_.size()) + recorded_; }
  /// Removes the whole directory (after success).
  void remove();
  /// The hash of every file in the scene's folder, as job.json holds it (the output and the
  /// journal left out).
  const nlohmann::json& scene_files() const { return scene_files_; }

 private:
  Journal(std::filesystem::path dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  void scan_bands(const Job& job);

  std::filesystem::path dir_;
  int lock_fd_ = -1;
  std::vector<JournalBand> reused_;
  std::vector<std::string> notes_;
  int recorded_ = 0;
  nlohmann::json scene_files_;
};

}  // namespace taskdist
