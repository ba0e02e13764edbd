#include "fuzz_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace taskdist::testing {
namespace {

constexpr int kMaxReportedFailures = 10;
constexpr size_t kShownBytes = 300;

}  // namespace

uint32_t fuzz_seed() {
  const char* given = std::getenv("TASKDIST_FUZZ_SEED");
  return given != nullptr ? static_cast<uint32_t>(std::strtoul(given, nullptr, 10)) : 20261122u;
}

Dice::Dice(uint32_t seed, int input) {
  std::seed_seq seq{seed, static_cast<uint32_t>(input)};
  rng_.seed(seq);
}

std::string Dice::junk(int max_len, bool allow_nul) {
  std::string s(static_cast<size_t>(below(max_len + 1)), '\0');
  for (char& c : s) {
    do {
      c = static_cast<char>(below(256));
    } while (!allow_nul && c == '\0');
  }
  return s;
}

std::string shown(std::string_view s) {
  std::string out;
  for (const unsigned char c : s.substr(0, kShownBytes)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kShownBytes) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

std::string unclear_because(const std::string& message, const std::string& user_bytes) {
  if (message.size() < 15) return "shorter than 15 characters";
  for (const unsigned char c : message) {
    if (c == '\n') return "more than one line";
    if (c < 0x20 || c == 0x7f) return "holds a control byte";
  }
  for (size_t i = 0; i < message.size();) {
    if (static_cast<unsigned char>(message[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < message.size() && static_cast<unsigned char>(message[end]) >= 0x80) ++end;
    if (user_bytes.find(message.substr(i, end - i)) == std::string::npos) {
      return "holds bytes outside ASCII that the user did not give";
    }
    i = end;
  }
  for (const char* internal :
       {"std::", "basic_string", "filesystem error", "Unknown error", "bad_alloc", "what():"}) {
    if (message.find(internal) != std::string::npos) return "leaks an internal error";
  }
  return "";
}

FuzzRun::FuzzRun(std::string name, double max_seconds)
    : name_(std::move(name)), max_seconds_(max_seconds), seed_(fuzz_seed()) {}

void FuzzRun::run(int count, const std::function<bool(int input, Dice& dice)>& one) {
  using Clock = std::chrono::steady_clock;
  count_ = count;
  const auto start = Clock::now();
  for (input_ = 0; input_ < count && failures_ < kMaxReportedFailures; ++input_) {
    Dice dice(seed_, input_);
    input_text_.clear();
    const auto t0 = Clock::now();
    try {
      (one(input_, dice) ? accepted_ : rejected_) += 1;
      ++tried_;
    } catch (const std::exception& e) {
      fail(std::string("an exception escaped: ") + e.what());
    }
    const double took = std::chrono::duration<double>(Clock::now() - t0).count();
    slowest_s_ = std::max(slowest_s_, took);
    if (took > max_seconds_) fail("took " + std::to_string(took) + " s");
  }
  total_s_ = std::chrono::duration<double>(Clock::now() - start).count();
}

void FuzzRun::fail(const std::string& what) {
  if (++failures_ <= kMaxReportedFailures) {
    ADD_FAILURE() << "seed " << seed_ << ", input " << input_ << ": " << what
                  << "\n  input: " << input_text_;
  }
}

void FuzzRun::finish(double min_share) {
  std::cout << "[fuzz] " << name_ << ": " << tried_ << " inputs tried, " << accepted_
            << " accepted, " << rejected_ << " rejected, " << total_s_ << " s, slowest input "
            << slowest_s_ << " s (seed " << seed_ << ")\n";
  ::testing::Test::RecordProperty("inputs_tried", tried_);
  ::testing::Test::RecordProperty("inputs_accepted", accepted_);
  ::testing::Test::RecordProperty("inputs_rejected", rejected_);
  EXPECT_EQ(tried_, count_);
  EXPECT_GE(accepted_, min_share * count_);
  EXPECT_GE(rejected_, min_share * count_);
}

}  // namespace taskdist::testing
