#include "core/error.h"

#include <gtest/gtest.h>

#include <expected>

namespace taskdist {
namespace {

TEST(ErrorTest, MessageJoinsWhereWhatAndWhatIsAccepted) {
  EXPECT_EQ(Error("scene file 'x.pov' not found").message(), "scene file 'x.pov' not found");
  EXPECT_EQ(Error("scene.ini:3: '+W0'", "the width must be 1 to 65535").message(),
            "scene.ini:3: '+W0': the width must be 1 to 65535");
  EXPECT_EQ(Error("--sizes", "'8x' is not WIDTHxHEIGHT", "e.g. 800x600").message(),
            "--sizes: '8x' is not WIDTHxHEIGHT (e.g. 800x600)");
  EXPECT_EQ(Error("", "", "e.g. 800x600").message(), "(e.g. 800x600)");
  EXPECT_EQ(fmt::format("taskdist: {}", Error("-o", "not writable")), "taskdist: -o: not writable");
}

TEST(ErrorTest, WithinPutsTheOuterPlaceFirst) {
  EXPECT_EQ(Error("line 3", "bad").within("a.ini").message(), "a.ini: line 3: bad");
  EXPECT_EQ(Error("bad").within("node2").message(), "node2: bad");
}

std::expected<int, Error> half(int n) {
  if (n % 2 != 0) return fail(std::to_string(n), "is odd", "an even number");
  return n / 2;
}

TEST(ErrorTest, FailMakesTheUnexpectedValue) {
  EXPECT_EQ(half(4).value(), 2);
  ASSERT_FALSE(half(3));
  EXPECT_EQ(half(3).error().message(), "3: is odd (an even number)");
}

TEST(ErrorDeathTest, CheckNamesTheConditionFileAndLine) {
  const int rows = 3;
  EXPECT_DEATH(CHECK(rows == 4), "internal error: CHECK\\(rows == 4\\) failed at .*error_test.cpp:[0-9]+");
  CHECK(rows == 3);  // a true condition does nothing
}

}  // namespace
}  // namespace taskdist
