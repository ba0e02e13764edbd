#include "test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <png.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace taskdist::testing {

Image decode_png(const fs::path& path) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  Image out;
  if (!png_image_begin_read_from_file(&img, path.c_str())) {
    ADD_FAILURE() << "libpng cannot read " << path << ": " << img.message;
    return out;
  }
  const bool alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  img.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  out.width = static_cast<int>(img.width);
  out.height = static_cast<int>(img.height);
  out.channels = alpha ? 4 : 3;
  out.pixels.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, out.pixels.data(), 0, nullptr)) {
    ADD_FAILURE() << "libpng cannot decode " << path << ": " << img.message;
    out.pixels.clear();
  }
  return out;
}

long long count_differences(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels ||
      a.pixels.size() != b.pixels.size()) {
    return -1;
  }
  long long diff = 0;
  const size_t c = static_cast<size_t>(a.channels);
  for (size_t i = 0; i < a.pixels.size(); i += c) {
    if (std::memcmp(&a.pixels[i], &b.pixels[i], c) != 0) ++diff;
  }
  return diff;
}

Image opaque_rgb(const Image& image) {
  if (image.channels != 4) return image;
  Image rgb{image.width, image.height, 3, {}};
  for (auto pixel = image.pixels.begin(); pixel + 3 < image.pixels.end(); pixel += 4) {
    if (pixel[3] != 255) {
      ADD_FAILURE() << "a pixel is not opaque (alpha " << int{pixel[3]} << ")";
      return {};
    }
    rgb.pixels.insert(rgb.pixels.end(), pixel, pixel + 3);
  }
  return rgb;
}

Image crop(const Image& image, int x, int y, int width, int height) {
  Image out{width, height, image.channels, {}};
  if (x < 0 || y < 0 || x + width > image.width || y + height > image.height) {
    ADD_FAILURE() << "crop outside the " << image.width << "x" << image.height << " image";
    return out;
  }
  const std::ptrdiff_t c = image.channels;
  for (int row = y; row < y + height; ++row) {
    const auto first = image.pixels.begin() + (std::ptrdiff_t{row} * image.width + x) * c;
    out.pixels.insert(out.pixels.end(), first, first + width * c);
  }
  return out;
}

long long count_bright_pixels(const Image& image, int first_row) {
  long long bright = 0;
  const size_t c = static_cast<size_t>(image.channels);
  for (size_t i = static_cast<size_t>(first_row) * static_cast<size_t>(image.width) * c;
       i + 2 < image.pixels.size(); i += c) {
    if (image.pixels[i] > 200 && image.pixels[i + 1] > 200 && image.pixels[i + 2] > 200) ++bright;
  }
  return bright;
}

RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              double timeout_s, const fs::path& cwd) {
  int out[2], err[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_count = 2;
  char buf[65536];
  bool timed_out = false;
  while (open_count > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (timed_out) ADD_FAILURE() << "timed out after " << timeout_s << " s: " << argv[0];
  return r;
}

fs::path taskdist_binary() { return TASKDIST_BINARY; }
fs::path source_dir() { return TASKDIST_SOURCE_DIR; }

fs::path blob_scene() {
  for (const char* p : {"/usr/share/doc/povray/examples/objects/blob.pov",
                        "/usr/share/povray-3.7/scenes/objects/blob.pov"}) {
    if (fs::exists(p)) return p;
  }
  ADD_FAILURE() << "blob.pov not found: install the Debian package povray-examples";
  return {};
}

namespace {
// The test program's scratch directory: created on first use, removed when the program ends.
class ScratchRoot {
 public:
  const fs::path& get() {
    if (path_.empty()) {
      std::string templ = (fs::temp_directory_path() / "taskdist-tests-XXXXXX").string();
      if (::mkdtemp(templ.data()) == nullptr) std::abort();
      path_ = templ;
    }
    return path_;
  }
  ~ScratchRoot() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }

 private:
  fs::path path_;
} g_scratch;

fs::path scratch_root() { return g_scratch.get(); }
}  // namespace

fs::path fresh_dir(const std::string& name) {
  static int counter = 0;
  fs::path dir = scratch_root() / (name + "-" + std::to_string(++counter));
  fs::create_directories(dir);
  return dir;
}

fs::path write_script(const fs::path& dir, const std::string& name, const std::string& body) {
  const fs::path p = dir / name;
  std::ofstream(p) << "#!/bin/sh\n" << body;
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

fs::path reference_render(const fs::path& scene, int width, int height,
                          const std::vector<std::string>& options) {
  static std::map<std::string, fs::path> cache;
  std::ostringstream key;
  key << scene.string() << ' ' << width << 'x' << height;
  for (const auto& o : options) key << ' ' << o;
  if (auto it = cache.find(key.str()); it != cache.end()) return it->second;
  const fs::path dir = fresh_dir("reference");
  const fs::path out = dir / "reference.png";
  std::vector<std::string> argv = {"povray", "+I\"" + scene.string() + "\"",
                                   "+L\"" + scene.parent_path().string() + "\"",
                                   "+W" + std::to_string(width), "+H" + std::to_string(height),
                                   "+WT1", "-D", "+FN", "+O" + out.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  RunResult r = run(argv, {}, 600, dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  cache[key.str()] = out;
  return out;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> kids;
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  pid_t k;
  while (in >> k) kids.push_back(k);
  return kids;
}

std::vector<pid_t> descendants(pid_t pid) {
  std::vector<pid_t> all;
  for (pid_t c : children_of(pid)) {
    all.push_back(c);
    for (pid_t g : descendants(c)) all.push_back(g);
  }
  return all;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(read_file(p)); }

Background::Background(const std::vector<std::string>& argv, const fs::path& dir,
                       const std::string& name)
    : out_(dir / (name + ".out")), err_(dir / (name + ".err")) {
  std::vector<std::string> sh = {"/bin/sh", "-c", "exec \"$@\" >\"$0.out\" 2>\"$0.err\"",
                                 (dir / name).string()};
  sh.insert(sh.end(), argv.begin(), argv.end());
  auto p = Subprocess::spawn(sh, dir);
  if (!p) ADD_FAILURE() << p.error();
  else process_.emplace(std::move(*p));
}

ExitStatus Background::wait(double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (auto s = poll()) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "timed out after " << timeout_s << " s";
  process_->signal_group(SIGKILL);
  return process_->reap();
}

int exit_code(const ExitStatus& s) { return s.exited ? s.code : 128 + s.signal; }

pid_t mpi_rank_pid(pid_t root, int rank, double timeout_s) {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0';
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  do {
    for (pid_t p : descendants(root)) {
      const std::string env = read_file("/proc/" + std::to_string(p) + "/environ");
      if (env.find(wanted) != std::string::npos &&
          read_file("/proc/" + std::to_string(p) + "/comm").starts_with("taskdist")) {
        return p;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < end);
  return -1;
}

bool process_alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace taskdist::testing
