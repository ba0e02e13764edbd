// What the render loop knows of an engine's slots.
#pragma once

#include <vector>

namespace taskdist {

/// How the runner's slots are laid out: their number and the node of each (for retries on
/// another node and for excluding a failing one); empty `slot_nodes`: all on one node.
struct EngineLayout {
  int slots = 1;
  std::vector<int> slot_nodes;
  std::vector<double> slot_speed;  ///< cores each slot can count on; empty: one each
  /// Every slot's povray runs with the quick start (render/quick_start.h): a band's fixed cost
  /// is a tenth of POV-Ray's own.
  bool quick_start = false;
};

}  // namespace taskdist
