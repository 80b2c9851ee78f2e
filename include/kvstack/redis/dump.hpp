// Redis's DUMP and RESTORE, with kvstack's own payload (not Redis's RDB format: a payload moves
// between kvstack servers, not to or from redis-server). The payload is the type, the value or
// the elements (each length-prefixed; a sorted set's scores as 8 bytes), a format version, and a
// 64-bit FNV-1a checksum of all before it, so that RESTORE refuses a payload damaged in transit.
#pragma once

#include <cstdint>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/redis/command.hpp>
#include <kvstack/redis/hashes.hpp>
#include <kvstack/redis/lists.hpp>
#include <kvstack/redis/sets.hpp>
#include <kvstack/redis/zsets.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
/// The version DUMP writes and RESTORE reads: "kvs" and 1.
inline constexpr std::string_view dump_version{"kvs\x01", 4};

inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

inline void put_chunk(std::string& out, std::string_view s) {
  put_int<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

/// Reads what put_chunk wrote at `at`; nullopt when `s` is too short.
inline std::optional<std::string_view> get_chunk(std::string_view s, std::size_t& at) {
  if (s.size() - at < 4) return std::nullopt;
  auto n = get_int<std::uint32_t>(s, at);
  at += 4;
  if (s.size() - at < n) return std::nullopt;
  at += n;
  return s.substr(at - n, n);
}

template <class C>
std::string dump_payload(C& c, const Meta& m) {
  std::string out(1, static_cast<char>(m.type));
  if (m.type == Type::string) {
    out += m.value;
  } else {
    put_int<std::uint32_t>(out, static_cast<std::uint32_t>(m.size));
    if (m.type == Type::list) {
      for (auto& v : slice(c, m, 0, m.size - 1)) put_chunk(out, v);
    } else if (m.type == Type::zset) {
      for (auto& e : entries(c, m, all_scores(), false, 0, -1)) {
        put_chunk(out, e.member);
        put_double(out, e.score);
      }
    } else {
      for (auto& [sub, v] : c.elems(m)) {
        put_chunk(out, sub);
        if (m.type == Type::hash) put_chunk(out, v);
      }
    }
  }
  out += dump_version;
  put_int<std::uint64_t>(out, fnv1a(out));
  return out;
}

/// The elements of a collection's payload body, as (element, hash value or 8-byte score) pairs;
/// nullopt when it is malformed.
inline std::optional<std::vector<std::pair<std::string_view, std::string_view>>> decode_elements(std::string_view body,
                                                                                                  Type type) {
  if (body.size() < 4) return std::nullopt;
  const auto n = get_int<std::uint32_t>(body);
  std::size_t at = 4;
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    auto first = get_chunk(body, at);
    if (!first) return std::nullopt;
    std::string_view second;
    if (type == Type::hash) {
      auto value = get_chunk(body, at);
      if (!value) return std::nullopt;
      second = *value;
    } else if (type == Type::zset) {
      if (body.size() - at < 8) return std::nullopt;
      second = body.substr(at, 8);
      at += 8;
    }
    out.emplace_back(*first, second);
  }
  if (at != body.size()) return std::nullopt;
  return out;
}

/// Fills `m`, a new collection, with `elements` (from decode_elements).
template <class C>
void restore_elements(C& c, Meta& m, const std::vector<std::pair<std::string_view, std::string_view>>& elements) {
  if (m.type == Type::list) return push_all(c, m, false, elements | std::views::keys);
  for (auto& [first, second] : elements) {
    if (m.type == Type::set) set_add(c, m, first);
    else if (m.type == Type::hash) hash_set(c, m, first, second);
    else zset_put(c, m, first, get_double(second), score_of(c, m, first));
  }
}
}  // namespace detail

/// DUMP key: the key's value as a payload for RESTORE, or nil.
template <class C>
Reply dump(C& c, Args a) {
  auto m = c.find(a[1]);
  return m ? reply::bulk(detail::dump_payload(c, *m)) : reply::null();
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] (IDLETIME and FREQ are
/// checked, and have no effect: kvstack does not evict).
template <class C>
Reply restore(C& c, Args a) {
  bool replace = false, absolute = false, idle = false, freq = false;
  for (std::size_t i = 4; i < a.size(); ++i) {
    const bool more = i + 1 < a.size();
    if (iequals(a[i], "REPLACE")) {
      replace = true;
    } else if (iequals(a[i], "ABSTTL")) {
      absolute = true;
    } else if (iequals(a[i], "IDLETIME") && more && !freq) {
      auto v = parse_integer(a[++i]);
      if (!v) return reply::not_integer();
      if (*v < 0) return reply::error("ERR Invalid IDLETIME value, must be >= 0");
      idle = true;
    } else if (iequals(a[i], "FREQ") && more && !idle) {
      auto v = parse_integer(a[++i]);
      if (!v) return reply::not_integer();
      if (*v < 0 || *v > 255) return reply::error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = true;
    } else {
      return reply::syntax();
    }
  }
  auto old = c.find(a[1]);
  if (old && !replace) return reply::error("BUSYKEY Target key name already exists.");
  auto ttl = parse_integer(a[2]);
  if (!ttl) return reply::not_integer();
  if (*ttl < 0) return reply::error("ERR Invalid TTL value, must be >= 0");
  std::string_view p = a[3];
  const std::size_t trailer = detail::dump_version.size() + 8;
  if (p.size() < 1 + trailer || p.substr(p.size() - trailer, detail::dump_version.size()) != detail::dump_version ||
      detail::get_int<std::uint64_t>(p, p.size() - 8) != detail::fnv1a(p.substr(0, p.size() - 8)))
    return reply::error("ERR DUMP payload version or checksum are wrong");
  const auto type = static_cast<Type>(p[0]);
  if (type < Type::string || type > Type::zset) return reply::error("ERR Bad data format");
  std::int64_t expiry = *ttl;
  if (expiry != 0 && !absolute && __builtin_add_overflow(expiry, c.now(), &expiry))
    return reply::error("ERR Invalid TTL value, must be >= 0");
  const auto body = p.substr(1, p.size() - 1 - trailer);
  std::optional<std::vector<std::pair<std::string_view, std::string_view>>> elements;
  if (type != Type::string && !(elements = detail::decode_elements(body, type)))
    return reply::error("ERR Bad data format");
  if (expiry != 0 && c.now() >= expiry) {  // already expired: nothing is created, the old key goes
    if (old) c.drop(*old);
    return reply::ok();
  }
  Meta m = c.create(a[1], type);
  if (elements) detail::restore_elements(c, m, *elements);
  else m.value = body;
  m.expiry = expiry;
  c.save(m);
  return reply::ok();
}

}  // namespace kvstack::redis::cmd
