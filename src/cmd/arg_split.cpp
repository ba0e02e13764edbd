#include "cmd/arg_split.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "core/pov_options.h"

namespace taskdist {
namespace {

// CLI11 names an integer option's type INT (UINT if unsigned), followed by its checks:
// "INT:INT in [1 - 4096]".
bool takes_whole_number(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  return type.starts_with("INT") || type.starts_with("UINT");
}

std::vector<const Command*> taking_pov_options(std::span<const Command* const> commands) {
  std::vector<const Command*> out;
  for (const Command* c : commands) {
    if (c->takes_pov_options()) out.push_back(c);
  }
  return out;
}

}  // namespace

OwnFlags::OwnFlags(std::span<const Command* const> commands) {
  for (const Command* command : commands) {
    for (const CLI::Option* option : command->app().get_options()) {
      const bool with_value = option->get_expected_min() > 0;  // a flag expects none
      std::vector<std::string> names;
      for (const auto& l : option->get_lnames()) names.push_back("--" + l);
      for (const auto& s : option->get_snames()) {
        names.push_back("-" + s);
        if (with_value && takes_whole_number(*option)) numbered_.insert("-" + s);
      }
      names_.insert(names.begin(), names.end());
      if (with_value) with_value_.insert(names.begin(), names.end());
    }
  }
}

bool OwnFlags::contains(const std::string& arg) const {
  if (names_.contains(arg)) return true;
  if (arg.size() > 2 && numbered_.contains(arg.substr(0, 2)) &&
      arg.find_first_not_of("0123456789", 2) == std::string::npos) {
    return true;
  }
  const auto eq = arg.find('=');
  return arg.starts_with("--") && eq != std::string::npos && names_.contains(arg.substr(0, eq));
}

SplitArgs split_command_line(const std::vector<std::string>& args,
                             std::span<const Command* const> commands) {
  SplitArgs out;
  const auto with_pov = taking_pov_options(commands);
  const bool split = !args.empty() && std::ranges::any_of(with_pov, [&](const Command* c) {
    return c->app().get_name() == args[0];
  });
  if (!split) {
    out.for_cli11 = args;
  } else {
    const OwnFlags own(with_pov);
    out.for_cli11.push_back(args[0]);
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (own.contains(a)) {
        out.for_cli11.push_back(a);
        if (own.takes_next(a) && i + 1 < args.size()) out.for_cli11.push_back(args[++i]);
      } else if (looks_like_pov_option(a) && !a.starts_with("--")) {
        out.pov_options.push_back(a);
      } else {
        out.for_cli11.push_back(a);
      }
    }
  }
  std::ranges::reverse(out.for_cli11);
  return out;
}

}  // namespace taskdist
