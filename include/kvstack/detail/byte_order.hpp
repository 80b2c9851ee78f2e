// detail::compare_bytes and detail::ByteLess — unsigned byte order of keys, inline: kvstack's
// keys are short and share long prefixes, where a call to memcmp costs more than the comparing.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace kvstack::inline v0::detail {

/// <0, 0 or >0 as `a` sorts before, with or after `b` in unsigned byte order (as memcmp, then
/// the shorter first): 8 bytes at a time.
inline int compare_bytes(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) {
      if constexpr (std::endian::native == std::endian::little) {
        x = __builtin_bswap64(x);
        y = __builtin_bswap64(y);
      }
      return x < y ? -1 : 1;
    }
  }
  for (; i < n; ++i)
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

/// A transparent `less` in unsigned byte order, for ordered containers of keys.
struct ByteLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return compare_bytes(a, b) < 0; }
};

}  // namespace kvstack::detail
