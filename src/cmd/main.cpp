// taskdist: renders one POV-Ray image in parallel row bands and assembles them into one PNG.
// main() is thin: split the command line, build the job, run it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <cstdio>
#include <optional>


#include "bench/study.h"
#include "race/race.h"
#include "engine/render_job.h"
#include "exec/cpu_quota.h"
#include "mpi/channel.h"
#include "mpi/mpi_bench.h"
#include "mpi/mpi_race.h"
#include "mpi/mpi_master.h"
#include "mpi/mpi_session.h"
#include "mpi/worker.h"
#include "core/job.h"
#include "core/pov_options.h"

namespace {

constexpr const char* kRenderHelp = R"(Render one POV-Ray image in parallel row bands, on this machine or on a cluster (Open MPI),
and stream them into one PNG.

  taskdist render SCENE.pov|SCENE.ini [POV-Ray options...] [-o OUT.png] [-j N]
                  [--policy static|dynamic] [--report RUN.json] [--quiet]
  mpirun ... taskdist render SCENE ... [--slots N] [--master-slots N] [--scene-dir DIR]
                  [--shared-dir] [--scene-limit MIB]

POV-Ray options are written as for povray itself: +W800 +H600 (or Width=/Height= in an INI
file) set the size (default 320x240, at most 65535 each); every other option (+A0.3, +AM2,
+Q9, Declare=X=1, +L<path>, ...) is passed to every band unchanged. taskdist's own short flags
are lower case (-o -j -q -h): write POV-Ray's minus switches in upper case (-J, -UA).
Refused, because they would break the split: +SR/+ER/+SC/+EC, +O (use -o), +F (the output is
always an 8-bit PNG, RGBA with +UA), animation options (+KFI/+KFF/+KI/+KF/+SF/+EF/+KC), +I,
+D, +C, +P; and an option with a space in it (POV-Ray would split it again: "+UA +SC40"),
except a library path (+L).

Each band runs the unmodified povray in a private temporary directory with +WT1 (one thread;
+WT<n> sets another count, the same for every band); the scene's folder is on POV-Ray's
library path, so includes and images beside the scene are found from any directory. Bands
start on any row; where antialiasing may be on (+A, here or in POV-Ray's own povray.ini), on
multiples of the render block size (+BS, default 32), so method 1 matches a full render.

On a cluster, start it with Open MPI (or srun): rank 0 is the master, every other rank a worker
node that renders --slots bands at once and pulls more as it finishes them:
  mpirun -np 9 --hostfile hosts taskdist render SCENE.pov +W3200 +H2400 -o OUT.png --slots 4
The master packs the scene's folder (the scene and the files beside it, at most --scene-limit
MiB) and sends it to every node, which renders from a private copy: no shared filesystem is
needed. With --shared-dir every node uses the scene where it is. POV-Ray's standard includes
come from each node's own install. --policy static gives each worker node one equal band.
A worker rank that sends nothing, not even its heartbeat (every 0.1 s), for --node-timeout
seconds (default 5) is lost: its bands go to the other nodes, and once the image is written
taskdist ends the MPI job with MPI_Abort (exit 4) instead of waiting for it in MPI_Finalize.
A rank that dies, or a node cut off, makes Open MPI end every rank itself: taskdist names the
node that went silent and keeps the finished bands. Give mpirun --mca oob_tcp_keepalive_time 2
--mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 2 so that it notices a cut
link in seconds, not minutes.

Nothing finished is lost: every band is written to the job folder (OUT.png.taskdist, or
--job-dir), checksummed and synced, before it counts. If a run ends early (a node lost, the
master killed, Ctrl-C, a full disk), the same command with --resume re-uses every whole band
and renders only the rest; a damaged band file is rendered again. The folder is removed after
success (--keep-job-dir keeps it). A band that fails for a reason other than the scene (crash,
signal, --task-timeout, bad output) is retried on another worker, up to --retries times; a slot
or node that fails --exclude-after bands in a row gets no more. When nothing is left to hand
out, an idle slot renders a copy of the band that has run longest (at least 2 s); the first copy
to finish wins (dynamic policy; --no-duplicates turns this off). A scene error stops the job at
once.

Cost profiles: each successful render keeps what its bands cost, per scene (its name, files
but images and reports, options and aspect ratio, not its size), in ~/.cache/taskdist/profiles (--profile-dir DIR;
$TASKDIST_CACHE_DIR/profiles if set). Later renders of the scene cut their dynamic bands by the
predicted cost of the rows, not by their number: on capped slots (an emulated cluster's hosts)
one band per slot, all predicted to finish together. --no-profile neither reads nor writes one.

Exit codes: 0 success; 1 the render failed (scene error, POV-Ray failure, output I/O error);
2 bad command line, option, scene or output path, or a job folder that belongs to another run;
3 a worker node was lost and the image is not complete; 4 the image is complete and correct but
a worker node was lost (the MPI job was ended with MPI_Abort); 130 interrupted by Ctrl-C
(128+N for signal N). On failure or
interruption no output file is left behind (the job folder keeps the finished bands).)";

constexpr const char* kBenchHelp = R"(Reproduce the paper's scaling study: every size x node count x policy x method, run
interleaved (every combination once per round) so that machine noise hits all alike.
On one machine, nodes are local slots. Under mpirun (`mpirun -np K taskdist bench ...`), rank 0
runs the study and nodes are worker ranks: a run on N nodes uses ranks 1..N.
--method paper measures the paper's own method beside ours: one equal band per node, each
povray writes its full-height PNG, `convert -extract` keeps the band (on the node), and
`convert -append` joins them on the master (a failure, e.g. ImageMagick's memory limits at large
sizes, is a row with its reason, not a crash).

Writes into --out: results.csv (three phases with mean/median/min/max, total, speedup,
efficiency, phase shares, master and node peak RSS), fig7_phases.png, fig9_speedup.png (with
the paper's own speedups), fig10_shares.png, efficiency.png, and report.md.

Exit codes: 0 the study completed; 1 writing the results failed; 2 bad option; 4 (under mpirun)
the study completed but a worker node stopped answering (--node-timeout) and the MPI job was
ended with MPI_Abort; 130 interrupted.)";

constexpr const char* kRaceHelp = R"(The festival demo: one worker renders each image alone while the others render the same
image together, at the same time. With --serve, a web page shows both side by side, filling in,
each with a running clock, then both times and the speedup; it holds them (--hold) and starts
the next scene of the playlist (--loop: forever, until Ctrl-C).

