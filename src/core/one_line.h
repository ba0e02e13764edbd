// Messages for the user are one line: the user's own bytes they quote (an argument, an INI
// line, a name from a scene pack) may hold newlines, NULs or other control bytes.
#pragma once

#include <string>
#include <string_view>

namespace taskdist {

/// `text` with its control bytes written as escapes (\n, \r, \t, \0, \xNN), so that it prints
/// as one line; every other byte, UTF-8 included, as given.
inline std::string one_line(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\0') {
      out += "\\0";
    } else {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  return out;
}

}  // namespace taskdist
