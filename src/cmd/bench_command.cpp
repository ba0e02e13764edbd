#include "cmd/bench_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "engine/exit_codes.h"
#include "mpi/mpi_bench.h"

namespace taskdist {
namespace {

constexpr const char* kBenchHelp =
    R"(Reproduce the paper's scaling study: every size x node count x policy x method, run
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

}  // namespace

BenchCommand::BenchCommand(CLI::App& parent) : Command(parent, "bench", kBenchHelp) {
  request_.policies = {"dynamic", "static"};
  request_.methods = {"taskdist", "paper"};
  app_->add_option("--scene", request_.scene, "scene (default: blob.pov of povray-examples)");
  app_->add_option("--sizes", sizes_, "image sizes WxH, comma-separated")->delimiter(',');
  app_->add_option("--nodes", nodes_,
                   "node counts (local slots; under mpirun, worker ranks), comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  app_->add_option("--repeat", request_.repeat, "rounds of every combination (default 3)")
      ->check(CLI::Range(1, 1000));
  app_->add_option("--policy", request_.policies, "dynamic,static (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"static", "dynamic"}));
  app_->add_option("--method", request_.methods, "taskdist,paper (default both)")
      ->delimiter(',')
      ->check(CLI::IsMember({"taskdist", "paper"}));
  app_->add_option("--out", out_, "output folder (default bench-results)");
  app_->add_option("--povray", request_.povray, "POV-Ray executable (default: povray)");
  app_->add_option("--convert", request_.convert,
                   "ImageMagick convert, for the paper's method (default /usr/bin/convert)");
  app_->add_flag("--no-quick-start", no_quick_start_,
                 "taskdist's runs without the quick-start preload (see taskdist render --help); "
                 "the paper's method never has it");
  add_node_timeout_option();
}

std::optional<BenchRequest> BenchCommand::bench_request(const Invocation& invocation,
                                                        const std::string& launcher) const {
  BenchRequest request = request_;
  request.quick_start = !no_quick_start_;
  if (!parse_sizes(sizes_, "taskdist bench", request.sizes)) return std::nullopt;
  request.nodes = nodes_;
  request.out = out_;
  request.command_line = launcher;
  for (const auto& a : invocation.args) request.command_line += " " + a;
  return request;
}

int BenchCommand::run_local(const Invocation& invocation) {
  const auto request = bench_request(invocation, "taskdist");
  if (!request) return kExitUsage;
  return run_bench(*request, *make_local_bench_engine());
}

MasterOutcome BenchCommand::run_master(const Invocation& invocation, const MpiSession& session,
                                       Channel& channel) {
  const auto request =
      bench_request(invocation, fmt::format("mpirun -np {} taskdist", session.size()));
  if (!request) return {kExitUsage, std::nullopt};
  auto engine = MpiBenchEngine::create(session, channel);
  if (!engine) {
    fmt::print(stderr, "taskdist bench: {}\n", engine.error());
    return {kExitRenderFailed, std::nullopt};
  }
  return {run_bench(*request, **engine), "the study's results are written"};
}

}  // namespace taskdist
