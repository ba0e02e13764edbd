// What the master and the workers say to each other, as JSON headers (see channel.h for tags).
#pragma once

#include <nlohmann/json.hpp>

#include "core/runner.h"
#include "core/task.h"
#include "render/povray_renderer.h"

namespace taskdist {

/// The job as a worker needs it. Paths are the master's; `scene_rel` is the scene's path inside
/// the shipped folder (empty with --shared-dir: the worker uses the master's paths as they are).
struct WorkerJob {
  RenderSettings settings;
  std::string scene_rel;
  bool shipped = false;
  bool povray_given = false;  ///< --povray given: the same path on every node
  bool user_max_image_buffer = false;  ///< +MI given: the node does not choose one
};

nlohmann::json to_json(const WorkerJob& job);
WorkerJob worker_job_from_json(const nlohmann::json& j);

nlohmann::json to_json(const Task& task);
Task task_from_json(const nlohmann::json& j);

/// A finished band's header; the deflated rows travel as the payload.
/// Progress, with the frames a run has finished (their bytes go in the payload).
nlohmann::json progress_to_json(const TaskProgress& p);
TaskProgress progress_from_json(const nlohmann::json& j, const std::string& payload);
/// The bytes of `bands`, one after another: the payload of a progress or finished message.
std::string bands_payload(const std::vector<EncodedBand>& bands);
nlohmann::json finished_to_json(const TaskFinished& f);
TaskFinished finished_from_json(const nlohmann::json& j, const std::string& deflated);

nlohmann::json to_json(TaskId id, const TaskFailure& failure);
TaskFailed failed_from_json(const nlohmann::json& j);

}  // namespace taskdist
