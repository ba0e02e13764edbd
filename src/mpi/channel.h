// Messages between the master and worker ranks: a JSON header and an optional byte payload
// (a deflated band, a packed scene). Nothing here blocks in MPI: Open MPI's blocking calls
// busy-poll a core, which would steal it from the povray processes on the same machine.
#pragma once

#include <list>
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
  /// The next message that has arrived, if any; never waits for one.
  std::optional<Message> receive();
  /// Waits (sleeping, not spinning) up to `timeout_s` for `tag` from `source` (any if < 0),
  /// keeping other messages for receive(). nullopt on timeout.
  std::optional<Message> await(Tag tag, int source, double timeout_s);
  /// Forgets messages from `source` already received and held back by await().
  void discard_held_from(int source);
  /// Waits up to `timeout_s` for queued sends to complete. False if some did not.
  bool flush(double timeout_s);
  /// Sends still in flight.
  size_t pending() const { return pending_.size(); }

 private:
  void progress_sends();

  struct Pending {
    std::string buffer;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  MPI_Comm comm_;
  std::list<Pending> pending_;
  std::list<Message> held_;  // received while awaiting something else
};

/// Sleeps about `seconds`, waking early on SIGINT/SIGTERM/SIGHUP if the handler is installed.
void nap(double seconds);

}  // namespace taskdist
