// Redis string commands over a DataStore context: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX
// MGET MSET MSETNX APPEND STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SETRANGE SETBIT
// GETBIT.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
using namespace kvstack::redis::detail;

/// Stores `value` at `key` as a string, replacing any type; `expiry` 0: none; keep: keep the old.
template <class C>
void set_string(C& c, std::string_view key, std::string_view value, std::int64_t expiry, bool keep = false) {
  auto old = keep ? c.find(key) : std::nullopt;
  Meta m = c.create(key, Type::string);
  m.value = value;
  m.expiry = keep && old ? old->expiry : expiry;
  if (m.expiry != 0 && c.now() >= m.expiry) c.drop(m);  // EXAT/PXAT in the past: gone at once
  else c.save(m);
}

/// The string at `key`: nullopt with `err` set when another type is there.
template <class C>
std::optional<Meta> string_at(C& c, std::string_view key, std::optional<Reply>& err) {
  auto m = c.find(key);
  if (wrong_type(m, Type::string)) err = reply::wrongtype();
  return m;
}

/// Stores `value` at `key`, where `m` is the string found there (nullopt: none), keeping its
/// expiry (as INCR, APPEND, SETRANGE and SETBIT do).
template <class C>
void rewrite_string(C& c, std::optional<Meta>& m, std::string_view key, std::string value) {
  if (!m) return set_string(c, key, value, 0);
  m->value = std::move(value);
  c.save(*m);
}

template <class C>
Reply add_integer(C& c, std::string_view key, std::int64_t delta) {
  std::optional<Reply> err;
  auto m = string_at(c, key, err);
  if (err) return *err;
  std::int64_t v = 0;
  if (m) {
    auto parsed = parse_integer(m->value);
    if (!parsed) return reply::not_integer();
    v = *parsed;
  }
  if (__builtin_add_overflow(v, delta, &v)) return reply::overflow();
  rewrite_string(c, m, key, std::to_string(v));
  return reply::integer(v);
}
}  // namespace detail

template <class C>
Reply get(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  return m ? reply::bulk(m->value) : reply::null();
}

template <class C>
Reply set(C& c, Args a) {
  bool nx = false, xx = false, get = false, keep = false, has_expiry = false;
  std::int64_t expiry = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    auto& o = a[i];
    if (iequals(o, "NX") && !xx) nx = true;
    else if (iequals(o, "XX") && !nx) xx = true;
    else if (iequals(o, "GET")) get = true;
    else if (iequals(o, "KEEPTTL") && !has_expiry) keep = true;
    else if ((iequals(o, "EX") || iequals(o, "PX") || iequals(o, "EXAT") || iequals(o, "PXAT")) && !keep &&
             !has_expiry && i + 1 < a.size()) {
      bool seconds = iequals(o, "EX") || iequals(o, "EXAT");
      bool absolute = iequals(o, "EXAT") || iequals(o, "PXAT");
      if (auto e = detail::deadline(a[++i], seconds ? 1000 : 1, absolute, true, c.now(), "set", expiry)) return *e;
      has_expiry = true;
    } else {
      return reply::syntax();
    }
  }
  auto m = nx || xx || get ? c.find(a[1]) : std::nullopt;  // (a plain SET needs nothing of the old key)
  if (get && detail::wrong_type(m, Type::string)) return reply::wrongtype();
  Reply old = get && m ? reply::bulk(m->value) : reply::null();
  if ((nx && m) || (xx && !m)) return old;
  detail::set_string(c, a[1], a[2], expiry, keep);
  return get ? old : reply::ok();
}

template <class C>
Reply setnx(C& c, Args a) {
  if (c.find(a[1])) return reply::integer(0);
  detail::set_string(c, a[1], a[2], 0);
  return reply::integer(1);
}

namespace detail {
template <class C>
Reply set_with_ttl(C& c, Args a, std::int64_t unit) {
  std::int64_t expiry = 0;
  if (auto e = deadline(a[2], unit, false, true, c.now(), a[0], expiry)) return *e;
  set_string(c, a[1], a[3], expiry);
  return reply::ok();
}
}  // namespace detail

