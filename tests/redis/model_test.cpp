// redis::DataStore against a reference model: random command sequences on each engine answer as
// a plain in-memory model of Redis's semantics does (with sweeps and, on durable engines, reopens
// in between). And persistence: every type, with its expiry, survives closing the store.
#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "redis/redis_fixture.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;
using redis::Reply;
namespace reply = redis::reply;

namespace {

/// Redis's semantics for a subset of the commands, on standard containers.
class Model {
 public:
  Reply run(const std::vector<std::string>& a) {
    const auto& c = a[0];
    if (c == "SET") return db_[a[1]] = string_value(a[2]), reply::ok();
    if (c == "GET") return with<std::string>(a[1], [](auto* s) { return s ? reply::bulk(*s) : reply::null(); });
    if (c == "DEL") return reply::integer(static_cast<std::int64_t>(db_.erase(a[1])));
    if (c == "EXISTS") return reply::integer(db_.count(a[1]) ? 1 : 0);
    if (c == "TYPE") {
      auto it = db_.find(a[1]);
      constexpr const char* names[] = {"string", "list", "hash", "set", "zset"};
      return reply::simple(it == db_.end() ? "none" : names[it->second.index()]);
    }
    if (c == "APPEND") {
      if (wrong<std::string>(a[1])) return reply::wrongtype();
      auto& s = std::get<std::string>(db_.try_emplace(a[1], std::string()).first->second);
      s += a[2];
      return reply::integer(static_cast<std::int64_t>(s.size()));
    }
    if (c == "INCR") {
      if (wrong<std::string>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      std::int64_t v = 0;
      if (it != db_.end()) {
        auto parsed = redis::parse_integer(std::get<std::string>(it->second));
        if (!parsed) return reply::not_integer();
        v = *parsed;
      }
      db_[a[1]] = std::to_string(++v);
      return reply::integer(v);
    }
    if (c == "LPUSH" || c == "RPUSH") {
      if (wrong<List>(a[1])) return reply::wrongtype();
      auto& l = std::get<List>(db_.try_emplace(a[1], List{}).first->second);
      for (std::size_t i = 2; i < a.size(); ++i) c == "LPUSH" ? l.push_front(a[i]) : l.push_back(a[i]);
      return reply::integer(static_cast<std::int64_t>(l.size()));
    }
    if (c == "LPOP" || c == "RPOP") {
      if (wrong<List>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::null();
      auto& l = std::get<List>(it->second);
      auto v = c == "LPOP" ? l.front() : l.back();
      c == "LPOP" ? l.pop_front() : l.pop_back();
      drop_empty(a[1], l);
      return reply::bulk(v);
    }
    if (c == "LLEN") return with<List>(a[1], [](auto* l) { return reply::integer(l ? static_cast<std::int64_t>(l->size()) : 0); });
    if (c == "LRANGE")
      return with<List>(a[1], [&](auto* l) {
        std::vector<Reply> out;
        if (l) {
          auto n = static_cast<std::int64_t>(l->size());
          std::int64_t start = std::stoll(a[2]), stop = std::stoll(a[3]);
          if (start < 0) start = std::max<std::int64_t>(0, start + n);
          if (stop < 0) stop += n;
          for (auto i = start; i <= std::min(stop, n - 1); ++i) out.push_back(reply::bulk((*l)[static_cast<std::size_t>(i)]));
        }
        return reply::array(std::move(out));
      });
    if (c == "LINDEX")
      return with<List>(a[1], [&](auto* l) {
        if (!l) return reply::null();
        std::int64_t n = static_cast<std::int64_t>(l->size()), i = std::stoll(a[2]);
        if (i < 0) i += n;
        return i < 0 || i >= n ? reply::null() : reply::bulk((*l)[static_cast<std::size_t>(i)]);
      });
    if (c == "LREM") {
      if (wrong<List>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::integer(0);
      auto& l = std::get<List>(it->second);
      auto count = std::stoll(a[2]);
      std::int64_t removed = 0, limit = count == 0 ? INT64_MAX : std::abs(count);
      if (count >= 0) {
        for (auto i = l.begin(); i != l.end() && removed < limit;) i = *i == a[3] ? (++removed, l.erase(i)) : std::next(i);
      } else {
        for (auto i = l.size(); i-- > 0 && removed < limit;)
          if (l[i] == a[3]) l.erase(l.begin() + static_cast<std::ptrdiff_t>(i)), ++removed;
      }
      drop_empty(a[1], l);
      return reply::integer(removed);
    }
    if (c == "HSET") {
      if (wrong<Hash>(a[1])) return reply::wrongtype();
      auto& h = std::get<Hash>(db_.try_emplace(a[1], Hash{}).first->second);
      std::int64_t added = 0;
      for (std::size_t i = 2; i + 1 < a.size(); i += 2) added += h.insert_or_assign(a[i], a[i + 1]).second;
      return reply::integer(added);
    }
    if (c == "HGET")
      return with<Hash>(a[1], [&](auto* h) {
        if (!h || !h->count(a[2])) return reply::null();
        return reply::bulk(h->at(a[2]));
      });
    if (c == "HDEL") {
      if (wrong<Hash>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::integer(0);
      auto& h = std::get<Hash>(it->second);
      auto n = static_cast<std::int64_t>(h.erase(a[2]));
      drop_empty(a[1], h);
      return reply::integer(n);
    }
    if (c == "HLEN") return with<Hash>(a[1], [](auto* h) { return reply::integer(h ? static_cast<std::int64_t>(h->size()) : 0); });
    if (c == "HGETALL")
      return with<Hash>(a[1], [](auto* h) {
        std::vector<Reply> out;
        if (h)
          for (auto& [f, v] : *h) out.push_back(reply::bulk(f)), out.push_back(reply::bulk(v));
        return reply::map(std::move(out));
      });
    if (c == "SADD") {
      if (wrong<Set>(a[1])) return reply::wrongtype();
      auto& s = std::get<Set>(db_.try_emplace(a[1], Set{}).first->second);
      std::int64_t added = 0;
      for (std::size_t i = 2; i < a.size(); ++i) added += s.insert(a[i]).second;
      return reply::integer(added);
    }
    if (c == "SREM") {
      if (wrong<Set>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::integer(0);
      auto& s = std::get<Set>(it->second);
      auto n = static_cast<std::int64_t>(s.erase(a[2]));
      drop_empty(a[1], s);
      return reply::integer(n);
    }
    if (c == "SISMEMBER") return with<Set>(a[1], [&](auto* s) { return reply::integer(s && s->count(a[2]) ? 1 : 0); });
    if (c == "SCARD") return with<Set>(a[1], [](auto* s) { return reply::integer(s ? static_cast<std::int64_t>(s->size()) : 0); });
    if (c == "SMEMBERS")
      return with<Set>(a[1], [](auto* s) {
        std::vector<Reply> out;
        if (s)
          for (auto& m : *s) out.push_back(reply::bulk(m));
        return reply::array(std::move(out));
      });
    if (c == "ZADD") {
      if (wrong<ZSet>(a[1])) return reply::wrongtype();
      auto& z = std::get<ZSet>(db_.try_emplace(a[1], ZSet{}).first->second);
      return reply::integer(z.insert_or_assign(a[3], std::stod(a[2])).second ? 1 : 0);
    }
    if (c == "ZREM") {
      if (wrong<ZSet>(a[1])) return reply::wrongtype();
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::integer(0);
      auto& z = std::get<ZSet>(it->second);
      auto n = static_cast<std::int64_t>(z.erase(a[2]));
      drop_empty(a[1], z);
      return reply::integer(n);
    }
    if (c == "ZSCORE")
      return with<ZSet>(a[1], [&](auto* z) {
        if (!z || !z->count(a[2])) return reply::null();
        return reply::number(z->at(a[2]));
      });
    if (c == "ZCARD") return with<ZSet>(a[1], [](auto* z) { return reply::integer(z ? static_cast<std::int64_t>(z->size()) : 0); });
    if (c == "ZRANGE" || c == "ZRANK")
      return with<ZSet>(a[1], [&](auto* z) {
        std::vector<std::pair<double, std::string>> sorted;
        if (z)
          for (auto& [m, s] : *z) sorted.emplace_back(s, m);
        std::sort(sorted.begin(), sorted.end());
        if (c == "ZRANK") {
          for (std::size_t i = 0; i < sorted.size(); ++i)
            if (sorted[i].second == a[2]) return reply::integer(static_cast<std::int64_t>(i));
          return reply::null();
        }
        std::vector<Reply> out;
        for (auto& [s, m] : sorted) out.push_back(reply::bulk(m)), out.push_back(reply::number(s));
        return reply::array(std::move(out));
      });
    if (c == "RENAME") {
      auto it = db_.find(a[1]);
      if (it == db_.end()) return reply::no_such_key();
      auto v = std::move(it->second);
      db_.erase(it);
      db_.insert_or_assign(a[2], std::move(v));
      return reply::ok();
    }
    if (c == "DBSIZE") return reply::integer(static_cast<std::int64_t>(db_.size()));
    if (c == "KEYS") {
      std::vector<Reply> out;
      for (auto& [k, v] : db_) out.push_back(reply::bulk(k));
      return reply::array(std::move(out));
    }
    FAIL("model: no command " << c);
    return {};
  }

 private:
  using List = std::deque<std::string>;
  using Hash = std::map<std::string, std::string>;
  using Set = std::set<std::string>;
  using ZSet = std::map<std::string, double>;
  using Value = std::variant<std::string, List, Hash, Set, ZSet>;

  static Value string_value(const std::string& s) { return Value(std::in_place_index<0>, s); }

  template <class T>
  bool wrong(const std::string& key) const {
    auto it = db_.find(key);
    return it != db_.end() && !std::holds_alternative<T>(it->second);
  }
  template <class T, class F>
  Reply with(const std::string& key, F f) {
    if (wrong<T>(key)) return reply::wrongtype();
    auto it = db_.find(key);
    return f(it == db_.end() ? nullptr : &std::get<T>(it->second));
  }
  template <class C>
  void drop_empty(const std::string& key, const C& c) {
    if (c.empty()) db_.erase(key);
  }

  std::map<std::string, Value> db_;
};

std::vector<std::string> random_command(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto key = "k" + std::to_string(pick(6));
  auto val = [&] { return std::string(1, static_cast<char>('a' + pick(4))); };
  auto num = [&](int lo, int hi) { return std::to_string(lo + pick(hi - lo + 1)); };
  switch (pick(34)) {
    case 0: case 1: return {"SET", key, val()};
    case 2: return {"GET", key};
    case 3: return {"DEL", key};
    case 4: return {"EXISTS", key};
    case 5: return {"TYPE", key};
    case 6: return {"APPEND", key, val()};
    case 7: return {"INCR", key};
    case 8: case 9: return {pick(2) ? "LPUSH" : "RPUSH", key, val(), val()};
    case 10: return {pick(2) ? "LPOP" : "RPOP", key};
    case 11: return {"LLEN", key};
    case 12: return {"LRANGE", key, num(-4, 3), num(-3, 4)};
    case 13: return {"LINDEX", key, num(-4, 4)};
    case 14: return {"LREM", key, num(-2, 2), val()};
    case 15: case 16: return {"HSET", key, val(), val()};
    case 17: return {"HGET", key, val()};
    case 18: return {"HDEL", key, val()};
    case 19: return {"HLEN", key};
    case 20: return {"HGETALL", key};
    case 21: case 22: return {"SADD", key, val(), val()};
    case 23: return {"SREM", key, val()};
    case 24: return {"SISMEMBER", key, val()};
    case 25: return {pick(2) ? "SCARD" : "SMEMBERS", key};
    case 26: case 27: return {"ZADD", key, num(-3, 3), val()};
    case 28: return {"ZREM", key, val()};
    case 29: return {"ZSCORE", key, val()};
    case 30: return {pick(2) ? "ZCARD" : "ZRANK", key, val()};
    case 31: return {"ZRANGE", key, "0", "-1", "WITHSCORES"};
    case 32: return {"RENAME", key, "k" + std::to_string(pick(6))};
    default: return {pick(2) ? "DBSIZE" : "KEYS", "*"};
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("redis DataStore answers random commands as the reference model", "[redis][model]", StoreTypes) {
  RedisFixture<TestType> r;
  Model model;
  std::mt19937 rng(20261122);
  for (int step = 0; step < 4000; ++step) {
    auto cmd = random_command(rng);
    if (cmd[0] == "ZCARD" || cmd[0] == "DBSIZE" || cmd[0] == "SCARD") cmd.resize(cmd[0] == "DBSIZE" ? 1 : 2);
    auto want = redis::to_text(model.run(cmd));
    auto got = redis::to_text(redis::execute(*r.store, r.session, redis::Args(cmd)));
    INFO("step " << step << ": " << [&] { std::string s; for (auto& a : cmd) s += a + " "; return s; }());
    REQUIRE(got == want);
    if (step % 97 == 0) REQUIRE(r.store->sweep(16).has_value());
    if constexpr (BackendFactory<TestType>::durable)
      if (step % 1000 == 999) r.reopen();
  }
}

TEMPLATE_LIST_TEST_CASE("redis: every type and its expiry survive a reopen", "[redis][persistence]", DurableTypes) {
  RedisFixture<TestType> r;
  r({"SET", "s", "v", "EX", "100"});
  r({"RPUSH", "l", "a", "b", "c"});
  r({"LPOP", "l"});
  r({"HSET", "h", "f", "v", "g", "w"});
  r({"SADD", "set", "x", "y"});
  r({"ZADD", "z", "1.5", "a", "-2", "b"});
  r({"PEXPIRE", "z", "5000"});
  r({"SELECT", "3"});
  r({"SET", "in3", "three"});
  r({"SWAPDB", "3", "4"});
  r({"SELECT", "0"});
  r({"DEL", "gone"});
  r({"SADD", "gone", "old"});
  r({"DEL", "gone"});
  r.reopen();
  CHECK(r({"GET", "s"}) == "\"v\"");
  CHECK(r({"TTL", "s"}) == ":100");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"b\", \"c\"]");
  CHECK(r({"RPUSH", "l", "d"}) == ":3");
  CHECK(r({"HGETALL", "h"}) == "{\"f\": \"v\", \"g\": \"w\"}");
  CHECK(r({"SMEMBERS", "set"}) == "[\"x\", \"y\"]");
  CHECK(r({"ZRANGE", "z", "0", "-1", "WITHSCORES"}) == "[\"b\", (double) -2, \"a\", (double) 1.5]");
  CHECK(r({"PTTL", "z"}) == ":5000");
  CHECK(r({"SADD", "gone", "new"}) == ":1");  // versions persist: a recreated key sees nothing old
  CHECK(r({"SMEMBERS", "gone"}) == "[\"new\"]");
  r({"SELECT", "4"});
  CHECK(r({"GET", "in3"}) == "\"three\"");  // SWAPDB persisted
  r({"SELECT", "0"});
  r.clock.advance(5s);
  CHECK(r({"EXISTS", "z"}) == ":0");
  r.reopen();
  CHECK(r({"EXISTS", "z"}) == ":0");
  CHECK(r({"TTL", "s"}) == ":95");
  CHECK(r.store->sweep().value().expired_keys == 1);
  CHECK(r({"DBSIZE"}) == ":5");
}
