#include "exec/scene_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <system_error>
#include <vector>

#include "core/one_line.h"

namespace taskdist {
namespace {

namespace fs = std::filesystem;

using Links = std::vector<std::pair<std::string, std::string>>;  // name, target

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct DiskFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// libarchive's sentence for the last failure of `a` (it may have none).
std::string error_of(archive* a) {
  const char* text = archive_error_string(a);
  std::string s = text != nullptr && *text != '\0' ? text : "libarchive gave no reason";
  if (s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

// True if a libarchive call did what it was asked: ARCHIVE_OK, or ARCHIVE_WARN (done, with a
// note). Everything else fails, ARCHIVE_RETRY included: the tar reader answers it for a damaged
// header it skipped.
bool done(int status) { return status == ARCHIVE_OK || status == ARCHIVE_WARN; }

// A link entry's target ("" if it has none).
std::string link_target_of(archive_entry* entry) {
  const char* text = archive_entry_symlink(entry);
  if (text == nullptr) text = archive_entry_symlink_utf8(entry);
  return text != nullptr ? text : "";
}

// The write callback of ScenePackWriter: the archive grows in memory.
la_ssize_t append_to(archive* /*a*/, void* bytes, const void* buffer, size_t size) {
  static_cast<std::string*>(bytes)->append(static_cast<const char*>(buffer), size);
  return static_cast<la_ssize_t>(size);
}

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
// "q/.." reads as inside. libarchive never looks at a link's target, so once the entries are
// written, the links that lead outside `root` are removed and refused here.
std::expected<void, Error> check_links(const Links& links, const fs::path& root) {
  std::expected<void, Error> refusal;
  std::vector<fs::path> escaping;
  for (const auto& [name, target] : links) {
    if (!leads_outside(root / name, root)) continue;
    escaping.push_back(root / name);
    if (refusal) {
      refusal = fail(fmt::format(
          "refused scene entry '{}': a link to '{}', which leads outside the scene folder "
          "through another link",
          name, target));
    }
  }
  std::error_code ec;
  for (const fs::path& link : escaping) fs::remove(link, ec);
  return refusal;
}

std::expected<void, Error> read_file(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(fmt::format("cannot read '{}': {}", path.string(), std::strerror(errno)));
  }
  out.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return fail(fmt::format("cannot read '{}'", path.string()));
  return {};
}

}  // namespace

void ScenePackWriter::Free::operator()(::archive* a) const { archive_write_free(a); }

// The pack is not compressed: a scene folder is small (the sample scenes are a few KiB of text;
// image maps are PNG or JPEG, compressed already; --scene-limit is 64 MiB by default) and is
// shipped once per job, while tar as it is lets unpack_scene see exactly where a damaged pack
// ends, and lets the fuzz test mutate the tar headers themselves instead of a gzip or zstd
// stream. libarchive reads and writes both, should that change.
ScenePackWriter::ScenePackWriter() : archive_(archive_write_new()) {
  CHECK(archive_ != nullptr);
  // pax as libarchive restricts it: a plain ustar header per entry, and a pax extended header
  // only for what ustar cannot hold (a long name or link target, a large file, a name that is
  // not UTF-8, which goes in as raw bytes).
  CHECK(archive_write_set_format_pax_restricted(archive_.get()) == ARCHIVE_OK);
  // No blocking: the archive ends right after its end-of-archive marker (two zero blocks of 512
  // bytes) instead of being padded to tar's 10 KiB records, so that unpack_scene can tell a pack
  // cut short from a whole one.
  CHECK(archive_write_set_bytes_per_block(archive_.get(), 0) == ARCHIVE_OK);
  CHECK(archive_write_open2(archive_.get(), &bytes_, nullptr, append_to, nullptr, nullptr) ==
        ARCHIVE_OK);
}

ScenePackWriter::~ScenePackWriter() = default;

void ScenePackWriter::add(unsigned type, uint32_t mode, const std::string& path,
                          const std::string& data, const std::string& link_target) {
  CHECK(archive_ != nullptr);  // nothing is added after take()
  const std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  CHECK(entry != nullptr);
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), static_cast<mode_t>(mode));
  if (type == AE_IFLNK) archive_entry_set_symlink(entry.get(), link_target.c_str());
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
  // ARCHIVE_WARN: written, with a note (a name that is not UTF-8 is stored as raw bytes).
  bool ok = done(archive_write_header(archive_.get(), entry.get()));
  if (ok && !data.empty()) {
    ok = archive_write_data(archive_.get(), data.data(), data.size()) ==
         static_cast<la_ssize_t>(data.size());
  }
  if (!ok && !error_) {
    error_ = Error(one_line(fmt::format("cannot pack '{}': {}", path, error_of(archive_.get()))));
  }
}