  taskdist race SCENE.pov... [POV-Ray options...] [--solo N] [--team N] [--hold S] [--loop]
                [--serve [ADDR:]PORT [--linger S]] [-o DIR]

On one machine, the solo side is --solo local slots (default 1) and the team side --team slots
(default: the other cores). Under mpirun (e.g. tools/cluster mpirun taskdist race ...), the solo
side is the first worker rank and the team side the other worker ranks (--team N: N of them).
Every race writes DIR/SCENE-solo.png, DIR/SCENE-team.png and DIR/SCENE-race.png (both side by
side with their times, via ImageMagick; if it cannot be made, stderr says why and the race goes
on), and prints a line with both times, the speedup and taskdist's memory (RSS).

Exit codes: 0 the playlist ran through; 1 a render failed; 2 bad option or scene; 4 (under
mpirun) the playlist ran through but a worker node stopped answering (--node-timeout) and the
MPI job was ended with MPI_Abort; 130 Ctrl-C.)";

// Our own flags, and those that take the next argument as their value.
const std::set<std::string> kOwnFlags = {
    "-o",           "--output",       "-j",          "--jobs",         "--policy",
    "--report",     "--povray",       "-q",          "--quiet",        "-h",
    "--help",       "--slots",        "--master-slots", "--scene-dir", "--shared-dir",
    "--scene-limit", "--job-dir",     "--resume",    "--keep-job-dir", "--retries",
    "--task-timeout", "--exclude-after", "--no-duplicates", "--serve", "--linger",
    "--no-profile", "--profile-dir", "--solo",       "--team",         "--hold",      "--loop",
    "--node-timeout"};
const std::set<std::string> kFlagsWithValue = {
    "-o",        "--output",     "-j",           "--jobs",        "--policy",
    "--report",  "--povray",     "--slots",      "--master-slots", "--scene-dir",
    "--scene-limit", "--job-dir", "--retries",   "--task-timeout", "--exclude-after",
    "--serve",   "--linger",     "--solo",       "--team",        "--hold",
    "--profile-dir", "--node-timeout"};

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

// The process's MPI session, if a launcher started it. Outside main's body, so that it outlives
// an exception thrown there: main's handler ends the MPI job instead of leaving the other ranks
// waiting for this one (MPI_Finalize at exit otherwise).
std::optional<taskdist::MpiSession>& mpi_session() {
  static std::optional<taskdist::MpiSession> session;
  return session;
}

