#include "bench/calibration.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>

#include "core/job.h"
#include "engine/local_runner.h"
#include "exec/command_chains.h"
#include "exec/cpu_quota.h"
#include "exec/temp_dir.h"
#include "image/band_encoder.h"
#include "image/frame_assembler.h"
#include "render/povray_renderer.h"
#include "report/bench_report.h"
#include "store/durable_file.h"
#include "store/journal.h"
#include "store/profile_store.h"

namespace taskdist {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

json band_json(const BandOverhead& b) {
  return {{"startup_wall_s", b.startup_wall_s},
          {"process_cpu_s", b.process_cpu_s},
          {"buffer_cpu_per_pixel", b.buffer_cpu_per_pixel},
          {"output_cpu_per_pixel", b.output_cpu_per_pixel}};
}

// A figure of the file: present, a number, finite and not negative; else what is wrong.
std::expected<double, Error> figure(const json& j, const std::string& group,
                                    const std::string& name) {
  if (!j.contains(group) || !j.at(group).is_object()) return fail("no '" + group + "' section");
  const json& g = j.at(group);
  if (!g.contains(name) || !g.at(name).is_number()) {
    return fail(fmt::format("no number '{}.{}'", group, name));
  }
  const double v = g.at(name).get<double>();
  if (!std::isfinite(v) || v < 0) return fail(fmt::format("'{}.{}' is {}", group, name, v));
  return v;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

// A job of `scene` at width x height, for bands rendered one at a time in `dir`.
std::expected<Job, Error> calibration_job(const CalibrateRequest& r, int width, int height,
                                          bool quick_start, const fs::path& dir) {
  JobRequest request;
  request.scene = r.scene.string();
  request.pov_args = {fmt::format("+W{}", width), fmt::format("+H{}", height)};
  request.output = (dir / fmt::format("calibrate-{}x{}.png", width, height)).string();
  request.job_dir = (dir / fmt::format("job-{}x{}", width, height)).string();
  request.slots = 1;
  request.povray = r.povray;
  request.cost_profile = false;
  request.quick_start = quick_start;
  return build_job(request);
}

struct BandMeasure {
  double wall_s = 0, cpu_s = 0;
};

// Medians of `repeat` renders of `rows` (a fresh runner each, as every band is a new process).
std::expected<BandMeasure, Error> measure_band(const CalibrateRequest& r, int width, int height,
                                               RowRange rows, bool quick_start, int repeat,
                                               const fs::path& dir) {
  auto job = calibration_job(r, width, height, quick_start, dir);
  if (!job) return std::unexpected(job.error());
  RenderSettings settings = render_settings_for(*job);
  if (const std::string off = enable_quick_start(settings, dir); !off.empty()) {
    return fail("the quick start does not work here: " + off);
  }
  LocalRunner runner(settings, dir);
  // The first band proves the quick start's preload (and warms the disk cache): not counted.
  if (auto warm = render_band(runner, rows, 1); !warm) return std::unexpected(warm.error());
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeat; ++i) {
    auto done = render_band(runner, rows, 2 + i);
    if (!done) return std::unexpected(done.error());
    wall.push_back(done->timing.wall_s);
    cpu.push_back(done->timing.cpu_s);
  }
  return BandMeasure{median(wall), median(cpu)};
}

constexpr std::pair<int, int> kSizes[] = {{200, 150}, {800, 600}, {1600, 1200}, {3200, 2400}};
constexpr int kRepeat = 3;
constexpr int kRepeatSmall = 7;  // small bands are cheap and their figures noisy: more of them

// The same band of 1600x1200 alone, then on every core at once: how much more CPU it takes when
// the machine is busy (the median band's CPU against alone).
std::expected<double, Error> measure_busy_factor(const CalibrateRequest& r, int cores,
                                                 const fs::path& dir) {
  const RowRange rows{0, 1200 / 8};
  auto alone = measure_band(r, 1600, 1200, rows, true, kRepeat, dir);
  if (!alone) return std::unexpected(alone.error());
  if (cores < 2 || alone->cpu_s <= 0) return 1.0;
  auto job = calibration_job(r, 1600, 1200, true, dir);
  if (!job) return std::unexpected(job.error());
  RenderSettings settings = render_settings_for(*job);
  enable_quick_start(settings, dir);
  LocalRunner runner(settings, dir);
  std::vector<double> busy;
  TaskId id = 1;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < cores; ++i) {
      runner.start(Task{.id = id++, .slot = i, .rows = rows, .attempt = 1, .duplicate_of = 0});
    }
    const auto deadline = Clock::now() + std::chrono::minutes(5);
    while (runner.running() > 0 && Clock::now() < deadline) {
      auto event = runner.wait(1.0);
      if (!event) continue;
      if (auto* done = std::get_if<TaskFinished>(&*event)) {
        busy.push_back(done->timing.cpu_s);
      } else if (auto* failed = std::get_if<TaskFailed>(&*event)) {
        runner.abort();
        return fail("a band on every core: " + failed->failure.message);
      }
    }
    if (runner.running() > 0) {
      runner.abort();
      return fail("bands on every core did not finish in 5 minutes");
    }
  }
  return std::max(1.0, median(busy) / alone->cpu_s);
}

