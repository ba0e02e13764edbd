#include "exec/scene_pack.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <optional>
#include <system_error>
#include <vector>

#include "core/one_line.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "TDSCENE1";
using Links = std::vector<std::pair<std::string, std::string>>;  // name, target
enum class EntryType : char { kFile = 'f', kDir = 'd', kLink = 'l' };

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}


class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool at_end() const { return pos_ == bytes_.size(); }
  std::optional<uint64_t> u64() {
    if (bytes_.size() - pos_ < 8) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return v;
  }
  std::optional<std::string> str() {
    auto n = u64();
    if (!n || bytes_.size() - pos_ < *n) return std::nullopt;
    std::string s = bytes_.substr(pos_, *n);
    pos_ += *n;
    return s;
  }
  std::optional<char> byte() {
    if (at_end()) return std::nullopt;
    return bytes_[pos_++];
  }
  bool skip(std::string_view expected) {
    if (bytes_.compare(pos_, expected.size(), expected) != 0) return false;
    pos_ += expected.size();
    return true;
  }

 private:
  const std::string& bytes_;
  size_t pos_ = 0;
};

// A relative path that stays below its root when read lexically: no root, no "..", not empty.
bool is_contained(const fs::path& p) {
  if (p.empty() || p.is_absolute() || p.has_root_name()) return false;
  int depth = 0;
  for (const auto& part : p) {
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  return true;
}

// True if `p`, resolved through every link, lies outside `root` (canonical). A path that cannot
// be resolved (a loop of links) leads nowhere, as the system cannot follow it either.
bool leads_outside(const fs::path& p, const fs::path& root) {
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(p, ec);
  if (ec) return false;
  const fs::path rel = resolved.lexically_relative(root);
  return rel.empty() || *rel.begin() == "..";
}

// A link's target is checked as text when it is made, but it may pass through links made
// before or after it: beside a link "q" to ".", a link to "q/.." leaves the folder although
// "q/.." reads as inside. Once the entries are written, the links that lead outside `dest` are
// removed and refused.
std::optional<std::string> check_links(const Links& links, const fs::path& dest) {
  std::error_code ec;
  const fs::path root = fs::canonical(dest, ec);
  if (ec) return fmt::format("cannot resolve '{}': {}", dest.string(), ec.message());
  std::optional<std::string> refusal;
  std::vector<fs::path> escaping;
  for (const auto& [name, target] : links) {
    if (!leads_outside(dest / name, root)) continue;
    escaping.push_back(dest / name);
    if (!refusal) {
      refusal = fmt::format(
          "refused scene entry '{}': a link to '{}', which leads outside the scene folder "
          "through another link",
          name, target);
    }
  }
  for (const fs::path& link : escaping) fs::remove(link, ec);
  return refusal;
}

std::optional<std::string> read_file(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno));
  out.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return fmt::format("cannot read '{}'", path.string());
  return std::nullopt;
}

}  // namespace

ScenePackWriter::ScenePackWriter() : bytes_(kMagic) {}

void ScenePackWriter::add(char type, uint32_t mode, const std::string& path,
                          const std::string& data) {
  bytes_ += type;
  put_u64(bytes_, mode);
  put_u64(bytes_, path.size());
  bytes_ += path;
  put_u64(bytes_, data.size());
  bytes_ += data;
}

void ScenePackWriter::add_file(const std::string& path, const std::string& data, uint32_t mode) {
  add(static_cast<char>(EntryType::kFile), mode, path, data);
}

void ScenePackWriter::add_dir(const std::string& path, uint32_t mode) {
  add(static_cast<char>(EntryType::kDir), mode, path, {});
}

void ScenePackWriter::add_link(const std::string& path, const std::string& target) {
  add(static_cast<char>(EntryType::kLink), 0, path, target);
}

