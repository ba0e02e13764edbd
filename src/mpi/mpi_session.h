// Open MPI (or any MPI) start-up, only when a launcher started us: a taskdist started by hand
// never pays MPI_Init's helper daemon (~0.3 s) and stays on the local engine.
#pragma once

#include <optional>
#include <string>

namespace taskdist {

/// The rank a launcher (mpirun, srun) gave this process, read from its environment before
/// MPI_Init; nullopt when no launcher started us.
std::optional<int> launcher_rank();

/// MPI_Init on construction, MPI_Finalize on finish(). One per process.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// This node's name (MPI_Get_processor_name: the host name).
  const std::string& host() const { return host_; }
  /// True if MPI lets two threads call it one at a time (MPI_THREAD_SERIALIZED).
  bool serialized() const { return serialized_; }
  /// Leaves MPI cleanly (all ranks must do so). Done by the destructor if not called.
  void finish();
  /// The same, but MPI_Finalize waits for every rank: if it has not returned after `limit_s`
  /// (a rank stopped answering after it said it was leaving), the process says so and exits
  /// with `code_if_stuck` at once, and mpirun ends the job.
  void finish_within(double limit_s, int code_if_stuck);

 private:
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
  bool finished_ = false;
  bool serialized_ = false;
};

}  // namespace taskdist
