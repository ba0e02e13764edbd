#include "mpi/mpi_race.h"

#include <fmt/format.h>

#include "mpi/mpi_master.h"

namespace taskdist {
namespace {

// How long the master waits for a node to confirm that it stopped: short of forever.
constexpr double kReleaseSeconds = 600;

class MpiRaceEngine : public RaceEngine {
 public:
  MpiRaceEngine(Channel& channel, std::vector<WorkerNode> solo, std::vector<WorkerNode> team,
                std::string host, bool povray_given)
      : channel_(channel), solo_(std::move(solo)), team_(std::move(team)), host_(std::move(host)) {
    options_.povray_given = povray_given;
  }

  std::string solo_label() const override { return fmt::format("node ({})", solo_[0].host); }
  std::string team_label() const override {
    return team_.size() == 1 ? fmt::format("node ({})", team_[0].host)
                             : fmt::format("{} nodes", team_.size());
  }

  int run(const Job& job, bool team, std::chrono::steady_clock::time_point start,
          RenderObserver& observer) override {
    const auto& nodes = team ? team_ : solo_;
    const int code = run_mpi_job(job, start, nodes, channel_, options_, host_, &observer);
    release_workers(nodes, channel_, kReleaseSeconds);  // ready for the next race
    return code;
  }

 private:
  Channel& channel_;
  const std::vector<WorkerNode> solo_;
  const std::vector<WorkerNode> team_;
  const std::string host_;
  ClusterOptions options_;
};

}  // namespace

std::expected<std::unique_ptr<RaceEngine>, Error> make_mpi_race_engine(
    const MpiSession& session, Channel& channel, int team, bool povray_given) {
  if (!session.serialized()) {
    return fail(
        "this MPI library cannot be called from two threads (MPI_THREAD_SERIALIZED), which the "
        "race needs to run both sides at once");
  }
  auto nodes = greet_workers(session, channel);
  if (!nodes) return std::unexpected(nodes.error());
  const int available = static_cast<int>(nodes->size()) - 1;
  if (available < 1) {
    return std::unexpected(fmt::format(
        "a race needs at least 2 worker ranks (one alone, the others together); there are {}: "
        "start more (mpirun -np 3 or more)",
        nodes->size()));
  }
  if (team > available) {
    return std::unexpected(
        fmt::format("--team {}: only {} worker ranks besides the solo one", team, available));
  }
  const int n = team > 0 ? team : available;
  std::vector<WorkerNode> solo(nodes->begin(), nodes->begin() + 1);
  std::vector<WorkerNode> rest(nodes->begin() + 1, nodes->begin() + 1 + n);
  return std::make_unique<MpiRaceEngine>(channel, std::move(solo), std::move(rest),
                                         session.host(), povray_given);
}

}  // namespace taskdist