// A band's fixed costs with the quick start, from one-row bands at the top through the real
// LocalRunner: their CPU is the process and its full-size image buffer (a line through the sizes:
// the slope from the two largest, where the buffer is most of it, the process from the smallest),
// their wall beyond it the start-up's sleep. Writing the output before a band's rows is counted
// with its rows (a calibration render's CPU less this start-up), so output_cpu_per_pixel stays 0.
// Without the quick start only the sleep differs: measured on the two smaller sizes.
std::expected<Calibration, Error> measure_bands(const CalibrateRequest& r, const fs::path& dir,
                                                const std::function<void(const std::string&)>& progress) {
  std::vector<double> pixels, beyond, sleep;
  for (auto [w, h] : kSizes) {
    auto top = measure_band(r, w, h, {0, 1}, true, w < 1600 ? kRepeatSmall : kRepeat, dir);
    if (!top) return std::unexpected(top.error());
    const double px = static_cast<double>(w) * h;
    const double fixed = top->cpu_s;
    pixels.push_back(px);
    beyond.push_back(fixed);
    sleep.push_back(std::max(0.0, top->wall_s - top->cpu_s));
    progress(fmt::format("{}x{}: a one-row band {:.3f} s wall, {:.3f} CPU-s", w, h, top->wall_s,
                         top->cpu_s));
  }
  // beyond = process + buffer * pixels: the slope from the two largest sizes (where the buffer
  // is most of it), the process from the smallest (where it is nearly all of it).
  Calibration c;
  BandOverhead& b = c.quick_start;
  const size_t last = pixels.size() - 1;
  b.buffer_cpu_per_pixel =
      std::max(0.0, (beyond[last] - beyond[last - 1]) / (pixels[last] - pixels[last - 1]));
  b.process_cpu_s = std::max(0.0, beyond[0] - b.buffer_cpu_per_pixel * pixels[0]);
  b.output_cpu_per_pixel = 0;
  b.startup_wall_s = median(sleep);
  c.plain = b;
  std::vector<double> plain_sleep;
  for (auto [w, h] : {kSizes[0], kSizes[1]}) {
    auto top = measure_band(r, w, h, {0, 1}, false, kRepeatSmall, dir);
    if (!top) return std::unexpected(top.error());
    plain_sleep.push_back(std::max(0.0, top->wall_s - top->cpu_s));
    progress(fmt::format("{}x{} without the quick start: a one-row band {:.3f} s wall, {:.3f} "
                         "CPU-s",
                         w, h, top->wall_s, top->cpu_s));
  }
  c.plain.startup_wall_s = median(plain_sleep);
  return c;
}

