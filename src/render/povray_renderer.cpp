#include "render/povray_renderer.h"

#include "core/pov_options.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

namespace taskdist {
namespace {

// POV-Ray keeps the whole image in memory as 5 floats per pixel; beyond Max_Image_Buffer_Memory
// (default 128 MB) it pages it through a temporary file, which makes every band slow.
constexpr double kBytesPerPixelBuffer = 20.0;
constexpr int kPovDefaultBufferMb = 128;

long long physical_memory_mb() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<long long>(pages) * page / (1 << 20) : 0;
}

// User + system CPU seconds of a running process, from /proc; -1 if unreadable.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(utime + stime) / static_cast<double>(ticks) : -1;
}

}  // namespace

RenderSettings render_settings_for(const Job& job) {
  RenderSettings s;
  s.povray = job.povray;
  s.scene = job.scene;
  s.scene_dir = job.scene_dir;
  s.width = job.width;
  s.height = job.height;
  s.threads = job.threads_per_band;
  s.alpha = job.alpha;
  s.options = job.pov_options;
  s.antialias_off = !job.antialias;
  s.animation = job.animation;
  s.quick_start = job.quick_start;
  if (!job.user_max_image_buffer) {
    s.max_image_buffer_mb = choose_max_image_buffer_mb(job.width, job.height, job.slots);
  }
  return s;
}

std::string enable_quick_start(RenderSettings& settings, const std::filesystem::path& dir) {
  settings.preload.clear();
  settings.preload_proven = false;
  if (!settings.quick_start) return {};
  QuickStart quick = prepare_quick_start(settings.povray, dir);
  settings.preload = quick.library;
  settings.preload_proven = quick.proven;
  return quick.why_off;
}

int choose_max_image_buffer_mb(int width, int height, int slots) {
  // Keep the image buffer in memory when all bands in flight (two per slot at most) fit in half
  // of this machine's memory.
  const double need_mb =
      static_cast<double>(width) * height * kBytesPerPixelBuffer / (1 << 20) + 16;
  const long long total_mb = physical_memory_mb();
  if (need_mb > kPovDefaultBufferMb && need_mb * 2 * slots < 0.5 * static_cast<double>(total_mb)) {
    return static_cast<int>(need_mb);
  }
  return 0;
}

bool renders_frame_files(const RenderSettings& s, RowRange rows) {
  return s.animation && frame_span(rows, s.height).count > 1;
}

namespace {

// A task's rows within its image: an animation's task holds rows of the stacked frames.
RowRange rows_in_image(const RenderSettings& s, RowRange rows) {
  return s.animation ? frame_span(rows, s.height).rows : rows;
}

}  // namespace

bool reads_bottom_up(const RenderSettings& s, RowRange rows) {
  rows = rows_in_image(s, rows);
  return s.height - rows.begin < rows.end;
}

std::vector<std::string> povray_argv(const RenderSettings& s, RowRange stacked,
                                     const std::filesystem::path& work_dir) {
  const RowRange rows = rows_in_image(s, stacked);
  std::vector<std::string> animation;
  if (s.animation) {
    const FrameSpan span = frame_span(stacked, s.height);
    const auto& frames = s.animation->frames;
    animation = s.animation->povray_options(frames.at(static_cast<size_t>(span.first)),
                                            frames.at(static_cast<size_t>(span.first + span.count - 1)));
  }
  const bool to_files = renders_frame_files(s, stacked);
  std::vector<std::string> argv{s.povray.string(), pov_path_option("+L", s.scene_dir.string())};
  if (s.antialias_off) argv.push_back("-A");
  argv.insert(argv.end(), s.options.begin(), s.options.end());
  argv.insert(argv.end(), animation.begin(), animation.end());
  argv.push_back(pov_path_option("+I", s.scene.string()));
  argv.push_back("+W" + std::to_string(s.width));
  argv.push_back("+H" + std::to_string(s.height));
  // POV-Ray rows are 1-based and inclusive; an end value of exactly 1 would mean "fraction 1.0",
  // i.e. the bottom of the image, so row 1 alone is written as 1.5 (truncated to 1).
  argv.push_back("+SR" + std::to_string(rows.begin + 1));
  argv.push_back(rows.end == 1 ? std::string("+ER1.5") : "+ER" + std::to_string(rows.end));
  argv.push_back("+WT" + std::to_string(s.threads));
  if (s.max_image_buffer_mb > 0) argv.push_back("+MI" + std::to_string(s.max_image_buffer_mb));
  argv.push_back("-D");
  argv.push_back(!to_files && reads_bottom_up(s, stacked) ? "+FB" : "+FT");
  argv.push_back(s.alpha ? "+UA" : "-UA");
  argv.push_back(to_files ? pov_path_option("+O", (work_dir / "frame.tga").string()) : "+O-");
  return argv;
}