template <class C>
Reply setex(C& c, Args a) { return detail::set_with_ttl(c, a, 1000); }
template <class C>
Reply psetex(C& c, Args a) { return detail::set_with_ttl(c, a, 1); }

template <class C>
Reply getset(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  detail::set_string(c, a[1], a[2], 0);
  return m ? reply::bulk(m->value) : reply::null();
}

template <class C>
Reply getdel(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  if (!m) return reply::null();
  c.drop(*m);
  return reply::bulk(m->value);
}

template <class C>
Reply getex(C& c, Args a) {
  std::optional<std::int64_t> expiry;  // 0: PERSIST
  for (std::size_t i = 2; i < a.size(); ++i) {
    auto& o = a[i];
    if (iequals(o, "PERSIST") && !expiry) {
      expiry = 0;
    } else if ((iequals(o, "EX") || iequals(o, "PX") || iequals(o, "EXAT") || iequals(o, "PXAT")) && !expiry &&
               i + 1 < a.size()) {
      bool seconds = iequals(o, "EX") || iequals(o, "EXAT");
      bool absolute = iequals(o, "EXAT") || iequals(o, "PXAT");
      std::int64_t d = 0;
      if (auto e = detail::deadline(a[++i], seconds ? 1000 : 1, absolute, true, c.now(), "getex", d)) return *e;
      expiry = d;
    } else {
      return reply::syntax();
    }
  }
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  if (!m) return reply::null();
  Reply r = reply::bulk(m->value);
  if (expiry && *expiry != m->expiry) {
    m->expiry = *expiry;
    if (m->expiry != 0 && c.now() >= m->expiry) c.drop(*m);
    else c.save(*m);
  }
  return r;
}

template <class C>
Reply mget(C& c, Args a) {
  std::vector<Reply> out;
  for (std::size_t i = 1; i < a.size(); ++i) {
    auto m = c.find(a[i]);
    out.push_back(m && m->type == Type::string ? reply::bulk(m->value) : reply::null());
  }
  return reply::array(std::move(out));
}

template <class C>
Reply mset(C& c, Args a) {
  if (a.size() % 2 == 0) return reply::wrong_arity(a[0]);
  for (std::size_t i = 1; i < a.size(); i += 2) detail::set_string(c, a[i], a[i + 1], 0);
  return reply::ok();
}

template <class C>
Reply msetnx(C& c, Args a) {
  if (a.size() % 2 == 0) return reply::wrong_arity(a[0]);
  for (std::size_t i = 1; i < a.size(); i += 2)
    if (c.find(a[i])) return reply::integer(0);
  for (std::size_t i = 1; i < a.size(); i += 2) detail::set_string(c, a[i], a[i + 1], 0);
  return reply::integer(1);
}

template <class C>
Reply append(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  if (!m) {
    detail::set_string(c, a[1], a[2], 0);
    return reply::integer(static_cast<std::int64_t>(a[2].size()));
  }
  if (m->value.size() + a[2].size() > max_string_size) return reply::too_big();
  m->value += a[2];
  c.save(*m);
  return reply::integer(static_cast<std::int64_t>(m->value.size()));
}

template <class C>
Reply strlen(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  return reply::integer(m ? static_cast<std::int64_t>(m->value.size()) : 0);
}

template <class C>
Reply incr(C& c, Args a) { return detail::add_integer(c, a[1], 1); }
template <class C>
Reply decr(C& c, Args a) { return detail::add_integer(c, a[1], -1); }

template <class C>
Reply incrby(C& c, Args a) {
  auto d = parse_integer(a[2]);
  if (!d) return reply::not_integer();
  return detail::add_integer(c, a[1], *d);
}

template <class C>
Reply decrby(C& c, Args a) {
  auto d = parse_integer(a[2]);
  if (!d) return reply::not_integer();
  if (*d == INT64_MIN) return reply::error("ERR decrement would overflow");
  return detail::add_integer(c, a[1], -*d);
}