// Rows of synthetic pixels, smooth with some noise (compressing about as a rendered image),
// encoded by the real BandEncoder.
EncodedBand synthetic_band(RowRange rows, int width) {
  BandEncoder encoder(width, 3, 6);
  std::vector<uint8_t> row(static_cast<size_t>(width) * 3);
  uint32_t noise = 12345;
  for (int y = rows.begin; y < rows.end; ++y) {
    for (int x = 0; x < width; ++x) {
      noise = noise * 1103515245 + 12345;
      for (int c = 0; c < 3; ++c) {
        row[static_cast<size_t>(x) * 3 + c] =
            static_cast<uint8_t>((x / 4 + y / 3 + 40 * c) + ((noise >> 16) & 3));
      }
    }
    encoder.add_row(y, row);
  }
  return encoder.finish(rows);
}

// The master's work on one band, as the render loop does it: check, journal (synced), append.
std::expected<double, Error> time_master_band(const EncodedBand& band, int width, Journal& journal,
                                              FrameAssembler& assembler) {
  const auto start = Clock::now();
  if (auto whole = check_band(band, width, 3); !whole) return std::unexpected(whole.error());
  auto file = journal.record(band);
  if (!file) return std::unexpected(file.error());
  if (auto added = assembler.add(band, *file); !added) return std::unexpected(added.error());
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The master's cost per band and per pixel: 48 one-row bands and 12 bands of 64 rows of a
// 1600-wide image through the real check, journal and assembler, in a job folder on the disk of
// the current directory (where a render's journal goes, beside its output).
std::expected<void, Error> measure_master(const CalibrateRequest& r, MasterCosts& m,
                                          const std::function<void(const std::string&)>& progress) {
  constexpr int kWidth = 1600, kHeight = 1200, kSmall = 48, kLarge = 64, kLargeBands = 12;
  std::error_code ec;
  auto dir = TempDir::create(fs::current_path(ec), ".taskdist-calibrate-");
  if (!dir) dir = TempDir::create(TempDir::default_parent(), "taskdist-calibrate-");
  if (!dir) return std::unexpected(dir.error());
  auto job = calibration_job(r, kWidth, kHeight, false, dir->path());
  if (!job) return std::unexpected(job.error());
  auto journal = Journal::open(*job);
  if (!journal) return std::unexpected(journal.error());
  auto assembler = FrameAssembler::create({.width = kWidth,
                                           .height = kHeight,
                                           .alpha = false,
                                           .outputs = {job->output},
                                           .spill_dir = journal->spill_dir(),
                                           .done = {false}});
  if (!assembler) return std::unexpected(assembler.error());
  std::vector<double> small, large;
  for (int i = 0; i < kSmall; ++i) {
    auto t = time_master_band(synthetic_band({i, i + 1}, kWidth), kWidth, *journal, **assembler);
    if (!t) return std::unexpected(t.error());
    small.push_back(*t);
  }
  for (int i = 0; i < kLargeBands; ++i) {
    const int begin = kSmall + i * kLarge;
    auto t = time_master_band(synthetic_band({begin, begin + kLarge}, kWidth), kWidth, *journal,
                              **assembler);
    if (!t) return std::unexpected(t.error());
    large.push_back(*t);
  }
  (*assembler)->discard();
  journal->remove();
  const double one_row = median(small), many_rows = median(large);
  m.pixel_s = std::max(0.0, (many_rows - one_row) / ((kLarge - 1) * kWidth));
  m.band_s = std::max(0.0, one_row - m.pixel_s * kWidth);
  progress(fmt::format("the master: a one-row band {:.2f} ms, a band of {} rows {:.2f} ms "
                       "(check, journal with fsync, append)",
                       1e3 * one_row, kLarge, 1e3 * many_rows));
  return {};
}

// The first and second sequential parts of a small render, as its report gives them.
std::expected<void, Error> measure_sequential(const CalibrateRequest& r, MasterCosts& m,
                                              const fs::path& dir,
                                              const std::function<void(const std::string&)>& progress) {
  std::vector<double> seq1, seq2;
  for (int i = 0; i < kRepeat; ++i) {
    const fs::path report = dir / fmt::format("report{}.json", i);
    const ChainsResult run = run_chains(
        {{{r.taskdist.string(), "render", r.scene.string(), "+W200", "+H150", "-j", "1", "-q",
           "--no-profile", "--povray", r.povray, "--report", report.string(), "-o",
           (dir / fmt::format("seq{}.png", i)).string()}}},
        dir);
    if (!run.error.empty()) return fail("a small render for the sequential parts: " + run.error);
    try {
      std::ifstream in(report);
      const json j = json::parse(in);
      seq1.push_back(j.at("seq1_s").get<double>());
      seq2.push_back(j.at("seq2_s").get<double>());
    } catch (const std::exception& e) {
      return fail(fmt::format("the report {} of the small render: {}", report.string(), e.what()));
    }
  }
  m.seq1_s = median(seq1);
  m.seq2_s = median(seq2);
  progress(fmt::format("the sequential parts of a 200x150 render: {:.3f} s and {:.4f} s",
                       m.seq1_s, m.seq2_s));
  return {};
}

// A band's encoded size per pixel: the scene at 800x600 in two bands.
std::expected<double, Error> measure_bytes_per_pixel(const CalibrateRequest& r, const fs::path& dir) {
  auto job = calibration_job(r, 800, 600, false, dir);
  if (!job) return std::unexpected(job.error());
  LocalRunner runner(render_settings_for(*job), dir);
  uint64_t bytes = 0;
  for (RowRange rows : {RowRange{0, 300}, RowRange{300, 600}}) {
    auto done = render_band(runner, rows, rows.begin + 1);
    if (!done) return std::unexpected(done.error());
    for (const EncodedBand& b : done->bands) bytes += b.deflated.size();
  }
  return static_cast<double>(bytes) / (800.0 * 600.0);
}

json shared_factors_json(const std::vector<std::pair<int, double>>& table) {
  json rows = json::array();
  for (const auto& [hosts, factor] : table) rows.push_back({{"hosts", hosts}, {"factor", factor}});
  return rows;
}

// Optional (calibrations before it have none); what is there must be hosts ascending from 1 with
// positive factors. Returns what is wrong, or "".
std::string read_shared_factors(const json& nodes, std::vector<std::pair<int, double>>& into) {
  if (!nodes.contains("shared_process_factors")) return "";
  const std::string name = "'nodes.shared_process_factors'";
  const json& rows = nodes.at("shared_process_factors");
  if (!rows.is_array()) return name + " is not a list";
  for (const json& row : rows) {
    if (!row.is_object() || !row.contains("hosts") || !row.contains("factor") ||
        !row.at("hosts").is_number_integer() || !row.at("factor").is_number()) {
      return name + " has an entry without whole 'hosts' and a 'factor'";
    }
    const int hosts = row.at("hosts").get<int>();
    const double factor = row.at("factor").get<double>();
    if (hosts < 1 || factor <= 0 || (!into.empty() && hosts <= into.back().first)) {
      return fmt::format("{} is wrong at {} hosts: hosts ascending from 1, factors positive",
                         name, hosts);
    }
    into.emplace_back(hosts, factor);
  }
  return "";
}

std::string shared_factors_text(const std::vector<std::pair<int, double>>& table) {
  if (table.empty()) return "";
  std::string text = "; on hosts sharing one machine (--shared-cores), by hosts starting at once:";
  for (const auto& [hosts, factor] : table) text += fmt::format(" {}: {:.2f}x", hosts, factor);
  return text;
}

}  // namespace

