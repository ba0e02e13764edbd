// Open MPI (or any MPI) start-up, only when a launcher started us: a taskdist started by hand
// never pays MPI_Init's helper daemon (~0.3 s) and stays on the local engine.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace taskdist {

/// An environment lookup: std::getenv, or a map in tests.
using EnvLookup = std::function<const char*(const char*)>;

/// The rank a launcher (mpirun, srun --mpi=pmix) gave this process, read from its environment
/// before MPI_Init; nullopt when no launcher started us.
std::optional<int> launcher_rank(const EnvLookup& env = std::getenv);

/// Why this process must not start, when a launcher started it in a way taskdist cannot work
/// with; one line of advice, or nullopt. Checked before MPI_Init and before anything is written:
/// - srun with several tasks and no MPI launcher (no --mpi=pmix, no MpiDefault): each task would
///   render the whole image alone, and all but one would fail on the same output;
/// - srun --mpi=pmi2 (PMI-1/2 without PMIx): Open MPI built with PMIx only fails inside MPI_Init.
std::optional<std::string> launcher_refusal(const EnvLookup& env = std::getenv);

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
