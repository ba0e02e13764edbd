// Helpers for the tests: decode PNGs with libpng (an independent decoder), run programs, render
// reference images with a single full povray run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <optional>

#include "exec/subprocess.h"

namespace taskdist::testing {

/// The whole file; empty if it cannot be read.
std::string read_file(const std::filesystem::path& p);
nlohmann::json read_json(const std::filesystem::path& p);

/// A command running in the background, its stdout and stderr going to `dir`/`name`.out/.err.
/// Killed (its process group) if the test ends first.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::filesystem::path& dir,
             const std::string& name);
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::optional<ExitStatus> poll() { return process_ ? process_->try_reap() : std::nullopt; }
  /// Waits for the end (fails the test and kills it after `timeout_s`).
  ExitStatus wait(double timeout_s = 300);
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  std::filesystem::path out_, err_;
  std::optional<Subprocess> process_;
};

/// 128+N for a process killed by signal N.
int exit_code(const ExitStatus& s);


struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

/// Decodes `path` with libpng into 8-bit RGB or RGBA. Fails the test on error.
Image decode_png(const std::filesystem::path& path);
/// Number of pixels that differ in any channel; -1 if the sizes differ.
long long count_differences(const Image& a, const Image& b);
/// `image` as RGB: alpha dropped where every pixel is opaque; fails the test (and returns an
/// empty image) on a pixel that is not.
Image opaque_rgb(const Image& image);
/// The `width` x `height` rectangle of `image` whose top left corner is (`x`, `y`).
Image crop(const Image& image, int x, int y, int width, int height);
/// Number of pixels in rows `first_row`.. whose red, green and blue are all above 200 (text
/// written white on black, as the race's caption is).
long long count_bright_pixels(const Image& image, int first_row);

struct RunResult {
  int exit_code = -1;  ///< 128+N if killed by signal N
  std::string out;
  std::string err;
};

/// Runs argv (argv[0] a path or a name on PATH) with extra environment settings, waits up to
/// `timeout_s`, and captures its output.
RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
              double timeout_s = 300, const std::filesystem::path& cwd = {});

/// The taskdist binary under test, the source tree, and Debian's blob.pov.
std::filesystem::path taskdist_binary();
std::filesystem::path source_dir();
std::filesystem::path blob_scene();

/// A fresh directory under the test's scratch root; removed at the end of the test program.
std::filesystem::path fresh_dir(const std::string& name);

/// Writes an executable /bin/sh script `dir`/`name` with `body`; returns its path.
std::filesystem::path write_script(const std::filesystem::path& dir, const std::string& name,
                                   const std::string& body);

/// Renders `scene` whole with one povray process and the given options; cached per arguments.
std::filesystem::path reference_render(const std::filesystem::path& scene, int width, int height,
                                       const std::vector<std::string>& options);

/// Direct children of `pid` (from /proc).
std::vector<pid_t> children_of(pid_t pid);
/// Children of `pid`, their children, and so on (from /proc).
std::vector<pid_t> descendants(pid_t pid);
/// True if the process exists and is not a zombie.
bool process_alive(pid_t pid);
/// The taskdist process of MPI rank `rank` among the descendants of `root` (e.g. an mpirun on
/// this machine), found from its environment; waits up to `timeout_s` for it; -1 if none.
pid_t mpi_rank_pid(pid_t root, int rank, double timeout_s = 10);

}  // namespace taskdist::testing