std::expected<TaskFinished, Error> render_band(LocalRunner& runner, RowRange rows, TaskId id) {
  runner.start(Task{.id = id, .slot = 0, .rows = rows, .attempt = 1, .duplicate_of = 0});
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (Clock::now() < deadline) {
    auto event = runner.wait(1.0);
    if (!event) continue;
    if (auto* finished = std::get_if<TaskFinished>(&*event)) return std::move(*finished);
    if (auto* failed = std::get_if<TaskFailed>(&*event)) {
      return fail(fmt::format("rows {}-{}: {}", rows.begin + 1, rows.end, failed->failure.message));
    }
    if (std::holds_alternative<Interrupted>(*event)) return fail("interrupted");
  }
  runner.abort();
  return fail(fmt::format("rows {}-{} did not finish in 5 minutes", rows.begin + 1, rows.end));
}

double node_process_factor(const std::vector<BandSample>& samples, const BandOverhead& here) {
  std::vector<double> ratios;
  for (const BandSample& b : samples) {
    if (here.process_cpu_s <= 0) break;
    const double rest = here.cpu_s(b.rows, b.width, b.height) - here.process_cpu_s;
    ratios.push_back((b.cpu_s - b.trace_here_s - rest) / here.process_cpu_s);
  }
  return ratios.empty() ? 1.0 : std::max(0.05, median(ratios));
}

