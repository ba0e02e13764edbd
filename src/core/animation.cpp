#include "core/animation.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

namespace taskdist {
namespace {

using Checked = std::expected<void, Error>;

std::optional<long long> whole_number(std::string_view s) {
  long long v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<double> real_number(std::string_view s) {
  double v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A frame number: a whole number in [0, 10^8) (POV-Ray skips negative frames).
Checked frame_number(const std::optional<std::string>& value, const std::string& where,
                     int* out) {
  if (!value) return {};
  const auto v = whole_number(*value);
  if (!v || *v < 0 || *v >= 100'000'000) {
    return fail(where, "a frame number must be a whole number from 0 to 99999999, got '" +
                           *value + "'");
  }
  *out = static_cast<int>(*v);
  return {};
}

// A subset bound: a frame number, or in an INI file a fraction of the animation (0 < x < 1),
// which POV-Ray 3.7 turns into int(x * frames), kept within the animation's frames (with +KC,
// counting the frame it adds, as its animation processing does).
Checked subset_bound(const std::optional<std::string>& value, bool from_ini,
                     const std::string& where, const Animation& a, int* out) {
  if (!value) return {};
  const auto x = from_ini ? real_number(*value) : std::nullopt;
  if (x && *x > 0 && *x < 1) {
    const int last = a.final_frame + (a.cyclic ? 1 : 0);
    *out = std::clamp(static_cast<int>(*x * (last - a.initial_frame + 1)), a.initial_frame, last);
    return {};
  }
  if (x && *x >= 1 && *x == std::floor(*x)) {
    *out = static_cast<int>(*x);  // "5.0" in an INI file
  } else if (auto done = frame_number(value, where, out); !done) {
    return fail(where, fmt::format("a subset frame must be a frame number{}, got '{}'",
                                   from_ini ? " or a fraction between 0 and 1" : "", *value));
  }
  if (*out < a.initial_frame || *out > a.final_frame) {
    return fail(where, fmt::format("frame {} is outside the animation's frames {}-{}", *out,
                                   a.initial_frame, a.final_frame),
                "POV-Ray would render frames that are not in the animation");
  }
  return {};
}

Checked clock_value(const std::optional<std::string>& value, const std::string& where,
                    std::string* out) {
  if (!value) return {};
  if (!real_number(*value)) return fail(where, "a clock value must be a number, got '" + *value + "'");
  *out = *value;
  return {};
}

}  // namespace

bool AnimationOptions::take(const std::string& key, const std::string& value, bool enabled,
                            bool from_ini, const std::string& where) {
  auto set = [&](std::optional<std::string>& field, std::string& field_where) {
    field = value;
    field_where = where;
    return true;
  };
  if (key == "KFI" || key == "INITIAL_FRAME") return set(initial_frame, where_initial_frame);
  if (key == "KFF" || key == "FINAL_FRAME") return set(final_frame, where_final_frame);
  if (key == "KI" || key == "INITIAL_CLOCK") return set(initial_clock, where_initial_clock);
  if (key == "KF" || key == "FINAL_CLOCK") return set(final_clock, where_final_clock);
  if (key == "STP" || key == "FRAME_STEP") return set(frame_step, where_frame_step);
  if (key == "SF" || key == "SUBSET_START_FRAME") {
    subset_start_from_ini = from_ini;
    return set(subset_start, where_subset_start);
  }
  if (key == "EF" || key == "SUBSET_END_FRAME") {
    subset_end_from_ini = from_ini;
    return set(subset_end, where_subset_end);
  }
  if (key == "KC" || key == "CYCLIC_ANIMATION") {
    cyclic = enabled;
    return true;
  }
  return false;
}

namespace {

// The frame range and the clocks, as given (POV-Ray's defaults otherwise).
Checked read_range(const AnimationOptions& given, Animation& a) {
  if (auto done = frame_number(given.initial_frame, given.where_initial_frame, &a.initial_frame);
      !done) {
    return done;
  }
  if (auto done = frame_number(given.final_frame, given.where_final_frame, &a.final_frame); !done) {
    return done;
  }
  if (auto done = clock_value(given.initial_clock, given.where_initial_clock, &a.initial_clock);
      !done) {
    return done;
  }
  return clock_value(given.final_clock, given.where_final_clock, &a.final_clock);
}

// A range POV-Ray would render wrongly: reversed (it renders the first frame alone) or one
// frame (its clock is nan).
Checked check_range(const AnimationOptions& given, const Animation& a) {
  const std::string& where = given.final_frame ? given.where_final_frame : given.where_initial_frame;
  if (a.final_frame < a.initial_frame) {
    return fail(where,
                fmt::format("the animation's frames {}-{} are reversed", a.initial_frame,
                            a.final_frame),
                "POV-Ray would render frame " + std::to_string(a.initial_frame) +
                    " alone; the final frame must be after the initial one");
  }
  if (a.final_frame == a.initial_frame) {
    return fail(where, fmt::format("an animation of the one frame {} is refused", a.initial_frame),
                "POV-Ray gives it the clock 'nan'; render a still with +K<clock> instead");
  }
  return {};
}

// The step, and the subset's frames every step-th from its start, into a.frames.
Checked choose_frames(const AnimationOptions& given, Animation& a) {
  if (given.frame_step) {
    const auto v = whole_number(*given.frame_step);
    if (!v || *v < 1 || *v > 100'000'000) {
      return fail(given.where_frame_step,
                  "the frame step must be a whole number of at least 1, got '" +
                      *given.frame_step + "'",
                  "POV-Ray ignores a step below 1");
    }
    a.step = static_cast<int>(*v);
  }
  int first = a.initial_frame, last = a.final_frame;
  if (auto done = subset_bound(given.subset_start, given.subset_start_from_ini,
                               given.where_subset_start, a, &first);
      !done) {
    return done;
  }
  if (auto done = subset_bound(given.subset_end, given.subset_end_from_ini,
                               given.where_subset_end, a, &last);
      !done) {
    return done;
  }
  if (last < first) {
    return fail(given.subset_end ? given.where_subset_end : given.where_subset_start,
                fmt::format("the frame subset {}-{} is empty", first, last),
                "the subset's end must not be before its start");
  }
  for (int f = first; f <= last; f += a.step) a.frames.push_back(f);
  return {};
}

}  // namespace

std::expected<std::optional<Animation>, Error> resolve_animation(const AnimationOptions& given) {
  Animation a;
  if (auto done = read_range(given, a); !done) return std::unexpected(done.error());
  const bool still = (a.initial_frame == 0 && a.final_frame == 0) ||
                     (a.initial_frame == 1 && a.final_frame == 1);
  if (still) {  // as for POV-Ray: no animation, and nothing that needs one
    if (given.subset_start || given.subset_end || given.frame_step) {
      const std::string& where =
          given.subset_start ? given.where_subset_start
                             : (given.subset_end ? given.where_subset_end : given.where_frame_step);
      return fail(where, "this option needs an animation, and none is set",
                  "give its frames with +KFI/+KFF or Initial_Frame/Final_Frame");
    }
    return std::optional<Animation>();
  }
  if (auto done = check_range(given, a); !done) return std::unexpected(done.error());
  a.cyclic = given.cyclic.value_or(false);
  if (auto done = choose_frames(given, a); !done) return std::unexpected(done.error());
  return std::optional<Animation>(std::move(a));
}

int Animation::digits() const {
  return static_cast<int>(std::to_string(final_frame + (cyclic ? 1 : 0)).size());
}

std::filesystem::path Animation::frame_file(const std::filesystem::path& output,
                                            int number) const {
  std::filesystem::path file = output;
  const std::string stem = output.stem().string();
  return file.replace_filename(fmt::format("{}{:0{}d}.png", stem, number, digits()));
}

double Animation::clock(int number) const {
  const double ki = real_number(initial_clock).value_or(0);
  const double kf = real_number(final_clock).value_or(1);
  const int span = final_frame - initial_frame + (cyclic ? 1 : 0);
  return ki + (number - initial_frame) * (kf - ki) / span;
}

std::vector<std::string> Animation::povray_options(int first, int last) const {
  return {"+KFI" + std::to_string(initial_frame),
          "+KFF" + std::to_string(final_frame),
          "+KI" + initial_clock,
          "+KF" + final_clock,
          cyclic ? "+KC" : "-KC",
          "+SF" + std::to_string(first),
          "+EF" + std::to_string(last),
          "+STP" + std::to_string(step)};
}

nlohmann::json animation_to_json(const Animation& a) {
  return {{"initial_frame", a.initial_frame}, {"final_frame", a.final_frame},
          {"initial_clock", a.initial_clock}, {"final_clock", a.final_clock},
          {"cyclic", a.cyclic}, {"step", a.step}, {"frames", a.frames}};
}

Animation animation_from_json(const nlohmann::json& j) {
  Animation a;
  a.initial_frame = j.at("initial_frame").get<int>();
  a.final_frame = j.at("final_frame").get<int>();
  a.initial_clock = j.at("initial_clock").get<std::string>();
  a.final_clock = j.at("final_clock").get<std::string>();
  a.cyclic = j.at("cyclic").get<bool>();
  a.step = j.at("step").get<int>();
  a.frames = j.at("frames").get<std::vector<int>>();
  return a;
}

FrameSpan frame_span(RowRange stacked, int height) {
  FrameSpan span;
  span.first = stacked.begin / height;
  const int offset = span.first * height;
  if (stacked.begin == offset && stacked.count() % height == 0 && stacked.count() > 0) {
    span.count = stacked.count() / height;
    span.rows = {0, height};
    span.whole_frames = true;
    return span;
  }
  span.rows = {stacked.begin - offset, stacked.end - offset};
  CHECK(span.rows.end <= height);  // a task never crosses a frame boundary partly
  return span;
}

}  // namespace taskdist
