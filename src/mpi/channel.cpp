#include "mpi/channel.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <stdexcept>

#include "core/elapsed.h"
#include "exec/interrupt.h"

namespace taskdist {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

std::jthread every(double seconds, std::function<void()> work) {
  return std::jthread([seconds, work = std::move(work)](std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any wake;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      work();
      wake.wait_for(lock, stop, std::chrono::duration<double>(seconds), [] { return false; });
    }
  });
}

void nap(double seconds) {
  pollfd fd{InterruptSignal::fd(), POLLIN, 0};
  ::poll(&fd, fd.fd >= 0 ? 1 : 0, static_cast<int>(seconds * 1000));
}

Channel::Channel(MPI_Comm comm, double node_timeout_s)
    : comm_(comm), node_timeout_s_(node_timeout_s) {}

Channel::~Channel() {
  listener_ = {};
  // Unfinished sends are cancelled only at exit; flush() is the orderly way.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  for (auto& p : pending_) {
    if (p.request != MPI_REQUEST_NULL) MPI_Request_free(&p.request);
  }
}

void Channel::send(int dest, Tag tag, const nlohmann::json& header, std::string payload) {
  std::lock_guard lock(mutex_);
  const std::string head = header.dump();
  Pending p;
  const auto n = static_cast<uint32_t>(head.size());
  p.buffer.reserve(4 + head.size() + payload.size());
  for (int i = 0; i < 4; ++i) p.buffer += static_cast<char>((n >> (8 * i)) & 0xff);
  p.buffer += head;
  p.buffer += payload;
  payload.clear();
  pending_.push_back(std::move(p));
  Pending& q = pending_.back();
  if (MPI_Isend(q.buffer.data(), static_cast<int>(q.buffer.size()), MPI_BYTE, dest,
                static_cast<int>(tag), comm_, &q.request) != MPI_SUCCESS) {
    pending_.pop_back();
    throw std::runtime_error("MPI_Isend to rank " + std::to_string(dest) + " failed");
  }
  progress_sends();
}

void Channel::progress_sends() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    if (MPI_Test(&it->request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) done = 1;
    it = done ? pending_.erase(it) : std::next(it);
  }
}

std::optional<Message> Channel::receive(const std::vector<int>& from) {
  std::unique_lock lock(mutex_);
  return receive_locked(lock, from);
}

std::optional<Message> Channel::receive_locked(std::unique_lock<std::mutex>& lock,
                                               const std::vector<int>& from) {
  auto wanted = [&](int source) { return from.empty() || std::ranges::find(from, source) != from.end(); };
  while (true) {
    for (auto it = held_.begin(); it != held_.end(); ++it) {
      if (!wanted(it->source)) continue;
      Message m = std::move(*it);
      held_.erase(it);
      return m;
    }
    if (!receiving_) break;
    // Another thread is taking a message in: it may be the next one from `from`.
    lock.unlock();
    nap(0.001);
    lock.lock();
  }
  progress_sends();
  return receive_from_mpi(lock, from);
}

// The next message from one of `from` (any rank if empty) that MPI has for us; heartbeats and
// whatever a lost rank sends are taken in (they tell who is alive) but never returned. A large
// message (a band, a packed scene) is taken in without holding the lock all along, so that the
// heartbeat thread goes on meanwhile; one thread at a time takes messages in (receiving_), so
// that messages from one rank keep their order.
std::optional<Message> Channel::receive_from_mpi(std::unique_lock<std::mutex>& lock,
                                                 const std::vector<int>& from) {
  if (receiving_) return std::nullopt;
  while (true) {
    int flag = 0;
    MPI_Status status;
    if (from.empty()) {
      if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status) != MPI_SUCCESS) flag = 0;
    } else {
      for (size_t i = 0; i < from.size() && !flag; ++i) {
        if (MPI_Iprobe(from[i], MPI_ANY_TAG, comm_, &flag, &status) != MPI_SUCCESS) flag = 0;
      }
    }
    if (!flag) return std::nullopt;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    std::string buffer(static_cast<size_t>(count), '\0');
    MPI_Request request = MPI_REQUEST_NULL;
    if (MPI_Irecv(buffer.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_,
                  &request) != MPI_SUCCESS) {
      throw std::runtime_error("MPI_Irecv from rank " + std::to_string(status.MPI_SOURCE) +
                               " failed");
    }
    receiving_ = true;
    int done = 0;
    while (true) {
      if (MPI_Test(&request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        receiving_ = false;
        throw std::runtime_error("receiving from rank " + std::to_string(status.MPI_SOURCE) +
                                 " failed");
      }
      if (done) break;
      lock.unlock();
      nap(0.001);
      lock.lock();
    }
    receiving_ = false;
    heard_[status.MPI_SOURCE] = Clock::now();
    if (status.MPI_TAG == static_cast<int>(Tag::kHeartbeat) || lost_.contains(status.MPI_SOURCE)) {
      continue;
    }
    Message m;
    m.source = status.MPI_SOURCE;
    m.tag = static_cast<Tag>(status.MPI_TAG);
    uint32_t n = 0;
    for (int i = 0; i < 4 && i < count; ++i) {
      n |= static_cast<uint32_t>(static_cast<unsigned char>(buffer[static_cast<size_t>(i)])) << (8 * i);
    }
    if (count < 4 || 4 + static_cast<size_t>(n) > buffer.size()) {
      throw std::runtime_error("malformed message from rank " + std::to_string(m.source));
    }
    m.header = nlohmann::json::parse(buffer.substr(4, n));
    m.payload = buffer.substr(4 + n);
    return m;
  }
}

