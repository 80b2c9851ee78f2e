// Redis's sorted-set algebra: ZUNION ZINTER ZDIFF and their STORE forms, ZINTERCARD, and
// ZRANGESTORE. The inputs may be sets too (each member scores 1), as in Redis; results are in
// score order, then member order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <kvstack/redis/command.hpp>
#include <kvstack/redis/zsets.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
enum class ZsetOp { unite, intersect, diff };
enum class Aggregate { sum, min, max };

/// Folds `v` into `into` as AGGREGATE says (a sum of +inf and -inf is 0, as in Redis).
inline void aggregate(double& into, double v, Aggregate how) {
  if (how == Aggregate::sum) into = std::isnan(into + v) ? 0.0 : into + v;
  else if (how == Aggregate::min) into = std::min(into, v);
  else into = std::max(into, v);
}

/// A member -> score map of the zset or set `m` (null: empty).
template <class C>
std::map<std::string, double> scores_of(C& c, const std::optional<Meta>& m) {
  std::map<std::string, double> out;
  if (!m) return out;
  if (m->type == Type::set) {
    for (auto& [member, v] : c.elems(*m)) out.emplace(member, 1.0);
  } else {
    for (auto& e : entries(c, *m, all_scores(), false, 0, -1)) out.emplace(std::move(e.member), e.score);
  }
  return out;
}

/// The result of ZUNION/ZINTER/ZDIFF/ZINTERCARD: the entries, or with `card_only` the count.
struct ZsetOpResult {
  std::vector<Entry> entries;
  std::int64_t cardinality = 0;
};

/// Parses `numkeys key... [WEIGHTS w...] [AGGREGATE how] [WITHSCORES] [LIMIT n]` from a[at] (the
/// options each command takes) and computes the result, with Redis's errors in Redis's order.
template <class C>
std::optional<Reply> zset_op(C& c, Args a, std::size_t at, ZsetOp op, bool store, bool card_only, bool& withscores,
                             ZsetOpResult& out) {
  auto n = parse_integer(a[at]);
  if (!n) return reply::not_integer();
  if (*n < 1)
    return reply::error("ERR at least 1 input key is needed for '" + ascii_lower(a[0]) + "' command");
  if (static_cast<std::uint64_t>(*n) > a.size() - at - 1) return reply::syntax();
  const auto keys = a.subspan(at + 1, static_cast<std::size_t>(*n));
  std::vector<std::optional<Meta>> metas;
  for (auto& k : keys) {
    auto m = c.find(k);
    if (m && m->type != Type::zset && m->type != Type::set) return reply::wrongtype();
    metas.push_back(std::move(m));
  }
  std::vector<double> weights(keys.size(), 1.0);
  auto how = Aggregate::sum;
  std::int64_t limit = 0;
  const bool algebra = op != ZsetOp::diff && !card_only;
  for (std::size_t i = at + 1 + keys.size(); i < a.size(); ++i) {
    const std::size_t left = a.size() - i;
    if (algebra && left > keys.size() && iequals(a[i], "WEIGHTS")) {
      for (auto& w : weights) {
        auto v = parse_double(a[++i]);
        if (!v) return reply::error("ERR weight value is not a float");
        w = *v;
      }
    } else if (algebra && left >= 2 && iequals(a[i], "AGGREGATE")) {
      ++i;
      if (iequals(a[i], "SUM")) how = Aggregate::sum;
      else if (iequals(a[i], "MIN")) how = Aggregate::min;
      else if (iequals(a[i], "MAX")) how = Aggregate::max;
      else return reply::syntax();
    } else if (!store && !card_only && iequals(a[i], "WITHSCORES")) {
      withscores = true;
    } else if (card_only && left >= 2 && iequals(a[i], "LIMIT")) {
      auto l = parse_integer(a[++i]);
      if (!l || *l < 0) return reply::error("ERR LIMIT can't be negative");
      limit = *l;
    } else {
      return reply::syntax();
    }
  }
  auto weighted = [&](double score, std::size_t i) {
    double s = score * weights[i];
    return std::isnan(s) ? 0.0 : s;  // 0 * inf, as Redis
  };
  std::map<std::string, double> result;
  if (op == ZsetOp::unite) {
    for (std::size_t i = 0; i < metas.size(); ++i)
      for (auto& [member, score] : scores_of(c, metas[i])) {
        auto [it, fresh] = result.emplace(member, weighted(score, i));
        if (!fresh) aggregate(it->second, weighted(score, i), how);
      }
  } else if (op == ZsetOp::diff) {
    result = scores_of(c, metas[0]);
    for (std::size_t i = 1; i < metas.size() && !result.empty(); ++i)
      for (auto& [member, score] : scores_of(c, metas[i])) result.erase(member);
  } else {
    std::vector<std::map<std::string, double>> inputs;
    for (auto& m : metas) inputs.push_back(scores_of(c, m));
    std::size_t smallest = 0;  // walk the smallest input, look each member up in the others
    for (std::size_t i = 1; i < inputs.size(); ++i)
      if (inputs[i].size() < inputs[smallest].size()) smallest = i;
    for (auto& [member, score] : inputs[smallest]) {
      double total = weighted(score, smallest);
      bool everywhere = true;
      for (std::size_t i = 0; i < inputs.size() && everywhere; ++i) {
        if (i == smallest) continue;
        auto it = inputs[i].find(member);
        everywhere = it != inputs[i].end();
        if (everywhere) aggregate(total, weighted(it->second, i), how);
      }
      if (!everywhere) continue;
      if (card_only && ++out.cardinality == limit) break;
      if (!card_only) result.emplace(member, total);
    }
  }
  for (auto& [member, score] : result) out.entries.push_back({member, score});
  std::ranges::sort(out.entries, [](const Entry& x, const Entry& y) {
    return x.score != y.score ? x.score < y.score : x.member < y.member;
  });
  return std::nullopt;
}

