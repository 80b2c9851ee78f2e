// Redis's SORT and SORT_RO: the elements of a list, set or sorted set, sorted as numbers or
// (ALPHA) as bytes, by themselves or by other keys (BY pattern, `*` standing for the element,
// `key->field` for a hash field), LIMITed, with other keys' values fetched (GET), and STOREd as
// a list.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/command.hpp>
#include <kvstack/redis/lists.hpp>
#include <kvstack/redis/zsets.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
/// What `pattern` names for `element`: the element itself for "#"; otherwise the string at the
/// pattern with its first '*' replaced by `element` — or, for "key->field", that hash field.
/// Nothing when the pattern has no '*', or the key is missing or of another type.
template <class C>
std::optional<std::string> sort_lookup(C& c, std::string_view pattern, const std::string& element) {
  if (pattern == "#") return element;
  auto star = pattern.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  auto arrow = pattern.find("->", star + 1);
  bool field = arrow != std::string_view::npos && arrow + 2 < pattern.size();
  std::string key(pattern.substr(0, star));
  key += element;
  key += pattern.substr(star + 1, (field ? arrow : pattern.size()) - star - 1);
  auto m = c.find(key);
  if (!m) return std::nullopt;
  if (field) return m->type == Type::hash ? c.elem(*m, pattern.substr(arrow + 2)) : std::nullopt;
  return m->type == Type::string ? std::optional<std::string>(m->value) : std::nullopt;
}

/// The elements of the list, set or sorted set `m`, in its own order.
template <class C>
std::vector<std::string> sort_elements(C& c, const Meta& m) {
  std::vector<std::string> out;
  if (m.type == Type::list) return slice(c, m, 0, m.size - 1);
  if (m.type == Type::set)
    for (auto& [member, v] : c.elems(m)) out.push_back(std::move(member));
  else
    for (auto& e : entries(c, m, all_scores(), false, 0, -1)) out.push_back(std::move(e.member));
  return out;
}

template <class C>
Reply sort(C& c, Args a, bool read_only) {
  bool desc = false, alpha = false, dont_sort = false;
  std::int64_t offset = 0, count = -1;
  std::optional<std::string> by, store;
  std::vector<std::string> gets;
  for (std::size_t i = 2; i < a.size(); ++i) {
    const std::size_t more = a.size() - i - 1;
    if (iequals(a[i], "ASC")) desc = false;
    else if (iequals(a[i], "DESC")) desc = true;
    else if (iequals(a[i], "ALPHA")) alpha = true;
    else if (iequals(a[i], "LIMIT") && more >= 2) {
      auto o = parse_integer(a[i + 1]), n = parse_integer(a[i + 2]);
      if (!o || !n) return reply::not_integer();
      offset = *o, count = *n;
      i += 2;
    } else if (!read_only && iequals(a[i], "STORE") && more >= 1) {
      store = a[++i];
    } else if (iequals(a[i], "BY") && more >= 1) {
      by = a[++i];
      dont_sort = by->find('*') == std::string::npos;
    } else if (iequals(a[i], "GET") && more >= 1) {
      gets.push_back(a[++i]);
    } else {
      return reply::syntax();
    }
  }
  auto m = c.find(a[1]);
  if (m && m->type != Type::list && m->type != Type::set && m->type != Type::zset) return reply::wrongtype();
  auto elements = m ? sort_elements(c, *m) : std::vector<std::string>{};
  if (dont_sort && m && m->type == Type::set && store) dont_sort = false, alpha = true, by.reset();  // as Redis
  if (dont_sort && desc) std::ranges::reverse(elements);
  if (!dont_sort) {
    struct Keyed {
      std::string element;
      double score = 0;
      std::optional<std::string> text;  // ALPHA BY: the other key's value (none sorts first)
    };
    std::vector<Keyed> keyed;
    bool not_a_number = false;
    for (auto& e : elements) {
      Keyed k{std::move(e), 0, std::nullopt};
      auto weight = by ? sort_lookup(c, *by, k.element) : std::optional<std::string>(k.element);
      if (alpha && by) {
        k.text = std::move(weight);
      } else if (!alpha && weight) {  // strtod's reading, as Redis: "" is 0
        errno = 0;
        char* end = nullptr;
        k.score = std::strtod(weight->c_str(), &end);
        not_a_number = not_a_number || *end != '\0' || errno == ERANGE || std::isnan(k.score);
      }
      keyed.push_back(std::move(k));
    }
    if (not_a_number) return reply::error("ERR One or more scores can't be converted into double");
    std::ranges::stable_sort(keyed, [&](const Keyed& x, const Keyed& y) {
      int cmp = 0;
      if (!alpha) cmp = x.score < y.score ? -1 : x.score > y.score ? 1 : x.element.compare(y.element);
      else if (by) cmp = x.text == y.text ? 0 : !x.text ? -1 : !y.text ? 1 : x.text->compare(*y.text);
      else cmp = x.element.compare(y.element);
      return desc ? cmp > 0 : cmp < 0;
    });
    elements.clear();
    for (auto& k : keyed) elements.push_back(std::move(k.element));
  }
  const auto n = static_cast<std::int64_t>(elements.size());
  const std::int64_t start = std::clamp<std::int64_t>(offset, 0, n);
  const std::int64_t stop = count < 0 ? n : std::min(n, start + count);
  std::vector<std::optional<std::string>> out;
  for (auto i = start; i < stop; ++i) {
    const auto& e = elements[static_cast<std::size_t>(i)];
    if (gets.empty()) out.emplace_back(e);
    for (auto& g : gets) out.push_back(sort_lookup(c, g, e));
  }
  if (!store) {
    std::vector<Reply> replies;
    for (auto& v : out) replies.push_back(reply::optional_bulk(v));
    return reply::array(std::move(replies));
  }
  Meta list = c.create(*store, Type::list);
  std::vector<std::string_view> values;
  values.reserve(out.size());
  for (auto& v : out) values.push_back(v ? std::string_view(*v) : std::string_view());
  push_all(c, list, false, values);
  if (list.size == 0) {
    if (auto old = c.find(*store)) c.drop(*old);
  } else {
    c.save(list);
  }
  return reply::integer(list.size);
}
}  // namespace detail

template <class C>
Reply sort(C& c, Args a) { return detail::sort(c, a, false); }
template <class C>
Reply sort_ro(C& c, Args a) { return detail::sort(c, a, true); }

}  // namespace kvstack::redis::cmd