BandRender::BandRender(const RenderSettings& settings, const Task& task, Subprocess process,
                       std::filesystem::path work_dir)
    : task_(task),
      process_(std::move(process)),
      encoder_(settings.width, settings.alpha ? 4 : 3, settings.compression_level),
      // Rows of its image in, rows of the task (stacked frames) out.
      image_(rows_in_image(settings, task.rows),
             [this, offset = task.rows.begin - rows_in_image(settings, task.rows).begin](
                 int y, std::span<const uint8_t> row) { encoder_.add_row(offset + y, row); }),
      started_(Clock::now()),
      expected_channels_(settings.alpha ? 4 : 3),
      threads_(std::max(1, settings.threads)),
      settings_(settings),
      work_dir_(std::move(work_dir)),
      frame_files_(renders_frame_files(settings, task.rows)) {
  if (settings.animation) stderr_.set_frame_step(settings.animation->step);
}

std::expected<std::unique_ptr<BandRender>, Error> BandRender::start(
    const RenderSettings& settings, const Task& task, const std::filesystem::path& work_dir) {
  // POV_TEMP_DIR: where POV-Ray pages a large image buffer (/tmp/pov<PID>), left behind when the
  // process is killed; the task's own directory is removed after the task.
  // TASKDIST_SLOT (1-based, the node's own slot under MPI) lets a wrapper script tell slots apart.
  // LD_PRELOAD: the quick start, unless this node found that it does not work; until a band has
  // shown that it loads, each band leaves its proof (render/quick_start.h).
  std::vector<std::string> env{"POV_TEMP_DIR=" + work_dir.string() + "/",
                               "TASKDIST_SLOT=" + std::to_string(task.slot + 1)};
  if (!settings.preload.empty()) env.push_back(preload_environment(settings.preload));
  if (!settings.preload.empty() && !settings.preload_proven) {
    env.push_back("TASKDIST_QUICK_START_PROOF=" + (work_dir / kQuickStartProof).string());
  }
  auto process = Subprocess::spawn(povray_argv(settings, task.rows, work_dir), work_dir, env);
  if (!process) return std::unexpected(process.error());
  return std::unique_ptr<BandRender>(new BandRender(settings, task, std::move(*process), work_dir));
}

std::vector<int> BandRender::open_fds() const {
  std::vector<int> fds;
  if (process_.stdout_fd() >= 0) fds.push_back(process_.stdout_fd());
  if (process_.stderr_fd() >= 0) fds.push_back(process_.stderr_fd());
  return fds;
}

std::optional<double> BandRender::on_readable(int fd) {
  static thread_local std::vector<uint8_t> buffer(size_t{256} * 1024);
  const bool is_stdout = fd == process_.stdout_fd();
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      is_stdout ? process_.close_stdout() : process_.close_stderr();
      break;
    }
    const auto size = static_cast<size_t>(n);
    if (is_stdout) {
      if (!output_error_) {
        if (auto fed = image_.feed({buffer.data(), size}); !fed) output_error_ = fed.error();
      }
    } else {
      stderr_.feed({reinterpret_cast<const char*>(buffer.data()), size});
    }
  }
  finish_early_if_band_read();
  if (auto p = stderr_.take_progress()) {
    const auto now = Clock::now();
    const double cpu = process_cpu_seconds(process_.pid());
    if (!first_progress_) {
      first_progress_ = now;
      cpu_at_first_progress_ = cpu;
    } else if (cpu >= 0 && cpu_at_first_progress_ >= 0) {
      // Over at least 0.3 s: CPU time is counted in 10 ms ticks, quotas in 100 ms periods.
      const double wall = std::chrono::duration<double>(now - *first_progress_).count();
      if (wall >= 0.3) cpu_share_ = (cpu - cpu_at_first_progress_) / wall / threads_;
    }
    last_progress_ = now;
    if (stderr_.reported_all_pixels() && cpu_at_all_pixels_ < 0) cpu_at_all_pixels_ = cpu;
    fraction_ = *p;
    return p;
  }
  return std::nullopt;
}

void BandRender::finish_early_if_band_read() {
  if (frame_files_ || stopped_with_band_read_ || output_error_ || !image_.band_complete() ||
      !stderr_.reported_all_pixels() || streams_closed()) {
    return;
  }
  stopped_with_band_read_ = true;
  process_.close_stdout();
  process_.close_stderr();
  process_.signal_group(SIGKILL);
}

