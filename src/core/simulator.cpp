#include "core/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "core/error.h"

namespace taskdist {
namespace {

enum class Step {
  kProgress,    // the master hears how far a band's tracing has come
  kNodeDone,    // the band's povray has written its rows: it goes onto the master's link
  kArrived,     // the band is at the master, queued behind the bands before it
  kMasterDone,  // the master has checked, journaled and appended it
};

struct Event {
  double time = 0;
  long order = 0;  // ties in the order the events were made: the same run every time
  Step step = Step::kProgress;
  TaskId id = 0;
  double fraction = 0;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : order > o.order; }
};

// A band in flight: what it costs on its slot, for the scheduler's timing and the shares.
struct Flight {
  TaskTiming timing;
  double fixed_wall_s = 0;
  int pixels = 0;
};

// Progress reports per band: enough for the scheduler's straggler rule (copy_may_win), few
// enough that 4096 nodes simulate in seconds.
constexpr int kProgressReports = 4;

}  // namespace

SimResult simulate_render(SchedulerConfig config, const SimCluster& cluster,
                          const std::vector<double>& row_cpu_s, const BandOverhead& band,
                          const MasterCosts& master) {
  config.slots = cluster.nodes * cluster.slots_per_node;
  config.slot_nodes.clear();
  config.slot_speed.clear();
  for (int slot = 0; slot < config.slots; ++slot) {
    config.slot_nodes.push_back(slot / cluster.slots_per_node);
    config.slot_speed.push_back(cluster.cpu_per_slot);
  }
  CHECK(static_cast<int>(row_cpu_s.size()) == config.rows);
  const int height = config.frame_rows > 0 ? config.frame_rows : config.rows;
  std::vector<double> prefix(row_cpu_s.size() + 1, 0);
  for (size_t r = 0; r < row_cpu_s.size(); ++r) prefix[r + 1] = prefix[r] + row_cpu_s[r];
  double rate = cluster.cpu_per_slot * cluster.core_speed * cluster.quota_share;
  // Where the nodes share a machine: the cores its other work leaves them.
  const double free_cores = std::max(0.05, cluster.shared_cores - master.busy_cores);
  if (cluster.shared_cores > 0) {
    const double demand = config.slots * cluster.cpu_per_slot;
    rate = std::min(rate, free_cores * cluster.core_speed / config.slots);
    rate /= 1 + (cluster.busy_cpu_factor - 1) * std::min(1.0, demand / cluster.shared_cores);
  }
  rate = std::max(rate, 1e-6);
  // The quota's head start, as far as a slot can run faster than its quota: with the cores it
  // could burst to (a core, or an even share of the free ones where the nodes share a machine).
  double head_s = 0;
  if (cluster.cpu_per_slot < 1 && cluster.quota_head_s > 0) {
    const double burst = cluster.shared_cores > 0
                             ? std::min(1.0, free_cores / static_cast<double>(config.slots))
                             : 1.0;
    head_s = cluster.quota_head_s *
             std::clamp((burst - cluster.cpu_per_slot) / (1 - cluster.cpu_per_slot), 0.0, 1.0);
  }
  const double cpu_share = std::min(1.0, cluster.cpu_per_slot);

  Scheduler scheduler(config);
  SimResult result;
  result.seq1_s = master.seq1_s + master.seq1_per_node_s * cluster.nodes;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  long order = 0;
  auto push = [&](double time, Step step, TaskId id, double fraction = 0) {
    events.push({time, order++, step, id, fraction});
  };
  std::map<TaskId, Flight> flights;
  std::set<TaskId> stopped;  // copies that lost: their events are dropped
  std::vector<bool> slot_used(static_cast<size_t>(config.slots), false);
  double trace_busy = 0, fixed_busy = 0, master_busy = 0, link_busy = 0;
  double master_free = 0, link_free = 0, last_in = result.seq1_s;

  auto start = [&](const Task& t, double now) {
    const RowRange rows = t.rows;
    const double startup_cpu = band.startup_cpu_s(config.width, height);
    const double trace_cpu = prefix[static_cast<size_t>(rows.end)] - prefix[static_cast<size_t>(rows.begin)];
    const double output_cpu = band.cpu_s(rows, config.width, height) - startup_cpu;
    // The band's own rate: its head start on the quota spread over its CPU, never past a core.
    const double cpu = startup_cpu + trace_cpu + output_cpu;
    const double at_quota = cpu / rate;
    const double head = std::min(head_s, at_quota - cpu / cluster.core_speed);
    const double band_rate = head > 0 ? cpu / (at_quota - head) : rate;
    const double begins = now + master.latency_s;  // the order's trip to the node
    const double tracing_from = begins + band.startup_wall_s + startup_cpu / band_rate;
    const double trace_wall = trace_cpu / band_rate;
    const double done = tracing_from + trace_wall + output_cpu / band_rate + cluster.band_s;
    Flight f;
    f.timing = {.wall_s = done - begins,
                .cpu_s = startup_cpu + trace_cpu + output_cpu,
                .trace_s = trace_wall,
                .trace_cpu_s = trace_cpu,
                .startup_cpu_s = startup_cpu,
                .peak_rss_bytes = 0};
    f.fixed_wall_s = f.timing.wall_s - trace_wall;
    f.pixels = rows.count() * config.width;
    flights[t.id] = f;
    slot_used[static_cast<size_t>(t.slot)] = true;
    result.copies += t.duplicate_of != 0 ? 1 : 0;
    for (int k = 1; k <= kProgressReports; ++k) {
      push(tracing_from + trace_wall * k / kProgressReports + master.latency_s, Step::kProgress,
           t.id, static_cast<double>(k) / kProgressReports);
    }
    push(done, Step::kNodeDone, t.id);
  };

  double now = result.seq1_s;
  while (true) {
    for (const Task& t : scheduler.dispatch(now)) start(t, now);
    if (scheduler.done()) break;
    if (events.empty()) {
      result.aborted = true;
      break;
    }
    const Event e = events.top();
    events.pop();
    if (stopped.contains(e.id)) continue;
    now = e.time;
    Flight& f = flights.at(e.id);
    switch (e.step) {
      case Step::kProgress:
        scheduler.on_progress(e.id, e.fraction, now, cpu_share);
        break;
      case Step::kNodeDone: {
        const double sending = master.bandwidth_bytes_s > 0
                                   ? f.pixels * master.bytes_per_pixel / master.bandwidth_bytes_s
                                   : 0;
        link_free = std::max(now, link_free) + sending;
        link_busy += sending;
        push(link_free + master.latency_s, Step::kArrived, e.id);
        break;
      }
      case Step::kArrived: {
        const double work = master.band_s + master.pixel_s * f.pixels;
        master_free = std::max(now, master_free) + work;
        master_busy += work;
        push(master_free, Step::kMasterDone, e.id);
        break;
      }
      case Step::kMasterDone:
        for (TaskId loser : scheduler.on_finished(e.id, f.timing, now)) stopped.insert(loser);
        result.bands += 1;
        trace_busy += f.timing.trace_s;
        fixed_busy += f.fixed_wall_s;
        last_in = now;
        break;
    }
  }
  result.parallel_s = std::max(0.0, last_in - result.seq1_s);
  result.seq2_s = master.seq2_s;
  result.total_s = result.seq1_s + result.parallel_s + result.seq2_s;
  const double slot_time = result.parallel_s * config.slots;
  if (slot_time > 0) {
    result.trace_share = trace_busy / slot_time;
    result.fixed_share = fixed_busy / slot_time;
  }
  if (result.parallel_s > 0) {
    result.master_share = master_busy / result.parallel_s;
    result.link_share = link_busy / result.parallel_s;
  }
  if (result.bands > 0) {
    result.trace_per_band_s = trace_busy / result.bands;
    result.fixed_per_band_s = fixed_busy / result.bands;
  }
  result.idle_slots = static_cast<int>(std::ranges::count(slot_used, false));
  return result;
}

