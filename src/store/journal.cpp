#include "store/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "store/band_file.h"
#include "store/durable_file.h"
#include "store/hash.h"

namespace fs = std::filesystem;

namespace taskdist {
namespace {

using nlohmann::json;

constexpr int kJournalVersion = 1;
// Scene files are hashed by content up to this many bytes in all; beyond, by size and time.
constexpr uint64_t kHashContentLimit = 256ull << 20;

std::string hash_file(const fs::path& path, uint64_t& content_budget) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  Fnv1a h;
  if (!ec && size <= content_budget) {
    content_budget -= size;
    std::ifstream in(path, std::ios::binary);
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) h.add(buf, static_cast<size_t>(in.gcount()));
    return h.hex();
  }
  const auto time = fs::last_write_time(path, ec).time_since_epoch().count();
  return fmt::format("size {} time {}", size, time);
}

// True if `name` is one of the animation's frame files (OUT01.png: the output's stem, the
// frame number's digits, .png), or one being written (".part-PID" after it).
bool is_frame_file(const Job& job, const std::string& name) {
  if (!job.animation) return false;
  const std::string stem = job.output.stem().string();
  const auto digits = static_cast<size_t>(job.animation->digits());
  if (!name.starts_with(stem) || name.size() < stem.size() + digits + 4) return false;
  for (size_t i = stem.size(); i < stem.size() + digits; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  }
  const std::string rest = name.substr(stem.size() + digits);
  return rest == ".png" || rest.starts_with(".png.part-");
}


// Through text and back: bytes that are not UTF-8 (a path) become U+FFFD, the same each time,
// so what the journal wrote compares equal with what it would write now.
json identity(const Job& job) {
  return json::parse(json_text(json{{"taskdist_journal", kJournalVersion},
          {"scene", job.scene.string()},
          {"width", job.width},
          {"height", job.height},
          {"alpha", job.alpha},
          {"pov_options", job.pov_options},
          {"animation", job.animation ? animation_to_json(*job.animation) : json()},
          {"scene_files", scene_file_hashes(job)}}));
}

// Why the journal's job differs from `now`, in words; empty if it does not.
std::string difference(const json& then, const json& now) {
  if (then.value("taskdist_journal", 0) != kJournalVersion) return "written by another version";
  if (then.value("scene", "") != now["scene"]) {
    return fmt::format("its scene is {}", then.value("scene", "?"));
  }
  if (then.value("width", 0) != now["width"] || then.value("height", 0) != now["height"]) {
    return fmt::format("its size is {}x{}, not {}x{}", then.value("width", 0),
                       then.value("height", 0), now["width"].get<int>(),
                       now["height"].get<int>());
  }
  if (then.value("alpha", false) != now["alpha"]) return "+UA (alpha) differs";
  if (then.value("animation", json()) != now["animation"]) {
    return "its animation options (frames, clock, subset or step) differ";
  }
  if (then.value("pov_options", json::array()) != now["pov_options"]) {
    return fmt::format("its POV-Ray options were: {}",
                       json_text(then.value("pov_options", json::array())));
  }
  const json old_files = then.value("scene_files", json::object());
  const json& new_files = now["scene_files"];
  for (const auto& [name, hash] : new_files.items()) {
    if (!old_files.contains(name)) return fmt::format("the scene file {} is new", name);
    if (old_files[name] != hash) return fmt::format("the scene file {} has changed", name);
  }
  for (const auto& [name, hash] : old_files.items()) {
    if (!new_files.contains(name)) return fmt::format("the scene file {} is gone", name);
  }
  return {};
}


// What a job folder holds: "3 finished bands", "2 finished frames and 1 band".
std::string finished_work(const fs::path& dir) {
  std::error_code ec;
  int bands = 0, frames = 0;
  for (const auto& e : fs::directory_iterator(dir / "bands", ec)) {
    bands += e.path().extension() == ".tdb";
  }
  for (const auto& e : fs::directory_iterator(dir / "frames", ec)) {
    frames += e.path().extension() == ".json";
  }
  if (frames == 0) return fmt::format("{} finished band{}", bands, bands == 1 ? "" : "s");
  return fmt::format("{} finished frame{} and {} band{}", frames, frames == 1 ? "" : "s", bands,
                     bands == 1 ? "" : "s");
}

}  // namespace

