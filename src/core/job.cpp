#include "core/job.h"

#include "core/cost_profile.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/one_line.h"
#include "core/pov_options.h"

namespace fs = std::filesystem;

namespace taskdist {
namespace {

using Done = std::expected<void, Error>;

struct Collected {
  std::optional<std::string> width, height, input_file, output_name;
  AnimationOptions animation;
  bool reading_ini = false;  // the options come from an INI file (not the command line)
};

bool parse_positive_int(std::string_view s, int* out) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < 1) return false;
  *out = v;
  return true;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t n = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2
                   : (b & 0xf8) == 0xf0 ? 3 : 4;  // continuation bytes that must follow
    if (n == 4 || n > s.size() - i - 1) return false;
    for (size_t k = 0; k < n; ++k) {
      if ((static_cast<unsigned char>(s[++i]) & 0xc0) != 0x80) return false;
    }
  }
  return true;
}

// Applies one classified option to the job. `where` names its origin for error messages
// ("option '+W0'" or "scene.ini:3: '+W0'"). `base` resolves relative library paths.
Done apply_option(const PovOption& opt, const std::string& where, const fs::path& base, Job& job,
                  Collected& seen) {
  if (!valid_utf8(opt.text)) {
    return fail(where + " is not valid UTF-8 text; taskdist passes options to every node as UTF-8");
  }
  if (auto on = antialias_switch(opt.text)) job.antialias = *on;
  if (includes_ini(opt.text)) job.antialias = true;  // taskdist does not read it: it may
  switch (opt.kind) {
    case PovOptionKind::kRefused:
      return fail(where + " is not accepted: " + opt.reason);
    case PovOptionKind::kWidth:
      seen.width = opt.value;
      return {};
    case PovOptionKind::kHeight:
      seen.height = opt.value;
      return {};
    case PovOptionKind::kInputFile:
      seen.input_file = opt.value;
      return {};
    case PovOptionKind::kOutputName:
      seen.output_name = opt.value;
      return {};
    case PovOptionKind::kAnimation:
      seen.animation.take(opt.key, opt.value, opt.enabled, seen.reading_ini, where);
      return {};
    case PovOptionKind::kBlockSize:
      if (!parse_positive_int(opt.value, &job.block_size) || job.block_size < 4) {
        return fail(where, "the render block size must be a whole number >= 4, got '" +
                               opt.value + "'");
      }
      break;
    case PovOptionKind::kThreads:
      if (!parse_positive_int(opt.value, &job.threads_per_band)) {
        return fail(where, "the number of work threads must be a whole number >= 1, got '" +
                               opt.value + "'");
      }
      return {};  // taskdist passes +WT itself, the same for every band
    case PovOptionKind::kAlpha:
      job.alpha = opt.enabled;
      break;
    case PovOptionKind::kMaxImageBuffer:
      job.user_max_image_buffer = true;
      break;
    case PovOptionKind::kLibraryPath: {
      fs::path p = opt.value;
      if (p.is_relative()) p = base / p;
      const std::string path = p.lexically_normal().string();
      if (path.find('"') != std::string::npos) {
        return fail(where, "POV-Ray cannot take a library path that contains a double quote");
      }
      job.pov_options.push_back(pov_path_option("+L", path));
      return {};
    }
    case PovOptionKind::kPassThrough:
      break;
  }
  job.pov_options.push_back(opt.text);
  return {};
}

// Reads a POV-Ray INI file: "Key=Value" settings and "+X" switches, ';' comments.
// Section labels ("[name]") end the default section: later lines are not read.
Done read_ini(const fs::path& ini, Job& job, Collected& seen) {
  std::ifstream in(ini);
  if (!in) return fail("cannot read INI file '" + ini.string() + "'");
  std::string line;
  int line_no = 0;
  seen.reading_ini = true;
  struct Reset {  // the command line's options come next
    bool& flag;
    ~Reset() { flag = false; }
  } reset{seen.reading_ini};
  while (std::getline(in, line)) {
    ++line_no;
    if (auto semi = line.find(';'); semi != std::string::npos) line.resize(semi);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    std::string_view text = std::string_view(line).substr(start);
    if (text.front() == '[') break;
    const std::string where = ini.string() + ":" + std::to_string(line_no) + ": '" +
                              std::string(text) + "'";
    if (!looks_like_pov_option(text)) {
      return fail(where + " is not a POV-Ray setting (expected Key=Value or +Switch)");
    }
    if (auto done = apply_option(classify_pov_option(text), where, ini.parent_path(), job, seen);
        !done) {
      return done;
    }
  }
  return {};
}