void ScenePackWriter::add_file(const std::string& path, const std::string& data, uint32_t mode) {
  add(AE_IFREG, mode, path, data, {});
}

void ScenePackWriter::add_dir(const std::string& path, uint32_t mode) {
  add(AE_IFDIR, mode, path, {}, {});
}

void ScenePackWriter::add_link(const std::string& path, const std::string& target) {
  add(AE_IFLNK, 0777, path, {}, target);
}

std::string ScenePackWriter::take() {
  CHECK(archive_ != nullptr);  // taken once
  if (archive_write_close(archive_.get()) != ARCHIVE_OK && !error_) {
    error_ = Error(fmt::format("cannot end the scene pack: {}", error_of(archive_.get())));
  }
  archive_.reset();
  return std::move(bytes_);
}

std::expected<ScenePack, Error> pack_scene_dir(const fs::path& root, uint64_t limit_bytes) {
  const auto unreadable = [&](const std::error_code& ec) {
    return std::unexpected(
        Error(fmt::format("cannot read the scene folder '{}': {}", root.string(), ec.message())));
  };
  ScenePack pack;
  ScenePackWriter writer;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return unreadable(ec);
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
        return std::unexpected(Error(
            root.string(),
            fmt::format("the scene folder holds more than {} MiB of files ('{}' goes past it)",
                        limit_bytes >> 20, rel),
            "put the scene in a folder of its own, choose a smaller one with --scene-dir, raise "
            "--scene-limit, or use --shared-dir if every node sees this folder"));
      }
      std::string data;
      if (auto read = read_file(p, data); !read) return std::unexpected(read.error());
      writer.add_file(rel, data, mode);
    }
    // Sockets, FIFOs and devices are not scene files: skipped.
  }
  if (ec) return unreadable(ec);
  pack.bytes = writer.take();
  if (writer.error()) {
    return std::unexpected(
        writer.error()->within(fmt::format("the scene folder '{}'", root.string())));
  }
  return pack;
}

