// Redis list commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LREM LTRIM
// LINSERT LPOS LMOVE RPOPLPUSH. A list's elements lie in chunks (list_chunk.hpp) numbered head..tail
// in the metadata: a push or pop rewrites the chunk at its end, O(1); an index is found by walking
// the chunks from the nearer end, as in Redis's quicklist; LREM and LINSERT rewrite the list, O(n).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/redis/command.hpp>
#include <kvstack/redis/list_chunk.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
using namespace kvstack::redis::detail;

/// The sub-key of chunk number `n`.
inline std::string chunk_sub(std::int64_t n) {
  std::string s;
  put_int<std::int64_t>(s, n);
  return s;
}

template <class C>
void corrupt_list(C& c, const Meta& m) {
  c.fail(Error{errc::corruption, "redis: a chunk of the list at a " + std::to_string(m.key.size()) + "-byte key is malformed"});
}

/// Chunk number `n` of `m`, to change in place (Ctx::elem_to_change); nullptr after a failure,
/// which `c` then holds.
template <class C>
std::string* chunk_to_change(C& c, const Meta& m, std::int64_t n) {
  auto* chunk = c.elem_to_change(m, chunk_sub(n));
  if (chunk && chunk->size() >= chunk_header) return chunk;
  if (!c.failed()) corrupt_list(c, m);
  return nullptr;
}

/// Pushes `values` one after the other at the front (`left`) or the back of `m`.
template <class C, class Values>
void push_all(C& c, Meta& m, bool left, const Values& values) {
  std::string* chunk = nullptr;  // none yet
  if (m.size == 0) m.head = m.tail = 0;
  else if (!(chunk = chunk_to_change(c, m, left ? m.head : m.tail))) return;
  for (std::string_view v : values) {
    if (!chunk || !chunk_has_room(*chunk, v.size())) {
      const std::int64_t n = !chunk ? m.head : left ? --m.head : ++m.tail;
      if (!(chunk = c.elem_to_change(m, chunk_sub(n), true))) return;
    }
    chunk_push(*chunk, left, v);
    ++m.size;
  }
}

template <class C>
void push(C& c, Meta& m, bool left, std::string_view value) {
  push_all(c, m, left, std::array{value});
}

/// Takes the first (`left`) or last element of `m` out. The size drops even after a failure (the
/// transaction then writes nothing), so that a loop of pops ends.
template <class C>
std::string pop(C& c, Meta& m, bool left) {
  --m.size;
  const std::int64_t n = left ? m.head : m.tail;
  auto* chunk = chunk_to_change(c, m, n);
  if (!chunk) return {};
  auto v = chunk_pop(*chunk, left);
  if (!v) return corrupt_list(c, m), std::string();
  if (chunk_count(*chunk) == 0) {
    c.erase_elem(m, chunk_sub(n));
    left ? ++m.head : --m.tail;
  }
  return std::move(*v);
}

/// `fn(number, chunk) -> bool` (false stops) for the chunks of `m`, from the front or the back.
template <class C, class F>
void each_chunk(C& c, const Meta& m, bool from_back, F&& fn) {
  c.each_elem(m, chunk_sub(m.head), chunk_sub(m.tail + 1), from_back, KeyRange::unlimited,
              [&](std::string_view sub, std::string_view chunk) { return fn(get_int<std::int64_t>(sub), chunk); });
}

