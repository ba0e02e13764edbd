// taskdist: renders one POV-Ray image in parallel row bands and assembles them into one PNG.
// main() is thin: each subcommand registers its flags, the POV-Ray options are split off, CLI11
// parses the rest, and the launch runs the chosen command here, as the MPI master or as a worker.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cmd/arg_split.h"
#include "cmd/bench_command.h"
#include "cmd/launch.h"
#include "cmd/race_command.h"
#include "cmd/render_command.h"
#include "cmd/simulate_command.h"
#include "core/error.h"
#include "engine/exit_codes.h"

int main(int argc, char** argv) try {
  using namespace taskdist;
  const auto program_start = std::chrono::steady_clock::now();
  const std::vector<std::string> args(argv + 1, argv + argc);

  CLI::App app{"taskdist: render POV-Ray scenes in parallel row bands, locally or on a cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "taskdist 0.1.0");
  RenderCommand render(app);
  BenchCommand bench(app);
  RaceCommand race(app);
  SimulateCommand simulate(app);
  const std::vector<Command*> commands = {&render, &bench, &race, &simulate};

  join_mpi_job(&argc, &argv);
  SplitArgs split = split_command_line(args, commands);
  try {
    app.parse(split.for_cli11);
  } catch (const CLI::ParseError& e) {
    if (is_worker_rank()) return 0;  // rank 0 says what is wrong, once
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  const auto chosen = std::ranges::find_if(commands, &Command::chosen);
  CHECK(chosen != commands.end());  // require_subcommand(1)
  return launch(**chosen, {args, std::move(split.pov_options), program_start});
} catch (const std::exception& e) {
  taskdist::abort_mpi_job(e);
  fmt::print(stderr, "taskdist: fatal: {}\n", e.what());
  return taskdist::kExitRenderFailed;
}