double Calibration::process_factor_for(int nodes, bool shared) const {
  if (!nodes_measured) return 1;
  const auto& table = shared_process_factors;
  if (!shared || table.empty()) return node_process_factor;
  if (nodes <= table.front().first) return table.front().second;
  for (size_t i = 1; i < table.size(); ++i) {
    const auto [n0, f0] = table[i - 1];
    const auto [n1, f1] = table[i];
    if (nodes <= n1) return f0 + (f1 - f0) * (nodes - n0) / std::max(1, n1 - n0);
  }
  return table.back().second;
}

fs::path default_calibration_file() {
  return ProfileStore::default_dir().parent_path() / "calibration.json";
}

json to_json(const Calibration& c) {
  const MasterCosts& m = c.master;
  return {{"taskdist_calibration", Calibration::kVersion},
          {"host", c.host},
          {"measured_at", c.measured_at},
          {"povray", c.povray},
          {"scene", c.scene},
          {"network", c.network},
          {"machine", {{"cores", c.cores}, {"busy_cpu_factor", c.busy_cpu_factor}}},
          {"nodes",
           {{"measured", c.nodes_measured},
            {"process_factor", c.node_process_factor},
            {"trace_factor", c.node_trace_factor},
            {"band_s", c.node_band_s},
            {"quota_share", c.node_quota_share},
            {"slot_cpu", c.node_slot_cpu},
            {"quota_head_s", c.node_quota_head_s},
            {"shared_process_factors", shared_factors_json(c.shared_process_factors)}}},
          {"band_quick_start", band_json(c.quick_start)},
          {"band_plain", band_json(c.plain)},
          {"master",
           {{"seq1_s", m.seq1_s},
            {"seq1_per_node_s", m.seq1_per_node_s},
            {"seq2_s", m.seq2_s},
            {"band_s", m.band_s},
            {"pixel_s", m.pixel_s},
            {"bytes_per_pixel", m.bytes_per_pixel},
            {"latency_s", m.latency_s},
            {"bandwidth_bytes_s", m.bandwidth_bytes_s},
            {"busy_cores", m.busy_cores}}}};
}