// A worker rank's exit: after a signal or a lost rank the job is being torn down, and
// MPI_Finalize would wait for ranks that are gone.
int finish_worker(int code) {
  if (code != 0) {
    std::fflush(nullptr);
    ::_exit(code);
  }
  return 0;
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
  render->add_option("-j,--jobs", request.slots,
                     "local slots, bands in parallel (default: cores, or the CPU quota if a "
                     "cgroup sets one)")
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
  render->add_option("--job-dir", request.job_dir,
                     "the job folder, where finished bands are journaled (default: "
                     "OUT.png.taskdist beside the output)");
  render->add_flag("--resume", request.resume,
                   "finish an interrupted run: re-use every whole band in the job folder (the "
                   "job must be the same: scene files, options, size) and render the rest");
  render->add_flag("--keep-job-dir", request.keep_job_dir,
                   "keep the job folder after success (default: removed)");
  render->add_option("--retries", request.retries,
                     "tries again a band that failed for a reason other than the scene (crash, "
                     "signal, timeout, bad output), on another worker if there is one (default 3)")
      ->check(CLI::Range(0, 1000000));
  render->add_option("--task-timeout", request.task_timeout_s,
                     "seconds a band may run before it is stopped and retried (default: none)")
      ->check(CLI::Range(0.0, 1e9));
  render->add_option("--exclude-after", request.exclude_after,
                     "a slot (locally) or node (under MPI) that fails this many bands in a row "
                     "gets no more; the job stops once all are out (default 3)")
      ->check(CLI::Range(1, 1000000));
  render->add_option("--serve", request.serve,
                     "[ADDR:]PORT: a live web view of the render (the image filling in, a "
                     "timeline of tasks per worker, progress, the phases), on 127.0.0.1 unless an "
                     "address is given; 0: any free port; the URL is printed");
  render->add_option("--linger", request.linger_s,
                     "seconds the live view stays up after the render (default 0)")
      ->check(CLI::Range(0.0, 1e9));
  bool no_duplicates = false;
  render->add_flag("--no-duplicates", no_duplicates,
                   "never copy a straggling band onto an idle slot at the end (default: an idle "
                   "slot renders a copy of the band running longest, the first copy wins)");
  bool no_profile = false;
  render->add_flag("--no-profile", no_profile,
                   "neither use nor keep the scene's cost profile (default: bands on capped "
                   "slots are cut by the cost of rows measured in earlier runs of the scene, and "
                   "this run's costs are kept)");
  render->add_option("--profile-dir", request.profile_dir,
                     "where cost profiles are kept, one small JSON file per scene (default: "
                     "$TASKDIST_CACHE_DIR/profiles, else ~/.cache/taskdist/profiles)");
  taskdist::ClusterOptions cluster;
  taskdist::WorkerOptions worker;
  std::string scene_dir;
  int scene_limit_mb = 64;
  render->add_option("--slots", worker.slots,
                     "under MPI: bands at once on each worker rank (default: its cores, or its CPU quota if a cgroup sets one)")
      ->check(CLI::Range(1, 4096));
  render->add_option("--master-slots", cluster.master_slots,
                     "under MPI: bands the master renders itself (default 0)")
      ->check(CLI::Range(0, 4096));
  render->add_option("--scene-dir", scene_dir,
                     "under MPI: the folder shipped to the nodes (default: the scene's folder)");
  render->add_flag("--shared-dir", cluster.shared_dir,
                   "under MPI: every node sees the scene at the same path; ship nothing");
  render->add_option("--scene-limit", scene_limit_mb,
                     "under MPI: the most MiB of scene files to ship (default 64)")
      ->check(CLI::Range(1, 1 << 20));
  double node_timeout = taskdist::kDefaultNodeTimeoutSeconds;
  const std::string node_timeout_help = fmt::format(
      "under MPI: seconds a worker rank may send nothing (it sends a heartbeat every 0.1 s) "
      "before it is declared lost (default {:g})",
      taskdist::kDefaultNodeTimeoutSeconds);
  render->add_option("--node-timeout", node_timeout, node_timeout_help)
      ->check(CLI::Range(0.5, 1e6));

  auto* bench = app.add_subcommand("bench", kBenchHelp);
  taskdist::BenchRequest bench_request;
  std::vector<std::string> bench_sizes = {"200x150", "400x300", "800x600", "1600x1200",
                                          "3200x2400"};
  std::vector<int> bench_nodes = {1, 2, 4, 8};
  bench_request.policies = {"dynamic", "static"};
  bench_request.methods = {"taskdist", "paper"};
  std::string bench_out = "bench-results";
  bench->add_option("--scene", bench_request.scene, "scene (default: blob.pov of povray-examples)");
  bench->add_option("--sizes", bench_sizes, "image sizes WxH, comma-separated")
      ->delimiter(',');
  bench->add_option("--nodes", bench_nodes,
                    "node counts (local slots; under mpirun, worker ranks), comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  bench->add_option("--repeat", bench_request.repeat, "rounds of every combination (default 3)")
      ->check(CLI::Range(1, 1000));
  bench->add_option("--policy", bench_request.policies, "dynamic,static (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"static", "dynamic"}));
  bench->add_option("--method", bench_request.methods, "taskdist,paper (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"taskdist", "paper"}));
  bench->add_option("--out", bench_out, "output folder (default bench-results)");
  bench->add_option("--povray", bench_request.povray, "POV-Ray executable (default: povray)");
  bench->add_option("--convert", bench_request.convert,
                    "ImageMagick convert, for the paper's method (default /usr/bin/convert)");
  bench->add_option("--node-timeout", node_timeout, node_timeout_help)
      ->check(CLI::Range(0.5, 1e6));

  auto* race = app.add_subcommand("race", kRaceHelp);
  taskdist::RaceRequest race_request;
  int race_solo = 1, race_team = 0;
  race->add_option("scenes", race_request.scenes, "the playlist: .pov or .ini files")->required();
  race->add_option("--solo", race_solo, "slots on the solo side (local engine; default 1)")
      ->check(CLI::Range(1, 4096));
  race->add_option("--team", race_team,
                   "the team side: local slots (default: the other cores, at least 1); under "
                   "mpirun, worker nodes (default: every one but the solo node)")
      ->check(CLI::Range(1, 4096));
  race->add_option("--hold", race_request.hold_s,
                   "seconds the result stays before the next scene (default 8)")
      ->check(CLI::Range(0.0, 1e6));
  race->add_flag("--loop", race_request.loop, "play the list forever, until Ctrl-C");
  race->add_option("--linger", race_request.linger_s,
                   "seconds the live view stays up after the last race (default 0)")
      ->check(CLI::Range(0.0, 1e9));
  race->add_option("--serve", race_request.serve,
                   "[ADDR:]PORT of the live view (127.0.0.1 unless an address is given; 0: any "
                   "free port)");
  race->add_option("-o,--output", race_request.out_dir,
                   "folder for both images of each race and the side-by-side PNG (default "
                   "taskdist-race)");
  race->add_option("--povray", race_request.povray, "POV-Ray executable (default: povray)");
  race->add_option("--node-timeout", node_timeout, node_timeout_help)
      ->check(CLI::Range(0.5, 1e6));

  // Under a launcher (mpirun, srun) every rank runs this same command line.
  std::optional<taskdist::MpiSession>& mpi = mpi_session();
  if (taskdist::launcher_rank()) {
    mpi.emplace(&argc, &argv);
    if (mpi->size() == 1) mpi.reset();  // one rank: the local engine
  }
  const bool worker_rank = mpi && mpi->rank() != 0;

  std::vector<std::string> ours, pov;
  if (!args.empty() && (args[0] == "render" || args[0] == "race")) {
    ours.push_back(args[0]);
    split_args({args.begin() + 1, args.end()}, ours, pov);
  } else {
    ours = args;
  }
  std::reverse(ours.begin(), ours.end());  // CLI11 takes the arguments reversed
  try {
    app.parse(ours);
  } catch (const CLI::ParseError& e) {
    if (worker_rank) return 0;  // rank 0 says what is wrong, once
    const int code = app.exit(e);
    return code == 0 ? 0 : taskdist::kExitUsage;
  }
  if (bench->parsed()) {
    // Under MPI, rank 0 runs the study and every other rank serves it as a worker node.
    std::optional<taskdist::Channel> channel;
    if (mpi) channel.emplace(MPI_COMM_WORLD, node_timeout);
    if (worker_rank) return finish_worker(taskdist::run_worker(*mpi, *channel, worker));
    auto leave = [&](int code) {
      return mpi ? taskdist::end_mpi_job(*mpi, *channel, code) : code;
    };
    for (const auto& size : bench_sizes) {
      const auto wh = taskdist::parse_size(size);
      if (!wh) {
        fmt::print(stderr, "taskdist bench: --sizes: '{}' is not WIDTHxHEIGHT (e.g. 800x600)\n",
                   size);
        return leave(taskdist::kExitUsage);
      }
      bench_request.sizes.push_back(*wh);
    }
    bench_request.nodes = bench_nodes;
    bench_request.out = bench_out;
    bench_request.command_line = mpi ? fmt::format("mpirun -np {} taskdist", mpi->size())
                                     : std::string("taskdist");
    for (const auto& a : args) bench_request.command_line += " " + a;
    std::unique_ptr<taskdist::BenchEngine> engine;
    if (mpi) {
      auto made = taskdist::MpiBenchEngine::create(*mpi, *channel);
      if (!made) {
        fmt::print(stderr, "taskdist bench: {}\n", made.error());
        return leave(taskdist::kExitRenderFailed);
      }
      engine = std::move(*made);
    } else {
      engine = taskdist::make_local_bench_engine();
    }
    const int code = taskdist::run_bench(bench_request, *engine);
    return mpi ? taskdist::end_mpi_job(*mpi, *channel, code, "the study's results are written")
               : code;
  }

  if (race->parsed()) {
    race_request.pov_args = pov;
    if (mpi) {
      // Rank 0 plays the race; every other rank is a worker node serving one side at a time.
      taskdist::Channel channel(MPI_COMM_WORLD, node_timeout);
      if (worker_rank) return finish_worker(taskdist::run_worker(*mpi, channel, worker));
      auto engine = taskdist::make_mpi_race_engine(*mpi, channel, race_team,
                                                   race_request.povray != "povray");
      if (!engine) {
        fmt::print(stderr, "taskdist race: {}\n", engine.error());
        return taskdist::end_mpi_job(*mpi, channel, taskdist::kExitUsage);
      }
      return taskdist::end_mpi_job(*mpi, channel, taskdist::run_race(race_request, **engine));
    }
    const int cores = taskdist::default_slots();
    if (race_team == 0) race_team = std::max(1, cores - race_solo);
    auto engine = taskdist::make_local_race_engine(race_solo, race_team);
    return taskdist::run_race(race_request, *engine);
  }

  request.pov_args = pov;
  request.duplicates = !no_duplicates;
  request.cost_profile = !no_profile;
  request.policy = policy == "static" ? taskdist::Policy::kStatic : taskdist::Policy::kDynamic;
  if (mpi) {
    taskdist::Channel channel(MPI_COMM_WORLD, node_timeout);
    if (worker_rank) {
      if (worker.slots == 0 && request.slots > 0) worker.slots = request.slots;
      return finish_worker(taskdist::run_worker(*mpi, channel, worker));
    }
    const auto master_start = std::chrono::steady_clock::now();  // launch excluded
    auto job = taskdist::build_job(request);
    if (!job) {
      fmt::print(stderr, "taskdist: {}\n", job.error());
      return taskdist::end_mpi_job(*mpi, channel, taskdist::kExitUsage);
    }
    if (!scene_dir.empty()) cluster.scene_dir = std::filesystem::absolute(scene_dir);
    cluster.scene_limit_bytes = static_cast<uint64_t>(scene_limit_mb) << 20;
    cluster.povray_given = request.povray != "povray";
    return taskdist::end_mpi_job(
        *mpi, channel, taskdist::run_mpi_master(*job, master_start, *mpi, channel, cluster),
        fmt::format("the image {} is complete and correct", job->output.string()));
  }

  // In a container or a Slurm job a CPU quota caps what the cores suggest.
  if (request.slots == 0) request.slots = taskdist::default_slots();
  auto job = taskdist::build_job(request);
  if (!job) {
    fmt::print(stderr, "taskdist: {}\n", job.error());
    return taskdist::kExitUsage;
  }
  return taskdist::run_render(*job, program_start);
} catch (const std::exception& e) {
  if (auto& mpi = mpi_session()) {
    // The other ranks would wait for this one forever: end the MPI job.
    fmt::print(stderr, "taskdist: fatal on MPI rank {}: {}; ending the MPI job\n", mpi->rank(),
               e.what());
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, taskdist::kExitRenderFailed);
  }
  fmt::print(stderr, "taskdist: fatal: {}\n", e.what());
  return taskdist::kExitRenderFailed;
}
