// Fuzz tests (issue 5, "bad input, hardened"): the job builder, taskdist's command line and the
// scene-pack unpacker each take thousands of seeded random inputs, built from real fragments
// (POV-Ray options, INI lines, taskdist's flags, pack entries) and junk. Every input must end in
// a result that keeps the invariants, or in a clear message: one printable line that names the
// problem. Never a crash, a hang or an escaped exception.
//
// A failure names the seed and the input's number; TASKDIST_FUZZ_SEED=S replays a run with
// another seed, and each input is drawn from (seed, number) alone.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/job.h"
#include "core/pov_options.h"
#include "exec/scene_pack.h"
#include "fuzz_support.h"
#include "test_support.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;
using namespace taskdist::testing;

constexpr double kMaxSecondsPerInput = 1.0;

// ---------------------------------------------------------------------------------------------
// The grammar of POV-Ray options: heads that taskdist reads, passes on or refuses, and values
// that are right, wrong, huge, negative, empty, unicode or junk.

// clang-format off
const std::vector<std::string> kOptionHeads = {
    "+W", "-W", "+H", "-h", "Width=", "Height=", "height = ", "+A", "-A", "+A0.3", "+AM",
    "+Q", "+R", "+J", "-J", "+SR", "+ER", "+SC", "+EC", "Start_Row=", "End_Column=", "+KFI",
    "+KFF", "+KI", "+KC", "+K", "Clock=", "Initial_Frame=", "+O", "-O", "Output_File_Name=",
    "+F", "+FN", "-F", "Output_File_Type=", "Bits_Per_Color=", "+I", "Input_File_Name=", "+D",
    "-D", "Display=", "+C", "-C", "Continue_Trace=", "+P", "-P", "Pause_When_Done=", "+L",
    "-L", "Library_Path=", "+UA", "-UA", "Output_Alpha=", "+WT", "-WT", "Work_Threads=", "+BS",
    "Render_Block_Size=", "+MI", "Max_Image_Buffer_Memory=", "Declare=", "Declare=X=", "+HI",
    "+WL", "Antialias=", "Antialias = ", "Quality=", "+V", "-GA", "All_Console="};

const std::vector<std::string> kOptionValues = {
    "", "0", "1", "4", "32", "320", "65535", "65536", "-1", "-5", "2147483647", "2147483648",
    "-2147483649", "99999999999999999999999", "1e3", "0x10", "3.5", "+7", " 12", "12 ", "on",
    "off", "true", "yes", "abc", "X=1", "1 +SR10", "0.3 +SC40", "\t", "my includes", "/tmp",
    "..", "a\"b", "\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC", "\xF0\x9F\x98\x80", "\xC3", "\xFF\xFE"};
// clang-format on

std::string random_value(Dice& dice) {
  switch (dice.below(4)) {
    case 0:
      return std::to_string(static_cast<int64_t>(dice.u64()) >> dice.below(64));
    case 1:
      return dice.junk(12);
    default:
      return dice.pick(kOptionValues);
  }
}

// Options taskdist accepts, so that many random requests get past the options.
// clang-format off
const std::vector<std::string> kGoodOptions = {
    "+W64", "+H48", "-w32", "Height=24", "Width = 16", "+A0.3", "+AM2", "+Q9", "-J", "+R3",
    "Declare=X=1", "Antialias=on", "+UA", "-UA", "Output_Alpha=off", "+WT2", "+BS16",
    "Render_Block_Size=8", "+MI64", "+Lmy includes", "Library_Path=/usr/share/povray-3.7/include",
    "-D", "Display=off", "-P"};
// clang-format on

std::string random_option(Dice& dice) {
  if (dice.chance(0.4)) return dice.pick(kGoodOptions);
  switch (dice.below(20)) {
    case 0:
      return dice.junk(40);
    case 1:
      return "";
    case 2:  // very long
      return dice.pick(kOptionHeads) + std::string(static_cast<size_t>(1000 + dice.below(100000)),
                                                   dice.chance(0.5) ? '9' : 'x');
    case 3:
    case 4: {  // two options in one argument
      const std::vector<std::string> separators = {" ", "\n", "\t", "\r\n", std::string(1, '\0')};
      return dice.pick(kOptionHeads) + random_value(dice) + dice.pick(separators) +
             dice.pick(kOptionHeads) + random_value(dice);
    }
    case 5: {  // a real option with one byte changed
      std::string s = dice.pick(kOptionHeads) + dice.pick(kOptionValues);
      s[static_cast<size_t>(dice.below(static_cast<int>(s.size())))] =
          static_cast<char>(dice.below(256));
      return s;
    }
    default:
      return dice.pick(kOptionHeads) + random_value(dice);
  }
}

