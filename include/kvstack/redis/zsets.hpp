// Redis sorted-set commands: ZADD ZREM ZSCORE ZMSCORE ZINCRBY ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK
// ZRANGE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZPOPMIN ZPOPMAX
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZRANDMEMBER ZSCAN.
// Two entries per member: 'm' member -> score, and 's' score member (scores encoded to sort as
// numbers), so that lookups and score/lex range starts cost O(log n). Ranks are counted by
// walking the score index: ZRANK and rank ranges cost O(log n + rank).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/redis/hashes.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {

inline std::string score_key(double score, std::string_view member) {
  std::string s(1, 's');
  put_double(s, score);
  s.append(member);
  return s;
}
inline std::string member_key(std::string_view member) { return "m" + std::string(member); }

template <class C>
std::optional<double> score_of(C& c, const Meta& m, std::string_view member) {
  auto v = c.elem(m, member_key(member));
  if (!v || v->size() != 8) return std::nullopt;
  return get_double(*v);
}

/// Sets `member`'s score (`old`: its current one, if any).
template <class C>
void zset_put(C& c, Meta& m, std::string_view member, double score, std::optional<double> old) {
  if (old) c.erase_elem(m, score_key(*old, member));
  else ++m.size;
  std::string enc;
  put_double(enc, score);
  c.put_elem(m, member_key(member), enc);
  c.put_elem(m, score_key(score, member), "");
}

template <class C>
void zset_erase(C& c, Meta& m, std::string_view member, double score) {
  c.erase_elem(m, member_key(member));
  c.erase_elem(m, score_key(score, member));
  --m.size;
}

struct Entry {
  std::string member;
  double score;
};

/// A score or lex range as [lo, hi) over the index sub-keys ("s..." or "m...").
struct Bounds {
  std::string lo, hi;
};

/// "1.5", "(1.5", "-inf", "+inf" as bounds over the score index; nullopt when malformed.
inline std::optional<Bounds> score_bounds(std::string_view min, std::string_view max) {
  auto parse = [](std::string_view s, bool& open) -> std::optional<double> {
    open = !s.empty() && s[0] == '(';
    if (open) s.remove_prefix(1);
    return parse_double(s, true);
  };
  bool min_open = false, max_open = false;
  auto lo = parse(min, min_open), hi = parse(max, max_open);
  if (!lo || !hi) return std::nullopt;
  Bounds b{"s", "s"};
  put_double(b.lo, *lo);
  put_double(b.hi, *hi);
  if (min_open) b.lo = *KeyRange::prefix_successor(b.lo);
  if (!max_open) b.hi = *KeyRange::prefix_successor(b.hi);
  return b;
}

/// "[a", "(a", "-", "+" as bounds over the member index; nullopt when malformed.
inline std::optional<Bounds> lex_bounds(std::string_view min, std::string_view max) {
  auto bound = [](std::string_view s, bool upper) -> std::optional<std::string> {
    if (s == "-") return std::string("m");
    if (s == "+") return std::string("n");
    if (s.empty() || (s[0] != '[' && s[0] != '(')) return std::nullopt;
    std::string k = "m" + std::string(s.substr(1));
    if ((s[0] == '(') != upper) k.push_back('\0');  // exclusive lower / inclusive upper
    return k;
  };
  auto lo = bound(min, false), hi = bound(max, true);
  if (!lo || !hi) return std::nullopt;
  return Bounds{*lo, *hi};
}

enum class By { rank, score, lex };

inline std::optional<Bounds> bounds(By by, std::string_view min, std::string_view max) {
  return by == By::score ? score_bounds(min, max) : lex_bounds(min, max);
}
inline Reply bounds_error(By by) {
  return reply::error(by == By::score ? "ERR min or max is not a float" : "ERR min or max not valid string range item");
}

/// The entries in `b` (over the score or member index), in order or reversed, `offset` skipped,
/// at most `count` (negative: all).
template <class C>
std::vector<Entry> entries(C& c, const Meta& m, const Bounds& b, bool rev, std::int64_t offset, std::int64_t count) {
  std::vector<Entry> out;
  if (offset < 0 || b.lo >= b.hi || count == 0) return out;
  std::size_t limit = count < 0 ? KeyRange::unlimited : static_cast<std::size_t>(offset + count);
  auto page = c.elems(m, b.lo, b.hi, rev, limit);
  for (std::size_t i = static_cast<std::size_t>(offset); i < page.size(); ++i) {
    auto& [sub, v] = page[i];
    if (sub[0] == 's') out.push_back({sub.substr(9), get_double(sub, 1)});
    else out.push_back({sub.substr(1), v.size() == 8 ? get_double(v) : 0.0});
  }
  return out;
}

