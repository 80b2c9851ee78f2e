// Redis list commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LREM LTRIM
// LINSERT LPOS LMOVE RPOPLPUSH. A list's elements sit at consecutive positions from the
// metadata's head: push, pop and index cost O(log n); LREM and LINSERT move what follows, O(n).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
using namespace kvstack::redis::detail;

inline std::string position(std::int64_t p) {
  std::string s;
  put_int<std::int64_t>(s, p);
  return s;
}

template <class C>
void push(C& c, Meta& m, bool left, std::string_view value) {
  std::int64_t p = left ? m.head - 1 : m.head + m.size;
  c.put_elem(m, position(p), value);
  if (left) m.head = p;
  ++m.size;
}

template <class C>
std::string pop(C& c, Meta& m, bool left) {
  std::int64_t p = left ? m.head : m.head + m.size - 1;
  auto v = c.elem(m, position(p));
  c.erase_elem(m, position(p));
  if (left) ++m.head;
  --m.size;
  return v.value_or("");
}

/// `fn(value)` for the elements at indexes [start, stop] (already clamped), in order.
template <class C, class F>
void each_in_slice(C& c, const Meta& m, std::int64_t start, std::int64_t stop, F&& fn) {
  c.each_elem(m, position(m.head + start), position(m.head + stop + 1), false, static_cast<std::size_t>(stop - start + 1),
              [&](std::string_view, std::string_view v) { fn(v); });
}
/// The elements at indexes [start, stop] (already clamped).
template <class C>
std::vector<std::string> slice(C& c, const Meta& m, std::int64_t start, std::int64_t stop) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(stop - start + 1));
  each_in_slice(c, m, start, stop, [&](std::string_view v) { out.emplace_back(v); });
  return out;
}

/// Rewrites the whole list as `items` (after LREM / LINSERT).
template <class C>
void rewrite(C& c, Meta& m, const std::vector<std::string>& items) {
  for (std::int64_t i = 0; i < m.size; ++i) c.erase_elem(m, position(m.head + i));
  m.size = 0;
  for (auto& v : items) push(c, m, false, v);
  c.save_or_drop(m);
}

template <class C>
Reply push_command(C& c, Args a, bool left, bool only_existing) {
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) {
    if (only_existing) return reply::integer(0);
    m = c.create(a[1], Type::list);
  }
  for (std::size_t i = 2; i < a.size(); ++i) push(c, *m, left, a[i]);
  c.save(*m);
  return reply::integer(m->size);
}

template <class C>
Reply pop_command(C& c, Args a, bool left) {
  if (a.size() > 3) return reply::wrong_arity(a[0]);  // as Redis (SPOP, ZPOPMIN: a syntax error)
  std::optional<std::int64_t> count;
  if (auto e = pop_count(a, count)) return *e;
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return count ? reply::null_array() : reply::null();
  if (!count) {
    auto v = pop(c, *m, left);
    c.save_or_drop(*m);
    return reply::bulk(v);
  }
  std::vector<Reply> out;
  for (std::int64_t i = 0; i < *count && m->size > 0; ++i) out.push_back(reply::bulk(pop(c, *m, left)));
  c.save_or_drop(*m);
  return reply::array(std::move(out));
}

inline std::optional<bool> side(std::string_view s) {
  if (iequals(s, "LEFT")) return true;
  if (iequals(s, "RIGHT")) return false;
  return std::nullopt;
}

template <class C>
Reply move(C& c, std::string_view src, std::string_view dst, bool from_left, bool to_left) {
  auto s = c.find(src);
  if (wrong_type(s, Type::list)) return reply::wrongtype();
  if (!s) return reply::null();
  auto d = c.find(dst);
  if (wrong_type(d, Type::list)) return reply::wrongtype();
  auto v = pop(c, *s, from_left);
  if (src == dst) {
    push(c, *s, to_left, v);
    c.save(*s);
    return reply::bulk(v);
  }
  c.save_or_drop(*s);
  if (!d) d = c.create(dst, Type::list);
  push(c, *d, to_left, v);
  c.save(*d);
  return reply::bulk(v);
}
}  // namespace detail

template <class C>
Reply lpush(C& c, Args a) { return detail::push_command(c, a, true, false); }
template <class C>
Reply rpush(C& c, Args a) { return detail::push_command(c, a, false, false); }
template <class C>
Reply lpushx(C& c, Args a) { return detail::push_command(c, a, true, true); }
template <class C>
Reply rpushx(C& c, Args a) { return detail::push_command(c, a, false, true); }
template <class C>
Reply lpop(C& c, Args a) { return detail::pop_command(c, a, true); }
template <class C>
Reply rpop(C& c, Args a) { return detail::pop_command(c, a, false); }

template <class C>
Reply llen(C& c, Args a) { return detail::size_of(c, a, Type::list); }

template <class C>
Reply lrange(C& c, Args a) {
  auto start = parse_integer(a[2]), stop = parse_integer(a[3]);
  if (!start || !stop) return reply::not_integer();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  std::vector<Reply> out;
  if (m && detail::clamp_range(*start, *stop, m->size)) {
    out.reserve(static_cast<std::size_t>(*stop - *start + 1));
    detail::each_in_slice(c, *m, *start, *stop, [&](std::string_view v) { out.push_back(reply::bulk(v)); });
  }
  return reply::array(std::move(out));
}

