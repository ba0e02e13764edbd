// Runs command chains in parallel, each chain one command after the other (as one node of the
// paper's cluster renders, then crops), draining their output. Used by the bench for the paper's
// method, on the master and on worker nodes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taskdist {

struct ChainsResult {
  double seconds = 0;          ///< until the last chain ended
  uint64_t max_rss_bytes = 0;  ///< the peak RSS of any command
  std::string error;           ///< empty, or which command failed and its last words
};

using CommandChain = std::vector<std::vector<std::string>>;

/// Runs every chain at once in `cwd`; the first failure (or an interrupt) stops everything.
ChainsResult run_chains(const std::vector<CommandChain>& chains, const std::filesystem::path& cwd);

}  // namespace taskdist