namespace {

// What libarchive checks on every entry it writes (archive_write_disk(3)):
// - ARCHIVE_EXTRACT_SECURE_NODOTDOT: a name with a ".." element is refused;
// - ARCHIVE_EXTRACT_SECURE_SYMLINKS: a name whose folders include a link on disk is refused
//   (libarchive 3.6 walks the name with openat/fstatat, without chdir). A link at the last
//   element libarchive would replace; check_entry refuses that case instead, as taskdist always
//   has;
// - ARCHIVE_EXTRACT_PERM: the modes, clamped below, are set as given instead of through the
//   umask (folders libarchive makes for a name whose folder is not in the pack still follow it).
// Not given, so never restored: owners (_OWNER), times (_TIME), ACLs, extended attributes, file
// flags and Mac metadata.
//
// Where the entries go: libarchive writes an entry at its name, read from the process's current
// directory. That directory is shared by every thread, and a worker has several (heartbeats), so
// unpack_scene never changes it. Each name, once checked, is prefixed with the canonical path of
// `dest` instead (no links and no "..": SECURE_SYMLINKS walks it without objection). The names
// libarchive sees are then all absolute, so ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS cannot be
// given; check_entry makes the same test (a name starting with '/') on the name as packed.
//
// libarchive 3.6 reads the umask by setting it (umask(0), then back) at each entry, for the
// whole process; no other thread of a worker creates files while a scene is unpacked.
constexpr int kExtractFlags =
    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_PERM;

// Refuses an entry, saying why, before libarchive writes it: the cases libarchive's flags
// do not cover, or cover only for relative names. libarchive never looks at a link's target.
std::expected<void, Error> check_entry(archive_entry* entry, const std::string& name,
                                       const fs::path& root) {
  if (name.empty()) return fail("an empty name");
  if (name.front() == '/') return fail("an absolute path");
  const fs::path rel(name);
  if (std::all_of(rel.begin(), rel.end(),
                  [](const fs::path& part) { return part.empty() || part == "."; })) {
    return fail("the name of the scene folder itself");
  }
  // Longer names make libarchive chdir() through the folders (archive_write_disk(3), BUGS),
  // which would move every thread of the process.
  if (root.native().size() + 1 + name.size() >= PATH_MAX) {
    return fail("a name too long to unpack");
  }
  if (archive_entry_hardlink(entry) != nullptr)
    return fail("a hard link, which a scene pack never holds");
  const auto type = archive_entry_filetype(entry);
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
    return fail("a device, FIFO or socket, which a scene pack never holds");
  }
  // Its size on disk may be far more than the pack holds.
  if (archive_entry_sparse_count(entry) > 0) {
    return fail("a sparse file, which a scene pack never holds");
  }
  if (type == AE_IFLNK) {
    const fs::path target(link_target_of(entry));
    if (target.empty()) return fail("a link to nothing");
    if (target.is_absolute() || !is_contained(rel.parent_path() / target)) {
      return fail(fmt::format("a link to '{}', outside the scene folder", target.string()));
    }
  }
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(root / rel, ec))) {
    return fail("a link of the pack has that name, and an entry is never written over a link");
  }
  return {};
}

// `message` from libarchive with `root`'s path taken out: names as they are in the pack.
std::string without_root(std::string message, const fs::path& root) {
  const std::string prefix = root.string() + "/";
  for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix, at)) {
    message.erase(at, prefix.size());
  }
  return message;
}

// Why the disk writer failed on entry `name`: one of its refusals (errno 0 or
// ARCHIVE_ERRNO_MISC), or a system error (a full disk, a permission).
std::string disk_failure(archive* disk, const std::string& name, const fs::path& root) {
  const std::string why = without_root(error_of(disk), root);
  if (archive_errno(disk) > 0) return fmt::format("cannot unpack scene entry '{}': {}", name, why);
  return fmt::format("refused scene entry '{}': {}", name, why);
}

std::string damaged(archive* in, const std::string& name) {
  if (name.empty()) return fmt::format("the scene pack is damaged: {}", error_of(in));
  return fmt::format("the scene pack is damaged at entry '{}': {}", name, error_of(in));
}

// The end of a tar archive is two zero blocks. libarchive stops at the first one and takes the
// second only if it is whole; a pack must end right after them.
std::expected<void, Error> check_end(const std::string& bytes, la_int64_t consumed) {
  constexpr size_t kEndMarker = 1024;
  const auto end = static_cast<size_t>(std::max<la_int64_t>(consumed, 0));
  const auto all_zero = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '\0'; });
  };
  if (end < bytes.size()) {
    const std::string_view rest = std::string_view(bytes).substr(end);
    if (rest.size() < kEndMarker / 2 && all_zero(rest)) {
      return fail(
          "the scene pack is damaged: truncated (its end-of-archive marker is cut short)");
    }
    return fail(fmt::format(
        "the scene pack is damaged: {} bytes after its end-of-archive marker", rest.size()));
  }
  if (end < kEndMarker || !all_zero(std::string_view(bytes).substr(end - kEndMarker))) {
    return fail("the scene pack is damaged: truncated (it has no end-of-archive marker)");
  }
  return {};
}

