// Redis key and database commands: DEL UNLINK EXISTS TOUCH TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT
// EXPIRETIME PEXPIRETIME TTL PTTL PERSIST KEYS SCAN RENAME RENAMENX COPY MOVE RANDOMKEY DBSIZE
// FLUSHDB FLUSHALL SWAPDB SELECT, and PING ECHO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

namespace detail {
using namespace kvstack::redis::detail;

/// A database index argument: nullopt with `err` set when not one.
template <class C>
std::optional<int> db_index(C& c, std::string_view arg, Reply& err, std::string_view not_integer = "ERR value is not an integer or out of range") {
  auto n = parse_integer(arg);
  if (!n || *n < INT32_MIN || *n > INT32_MAX) return err = reply::error(std::string(not_integer)), std::nullopt;
  if (*n < 0 || *n >= c.databases()) return err = reply::error("ERR DB index is out of range"), std::nullopt;
  return static_cast<int>(*n);
}

template <class C>
Reply expire_command(C& c, Args a, std::int64_t unit, bool absolute) {
  bool nx = false, xx = false, gt = false, lt = false;  // as Redis: the options first, then the time
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (iequals(a[i], "NX")) nx = true;
    else if (iequals(a[i], "XX")) xx = true;
    else if (iequals(a[i], "GT")) gt = true;
    else if (iequals(a[i], "LT")) lt = true;
    else return reply::error("ERR Unsupported option " + a[i]);
  }
  if (nx && (xx || gt || lt)) return reply::error("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (gt && lt) return reply::error("ERR GT and LT options at the same time are not compatible");
  std::int64_t deadline = 0;
  if (auto e = detail::deadline(a[2], unit, absolute, false, c.now(), a[0], deadline)) return *e;
  auto m = c.find(a[1]);
  if (!m) return reply::integer(0);
  // No expiry counts as an infinite one.
  if ((nx && m->expiry) || (xx && !m->expiry) || (gt && (!m->expiry || deadline <= m->expiry)) ||
      (lt && m->expiry && deadline >= m->expiry))
    return reply::integer(0);
  m->expiry = deadline;
  if (deadline <= c.now()) c.drop(*m);
  else c.save(*m);
  return reply::integer(1);
}

template <class C>
Reply ttl_command(C& c, Args a, bool ms, bool absolute) {
  auto m = c.find(a[1]);
  if (!m) return reply::integer(-2);
  if (!m->expiry) return reply::integer(-1);
  std::int64_t t = absolute ? m->expiry : m->expiry - c.now();
  return reply::integer(ms ? t : absolute ? t / 1000 : (t + 500) / 1000);
}

/// The literal start of a glob pattern, to narrow a KEYS scan.
inline std::string literal_prefix(std::string_view pattern) {
  auto end = pattern.find_first_of("*?[\\");
  return std::string(pattern.substr(0, end));
}

template <class C>
void copy_elements(C& c, const Meta& from, Meta& to) {
  for (auto& [sub, v] : c.elems(from)) c.put_elem(to, sub, v);
  to.size = from.size;
  to.head = from.head;
  to.tail = from.tail;
}
}  // namespace detail

template <class C>
Reply del(C& c, Args a) {
  std::int64_t n = 0;
  for (std::size_t i = 1; i < a.size(); ++i)
    if (auto m = c.find(a[i])) {
      c.drop(*m);
      ++n;
    }
  return reply::integer(n);
}
template <class C>
Reply unlink(C& c, Args a) { return del(c, a); }

template <class C>
Reply exists(C& c, Args a) {
  std::int64_t n = 0;
  for (std::size_t i = 1; i < a.size(); ++i) n += c.find(a[i]) ? 1 : 0;
  return reply::integer(n);
}

/// TOUCH: how many of the keys exist (kvstack keeps no access times: nothing else to do).
template <class C>
Reply touch(C& c, Args a) { return exists(c, a); }

template <class C>
Reply type(C& c, Args a) {
  auto m = c.find(a[1]);
  return reply::simple(std::string(m ? type_name(m->type) : "none"));
}

template <class C>
Reply expire(C& c, Args a) { return detail::expire_command(c, a, 1000, false); }
template <class C>
Reply pexpire(C& c, Args a) { return detail::expire_command(c, a, 1, false); }
template <class C>
Reply expireat(C& c, Args a) { return detail::expire_command(c, a, 1000, true); }
template <class C>
Reply pexpireat(C& c, Args a) { return detail::expire_command(c, a, 1, true); }
template <class C>
Reply ttl(C& c, Args a) { return detail::ttl_command(c, a, false, false); }
template <class C>
Reply pttl(C& c, Args a) { return detail::ttl_command(c, a, true, false); }
template <class C>
Reply expiretime(C& c, Args a) { return detail::ttl_command(c, a, false, true); }
template <class C>
Reply pexpiretime(C& c, Args a) { return detail::ttl_command(c, a, true, true); }

template <class C>
Reply persist(C& c, Args a) {
  auto m = c.find(a[1]);
  if (!m || !m->expiry) return reply::integer(0);
  m->expiry = 0;
  c.save(*m);
  return reply::integer(1);
}

template <class C>
Reply keys(C& c, Args a) {
  auto prefix = detail::literal_prefix(a[1]);
  std::vector<Reply> out;
  std::string at = prefix;
  bool after = false;
  while (true) {
    auto page = c.keys(c.session().db, at, after, 1024);
    for (auto& m : page) {
      if (m.key.compare(0, prefix.size(), prefix) != 0) return reply::array(std::move(out));
      if (glob_match(a[1], m.key)) out.push_back(reply::bulk(m.key));
    }
    if (page.size() < 1024 || c.failed()) break;
    at = page.back().key;
    after = true;
  }
  return reply::array(std::move(out));
}

