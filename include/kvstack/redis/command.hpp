// What the command headers share: type checks, expiry arguments, Redis's index arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <kvstack/redis/datastore.hpp>
#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis::detail {

/// `m` exists with a type other than `t`.
inline bool wrong_type(const std::optional<Meta>& m, Type t) { return m && m->type != t; }

inline Reply invalid_expire(std::string_view command) {
  return reply::error("ERR invalid expire time in '" + ascii_lower(command) + "' command");
}

/// The deadline (ms) for an expiry argument in `unit_ms` (1000 for seconds), relative to `now`
/// unless `absolute`. Errors as Redis: not an integer; out of range (or, for relative times,
/// not positive when `positive`) -> invalid expire time.
inline std::optional<Reply> deadline(std::string_view arg, std::int64_t unit_ms, bool absolute, bool positive,
                                     std::int64_t now, std::string_view command, std::int64_t& out) {
  auto v = parse_integer(arg);
  if (!v) return reply::not_integer();
  std::int64_t ms = 0;
  if ((positive && *v <= 0) || __builtin_mul_overflow(*v, unit_ms, &ms)) return invalid_expire(command);
  if (!absolute && __builtin_add_overflow(ms, now, &ms)) return invalid_expire(command);
  out = ms;
  return std::nullopt;
}

/// Redis's start/stop index pair over `size` elements, negative counting from the end; false when
/// the range is empty, otherwise [start, stop] clamped inside [0, size).
inline bool clamp_range(std::int64_t& start, std::int64_t& stop, std::int64_t size) {
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return false;
  if (stop >= size) stop = size - 1;
  return true;
}

/// The optional count of LPOP, RPOP, SPOP, ZPOPMIN, ZPOPMAX (a[2]): nullopt when absent; an
/// error reply when malformed.
inline std::optional<Reply> pop_count(Args a, std::optional<std::int64_t>& count) {
  if (a.size() > 3) return reply::syntax();
  if (a.size() == 3) {
    count = parse_integer(a[2]);
    if (!count || *count < 0) return reply::must_be_positive();
  }
  return std::nullopt;
}

/// HLEN, SCARD, ZCARD, LLEN: the size of the collection at a[1] (0 when absent).
template <class C>
Reply size_of(C& c, Args a, Type t) {
  auto m = c.find(a[1]);
  if (wrong_type(m, t)) return reply::wrongtype();
  return reply::integer(m ? m->size : 0);
}

/// HEXISTS, SISMEMBER: whether the collection at a[1] has the element a[2].
template <class C>
Reply has_element(C& c, Args a, Type t) {
  auto m = c.find(a[1]);
  if (wrong_type(m, t)) return reply::wrongtype();
  return reply::integer(m && c.elem(*m, a[2]) ? 1 : 0);
}

/// HDEL, SREM: removes the elements a[2...] from the collection at a[1]; deletes it when emptied.
template <class C>
Reply remove_elements(C& c, Args a, Type t) {
  auto m = c.find(a[1]);
  if (wrong_type(m, t)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  std::int64_t removed = 0;
  for (std::size_t i = 2; i < a.size(); ++i) removed += c.erase_elem(*m, a[i]);
  if (removed == 0) return reply::integer(0);
  m->size -= removed;
  c.save_or_drop(*m);
  return reply::integer(removed);
}

/// The options of SCAN, HSCAN, SSCAN, ZSCAN.
struct ScanOptions {
  std::uint64_t cursor = 0;
  std::optional<std::string> match;
  std::int64_t count = 10;
  std::optional<std::string> type;  ///< SCAN only
  bool novalues = false;            ///< HSCAN only
};

inline std::optional<Reply> parse_scan(Args a, std::size_t cursor_at, ScanOptions& o, bool keyspace) {
  const auto& cur = a[cursor_at];
  char* end = nullptr;
  std::string z(cur);
  o.cursor = std::strtoull(z.c_str(), &end, 10);
  if (z.empty() || end != z.c_str() + z.size() || z[0] == '-') return reply::error("ERR invalid cursor");
  for (std::size_t i = cursor_at + 1; i < a.size(); ++i) {
    bool more = i + 1 < a.size();
    if (iequals(a[i], "MATCH") && more) {
      o.match = a[++i];
    } else if (iequals(a[i], "COUNT") && more) {
      auto n = parse_integer(a[++i]);
      if (!n) return reply::not_integer();
      if (*n < 1) return reply::syntax();
      o.count = *n;
    } else if (keyspace && iequals(a[i], "TYPE") && more) {
      o.type = a[++i];
    } else if (!keyspace && iequals(a[i], "NOVALUES")) {
      o.novalues = true;
    } else {
      return reply::syntax();
    }
  }
  return std::nullopt;
}

/// HSCAN/SSCAN/ZSCAN over the elements of `m` whose sub-keys start with `prefix`:
/// `emit(sub-key without prefix, value, out)` adds an element's reply items.
template <class C, class Emit>
Reply scan_elements(C& c, Args a, const std::optional<Meta>& m, Type t, std::string_view prefix, Emit emit) {
  ScanOptions o;
  if (auto e = parse_scan(a, 2, o, false)) return *e;
  if (wrong_type(m, t)) return reply::wrongtype();
  auto at = c.cursor(o.cursor);
  if (!at) return reply::error("ERR invalid cursor");
  std::vector<Reply> items;
  std::uint64_t next = 0;
  if (m) {
    auto upper = prefix.empty() ? std::nullopt : KeyRange::prefix_successor(prefix);
    std::optional<std::string_view> hi;
    if (upper) hi = *upper;
    auto page = c.elems(*m, at->empty() ? std::string(prefix) : *at, hi, false, static_cast<std::size_t>(o.count) + 1);
    if (page.size() > static_cast<std::size_t>(o.count)) {
      next = c.save_cursor(page.back().first);
      page.pop_back();
    }
    for (auto& [sub, v] : page) {
      auto name = std::string_view(sub).substr(prefix.size());
      if (!o.match || glob_match(*o.match, name)) emit(name, v, o, items);
    }
  }
  return reply::array({reply::bulk(std::to_string(next)), reply::array(std::move(items))});
}

}  // namespace kvstack::redis::detail