template <class C>
Reply incrbyfloat(C& c, Args a) {
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  auto delta = parse_long_double(a[2]);
  if (!delta) return reply::not_float();
  long double v = 0;
  if (m) {
    auto parsed = parse_long_double(m->value);
    if (!parsed) return reply::not_float();
    v = *parsed;
  }
  v += *delta;
  if (std::isnan(v) || std::isinf(v)) return reply::error("ERR increment would produce NaN or Infinity");
  auto text = format_long_double(v);
  detail::rewrite_string(c, m, a[1], text);
  return reply::bulk(text);
}

template <class C>
Reply getrange(C& c, Args a) {
  auto start = parse_integer(a[2]), end = parse_integer(a[3]);
  if (!start || !end) return reply::not_integer();
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  if (!m) return reply::bulk("");
  auto len = static_cast<std::int64_t>(m->value.size());
  std::int64_t s = *start, e = *end;
  if (s < 0 && e < 0 && s > e) return reply::bulk("");
  if (s < 0) s += len;
  if (e < 0) e += len;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= len) e = len - 1;
  if (s > e || len == 0) return reply::bulk("");
  return reply::bulk(std::string_view(m->value).substr(static_cast<std::size_t>(s), static_cast<std::size_t>(e - s + 1)));
}

template <class C>
Reply setrange(C& c, Args a) {
  auto offset = parse_integer(a[2]);
  if (!offset) return reply::not_integer();
  if (*offset < 0) return reply::error("ERR offset is out of range");
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  auto& v = a[3];
  if (v.empty()) return reply::integer(m ? static_cast<std::int64_t>(m->value.size()) : 0);
  if (static_cast<std::uint64_t>(*offset) + v.size() > max_string_size) return reply::too_big();
  std::string value = m ? m->value : std::string();
  auto off = static_cast<std::size_t>(*offset);
  if (value.size() < off + v.size()) value.resize(off + v.size(), '\0');
  value.replace(off, v.size(), v);
  const auto size = static_cast<std::int64_t>(value.size());
  detail::rewrite_string(c, m, a[1], std::move(value));
  return reply::integer(size);
}

namespace detail {
/// A bit offset as Redis reads one: 0 up to the bits of the largest string (proto-max-bulk-len).
inline std::optional<std::uint64_t> bit_offset(std::string_view arg) {
  auto v = parse_integer(arg);
  if (!v || *v < 0 || static_cast<std::uint64_t>(*v) >> 3 >= max_string_size) return std::nullopt;
  return static_cast<std::uint64_t>(*v);
}
inline Reply bad_bit_offset() { return reply::error("ERR bit offset is not an integer or out of range"); }
/// Bit `offset` of `s` (bit 0 is the high bit of the first byte); 0 past its end.
inline int bit_at(std::string_view s, std::uint64_t offset) {
  const auto byte = offset >> 3;
  return byte < s.size() ? (static_cast<unsigned char>(s[byte]) >> (7 - (offset & 7))) & 1 : 0;
}
}  // namespace detail

/// SETBIT key offset 0|1: sets one bit (the string grows with zero bytes) and returns the old one.
template <class C>
Reply setbit(C& c, Args a) {
  auto offset = detail::bit_offset(a[2]);
  if (!offset) return detail::bad_bit_offset();
  if (a[3] != "0" && a[3] != "1") return reply::error("ERR bit is not an integer or out of range");
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  std::string value = m ? m->value : std::string();
  const int old = detail::bit_at(value, *offset);
  const auto byte = static_cast<std::size_t>(*offset >> 3);
  if (value.size() <= byte) value.resize(byte + 1, '\0');
  const auto mask = static_cast<unsigned char>(1u << (7 - (*offset & 7)));
  value[byte] = static_cast<char>(a[3] == "1" ? value[byte] | mask : value[byte] & ~mask);
  detail::rewrite_string(c, m, a[1], std::move(value));
  return reply::integer(old);
}

/// GETBIT key offset: the bit (0 past the end, or for no key).
template <class C>
Reply getbit(C& c, Args a) {
  auto offset = detail::bit_offset(a[2]);
  if (!offset) return detail::bad_bit_offset();
  std::optional<Reply> err;
  auto m = detail::string_at(c, a[1], err);
  if (err) return *err;
  return reply::integer(m ? detail::bit_at(m->value, *offset) : 0);
}

}  // namespace kvstack::redis::cmd