// ---------------------------------------------------------------------------------------------
// FuzzTest.BuildJob: build_job on random requests.

// The files random requests point at.
struct JobFixture {
  fs::path dir;
  fs::path scene, unicode_scene, scene_named_dir, other_ini, fifo_ini, zero_ini, out_dir;
  std::vector<fs::path> ini_names;  // rewritten for every input that uses one

  JobFixture() : dir(fresh_dir("fuzz-job")) {
    scene = dir / "s.pov";
    std::ofstream(scene) << "sphere { 0, 1 pigment { rgb 1 } }\n";
    unicode_scene = dir / "sc\xC3\xA8ne \xE2\x98\x80.pov";
    std::ofstream(unicode_scene) << "sphere { 0, 1 }\n";
    scene_named_dir = dir / "sub.pov";
    fs::create_directory(scene_named_dir);
    other_ini = dir / "other.ini";
    std::ofstream(other_ini) << "Width=64\nInput_File_Name=s.pov\n";
    fifo_ini = dir / "fifo.ini";  // reading it would block: it must be refused unread
    ::mkfifo(fifo_ini.c_str(), 0644);
    zero_ini = dir / "zero.ini";  // endless: it must be refused unread
    fs::create_symlink("/dev/zero", zero_ini);
    out_dir = dir / "out";
    fs::create_directory(out_dir);
    ini_names = {dir / "r.ini", dir / "R.INI", dir / "r.Ini"};
  }
};

std::string random_ini_line(Dice& dice, const JobFixture& fx) {
  // clang-format off
  const std::vector<std::string> input_files = {
      "s.pov", fx.scene.string(), "missing.pov", "sub.pov", "", "other.ini",
      fx.unicode_scene.filename().string(), "../" + fx.dir.filename().string() + "/s.pov",
      std::string("s.pov\0x", 7), "fifo.ini", "s\".pov"};
  // clang-format on
  switch (dice.below(16)) {
    case 0:
      return "; " + dice.junk(20, false);
    case 1:
      return dice.chance(0.5) ? "" : "   \t";
    case 2:
      return dice.chance(0.8) ? "[Section" + std::to_string(dice.below(3)) + "]" : "[";
    case 3:
    case 4:
      return (dice.chance(0.5) ? "Input_File_Name=" : "Input_File_Name = ") +
             dice.pick(input_files);
    case 5:
      return "other.ini";  // POV-Ray's INI include; taskdist reads no includes
    case 6:
      return dice.junk(60);
    case 7:
      return "Declare=X=" + std::string(static_cast<size_t>(dice.below(60000)), 'x');
    case 8:
      return dice.pick(kOptionHeads) + random_value(dice) + " ; " + dice.junk(10, false);
    case 9:
    case 10:
      return dice.pick(kGoodOptions);
    default:
      return (dice.chance(0.2) ? "  " : "") + dice.pick(kOptionHeads) + random_value(dice);
  }
}

// Writes a random INI file for one input; returns its contents.
std::string write_random_ini(Dice& dice, const JobFixture& fx, const fs::path& path) {
  const std::vector<std::string> line_ends = {"\n", "\r\n", "\r"};
  const std::string& end = dice.pick(line_ends);
  std::string text;
  if (dice.chance(0.7)) text += "Input_File_Name=s.pov" + end;
  const int lines = dice.below(6);
  for (int i = 0; i < lines; ++i) text += random_ini_line(dice, fx) + end;
  if (dice.chance(0.3)) text += random_ini_line(dice, fx);  // no line end at the end
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return text;
}