inline Bounds all_scores() { return {"s", "t"}; }

/// Entries by rank [start, stop] (Redis indexes, negative from the end).
template <class C>
std::vector<Entry> by_rank(C& c, const Meta& m, std::int64_t start, std::int64_t stop, bool rev) {
  if (!clamp_range(start, stop, m.size)) return {};
  return entries(c, m, all_scores(), rev, start, stop - start + 1);
}

inline Reply entries_reply(const std::vector<Entry>& es, bool withscores) {
  std::vector<Reply> out;
  for (auto& e : es) {
    out.push_back(reply::bulk(e.member));
    if (withscores) out.push_back(reply::number(e.score));
  }
  return withscores ? reply::pairs(std::move(out)) : reply::array(std::move(out));
}

template <class C>
Reply range(C& c, std::string_view key, std::string_view min, std::string_view max, By by, bool rev, bool withscores,
            std::int64_t offset, std::int64_t count) {
  std::optional<std::int64_t> start, stop;
  std::optional<Bounds> b;
  if (by == By::rank) {
    start = parse_integer(min), stop = parse_integer(max);
    if (!start || !stop) return reply::not_integer();
  } else if (b = bounds(by, rev ? max : min, rev ? min : max); !b) {
    return bounds_error(by);
  }
  auto m = c.find(key);
  if (wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) return reply::array();
  return entries_reply(b ? entries(c, *m, *b, rev, offset, count) : by_rank(c, *m, *start, *stop, rev), withscores);
}

/// [WITHSCORES] [LIMIT offset count] after position `from`.
inline std::optional<Reply> range_options(Args a, std::size_t from, bool allow_withscores, bool& withscores,
                                          bool& limited, std::int64_t& offset, std::int64_t& count) {
  for (std::size_t i = from; i < a.size(); ++i) {
    if (allow_withscores && iequals(a[i], "WITHSCORES")) {
      withscores = true;
    } else if (iequals(a[i], "LIMIT") && i + 2 < a.size()) {
      auto o = parse_integer(a[i + 1]), n = parse_integer(a[i + 2]);
      if (!o || !n) return reply::not_integer();
      offset = *o, count = *n, limited = true;
      i += 2;
    } else {
      return reply::syntax();
    }
  }
  return std::nullopt;
}

template <class C>
Reply range_by(C& c, Args a, By by, bool rev) {
  bool withscores = false, limited = false;
  std::int64_t offset = 0, count = -1;
  if (auto e = range_options(a, 4, by == By::score, withscores, limited, offset, count)) return *e;
  return range(c, a[1], a[2], a[3], by, rev, withscores, offset, count);
}

template <class C>
Reply remove_entries(C& c, std::optional<Meta>& m, const std::vector<Entry>& es) {
  for (auto& e : es) zset_erase(c, *m, e.member, e.score);
  if (!es.empty()) c.save_or_drop(*m);
  return reply::integer(static_cast<std::int64_t>(es.size()));
}

template <class C>
Reply pop(C& c, Args a, bool max) {
  std::optional<std::int64_t> count;
  if (auto e = pop_count(a, count)) return *e;
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) return reply::array();
  auto es = entries(c, *m, all_scores(), max, 0, count.value_or(1));
  remove_entries(c, m, es);
  auto r = entries_reply(es, true);
  if (!count) r.kind = Reply::Kind::array;  // one member and its score, not nested in RESP3
  return r;
}
}  // namespace detail