json scene_file_hashes(const Job& job) {
  json files = json::object();
  uint64_t budget = kHashContentLimit;
  std::error_code ec;
  const std::string output_name = job.output.filename().string();
  for (auto it = fs::recursive_directory_iterator(
           job.scene_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    if (p == job.job_dir || p == job.output.parent_path() / (output_name + ".taskdist")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    // The output and its temporary files; an animation's frames and its video are output too.
    if (p.parent_path() == job.output.parent_path() &&
        (p.filename().string().starts_with(output_name) ||
         is_frame_file(job, p.filename().string()))) {
      continue;
    }
    if (job.video && p.string().starts_with(job.video->string())) continue;
    files[p.lexically_relative(job.scene_dir).string()] = hash_file(p, budget);
  }
  return files;
}

std::expected<Journal, Error> Journal::open(const Job& job) {
  const fs::path& dir = job.job_dir;
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  const fs::path job_file = dir / "job.json";
  if (existed && !fs::is_directory(dir, ec)) {
    return fail(fmt::format("'{}' (the job folder) is not a folder; remove it or give another "
                             "--job-dir",
                             dir.string()));
  }
  if (existed && !fs::exists(job_file, ec) && !fs::is_empty(dir, ec)) {
    return fail(fmt::format("'{}' exists and is not a taskdist job folder; remove it or give "
                             "another --job-dir",
                             dir.string()));
  }
  fs::create_directories(dir / "bands", ec);
  if (!ec) fs::create_directories(dir / "waiting", ec);
  if (!ec) fs::create_directories(dir / "frames", ec);
  if (ec) {
    return fail(fmt::format("cannot create the job folder '{}': {}", dir.string(), ec.message()));
  }
  const int lock_fd = ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    return fail(fmt::format("another taskdist is working on '{}' (its lock is held); wait for "
                             "it to end, or give another -o or --job-dir",
                             dir.string()));
  }
  Journal journal(dir, lock_fd, job.height);
  const json now = identity(job);
  journal.scene_files_ = now.at("scene_files");
  if (fs::exists(job_file, ec)) {
    std::ifstream in(job_file);
    const json then = json::parse(in, nullptr, /*allow_exceptions=*/false);
    const std::string diff = then.is_object() ? difference(then, now) : "its job.json is damaged";
    if (!diff.empty()) {
      return fail(fmt::format("'{}' holds a run of another job ({}); remove the folder, or "
                               "give another -o or --job-dir",
                               dir.string(), diff));
    }
    if (!job.resume) {
      return fail(fmt::format("'{}' holds an earlier run of this job ({}); add --resume to "
                               "re-use them and render the rest, or remove the folder to start "
                               "over",
                               dir.string(), finished_work(dir)));
    }
    journal.scan_frames(job);
    journal.scan_bands(job);
    return journal;
  }
  if (job.resume) {
    journal.notes_.push_back(
        fmt::format("nothing to resume in '{}': rendering every band", dir.string()));
  }
  if (auto written = write_file_durably(job_file, {json_text(now, 2), "\n"}); !written) {
    return std::unexpected(
        fmt::format("cannot write '{}': {}", job_file.string(), written.error().message()));
  }
  sync_dir(dir);
  return journal;
}

void Journal::scan_bands(const Job& job) {
  std::error_code ec;
  const uint64_t row_bytes = 1 + static_cast<uint64_t>(job.width) * (job.alpha ? 4 : 3);
  std::vector<JournalBand> found;
  for (const auto& e : fs::directory_iterator(band_dir(), ec)) {
    const fs::path& p = e.path();
    if (p.extension() != ".tdb") {
      fs::remove(p, ec);  // a band that was being written when the run died
      continue;
    }
    auto band = read_band_file(p);
    std::string problem;
    if (!band) {
      problem = band.error().message();
    } else if (band->rows.begin < 0 || band->rows.end > job.total_rows() ||
               band->rows.begin / job.height != (band->rows.end - 1) / job.height ||
               band->raw_bytes != row_bytes * static_cast<uint64_t>(band->rows.count())) {
      problem = fmt::format("'{}' does not fit a {}x{} image", p.string(), job.width, job.height);
    }
    if (!problem.empty()) {
      notes_.push_back(problem + "; removed, its rows are rendered again");
      fs::remove(p, ec);
      continue;
    }
    if (std::ranges::binary_search(done_frames_, band->rows.begin / job.height)) {
      fs::remove(p, ec);  // its frame's file was complete before the band could be removed
      continue;
    }
    found.push_back({band->rows, p});
  }
  std::ranges::sort(found, {}, [](const JournalBand& b) { return b.rows.begin; });
  int covered = 0;
  for (auto& b : found) {
    if (b.rows.begin < covered) {
      notes_.push_back(fmt::format("'{}' overlaps another band; removed", b.file.string()));
      fs::remove(b.file, ec);
      continue;
    }
    covered = b.rows.end;
    files_by_frame_[b.rows.begin / frame_height_].push_back(b.file);
    reused_.push_back(std::move(b));
  }
  fs::remove_all(spill_dir(), ec);
  fs::create_directories(spill_dir(), ec);
}

Journal::Journal(Journal&& other) noexcept
    : dir_(std::move(other.dir_)), lock_fd_(other.lock_fd_), reused_(std::move(other.reused_)),
      notes_(std::move(other.notes_)), recorded_(other.recorded_),
      frame_height_(other.frame_height_), done_frames_(std::move(other.done_frames_)),
      frames_recorded_(other.frames_recorded_), removed_(other.removed_), files_by_frame_(std::move(other.files_by_frame_)),
      scene_files_(std::move(other.scene_files_)) {
  other.lock_fd_ = -1;
}

Journal::~Journal() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::expected<fs::path, Error> Journal::record(const EncodedBand& band) {
  if (auto written = write_band_file(band_dir(), band); !written) {
    return std::unexpected(written.error());
  }
  sync_dir(band_dir());
  ++recorded_;
  fs::path file = band_dir() / band_file_name(band.rows);
  files_by_frame_[band.rows.begin / frame_height_].push_back(file);
  return file;
}

namespace {

std::string frame_marker_name(int k) { return fmt::format("frame-{}.json", k); }

json frame_file_identity(const fs::path& file) {
  std::error_code ec;
  const uint64_t size = fs::file_size(file, ec);
  if (ec) return nullptr;
  uint64_t budget = size;
  return {{"file", file.string()}, {"bytes", size}, {"fnv1a", hash_file(file, budget)}};
}

}  // namespace

std::expected<void, Error> Journal::record_frame(int k, const fs::path& file) {
  const fs::path marker = dir_ / "frames" / frame_marker_name(k);
  if (auto written = write_file_durably(marker, {json_text(frame_file_identity(file)), "\n"});
      !written) {
    return std::unexpected(
        fmt::format("cannot write '{}': {}", marker.string(), written.error().message()));
  }
  sync_dir(dir_ / "frames");
  ++frames_recorded_;
  // The frame's file is the record now: its bands are not needed for --resume.
  std::error_code ec;
  for (const fs::path& band : files_by_frame_[k]) removed_ += fs::remove(band, ec) ? 1 : 0;
  files_by_frame_.erase(k);
  return {};
}

void Journal::scan_frames(const Job& job) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_ / "frames", ec)) {
    const std::string name = e.path().filename().string();
    int k = -1;
    if (std::sscanf(name.c_str(), "frame-%d.json", &k) != 1 || k < 0 || k >= job.frame_count() ||
        name != frame_marker_name(k)) {
      fs::remove(e.path(), ec);  // a marker that was being written when the run died
      continue;
    }
    std::ifstream in(e.path());
    const json then = json::parse(in, nullptr, /*allow_exceptions=*/false);
    const fs::path file = job.frame_output(k);
    const json now = frame_file_identity(file);
    if (then != now || now.is_null() || then.value("file", "") != file.string()) {
      notes_.push_back(fmt::format("{} ({}) is {}; it is rendered again", job.frame_name(k),
                                   file.string(), now.is_null() ? "missing" : "not the file "
                                   "this job wrote"));
      fs::remove(e.path(), ec);
      continue;
    }
    done_frames_.push_back(k);
  }
  std::ranges::sort(done_frames_);
}

void Journal::remove() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

}  // namespace taskdist
