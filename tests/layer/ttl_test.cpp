// Ttl<B, Clock>: expiry at the deadline, refresh, persist, purge through the time index, reopen.
#include <algorithm>
#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include <kvstack/core/clock.hpp>
#include <kvstack/core/stats.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>
#include <kvstack/registry/namespaced_registry.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;
using Catch::Matchers::Equals;
using Strings = std::vector<std::string>;

namespace {
using MemTtl = Ttl<MemoryBackend, ManualClock>;

// Index entries left in the layer below (they sort before all data).
std::size_t index_entries(const MemTtl& db) {
  return collect(db.inner(), KeyRange::prefix(std::string(1, '\0'))).size();
}
}  // namespace

TEST_CASE("Ttl: a key expires exactly at its deadline, on every read path", "[ttl]") {
  ManualClock clock;
  MemTtl db(MemoryBackend{}, clock);
  db.put("session", "alice", 10s).value();
  db.put("config", "v1").value();
  NamespacedRegistry<MemTtl, std::string> users{db, "user"};
  users.put("u1", "bob").value();
  users.put("u2", "carol").value();
  db.expire(users.storage_key("u2"), 10s).value();

  clock.advance(9999ms);
  CHECK(db.get("session").value() == "alice");
  CHECK(db.ttl("session").value() == 1ms);
  CHECK(db.ttl("config").value() == std::nullopt);  // no expiry
  CHECK(users.count().value() == 2);

  clock.advance(1ms);  // now == deadline: expired
  CHECK(db.get("session").value() == std::nullopt);
  CHECK_FALSE(db.get("session", [](std::string_view) { FAIL("an expired value was handed out"); }).value());
  CHECK(db.ttl("session").value() == std::nullopt);
  CHECK_THAT(keys_of(db, KeyRange::all()), Equals(Strings{"config", users.storage_key("u1")}));
  CHECK(keys_of(db, KeyRange::all().reverse().limit(1)) == Strings{users.storage_key("u1")});
  CHECK(stats(db, KeyRange::all()).value().keys == 2);
  CHECK(users.count().value() == 1);
  CHECK_FALSE(users.contains("u2").value());
  std::size_t listed = 0;
  for (auto&& [id, name] : users.list()) {
    CHECK(id == "u1");
    ++listed;
  }
  CHECK(listed == 1);
  CHECK(db.transact([](auto& tx) -> Result<bool> {
            CHECK(collect(tx, KeyRange::all()).size() == 2);
            return tx.get("session", [](std::string_view) {});
          }).value() == false);
  CHECK_FALSE(db.expire("session", 10s).value());  // an expired key cannot be revived
  CHECK_FALSE(db.persist("session").value());
}

TEST_CASE("Ttl: expire refreshes, persist removes the expiry, expire(key, 0) erases", "[ttl]") {
  ManualClock clock;
  MemTtl db(MemoryBackend{}, clock);
  db.put("k", "v", 10s).value();
  clock.advance(8s);
  CHECK(db.expire("k", 10s).value());  // now due at 18 s
  clock.advance(9s);
  CHECK(db.get("k").value() == "v");
  CHECK(db.ttl("k").value() == 1s);
  CHECK(db.persist("k").value());
  CHECK_FALSE(db.persist("k").value());  // no expiry left to remove
  clock.advance(1h);
  CHECK(db.get("k").value() == "v");
  CHECK(db.ttl("k").value() == std::nullopt);

  CHECK(db.expire("k", 0ms).value());
  CHECK(db.get("k").value() == std::nullopt);
  CHECK_FALSE(db.expire("absent", 1s).value());
  CHECK_FALSE(db.persist("absent").value());

  // A plain put clears an expiry, as Redis's SET does; so do batches and transactions.
  db.put("a", "1", 5s).value();
  db.put("a", "2").value();
  db.put("b", "1", 5s).value();
  db.write(WriteBatch{}.put("b", "2")).value();
  db.put("c", "1", 5s).value();
  db.transact([](auto& tx) { return tx.put("c", "2"); }).value();
  db.transact([](auto& tx) { return tx.put("d", "1", 5s); }).value();
  clock.advance(5s);
  CHECK_THAT(collect(db, KeyRange::all()), Equals(Entries{{"a", "2"}, {"b", "2"}, {"c", "2"}}));
  CHECK(index_entries(db) == 4);  // blind writes leave a, b and c's entries; expire and persist did not
  CHECK(db.purge_expired().value() == 1);  // d; the stale entries go too
  CHECK(index_entries(db) == 0);

  // A time to live must be positive; nothing is written otherwise.
  CHECK(db.put("z", "v", 0ms).error() == errc::invalid_argument);
  CHECK(db.put("z", "v", -1s).error() == errc::invalid_argument);
  CHECK(db.get("z").value() == std::nullopt);
}