// A random request; `user_bytes` collects every byte it (and its INI file) holds.
JobRequest random_request(Dice& dice, const JobFixture& fx, std::string& user_bytes) {
  JobRequest r;
  const int scene_kind = dice.below(16);
  if (scene_kind < 7) {
    const fs::path& ini = dice.pick(fx.ini_names);
    user_bytes += write_random_ini(dice, fx, ini);
    r.scene = ini.string();
  } else if (scene_kind < 12) {
    r.scene = dice.chance(0.8) ? fx.scene.string() : fs::relative(fx.scene).string();
  } else {
    // Argument strings come from argv, so they hold no NUL byte.
    // clang-format off
    const std::vector<std::string> odd = {
        (fx.dir / "missing.pov").string(), fx.dir.string(), fx.scene_named_dir.string(), "",
        fx.fifo_ini.string(), fx.zero_ini.string(), fx.other_ini.string(), "/dev/null",
        (fx.dir / std::string(5000, 'a')).string(), fx.unicode_scene.string(),
        fx.scene.string() + "/", dice.junk(30, false)};
    // clang-format on
    r.scene = dice.pick(odd);
  }
  const int args = dice.below(5);
  for (int i = 0; i < args; ++i) r.pov_args.push_back(random_option(dice));
  // clang-format off
  const std::vector<std::string> outputs = {
      "", (fx.dir / "missing" / "o.png").string(), fx.out_dir.string(), "/dev/null/o.png",
      (fx.out_dir / "\xC3\xA9.png").string(), dice.junk(20, false)};
  // clang-format on
  r.output = dice.chance(0.75) ? (fx.out_dir / "o.png").string() : dice.pick(outputs);
  const std::vector<int> slots = {0, 1, 2, 64, INT_MAX, -1, -100, INT_MIN};
  r.slots = dice.chance(0.85) ? slots[static_cast<size_t>(dice.below(4))] : dice.pick(slots);
  r.policy = dice.chance(0.5) ? Policy::kStatic : Policy::kDynamic;
  const std::vector<std::string> reports = {"", "r.json", (fx.out_dir / "r.json").string(),
                                            dice.junk(20, false)};
  r.report = dice.pick(reports);
  r.quiet = dice.chance(0.5);
  const std::vector<std::string> povrays = {
      "true", "", fx.dir.string(), (fx.dir / "no-povray").string(), fx.scene.string(), "/bin/"};
  r.povray = dice.chance(0.8) ? "/bin/true" : dice.pick(povrays);
  user_bytes += r.scene + r.output + r.report + r.povray;
  for (const auto& a : r.pov_args) user_bytes += a;
  return r;
}

