// How Redis's data model lies in a Backend: the key types and the records' byte layout.
//
// Layout in B (integers big-endian, so that they sort as numbers):
//   M db:u32 key            -> metadata: format (1; lists 2), type, expiry ms (0: none), then
//                              string: the value; collection: version u64, size i64, head i64,
//                              and for a list, tail i64
//   E version:u64 sub       -> one element (hash: field -> value; set: member -> "";
//                              zset: 'm' member -> score, 's' score member -> ""), or for a
//                              list a chunk of elements: chunk number i64 -> chunk, numbers
//                              head..tail (list_chunk.hpp)
//   G version:u64           -> "": a deleted collection whose elements the sweep removes
//   F db:u32                -> "": a flushed database whose keys the sweep removes
//   X deadline:i64 db key   -> "": the expiry index the sweep walks, earliest first
//   V                       -> the last version given out (every new collection takes the next,
//                              so a key recreated after deletion never sees old elements)
//   D                       -> logical database -> physical id, and the next free id: FLUSHDB
//                              and SWAPDB change this record only (O(1)); the sweep reclaims
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <kvstack/codec/key.hpp>

namespace kvstack::inline v0::redis {

enum class Type : std::uint8_t { string = 1, list, hash, set, zset };

inline std::string_view type_name(Type t) {
  constexpr std::string_view names[] = {"none", "string", "list", "hash", "set", "zset"};
  return names[static_cast<int>(t)];
}

namespace detail {
inline constexpr std::uint8_t format_version = 1;
/// Lists are format 2: their elements in chunks (list_chunk.hpp). Format 1 kept one element per
/// record, and is not read.
inline constexpr std::uint8_t list_format_version = 2;
inline constexpr std::uint8_t format_of(Type t) { return t == Type::list ? list_format_version : format_version; }

/// Fixed-width big-endian integers, signed ones with the sign bit flipped, so that they sort as
/// numbers: kvstack's key codec (codec/key.hpp) for integers.
template <class T>
void put_int(std::string& out, T v) {
  KeyCodec<T>::encode(v, out);
}
/// The integer put_int wrote at `at` of `s` (0 if `s` is too short: callers check sizes).
template <class T>
T get_int(std::string_view s, std::size_t at = 0) {
  T v{};
  s.remove_prefix(std::min(at, s.size()));
  KeyCodec<T>::decode(s, v);
  return v;
}
inline void put_double(std::string& out, double d) {
  if (d == 0) d = 0;  // -0 and 0 are one score
  auto bits = std::bit_cast<std::uint64_t>(d);
  put_int<std::uint64_t>(out, bits >> 63 ? ~bits : bits | (1ull << 63));
}
inline double get_double(std::string_view s, std::size_t at = 0) {
  auto bits = get_int<std::uint64_t>(s, at);
  return std::bit_cast<double>(bits >> 63 ? bits & ~(1ull << 63) : ~bits);
}

inline std::string meta_key(std::uint32_t db, std::string_view key) {
  std::string k;
  k.reserve(5 + key.size());
  k.push_back('M');
  put_int<std::uint32_t>(k, db);
  k.append(key);
  return k;
}
/// (`room`: bytes to reserve for what the caller appends.)
inline std::string version_key(char tag, std::uint64_t version, std::size_t room = 0) {
  std::string k;
  k.reserve(9 + room);
  k.push_back(tag);
  put_int<std::uint64_t>(k, version);
  return k;
}
inline std::string expiry_key(std::int64_t deadline, std::uint32_t db, std::string_view key) {
  std::string k(1, 'X');
  put_int<std::int64_t>(k, deadline);
  put_int<std::uint32_t>(k, db);
  k.append(key);
  return k;
}
}  // namespace detail

}  // namespace kvstack::redis
