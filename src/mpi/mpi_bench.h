// `taskdist bench` under mpirun: rank 0 runs the study, and each run with N nodes uses worker
// ranks 1..N (the others wait). Our method runs the same cluster engine as `taskdist render`;
// the paper's method runs povray + convert -extract on the worker nodes and convert -append on
// the master.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "bench/study.h"
#include "mpi/channel.h"
#include "mpi/mpi_runner.h"
#include "mpi/mpi_session.h"

namespace taskdist {

class MpiBenchEngine : public BenchEngine {
 public:
  /// Greets every worker rank. The error says which did not answer.
  static std::expected<std::unique_ptr<MpiBenchEngine>, Error> create(
      const MpiSession& session, Channel& channel);

  int max_nodes() const override { return static_cast<int>(nodes_.size()); }
  /// The CPU a slot of the first worker rank (the one a run on one node uses) may use, in
  /// cores: WorkerNode::slot_speed.
  double first_slot_cpu() const { return nodes_.front().slot_speed(); }
  std::string describe() const override;
  BenchSample run(const BenchRun& run) override;

 private:
  MpiBenchEngine(Channel& channel, std::vector<WorkerNode> nodes, std::string host)
      : channel_(channel), nodes_(std::move(nodes)), host_(std::move(host)) {}
  BenchSample run_taskdist(const BenchRun& run, const std::vector<WorkerNode>& nodes);
  BenchSample run_paper(const BenchRun& run, const std::vector<WorkerNode>& nodes);
  /// Ends the run on `nodes`: each stops what it was doing and says so; what they sent before
  /// that is dropped, so nothing of this run reaches the next one.
  void release(const std::vector<WorkerNode>& nodes);

  Channel& channel_;
  const std::vector<WorkerNode> nodes_;
  const std::string host_;
};

}  // namespace taskdist
