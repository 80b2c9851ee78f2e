// Redis hash commands: HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HKEYS HVALS HGETALL HINCRBY
// HINCRBYFLOAT HSTRLEN HRANDFIELD HSCAN. One backend entry per field.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
using namespace kvstack::redis::detail;

/// Sets field `f`; true when it is new.
template <class C>
bool hash_set(C& c, Meta& m, std::string_view f, std::string_view v) {
  bool fresh = !c.elem(m, f);
  c.put_elem(m, f, v);
  if (fresh) ++m.size;
  return fresh;
}

template <class C>
Reply hash_set_command(C& c, Args a, bool count_new) {
  if (a.size() % 2 != 0) return reply::wrong_arity(a[0]);
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::hash)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::hash);
  std::int64_t added = 0;
  auto before = m->size;
  for (std::size_t i = 2; i < a.size(); i += 2) added += hash_set(c, *m, a[i], a[i + 1]);
  if (m->size != before || before == 0) c.save(*m);
  return count_new ? reply::integer(added) : reply::ok();
}

/// The most picks a negative count (repeats allowed, so not bounded by the data) may ask for:
/// a larger count is refused before anything is allocated. (Redis streams such a reply; kvstack
/// builds each reply whole.)
inline constexpr std::int64_t max_random_picks = std::int64_t{1} << 20;

/// Parses the count of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER (`a[2]`, if given) and checks the
/// option after it (`paired`: WITHVALUES or WITHSCORES; empty: none allowed), in Redis 7.0's
/// order and with its errors: a count within ±LONG_MAX, and half that when paired.
inline std::optional<Reply> random_count(Args a, std::string_view paired, std::optional<std::int64_t>& count) {
  if (paired.empty() && a.size() > 3) return reply::syntax();
  if (a.size() < 3) return std::nullopt;
  auto n = parse_integer(a[2]);
  if (!n) return reply::not_integer();
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (*n < -max) return reply::error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
  if (a.size() > 4 || (a.size() == 4 && !iequals(a[3], paired))) return reply::syntax();
  if (a.size() == 4 && (*n < -max / 2 || *n > max / 2)) return reply::error("ERR value is out of range");
  count = *n;
  return std::nullopt;
}
/// Unlike Redis, an error for more than max_random_picks picks with repeats from a collection
/// that exists (from none, the reply is empty).
inline std::optional<Reply> too_many_picks(std::int64_t count) {
  if (count >= -max_random_picks) return std::nullopt;
  return reply::error("ERR value is out of range, a reply holds at most " + std::to_string(max_random_picks) + " random picks");
}

/// Random picks for HRANDFIELD / SRANDMEMBER / ZRANDMEMBER with a count: distinct elements when
/// count >= 0, `-count` picks with repeats otherwise; uniform, but for a few picks with repeats
/// from a large collection (see Ctx::random_elem).
template <class C>
std::vector<std::pair<std::string, std::string>> random_picks(C& c, const Meta& m, std::int64_t count,
                                                              std::string_view prefix = {}) {
  std::vector<std::pair<std::string, std::string>> out;
  const bool repeats = count < 0;
  const auto wanted = static_cast<std::size_t>(repeats ? -count : count);
  if (repeats && m.size > C::uniform_pick_limit && wanted < static_cast<std::size_t>(m.size)) {
    for (std::size_t i = 0; i < wanted; ++i)
      if (auto e = c.random_elem(m, prefix)) out.push_back(std::move(*e));
    return out;
  }
  auto all = prefix.empty() ? c.elems(m) : c.elems(m, prefix, std::string(1, static_cast<char>(prefix[0] + 1)));
  if (repeats) {
    if (all.empty()) return out;
    std::uniform_int_distribution<std::size_t> pick(0, all.size() - 1);
    out.reserve(wanted);
    for (std::size_t i = 0; i < wanted; ++i) out.push_back(all[pick(c.rng())]);
    return out;
  }
  if (wanted < all.size()) {
    std::shuffle(all.begin(), all.end(), c.rng());
    all.resize(wanted);
  }
  return all;
}
}  // namespace detail

template <class C>
Reply hset(C& c, Args a) { return detail::hash_set_command(c, a, true); }
template <class C>
Reply hmset(C& c, Args a) { return detail::hash_set_command(c, a, false); }

template <class C>
Reply hsetnx(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::hash);
  else if (c.elem(*m, a[2])) return reply::integer(0);
  detail::hash_set(c, *m, a[2], a[3]);
  c.save(*m);
  return reply::integer(1);
}

