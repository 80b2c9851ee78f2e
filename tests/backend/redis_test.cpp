// RedisBackend beyond the laws, against real redis-servers: its URLs, every key under the store's
// hash tag, prefixes holding glob characters, a transaction whose read changed under it, a
// server restarted in use, a server that stops answering (SIGSTOP), a name that belongs to
// something else, a value key of another type.
#include <algorithm>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <signal.h>

#include <kvstack/backend/config.hpp>
#include <kvstack/backend/redis.hpp>
#include <kvstack/core/get_many.hpp>

#include "backend/test_servers.hpp"
#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {
// A client of the test's own, as another program would be.
struct RawClient {
  redisContext* c;
  explicit RawClient(const std::string& url) : c(redisConnectUnix(url.substr(std::string("unix://").size()).c_str())) {
    REQUIRE((c && !c->err));
  }
  ~RawClient() { redisFree(c); }
  Strings keys(const std::string& pattern) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "KEYS %s", pattern.c_str()));
    Strings out;
    for (std::size_t i = 0; r && i < r->elements; ++i) out.emplace_back(r->element[i]->str, r->element[i]->len);
    freeReplyObject(r);
    std::sort(out.begin(), out.end());
    return out;
  }
  void set(const std::string& key, const std::string& value) {
    freeReplyObject(redisCommand(c, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
  }
  void hset(const std::string& key, const std::string& field, const std::string& value) {
    freeReplyObject(redisCommand(c, "HSET %b %b %b", key.data(), key.size(), field.data(), field.size(), value.data(), value.size()));
  }
};
}  // namespace

TEST_CASE("Redis: URLs name the server, a malformed one is refused, a password is never shown", "[redis-backend]") {
  using detail::redis_backend::Address;
  auto tcp = Address::parse("redis://:secret@example.org:6380/3").value();
  CHECK((tcp.host == "example.org" && tcp.port == 6380 && tcp.db == 3 && tcp.password == "secret" && tcp.user.empty()));
  CHECK_THAT(tcp.shown, !Contains("secret"));
  auto user = Address::parse("redis://app:pw@[::1]:7000").value();
  CHECK((user.host == "::1" && user.port == 7000 && user.user == "app" && user.password == "pw" && user.db == 0));
  auto plain = Address::parse("redis://localhost").value();
  CHECK((plain.host == "localhost" && plain.port == 6379));
  auto unix_socket = Address::parse("unix:///run/redis.sock?db=2").value();
  CHECK((unix_socket.socket == "/run/redis.sock" && unix_socket.db == 2));
  for (const char* bad : {"http://x", "redis://host:port", "redis://h/db", "unix://", "redis://[::1"}) {
    INFO(bad);
    auto r = RedisBackend::open(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
  }
  auto unreachable = RedisBackend::open("unix:///nonexistent/kvstack.sock");
  REQUIRE_FALSE(unreachable);
  CHECK(unreachable.error() == errc::io_error);
  CHECK_THAT(unreachable.error().message(), Contains("/nonexistent/kvstack.sock"));
}

TEST_CASE("Redis: every key of a store is under its hash tag, and stores on one server are apart", "[redis-backend]") {
  BackendFactory<RedisBackend> a_factory, b_factory;
  auto a = a_factory.open();
  auto b = b_factory.open();
  a.write(WriteBatch().put("x", "1").put("a_%*?[b]", "2").put(bytes({0xff}), "3")).value();
  b.put("x", "other").value();
  RawClient raw(shared_redis());
  for (const auto& k : raw.keys("*" + a_factory.name + "*")) CHECK(k.starts_with("{" + a_factory.name + "}:"));
  CHECK(raw.keys("{" + a_factory.name + "}:*").size() == 5);  // three values, the index, the version
  CHECK(a.get("x").value() == "1");
  CHECK(b.get("x").value() == "other");
  CHECK(keys_of(b, KeyRange::all()) == Strings{"x"});
  // Glob and LIKE characters in a prefix are bytes.
  a.put("a_", "4").value();
  a.put("ab", "5").value();
  CHECK(keys_of(a, KeyRange::prefix("a_")) == Strings{"a_", "a_%*?[b]"});
  CHECK(keys_of(a, KeyRange::prefix("a_%*")) == Strings{"a_%*?[b]"});
}

TEST_CASE("Redis: a transaction whose read changed before its commit runs again", "[redis-backend]") {
  BackendFactory<RedisBackend> factory;
  auto db = factory.open();
  db.put("k", "1").value();
  RawClient other(shared_redis());
  int runs = 0;
  auto r = db.transact([&](auto& tx) -> Result<std::string> {
    ++runs;
    auto v = tx.get("k").value().value();
    if (runs == 1) other.set("{" + factory.name + "}:v:k", "10");  // another client writes in between
    if (auto put = tx.put("k", v + "+1"); !put) return put.error();
    return v;
  });
  CHECK(r.value() == "10");  // the second run read the other client's value
  CHECK(runs == 2);
  CHECK(db.get("k").value() == "10+1");
}

TEST_CASE("Redis: a server restarted in use gives a clear error, then the next call reconnects", "[redis-backend][faults]") {
  TestServer server("redis");
  auto db = RedisBackend::open(server.address()).value();
  db.put("before", "1").value();
  server.kill();
  auto during = db.put("during", "2");
  REQUIRE_FALSE(during);
  CHECK(during.error() == errc::io_error);
  CHECK_THAT(during.error().message(), Contains("Redis cannot write to " + server.address()));
  server.start_again();  // without persistence: it starts empty
  db.put("after", "3").value();
  CHECK(keys_of(db, KeyRange::all()) == Strings{"after"});
}

TEST_CASE("Redis: a server that stops answering is errc::timeout, and the store goes on once it answers", "[redis-backend][faults]") {
  TestServer server("redis");
  auto db = RedisBackend::open(server.address(), {.timeout_ms = 200}).value();
  db.put("k", "v").value();
  int pid = 0;
  std::ifstream(server.dir() + "/redis.pid") >> pid;
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGSTOP) == 0);
  auto stalled = db.get("k");
  ::kill(pid, SIGCONT);
  REQUIRE_FALSE(stalled);
  CHECK(stalled.error() == errc::timeout);
  CHECK(db.get("k").value() == "v");
}

