// One shape for every failure that is a value (`std::expected<T, Error>`), and CHECK for
// invariants: a broken invariant is a bug in taskdist, never the user's input.
#pragma once

#include <fmt/format.h>

#include <expected>
#include <ostream>
#include <string>
#include <utility>

namespace taskdist {

/// A recoverable failure, for the user to read: what failed, where (a file:line, a flag, a path
/// or a node; empty when `what` already says it), and what would be accepted (empty if nothing
/// helps but fixing what `what` names). message() is the one line that is printed.
struct Error {
  Error() = default;
  /// Implicit from a whole sentence, so that `return std::unexpected(fmt::format(...))` makes an
  /// Error.
  Error(std::string what_failed) : what(std::move(what_failed)) {}  // NOLINT(google-explicit-constructor)
  Error(std::string where_it_failed, std::string what_failed, std::string what_is_accepted = {})
      : what(std::move(what_failed)),
        where(std::move(where_it_failed)),
        accepted(std::move(what_is_accepted)) {}

  /// "WHERE: WHAT (ACCEPTED)"; parts that are empty are left out.
  std::string message() const {
    std::string out = where;
    if (!what.empty()) out += (out.empty() ? "" : ": ") + what;
    if (!accepted.empty()) out += (out.empty() ? "(" : " (") + accepted + ")";
    return out;
  }
  /// The same failure seen from further out: `context` is put in front, e.g. the scene's name.
  Error within(const std::string& context) const {
    Error out = *this;
    out.where = where.empty() ? context : context + ": " + where;
    return out;
  }

  std::string what;
  std::string where;
  std::string accepted;
};

/// For tests and logs: the message.
inline std::ostream& operator<<(std::ostream& out, const Error& e) { return out << e.message(); }

/// `return fail(...);` in a function that returns std::expected<T, Error>.
inline std::unexpected<Error> fail(std::string what) {
  return std::unexpected(Error(std::move(what)));
}
inline std::unexpected<Error> fail(std::string where, std::string what,
                                   std::string accepted = {}) {
  return std::unexpected(Error(std::move(where), std::move(what), std::move(accepted)));
}

/// Ends the program with the condition, file and line: for CHECK, never called directly.
[[noreturn]] void check_failed(const char* condition, const char* file, int line);

}  // namespace taskdist

/// An invariant of taskdist's own code (not a check of input): if it is false, taskdist prints
/// where and aborts, whatever the build type.
#define CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::taskdist::check_failed(#condition, __FILE__, __LINE__))

template <>
struct fmt::formatter<taskdist::Error> : fmt::formatter<std::string> {
  auto format(const taskdist::Error& e, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(e.message(), ctx);
  }
};