std::string describe(const JobRequest& r) {
  std::ostringstream s;
  s << "scene '" << shown(r.scene) << "' args [";
  for (const auto& a : r.pov_args) s << " '" << shown(a) << "'";
  s << " ] output '" << shown(r.output) << "' slots " << r.slots;
  s << " povray '" << shown(r.povray) << "'";
  std::error_code ec;
  if (fs::path(r.scene).extension().string().size() == 4 &&
      fs::path(r.scene).extension() != ".pov" && fs::is_regular_file(r.scene, ec)) {
    std::ifstream in(r.scene, std::ios::binary);
    std::string text(4096, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    s << "\n  INI: " << shown(text);
  }
  return s.str();
}

// True if POV-Ray would split `option` into several: it reads each argument once more and
// splits it at white space outside double quotes.
bool splits_into_several(const std::string& option) {
  bool quoted = false;
  for (char c : option) {
    if (c == '"') quoted = !quoted;
    if (!quoted && std::isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

// The invariants of an accepted job, or why it breaks one.
std::string broken_invariant(const Job& job) {
  if (job.width < 1 || job.width > kMaxDimension) return "width out of range";
  if (job.height < 1 || job.height > kMaxDimension) return "height out of range";
  if (job.block_size < 4) return "block size below 4";
  if (job.threads_per_band < 1) return "threads per band below 1";
  if (job.slots < 1) return "fewer than 1 slot";
  for (const fs::path* p : {&job.scene, &job.output, &job.povray}) {
    if (!p->is_absolute()) return "path '" + shown(p->string()) + "' is not absolute";
    if (p->string().find('\0') != std::string::npos) {
      return "path '" + shown(p->string()) + "' holds a NUL byte: the OS would see another path";
    }
  }
  if (!fs::is_regular_file(job.scene)) return "the scene is not a regular file";
  if (job.scene_dir != job.scene.parent_path()) return "scene_dir is not the scene's folder";
  if (!fs::is_directory(job.output.parent_path()) || fs::is_directory(job.output)) {
    return "the output's folder is missing, or the output is a folder";
  }
  if (!fs::is_regular_file(job.povray) || ::access(job.povray.c_str(), X_OK) != 0) {
    return "povray '" + shown(job.povray.string()) + "' is not an executable file";
  }
  for (const std::string& option : job.pov_options) {
    if (option.find('\0') != std::string::npos) {
      return "option '" + shown(option) + "' holds a NUL byte: POV-Ray would see it cut short";
    }
    if (splits_into_several(option)) {
      return "option '" + shown(option) +
             "' holds white space: POV-Ray would read several options (and could be handed one "
             "that taskdist refuses)";
    }
    switch (classify_pov_option(option).kind) {
      case PovOptionKind::kRefused:
      case PovOptionKind::kWidth:
      case PovOptionKind::kHeight:
      case PovOptionKind::kThreads:
      case PovOptionKind::kInputFile:
        return "option '" + shown(option) +
               "' reaches POV-Ray although taskdist refuses it or sets it itself";
      default:
        break;
    }
  }
  return "";
}

TEST(FuzzTest, BuildJobTakesTenThousandRandomRequests) {
  const JobFixture fx;
  FuzzRun fuzz("build_job", kMaxSecondsPerInput);
  fuzz.run(10000, [&](int, Dice& dice) {
    std::string user_bytes;
    const JobRequest request = random_request(dice, fx, user_bytes);
    fuzz.describe(describe(request));
    const auto job = build_job(request);
    if (!job) {
      if (auto why = unclear_because(job.error().message(), user_bytes); !why.empty()) {
        fuzz.fail("unclear message (" + why + "): '" + shown(job.error().message()) + "'");
      }
      return false;
    }
    if (auto broken = broken_invariant(*job); !broken.empty()) fuzz.fail("accepted, but " + broken);
    return true;
  });
  fuzz.finish(0.05);
}

// ---------------------------------------------------------------------------------------------
// FuzzTest.CommandLine: the taskdist binary on random argv vectors.

// Tokens for taskdist's own flags, each with values that are right or wrong.
std::vector<std::string> random_render_flag(Dice& dice) {
  // clang-format off
  const std::vector<std::vector<std::string>> flags = {
      {"-o", "o.png"}, {"-o", "nodir/o.png"}, {"-o", "."}, {"-o", ""}, {"-o"},
      {"--output=o2.png"}, {"-j", "1"}, {"-j", "3"}, {"-j", "0"}, {"-j", "-1"}, {"-j", "4097"},
      {"-j", "abc"}, {"-j"}, {"-j2"}, {"-j0"}, {"-j99999"}, {"--jobs=2"}, {"--policy", "static"},
      {"--policy", "dynamic"}, {"--policy", "Static"}, {"--policy", ""}, {"--policy"},
      {"--report", "r.json"}, {"--report", "nodir/r.json"}, {"--report"}, {"-q"}, {"--quiet"},
      {"--slots", "2"}, {"--slots", "0"}, {"--slots", "x"}, {"--master-slots", "1"},
      {"--master-slots", "-1"}, {"--scene-dir", "."}, {"--scene-dir", "nodir"}, {"--shared-dir"},
      {"--scene-limit", "1"}, {"--scene-limit", "0"}, {"--scene-limit", "1048577"},
      {"--scene-limit", "abc"}, {"--povray", "/bin/false"}, {"--povray=povray"}, {"-h"},
      {"--help"}, {"--version"}, {"--"}, {"-"}, {"---"}, {"--unknown"}, {"-Z"}, {"="}, {"+"},
      {"render"}, {"bench"}, {"s.pov"}, {"scene.ini"}, {"missing.pov"}, {"."}};
  // clang-format on
  return dice.pick(flags);
}

std::vector<std::string> random_bench_flag(Dice& dice) {
  // clang-format off
  const std::vector<std::vector<std::string>> flags = {
      {"--sizes", "8x8"}, {"--sizes", "1x1,4x4"}, {"--sizes", "0x0"}, {"--sizes", "8x"},
      {"--sizes", "x8"}, {"--sizes", "65536x1"}, {"--sizes", "abc"}, {"--sizes", ""},
      {"--sizes"}, {"--nodes", "2"}, {"--nodes", "0"}, {"--nodes", "-1"}, {"--nodes", "4097"},
      {"--nodes", "a"}, {"--nodes", ""}, {"--repeat", "1"}, {"--repeat", "2"}, {"--repeat", "0"},
      {"--repeat", "1001"}, {"--repeat", "x"}, {"--policy", "static"}, {"--policy", "both"},
      {"--method", "taskdist"}, {"--method", "paper"}, {"--method", "tp"}, {"--method", ""},
      {"--out", "study"}, {"--out", ""}, {"--out", "/proc/no-such/study"}, {"--scene", "s.pov"},
      {"--scene", "missing.pov"}, {"--convert", "/bin/false"}, {"--convert", "nope"}, {"--help"},
      {"-h"}, {"+W64"}, {"-o", "x"}, {"junk"}};
  // clang-format on
  return dice.pick(flags);
}

std::string random_cli_junk(Dice& dice) {
  switch (dice.below(8)) {
    case 0:
      return dice.junk(30, false);  // argv strings hold no NUL byte
    case 1:
      return std::string(static_cast<size_t>(100 + dice.below(4000)), 'x');
    default: {  // POV-Ray options, which reach build_job
      std::string s = random_option(dice);
      std::erase(s, '\0');
      return s;
    }
  }
}

// A random command line; every render and bench run gets --povray /bin/false first, where
// nothing before it can take it as a value, so nothing renders for long.
std::vector<std::string> random_command_line(Dice& dice, bool& bench) {
  std::vector<std::string> argv;
  bench = false;
  const int mode = dice.below(20);
  if (mode < 15) {
    argv = {"render", "--povray", "/bin/false"};
    if (dice.chance(0.85)) argv.push_back(dice.chance(0.7) ? "s.pov" : "scene.ini");
    const int n = dice.below(9);
    for (int i = 0; i < n; ++i) {
      if (dice.chance(0.45)) {
        for (auto& t : random_render_flag(dice)) argv.push_back(t);
      } else {
        argv.push_back(random_cli_junk(dice));
      }
    }
  } else if (mode < 19) {
    // One tiny size on one node, once: a valid study is a handful of failing runs.
    bench = true;
    argv = {"bench", "--povray", "/bin/false", "--sizes", "8x8", "--nodes", "1"};
    bool repeat_given = false;
    const int n = dice.below(5);
    for (int i = 0; i < n; ++i) {
      auto flag = random_bench_flag(dice);
      repeat_given = repeat_given || flag[0] == "--repeat";
      for (auto& t : flag) argv.push_back(t);
    }
    if (!repeat_given) {
      argv.insert(argv.begin() + 1, {"--repeat", "1"});
    }
  } else {
    const int n = dice.below(4);
    for (int i = 0; i < n; ++i) argv.push_back(random_cli_junk(dice));
    const std::vector<std::string> firsts = {"--help", "--version", "-h", "", "Render", "+W64"};
    if (dice.chance(0.5)) argv.insert(argv.begin(), dice.pick(firsts));
  }
  return argv;
}

std::string describe(const std::vector<std::string>& argv) {
  std::string s = "taskdist";
  for (const auto& a : argv) s += " '" + shown(a) + "'";
  return s;
}

// Why the run's outcome is wrong, or "".
std::string wrong_outcome(const std::vector<std::string>& argv, bool bench, const RunResult& r) {
  if (r.exit_code > 128) return "killed by signal " + std::to_string(r.exit_code - 128);
  if (r.exit_code != 0 && r.exit_code != 1 && r.exit_code != 2) {
    return "exit code " + std::to_string(r.exit_code) + " (expected 0, 1 or 2)";
  }
  if (r.err.find("fatal:") != std::string::npos) {
    return "an exception reached main: " + shown(r.err);
  }
  bool asks_help = false;
  for (const auto& a : argv) asks_help |= a == "--help" || a == "-h" || a == "--version";
  if (r.exit_code == 0) {
    // A bench whose every run failed has still completed its study (failed runs are rows).
    return asks_help || bench ? "" : "exit code 0 without --help or --version";
  }
  // 1 and 2: a message on stderr, from taskdist or from CLI11's usage error.
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("taskdist")) return "";
    if (r.exit_code == 2 && line == "Run with --help for more information.") return "";
  }
  return "exit code " + std::to_string(r.exit_code) + " without a message: stderr '" +
         shown(r.err) + "'";
}

TEST(FuzzTest, CommandLineTakesRandomArgumentVectors) {
  const fs::path cwd = fresh_dir("fuzz-cli");
  const fs::path empty_path = fresh_dir("fuzz-cli-path");  // PATH: no povray to be found
  fs::copy_file(source_dir() / "scenes" / "sample.pov", cwd / "s.pov");
  std::ofstream(cwd / "scene.ini") << "Input_File_Name=s.pov\nWidth=32\nHeight=24\n";
  constexpr double kHangSeconds = 10;
  // Accepted: parsed, and the render or the study ran (and failed: povray is /bin/false), or
  // --help; rejected: exit code 2.
  FuzzRun fuzz("command line", kHangSeconds);
  fuzz.run(600, [&](int, Dice& dice) {
    bool bench = false;
    const std::vector<std::string> args = random_command_line(dice, bench);
    fuzz.describe(describe(args));
    std::vector<std::string> argv = {taskdist_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = run(argv, {{"PATH", empty_path.string()}}, kHangSeconds, cwd);
    if (auto wrong = wrong_outcome(args, bench, r); !wrong.empty()) fuzz.fail(wrong);
    return r.exit_code != 2;
  });
  fuzz.finish(0.1);
}

// ---------------------------------------------------------------------------------------------
// FuzzTest.ScenePack: unpack_scene on mutated and on randomly built packs.

// A pack is a tar archive: for every entry a 512-byte header, then its data padded to 512 bytes;
// two zero blocks end it. The header fields a mutation changes (offset, size):
struct TarField {
  size_t at, size;
};
constexpr TarField kTarName{0, 100}, kTarMode{100, 8}, kTarSize{124, 12}, kTarChecksum{148, 8},
    kTarType{156, 1}, kTarLinkName{157, 100};
constexpr size_t kTarBlock = 512;

// The offsets of a pack's entry headers, walked as a tar reader walks them.
std::vector<size_t> headers_of(const std::string& pack) {
  std::vector<size_t> headers;
  for (size_t at = 0; at + kTarBlock <= pack.size();) {
    if (pack.find_first_not_of('\0', at) >= at + kTarBlock) break;  // the end-of-archive marker
    headers.push_back(at);
    const uint64_t size =
        std::strtoull(pack.substr(at + kTarSize.at, kTarSize.size).c_str(), nullptr, 8);
    at += kTarBlock + (size + kTarBlock - 1) / kTarBlock * kTarBlock;
  }
  return headers;
}

// `value` in the field, cut to its size or padded with NULs; a header outside the pack (cut
// short by an earlier change) is left alone.
void set_field(std::string& pack, size_t header, TarField field, const std::string& value) {
  if (header + kTarBlock > pack.size()) return;
  std::string v = value.substr(0, field.size);
  v.resize(field.size, '\0');
  pack.replace(header + field.at, field.size, v);
}

// `v` in octal as tar writes numbers: zero-padded digits and a NUL (the last digits if too big).
std::string tar_octal(uint64_t v, size_t field_size) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%0*llo", static_cast<int>(field_size - 1),
                static_cast<unsigned long long>(v));
  std::string s(digits);
  return s.substr(s.size() - (field_size - 1));
}

// The header's checksum made right again, as a hostile master would make it: the sum of the
// header's bytes, the checksum field counted as spaces. Without it every changed header would
// only ever be refused as damaged.
void fix_checksum(std::string& pack, size_t header) {
  if (header + kTarBlock > pack.size()) return;
  pack.replace(header + kTarChecksum.at, kTarChecksum.size, kTarChecksum.size, ' ');
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) sum += static_cast<unsigned char>(pack[header + i]);
  set_field(pack, header, kTarChecksum, tar_octal(sum, kTarChecksum.size - 1) + '\0' + ' ');
}

