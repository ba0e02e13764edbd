// `taskdist render`: one POV-Ray image in parallel row bands, on this machine or on a cluster.
#pragma once

#include <string>

#include "cmd/command.h"
#include "core/job.h"
#include "mpi/mpi_master.h"
#include "mpi/worker.h"

namespace taskdist {

class RenderCommand : public Command {
 public:
  /// Registers `render`, its flags and its help text on `parent`.
  explicit RenderCommand(CLI::App& parent);

  bool takes_pov_options() const override { return true; }
  /// --slots, or else -j: a worker rank renders that many bands at once.
  WorkerOptions worker_options() const override;
  int run_local(const Invocation& invocation) override;
  MasterOutcome run_master(const Invocation& invocation, const MpiSession& session,
                           Channel& channel) override;

  /// The job as the flags and `pov_options` ask for it (not checked yet: build_job does).
  JobRequest job_request(const std::vector<std::string>& pov_options) const;

 private:
  // The flags by theme, registered in the order --help lists them.
  void add_job_options();
  void add_recovery_options();
  void add_live_view_options();
  void add_scheduling_options();
  void add_cluster_options();
  /// What the master needs beyond the job: --master-slots, --scene-dir, --shared-dir, ...
  ClusterOptions cluster_options(const JobRequest& request) const;

  JobRequest request_;
  std::string policy_ = "dynamic";
  bool no_duplicates_ = false;
  bool no_profile_ = false;
  bool no_quick_start_ = false;
  ClusterOptions cluster_;
  WorkerOptions worker_;
  std::string scene_dir_;
  int scene_limit_mb_ = 64;
};

}  // namespace taskdist