/// Replaces `dst` with a sorted set of `es` (or deletes it, when `es` is empty): its size.
template <class C>
Reply store_entries(C& c, std::string_view dst, const std::vector<Entry>& es) {
  Meta m = c.create(dst, Type::zset);
  for (auto& e : es) zset_put(c, m, e.member, e.score, std::nullopt);
  if (m.size == 0) {
    if (auto old = c.find(dst)) c.drop(*old);
  } else {
    c.save(m);
  }
  return reply::integer(m.size);
}

template <class C>
Reply zset_op_command(C& c, Args a, ZsetOp op, bool store) {
  bool withscores = false;
  ZsetOpResult r;
  if (auto e = zset_op(c, a, store ? 2 : 1, op, store, false, withscores, r)) return *e;
  return store ? store_entries(c, a[1], r.entries) : entries_reply(r.entries, withscores);
}
}  // namespace detail

template <class C>
Reply zunion(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::unite, false); }
template <class C>
Reply zinter(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::intersect, false); }
template <class C>
Reply zdiff(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::diff, false); }
template <class C>
Reply zunionstore(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::unite, true); }
template <class C>
Reply zinterstore(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::intersect, true); }
template <class C>
Reply zdiffstore(C& c, Args a) { return detail::zset_op_command(c, a, detail::ZsetOp::diff, true); }

template <class C>
Reply zintercard(C& c, Args a) {
  bool withscores = false;
  detail::ZsetOpResult r;
  if (auto e = detail::zset_op(c, a, 1, detail::ZsetOp::intersect, false, true, withscores, r)) return *e;
  return reply::integer(r.cardinality);
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: what ZRANGE selects,
/// stored as `dst` (deleted when nothing is selected).
template <class C>
Reply zrangestore(C& c, Args a) {
  std::vector<std::string> range{"zrange"};
  bool bylex = false;
  for (std::size_t i = 2; i < a.size(); ++i) {
    if (iequals(a[i], "WITHSCORES")) return reply::syntax();
    bylex = bylex || iequals(a[i], "BYLEX");
    range.push_back(a[i]);
  }
  if (!bylex) range.push_back("WITHSCORES");  // BYLEX takes none: its scores are read below
  Reply r = zrange(c, Args(range));
  if (r.is_error()) return r;
  std::vector<detail::Entry> es;
  if (bylex) {
    auto m = c.find(a[2]);
    for (auto& member : r.elements) es.push_back({member.text, detail::score_of(c, *m, member.text).value_or(0)});
  } else {
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2)
      es.push_back({r.elements[i].text, parse_double(r.elements[i + 1].text, true).value_or(0)});  // exact: %.17g
  }
  return detail::store_entries(c, a[1], es);
}

}  // namespace kvstack::redis::cmd