template <class C>
Reply scan(C& c, Args a) {
  detail::ScanOptions o;
  if (auto e = detail::parse_scan(a, 1, o, true)) return *e;
  auto at = c.cursor(o.cursor);
  if (!at) return reply::error("ERR invalid cursor");
  auto page = c.keys(c.session().db, *at, false, static_cast<std::size_t>(o.count) + 1);
  std::uint64_t next = 0;
  if (page.size() > static_cast<std::size_t>(o.count)) {
    next = c.save_cursor(page.back().key);
    page.pop_back();
  }
  std::vector<Reply> out;
  for (auto& m : page)
    if ((!o.match || glob_match(*o.match, m.key)) && (!o.type || iequals(*o.type, type_name(m.type))))
      out.push_back(reply::bulk(m.key));
  return reply::array({reply::bulk(std::to_string(next)), reply::array(std::move(out))});
}

template <class C>
Reply rename(C& c, Args a) {
  auto m = c.find(a[1]);
  if (!m) return reply::no_such_key();
  if (a[1] != a[2]) c.move_key(*m, c.session().db, a[2]);
  return reply::ok();
}

template <class C>
Reply renamenx(C& c, Args a) {
  auto m = c.find(a[1]);
  if (!m) return reply::no_such_key();
  if (a[1] == a[2] || c.find(a[2])) return reply::integer(0);
  c.move_key(*m, c.session().db, a[2]);
  return reply::integer(1);
}

template <class C>
Reply copy(C& c, Args a) {
  int db = c.session().db;
  bool replace = false;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (iequals(a[i], "REPLACE")) {
      replace = true;
    } else if (iequals(a[i], "DB") && i + 1 < a.size()) {
      Reply err;
      auto d = detail::db_index(c, a[++i], err);
      if (!d) return err;
      db = *d;
    } else {
      return reply::syntax();
    }
  }
  if (a[1] == a[2] && db == c.session().db) return reply::error("ERR source and destination objects are the same");
  auto m = c.find(a[1]);
  if (!m || (!replace && c.find_in(db, a[2]))) return reply::integer(0);
  Meta to = c.create_in(db, a[2], m->type);
  to.expiry = m->expiry;
  if (m->is_collection()) detail::copy_elements(c, *m, to);
  else to.value = m->value;
  c.save(to);
  return reply::integer(1);
}

template <class C>
Reply move(C& c, Args a) {
  Reply err;
  auto db = detail::db_index(c, a[2], err);
  if (!db) return err;
  if (*db == c.session().db) return reply::error("ERR source and destination objects are the same");
  auto m = c.find(a[1]);
  if (!m || c.find_in(*db, a[1])) return reply::integer(0);
  c.move_key(*m, *db, a[1]);
  return reply::integer(1);
}

template <class C>
Reply randomkey(C& c, Args) {
  // Uniform over up to uniform_pick_limit keys; past that, as random_elem, the first live key
  // from a random point on.
  constexpr auto limit = static_cast<std::size_t>(C::uniform_pick_limit);
  auto few = c.keys(c.session().db, "", false, limit + 1);
  if (few.size() <= limit) {
    if (few.empty()) return reply::null();
    return reply::bulk(few[std::uniform_int_distribution<std::size_t>(0, few.size() - 1)(c.rng())].key);
  }
  std::string at;
  c.put_random(at);
  auto page = c.keys(c.session().db, at, false, 1);
  if (page.empty()) page = c.keys(c.session().db, "", false, 1);
  return page.empty() ? reply::null() : reply::bulk(page.front().key);
}

template <class C>
Reply dbsize(C& c, Args) {
  std::int64_t n = 0;
  std::string at;
  bool after = false;
  while (true) {
    auto page = c.keys(c.session().db, at, after, 4096);
    n += static_cast<std::int64_t>(page.size());
    if (page.size() < 4096 || c.failed()) return reply::integer(n);
    at = page.back().key;
    after = true;
  }
}

namespace detail {
inline bool flush_mode_ok(Args a) { return a.size() == 1 || (a.size() == 2 && (iequals(a[1], "ASYNC") || iequals(a[1], "SYNC"))); }
}  // namespace detail

template <class C>
Reply flushdb(C& c, Args a) {
  if (!detail::flush_mode_ok(a)) return reply::syntax();
  c.flush(c.session().db);
  return reply::ok();
}

template <class C>
Reply flushall(C& c, Args a) {
  if (!detail::flush_mode_ok(a)) return reply::syntax();
  for (int db = 0; db < c.databases(); ++db) c.flush(db);
  return reply::ok();
}

template <class C>
Reply swapdb(C& c, Args a) {
  Reply err;
  auto x = detail::db_index(c, a[1], err, "ERR invalid first DB index");
  if (!x) return err;
  auto y = detail::db_index(c, a[2], err, "ERR invalid second DB index");
  if (!y) return err;
  if (*x != *y) c.swap(*x, *y);
  return reply::ok();
}

template <class C>
Reply select(C& c, Args a) {
  Reply err;
  auto db = detail::db_index(c, a[1], err, "ERR invalid DB index");
  if (!db) return err;
  c.session().db = *db;
  return reply::ok();
}

template <class C>
Reply ping(C&, Args a) {
  if (a.size() > 2) return reply::wrong_arity(a[0]);
  return a.size() == 2 ? reply::bulk(a[1]) : reply::simple("PONG");
}

template <class C>
Reply echo(C&, Args a) { return reply::bulk(a[1]); }

}  // namespace kvstack::redis::cmd
