#include "cmd/simulate_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>

#include "bench/calibration.h"
#include "bench/study.h"
#include "core/pov_options.h"
#include "engine/exit_codes.h"
#include "mpi/link_probe.h"

namespace taskdist {
namespace {

constexpr const char* kSimulateHelp =
    R"(Predict a render on a cluster you may not have: the real scheduler hands bands to simulated
nodes, and every band costs what was measured (`--calibrate`): POV-Ray's start-up and full-size
image buffer, the tracing and output of its rows (calibration renders of the scene, 1600 wide:
the whole image 3 times for the total, in 8 bands twice for its spread over the rows; kept for
the next run; or the renders' cost profile, --profile-dir), the trip to the
master and the master's own work on it (check, journal with fsync, append to the PNG), one band
at a time.
Prints each figure it used and where it came from, then the predicted phases, total, speedup and
efficiency per size, policy and node count, and what limits each (the master, its link,
POV-Ray's fixed cost per band, too few bands, the sequential parts).

  taskdist simulate --calibrate                   measure this machine first (about a minute)
  taskdist simulate SCENE.pov +W3200 +H2400 --nodes 1,2,4,8,16,64,256,1024,4096
  taskdist simulate --against bench/results.csv --node-cpu 0.25 --shared-cores 2
                                                  predict a `taskdist bench` study (here on
                                                  tools/cluster's 0.25-CPU hosts) and print
                                                  predicted against measured, point by point,
                                                  with the mean and worst error
Under mpirun, --calibrate (after one without mpirun on the master's machine) adds the cluster's
figures: the link from rank 0 to rank 1 (latency, bandwidth, through taskdist's own channel),
renders on 1, 2, 4 ... all worker ranks (a povray process's start-up on a node, alone and with
that many hosts starting at once, for --shared-cores; a node's own time per band; how much
sooner a small band on one host ends than its CPU over its quota says; the first sequential part
by node count), whole 1600x1200 images on one node (its tracing against here, and the share of
its CPU quota its povray gets) and on all (the cores the povrays do not get on a machine they
share: --shared-cores); without it the network figures are defaults measured that way on
tools/cluster. This machine's speed drifts: --calibration and --against may each be given more
than once (calibrations made between rounds of a study: a prediction with each, and their mean;
the rounds: each point's median).

Writes into --out: results.csv (the columns of `taskdist bench`), fig9_speedup.png (a panel per
size), fig7_phases.png, fig10_shares.png, efficiency.png and simulate.md; with --against also
comparison.csv, and the measured runs beside the predicted ones in the figures.

Exit codes: 0 done; 1 measuring or writing failed; 2 bad input (no or a damaged calibration, an
unreadable results.csv, a missing scene).)";

// The value of a +W or +H option (POV-Ray's own rules: core/pov_options.h), if `option` is one
// of `kind` with a whole number.
std::optional<int> size_option(const std::string& option, PovOptionKind kind) {
  const PovOption o = classify_pov_option(option);
  int value = 0;
  const char* end = o.value.data() + o.value.size();
  if (o.kind != kind) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(o.value.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

SimulateCommand::SimulateCommand(CLI::App& parent) : Command(parent, "simulate", kSimulateHelp) {
  app_->add_option("scene", scene_, "the scene (default: blob.pov of povray-examples)");
  app_->add_flag("--calibrate", calibrate_,
                 "measure this machine's figures and store them (--calibration), then stop");
  app_->add_option("--nodes", request_.nodes, "node counts, comma-separated (e.g. 1,2,4,...,4096)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1 << 20));
  app_->add_option("--sizes", sizes_, "image sizes WxH, comma-separated (or +W and +H)")
      ->delimiter(',');
  app_->add_option("--slots-per-node", request_.slots_per_node, "slots on each node (default 1)")
      ->check(CLI::Range(1, 1024));
  app_->add_option("--node-cpu", request_.node_cpu,
                   "CPU a node may use, in cores, as a cgroup quota gives it (tools/cluster "
                   "--cpu 0.25: 0.25); default: a whole core a slot")
      ->check(CLI::Range(0.001, 1024.0));
  app_->add_option("--node-speed", request_.node_speed,
                   "a node's core against this machine's (2: twice as fast; default 1)")
      ->check(CLI::Range(0.001, 1000.0));
  app_->add_option("--shared-cores", request_.shared_cores,
                   "the nodes are hosts of an emulated cluster on one machine of this many cores "
                   "(tools/cluster): they share its cores evenly and start povray slower the "
                   "more of them start at once, as --calibrate under mpirun measured; default: "
                   "separate machines")
      ->check(CLI::Range(0.001, 1e6));
  app_->add_option("--latency", request_.latency_s,
                   "seconds a message takes between a node and the master (default: the "
                   "calibration's, measured under mpirun)")
      ->check(CLI::Range(0.0, 60.0));
  app_->add_option_function<double>(
         "--bandwidth",
         [this](double mb_s) { request_.bandwidth_bytes_s = mb_s * 1e6; },
         "the master's link in MB/s (default: the calibration's, measured under mpirun)")
      ->check(CLI::Range(0.001, 1e7));
  app_->add_option("--policy", request_.policies, "dynamic,static (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"static", "dynamic"}));
  app_->add_flag("--no-quick-start", no_quick_start_,
                 "predict renders without the quick start (see taskdist render --help)");
  app_->add_option("--calibration", calibrations_,
                   fmt::format("the calibration file (default {}); given more than once (made "
                               "at different times: this machine's speed drifts), a prediction "
                               "with each, and their mean; --calibrate writes one",
                               default_calibration_file().string()))
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app_->add_option("--profile-dir", profile_dir_,
                   "price the rows from the renders' cost profiles in this folder (e.g. "
                   "~/.cache/taskdist/profiles, or a study's profiles/) instead of a "
                   "calibration render");
  app_->add_option("--against", against_,
                   "a `taskdist bench` results.csv: simulate its sizes, node counts and "
                   "policies and print the error of each prediction; given more than once "
                   "(rounds of one study measured apart), each point is the median of its runs "
                   "in them")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app_->add_option("--out", out_, "output folder (default simulate-results)");
  app_->add_option("--povray", request_.povray, "POV-Ray executable (default: povray)");
}

std::optional<SimulateRequest> SimulateCommand::simulate_request(const Invocation& invocation) const {
  SimulateRequest r = request_;
  r.scene = scene_;
  r.quick_start = !no_quick_start_;
  for (const auto& c : calibrations_) r.calibrations.emplace_back(c);
  r.profile_dir = profile_dir_;
  r.out = out_;
  for (const auto& a : against_) r.against.emplace_back(a);
  r.command_line = "taskdist";
  for (const auto& a : invocation.args) r.command_line += " " + a;
  std::optional<int> width, height;
  for (const std::string& option : invocation.pov_options) {
    if (auto w = size_option(option, PovOptionKind::kWidth)) {
      width = w;
    } else if (auto h = size_option(option, PovOptionKind::kHeight)) {
      height = h;
    } else {
      r.pov_options.push_back(option);
    }
  }
  if (width.has_value() != height.has_value() || (width && (*width < 1 || *height < 1))) {
    fmt::print(stderr, "taskdist simulate: give both +W and +H (e.g. +W3200 +H2400)\n");
    return std::nullopt;
  }
  if (width) r.sizes.push_back({*width, *height});
  if (!parse_sizes(sizes_, "taskdist simulate", r.sizes)) return std::nullopt;
  return r;
}

std::optional<std::string> SimulateCommand::calibration_to_write() const {
  if (calibrations_.size() > 1) {
    fmt::print(stderr, "taskdist simulate --calibrate: one --calibration file to write, not {}\n",
               calibrations_.size());
    return std::nullopt;
  }
  return calibrations_.empty() ? std::string() : calibrations_.front();
}

int SimulateCommand::run_local(const Invocation& invocation) {
  if (calibrate_) {
    const auto file = calibration_to_write();
    return file ? run_calibrate(scene_, request_.povray, *file) : kExitUsage;
  }
  const auto request = simulate_request(invocation);
  if (!request) return kExitUsage;
  return run_simulate(*request);
}

MasterOutcome SimulateCommand::run_master(const Invocation& invocation, const MpiSession& session,
                                          Channel& channel) {
  if (!calibrate_) return {run_local(invocation), std::nullopt};
  // The machine's own figures come from a run without mpirun (a render it starts must not
  // inherit this rank's MPI environment); this run adds the cluster's.
  CalibrateRequest request;
  request.scene = study_scene(scene_);
  request.povray = request_.povray;
  const auto file = calibration_to_write();
  if (!file) return {kExitUsage, std::nullopt};
  return {calibrate_cluster(session, channel, *file, request), "the cluster is measured"};
}

}  // namespace taskdist
