// What happened in a run, as the paper measures it: three phases, and one record per task.
// Fed by job events; printed as a table and written as JSON.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/task.h"

#include "core/error.h"

namespace taskdist {

struct TaskRecord {
  TaskId id = 0;
  int slot = 0;
  std::string where;    ///< the slot as the runner names it, e.g. "node3 (rank 3) slot 1"
  RowRange rows;
  int attempt = 1;
  TaskId duplicate_of = 0;  ///< a copy of a straggling band: the original's id
  double start_s = 0;   ///< since the job started
  double end_s = 0;
  TaskTiming timing;
  uint64_t bytes = 0;   ///< compressed band bytes
  std::string outcome;  ///< "ok", or what failed
};

/// A frame of an animation, written (or found complete by --resume).
struct FrameRecord {
  int index = 0;        ///< in the order rendered
  int number = 0;       ///< POV-Ray's frame number
  std::string file;
  double done_s = 0;    ///< when its file was in place, since the program started
  double clock = 0;     ///< POV-Ray's clock for it
  std::vector<std::string> where;  ///< the slots whose bands it holds
  double cpu_s = 0;     ///< POV-Ray CPU seconds of its bands (a task of n frames: 1/n each)
  bool reused = false;  ///< complete from an earlier run (--resume)
};

/// The cost profile a run started from (core/cost_profile.h).
struct ProfileUse {
  std::string file;  ///< empty: profiles were off (--no-profile)
  int runs = 0;      ///< earlier runs it holds; 0: none yet
  int bands = 0;
};

/// Times are seconds since the start of the program.
struct RunReport {
  double first_dispatch_s = -1;  ///< end of the first sequential part
  double last_arrival_s = -1;    ///< end of the parallel part
  double end_s = -1;             ///< end of the second sequential part
  std::vector<TaskRecord> tasks;
  std::vector<FrameRecord> frames;      ///< an animation's frames, in the order written
  uint64_t output_bytes = 0;
  uint64_t master_peak_rss_bytes = 0;
  std::vector<RowRange> reused;        ///< bands of an earlier run taken from the journal
  std::vector<std::string> excluded;   ///< slots or nodes that got no more bands
  std::vector<std::string> lost;       ///< worker nodes that stopped answering (--node-timeout)
  ProfileUse profile;

  double seq1_s() const { return first_dispatch_s; }
  double parallel_s() const { return last_arrival_s - first_dispatch_s; }
  double seq2_s() const { return end_s - last_arrival_s; }
  double total_s() const { return end_s; }
};

/// The paper's three phases as a small table, plus one summary line.
std::string timing_table(const Job& job, const RunReport& report);
/// Writes the JSON report; the error names the file.
std::expected<void, Error> write_json_report(const Job& job, const RunReport& report,
                                             const std::filesystem::path& path);
/// Resident memory of this process now, in bytes.
uint64_t rss_bytes();
/// Peak resident memory of this process, in bytes, since it started or since reset_peak_rss().
uint64_t peak_rss_bytes();
/// Starts measuring the peak anew (Linux /proc/self/clear_refs), e.g. before each run of a bench
/// that runs renders in this process.
void reset_peak_rss();

}  // namespace taskdist