template <class C>
Reply hget(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  return m ? reply::optional_bulk(c.elem(*m, a[2])) : reply::null();
}

template <class C>
Reply hmget(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  std::vector<Reply> out;
  for (std::size_t i = 2; i < a.size(); ++i) out.push_back(m ? reply::optional_bulk(c.elem(*m, a[i])) : reply::null());
  return reply::array(std::move(out));
}

template <class C>
Reply hdel(C& c, Args a) { return detail::remove_elements(c, a, Type::hash); }
template <class C>
Reply hexists(C& c, Args a) { return detail::has_element(c, a, Type::hash); }
template <class C>
Reply hlen(C& c, Args a) { return detail::size_of(c, a, Type::hash); }

namespace detail {
template <class C>
Reply hash_all(C& c, Args a, bool keys, bool values) {
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::hash)) return reply::wrongtype();
  std::vector<Reply> out;
  if (m)
    for (auto& [f, v] : c.elems(*m)) {
      if (keys) out.push_back(reply::bulk(f));
      if (values) out.push_back(reply::bulk(v));
    }
  return keys && values ? reply::map(std::move(out)) : reply::array(std::move(out));
}
}  // namespace detail

template <class C>
Reply hkeys(C& c, Args a) { return detail::hash_all(c, a, true, false); }
template <class C>
Reply hvals(C& c, Args a) { return detail::hash_all(c, a, false, true); }
template <class C>
Reply hgetall(C& c, Args a) { return detail::hash_all(c, a, true, true); }

template <class C>
Reply hincrby(C& c, Args a) {
  auto delta = parse_integer(a[3]);
  if (!delta) return reply::not_integer();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::hash);
  std::int64_t v = 0;
  if (auto old = c.elem(*m, a[2])) {
    auto parsed = parse_integer(*old);
    if (!parsed) return reply::error("ERR hash value is not an integer");
    v = *parsed;
  }
  if (__builtin_add_overflow(v, *delta, &v)) return reply::overflow();
  if (detail::hash_set(c, *m, a[2], std::to_string(v)) || m->size == 1) c.save(*m);
  return reply::integer(v);
}

template <class C>
Reply hincrbyfloat(C& c, Args a) {
  auto delta = parse_long_double(a[3]);
  if (!delta) return reply::not_float();
  if (std::isinf(*delta)) return reply::error("ERR value is NaN or Infinity");
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::hash);
  long double v = 0;
  if (auto old = c.elem(*m, a[2])) {
    auto parsed = parse_long_double(*old);
    if (!parsed) return reply::error("ERR hash value is not a float");
    v = *parsed;
  }
  v += *delta;
  if (std::isnan(v) || std::isinf(v)) return reply::error("ERR increment would produce NaN or Infinity");
  auto text = format_long_double(v);
  if (detail::hash_set(c, *m, a[2], text) || m->size == 1) c.save(*m);
  return reply::bulk(text);
}

template <class C>
Reply hstrlen(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  auto v = m ? c.elem(*m, a[2]) : std::nullopt;
  return reply::integer(v ? static_cast<std::int64_t>(v->size()) : 0);
}

template <class C>
Reply hrandfield(C& c, Args a) {
  std::optional<std::int64_t> count;
  if (auto e = detail::random_count(a, "WITHVALUES", count)) return *e;
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::hash)) return reply::wrongtype();
  if (!count) {
    auto e = m ? c.random_elem(*m) : std::nullopt;
    return e ? reply::bulk(e->first) : reply::null();
  }
  if (auto e = m ? detail::too_many_picks(*count) : std::nullopt) return *e;
  std::vector<Reply> out;
  if (m)
    for (auto& [f, v] : detail::random_picks(c, *m, *count)) {
      out.push_back(reply::bulk(f));
      if (a.size() == 4) out.push_back(reply::bulk(v));
    }
  return a.size() == 4 ? reply::pairs(std::move(out)) : reply::array(std::move(out));
}

template <class C>
Reply hscan(C& c, Args a) {
  return detail::scan_elements(c, a, c.find(a[1]), Type::hash, "",
                               [](std::string_view f, std::string_view v, const detail::ScanOptions& o, auto& out) {
                                 out.push_back(reply::bulk(f));
                                 if (!o.novalues) out.push_back(reply::bulk(v));
                               });
}

}  // namespace kvstack::redis::cmd
