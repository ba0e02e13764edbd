// The one hash taskdist keeps on disk: 64-bit FNV-1a, for scene files (the journal's check that
// a resumed job is the same) and for cost profile keys. Not cryptographic; stable across runs.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace taskdist {

class Fnv1a {
 public:
  void add(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ull;
  }
  void add(std::string_view text) { add(text.data(), text.size()); }
  /// 16 lower-case hex digits.
  std::string hex() const { return fmt::format("{:016x}", hash_); }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace taskdist