template <class C>
Reply zadd(C& c, Args a) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  std::size_t i = 2;
  for (; i < a.size(); ++i) {
    auto& o = a[i];
    if (iequals(o, "NX")) nx = true;
    else if (iequals(o, "XX")) xx = true;
    else if (iequals(o, "GT")) gt = true;
    else if (iequals(o, "LT")) lt = true;
    else if (iequals(o, "CH")) ch = true;
    else if (iequals(o, "INCR")) incr = true;
    else break;
  }
  auto pairs = a.size() - i;
  if (pairs == 0 || pairs % 2 != 0) return reply::syntax();
  if (nx && xx) return reply::error("ERR XX and NX options at the same time are not compatible");
  if ((gt && lt) || (nx && (gt || lt)))
    return reply::error("ERR GT, LT, and/or NX options at the same time are not compatible");
  if (incr && pairs > 2) return reply::error("ERR INCR option supports a single increment-element pair");
  std::vector<double> scores;
  for (std::size_t j = i; j < a.size(); j += 2) {
    auto s = parse_double(a[j]);
    if (!s) return reply::not_float();
    scores.push_back(*s);
  }
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) {
    if (xx) return incr ? reply::null() : reply::integer(0);
    m = c.create(a[1], Type::zset);
  }
  std::int64_t added = 0, changed = 0;
  std::optional<double> result;
  for (std::size_t j = i, k = 0; j < a.size(); j += 2, ++k) {
    const auto& member = a[j + 1];
    auto old = detail::score_of(c, *m, member);
    double score = scores[k];
    if ((nx && old) || (xx && !old)) continue;
    if (incr && old) {
      score += *old;
      if (std::isnan(score)) return reply::error("ERR resulting score is not a number (NaN)");
    }
    if (old && ((gt && score <= *old) || (lt && score >= *old))) continue;
    result = score;
    if (old && *old == score) continue;
    detail::zset_put(c, *m, member, score, old);
    (old ? changed : added) += 1;
  }
  if (added || changed) c.save(*m);
  if (incr) return result ? reply::number(*result) : reply::null();
  return reply::integer(ch ? added + changed : added);
}

template <class C>
Reply zincrby(C& c, Args a) {
  auto delta = parse_double(a[2]);
  if (!delta) return reply::not_float();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::zset);
  auto old = detail::score_of(c, *m, a[3]);
  double score = *delta + old.value_or(0);
  if (std::isnan(score)) return reply::error("ERR resulting score is not a number (NaN)");
  if (!old || *old != score) {
    detail::zset_put(c, *m, a[3], score, old);
    c.save(*m);
  }
  return reply::number(score);
}

template <class C>
Reply zrem(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  std::int64_t removed = 0;
  for (std::size_t i = 2; i < a.size(); ++i)
    if (auto s = detail::score_of(c, *m, a[i])) {
      detail::zset_erase(c, *m, a[i], *s);
      ++removed;
    }
  if (removed) c.save_or_drop(*m);
  return reply::integer(removed);
}

template <class C>
Reply zscore(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  auto s = m ? detail::score_of(c, *m, a[2]) : std::nullopt;
  return s ? reply::number(*s) : reply::null();
}

template <class C>
Reply zmscore(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  std::vector<Reply> out;
  for (std::size_t i = 2; i < a.size(); ++i) {
    auto s = m ? detail::score_of(c, *m, a[i]) : std::nullopt;
    out.push_back(s ? reply::number(*s) : reply::null());
  }
  return reply::array(std::move(out));
}

template <class C>
Reply zcard(C& c, Args a) { return detail::size_of(c, a, Type::zset); }

namespace detail {
/// ZCOUNT, ZLEXCOUNT (remove = false) and ZREMRANGEBYSCORE, ZREMRANGEBYLEX (remove = true).
template <class C>
Reply in_range(C& c, Args a, By by, bool remove) {
  auto b = bounds(by, a[2], a[3]);
  if (!b) return bounds_error(by);
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  auto es = entries(c, *m, *b, false, 0, -1);
  return remove ? remove_entries(c, m, es) : reply::integer(static_cast<std::int64_t>(es.size()));
}

template <class C>
Reply rank(C& c, Args a, bool rev) {
  bool withscore = a.size() == 4 && iequals(a[3], "WITHSCORE");
  if (a.size() > 4 || (a.size() == 4 && !withscore)) return reply::syntax();
  auto m = c.find(a[1]);
  if (wrong_type(m, Type::zset)) return reply::wrongtype();
  auto s = m ? score_of(c, *m, a[2]) : std::nullopt;
  if (!s) return withscore ? reply::null_array() : reply::null();
  auto below = static_cast<std::int64_t>(c.elems(*m, "s", score_key(*s, a[2])).size());
  auto r = reply::integer(rev ? m->size - 1 - below : below);
  return withscore ? reply::array({r, reply::number(*s)}) : r;
}
}  // namespace detail

template <class C>
Reply zcount(C& c, Args a) { return detail::in_range(c, a, detail::By::score, false); }
template <class C>
Reply zlexcount(C& c, Args a) { return detail::in_range(c, a, detail::By::lex, false); }
template <class C>
Reply zrank(C& c, Args a) { return detail::rank(c, a, false); }
template <class C>
Reply zrevrank(C& c, Args a) { return detail::rank(c, a, true); }

