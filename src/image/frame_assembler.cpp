#include "image/frame_assembler.h"

#include "core/animation.h"

namespace taskdist {

FrameAssembler::FrameAssembler(Options options) : options_(std::move(options)) {
  options_.done.resize(options_.outputs.size(), false);
  for (bool d : options_.done) frames_done_ += d ? 1 : 0;
}

std::expected<std::unique_ptr<FrameAssembler>, Error> FrameAssembler::create(Options options) {
  std::unique_ptr<FrameAssembler> set(new FrameAssembler(std::move(options)));
  if (set->frames() == 1 && !set->done(0)) {
    if (auto png = set->frame(0); !png) return std::unexpected(png.error());
  }
  return set;
}

std::expected<PngAssembler*, Error> FrameAssembler::frame(int k) {
  CHECK(k >= 0 && k < frames() && !done(k));  // bands only of frames still to do
  if (auto it = open_.find(k); it != open_.end()) return it->second.get();
  auto png = PngAssembler::create({.width = options_.width,
                                   .height = options_.height,
                                   .alpha = options_.alpha,
                                   .output = options_.outputs[static_cast<size_t>(k)],
                                   .spill_dir = options_.spill_dir,
                                   .first_row = k * options_.height});
  if (!png) return std::unexpected(png.error());
  return open_.emplace(k, std::move(*png)).first->second.get();
}

std::expected<std::optional<int>, Error> FrameAssembler::finish_if_complete(int k,
                                                                            PngAssembler& png) {
  if (png.rows_written() < options_.height) return std::nullopt;
  if (auto done = png.finish(); !done) return std::unexpected(done.error());
  open_.erase(k);
  options_.done[static_cast<size_t>(k)] = true;
  ++frames_done_;
  return k;
}

std::expected<std::optional<int>, Error> FrameAssembler::add(EncodedBand band,
                                                             const std::filesystem::path& file) {
  const int k = band.rows.begin / options_.height;
  auto png = frame(k);
  if (!png) return std::unexpected(png.error());
  if (auto added = (*png)->add(std::move(band), file); !added) {
    return std::unexpected(added.error());
  }
  return finish_if_complete(k, **png);
}

std::expected<std::optional<int>, Error> FrameAssembler::add_stored(
    RowRange rows, const std::filesystem::path& file) {
  const int k = rows.begin / options_.height;
  auto png = frame(k);
  if (!png) return std::unexpected(png.error());
  if (auto added = (*png)->add_stored(rows, file); !added) return std::unexpected(added.error());
  return finish_if_complete(k, **png);
}

void FrameAssembler::discard() {
  for (auto& [k, png] : open_) png->discard();
  open_.clear();
}

}  // namespace taskdist