std::string bottleneck(const SimResult& r, const SimCluster& cluster, const MasterCosts& master) {
  constexpr double kBusy = 0.7;
  // The master and its link serve one band at a time: once either is busy most of the parallel
  // part, more nodes only queue at it.
  if (r.master_share >= kBusy) {
    return fmt::format(
        "the master: busy {:.0f}% of the parallel part with {} bands at {:.1f} ms each "
        "(receive, check, journal with fsync, append), at most {:.0f} bands/s",
        100 * r.master_share, r.bands, 1e3 * r.parallel_s * r.master_share / std::max(1, r.bands),
        r.bands / std::max(1e-9, r.parallel_s * r.master_share));
  }
  if (r.link_share >= kBusy) {
    return fmt::format("the master's network link: busy {:.0f}% of the parallel part at {:.0f} MB/s",
                       100 * r.link_share, master.bandwidth_bytes_s / 1e6);
  }
  const double sequential = r.seq1_s + r.seq2_s;
  if (sequential >= 0.5 * r.total_s) {
    return fmt::format("the sequential parts: {:.2f} s of {:.2f} s ({:.3f} s a node joining)",
                       sequential, r.total_s, master.seq1_per_node_s);
  }
  const int slots = cluster.nodes * cluster.slots_per_node;
  if (r.idle_slots * 2 >= slots && slots > 1) {
    return fmt::format("too few bands: {} bands for {} slots, {} of them never get one",
                       r.bands, slots, r.idle_slots);
  }
  if (r.fixed_share >= r.trace_share) {
    return fmt::format(
        "POV-Ray's fixed cost per band: {:.2f} s a band (start-up, full-size image buffer and "
        "output) against {:.2f} s of tracing",
        r.fixed_per_band_s, r.trace_per_band_s);
  }
  return fmt::format("none saturates: the slots trace {:.0f}% of the parallel part",
                     100 * r.trace_share);
}

}  // namespace taskdist