template <class C>
Reply zrange(C& c, Args a) {
  auto by = detail::By::rank;
  bool rev = false, withscores = false, limited = false;
  std::int64_t offset = 0, count = -1;
  for (std::size_t i = 4; i < a.size(); ++i) {
    if (iequals(a[i], "BYSCORE")) by = detail::By::score;
    else if (iequals(a[i], "BYLEX")) by = detail::By::lex;
    else if (iequals(a[i], "REV")) rev = true;
    else if (iequals(a[i], "WITHSCORES")) withscores = true;
    else if (iequals(a[i], "LIMIT") && i + 2 < a.size()) {
      auto o = parse_integer(a[i + 1]), n = parse_integer(a[i + 2]);
      if (!o || !n) return reply::not_integer();
      offset = *o, count = *n, limited = true;
      i += 2;
    } else {
      return reply::syntax();
    }
  }
  if (limited && by == detail::By::rank)
    return reply::error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withscores && by == detail::By::lex)
    return reply::error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  // With REV, BYSCORE and BYLEX take max first, as ZREVRANGEBYSCORE.
  return detail::range(c, a[1], a[2], a[3], by, rev, withscores, offset, count);
}

template <class C>
Reply zrevrange(C& c, Args a) {
  if (a.size() > 5 || (a.size() == 5 && !iequals(a[4], "WITHSCORES"))) return reply::syntax();
  return detail::range(c, a[1], a[2], a[3], detail::By::rank, true, a.size() == 5, 0, -1);
}

template <class C>
Reply zrangebyscore(C& c, Args a) { return detail::range_by(c, a, detail::By::score, false); }
template <class C>
Reply zrevrangebyscore(C& c, Args a) { return detail::range_by(c, a, detail::By::score, true); }
template <class C>
Reply zrangebylex(C& c, Args a) { return detail::range_by(c, a, detail::By::lex, false); }
template <class C>
Reply zrevrangebylex(C& c, Args a) { return detail::range_by(c, a, detail::By::lex, true); }
template <class C>
Reply zpopmin(C& c, Args a) { return detail::pop(c, a, false); }
template <class C>
Reply zpopmax(C& c, Args a) { return detail::pop(c, a, true); }

template <class C>
Reply zremrangebyrank(C& c, Args a) {
  auto start = parse_integer(a[2]), stop = parse_integer(a[3]);
  if (!start || !stop) return reply::not_integer();
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!m) return reply::integer(0);
  return detail::remove_entries(c, m, detail::by_rank(c, *m, *start, *stop, false));
}

template <class C>
Reply zremrangebyscore(C& c, Args a) { return detail::in_range(c, a, detail::By::score, true); }
template <class C>
Reply zremrangebylex(C& c, Args a) { return detail::in_range(c, a, detail::By::lex, true); }

template <class C>
Reply zrandmember(C& c, Args a) {
  std::optional<std::int64_t> count;
  if (auto e = detail::random_count(a, "WITHSCORES", count)) return *e;
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::zset)) return reply::wrongtype();
  if (!count) {
    auto e = m ? c.random_elem(*m, "m") : std::nullopt;
    return e ? reply::bulk(std::string_view(e->first).substr(1)) : reply::null();
  }
  if (auto e = m ? detail::too_many_picks(*count) : std::nullopt) return *e;
  std::vector<Reply> out;
  if (m)
    for (auto& [sub, v] : detail::random_picks(c, *m, *count, "m")) {
      out.push_back(reply::bulk(std::string_view(sub).substr(1)));
      if (a.size() == 4) out.push_back(reply::number(v.size() == 8 ? detail::get_double(v) : 0.0));
    }
  return a.size() == 4 ? reply::pairs(std::move(out)) : reply::array(std::move(out));
}

template <class C>
Reply zscan(C& c, Args a) {
  return detail::scan_elements(c, a, c.find(a[1]), Type::zset, "m",
                               [](std::string_view member, std::string_view v, const detail::ScanOptions&, auto& out) {
                                 out.push_back(reply::bulk(member));
                                 out.push_back(reply::bulk(reply::format_double(v.size() == 8 ? detail::get_double(v) : 0.0)));
                               });
}

}  // namespace kvstack::redis::cmd
