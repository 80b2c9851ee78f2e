// detail: the file a MemoryBackend checkpoint writes and loads — entries in key order, a count
// and a checksum, written to a temporary file, synced, then renamed into place.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ranges>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <kvstack/core/checkpoint.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>

namespace kvstack::inline v0::detail {

// Layout: magic, then per entry LEB128 key length, key, LEB128 value length, value; then the
// entry count (8 bytes LE) and the FNV-1a 64 hash of everything before it (8 bytes LE).
inline constexpr std::string_view snapshot_magic = "kvstack memory snapshot v1\n";
inline constexpr const char* snapshot_name = "memory.snapshot";

struct Fnv1a {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  }
};

inline Error io_failure(const std::string& what, const std::filesystem::path& path) {
  return {errc::io_error, what + " " + path.string() + ": " + std::strerror(errno)};
}

/// Writes `dir/memory.snapshot` from `next(key, value) -> bool` (false when done). `dir` must
/// not exist or be empty.
template <class Next>
Result<void> write_snapshot(const std::filesystem::path& dir, Next&& next) {
  if (auto ready = prepare_checkpoint_dir(dir); !ready) return ready;
  const auto tmp = dir / (std::string(snapshot_name) + ".tmp");
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_failure("cannot create", tmp);
  Fnv1a hash;
  bool ok = true;
  auto put = [&](std::string_view s) {
    hash.add(s);
    ok = ok && std::fwrite(s.data(), 1, s.size(), f) == s.size();
  };
  auto put_length = [&](std::size_t n) {
    std::string varint;
    put_varint(n, varint);
    put(varint);
  };
  auto put_u64 = [&](std::uint64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
    put({buf, 8});
  };
  put(snapshot_magic);
  std::uint64_t count = 0;
  std::string_view key, value;
  while (next(key, value)) {
    put_length(key.size());
    put(key);
    put_length(value.size());
    put(value);
    ++count;
  }
  put_u64(count);
  put_u64(hash.h);
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    auto err = io_failure("cannot write", tmp);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return err;
  }
  if (std::rename(tmp.c_str(), (dir / snapshot_name).c_str()) != 0) return io_failure("cannot rename", tmp);
  if (int d = ::open(dir.c_str(), O_RDONLY); d >= 0) {  // make the rename durable
    ::fsync(d);
    ::close(d);
  }
  return success();
}

/// Writes `dir/memory.snapshot` from the entries of `scan` (a ScanRange); the scan's error, if
/// it stopped early, fails the write.
template <class Scan>
Result<void> write_scan_snapshot(const std::filesystem::path& dir, Scan& scan) {
  auto it = std::ranges::begin(scan);
  auto wrote = write_snapshot(dir, [&](std::string_view& key, std::string_view& value) {
    if (it == std::ranges::end(scan)) return false;
    KeyValue entry = *it;
    key = entry.key;
    value = entry.value;
    ++it;
    return true;
  });
  if (!wrote) return wrote;
  return scan.status();
}

/// Reads `dir/memory.snapshot`, calling `add(key, value)` per entry, after checking the magic,
/// the checksum and the count.
template <class Add>
Result<void> read_snapshot(const std::filesystem::path& dir, Add&& add) {
  const auto file = dir / snapshot_name;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return io_failure("cannot open", file);
  std::string data;
  char buf[1 << 16];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) data.append(buf, n);
  bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return io_failure("cannot read", file);
  auto corrupt = [&](const char* why) { return Error{errc::corruption, file.string() + ": " + why}; };
  std::string_view in = data;
  if (!in.starts_with(snapshot_magic)) return corrupt("not a kvstack memory snapshot");
  if (in.size() < snapshot_magic.size() + 16) return corrupt("truncated");
  auto u64_at = [&](std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
    return v;
  };
  Fnv1a hash;
  hash.add(in.substr(0, in.size() - 8));
  if (hash.h != u64_at(in.size() - 8)) return corrupt("checksum mismatch");
  const std::uint64_t count = u64_at(in.size() - 16);
  std::string_view body = in.substr(snapshot_magic.size(), in.size() - snapshot_magic.size() - 16);
  std::uint64_t seen = 0;
  std::string_view key, value;
  while (!body.empty()) {
    if (!take_bytes(body, key) || !take_bytes(body, value)) return corrupt("malformed entry");
    add(key, value);
    ++seen;
  }
  if (seen != count) return corrupt("entry count mismatch");
  return success();
}

}  // namespace kvstack::detail
