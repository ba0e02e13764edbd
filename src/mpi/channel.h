// Messages between the master and worker ranks: a JSON header and an optional byte payload
// (a deflated band, a packed scene). Nothing here waits in a blocking MPI call: Open MPI's
// blocking calls busy-poll a core, which would steal it from the povray processes on the same
// machine, and would hold the lock that the heartbeat thread needs.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mpi.h>
#include <nlohmann/json.hpp>

namespace taskdist {

/// Message kinds (MPI tags).
enum class Tag : int {
  kHello = 1,     ///< worker -> master: host, pid, slots
  kJob,           ///< master -> worker: render settings; payload: the packed scene (or empty)
  kReady,         ///< worker -> master: the scene is unpacked and povray found (or an error)
  kTask,          ///< master -> worker: render this band
  kCancel,        ///< master -> worker: stop this band
  kStopAll,       ///< master -> worker: stop every band
  kShutdown,      ///< master -> worker: leave
  kProgress,      ///< worker -> master: tracing progress of a band
  kFinished,      ///< worker -> master: a band; payload: its deflated rows
  kFailed,        ///< worker -> master: a band failed
  kHeartbeat,     ///< worker -> master: still here (every 0.1 s; the channel consumes it)
  kRelease,       ///< master -> worker: this job is over; stay for the next (taskdist bench)
  kReleased,      ///< worker -> master: every band stopped, nothing more from this job follows
  kPaperBand,     ///< master -> worker: run the paper's method on one band; payload: the scene
  kPaperPart,     ///< worker -> master: the band's cropped PNG (payload) or an error
  kLeaving,       ///< worker -> master: told to leave; MPI_Finalize follows
  kEcho,          ///< master -> worker and back: the header (not the payload) returned at once,
                  ///< to measure the link (taskdist simulate --calibrate)
};

/// How long a worker may send nothing (not even a heartbeat) before the master declares it
/// lost, unless --node-timeout says otherwise.
inline constexpr double kDefaultNodeTimeoutSeconds = 5;

struct Message {
  int source = 0;
  Tag tag = Tag::kHello;
  nlohmann::json header;
  std::string payload;
};

/// Also the master's view of which ranks are alive: every message received (heartbeats
/// included, which receive() consumes and never returns) tells that its sender was alive then.
/// Thread safety: every member may be called from any thread (MPI_THREAD_SERIALIZED).
class Channel {
 public:
  /// `node_timeout_s`: how long a rank may stay silent before silent() names it.
  explicit Channel(MPI_Comm comm = MPI_COMM_WORLD,
                   double node_timeout_s = kDefaultNodeTimeoutSeconds);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Queues a message; returns at once. Sends complete as receive() and flush() run.
  void send(int dest, Tag tag, const nlohmann::json& header, std::string payload = {});
  /// The next message that has arrived from one of `from` (any rank if empty), if any; never
  /// waits for one.
  std::optional<Message> receive(const std::vector<int>& from = {});
  /// Waits (sleeping, not spinning) up to `timeout_s` for `tag` from `source` (any if < 0),
  /// keeping other messages for receive(). nullopt on timeout, on a signal, or once `source`
  /// has been silent for the node timeout (see silent()).
  std::optional<Message> await(Tag tag, int source, double timeout_s);
  /// The same, from any of `from` (any rank if empty); silence ends it only once every one of
  /// `from` is silent.
  std::optional<Message> await(Tag tag, const std::vector<int>& from, double timeout_s);
  /// Forgets messages from `source` already received and held back by await().
  void discard_held_from(int source);
  /// Waits up to `timeout_s` for queued sends to complete. False if some did not.
  bool flush(double timeout_s);
  /// Seconds since anything arrived from `rank` (since the channel was made, if nothing did).
  /// Counts what has arrived but was not yet received: it drains MPI's queue first.
  double silent_for(int rank);
  /// True once `rank` has been silent for the node timeout.
  bool silent(int rank) { return silent_for(rank) >= node_timeout_s_; }
  /// When Open MPI ends the job (a rank died, a node's daemon was lost), the one of `ranks`
  /// that was cut off: silent at least 0.3 s (heartbeats come every 0.1 s) and at least twice
  /// as long as any other. nullopt if no rank stands out (e.g. Ctrl-C).
  std::optional<int> cut_off(const std::vector<int>& ranks);
  double node_timeout() const { return node_timeout_s_; }
  /// Takes in every message MPI has for this rank now (held for receive(); heartbeats counted
  /// and dropped).
  void drain();
  /// Rank 0: drains the channel every 50 ms from a thread of its own while `on`, so that
  /// silent_for() stays true to the second while the master is busy elsewhere (assembling,
  /// lingering with its live view). Must be off before MPI_Finalize.
  void listen(bool on);
  /// Marks `rank` lost: whatever it sends from now on is dropped. The MPI job cannot end
  /// cleanly (MPI_Finalize would wait for it): see lost().
  void declare_lost(int rank);
  /// Seconds since the last rank was declared lost (a large number if none was).
  double since_last_lost() const;
  bool is_lost(int rank) const;
  /// Ranks declared lost, sorted by rank.
  std::set<int> lost() const;
  /// How messages name a rank: "HOST (rank N)" once set_name() was told its host, else
  /// "rank N".
  void set_name(int rank, std::string name);
  std::string name(int rank) const;

  /// Sends still in flight.
  size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  using Clock = std::chrono::steady_clock;
  void progress_sends();
  std::optional<Message> receive_locked(std::unique_lock<std::mutex>& lock,
                                        const std::vector<int>& from);
  std::optional<Message> receive_from_mpi(std::unique_lock<std::mutex>& lock,
                                          const std::vector<int>& from);
  bool all_silent(const std::vector<int>& ranks);

  struct Pending {
    std::string buffer;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  // Two jobs at once (taskdist race) use the channel from two threads: every MPI call is made
  // under this lock (MPI_THREAD_SERIALIZED).
  mutable std::mutex mutex_;
  // Constant after construction.
  const MPI_Comm comm_;
  const double node_timeout_s_;
  const Clock::time_point made_ = Clock::now();
  // Guarded by mutex_.
  std::list<Pending> pending_;
  std::list<Message> held_;  // received while awaiting something else
  std::map<int, Clock::time_point> heard_;  // rank -> when its last message arrived
  std::set<int> lost_;
  bool receiving_ = false;  // a thread is taking a message in (with the lock let go meanwhile)
  std::optional<Clock::time_point> last_lost_;
  std::map<int, std::string> names_;
  std::jthread listener_;  // not guarded: started and stopped by one thread (listen())
};

/// Runs `work` now and then every `seconds` from a thread of its own, until the returned thread
/// is stopped (destroyed or reassigned: it wakes at once).
std::jthread every(double seconds, std::function<void()> work);

/// Sleeps about `seconds`, waking early on SIGINT/SIGTERM/SIGHUP if the handler is installed.
void nap(double seconds);

}  // namespace taskdist