// Writes the entries of `bytes` below `root` (canonical) until the first refusal; `links` gets
// the name and target of every link made.
std::expected<void, Error> unpack_entries(const std::string& bytes, const fs::path& root,
                                          Links& links) {
  const std::unique_ptr<archive, ReadFree> in(archive_read_new());
  const std::unique_ptr<archive, DiskFree> disk(archive_write_disk_new());
  CHECK(in != nullptr && disk != nullptr);
  CHECK(archive_read_support_format_tar(in.get()) == ARCHIVE_OK);  // ustar, pax, GNU tar
  CHECK(archive_write_disk_set_options(disk.get(), kExtractFlags) == ARCHIVE_OK);
  if (archive_read_open_memory(in.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return fail(damaged(in.get(), {}));
  }
  while (true) {
    archive_entry* entry = nullptr;
    const int next = archive_read_next_header(in.get(), &entry);
    if (next == ARCHIVE_EOF) break;
    if (!done(next)) return fail(damaged(in.get(), {}));
    const char* text = archive_entry_pathname(entry);
    if (text == nullptr) text = archive_entry_pathname_utf8(entry);
    if (text == nullptr) return fail("the scene pack is damaged: an entry's name cannot be read");
    std::string name = text;
    while (name.size() > 1 && name.back() == '/') name.pop_back();  // "inc/": a folder
    if (auto allowed = check_entry(entry, name, root); !allowed) {
      return fail(fmt::format("refused scene entry '{}': {}", name, allowed.error()));
    }
    // What pack_scene_dir keeps: never setuid, setgid, sticky or writable by others.
    const auto perm = archive_entry_perm(entry) & 0755;
    if (archive_entry_filetype(entry) == AE_IFREG) archive_entry_set_perm(entry, perm | 0600);
    if (archive_entry_filetype(entry) == AE_IFDIR) archive_entry_set_perm(entry, perm | 0700);
    archive_entry_set_pathname(entry, (root / name).c_str());
    if (!done(archive_write_header(disk.get(), entry))) {
      return fail(disk_failure(disk.get(), name, root));
    }
    while (true) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int read = archive_read_data_block(in.get(), &block, &size, &offset);
      if (read == ARCHIVE_EOF) break;
      if (!done(read)) return fail(damaged(in.get(), name));
      // ARCHIVE_OK in libarchive 3, the bytes written in 4: only a negative status fails.
      const la_ssize_t wrote = archive_write_data_block(disk.get(), block, size, offset);
      if (wrote < 0 && !done(static_cast<int>(wrote))) {
        return fail(disk_failure(disk.get(), name, root));
      }
    }
    if (!done(archive_write_finish_entry(disk.get()))) {
      return fail(disk_failure(disk.get(), name, root));
    }
    if (archive_entry_filetype(entry) == AE_IFLNK) links.emplace_back(name, link_target_of(entry));
  }
  // Sets the folders' modes, which libarchive leaves until the end.
  if (!done(archive_write_close(disk.get()))) {
    return fail(
        fmt::format("cannot unpack the scene: {}", without_root(error_of(disk.get()), root)));
  }
  return check_end(bytes, archive_filter_bytes(in.get(), 0));
}

}  // namespace

std::expected<void, Error> unpack_scene(const std::string& bytes, const fs::path& dest) {
  std::error_code ec;
  const fs::path root = fs::canonical(dest, ec);
  if (ec) {
    return std::unexpected(
        Error(fmt::format("cannot unpack the scene into '{}': {}", dest.string(), ec.message())));
  }
  Links links;
  auto unpacked = unpack_entries(bytes, root, links);
  // After a refusal too: no link that leads outside is left behind.
  auto links_inside = check_links(links, root);
  if (unpacked) unpacked = std::move(links_inside);
  // Names in a damaged or hostile pack may hold any byte: the message stays one line.
  if (!unpacked) return std::unexpected(Error(one_line(unpacked.error().message())));
  return {};
}

}  // namespace taskdist
