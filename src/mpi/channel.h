// Messages between the master and worker ranks: a JSON header and an optional byte payload
// (a deflated band, a packed scene). Nothing here blocks in MPI: Open MPI's blocking calls
// busy-poll a core, which would steal it from the povray processes on the same machine.
#pragma once

#include <list>
#include <mutex>
#include <vector>
#include <optional>
#include <string>

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
  kHeartbeat,     ///< worker -> master: still here
  kRelease,       ///< master -> worker: this job is over; stay for the next (taskdist bench)
  kReleased,      ///< worker -> master: every band stopped, nothing more from this job follows
  kPaperBand,     ///< master -> worker: run the paper's method on one band; payload: the scene
  kPaperPart,     ///< worker -> master: the band's cropped PNG (payload) or an error
};

struct Message {
  int source = 0;
  Tag tag = Tag::kHello;
  nlohmann::json header;
  std::string payload;
};

class Channel {
 public:
  explicit Channel(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {}
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Queues a message; returns at once. Sends complete as receive() and flush() run.
  void send(int dest, Tag tag, const nlohmann::json& header, std::string payload = {});
  /// The next message that has arrived from one of `from` (any rank if empty), if any; never
  /// waits for one.
  std::optional<Message> receive(const std::vector<int>& from = {});
  /// Waits (sleeping, not spinning) up to `timeout_s` for `tag` from `source` (any if < 0),
  /// keeping other messages for receive(). nullopt on timeout.
  std::optional<Message> await(Tag tag, int source, double timeout_s);
  /// The same, from any of `from` (any rank if empty).
  std::optional<Message> await(Tag tag, const std::vector<int>& from, double timeout_s);
  /// Forgets messages from `source` already received and held back by await().
  void discard_held_from(int source);
  /// Waits up to `timeout_s` for queued sends to complete. False if some did not.
  bool flush(double timeout_s);
  /// Sends still in flight.
  size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  void progress_sends();
  std::optional<Message> receive_locked(const std::vector<int>& from);

  struct Pending {
    std::string buffer;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  // Two jobs at once (taskdist race) use the channel from two threads: every MPI call is made
  // under this lock (MPI_THREAD_SERIALIZED).
  mutable std::mutex mutex_;
  MPI_Comm comm_;
  std::list<Pending> pending_;
  std::list<Message> held_;  // received while awaiting something else
};

/// Sleeps about `seconds`, waking early on SIGINT/SIGTERM/SIGHUP if the handler is installed.
void nap(double seconds);

}  // namespace taskdist
