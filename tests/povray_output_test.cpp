#include "render/povray_output.h"

#include <gtest/gtest.h>

namespace taskdist {
namespace {

TEST(PovrayStderrTest, ReadsProgressLinesEndingInCarriageReturns) {
  PovrayStderr s;
  s.feed("==== [Rendering...] ====\nRendered 1024 of 4096 pixels (25%)\rRendered 20");
  EXPECT_DOUBLE_EQ(*s.take_progress(), 0.25);
  EXPECT_FALSE(s.take_progress());
  s.feed("48 of 4096 pixels (50%)\r");
  EXPECT_DOUBLE_EQ(*s.take_progress(), 0.5);
}

TEST(PovrayStderrTest, ReadsTheTraceCpuSecondsNotThoseOfParsingOrBounding) {
  // POV-Ray 3.7's statistics, as it prints them (each "Time:" line followed by its CPU line).
  PovrayStderr s;
  s.feed("Parse Time:       0 hours  0 minutes  0 seconds (0.012 seconds)\n"
         "              using 1 thread(s) with 0.011 CPU-seconds total\n"
         "Bounding Time:    0 hours  0 minutes  0 seconds (0.000 seconds)\n"
         "              using 1 thread(s) with 0.000 CPU-seconds total\n");
  EXPECT_LT(s.trace_cpu_s(), 0) << "no trace time yet";
  s.feed("Render Time:\n"
         "  Photon Time:      No photons\n"
         "  Radiosity Time:   No radiosity\n"
         "  Trace Time:       0 hours  0 minutes  9 seconds (9.612 seconds)\n"
         "              using 2 thread(s) with 18.");
  EXPECT_LT(s.trace_cpu_s(), 0) << "the line is not whole yet";
  s.feed("907 CPU-seconds total\n");
  EXPECT_DOUBLE_EQ(s.trace_cpu_s(), 18.907);
}

TEST(PovrayStderrTest, RecognisesAParseErrorAndKeepsPovraysWords) {
  PovrayStderr s;
  s.feed("Persistence of Vision(tm) Ray Tracer Version 3.7\n"
         "==== [Parsing...] ====\n"
         "File '/tmp/bad.pov' line 4: Parse Error: Expected 'object or directive', undeclared\n"
         " identifier 'foo' found instead\n"
         "Fatal error in parser: Cannot parse input.\n"
         "Render failed\n");
  EXPECT_TRUE(s.scene_error());
  const std::string e = s.error_excerpt();
  EXPECT_EQ(e.find("File '/tmp/bad.pov' line 4: Parse Error"), 0u) << e;
  EXPECT_NE(e.find("identifier 'foo'"), std::string::npos);
  EXPECT_EQ(e.find("Persistence"), std::string::npos);
}

TEST(PovrayStderrTest, MissingIncludeIsASceneError) {
  PovrayStderr s;
  s.feed("File 'a.pov' line 1: Parse Error: Cannot open include file x.inc.\n");
  EXPECT_TRUE(s.scene_error());
}

TEST(PovrayStderrTest, ARejectedOptionIsDeterministic) {
  PovrayStderr s;
  s.feed("Problem with option setting\n/usr/bin/povray +Qx\nFailed to parse command-line option\n");
  EXPECT_TRUE(s.scene_error());
  EXPECT_EQ(s.error_excerpt().find("Problem with option setting"), 0u);
}

TEST(PovrayStderrTest, OtherFailuresAreNotSceneErrors) {
  PovrayStderr s;
  s.feed("some line\nSegmentation fault\n");
  EXPECT_FALSE(s.scene_error());
  EXPECT_NE(s.error_excerpt().find("Segmentation fault"), std::string::npos);
}

}  // namespace
}  // namespace taskdist