RunnerEvent BandRender::finish() {
  const ExitStatus status = process_.reap();
  TaskTiming timing;
  timing.wall_s = std::chrono::duration<double>(Clock::now() - started_).count();
  timing.cpu_s = status.cpu_s;
  timing.trace_cpu_s = stderr_.trace_cpu_s();
  timing.startup_cpu_s = cpu_at_first_progress_;
  if (timing.trace_cpu_s < 0 && cpu_at_first_progress_ >= 0 && cpu_at_all_pixels_ >= 0) {
    // Stopped before POV-Ray printed its own figure: first progress report to the last, which
    // arrives up to ~0.2 s late (POV-Ray's message queue), so a little of the output may count.
    timing.trace_cpu_s = cpu_at_all_pixels_ - cpu_at_first_progress_;
  }
  timing.peak_rss_bytes = status.max_rss_bytes;
  if (first_progress_ && last_progress_) {
    timing.trace_s = std::chrono::duration<double>(*last_progress_ - *first_progress_).count();
  }
  auto fail = [&](FailureKind kind, std::string message) {
    return RunnerEvent{TaskFailed{task_.id, TaskFailure{kind, std::move(message),
                                                        stderr_.error_excerpt()}}};
  };
  // Stopped by us with every row in hand, its exit status says nothing (the rest was black rows).
  if (!stopped_with_band_read_ && !status.exited) {
    return fail(FailureKind::kCrashed,
                std::string("povray was killed by signal ") + std::to_string(status.signal) +
                    " (" + strsignal(status.signal) + ")");
  }
  if (!stopped_with_band_read_ && status.code != 0) {
    return fail(stderr_.scene_error() ? FailureKind::kSceneError : FailureKind::kRenderError,
                "povray exited with code " + std::to_string(status.code));
  }
  if (output_error_) return fail(FailureKind::kRenderError, "bad povray output: " + output_error_->message());
  if (frame_files_) return read_frame_files(timing);
  if (!(image_.complete() || stopped_with_band_read_) || image_.width() <= 0 ||
      image_.channels() != expected_channels_ ||
      encoder_.rows_added() != task_.rows.count()) {
    return fail(FailureKind::kRenderError,
                "povray output was incomplete (" + std::to_string(image_.bytes_seen()) +
                    " bytes, " + std::to_string(encoder_.rows_added()) + " of " +
                    std::to_string(task_.rows.count()) + " rows)");
  }
  return RunnerEvent{TaskFinished{task_.id, {encoder_.finish(task_.rows)}, timing, {}}};
}

std::vector<std::filesystem::path> BandRender::frame_files() const {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(work_dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("frame") && name.ends_with(".tga")) files.push_back(e.path());
  }
  std::ranges::sort(files);
  return files;
}

std::expected<EncodedBand, Error> BandRender::encode_frame(const std::filesystem::path& file,
                                                           RowRange rows) const {
  BandEncoder encoder(settings_.width, expected_channels_, settings_.compression_level);
  ImageRowStream image({0, settings_.height}, [&](int y, std::span<const uint8_t> row) {
    encoder.add_row(rows.begin + y, row);
  });
  std::ifstream in(file, std::ios::binary);
  std::vector<char> buffer(size_t{256} * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    if (auto fed = image.feed({reinterpret_cast<const uint8_t*>(buffer.data()), n}); !fed) {
      return fail("bad povray output in " + file.filename().string() + ": " +
                  fed.error().message());
    }
  }
  if (!image.complete() || image.width() != settings_.width ||
      image.channels() != expected_channels_ || encoder.rows_added() != settings_.height) {
    return fail("povray's frame file " + file.filename().string() + " was incomplete");
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
  return encoder.finish(rows);
}

std::vector<EncodedBand> BandRender::take_frames() {
  std::vector<EncodedBand> frames;
  // POV-Ray has begun frame stderr_.frame(): every one before it is in its file. (Called after
  // every read: the folder is listed only when a frame is new.)
  if (!frame_files_ || output_error_ || frames_taken_ >= stderr_.frame()) return frames;
  const int first = frame_span(task_.rows, settings_.height).first;
  for (const auto& file : frame_files()) {
    if (frames_taken_ >= stderr_.frame()) break;
    auto band = encode_frame(file, frame_rows(first + frames_taken_, settings_.height));
    if (!band) {
      output_error_ = band.error();
      break;
    }
    frames.push_back(std::move(*band));
    ++frames_taken_;
  }
  return frames;
}

double BandRender::cpu_seconds() const { return process_cpu_seconds(process_.pid()); }

// The frames POV-Ray wrote to files that take_frames() has not handed over, each encoded as a
// band of its own (a whole frame).
RunnerEvent BandRender::read_frame_files(const TaskTiming& timing) {
  const FrameSpan span = frame_span(task_.rows, settings_.height);
  const std::vector<std::filesystem::path> files = frame_files();
  auto fail = [&](std::string message) {
    return RunnerEvent{TaskFailed{
        task_.id, TaskFailure{FailureKind::kRenderError, std::move(message), stderr_.error_excerpt()}}};
  };
  if (static_cast<int>(files.size()) != span.count - frames_taken_) {
    return fail("povray wrote " + std::to_string(static_cast<int>(files.size()) + frames_taken_) +
                " of " + std::to_string(span.count) + " frames");
  }
  TaskFinished finished{task_.id, {}, timing, {}};
  for (size_t i = 0; i < files.size(); ++i) {
    auto band = encode_frame(files[i], frame_rows(span.first + frames_taken_ + static_cast<int>(i),
                                                  settings_.height));
    if (!band) return fail(band.error().message());
    finished.bands.push_back(std::move(*band));
  }
  return RunnerEvent{std::move(finished)};
}

void BandRender::stop(double grace_s) {
  process_.close_stdout();
  process_.close_stderr();
  stop_processes({&process_}, grace_s);
}

}  // namespace taskdist
