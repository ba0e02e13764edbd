// Splits POV-Ray options off taskdist's command line. CLI11 must not see them ("-D" or "-UA"
// are not taskdist's flags, and would be errors), and POV-Ray must not get taskdist's flags.
// Which arguments are taskdist's is read from the flags the subcommands registered with CLI11.
#pragma once

#include <set>
#include <span>
#include <string>
#include <vector>

#include "cmd/command.h"

namespace taskdist {

/// The flags of the subcommands that take POV-Ray options (render, race): a flag of either is
/// never handed to POV-Ray, so `race -j4` is an error from CLI11, not a POV-Ray switch.
class OwnFlags {
 public:
  explicit OwnFlags(std::span<const Command* const> commands);

  /// True if `arg` is one of these flags: its name ("-o", "--output"), "--name=value", or a
  /// short option that takes a whole number with the number attached ("-j4"; POV-Ray's jitter
  /// switch is written -J, and "-o4" is POV-Ray's -O, which it refuses).
  bool contains(const std::string& arg) const;
  /// True if `arg` is the name of a flag that takes the next argument as its value.
  bool takes_next(const std::string& arg) const { return with_value_.contains(arg); }

 private:
  std::set<std::string> names_;       ///< "-o", "--output", "-q", ...
  std::set<std::string> with_value_;  ///< those of names_ that take a value
  std::set<std::string> numbered_;    ///< short names that take a whole number: "-j"
};

/// A command line with the POV-Ray options taken out.
struct SplitArgs {
  std::vector<std::string> for_cli11;    ///< the rest, reversed, as CLI::App::parse takes it
  std::vector<std::string> pov_options;  ///< in the order given
};

/// `args` (without the program's name) split for the subcommand it names: POV-Ray options are
/// taken out only for a subcommand that takes them; every other argument (a flag CLI11 does not
/// know, too, so that it says so) stays for CLI11.
SplitArgs split_command_line(const std::vector<std::string>& args,
                             std::span<const Command* const> commands);

}  // namespace taskdist
