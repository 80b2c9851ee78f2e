// kvstack::redis::glob_match — the glob patterns of Redis's KEYS, SCAN MATCH, HSCAN and
// friends: `*`, `?`, `[abc]`, `[^a-z]`, and `\` to take the next character literally.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

namespace kvstack::inline v0::redis {

namespace detail {
inline unsigned char fold(unsigned char c, bool nocase) noexcept {
  return nocase && c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// Matches `[...]` at the start of `p` (just after the '[') against `c`; advances `p` past the
// closing ']' (an unterminated set ends with the pattern, as in Redis).
inline bool match_set(std::string_view& p, unsigned char c, bool nocase) noexcept {
  bool negate = !p.empty() && p[0] == '^';
  if (negate) p.remove_prefix(1);
  bool found = false;
  while (!p.empty() && p[0] != ']') {
    if (p[0] == '\\' && p.size() >= 2) {
      found |= fold(static_cast<unsigned char>(p[1]), nocase) == fold(c, nocase);
      p.remove_prefix(2);
    } else if (p.size() >= 3 && p[1] == '-') {
      unsigned char lo = fold(static_cast<unsigned char>(p[0]), nocase), hi = fold(static_cast<unsigned char>(p[2]), nocase);
      if (lo > hi) std::swap(lo, hi);
      const unsigned char x = fold(c, nocase);
      found |= x >= lo && x <= hi;
      p.remove_prefix(3);
    } else {
      found |= fold(static_cast<unsigned char>(p[0]), nocase) == fold(c, nocase);
      p.remove_prefix(1);
    }
  }
  if (!p.empty()) p.remove_prefix(1);  // the ']'
  return found != negate;
}
}  // namespace detail

/// True if `s` matches the Redis glob `pattern` (bytes; `nocase` folds ASCII letters).
inline bool glob_match(std::string_view pattern, std::string_view s, bool nocase = false) noexcept {
  // Backtracking over the last `*` only: linear in practice, never exponential.
  std::string_view p = pattern, star_p, star_s;
  bool have_star = false;
  while (true) {
    if (!p.empty() && p[0] == '*') {
      while (!p.empty() && p[0] == '*') p.remove_prefix(1);
      if (p.empty()) return true;
      star_p = p;
      star_s = s;
      have_star = true;
      continue;
    }
    if (s.empty()) return p.empty();
    bool ok = false;
    std::string_view rest = p;
    if (!rest.empty()) {
      const unsigned char c = static_cast<unsigned char>(s[0]);
      switch (rest[0]) {
        case '?':
          ok = true;
          rest.remove_prefix(1);
          break;
        case '[':
          rest.remove_prefix(1);
          ok = detail::match_set(rest, c, nocase);
          break;
        case '\\':
          if (rest.size() >= 2) rest.remove_prefix(1);
          [[fallthrough]];
        default:
          ok = detail::fold(static_cast<unsigned char>(rest[0]), nocase) == detail::fold(c, nocase);
          rest.remove_prefix(1);
      }
    }
    if (ok) {
      p = rest;
      s.remove_prefix(1);
    } else if (have_star && !star_s.empty()) {
      star_s.remove_prefix(1);  // let the last `*` take one more character
      p = star_p;
      s = star_s;
    } else {
      return false;
    }
  }
}

}  // namespace kvstack::redis
