// The render's side of cost profiles (core/cost_profile.h): recall what earlier runs of the
// scene measured before the bands are cut, and keep what this run measured after it succeeds.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cost_profile.h"
#include "core/job.h"
#include "report/run_report.h"

namespace taskdist {

struct LearntCosts {
  std::string key;               ///< the scene's profile key; empty: profiles are off
  std::filesystem::path file;    ///< where the profile is kept
  CostProfile profile;           ///< what earlier runs measured (may be empty)
  std::vector<double> row_costs; ///< predicted trace CPU seconds per row; empty: no profile
};

/// The scene's profile, if job.cost_profile; an unusable file is reported on stderr and ignored.
LearntCosts recall_costs(const Job& job, const nlohmann::json& scene_files);

/// The bands of a finished run as profile samples: CPU per pixel of each band that counted, less
/// its predicted start-up and output (BandOverhead); POV-Ray's own trace figure where the band's
/// CPU is unknown. A band with less than 0.05 CPU-s of tracing (mostly measurement error alone)
/// is joined with the bands below it into one sample.
std::vector<CostSample> cost_samples(const RunReport& report, int width, int height);

/// Adds this run's bands to the profile and writes it; a failure is a warning on stderr.
void remember_costs(const Job& job, LearntCosts& costs, const RunReport& report);

}  // namespace taskdist