Done check_output(const fs::path& output) {
  const fs::path dir = output.parent_path();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return fail("output directory '" + dir.string() + "' does not exist; create it or choose "
                "another path with -o");
  }
  if (!fs::is_directory(dir, ec)) return fail("'" + dir.string() + "' is not a directory (from -o)");
  if (fs::is_directory(output, ec)) {
    return fail("output '" + output.string() + "' is a directory; give a file name such as " +
                (output / "image.png").string());
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return fail("output directory '" + dir.string() +
                "' is not writable; choose another path with -o");
  }
  return {};
}

// The scene: a .pov file as given, or the Input_File_Name of an INI file (whose settings are
// applied to the job on the way).
Done find_scene(const JobRequest& request, Job& job, Collected& seen) {
  std::error_code ec;
  if (request.scene.empty()) return fail("no scene given: taskdist render SCENE.pov|SCENE.ini");
  fs::path given = fs::absolute(request.scene).lexically_normal();
  if (!fs::exists(given, ec)) return fail("scene file '" + request.scene + "' not found");
  if (!fs::is_regular_file(given, ec)) {
    return fail("scene '" + request.scene + "' is not a regular file");
  }
  if (::access(given.c_str(), R_OK) != 0) {
    return fail("scene file '" + request.scene + "' is not readable");
  }
  std::string ext = given.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".ini") {
    if (auto done = read_ini(given, job, seen); !done) return done;
    if (!seen.input_file) {
      return fail("INI file '" + request.scene + "' names no scene (Input_File_Name=...)");
    }
    fs::path scene = *seen.input_file;
    if (scene.is_relative()) scene = given.parent_path() / scene;
    job.scene = scene.lexically_normal();
    if (!fs::is_regular_file(job.scene, ec)) {
      return fail("scene file '" + job.scene.string() + "' (Input_File_Name in " +
                  request.scene + ") not found");
    }
  } else {
    job.scene = given;
  }
  job.scene_dir = job.scene.parent_path();
  if (job.scene.string().find('"') != std::string::npos) {
    return fail("scene path '" + job.scene.string() +
                "' contains a double quote, which POV-Ray cannot take; rename or move it");
  }
  return {};
}

// The POV-Ray options of the command line, then the size they and the INI file set.
Done apply_pov_args(const JobRequest& request, const fs::path& cwd, Job& job, Collected& seen) {
  for (const std::string& arg : request.pov_args) {
    if (!looks_like_pov_option(arg)) {
      return fail("unexpected argument '" + arg +
                  "': POV-Ray options look like +W800 or Width=800; see taskdist render --help");
    }
    PovOption opt = classify_pov_option(arg);
    if (opt.kind == PovOptionKind::kInputFile) {
      return fail("option '" + arg + "' is not accepted: give the scene as the first argument");
    }
    if (auto done = apply_option(opt, "option '" + arg + "'", cwd, job, seen); !done) return done;
  }
  if (seen.width) {
    if (auto done = check_dimension("width (+W)", *seen.width, &job.width); !done) return done;
  }
  if (seen.height) {
    if (auto done = check_dimension("height (+H)", *seen.height, &job.height); !done) return done;
  }
  auto animation = resolve_animation(seen.animation);
  if (!animation) return std::unexpected(animation.error());
  job.animation = std::move(*animation);
  if (!job.animation) {
    // A still: clock options without frames mean to POV-Ray what they meant before.
    if (seen.animation.initial_clock) job.pov_options.push_back("+KI" + *seen.animation.initial_clock);
    if (seen.animation.final_clock) job.pov_options.push_back("+KF" + *seen.animation.final_clock);
    if (seen.animation.cyclic) job.pov_options.push_back(*seen.animation.cyclic ? "+KC" : "-KC");
  }
  return {};
}

// The output: -o, else Output_File_Name (a folder if it ends in '/'), else SCENE.png in the cwd.
fs::path output_path(const JobRequest& request, const fs::path& cwd, const Job& job,
                     const Collected& seen) {
  const fs::path scene_png = job.scene.filename().replace_extension(".png");
  if (!request.output.empty()) return fs::absolute(request.output).lexically_normal();
  if (!seen.output_name || seen.output_name->empty()) return cwd / scene_png;
  const fs::path named = fs::absolute(*seen.output_name).lexically_normal();
  std::error_code ec;
  if (seen.output_name->back() == '/' || fs::is_directory(named, ec)) return named / scene_png;
  return named;
}

