#include "cmd/render_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>

#include "engine/exit_codes.h"
#include "engine/render_job.h"
#include "exec/cpu_quota.h"

namespace taskdist {
namespace {

constexpr const char* kRenderHelp =
    R"(Render one POV-Ray image, or every frame of an animation, in parallel row bands and runs of
frames, on this machine or on a cluster (Open MPI), and stream them into PNGs.

  taskdist render SCENE.pov|SCENE.ini [POV-Ray options...] [-o OUT.png] [-j N]
                  [--policy static|dynamic] [--report RUN.json] [--quiet]
                  [--video OUT.mp4 [--fps N]]
  mpirun ... taskdist render SCENE ... [--slots N] [--master-slots N] [--scene-dir DIR]
                  [--shared-dir] [--scene-limit MIB]

POV-Ray options are written as for povray itself: +W800 +H600 (or Width=/Height= in an INI
file) set the size (default 320x240, at most 65535 each); every other option (+A0.3, +AM2,
+Q9, Declare=X=1, +L<path>, ...) is passed to every band unchanged. taskdist's own short flags
are lower case (-o -j -q -h): write POV-Ray's minus switches in upper case (-J, -UA).
Refused, because they would break the split: +SR/+ER/+SC/+EC, +O (use -o, or
Output_File_Name in an INI file), +F (the output is always an 8-bit PNG, RGBA with +UA), +I,
+D, +C, +P; and an option with a space in it (POV-Ray would split it again: "+UA +SC40"),
except a library path (+L).

Animations: POV-Ray's own options, here or in the INI file (as POV-Ray's animations/*.ini give
them): +KFI/+KFF (Initial_Frame/Final_Frame), +KI/+KF (Initial_Clock/Final_Clock), +KC
(Cyclic_Animation), +SF/+EF (Subset_Start_Frame/Subset_End_Frame; in an INI file a fraction
0 < x < 1 of the frames, as POV-Ray reads it) and +STP (Frame_Step). Every frame gets the clock
and frame_number it gets in POV-Ray's own render, and POV-Ray's file name: the output's name
without .png, the frame number padded to the final frame's digits (-o out.png, frames 1-20:
out01.png ... out20.png). A task is a run of up to 8 whole frames in one povray (its start-up
paid once) or rows of one frame: runs while many frames are left, then single frames, then
bands of the last frames so that no slot idles (--policy static: equal runs of frames, one per
slot, as a Slurm job array splits them). Each frame is written (temporary name, then renamed)
as soon as POV-Ray has rendered it (its last band is in), and journaled: --resume leaves every complete frame file alone
and renders only what is missing, a missing or changed frame file included. Refused with the
reason: an empty or reversed range, a one-frame animation (+KFI5 +KFF5: POV-Ray's clock is
nan), a subset outside the frames, a step below 1. --video OUT.mp4 encodes the frames with
ffmpeg (H.264, --fps frames a second, default 24) once all are written; a failed encode keeps
every frame.

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

Quick start: POV-Ray 3.7 spends about 0.7 s of every run waiting on its own polling timers
(50 ms condition waits, 10-100 ms sleeps), with almost no CPU. taskdist carries a small preload
library that cuts those waits, and only those, to 1 ms polls in povray (never in other programs;
a long wait backs off to POV-Ray's own); POV-Ray itself is unchanged. Each node writes it to its
scratch folder; its first bands are the check: the library leaves a proof in the band's folder
once it has cut a wait. Where povray does not load it (a static binary, LD_PRELOAD ignored)
taskdist says so in one line and the node's next bands run without it; where the scratch
folder cannot hold it (a noexec /tmp) no band has it.
--no-quick-start: never.

Exit codes: 0 success; 1 the render failed (scene error, POV-Ray failure, output I/O error);
2 bad command line, option, scene or output path, or a job folder that belongs to another run;
3 a worker node was lost and the image is not complete; 4 the image is complete and correct but
a worker node was lost (the MPI job was ended with MPI_Abort); 130 interrupted by Ctrl-C
(128+N for signal N). On failure or
interruption no output file is left behind (the job folder keeps the finished bands).)";

}  // namespace

RenderCommand::RenderCommand(CLI::App& parent) : Command(parent, "render", kRenderHelp) {
  add_job_options();
  add_recovery_options();
  add_live_view_options();
  add_scheduling_options();
  add_cluster_options();
  add_node_timeout_option();
}

void RenderCommand::add_job_options() {
  app_->add_option("scene", request_.scene, "the scene: a .pov file, or a POV-Ray .ini file")
      ->required();
  app_->add_option("-o,--output", request_.output,
                   "output PNG (default: the scene's name with .png, in the current directory)");
  app_->add_option("-j,--jobs", request_.slots,
                   "local slots, bands in parallel (default: the CPUs this process may use: "
                   "cores, CPU affinity, cgroup quota or SLURM_CPUS_PER_TASK, the fewest)")
      ->check(CLI::Range(1, 4096));
  app_->add_option("--video", request_.video,
                   "an animation: encode its frames into this MP4 (H.264, with ffmpeg) once all "
                   "are written");
  app_->add_option("--fps", request_.fps, "frames a second of --video (default 24)")
      ->check(CLI::Range(0.001, 1000.0));
  app_->add_option("--policy", policy_,
                   "dynamic (default): slots pull bands sized to balance the tail; static: the "
                   "paper's split, one equal band per slot")
      ->check(CLI::IsMember({"static", "dynamic"}));
  app_->add_option("--report", request_.report,
                   "write a JSON report: phases (seq1_s, parallel_s, seq2_s, total_s), tasks, "
                   "master_peak_rss_bytes");
  app_->add_option("--povray", request_.povray, "POV-Ray executable (default: povray on PATH)");
  app_->add_flag("-q,--quiet", request_.quiet, "no progress line and no timing table");
}

void RenderCommand::add_recovery_options() {
  app_->add_option("--job-dir", request_.job_dir,
                   "the job folder, where finished bands are journaled (default: "
                   "OUT.png.taskdist beside the output)");
  app_->add_flag("--resume", request_.resume,
                 "finish an interrupted run: re-use every whole band in the job folder (the "
                 "job must be the same: scene files, options, size) and render the rest");
  app_->add_flag("--keep-job-dir", request_.keep_job_dir,
                 "keep the job folder after success (default: removed)");
  app_->add_option("--retries", request_.retries,
                   "tries again a band that failed for a reason other than the scene (crash, "
                   "signal, timeout, bad output), on another worker if there is one (default 3)")
      ->check(CLI::Range(0, 1000000));
  app_->add_option("--task-timeout", request_.task_timeout_s,
                   "seconds a band may run before it is stopped and retried; for a run of "
                   "frames, seconds from its last frame (default: none)")
      ->check(CLI::Range(0.0, 1e9));
  app_->add_option("--exclude-after", request_.exclude_after,
                   "a slot (locally) or node (under MPI) that fails this many bands in a row "
                   "gets no more; the job stops once all are out (default 3)")
      ->check(CLI::Range(1, 1000000));
}

void RenderCommand::add_live_view_options() {
  app_->add_option("--serve", request_.serve,
                   "[ADDR:]PORT: a live web view of the render (the image filling in, a "
                   "timeline of tasks per worker, progress, the phases), on 127.0.0.1 unless an "
                   "address is given; 0: any free port; the URL is printed");
  app_->add_option("--linger", request_.linger_s,
                   "seconds the live view stays up after the render (default 0)")
      ->check(CLI::Range(0.0, 1e9));
}

void RenderCommand::add_scheduling_options() {
  app_->add_flag("--no-duplicates", no_duplicates_,
                 "never copy a straggling band onto an idle slot at the end (default: an idle "
                 "slot renders a copy of the band running longest, the first copy wins)");
  app_->add_flag("--no-profile", no_profile_,
                 "neither use nor keep the scene's cost profile (default: bands on capped "
                 "slots are cut by the cost of rows measured in earlier runs of the scene, and "
                 "this run's costs are kept)");
  app_->add_flag("--no-quick-start", no_quick_start_,
                 "run povray without the quick-start preload (default: with it, POV-Ray's "
                 "polling timers, about 0.7 s a band, are cut to 1 ms polls; a node whose "
                 "povray does not load it says so and renders without it)");
  app_->add_option("--profile-dir", request_.profile_dir,
                   "where cost profiles are kept, one small JSON file per scene (default: "
                   "$TASKDIST_CACHE_DIR/profiles, else ~/.cache/taskdist/profiles)");
}

void RenderCommand::add_cluster_options() {
  app_->add_option("--slots", worker_.slots,
                   "under MPI: bands at once on each worker rank (default: the CPUs it may use: "
                   "cores, CPU affinity, cgroup quota or SLURM_CPUS_PER_TASK, the fewest)")
      ->check(CLI::Range(1, 4096));
  app_->add_option("--master-slots", cluster_.master_slots,
                   "under MPI: bands the master renders itself (default 0)")
      ->check(CLI::Range(0, 4096));
  app_->add_option("--scene-dir", scene_dir_,
                   "under MPI: the folder shipped to the nodes (default: the scene's folder)");
  app_->add_flag("--shared-dir", cluster_.shared_dir,
                 "under MPI: every node sees the scene at the same path; ship nothing");
  app_->add_option("--scene-limit", scene_limit_mb_,
                   "under MPI: the most MiB of scene files to ship (default 64)")
      ->check(CLI::Range(1, 1 << 20));
}

WorkerOptions RenderCommand::worker_options() const {
  WorkerOptions worker = worker_;
  if (worker.slots == 0 && request_.slots > 0) worker.slots = request_.slots;
  return worker;
}

JobRequest RenderCommand::job_request(const std::vector<std::string>& pov_options) const {
  JobRequest request = request_;
  request.pov_args = pov_options;
  request.duplicates = !no_duplicates_;
  request.cost_profile = !no_profile_;
  request.quick_start = !no_quick_start_;
  request.policy = policy_ == "static" ? Policy::kStatic : Policy::kDynamic;
  return request;
}

ClusterOptions RenderCommand::cluster_options(const JobRequest& request) const {
  ClusterOptions cluster = cluster_;
  if (!scene_dir_.empty()) cluster.scene_dir = std::filesystem::absolute(scene_dir_);
  cluster.scene_limit_bytes = static_cast<uint64_t>(scene_limit_mb_) << 20;
  cluster.povray_given = request.povray != "povray";
  return cluster;
}

int RenderCommand::run_local(const Invocation& invocation) {
  JobRequest request = job_request(invocation.pov_options);
  // In a container or a Slurm job a cpuset, a CPU quota or Slurm's CPUs per task cap what the
  // cores suggest.
  if (request.slots == 0) request.slots = default_slots();
  auto job = build_job(request);
  if (!job) {
    fmt::print(stderr, "taskdist: {}\n", job.error());
    return kExitUsage;
  }
  return run_render(*job, invocation.start);
}

MasterOutcome RenderCommand::run_master(const Invocation& invocation, const MpiSession& session,
                                        Channel& channel) {
  const auto master_start = std::chrono::steady_clock::now();  // launch excluded
  const JobRequest request = job_request(invocation.pov_options);
  auto job = build_job(request);
  if (!job) {
    fmt::print(stderr, "taskdist: {}\n", job.error());
    return {kExitUsage, std::nullopt};
  }
  return {run_mpi_master(*job, master_start, session, channel, cluster_options(request)),
          fmt::format("the image {} is complete and correct", job->output.string())};
}

}  // namespace taskdist
