#include "mpi/protocol.h"

namespace taskdist {

using nlohmann::json;


json to_json(const WorkerJob& job) {
  const RenderSettings& s = job.settings;
  return {{"povray", s.povray.string()}, {"scene", s.scene.string()},
          {"scene_dir", s.scene_dir.string()}, {"scene_rel", job.scene_rel},
          {"shipped", job.shipped}, {"povray_given", job.povray_given},
          {"width", s.width}, {"height", s.height}, {"threads", s.threads},
          {"alpha", s.alpha}, {"options", s.options}, {"antialias_off", s.antialias_off},
          {"user_max_image_buffer", job.user_max_image_buffer},
          {"compression_level", s.compression_level}, {"quick_start", s.quick_start},
          {"animation", s.animation ? animation_to_json(*s.animation) : json()}};
}

WorkerJob worker_job_from_json(const json& j) {
  WorkerJob job;
  RenderSettings& s = job.settings;
  s.povray = j.at("povray").get<std::string>();
  s.scene = j.at("scene").get<std::string>();
  s.scene_dir = j.at("scene_dir").get<std::string>();
  job.scene_rel = j.at("scene_rel").get<std::string>();
  job.shipped = j.at("shipped").get<bool>();
  job.povray_given = j.at("povray_given").get<bool>();
  s.width = j.at("width").get<int>();
  s.height = j.at("height").get<int>();
  s.threads = j.at("threads").get<int>();
  s.alpha = j.at("alpha").get<bool>();
  s.options = j.at("options").get<std::vector<std::string>>();
  s.antialias_off = j.value("antialias_off", false);
  job.user_max_image_buffer = j.at("user_max_image_buffer").get<bool>();
  s.compression_level = j.at("compression_level").get<int>();
  s.quick_start = j.value("quick_start", true);
  if (const auto a = j.find("animation"); a != j.end() && !a->is_null()) {
    s.animation = animation_from_json(*a);
  }
  return job;
}

json to_json(const Task& t) {
  return {{"id", t.id}, {"slot", t.slot}, {"begin", t.rows.begin}, {"end", t.rows.end},
          {"attempt", t.attempt}};
}

Task task_from_json(const json& j) {
  Task t;
  t.id = j.at("id").get<int>();
  t.slot = j.at("slot").get<int>();
  t.rows = {j.at("begin").get<int>(), j.at("end").get<int>()};
  t.attempt = j.at("attempt").get<int>();
  return t;
}

namespace {

// Bands as a header: what each is, and how many of the payload's bytes are its own.
json bands_to_json(const std::vector<EncodedBand>& bands) {
  json out = json::array();
  for (const EncodedBand& b : bands) {
    out.push_back({{"begin", b.rows.begin}, {"end", b.rows.end}, {"adler", b.adler},
                   {"raw_bytes", b.raw_bytes}, {"bytes", b.deflated.size()}});
  }
  return out;
}

std::vector<EncodedBand> bands_from_json(const json& j, const std::string& payload) {
  std::vector<EncodedBand> bands;
  size_t at = 0;
  for (const json& b : j) {
    EncodedBand band;
    band.rows = {b.at("begin").get<int>(), b.at("end").get<int>()};
    band.adler = b.at("adler").get<uint32_t>();
    band.raw_bytes = b.at("raw_bytes").get<uint64_t>();
    const auto bytes = b.at("bytes").get<size_t>();
    if (bytes > payload.size() - at) throw std::out_of_range("band bytes beyond the message");
    band.deflated = payload.substr(at, bytes);
    at += bytes;
    bands.push_back(std::move(band));
  }
  return bands;
}

}  // namespace

std::string bands_payload(const std::vector<EncodedBand>& bands) {
  std::string payload;  // every band's bytes, one after another
  for (const EncodedBand& band : bands) payload += band.deflated;
  return payload;
}

json progress_to_json(const TaskProgress& p) {
  return {{"id", p.id}, {"fraction", p.fraction}, {"cpu_share", p.cpu_share},
          {"cpu_s", p.cpu_s}, {"frames", bands_to_json(p.frames)}};
}

TaskProgress progress_from_json(const json& j, const std::string& payload) {
  TaskProgress p{j.at("id").get<int>(), j.at("fraction").get<double>(),
                 j.value("cpu_share", -1.0), {}, j.value("cpu_s", -1.0)};
  if (const auto frames = j.find("frames"); frames != j.end()) {
    p.frames = bands_from_json(*frames, payload);
  }
  return p;
}

json finished_to_json(const TaskFinished& f) {
  return {{"id", f.id}, {"bands", bands_to_json(f.bands)},
          {"wall_s", f.timing.wall_s}, {"cpu_s", f.timing.cpu_s}, {"trace_s", f.timing.trace_s},
          {"trace_cpu_s", f.timing.trace_cpu_s}, {"startup_cpu_s", f.timing.startup_cpu_s},
          {"peak_rss_bytes", f.timing.peak_rss_bytes}, {"quick_start_off", f.quick_start_off}};
}

TaskFinished finished_from_json(const json& j, const std::string& deflated) {
  TaskFinished f;
  f.id = j.at("id").get<int>();
  f.bands = bands_from_json(j.at("bands"), deflated);
  f.timing.wall_s = j.at("wall_s").get<double>();
  f.timing.cpu_s = j.at("cpu_s").get<double>();
  f.timing.trace_s = j.at("trace_s").get<double>();
  f.timing.trace_cpu_s = j.value("trace_cpu_s", -1.0);
  f.timing.startup_cpu_s = j.value("startup_cpu_s", -1.0);
  f.timing.peak_rss_bytes = j.value("peak_rss_bytes", uint64_t{0});
  f.quick_start_off = j.value("quick_start_off", std::string());
  return f;
}

json to_json(TaskId id, const TaskFailure& f) {
  return {{"id", id}, {"kind", static_cast<int>(f.kind)}, {"message", f.message},
          {"detail", f.detail}};
}

TaskFailed failed_from_json(const json& j) {
  TaskFailed f;
  f.id = j.at("id").get<int>();
  f.failure.kind = static_cast<FailureKind>(j.at("kind").get<int>());
  f.failure.message = j.at("message").get<std::string>();
  f.failure.detail = j.at("detail").get<std::string>();
  return f;
}

}  // namespace taskdist
