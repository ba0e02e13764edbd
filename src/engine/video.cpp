#include "engine/video.h"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "exec/interrupt.h"
#include "exec/subprocess.h"
#include "exec/temp_dir.h"

namespace taskdist {
namespace {

// ffmpeg's stderr (its errors only, with -loglevel error) while it runs; false if Ctrl-C came.
bool wait_for(Subprocess& ffmpeg, std::string& said) {
  char buffer[4096];
  while (ffmpeg.stderr_fd() >= 0) {
    if (InterruptSignal::received()) return false;
    pollfd p{ffmpeg.stderr_fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const ssize_t n = ::read(ffmpeg.stderr_fd(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      ffmpeg.close_stderr();
    } else if (said.size() < 64 * 1024) {
      said.append(buffer, static_cast<size_t>(n));
    }
  }
  return true;
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const size_t nl = text.find_last_of("\r\n");
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

std::expected<void, Error> encode_video(const std::vector<std::filesystem::path>& frames,
                                        const std::filesystem::path& video, double fps,
                                        const std::filesystem::path& ffmpeg_path) {
  // ffmpeg reads a numbered sequence: links 000001.png ... to the frames, in order.
  auto links = TempDir::create_scratch("taskdist-video-");
  if (!links) return std::unexpected(links.error().within("--video"));
  for (size_t i = 0; i < frames.size(); ++i) {
    std::error_code ec;
    std::filesystem::create_symlink(std::filesystem::absolute(frames[i]),
                                    links->path() / fmt::format("{:06d}.png", i + 1), ec);
    if (ec) return fail(fmt::format("--video: cannot link the frames for ffmpeg: {}", ec.message()));
  }
  const std::string temp = video.string() + ".part-" + std::to_string(::getpid());
  auto ffmpeg = Subprocess::spawn(
      {ffmpeg_path.string(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
       "-framerate", fmt::format("{:g}", fps), "-i", (links->path() / "%06d.png").string(),
       "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
       "-movflags", "+faststart", "-f", "mp4", temp},
      links->path());
  if (!ffmpeg) return std::unexpected(ffmpeg.error().within("--video"));
  ffmpeg->close_stdout();
  std::string said;
  const bool finished = wait_for(*ffmpeg, said);
  if (!finished) stop_processes({&*ffmpeg}, 1.0);
  const ExitStatus status = ffmpeg->reap();
  std::error_code ec;
  if (!finished || !status.ok()) {
    std::filesystem::remove(temp, ec);
    if (!finished) return fail("--video: interrupted; the frames are all written");
    return fail(fmt::format("--video: ffmpeg failed ({}): {}; the frames are all written",
                            status.exited ? "exit code " + std::to_string(status.code)
                                          : "signal " + std::to_string(status.signal),
                            said.empty() ? "it said nothing" : last_line(said)));
  }
  std::filesystem::rename(temp, video, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return fail(fmt::format("--video: cannot rename '{}' to '{}': {}", temp, video.string(),
                            ec.message()));
  }
  return {};
}

}  // namespace taskdist