/// `fn(value)` for the elements at indexes [start, stop] (already clamped), in order; the chunks
/// are walked to from the nearer end.
template <class C, class F>
void each_in_slice(C& c, const Meta& m, std::int64_t start, std::int64_t stop, F&& fn) {
  if (start <= m.size - 1 - stop) {
    std::int64_t first = 0;  // the index of the chunk's first element
    each_chunk(c, m, false, [&](std::int64_t, std::string_view chunk) {
      ChunkReader r(chunk);
      std::int64_t i = first;
      first += r.count();
      if (first <= start) return true;
      for (std::string_view e; i <= stop && r.next(e); ++i)
        if (i >= start) fn(e);
      if (!r.ok()) return corrupt_list(c, m), false;
      return first <= stop;
    });
    return;
  }
  std::vector<std::string> held;  // the chunks holding [start, stop], the last first
  std::int64_t first = m.size;    // the index of the last chunk read's first element
  each_chunk(c, m, true, [&](std::int64_t, std::string_view chunk) {
    first -= chunk_count(chunk);
    if (first <= stop) held.emplace_back(chunk);
    return first > start;
  });
  std::int64_t i = first;
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    ChunkReader r(*it);
    for (std::string_view e; i <= stop && r.next(e); ++i)
      if (i >= start) fn(e);
    if (!r.ok()) return corrupt_list(c, m);
  }
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
  for (std::int64_t n = m.head; n <= m.tail; ++n) c.erase_elem(m, chunk_sub(n));
  m.size = 0;
  push_all(c, m, false, items);
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
  push_all(c, *m, left, a.subspan(2));
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
    detail::each_in_slice(c, *m, *start, *stop, [&](std::string_view v) { out.emplace_back(Reply::Kind::bulk, 0, std::string(v)); });
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
  std::optional<std::string> v;
  detail::each_in_slice(c, *m, idx, idx, [&](std::string_view e) { v = e; });
  return reply::optional_bulk(v);
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
  // The chunk holding idx, walked to from the nearer end, is rewritten.
  const bool from_back = idx > m->size - 1 - idx;
  std::int64_t edge = from_back ? m->size : 0;  // the index just past the chunks walked (from the back: of their first)
  std::optional<std::pair<std::int64_t, std::string>> changed;
  detail::each_chunk(c, *m, from_back, [&](std::int64_t n, std::string_view chunk) {
    const std::int64_t count = detail::chunk_count(chunk), first = from_back ? edge - count : edge;
    edge = from_back ? first : edge + count;
    if (idx < first || idx >= first + count) return true;
    auto es = detail::chunk_elements(chunk);
    if (!es) return detail::corrupt_list(c, *m), false;
    (*es)[static_cast<std::size_t>(idx - first)] = a[3];
    changed.emplace(n, detail::make_chunk(*es));
    return false;
  });
  if (changed) c.put_elem(*m, detail::chunk_sub(changed->first), changed->second);
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
  // Chunks wholly outside [start, stop] go, those across its edges are cut; the walk stops at
  // the first chunk past stop: the rest go unread.
  std::vector<std::pair<std::int64_t, std::optional<std::string>>> changes;  // chunk -> its new bytes, or erased
  std::int64_t first = 0, head = m->tail + 1, tail = m->tail, past = m->tail + 1;
  detail::each_chunk(c, *m, false, [&](std::int64_t n, std::string_view chunk) {
    if (first > *stop) return past = n, false;
    const std::int64_t count = detail::chunk_count(chunk), last = first + count - 1;
    if (last < *start) {
      changes.emplace_back(n, std::nullopt);
    } else {
      head = std::min(head, n), tail = n;
      if (first < *start || last > *stop) {
        auto es = detail::chunk_elements(chunk);
        if (!es) return detail::corrupt_list(c, *m), false;
        const auto from = static_cast<std::size_t>(std::max(first, *start) - first);
        const auto to = static_cast<std::size_t>(std::min(last, *stop) - first + 1);
        changes.emplace_back(n, detail::make_chunk(std::span(*es).subspan(from, to - from)));
      }
    }
    first += count;
    return true;
  });
  for (std::int64_t n = past; n <= m->tail; ++n) changes.emplace_back(n, std::nullopt);
  for (auto& [n, bytes] : changes) {
    if (bytes) c.put_elem(*m, detail::chunk_sub(n), *bytes);
    else c.erase_elem(*m, detail::chunk_sub(n));
  }
  m->head = head, m->tail = tail;
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
