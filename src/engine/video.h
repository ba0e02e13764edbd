// The animation's frames as a video: once every frame is written, FFmpeg (Debian's ffmpeg,
// installed by tools/install-deps) encodes them, in order, into an H.264 MP4.
#pragma once

#include <expected>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace taskdist {

/// Encodes `frames` (PNG files, in order) into `video` at `fps` frames per second with the
/// executable `ffmpeg`: written under a temporary name beside it, renamed when complete. Frames
/// of an odd width or height are padded by a black row or column (H.264's 4:2:0 needs even
/// sizes). The error says what failed (ffmpeg's own last words, Ctrl-C); the frames are never
/// touched.
std::expected<void, Error> encode_video(const std::vector<std::filesystem::path>& frames,
                                        const std::filesystem::path& video, double fps,
                                        const std::filesystem::path& ffmpeg);

}  // namespace taskdist