std::expected<Calibration, Error> calibration_from_json(const json& j) {
  if (!j.is_object() || !j.contains("taskdist_calibration")) {
    return fail("it is not a taskdist calibration (no 'taskdist_calibration' version)");
  }
  if (j.at("taskdist_calibration") != Calibration::kVersion) {
    return fail(fmt::format("it is version {}, this taskdist reads version {}",
                            j.at("taskdist_calibration").dump(), Calibration::kVersion));
  }
  Calibration c;
  std::string wrong;
  auto read = [&](const std::string& group, const std::string& name, double& into) {
    if (!wrong.empty()) return;
    if (auto v = figure(j, group, name)) {
      into = *v;
    } else {
      wrong = v.error().message();
    }
  };
  auto read_band = [&](const std::string& group, BandOverhead& band) {
    read(group, "startup_wall_s", band.startup_wall_s);
    read(group, "process_cpu_s", band.process_cpu_s);
    read(group, "buffer_cpu_per_pixel", band.buffer_cpu_per_pixel);
    read(group, "output_cpu_per_pixel", band.output_cpu_per_pixel);
  };
  read_band("band_quick_start", c.quick_start);
  read_band("band_plain", c.plain);
  MasterCosts& m = c.master;
  read("master", "seq1_s", m.seq1_s);
  read("master", "seq1_per_node_s", m.seq1_per_node_s);
  read("master", "seq2_s", m.seq2_s);
  read("master", "band_s", m.band_s);
  read("master", "pixel_s", m.pixel_s);
  read("master", "bytes_per_pixel", m.bytes_per_pixel);
  read("master", "latency_s", m.latency_s);
  read("master", "bandwidth_bytes_s", m.bandwidth_bytes_s);
  read("master", "busy_cores", m.busy_cores);
  double cores = 1;
  read("machine", "cores", cores);
  read("machine", "busy_cpu_factor", c.busy_cpu_factor);
  c.nodes_measured = j.contains("nodes") && j.at("nodes").value("measured", false);
  if (c.nodes_measured) {
    read("nodes", "process_factor", c.node_process_factor);
    if (wrong.empty() && c.node_process_factor <= 0) {
      wrong = "'nodes.process_factor' is not positive";
    }
    const json& nodes = j.at("nodes");
    if (wrong.empty()) wrong = read_shared_factors(nodes, c.shared_process_factors);
    // Figures added since the first calibrations: a file without them keeps the defaults.
    auto read_if_there = [&](const std::string& name, double& into) {
      if (nodes.contains(name)) read("nodes", name, into);
    };
    read_if_there("trace_factor", c.node_trace_factor);
    if (wrong.empty() && c.node_trace_factor <= 0) wrong = "'nodes.trace_factor' is not positive";
    read_if_there("band_s", c.node_band_s);
    read_if_there("quota_share", c.node_quota_share);
    if (nodes.contains("quota_share")) read("nodes", "slot_cpu", c.node_slot_cpu);
    read_if_there("quota_head_s", c.node_quota_head_s);
    if (wrong.empty() && (c.node_quota_share <= 0 || c.node_quota_share > 1.5)) {
      wrong = "'nodes.quota_share' is not a share of a quota (above 0, at most 1.5)";
    }
  }
  c.cores = std::max(1, static_cast<int>(cores));
  if (!wrong.empty()) return fail(wrong);
  c.host = j.value("host", "");
  c.measured_at = j.value("measured_at", "");
  c.povray = j.value("povray", "");
  c.scene = j.value("scene", "");
  c.network = j.value("network", "");
  return c;
}

std::expected<Calibration, Error> load_calibration(const fs::path& file) {
  const std::string again = "; run `taskdist simulate --calibrate` to measure this machine";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return fail(fmt::format("no calibration at {}{} (about a minute), or give one with "
                            "--calibration FILE",
                            file.string(), again));
  }
  std::ifstream in(file);
  if (!in) return fail(fmt::format("cannot read the calibration {}{}", file.string(), again));
  json j;
  try {
    j = json::parse(in);
  } catch (const std::exception& e) {
    return fail(fmt::format("the calibration {} is damaged (not JSON: {}){}", file.string(),
                            e.what(), again));
  }
  auto c = calibration_from_json(j);
  if (!c) {
    return fail(fmt::format("the calibration {} cannot be used: {}{}", file.string(),
                            c.error().message(), again));
  }
  return c;
}

std::expected<void, Error> save_calibration(const Calibration& c, const fs::path& file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return fail(file.parent_path().string(), "cannot create it: " + ec.message());
  const std::string text = to_json(c).dump(2) + "\n";
  if (auto written = write_file_durably(file, {text}); !written) {
    return fail(file.string(), written.error().message());
  }
  return {};
}

