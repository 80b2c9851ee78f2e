// Redis set commands: SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SUNION
// SINTER SDIFF SUNIONSTORE SINTERSTORE SDIFFSTORE SINTERCARD SSCAN. One backend entry per member.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <kvstack/redis/hashes.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
template <class C>
bool set_add(C& c, Meta& m, std::string_view member) {
  if (c.elem(m, member)) return false;
  c.put_elem(m, member, "");
  ++m.size;
  return true;
}

enum class SetOp { unite, intersect, diff };

/// The members of SUNION/SINTER/SDIFF over `keys`; nullopt with `err` on a wrong type.
template <class C>
std::optional<std::set<std::string>> combine(C& c, std::span<const std::string> keys, SetOp op, Reply& err) {
  std::vector<std::optional<Meta>> metas;
  for (auto& k : keys) {
    metas.push_back(c.find(k));
    if (wrong_type(metas.back(), Type::set)) return err = reply::wrongtype(), std::nullopt;
  }
  std::set<std::string> out;
  auto members = [&](const std::optional<Meta>& m) {
    std::set<std::string> s;
    if (m)
      for (auto& [k, v] : c.elems(*m)) s.insert(k);
    return s;
  };
  if (op == SetOp::intersect) {
    // Walk the smallest set, probing the others: O(smallest * keys * log n).
    for (auto& m : metas)
      if (!m) return out;
    auto smallest = std::min_element(metas.begin(), metas.end(), [](auto& x, auto& y) { return x->size < y->size; });
    for (auto& member : members(*smallest)) {
      bool all = true;
      for (auto& m : metas)
        if (&m != &*smallest && !c.elem(*m, member)) {
          all = false;
          break;
        }
      if (all) out.insert(member);
    }
    return out;
  }
  out = members(metas[0]);
  for (std::size_t i = 1; i < metas.size(); ++i) {
    if (!metas[i]) continue;
    if (op == SetOp::unite) {
      out.merge(members(metas[i]));
    } else {
      for (auto it = out.begin(); it != out.end();) it = c.elem(*metas[i], *it) ? out.erase(it) : std::next(it);
    }
  }
  return out;
}

template <class C>
Reply combine_command(C& c, Args a, SetOp op) {
  Reply err;
  auto s = combine(c, a.subspan(1), op, err);
  if (!s) return err;
  std::vector<Reply> out;
  for (auto& m : *s) out.push_back(reply::bulk(m));
  return reply::set(std::move(out));
}

template <class C>
Reply store_command(C& c, Args a, SetOp op) {
  Reply err;
  auto s = combine(c, a.subspan(2), op, err);
  if (!s) return err;
  Meta m = c.create(a[1], Type::set);
  for (auto& member : *s) set_add(c, m, member);
  if (m.size == 0) {
    if (auto old = c.find(a[1])) c.drop(*old);
  } else {
    c.save(m);
  }
  return reply::integer(m.size);
}
}  // namespace detail

template <class C>
Reply sadd(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::set)) return reply::wrongtype();
  if (!m) m = c.create(a[1], Type::set);
  std::int64_t added = 0;
  for (std::size_t i = 2; i < a.size(); ++i) added += detail::set_add(c, *m, a[i]);
  if (added) c.save(*m);
  return reply::integer(added);
}

template <class C>
Reply srem(C& c, Args a) { return detail::remove_elements(c, a, Type::set); }
template <class C>
Reply sismember(C& c, Args a) { return detail::has_element(c, a, Type::set); }

template <class C>
Reply smismember(C& c, Args a) {
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::set)) return reply::wrongtype();
  std::vector<Reply> out;
  for (std::size_t i = 2; i < a.size(); ++i) out.push_back(reply::integer(m && c.elem(*m, a[i]) ? 1 : 0));
  return reply::array(std::move(out));
}

template <class C>
Reply smembers(C& c, Args a) { return detail::combine_command(c, a.subspan(0, 2), detail::SetOp::unite); }

template <class C>
Reply scard(C& c, Args a) { return detail::size_of(c, a, Type::set); }

