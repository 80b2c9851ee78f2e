// Redis's pops from the first non-empty of several keys — LMPOP, ZMPOP — and the blocking
// commands BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP. Run here, a blocking
// command pops, or answers null when every key is empty (as Redis does inside MULTI); a server
// that can wait (redis::Server) takes that null as "block", and asks `blocking_wait` what for.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/redis/command.hpp>
#include <kvstack/redis/lists.hpp>
#include <kvstack/redis/zsets.hpp>

namespace kvstack::inline v0::redis {

/// What a blocking command waits on: its keys, and for how long (milliseconds; 0: for ever).
struct BlockingWait {
  std::vector<std::string> keys;
  std::int64_t timeout_ms = 0;
};

namespace cmd {
namespace detail {
/// A blocking command's timeout (seconds, fractions allowed) in milliseconds, or Redis's error.
inline std::optional<Reply> parse_timeout(std::string_view s, std::int64_t& ms) {
  auto v = parse_long_double(s);
  if (!v || std::isinf(*v)) return reply::error("ERR timeout is not a float or out of range");
  long double t = std::ceil(*v * 1000);
  // Past 64-bit milliseconds, Redis's conversion (x86-64) yields LLONG_MIN: "negative" too.
  if (t < 0 || t >= 0x1p63L) return reply::error("ERR timeout is negative");
  ms = static_cast<std::int64_t>(t);
  return std::nullopt;
}

/// LMPOP/ZMPOP's arguments after `numkeys` at a[at]: the keys, which end, COUNT.
struct MpopArgs {
  std::size_t first_key = 0, keys = 0;
  bool from_end = false;  ///< RIGHT, MAX
  std::int64_t count = 1;
};

/// Parses `numkeys key... (LEFT|RIGHT or MIN|MAX) [COUNT n]` from a[at], with Redis's errors.
inline std::optional<Reply> parse_mpop(Args a, std::size_t at, std::string_view front, std::string_view back,
                                       MpopArgs& out) {
  auto n = parse_integer(a[at]);
  if (!n || *n <= 0) return reply::error("ERR numkeys should be greater than 0");
  if (static_cast<std::uint64_t>(*n) >= a.size() - at - 1) return reply::syntax();
  out.first_key = at + 1;
  out.keys = static_cast<std::size_t>(*n);
  const auto where = out.first_key + out.keys;
  if (iequals(a[where], back)) out.from_end = true;
  else if (!iequals(a[where], front)) return reply::syntax();
  bool counted = false;
  for (std::size_t i = where + 1; i < a.size(); ++i) {
    if (!counted && iequals(a[i], "COUNT") && i + 1 < a.size()) {
      auto c = parse_integer(a[++i]);
      if (!c || *c <= 0) return reply::error("ERR count should be greater than 0");
      out.count = *c;
      counted = true;
    } else {
      return reply::syntax();
    }
  }
  return std::nullopt;
}

/// Pops up to `count` from the first non-empty list of `keys`: [key, [values]], or null.
template <class C>
Reply list_mpop(C& c, Args keys, bool left, std::int64_t count) {
  for (const auto& key : keys) {
    auto m = c.find(key);
    if (wrong_type(m, Type::list)) return reply::wrongtype();
    if (!m) continue;
    std::vector<Reply> values;
    for (std::int64_t i = 0; i < count && m->size > 0; ++i) values.push_back(reply::bulk(pop(c, *m, left)));
    c.save_or_drop(*m);
    return reply::array({reply::bulk(key), reply::array(std::move(values))});
  }
  return reply::null_array();
}

/// Pops up to `count` from the first non-empty sorted set of `keys`: [key, [[member, score]...]],
/// or with `flat`, one member as [key, member, score] (BZPOPMIN); null when all are empty.
template <class C>
Reply zset_mpop(C& c, Args keys, bool max, std::int64_t count, bool flat) {
  for (const auto& key : keys) {
    auto m = c.find(key);
    if (wrong_type(m, Type::zset)) return reply::wrongtype();
    if (!m) continue;
    auto es = entries(c, *m, all_scores(), max, 0, count);
    remove_entries(c, m, es);
    if (flat) return reply::array({reply::bulk(key), reply::bulk(es[0].member), reply::number(es[0].score)});
    std::vector<Reply> popped;
    for (auto& e : es) popped.push_back(reply::array({reply::bulk(e.member), reply::number(e.score)}));
    return reply::array({reply::bulk(key), reply::array(std::move(popped))});
  }
  return reply::null_array();
}

/// LMPOP/ZMPOP (`numkeys` at a[1]), or with `blocking` BLMPOP/BZMPOP (a timeout at a[1], then
/// the same arguments), with Redis's errors in Redis's order: the timeout's last.
template <class C>
Reply mpop(C& c, Args a, bool list, bool blocking) {
  MpopArgs p;
  const std::size_t at = blocking ? 2 : 1;
  if (auto e = list ? parse_mpop(a, at, "LEFT", "RIGHT", p) : parse_mpop(a, at, "MIN", "MAX", p)) return *e;
  std::int64_t ms = 0;
  if (blocking)
    if (auto e = parse_timeout(a[1], ms)) return *e;
  auto keys = a.subspan(p.first_key, p.keys);
  return list ? list_mpop(c, keys, !p.from_end, p.count) : zset_mpop(c, keys, p.from_end, p.count, false);
}

/// BLPOP, BRPOP, BZPOPMIN, BZPOPMAX: keys, then the timeout.
template <class C>
Reply pop_first(C& c, Args a, bool list, bool from_end) {
  std::int64_t ms = 0;
  if (auto e = parse_timeout(a.back(), ms)) return *e;
  auto keys = a.subspan(1, a.size() - 2);
  if (!list) return zset_mpop(c, keys, from_end, 1, true);
  auto r = list_mpop(c, keys, !from_end, 1);
  if (r.kind == Reply::Kind::array) r.elements[1] = std::move(r.elements[1].elements[0]);  // [key, value]
  return r;
}
}  // namespace detail

template <class C>
Reply lmpop(C& c, Args a) { return detail::mpop(c, a, true, false); }
template <class C>
Reply zmpop(C& c, Args a) { return detail::mpop(c, a, false, false); }
template <class C>
Reply blmpop(C& c, Args a) { return detail::mpop(c, a, true, true); }
template <class C>
Reply bzmpop(C& c, Args a) { return detail::mpop(c, a, false, true); }

template <class C>
Reply blpop(C& c, Args a) { return detail::pop_first(c, a, true, false); }
template <class C>
Reply brpop(C& c, Args a) { return detail::pop_first(c, a, true, true); }
template <class C>
Reply bzpopmin(C& c, Args a) { return detail::pop_first(c, a, false, false); }
template <class C>
Reply bzpopmax(C& c, Args a) { return detail::pop_first(c, a, false, true); }

template <class C>
Reply blmove(C& c, Args a) {
  auto from = detail::side(a[3]), to = detail::side(a[4]);
  if (!from || !to) return reply::syntax();
  std::int64_t ms = 0;
  if (auto e = detail::parse_timeout(a[5], ms)) return *e;
  return detail::move(c, a[1], a[2], *from, *to);
}
template <class C>
Reply brpoplpush(C& c, Args a) {
  std::int64_t ms = 0;
  if (auto e = detail::parse_timeout(a[3], ms)) return *e;
  return detail::move(c, a[1], a[2], false, true);
}
}  // namespace cmd

/// Whether `name` (any case) is a blocking command: one a server may hold until a key fills.
inline bool is_blocking(std::string_view name) {
  for (std::string_view n : {"blpop", "brpop", "blmove", "brpoplpush", "blmpop", "bzpopmin", "bzpopmax", "bzmpop"})
    if (iequals(name, n)) return true;
  return false;
}

/// The type of the keys the blocking command `name` pops from.
inline Type blocking_type(std::string_view name) { return ascii_lower(name).starts_with("bz") ? Type::zset : Type::list; }

/// The blocking command `a` narrowed to `key`, one of its keys: what runs when a write may have
/// made `key` ready — Redis serves a blocked client from the key written, whatever its other keys
/// hold before it.
inline std::vector<std::string> blocking_on(Args a, const std::string& key) {
  auto name = ascii_lower(a[0]);
  if (name == "blmove" || name == "brpoplpush") return {a.begin(), a.end()};
  if (name == "blmpop" || name == "bzmpop") {
    std::vector<std::string> out{a[0], a[1], "1", key};
    out.insert(out.end(), a.begin() + 3 + parse_integer(a[2]).value_or(0), a.end());
    return out;
  }
  return {a[0], key, a.back()};
}

/// What the blocking command `a` (which ran, and answered null: nothing to pop) waits on.
inline BlockingWait blocking_wait(Args a) {
  BlockingWait w;
  auto name = ascii_lower(a[0]);
  std::string_view timeout = a.back();
  if (name == "blmove" || name == "brpoplpush") {
    w.keys.push_back(a[1]);
  } else if (name == "blmpop" || name == "bzmpop") {
    timeout = a[1];
    auto n = parse_integer(a[2]).value_or(0);
    for (std::int64_t i = 0; i < n; ++i) w.keys.push_back(a[3 + static_cast<std::size_t>(i)]);
  } else {
    w.keys.assign(a.begin() + 1, a.end() - 1);
  }
  (void)cmd::detail::parse_timeout(timeout, w.timeout_ms);
  return w;
}

}  // namespace kvstack::redis