TEST_CASE("Ttl: purge_expired walks only what is due, earliest first", "[ttl]") {
  ManualClock clock;
  MemTtl db(MemoryBackend{}, clock);
  std::vector<std::pair<std::string, std::string>> expired;
  db.on_expire([&](std::string_view k, std::string_view v) { expired.emplace_back(k, v); });
  for (int i = 0; i < 3000; ++i) db.put("live/" + std::to_string(i), "x").value();
  for (int i = 0; i < 100; ++i) db.put("later/" + std::to_string(i), "x", 1h).value();
  for (int i = 0; i < 1500; ++i) db.put("due/" + std::to_string(10000 + i), "v" + std::to_string(i), std::chrono::milliseconds(1000 + i)).value();
  clock.advance(1h - 1ms);

  CHECK(db.purge_expired(2).value() == 2);
  CHECK_THAT(expired, Equals(std::vector<std::pair<std::string, std::string>>{{"due/10000", "v0"}, {"due/10001", "v1"}}));
  CHECK(db.purge_expired().value() == 1498);  // more than one chunk of 1,000
  CHECK(expired.size() == 1500);
  CHECK(expired.back() == std::pair<std::string, std::string>{"due/11499", "v1499"});
  CHECK(db.purge_expired().value() == 0);
  CHECK(stats(db, KeyRange::all()).value().keys == 3100);
  CHECK(stats(db.inner(), KeyRange::all()).value().keys == 3200);  // 3100 keys + 100 index entries
  clock.advance(1ms);
  CHECK(db.purge_expired().value() == 100);
  CHECK(index_entries(db) == 0);
  CHECK(stats(db.inner(), KeyRange::all()).value().keys == 3000);
}

TEST_CASE("Ttl: erasing an expired key reports it as expired, not erased", "[ttl]") {
  ManualClock clock;
  MemTtl db(MemoryBackend{}, clock);
  std::vector<std::string> expired;
  db.on_expire([&](std::string_view k, std::string_view) { expired.emplace_back(k); });
  db.put("a", "1", 1s).value();
  db.put("b", "1", 1s).value();
  clock.advance(1s);
  CHECK_FALSE(db.erase("a").value());
  CHECK(expired == Strings{"a"});
  CHECK(db.transact([](auto& tx) { return tx.erase("b"); }).value() == false);
  CHECK_FALSE(db.inner().get(std::string("\1b")).value());  // removed below, too
  CHECK(db.purge_expired().value() == 0);
}

TEST_CASE("Ttl: bytes not written by the layer are corruption, never garbage", "[ttl]") {
  MemTtl db(MemoryBackend{});
  db.inner().put(std::string("\1raw"), "no header").value();
  db.inner().put(std::string("\1short"), std::string("\1\0\0", 3)).value();  // deadline cut short
  CHECK(db.get("raw").error() == errc::corruption);
  CHECK(db.get("short").error() == errc::corruption);
  CHECK(db.ttl("short").error() == errc::corruption);
  CHECK(db.expire("raw", 1s).error() == errc::corruption);
  auto scan = db.scan(KeyRange::all());
  for (auto&& kv : scan) FAIL("yielded " << kv.key);
  CHECK(scan.status().error() == errc::corruption);
}

TEMPLATE_LIST_TEST_CASE("Ttl: expiries survive close and reopen", "[ttl]", DurableTypes) {
  BackendFactory<TestType> factory;
  ManualClock clock(ManualClock::time_point(std::chrono::hours(24 * 365 * 56)));  // around 2026
  {
    Ttl<TestType, ManualClock> db(factory.open(), clock);
    db.put("session", "s", 30s).value();
    db.put("short", "s", 1s).value();
    db.put("forever", "f").value();
  }
  clock.advance(10s);
  Ttl<TestType, ManualClock> db(factory.reopen(), clock);
  CHECK(db.ttl("session").value() == 20s);
  CHECK(db.get("short").value() == std::nullopt);
  CHECK(db.purge_expired().value() == 1);
  clock.advance(20s);
  CHECK_THAT(keys_of(db, KeyRange::all()), Equals(Strings{"forever"}));
  CHECK(db.purge_expired().value() == 1);
}