// clang-format off
const std::vector<std::string> kHostileNames = {
    "..", "../x", "a/../../x", ".", "", "/abs-evil", "sub/../..", "inc/../../x", "alias.inc/x",
    "a\nb", std::string("a\0b", 3), "inc/deep/../../../x", "q", "./", "inc/deep/up.inc/x"};
const std::vector<std::string> kHostileTargets = {
    "..", "../x", ".", "", "/abs-evil", "inc/../..", "alias.inc/..", "inc/deep/up.inc/../..",
    "a\nb", "scene.pov", "inc"};
// clang-format on

// One random change to a pack, as a careless network or a hostile master might make it.
void mutate(Dice& dice, std::string& pack, const std::vector<size_t>& headers,
            const std::string& abs_evil) {
  const auto pos = [&] { return static_cast<size_t>(dice.below(static_cast<int>(pack.size()))); };
  if (pack.empty()) {
    pack = dice.junk(16);
    return;
  }
  const size_t header = dice.pick(headers);
  const auto hostile = [&](const std::vector<std::string>& names) {
    const std::string& name = dice.pick(names);
    return name == "/abs-evil" ? abs_evil : name;
  };
  switch (dice.below(10)) {
    case 0:  // bit flip
      pack[pos()] ^= static_cast<char>(1 << dice.below(8));
      return;
    case 1:  // truncation
      pack.resize(pos());
      return;
    case 2:  // inserted bytes
      pack.insert(pos(), dice.junk(8));
      return;
    case 3: {  // a removed range
      const size_t at = pos();
      pack.erase(at, static_cast<size_t>(dice.below(16)));
      return;
    }
    case 4: {  // a size changed
      if (header + kTarBlock > pack.size()) return;
      const uint64_t old =
          std::strtoull(pack.substr(header + kTarSize.at, kTarSize.size).c_str(), nullptr, 8);
      // clang-format off
      const std::vector<uint64_t> values = {0, 1, old - 1, old + 1, old * 2, 1ull << 32,
                                            (1ull << 33) - 1, UINT64_MAX, dice.u64()};
      // clang-format on
      set_field(pack, header, kTarSize, tar_octal(dice.pick(values), kTarSize.size));
      break;
    }
    case 5: {  // a mode changed (setuid, world-writable, junk)
      const std::vector<uint64_t> values = {04755, 02755, 01777, 0777, 0, 07777, dice.u64()};
      set_field(pack, header, kTarMode, tar_octal(dice.pick(values), kTarMode.size));
      break;
    }
    case 6: {  // a type changed: file, hard link, link, devices, folder, FIFO, pax, GNU names,
               // GNU sparse
      // clang-format off
      const std::vector<char> types = {'0', '1', '2', '3', '4', '5', '6', '7', 'x', 'g', 'L',
                                       'K', 'S', '\0', static_cast<char>(dice.below(256))};
      // clang-format on
      set_field(pack, header, kTarType, std::string(1, dice.pick(types)));
      break;
    }
    case 7:  // a name replaced by a hostile one
      set_field(pack, header, kTarName, hostile(kHostileNames));
      break;
    case 8:  // a link's target (or a file's empty one) replaced by a hostile one
      set_field(pack, header, kTarLinkName, hostile(kHostileTargets));
      break;
    default: {  // a range duplicated: an entry twice, or half of one
      const size_t at = pos();
      const size_t n = std::min(pack.size() - at, static_cast<size_t>(dice.below(64)));
      pack.insert(pos(), pack.substr(at, n));
      return;
    }
  }
  fix_checksum(pack, header);
}