template <class C>
Reply lindex(C& c, Args a) {
  auto m = c.find(a[1]);  // as Redis: the key first, then the index
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return reply::null();
  auto i = parse_integer(a[2]);
  if (!i) return reply::not_integer();
  std::int64_t idx = *i < 0 ? *i + m->size : *i;
  if (idx < 0 || idx >= m->size) return reply::null();
  return reply::optional_bulk(c.elem(*m, detail::position(m->head + idx)));
}

template <class C>
Reply lset(C& c, Args a) {
  auto m = c.find(a[1]);  // as Redis: the key first, then the index
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return reply::no_such_key();
  auto i = parse_integer(a[2]);
  if (!i) return reply::not_integer();
  std::int64_t idx = *i < 0 ? *i + m->size : *i;
  if (idx < 0 || idx >= m->size) return reply::out_of_range();
  c.put_elem(*m, detail::position(m->head + idx), a[3]);
  return reply::ok();
}

template <class C>
Reply lrem(C& c, Args a) {
  auto count = parse_integer(a[2]);
  if (!count) return reply::not_integer();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  auto items = detail::slice(c, *m, 0, m->size - 1);
  std::vector<bool> drop(items.size());
  // 0 removes all; so does INT64_MIN, which Redis negates into itself and never reaches.
  std::int64_t removed = 0, limit = *count == 0 || *count == INT64_MIN ? INT64_MAX : (*count < 0 ? -*count : *count);
  for (std::size_t n = 0; n < items.size() && removed < limit; ++n) {
    std::size_t i = *count < 0 ? items.size() - 1 - n : n;
    if (items[i] == a[3]) drop[i] = true, ++removed;
  }
  if (removed == 0) return reply::integer(0);
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(items[i]));
  detail::rewrite(c, *m, kept);
  return reply::integer(removed);
}

template <class C>
Reply ltrim(C& c, Args a) {
  auto start = parse_integer(a[2]), stop = parse_integer(a[3]);
  if (!start || !stop) return reply::not_integer();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return reply::ok();
  if (!detail::clamp_range(*start, *stop, m->size)) {
    c.drop(*m);
    return reply::ok();
  }
  for (std::int64_t i = 0; i < *start; ++i) c.erase_elem(*m, detail::position(m->head + i));
  for (std::int64_t i = *stop + 1; i < m->size; ++i) c.erase_elem(*m, detail::position(m->head + i));
  m->head += *start;
  m->size = *stop - *start + 1;
  c.save(*m);
  return reply::ok();
}

template <class C>
Reply linsert(C& c, Args a) {
  bool before = iequals(a[2], "BEFORE");
  if (!before && !iequals(a[2], "AFTER")) return reply::syntax();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  auto items = detail::slice(c, *m, 0, m->size - 1);
  auto it = std::find(items.begin(), items.end(), a[3]);
  if (it == items.end()) return reply::integer(-1);
  items.insert(before ? it : it + 1, a[4]);
  detail::rewrite(c, *m, items);
  return reply::integer(m->size);
}

template <class C>
Reply lpos(C& c, Args a) {
  std::int64_t rank = 1, count = -1, maxlen = 0;
  for (std::size_t i = 3; i < a.size(); i += 2) {
    if (i + 1 >= a.size()) return reply::syntax();
    auto v = parse_integer(a[i + 1]);
    if (iequals(a[i], "RANK")) {
      if (!v) return reply::not_integer();
      if (*v == 0)
        return reply::error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
                            "negative to start from the end of the list");
      rank = std::max(*v, -INT64_MAX);  // LONG_MIN: Redis takes it, and finds nothing
    } else if (iequals(a[i], "COUNT")) {  // not a number is "negative" too, in Redis's words
      if (!v || *v < 0) return reply::error("ERR COUNT can't be negative");
      count = *v;
    } else if (iequals(a[i], "MAXLEN")) {
      if (!v || *v < 0) return reply::error("ERR MAXLEN can't be negative");
      maxlen = *v;
    } else {
      return reply::syntax();
    }
  }
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::list)) return reply::wrongtype();
  std::vector<Reply> found;
  if (m) {
    auto items = detail::slice(c, *m, 0, m->size - 1);
    std::int64_t n = static_cast<std::int64_t>(items.size()), skip = (rank < 0 ? -rank : rank) - 1;
    std::int64_t want = count < 0 ? 1 : (count == 0 ? INT64_MAX : count);
    for (std::int64_t step = 0; step < n && (maxlen == 0 || step < maxlen) &&
                                static_cast<std::int64_t>(found.size()) < want;
         ++step) {
      std::int64_t i = rank < 0 ? n - 1 - step : step;
      if (items[static_cast<std::size_t>(i)] == a[2] && skip-- <= 0) found.push_back(reply::integer(i));
    }
  }
  if (count >= 0) return reply::array(std::move(found));
  return found.empty() ? reply::null() : found.front();
}

template <class C>
Reply lmove(C& c, Args a) {
  auto from = detail::side(a[3]), to = detail::side(a[4]);
  if (!from || !to) return reply::syntax();
  return detail::move(c, a[1], a[2], *from, *to);
}

template <class C>
Reply rpoplpush(C& c, Args a) { return detail::move(c, a[1], a[2], false, true); }

}  // namespace kvstack::redis::cmd