std::expected<ScenePack, std::string> pack_scene_dir(const fs::path& root, uint64_t limit_bytes) {
  ScenePack pack;
  ScenePackWriter writer;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return std::unexpected(fmt::format("cannot read the scene folder '{}': {}",
                                             root.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    const std::string rel = p.lexically_relative(root).generic_string();
    const auto status = it->symlink_status(ec);
    if (ec) break;
    const auto mode = static_cast<uint32_t>(status.permissions()) & 0755u;
    if (fs::is_symlink(status)) {
      writer.add_link(rel, fs::read_symlink(p, ec).string());
      if (ec) break;
    } else if (fs::is_directory(status)) {
      writer.add_dir(rel, mode);
    } else if (fs::is_regular_file(status)) {
      const uint64_t size = it->file_size(ec);
      if (ec) break;
      pack.file_bytes += size;
      ++pack.files;
      if (pack.file_bytes > limit_bytes) {
        return std::unexpected(fmt::format(
            "the scene folder '{}' holds more than {} MiB of files (at '{}'): put the scene in a "
            "folder of its own, choose a smaller one with --scene-dir, raise --scene-limit, or "
            "use --shared-dir if every node sees this folder",
            root.string(), limit_bytes >> 20, rel));
      }
      std::string data;
      if (auto err = read_file(p, data)) return std::unexpected(*err);
      writer.add_file(rel, data, mode);
    }
    // Sockets, FIFOs and devices are not scene files: skipped.
  }
  if (ec) {
    return std::unexpected(fmt::format("cannot read the scene folder '{}': {}", root.string(),
                                       ec.message()));
  }
  pack.bytes = writer.take();
  return pack;
}

namespace {

// Writes the entries of `bytes` below `dest` until the first refusal; `links` gets the name
// and target of every link made.
std::optional<std::string> unpack_entries(const std::string& bytes, const fs::path& dest,
                                          Links& links) {
  Reader in(bytes);
  if (!in.skip(kMagic)) return "the scene pack is damaged (no header)";
  std::error_code ec;
  while (!in.at_end()) {
    const auto type = in.byte();
    const auto mode = in.u64();
    const auto name = in.str();
    const auto data = in.str();
    if (!type || !mode || !name || !data) return "the scene pack is damaged (truncated)";
    const fs::path rel(*name);
    if (!is_contained(rel)) {
      return fmt::format("refused scene entry '{}': absolute or leaves the scene folder", *name);
    }
    // Never write through a link: every parent that exists must be a real directory.
    fs::path parent = dest;
    for (const auto& part : rel.parent_path()) {
      parent /= part;
      if (fs::is_symlink(fs::symlink_status(parent, ec))) {
        return fmt::format("refused scene entry '{}': its folder '{}' is a link", *name,
                           part.string());
      }
    }
    const fs::path target = dest / rel;
    if (fs::is_symlink(fs::symlink_status(target, ec))) {
      return fmt::format("refused scene entry '{}': it would be written through a link", *name);
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fmt::format("cannot create '{}': {}", target.parent_path().string(), ec.message());
    switch (static_cast<EntryType>(*type)) {
      case EntryType::kDir:
        fs::create_directories(target, ec);
        break;
      case EntryType::kFile: {
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        out.write(data->data(), static_cast<std::streamsize>(data->size()));
        out.close();
        if (!out) return fmt::format("cannot write '{}'", target.string());
        // What pack_scene_dir keeps: never setuid, setgid, sticky or writable by others.
        fs::permissions(target, static_cast<fs::perms>((*mode & 0755u) | 0600u), ec);
        break;
      }
      case EntryType::kLink: {
        const fs::path link_target(*data);
        if (link_target.is_absolute() || !is_contained(rel.parent_path() / link_target)) {
          return fmt::format("refused scene entry '{}': a link to '{}', outside the scene folder",
                             *name, *data);
        }
        fs::create_symlink(link_target, target, ec);
        if (!ec) links.emplace_back(*name, *data);
        break;
      }
      default:
        return fmt::format("the scene pack is damaged (entry '{}' of unknown type)", *name);
    }
    if (ec) return fmt::format("cannot create '{}': {}", target.string(), ec.message());
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> unpack_scene(const std::string& bytes, const fs::path& dest) {
  Links links;
  auto err = unpack_entries(bytes, dest, links);
  // After a refusal too: no link that leads outside is left behind.
  auto link_err = check_links(links, dest);
  if (!err) err = std::move(link_err);
  // Names in a damaged or hostile pack may hold any byte: the message stays one line.
  if (err) return one_line(*err);
  return std::nullopt;
}

}  // namespace taskdist
