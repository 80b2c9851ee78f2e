// detail: LEB128 varints and varint-length-prefixed bytes, shared by the value serializer, the
// snapshot file and LMDB's long-key groups.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvstack::inline v0::detail {

inline void put_varint(std::uint64_t v, std::string& out) {
  char buf[10];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    v >>= 7;
  } while (v);
  out.append(buf, n);
}

/// Reads a varint from the front of `in`; false if it is truncated or overflows 64 bits.
inline bool take_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    v |= std::uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

/// Reads a varint length and that many bytes from the front of `in` into `out` (a view into
/// `in`); false if either is cut short.
inline bool take_bytes(std::string_view& in, std::string_view& out) {
  std::uint64_t n;
  if (!take_varint(in, n) || n > in.size()) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

}  // namespace kvstack::detail
