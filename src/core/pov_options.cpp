#include "core/pov_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <string>

namespace taskdist {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool ini_true(std::string_view v) {
  const std::string u = upper(v);
  return u == "ON" || u == "TRUE" || u == "YES" || u == "1";
}

PovOption refused(std::string_view text, std::string reason) {
  return PovOption{PovOptionKind::kRefused, std::string(text), {}, true, std::move(reason), {}};
}

constexpr const char* kRowsReason =
    "taskdist sets the rows and columns of each band itself; render the whole image and crop "
    "it afterwards if you need a part";
constexpr const char* kOutputReason =
    "taskdist chooses each band's output itself; name the final image with -o OUT.png";
constexpr const char* kFormatReason =
    "taskdist always writes an 8-bit PNG (with alpha if +UA is given)";
constexpr const char* kInputReason =
    "give the scene as the first argument: taskdist render SCENE.pov";
constexpr const char* kDisplayReason = "bands render without a display window";
constexpr const char* kContinueReason = "taskdist does not continue interrupted POV-Ray renders";
constexpr const char* kPauseReason = "bands run unattended and cannot pause for a key press";
constexpr const char* kSpaceReason =
    "POV-Ray would read it as several options (it splits each one at white space); give each "
    "option separately, as an argument or an INI line of its own";
constexpr const char* kNulReason = "it holds a NUL byte, which cannot reach POV-Ray";

PovOption classify_switch(std::string_view arg) {
  const bool plus = arg[0] == '+';
  std::string_view body = arg.substr(1);
  // The key is the leading letters; +L takes a path directly after it.
  size_t n = 0;
  while (n < body.size() && std::isalpha(static_cast<unsigned char>(body[n]))) ++n;
  std::string key = upper(body.substr(0, n));
  std::string value(body.substr(n));
  if (!key.empty() && key[0] == 'L') {
    return PovOption{PovOptionKind::kLibraryPath, std::string(arg), std::string(body.substr(1)),
                     plus, {}, "L"};
  }
  auto make = [&](PovOptionKind kind) {
    return PovOption{kind, std::string(arg), value, plus, {}, key};
  };
  // Single-letter options take any text as their value ("+Wabc" is a bad width, not another
  // option); the options that share their first letter are listed.
  if (!key.empty() && (key[0] == 'W' || key[0] == 'H' || key[0] == 'O' || key[0] == 'I')) {
    static const char* const kOthers[] = {"WT", "WL", "HI", "HN", "HS", "HT"};
    if (std::ranges::find(kOthers, key, [](const char* k) { return std::string(k); }) ==
        std::end(kOthers)) {
      value = std::string(body.substr(1));
      key = key.substr(0, 1);
    }
  }
  if (key == "W") return make(PovOptionKind::kWidth);
  if (key == "H") return make(PovOptionKind::kHeight);
  if (key == "WT") return make(PovOptionKind::kThreads);
  if (key == "BS") return make(PovOptionKind::kBlockSize);
  if (key == "UA") return make(PovOptionKind::kAlpha);
  if (key == "MI") return make(PovOptionKind::kMaxImageBuffer);
  if (key == "SR" || key == "ER" || key == "SC" || key == "EC") return refused(arg, kRowsReason);
  if (key == "O") return refused(arg, kOutputReason);
  if (!key.empty() && key[0] == 'F') return refused(arg, kFormatReason);
  if (key == "KFI" || key == "KFF" || key == "KI" || key == "KF" || key == "SF" || key == "EF" ||
      key == "KC" || key == "STP") {
    return make(PovOptionKind::kAnimation);
  }
  if (key == "I") return refused(arg, kInputReason);
  if (key == "D" && plus) return refused(arg, kDisplayReason);
  if (key == "C" && plus) return refused(arg, kContinueReason);
  if (key == "P" && plus) return refused(arg, kPauseReason);
  return make(PovOptionKind::kPassThrough);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The first white-space-separated word of `rest`, which then starts after it.
std::string_view next_word(std::string_view& rest) {
  const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
  const std::string_view word = rest.substr(0, end);
  rest = trim(rest.substr(end));
  return word;
}

PovOption classify_setting(std::string_view arg) {
  const size_t eq = arg.find('=');
  const std::string_view key_as_given = trim(arg.substr(0, eq));
  const std::string key = upper(key_as_given);
  std::string value(trim(arg.substr(eq + 1)));
  // Handed on as Key=Value: POV-Ray refuses "Key = Value" as one command-line argument.
  const std::string text =
      eq == std::string_view::npos ? std::string(arg) : std::string(key_as_given) + "=" + value;
  auto make = [&](PovOptionKind kind) {
    return PovOption{kind, text, value, ini_true(value), {}, key};
  };
  if (key == "WIDTH") return make(PovOptionKind::kWidth);
  if (key == "HEIGHT") return make(PovOptionKind::kHeight);
  if (key == "WORK_THREADS") return make(PovOptionKind::kThreads);
  if (key == "RENDER_BLOCK_SIZE") return make(PovOptionKind::kBlockSize);
  if (key == "OUTPUT_ALPHA") return make(PovOptionKind::kAlpha);
  if (key == "MAX_IMAGE_BUFFER_MEMORY") return make(PovOptionKind::kMaxImageBuffer);
  if (key == "LIBRARY_PATH") return make(PovOptionKind::kLibraryPath);
  if (key == "INPUT_FILE_NAME") return make(PovOptionKind::kInputFile);
  if (key == "START_ROW" || key == "END_ROW" || key == "START_COLUMN" || key == "END_COLUMN") {
    return refused(arg, kRowsReason);
  }
  if (key == "OUTPUT_FILE_NAME") return make(PovOptionKind::kOutputName);
  if (key == "OUTPUT_TO_FILE") return refused(arg, kOutputReason);
  if (key == "OUTPUT_FILE_TYPE" || key == "BITS_PER_COLOR") return refused(arg, kFormatReason);
  if (key == "INITIAL_FRAME" || key == "FINAL_FRAME" || key == "INITIAL_CLOCK" ||
      key == "FINAL_CLOCK" || key == "SUBSET_START_FRAME" || key == "SUBSET_END_FRAME" ||
      key == "CYCLIC_ANIMATION" || key == "FRAME_STEP") {
    return make(PovOptionKind::kAnimation);
  }
  if (key == "DISPLAY" && ini_true(value)) return refused(arg, kDisplayReason);
  if (key == "CONTINUE_TRACE" && ini_true(value)) return refused(arg, kContinueReason);
  if (key == "PAUSE_WHEN_DONE" && ini_true(value)) return refused(arg, kPauseReason);
  return make(PovOptionKind::kPassThrough);
}

}  // namespace

bool looks_like_pov_option(std::string_view arg) {
  if (arg.size() >= 2 && (arg[0] == '+' || arg[0] == '-') &&
      std::isalpha(static_cast<unsigned char>(arg[1]))) {
    return true;
  }
  const size_t eq = arg.find('=');
  return eq != std::string_view::npos && eq > 0 &&
         std::isalpha(static_cast<unsigned char>(arg[0]));
}

PovOption classify_pov_option(std::string_view arg) {
  if (arg.find('\0') != std::string_view::npos) return refused(arg, kNulReason);
  PovOption opt = arg.size() >= 2 && (arg[0] == '+' || arg[0] == '-') ? classify_switch(arg)
                                                                      : classify_setting(arg);
  // POV-Ray splits each argument at white space once more: "+UA +SC40" would reach it as two
  // options, the second one refused. The paths (+L, Input_File_Name) are quoted, not handed on.
  const bool handed_on =
      opt.kind == PovOptionKind::kPassThrough || opt.kind == PovOptionKind::kAlpha ||
      opt.kind == PovOptionKind::kMaxImageBuffer || opt.kind == PovOptionKind::kBlockSize;
  if (handed_on && std::ranges::any_of(opt.text, [](unsigned char c) { return std::isspace(c); })) {
    return refused(arg, kSpaceReason);
  }
  return opt;
}

std::optional<bool> antialias_switch(std::string_view option) {
  if (option.size() >= 2 && (option[0] == '+' || option[0] == '-')) {
    size_t n = 1;
    while (n < option.size() && std::isalpha(static_cast<unsigned char>(option[n]))) ++n;
    if (upper(option.substr(1, n - 1)) == "A") return option[0] == '+';
    return std::nullopt;
  }
  const size_t eq = option.find('=');
  if (eq == std::string_view::npos || upper(trim(option.substr(0, eq))) != "ANTIALIAS") {
    return std::nullopt;
  }
  return ini_true(trim(option.substr(eq + 1)));
}

bool includes_ini(std::string_view option) {
  const size_t eq = option.find('=');
  return eq != std::string_view::npos && upper(trim(option.substr(0, eq))) == "INCLUDE_INI";
}

std::vector<std::filesystem::path> default_ini_files() {
  std::vector<std::filesystem::path> files;
  if (const char* povini = std::getenv("POVINI"); povini != nullptr && *povini != '\0') {
    files.emplace_back(povini);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    files.push_back(std::filesystem::path(home) / ".povray/3.7/povray.ini");
    files.push_back(std::filesystem::path(home) / ".povrayrc");
  }
  files.emplace_back("/etc/povray/3.7/povray.ini");
  files.emplace_back("/usr/local/etc/povray/3.7/povray.ini");
  files.emplace_back("/etc/povray.ini");
  files.emplace_back("/usr/local/etc/povray.ini");
  return files;
}

bool ini_files_may_antialias(const std::vector<std::filesystem::path>& ini_files) {
  for (const auto& file : ini_files) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    std::ifstream in(file);
    if (!in) return true;
    std::string line;
    while (std::getline(in, line)) {
      if (auto semi = line.find(';'); semi != std::string::npos) line.resize(semi);
      const std::string_view text = trim(line);
      if (text.empty() || text.front() == '[') continue;
      // POV-Ray splits a line at white space ("+W800 +A" is two options), but a setting takes
      // the rest of its line ("Width = 800", "Library_Path=a b").
      std::string_view rest = text;
      while (!rest.empty()) {
        const std::string_view from_here = rest;
        const std::string_view word = next_word(rest);
        const bool is_switch = word[0] == '+' || word[0] == '-';
        const std::string_view option = is_switch ? word : from_here;
        if (!looks_like_pov_option(option) || antialias_switch(option).value_or(false) ||
            includes_ini(option)) {
          return true;
        }
        if (is_switch) continue;
        // Whether POV-Ray reads "Declare=X=1 +A" as one setting or as two options, count +A.
        while (!rest.empty()) {
          if (antialias_switch(next_word(rest)).value_or(false)) return true;
        }
      }
    }
    if (in.bad()) return true;
  }
  return false;
}

std::string pov_path_option(std::string_view prefix, const std::string& path) {
  return std::string(prefix) + '"' + path + '"';
}

std::expected<void, Error> check_dimension(std::string_view what, std::string_view value,
                                           int* out) {
  long long v = 0;
  const auto* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return fail(std::string(what) + " must be a whole number of pixels, got '" +
                std::string(value) + "'");
  }
  if (v < 1 || v > kMaxDimension) {
    return fail(std::string(what) + " must be between 1 and " + std::to_string(kMaxDimension) +
                " pixels, got " + std::string(value));
  }
  *out = static_cast<int>(v);
  return {};
}

}  // namespace taskdist
