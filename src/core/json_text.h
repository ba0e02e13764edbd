// JSON as text, for files, reports, the live view and MPI messages' readers: bytes that are not
// UTF-8 (a path on a Latin-1 filesystem) become U+FFFD instead of throwing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace taskdist {

inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace taskdist