// A pack built entry by entry from a few names: links to ".", "..", and through each other.
std::string random_built_pack(Dice& dice) {
  const std::vector<std::string> names = {"a", "q", "p", "x.pov"};
  const std::vector<std::string> steps = {"a", "q", "p", ".", ".."};
  const auto path = [&](const std::vector<std::string>& parts) {
    std::string p = dice.pick(parts);
    const int more = dice.chance(0.6) ? 0 : 1 + dice.below(2);
    for (int i = 0; i < more; ++i) p += "/" + dice.pick(parts);
    return p;
  };
  ScenePackWriter w;
  const int entries = 2 + dice.below(6);
  for (int i = 0; i < entries; ++i) {
    switch (dice.below(4)) {
      case 0:
        w.add_file(path(names), "data");
        break;
      case 1:
        w.add_dir(path(names));
        break;
      default:
        w.add_link(path(names), path(steps));
    }
  }
  return w.take();
}

// What is wrong with the tree `dest` holds after an unpack, or "": every path and every link's
// target inside it, and no permission a packed scene folder cannot hold.
std::string escape_in(const fs::path& dest) {
  std::error_code ec;
  const fs::path root = fs::canonical(dest, ec);
  if (ec) return "the destination is gone: " + ec.message();
  for (auto it = fs::recursive_directory_iterator(dest, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path resolved = fs::weakly_canonical(it->path(), ec);
    if (ec == std::errc::too_many_symbolic_link_levels) {
      ec.clear();  // a loop of links: the system cannot follow it anywhere
      continue;
    }
    if (ec) return "'" + shown(it->path().string()) + "' cannot be resolved: " + ec.message();
    const fs::path rel = resolved.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") {
      return "'" + shown(it->path().string()) + "' leads outside, to " + shown(resolved.string());
    }
    const auto status = it->symlink_status(ec);
    if (ec) return ec.message();
    if (!fs::is_symlink(status)) {
      using P = fs::perms;
      const P bad = P::set_uid | P::set_gid | P::sticky_bit | P::group_write | P::others_write;
      if ((status.permissions() & bad) != P::none) {
        return "'" + shown(it->path().string()) +
               "' has setuid, setgid, sticky or group/world-writable permissions, which a packed "
               "folder never holds";
      }
    }
  }
  return ec ? "cannot walk the destination: " + ec.message() : "";
}