void Channel::drain() {
  std::unique_lock lock(mutex_);
  progress_sends();
  while (auto m = receive_from_mpi(lock, {})) held_.push_back(std::move(*m));
}

void Channel::listen(bool on) {
  if (!on) {
    listener_ = {};  // stops and joins it
    return;
  }
  if (!listener_.joinable()) listener_ = every(0.05, [this] { drain(); });
}

double Channel::silent_for(int rank) {
  drain();
  std::lock_guard lock(mutex_);
  const auto it = heard_.find(rank);
  return seconds_since(it == heard_.end() ? made_ : it->second);
}

std::optional<int> Channel::cut_off(const std::vector<int>& ranks) {
  constexpr double kSilentWhenCutOff = 0.3;
  std::optional<int> quietest;
  double longest = 0, second = 0;
  for (int r : ranks) {
    const double silent = silent_for(r);
    if (silent > longest) {
      second = longest;
      longest = silent;
      quietest = r;
    } else {
      second = std::max(second, silent);
    }
  }
  if (longest >= kSilentWhenCutOff && longest >= 2 * second) return quietest;
  return std::nullopt;
}

double Channel::since_last_lost() const {
  std::lock_guard lock(mutex_);
  return last_lost_ ? seconds_since(*last_lost_) : 1e9;
}

bool Channel::all_silent(const std::vector<int>& ranks) {
  if (ranks.empty()) return false;
  return std::ranges::all_of(ranks, [this](int r) { return is_lost(r) || silent(r); });
}

void Channel::declare_lost(int rank) {
  std::lock_guard lock(mutex_);
  lost_.insert(rank);
  last_lost_ = Clock::now();
  held_.remove_if([&](const Message& m) { return m.source == rank; });
}

bool Channel::is_lost(int rank) const {
  std::lock_guard lock(mutex_);
  return lost_.contains(rank);
}

std::set<int> Channel::lost() const {
  std::lock_guard lock(mutex_);
  return lost_;
}

void Channel::set_name(int rank, std::string name) {
  std::lock_guard lock(mutex_);
  names_[rank] = std::move(name);
}

std::string Channel::name(int rank) const {
  std::lock_guard lock(mutex_);
  const auto it = names_.find(rank);
  return it != names_.end() ? it->second : "rank " + std::to_string(rank);
}

std::optional<Message> Channel::await(Tag tag, int source, double timeout_s) {
  return await(tag, source < 0 ? std::vector<int>{} : std::vector<int>{source}, timeout_s);
}

std::optional<Message> Channel::await(Tag tag, const std::vector<int>& from, double timeout_s) {
  const auto start = Clock::now();
  std::list<Message> others;
  std::optional<Message> found;
  double pause = 0.0005;
  while (!found) {
    if (auto m = receive(from)) {
      if (m->tag == tag) {
        found = std::move(m);
      } else {
        others.push_back(std::move(*m));
      }
      pause = 0.0005;
      continue;
    }
    if (seconds_since(start) > timeout_s || InterruptSignal::received() != 0 || all_silent(from)) break;
    nap(pause);
    pause = std::min(pause * 2, 0.01);
  }
  std::lock_guard lock(mutex_);
  held_.splice(held_.end(), others);
  return found;
}

void Channel::discard_held_from(int source) {
  std::lock_guard lock(mutex_);
  held_.remove_if([&](const Message& m) { return m.source == source; });
}

bool Channel::flush(double timeout_s) {
  const auto start = Clock::now();
  while (true) {
    {
      std::lock_guard lock(mutex_);
      progress_sends();
      if (pending_.empty()) break;
    }
    if (seconds_since(start) > timeout_s) return false;
    nap(0.001);
  }
  return true;
}

}  // namespace taskdist