std::expected<Calibration, Error> calibrate(const CalibrateRequest& r,
                                            const std::function<void(const std::string&)>& progress) {
  auto scratch = TempDir::create_scratch("taskdist-calibrate-");
  if (!scratch) return std::unexpected(scratch.error());
  Calibration c;
  c.host = host_name();
  c.measured_at = now_utc();
  c.povray = r.povray;
  c.scene = r.scene.string();
  auto bands = measure_bands(r, scratch->path(), progress);
  if (!bands) return std::unexpected(bands.error());
  c.quick_start = bands->quick_start;
  c.plain = bands->plain;
  c.cores = std::max(1, static_cast<int>(usable_cores()));
  auto busy = measure_busy_factor(r, c.cores, scratch->path());
  if (!busy) return std::unexpected(busy.error());
  c.busy_cpu_factor = *busy;
  progress(fmt::format("tracing with all {} cores busy takes {:.2f}x the CPU of one alone",
                       c.cores, c.busy_cpu_factor));
  if (auto done = measure_master(r, c.master, progress); !done) return std::unexpected(done.error());
  if (auto done = measure_sequential(r, c.master, scratch->path(), progress); !done) {
    return std::unexpected(done.error());
  }
  auto bytes = measure_bytes_per_pixel(r, scratch->path());
  if (!bytes) return std::unexpected(bytes.error());
  c.master.bytes_per_pixel = *bytes;
  progress(fmt::format("a band of the scene at 800x600: {:.3f} bytes a pixel, encoded", *bytes));
  c.master.latency_s = kDefaultLatencyS;
  c.master.bandwidth_bytes_s = kDefaultBandwidthBytesS;
  c.network = "the defaults (Open MPI over TCP between tools/cluster hosts)";
  return c;
}

std::vector<std::string> calibration_figures(const Calibration& c, bool quick_start) {
  const BandOverhead& b = quick_start ? c.quick_start : c.plain;
  const MasterCosts& m = c.master;
  const std::string where = fmt::format("measured on {} at {}", c.host, c.measured_at);
  return {
      fmt::format("band start-up: {:.3f} s of wall ({} quick start), {:.3f} CPU-s for the "
                  "process and {:.1f} ns a pixel for its image buffer{} ({})",
                  b.startup_wall_s, quick_start ? "with the" : "without the", b.process_cpu_s,
                  1e9 * b.buffer_cpu_per_pixel,
                  b.output_cpu_per_pixel > 0
                      ? fmt::format("; {:.1f} ns a pixel of output before the band",
                                    1e9 * b.output_cpu_per_pixel)
                      : std::string("; its output is priced with its rows"),
                  where),
      fmt::format("master: {:.2f} ms a band and {:.2f} ns a pixel (check, journal with fsync, "
                  "append; {})",
                  1e3 * m.band_s, 1e9 * m.pixel_s, where),
      fmt::format("master: first sequential part {:.3f} s + {:.3f} s a node, second {:.4f} s; "
                  "{:.2f} cores of a machine the nodes share are not theirs ({})",
                  m.seq1_s, m.seq1_per_node_s, m.seq2_s, m.busy_cores, where),
      fmt::format("this machine: {} cores; tracing with all busy takes {:.2f}x the CPU of one "
                  "alone (used for hosts sharing it: --shared-cores; {})",
                  c.cores, c.busy_cpu_factor, where),
      c.nodes_measured
          ? fmt::format("on a node, a povray process's own CPU (its start-up) is {:.2f}x "
                        "this machine's, its tracing {:.2f}x; {:.0f} ms a band of its own "
                        "outside povray and the link; alone, its povray gets {:.0f}% of its "
                        "slot's CPU ({:.3f} of {:g} cores), and a band ends {:.0f} ms sooner "
                        "than that says (its head start on the quota) (measured under mpirun){}",
                        c.node_process_factor, c.node_trace_factor, 1e3 * c.node_band_s,
                        100 * c.node_quota_share, c.node_quota_share * c.node_slot_cpu,
                        c.node_slot_cpu, 1e3 * c.node_quota_head_s,
                        shared_factors_text(c.shared_process_factors))
          : std::string("on a node: as on this machine (not measured: run --calibrate under "
                        "mpirun)"),
      fmt::format("network: {:.0f} us latency, {:.0f} MB/s at the master, {:.3f} bytes a pixel "
                  "({}; bytes of {})",
                  1e6 * m.latency_s, m.bandwidth_bytes_s / 1e6, m.bytes_per_pixel, c.network,
                  c.scene),
  };
}

}  // namespace taskdist
