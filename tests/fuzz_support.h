// The machinery of the fuzz tests: seeded random choices that replay one input alone, the test
// of a clear message, and a run that names what replays each failure and counts the inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace taskdist::testing {

/// The fuzz runs' seed: TASKDIST_FUZZ_SEED if set, else a fixed one.
uint32_t fuzz_seed();

/// Random choices for one input, seeded by (seed, input number): an input replays alone.
class Dice {
 public:
  Dice(uint32_t seed, int input);
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  uint64_t u64() { return std::uniform_int_distribution<uint64_t>()(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(below(static_cast<int>(items.size())))];
  }
  /// Up to `max_len` random bytes: NUL (unless `allow_nul` is false), newlines, CR, tabs, bytes
  /// above 0x7f and ASCII alike.
  std::string junk(int max_len, bool allow_nul = true);

 private:
  std::mt19937 rng_;
};

/// `s` for a failure message: bytes outside printable ASCII as \xNN, newlines as \n, cut at
/// 300 bytes.
std::string shown(std::string_view s);

/// Why `message` is not a clear message, or "" if it is: one line of printable text (bytes
/// outside ASCII only where they quote the user's own, found in `user_bytes`), at least 15
/// characters, and no internal error text (std::, what(): ...).
std::string unclear_because(const std::string& message, const std::string& user_bytes);

/// One fuzz run: draws every input from (seed, number), checks it, reports the failures with the
/// seed, the input's number and the input, and counts the inputs accepted and rejected.
class FuzzRun {
 public:
  /// `name` heads the printed counts; an input that takes more than `max_seconds` fails.
  FuzzRun(std::string name, double max_seconds);

  /// Runs `one` on inputs 0 to `count` - 1, each with its own Dice, until ten failures. `one`
  /// describes its input, reports what is wrong with fail(), and returns true if the input was
  /// accepted, false if it was rejected. An exception out of `one` is a failure.
  void run(int count, const std::function<bool(int input, Dice& dice)>& one);
  /// What the current input is, for its failures.
  void describe(std::string input_text) { input_text_ = std::move(input_text); }
  void fail(const std::string& what);
  /// Prints "N inputs tried, M accepted, K rejected" (and records them as the test's
  /// properties); expects all `count` inputs tried, and at least `min_share` of them accepted
  /// and as many rejected: a run that only ever rejects tests nothing.
  void finish(double min_share);

 private:
  const std::string name_;
  const double max_seconds_;
  const uint32_t seed_;
  int count_ = 0, input_ = 0, failures_ = 0;
  int tried_ = 0, accepted_ = 0, rejected_ = 0;
  double slowest_s_ = 0, total_s_ = 0;
  std::string input_text_;
};

}  // namespace taskdist::testing