TEMPLATE_LIST_TEST_CASE("Ttl: purge_expired on every engine removes each due key, reports its last value, drops stale entries",
                        "[ttl]", AllEngineTypes) {
  BackendFactory<TestType> factory;
  ManualClock clock(ManualClock::time_point(std::chrono::hours(24 * 365 * 56)));
  Ttl<TestType, ManualClock> db(factory.open(), clock);
  std::vector<std::string> expired;
  db.on_expire([&](std::string_view k, std::string_view v) { expired.push_back(std::string(k) + "=" + std::string(v)); });
  db.transact([&](auto& tx) -> Result<void> {
      for (int i = 0; i < 1100; ++i) tx.put("due/" + std::to_string(1000 + i), "v" + std::to_string(i), 1s).value();
      tx.put("later", "l", 1h).value();
      return success();
    }).value();
  db.put("due/1005", "kept").value();  // rewritten without expiry: its index entry is stale
  CHECK(db.erase("due/1006").value());  // erased: stale too
  clock.advance(1s);
  CHECK(db.purge_expired(1).value() == 1);
  CHECK(db.purge_expired().value() == 1097);  // more than one chunk of 1,000
  REQUIRE(expired.size() == 1098);
  CHECK(expired.front() == "due/1000=v0");
  CHECK(expired.back() == "due/2099=v1099");
  CHECK(std::ranges::find(expired, "due/1005=v5") == expired.end());
  CHECK_THAT(keys_of(db, KeyRange::all()), Equals(Strings{"due/1005", "later"}));
  CHECK(count_keys(db.inner(), KeyRange::all()).value() == 3);  // and the index entry of "later"
}

TEST_CASE("Ttl: purge starts past what it removed, yet finds every entry written since", "[ttl]") {
  ManualClock clock(ManualClock::time_point(100s));
  MemTtl db(MemoryBackend{}, clock);
  db.put("a", "1", 1s).value();
  clock.advance(1s);
  CHECK(db.purge_expired().value() == 1);  // the next purge starts a second before now
  clock.set(ManualClock::time_point(10s));  // the clock steps back: deadlines below that point
  db.put("b", "1", 1s).value();
  db.transact([](auto& tx) { return tx.put("c", "1", 1s); }).value();
  db.put("d", "1").value();
  CHECK(db.expire("d", 1s).value());
  clock.set(ManualClock::time_point(200s));
  CHECK(db.purge_expired().value() == 3);
  CHECK(index_entries(db) == 0);
  CHECK(stats(db.inner(), KeyRange::all()).value().keys == 0);
}

TEST_CASE("Ttl: a registry's update keeps the key's expiry, and ttl, expire and persist work by key", "[ttl][registry]") {
  ManualClock clock;
  Metered<Watched<MemTtl>> db(Watched(MemTtl(MemoryBackend{}, clock)));  // through layers too
  NamespacedRegistry<decltype(db), std::string> sessions{db, "session"};
  sessions.put("s1", "ann", 10s).value();
  sessions.put("s2", "bob").value();
  clock.advance(4s);
  CHECK(sessions.update("s1", [](std::string& v) { v += "!"; }).value());
  CHECK(sessions.update("s2", [](std::string& v) { v += "?"; }).value());
  CHECK(sessions.get("s1").value() == "ann!");
  CHECK(sessions.ttl("s1").value() == 6s);  // the same deadline, not a fresh one nor none
  CHECK(sessions.ttl("s2").value() == std::nullopt);
  clock.advance(6s);
  CHECK(sessions.get("s1").value() == std::nullopt);
  CHECK_FALSE(sessions.update("s1", [](std::string&) { FAIL("fn ran for an expired key"); }).value());

  CHECK(sessions.expire("s2", 5s).value());
  CHECK(sessions.ttl("s2").value() == 5s);
  CHECK(sessions.persist("s2").value());
  CHECK(sessions.ttl("s2").value() == std::nullopt);
  CHECK_FALSE(sessions.expire("absent", 5s).value());
  CHECK(sessions.expire("s2", 0s).value());  // expire(key, 0) erases
  CHECK_FALSE(sessions.contains("s2").value());
}
