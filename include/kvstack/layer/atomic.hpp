// kvstack::compare_and_swap and kvstack::increment — read-modify-write on any Backend, each one
// transaction, so concurrent callers never lose an update.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// Sets `key` to `desired` if it currently holds `expected`, atomically; true if it did.
/// Either may be std::nullopt, meaning "absent": `compare_and_swap(db, k, std::nullopt, v)`
/// creates `k` only if it does not exist, `compare_and_swap(db, k, v, std::nullopt)` erases it
/// only if it still holds `v`.
template <Backend B>
Result<bool> compare_and_swap(B& db, std::string_view key, std::optional<std::string_view> expected,
                              std::optional<std::string_view> desired) {
  return db.transact([&](auto& tx) -> Result<bool> {
    bool matches = false;
    auto found = tx.get(key, [&](std::string_view current) { matches = expected && current == *expected; });
    if (!found) return found.error();
    if (found.value() ? !matches : expected.has_value()) return false;
    if (desired) {
      if (auto put = tx.put(key, *desired); !put) return put.error();
    } else if (found.value()) {
      if (auto erased = tx.erase(key); !erased) return erased;
    }
    return true;
  });
}

namespace detail {
/// The value of a decimal 64-bit integer ("-12", as Redis stores counters), or empty if `s` is
/// anything else (spaces, '+', leading zeros, out of range).
inline std::optional<std::int64_t> parse_int64(std::string_view s) {
  std::int64_t v = 0;
  const std::size_t digits_at = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == digits_at || (s[digits_at] == '0' && s.size() > digits_at + 1)) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace detail

/// Adds `delta` to the integer stored at `key` (absent counts as 0) and returns the new value,
/// atomically. Values are decimal text, as Redis's INCRBY keeps them. A value that is not a
/// 64-bit decimal integer is errc::wrong_type; a result outside int64 is errc::invalid_argument
/// and changes nothing.
template <Backend B>
Result<std::int64_t> increment(B& db, std::string_view key, std::int64_t delta = 1) {
  return db.transact([&](auto& tx) -> Result<std::int64_t> {
    std::optional<std::int64_t> current = 0;
    std::size_t size = 0;
    auto found = tx.get(key, [&](std::string_view v) {
      current = detail::parse_int64(v);
      size = v.size();
    });
    if (!found) return found.error();
    if (!current)
      return Error{errc::wrong_type, "increment: the value of " + std::to_string(size) +
                                         " bytes at this key is not a decimal 64-bit integer"};
    std::int64_t next = 0;
    if (__builtin_add_overflow(*current, delta, &next))
      return Error{errc::invalid_argument, "increment: " + std::to_string(*current) + " + " + std::to_string(delta) +
                                               " overflows a 64-bit integer"};
    char buf[24];
    const char* end = std::to_chars(buf, buf + sizeof(buf), next).ptr;
    if (auto put = tx.put(key, std::string_view(buf, static_cast<std::size_t>(end - buf))); !put) return put.error();
    return next;
  });
}

}  // namespace kvstack