Done apply_video_options(const JobRequest& request, Job& job) {
  if (!(request.fps > 0 && request.fps <= 1000)) {
    return fail("--fps must be more than 0 and at most 1000 frames per second");
  }
  job.fps = request.fps;
  if (request.video.empty()) return {};
  if (!job.animation) {
    return fail("--video needs an animation; give its frames with +KFI/+KFF or an INI file's "
                "Initial_Frame/Final_Frame");
  }
  const auto ffmpeg = find_executable("ffmpeg");
  if (!ffmpeg) {
    return fail("--video needs ffmpeg, which is not on PATH; install Debian's ffmpeg "
                "(apt-get install ffmpeg), or leave out --video");
  }
  job.ffmpeg = *ffmpeg;
  job.video = fs::absolute(request.video).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(job.video->parent_path(), ec)) {
    return fail("the folder of --video '" + job.video->string() + "' does not exist");
  }
  if (fs::is_directory(*job.video, ec)) {
    return fail("--video '" + job.video->string() + "' is a directory; give a file name such as " +
                (*job.video / "animation.mp4").string());
  }
  return {};
}

// taskdist's own options: where the output and the journal go, retries, the live view...
Done apply_run_options(const JobRequest& request, const fs::path& cwd, Job& job,
                       const Collected& seen) {
  std::error_code ec;
  job.output = output_path(request, cwd, job, seen);
  if (auto done = check_output(job.output); !done) return done;
  if (auto done = apply_video_options(request, job); !done) return done;
  if (request.slots < 0) return fail("-j must be at least 1");
  job.slots = request.slots > 0 ? request.slots
                                : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  job.policy = request.policy;
  if (!request.report.empty()) job.report = fs::absolute(request.report);
  job.job_dir = request.job_dir.empty() ? fs::path(job.output.string() + ".taskdist")
                                        : fs::absolute(request.job_dir).lexically_normal();
  if (!fs::is_directory(job.job_dir.parent_path(), ec)) {
    return fail("the folder of --job-dir '" + job.job_dir.string() + "' does not exist");
  }
  job.resume = request.resume;
  job.keep_job_dir = request.keep_job_dir;
  if (request.retries < 0) return fail("--retries must be 0 or more");
  job.retries = request.retries;
  if (!(request.task_timeout_s >= 0)) return fail("--task-timeout must be 0 (none) or more seconds");
  job.task_timeout_s = request.task_timeout_s;
  if (request.exclude_after < 1) return fail("--exclude-after must be at least 1");
  job.exclude_after = request.exclude_after;
  job.duplicates = request.duplicates;
  job.cost_profile = request.cost_profile;
  job.quick_start = request.quick_start;
  if (!request.profile_dir.empty()) {
    job.profile_dir = fs::absolute(request.profile_dir).lexically_normal();
  }
  job.serve = request.serve;
  if (!(request.linger_s >= 0)) return fail("--linger must be 0 or more seconds");
  job.linger_s = request.linger_s;
  job.quiet = request.quiet;
  return {};
}

}  // namespace

std::optional<fs::path> find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    std::error_code ec;  // a folder is searchable (X_OK), not runnable
    if (::access(name.c_str(), X_OK) == 0 && !fs::is_directory(name, ec)) {
      return fs::absolute(name);
    }
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const size_t colon = rest.find(':');
    fs::path dir = std::string(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    fs::path candidate = dir / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) {
      return fs::absolute(candidate);
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::expected<Job, Error> build_job(const JobRequest& request) {
  Job job;
  job.antialias = ini_files_may_antialias(default_ini_files());  // POV-Ray reads them first
  Collected seen;
  const fs::path cwd = fs::current_path();
  // Every error leaves as one line: the user's bytes it quotes (a newline in an argument, a NUL
  // or a CR in an INI file) are escaped.
  auto one_line_error = [](const Error& e) {
    return std::unexpected(Error(one_line(e.where), one_line(e.what), one_line(e.accepted)));
  };
  if (auto done = find_scene(request, job, seen); !done) return one_line_error(done.error());
  if (auto done = apply_pov_args(request, cwd, job, seen); !done) {
    return one_line_error(done.error());
  }
  if (auto done = apply_run_options(request, cwd, job, seen); !done) return one_line_error(done.error());
  auto povray = find_executable(request.povray);
  if (!povray) {
    return std::unexpected(Error(
        "POV-Ray ('" + one_line(request.povray) +
        "') not found on PATH; install the Debian packages povray and povray-includes "
        "(apt-get install povray povray-includes)"));
  }
  job.povray = *povray;
  return job;
}

}  // namespace taskdist