TEST_CASE("Redis: a value key that holds another type is corruption, through get and get_many alike", "[redis-backend][faults]") {
  BackendFactory<RedisBackend> factory;
  auto db = factory.open();
  db.put("fine", "v").value();
  RawClient(shared_redis()).hset("{" + factory.name + "}:v:odd", "field", "x");  // another program's hash
  CHECK(db.get("odd").error() == errc::corruption);
  auto r = db.transact([&](auto& tx) -> Result<std::string> {
    std::string seen;
    const std::vector<std::string_view> keys{"fine", "odd"};
    if (auto read = get_many(tx, std::span<const std::string_view>(keys), [&](std::size_t, std::string_view v) { seen += v; }); !read)
      return read.error();
    return seen;
  });
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::corruption);
  CHECK_THAT(r.error().message(), Contains("WRONGTYPE"));
  CHECK(db.get("fine").value() == "v");  // nothing else harmed
}

TEST_CASE("Redis: a name whose index key holds something else is refused", "[redis-backend][faults]") {
  const std::string name = unique_name("taken");
  RawClient raw(shared_redis());
  raw.set("{" + name + "}:i", "a string, not a sorted set");
  auto db = RedisBackend::open(shared_redis(), {.name = name});
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::invalid_argument);
  CHECK_THAT(db.error().message(), Contains("belongs to something else"));
  CHECK_FALSE(RedisBackend::open(shared_redis(), {.name = "a{b"}));
}

TEST_CASE("Redis: open(Config) takes the URL as the path, and its parameters", "[redis-backend][config]") {
  BackendFactory<RedisBackend> factory;
  auto db = open(Config{.backend = "redis", .path = shared_redis(), .params = {{"name", factory.name}, {"scan_batch", "2"}}});
  REQUIRE(db);
  REQUIRE(db->get_if<RedisBackend>());
  db->write(WriteBatch().put("a", "1").put("b", "2").put("c", "3").put("d", "4").put("e", "5")).value();
  CHECK(keys_of(*db, KeyRange::all().reverse()) == Strings{"e", "d", "c", "b", "a"});
  auto bad = open(Config{.backend = "redis", .path = shared_redis(), .params = {{"timeout", "1"}}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Contains("timeout_ms"));
}
