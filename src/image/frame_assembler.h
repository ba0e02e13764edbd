// The frames of a job, each written as a PNG as soon as its last band arrives: one PngAssembler
// per frame that has bands in hand, opened at its first band and finished (synced, renamed into
// place) at its last, so memory and open files grow with the frames in flight, not with the
// animation. A still is one frame. Bands carry rows of the stacked frames (core/animation.h).
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/encoded_band.h"
#include "core/error.h"
#include "image/png_assembler.h"

namespace taskdist {

class FrameAssembler {
 public:
  struct Options {
    int width = 0;
    int height = 0;  ///< of one frame
    bool alpha = false;
    std::vector<std::filesystem::path> outputs;  ///< the file of each frame, by index
    std::filesystem::path spill_dir;             ///< see PngAssembler::Options
    /// Frames whose file is complete already (a resumed job): they get no bands.
    std::vector<bool> done;
  };

  /// A one-frame job opens its file at once, so that an output that cannot be written is an
  /// error before anything renders. The error names the file and reason.
  static std::expected<std::unique_ptr<FrameAssembler>, Error> create(Options options);

  /// Takes a band of one frame; returns that frame's index if the band completed it (its file is
  /// in place). `band_file`: see PngAssembler::add.
  std::expected<std::optional<int>, Error> add(EncodedBand band,
                                               const std::filesystem::path& band_file = {});
  /// The band in `band_file` (rows `rows`), read only when its turn comes.
  std::expected<std::optional<int>, Error> add_stored(RowRange rows,
                                                      const std::filesystem::path& band_file);
  /// Removes the temporary files of frames not finished; finished frames stay.
  void discard();

  int frames() const { return static_cast<int>(options_.outputs.size()); }
  int frames_done() const { return frames_done_; }
  bool done(int frame) const { return options_.done[static_cast<size_t>(frame)]; }
  /// Rows of frame `k` in its file so far (all of them once it is done).
  int rows_written(int k) const {
    if (done(k)) return options_.height;
    const auto it = open_.find(k);
    return it == open_.end() ? 0 : it->second->rows_written();
  }
  /// Frames with a file open (bands in hand, not complete).
  int frames_open() const { return static_cast<int>(open_.size()); }

 private:
  explicit FrameAssembler(Options options);
  std::expected<PngAssembler*, Error> frame(int k);
  std::expected<std::optional<int>, Error> finish_if_complete(int k, PngAssembler& png);

  Options options_;
  std::map<int, std::unique_ptr<PngAssembler>> open_;
  int frames_done_ = 0;
};

}  // namespace taskdist