TEST(FuzzTest, ScenePackUnpacksMutatedAndHostilePacksSafely) {
  const fs::path src = fresh_dir("fuzz-pack-src");
  std::ofstream(src / "scene.pov") << "#include \"inc/colors.inc\"\nsphere { 0, 1 }\n";
  fs::create_directories(src / "inc" / "deep");
  std::ofstream(src / "inc" / "colors.inc") << "// colors\n";
  std::ofstream(src / "inc" / "deep" / "x.inc") << "// deep\n";
  std::ofstream(src / "data.bin", std::ios::binary) << std::string("\0\1\2\xff\n", 5);
  fs::create_directory(src / "empty");
  fs::create_symlink("inc/colors.inc", src / "alias.inc");
  fs::create_symlink("../colors.inc", src / "inc" / "deep" / "up.inc");
  const auto packed = pack_scene_dir(src, 1 << 20);
  ASSERT_TRUE(packed) << packed.error().message();
  const std::vector<size_t> headers = headers_of(packed->bytes);
  ASSERT_EQ(headers.size(), 9u) << "the walk of the pack's layout is off";

  constexpr int kMutated = 3000, kBuilt = 3000;
  FuzzRun fuzz("scene pack", kMaxSecondsPerInput);
  fuzz.run(kMutated + kBuilt, [&](int input, Dice& dice) {
    // Each unpack gets a fresh `dst` inside `box`: a write beside `dst` shows as a new entry of
    // `box`, and an absolute name points at `box`/abs-evil.
    const fs::path box = fresh_dir("fuzz-pack");
    const fs::path dest = box / "dst";
    fs::create_directory(dest);
    std::string pack = input < kMutated ? packed->bytes : random_built_pack(dice);
    const int changes = input == 0 || input >= kMutated ? 0 : 1 + dice.below(3);
    for (int c = 0; c < changes; ++c) mutate(dice, pack, headers, (box / "abs-evil").string());
    fuzz.describe(shown(pack));

    const auto unpacked = unpack_scene(pack, dest);
    const std::string error = unpacked ? "" : unpacked.error().message();
    if (input == 0 && !unpacked) fuzz.fail("the pack as made is refused: " + error);
    if (!unpacked) {
      if (auto why = unclear_because(error, pack); !why.empty()) {
        fuzz.fail("unclear message (" + why + "): '" + shown(error) + "'");
      }
    }
    if (auto escape = escape_in(dest); !escape.empty()) fuzz.fail(escape);
    for (const auto& entry : fs::directory_iterator(box)) {
      if (entry.path() != dest) {
        fuzz.fail("wrote outside the destination: " + shown(entry.path().string()));
      }
    }
    std::error_code ec;
    fs::remove_all(box, ec);  // remove_all does not follow links
    return unpacked.has_value();
  });
  fuzz.finish(0.05);
}

}  // namespace
}  // namespace taskdist
