// taskdist: renders one POV-Ray image in parallel row bands and assembles them into one PNG.
// main() is thin: split the command line, build the job, run it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cmd/render_command.h"
#include "core/job.h"
#include "core/pov_options.h"

namespace {

constexpr const char* kRenderHelp = R"(Render one POV-Ray image in parallel row bands on this machine and stream them into one PNG.

  taskdist render SCENE.pov|SCENE.ini [POV-Ray options...] [-o OUT.png] [-j N]
                  [--policy static|dynamic] [--report RUN.json] [--quiet]

POV-Ray options are written as for povray itself: +W800 +H600 (or Width=/Height= in an INI
file) set the size (default 320x240, at most 65535 each); every other option (+A0.3, +AM2,
+Q9, Declare=X=1, +L<path>, ...) is passed to every band unchanged. taskdist's own short flags
are lower case (-o -j -q -h): write POV-Ray's minus switches in upper case (-J, -UA).
Refused, because they would break the split: +SR/+ER/+SC/+EC, +O (use -o), +F (the output is
always an 8-bit PNG, RGBA with +UA), animation options (+KFI/+KFF/+KI/+KF/+SF/+EF/+KC), +I,
+D, +C, +P.

Each band runs the unmodified povray in a private temporary directory with +WT1 (one thread;
+WT<n> sets another count, the same for every band); the scene's folder is on POV-Ray's
library path, so includes and images beside the scene are found from any directory.

Exit codes: 0 success; 1 the render failed (scene error, POV-Ray failure, output I/O error);
2 bad command line, option, scene or output path; 130 interrupted by Ctrl-C (128+N for
signal N). On failure or interruption no output file is left behind.)";

// Our own flags, and those that take the next argument as their value.
const std::set<std::string> kOwnFlags = {"-o", "--output", "-j", "--jobs", "--policy", "--report",
                                         "--povray", "-q", "--quiet", "-h", "--help"};
const std::set<std::string> kFlagsWithValue = {"-o", "--output", "-j", "--jobs", "--policy",
                                               "--report", "--povray"};

bool is_own_flag(const std::string& arg) {
  if (kOwnFlags.contains(arg)) return true;
  // "-j4": the attached form of -j (POV-Ray's jitter switch is written -J).
  if (arg.size() > 2 && arg.starts_with("-j") &&
      arg.find_first_not_of("0123456789", 2) == std::string::npos) {
    return true;
  }
  const auto eq = arg.find('=');
  if (arg.starts_with("--") && eq != std::string::npos) return kOwnFlags.contains(arg.substr(0, eq));
  return false;
}

// Separates POV-Ray options (which CLI11 must not see: "-D" or "-UA" are not our flags) from
// taskdist's own flags and the scene.
void split_args(const std::vector<std::string>& args, std::vector<std::string>& ours,
                std::vector<std::string>& pov) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (is_own_flag(a)) {
      ours.push_back(a);
      if (kFlagsWithValue.contains(a) && i + 1 < args.size()) ours.push_back(args[++i]);
    } else if (taskdist::looks_like_pov_option(a) && !a.starts_with("--")) {
      pov.push_back(a);
    } else {
      ours.push_back(a);
    }
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const auto program_start = std::chrono::steady_clock::now();
  std::vector<std::string> args(argv + 1, argv + argc);

  CLI::App app{"taskdist: render POV-Ray scenes in parallel row bands, locally or on a cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "taskdist 0.1.0");
  auto* render = app.add_subcommand("render", kRenderHelp);

  taskdist::JobRequest request;
  std::string policy = "dynamic";
  render->add_option("scene", request.scene, "the scene: a .pov file, or a POV-Ray .ini file")
      ->required();
  render->add_option("-o,--output", request.output,
                     "output PNG (default: the scene's name with .png, in the current directory)");
  render->add_option("-j,--jobs", request.slots, "local slots, bands in parallel (default: cores)")
      ->check(CLI::Range(1, 4096));
  render->add_option("--policy", policy,
                     "dynamic (default): slots pull bands sized to balance the tail; static: the "
                     "paper's split, one equal band per slot")
      ->check(CLI::IsMember({"static", "dynamic"}));
  render->add_option("--report", request.report,
                     "write a JSON report: phases (seq1_s, parallel_s, seq2_s, total_s), tasks, "
                     "master_peak_rss_bytes");
  render->add_option("--povray", request.povray, "POV-Ray executable (default: povray on PATH)");
  render->add_flag("-q,--quiet", request.quiet, "no progress line and no timing table");

  std::vector<std::string> ours, pov;
  if (!args.empty() && args[0] == "render") {
    ours.push_back(args[0]);
    split_args({args.begin() + 1, args.end()}, ours, pov);
  } else {
    ours = args;
  }
  std::reverse(ours.begin(), ours.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(ours);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : taskdist::kExitUsage;
  }
  request.pov_args = pov;
  request.policy = policy == "static" ? taskdist::Policy::kStatic : taskdist::Policy::kDynamic;

  auto job = taskdist::build_job(request);
  if (!job) {
    fmt::print(stderr, "taskdist: {}\n", job.error());
    return taskdist::kExitUsage;
  }
  return taskdist::run_render(*job, program_start);
} catch (const std::exception& e) {
  fmt::print(stderr, "taskdist: fatal: {}\n", e.what());
  return taskdist::kExitRenderFailed;
}
