// redis::detail list chunks — how a list's elements lie in its records: runs of consecutive
// elements, one record each (as Redis's quicklist keeps runs in listpacks), so that a push or a
// pop rewrites one small record instead of inserting or erasing a tree entry per element, and
// LRANGE reads a few records instead of one per element.
//
// A chunk: its element count (u32, big-endian), then each element framed by its length on both
// sides: a varint, the bytes, and the varint's bytes in reverse order (as listpack's back-length),
// so that the last element is found from the end without walking the others. A chunk takes
// another element at either end while it holds fewer than chunk_max_count and stays within
// chunk_max_bytes; an element larger than that has a chunk of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/detail/varint.hpp>
#include <kvstack/redis/layout.hpp>

namespace kvstack::inline v0::redis::detail {

inline constexpr std::uint32_t chunk_max_count = 128;
inline constexpr std::size_t chunk_max_bytes = 8192;
inline constexpr std::size_t chunk_header = 4;

/// Appends `element`, framed.
inline void put_framed(std::string& out, std::string_view element) {
  const std::size_t at = out.size();
  kvstack::detail::put_varint(element.size(), out);
  const std::size_t length = out.size() - at;
  out.append(element);
  for (std::size_t i = length; i-- > 0;) out.push_back(out[at + i]);
}

/// The elements of a chunk in order, as views into its bytes. ok() says whether what was read
/// is well formed; at the end, also that the count matched.
class ChunkReader {
 public:
  explicit ChunkReader(std::string_view chunk)
      : rest_(chunk.size() >= chunk_header ? chunk.substr(chunk_header) : std::string_view()),
        size_(chunk.size()), count_(chunk.size() >= chunk_header ? get_int<std::uint32_t>(chunk) : 0),
        bad_(chunk.size() < chunk_header) {}

  std::uint32_t count() const noexcept { return count_; }
  /// Where the next element's frame starts, from the start of the chunk.
  std::size_t offset() const noexcept { return size_ - rest_.size(); }
  /// The next element into `out`; false at the end, or at malformed bytes.
  bool next(std::string_view& out) {
    if (bad_ || read_ == count_) return false;
    const std::size_t before = rest_.size();
    if (!kvstack::detail::take_bytes(rest_, out)) return bad_ = true, false;
    const std::size_t back = before - rest_.size() - out.size();  // the front length's size, and the back one's
    if (rest_.size() < back) return bad_ = true, false;
    rest_.remove_prefix(back);
    ++read_;
    return true;
  }
  /// Nothing malformed so far, and once every element was read, nothing after them.
  bool ok() const noexcept { return !bad_ && (read_ < count_ || rest_.empty()); }

 private:
  std::string_view rest_;
  std::size_t size_;
  std::uint32_t count_;
  std::uint32_t read_ = 0;
  bool bad_;
};

/// The number of elements in a chunk (0 if it is too short to say).
inline std::uint32_t chunk_count(std::string_view chunk) { return ChunkReader(chunk).count(); }

/// Writes `n` as the count of `chunk`, which has its header.
inline void set_chunk_count(std::string& chunk, std::uint32_t n) {
  for (std::size_t i = chunk_header; i-- > 0; n >>= 8) chunk[i] = static_cast<char>(n & 0xff);
}

/// Whether `chunk` (empty: none yet) takes another element of `size` bytes.
inline bool chunk_has_room(std::string_view chunk, std::size_t size) {
  return chunk.empty() || (chunk_count(chunk) < chunk_max_count && chunk.size() + size + 20 <= chunk_max_bytes);
}

/// Adds `element` at the front or the back of `chunk` (empty: a new chunk).
inline void chunk_push(std::string& chunk, bool front, std::string_view element) {
  const std::uint32_t n = chunk.empty() ? 0 : chunk_count(chunk);
  if (chunk.empty()) chunk.assign(chunk_header, '\0');
  if (front) {
    std::string framed;
    put_framed(framed, element);
    chunk.insert(chunk_header, framed);
  } else {
    put_framed(chunk, element);
  }
  set_chunk_count(chunk, n + 1);
}

/// The first or last element of `chunk` and where its frame lies; nullopt if the chunk is empty
/// or its frame is malformed.
struct Framed {
  std::string_view element;
  std::size_t begin, end;
};
inline std::optional<Framed> end_element(std::string_view chunk, bool front) {
  if (chunk_count(chunk) == 0) return std::nullopt;
  if (front) {
    ChunkReader r(chunk);
    std::string_view e;
    if (!r.next(e) || !r.ok()) return std::nullopt;
    return Framed{e, chunk_header, r.offset()};
  }
  // The back length, read from the end, is a varint backwards.
  std::uint64_t n = 0;
  std::size_t at = chunk.size(), shift = 0;
  for (;; shift += 7) {
    if (at == chunk_header || shift > 63) return std::nullopt;
    const auto byte = static_cast<unsigned char>(chunk[--at]);
    n |= std::uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  const std::size_t length = chunk.size() - at;  // the back length's bytes; the front one has as many
  if (at - chunk_header < n + length) return std::nullopt;
  const std::size_t begin = at - n - length;
  std::string_view front_length = chunk.substr(begin, length);
  std::uint64_t front_n = 0;
  if (!kvstack::detail::take_varint(front_length, front_n) || front_n != n || !front_length.empty()) return std::nullopt;
  return Framed{chunk.substr(at - n, n), begin, chunk.size()};
}

/// Takes the element at the front or the back of `chunk` out; nullopt if the chunk is empty or
/// malformed.
inline std::optional<std::string> chunk_pop(std::string& chunk, bool front) {
  auto framed = end_element(chunk, front);
  if (!framed) return std::nullopt;
  std::string out(framed->element);
  const auto n = chunk_count(chunk);
  chunk.erase(framed->begin, framed->end - framed->begin);
  set_chunk_count(chunk, n - 1);
  return out;
}

/// A chunk of `elements`.
template <class Range>
std::string make_chunk(const Range& elements) {
  std::string chunk(chunk_header, '\0');
  std::uint32_t n = 0;
  for (std::string_view e : elements) {
    put_framed(chunk, e);
    ++n;
  }
  set_chunk_count(chunk, n);
  return chunk;
}

/// The elements of `chunk` as views into it; nullopt if it is malformed.
inline std::optional<std::vector<std::string_view>> chunk_elements(std::string_view chunk) {
  ChunkReader r(chunk);
  std::vector<std::string_view> out;
  out.reserve(r.count());
  for (std::string_view e; r.next(e);) out.push_back(e);
  if (!r.ok() || out.size() != r.count()) return std::nullopt;
  return out;
}

}  // namespace kvstack::redis::detail