template <class C>
Reply spop(C& c, Args a) {
  std::optional<std::int64_t> count;
  if (auto e = detail::pop_count(a, count)) return *e;
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::set)) return reply::wrongtype();
  if (!m) return count ? reply::set() : reply::null();
  std::vector<std::pair<std::string, std::string>> picked;
  if (!count) picked.push_back(*c.random_elem(*m));
  else picked = detail::random_picks(c, *m, *count);
  std::vector<Reply> out;
  for (auto& [member, v] : picked) {
    c.erase_elem(*m, member);
    out.push_back(reply::bulk(member));
  }
  m->size -= static_cast<std::int64_t>(picked.size());
  c.save_or_drop(*m);
  if (!count) return out.front();
  return reply::set(std::move(out));
}

template <class C>
Reply srandmember(C& c, Args a) {
  std::optional<std::int64_t> count;
  if (auto e = detail::random_count(a, "", count)) return *e;
  auto m = c.find(a[1]);
  if (detail::wrong_type(m, Type::set)) return reply::wrongtype();
  if (!count) {
    auto e = m ? c.random_elem(*m) : std::nullopt;
    return e ? reply::bulk(e->first) : reply::null();
  }
  if (auto e = m ? detail::too_many_picks(*count) : std::nullopt) return *e;
  std::vector<Reply> out;
  if (m)
    for (auto& [member, v] : detail::random_picks(c, *m, *count)) out.push_back(reply::bulk(member));
  return reply::array(std::move(out));
}

template <class C>
Reply smove(C& c, Args a) {
  auto src = c.find(a[1]), dst = c.find(a[2]);
  if (!src) return reply::integer(0);  // as Redis, whatever the destination holds
  if (detail::wrong_type(src, Type::set) || detail::wrong_type(dst, Type::set)) return reply::wrongtype();
  if (!c.elem(*src, a[3])) return reply::integer(0);
  if (a[1] == a[2]) return reply::integer(1);
  c.erase_elem(*src, a[3]);
  --src->size;
  c.save_or_drop(*src);
  if (!dst) dst = c.create(a[2], Type::set);
  if (detail::set_add(c, *dst, a[3])) c.save(*dst);
  return reply::integer(1);
}

template <class C>
Reply sunion(C& c, Args a) { return detail::combine_command(c, a, detail::SetOp::unite); }
template <class C>
Reply sinter(C& c, Args a) { return detail::combine_command(c, a, detail::SetOp::intersect); }
template <class C>
Reply sdiff(C& c, Args a) { return detail::combine_command(c, a, detail::SetOp::diff); }
template <class C>
Reply sunionstore(C& c, Args a) { return detail::store_command(c, a, detail::SetOp::unite); }
template <class C>
Reply sinterstore(C& c, Args a) { return detail::store_command(c, a, detail::SetOp::intersect); }
template <class C>
Reply sdiffstore(C& c, Args a) { return detail::store_command(c, a, detail::SetOp::diff); }

template <class C>
Reply sintercard(C& c, Args a) {
  auto n = parse_integer(a[1]);
  if (!n || *n <= 0) return reply::error("ERR numkeys should be greater than 0");  // Redis's words for both
  if (*n > static_cast<std::int64_t>(a.size()) - 2) return reply::error("ERR Number of keys can't be greater than number of args");
  std::int64_t limit = 0;
  auto rest = static_cast<std::size_t>(2 + *n);
  if (rest < a.size()) {
    if (rest + 2 != a.size() || !iequals(a[rest], "LIMIT")) return reply::syntax();
    auto l = parse_integer(a[rest + 1]);
    if (!l || *l < 0) return reply::error("ERR LIMIT can't be negative");
    limit = *l;
  }
  Reply err;
  auto s = detail::combine(c, a.subspan(2, static_cast<std::size_t>(*n)), detail::SetOp::intersect, err);
  if (!s) return err;
  auto size = static_cast<std::int64_t>(s->size());
  return reply::integer(limit ? std::min(size, limit) : size);
}

template <class C>
Reply sscan(C& c, Args a) {
  return detail::scan_elements(c, a, c.find(a[1]), Type::set, "",
                               [](std::string_view m, std::string_view, const detail::ScanOptions&, auto& out) {
                                 out.push_back(reply::bulk(m));
                               });
}

}  // namespace kvstack::redis::cmd
