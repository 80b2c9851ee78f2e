// Keyspace events (notify-keyspace-events) raised by redis::DataStore on each engine: the flags'
// text, which events commands raise and in what order, none from a transaction that did not
// commit, "expired" from the sweep. (tests/server/keyspace_events_test.sh compares a long script's
// events with redis-server's.)
#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "redis/redis_fixture.hpp"

using namespace kvstack;
using namespace kvstack::test;
namespace events = kvstack::redis::events;

namespace {
/// The session's events as "db:key:event" lines, taken from it.
std::vector<std::string> take(redis::Session& s) {
  std::vector<std::string> out;
  for (auto& e : s.events) out.push_back(std::to_string(e.db) + ":" + e.key + ":" + e.event);
  s.events.clear();
  return out;
}
using Lines = std::vector<std::string>;
}  // namespace

TEST_CASE("redis keyspace events: notify-keyspace-events read and printed as Redis does", "[redis]") {
  CHECK(events::parse("") == 0u);
  CHECK(events::parse("KEA") == (events::keyspace | events::keyevent | events::all));
  CHECK(events::parse("Ex") == (events::keyevent | events::expired));
  CHECK(events::parse("KQ") == std::nullopt);
  CHECK(events::format(*events::parse("gKE")) == "gKE");
  CHECK(events::format(*events::parse("$lshzxeKE")) == "$lshzxeKE");
  CHECK(events::format(*events::parse("KA")) == "AK");
  CHECK(events::format(*events::parse("EA")) == "AE");
  CHECK(events::format(*events::parse("AKEnm")) == "AnKEm");
}

TEMPLATE_LIST_TEST_CASE("redis keyspace events: what commands raise, in order, once committed", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  r({"SET", "k", "v"});
  CHECK(take(r.session).empty());  // off by default: nothing recorded
  r.store->keyspace_events(*events::parse("KEAn"));
  r({"SET", "k", "w", "EX", "100"});
  CHECK(take(r.session) == Lines{"0:k:set", "0:k:expire"});
  r({"RPUSH", "l", "a", "b"});
  CHECK(take(r.session) == Lines{"0:l:new", "0:l:rpush"});
  r({"SREM", "nosuch", "x"});
  r({"SET", "k", "x", "NX"});
  CHECK(take(r.session).empty());  // nothing changed, nothing raised
  r({"LMOVE", "l", "l2", "LEFT", "RIGHT"});
  CHECK(take(r.session) == Lines{"0:l2:new", "0:l2:rpush", "0:l:lpop"});
  r({"RPOP", "l"});
  CHECK(take(r.session) == Lines{"0:l:rpop", "0:l:del"});  // emptied
  r({"RENAME", "l2", "m"});
  CHECK(take(r.session) == Lines{"0:m:new", "0:l2:rename_from", "0:m:rename_to"});
  r({"DECRBY", "n", "2"});
  CHECK(take(r.session) == Lines{"0:n:new", "0:n:incrby"});
  r({"SELECT", "3"});
  r({"HSET", "h", "f", "v"});
  CHECK(take(r.session) == Lines{"3:h:new", "3:h:hset"});
  // Inside MULTI, at EXEC; an EXEC that WATCH aborts raises none.
  r({"SELECT", "0"});
  r({"MULTI"});
  r({"INCR", "n"});
  r({"DEL", "m", "nosuch"});
  CHECK(take(r.session).empty());
  r({"EXEC"});
  CHECK(take(r.session) == Lines{"0:n:incrby", "0:m:del"});
  r({"WATCH", "n"});
  redis::Session other = r.store->session();
  r(other, {"INCR", "n"});
  r({"MULTI"});
  r({"SET", "n", "1"});
  r({"EXEC"});
  CHECK(take(r.session).empty());
  CHECK(take(other) == Lines{"0:n:incrby"});
  // Only the classes asked for: lists alone.
  r.store->keyspace_events(*events::parse("Kl"));
  r({"SET", "k", "y"});
  r({"LPUSH", "l", "a"});
  CHECK(take(r.session) == Lines{"0:l:lpush"});
}

TEST_CASE("redis keyspace events: the sweep raises expired", "[redis]") {
  RedisFixture<MemoryBackend> r;
  r.store->keyspace_events(*events::parse("Ex"));
  r({"SET", "k", "v", "PX", "100"});
  r({"SET", "kept", "v"});
  CHECK(take(r.session).empty());  // no class of set's asked for
  r.clock.advance(std::chrono::milliseconds(101));
  auto swept = r.store->sweep();
  REQUIRE(swept);
  REQUIRE(swept->events.size() == 1);
  CHECK(swept->events[0].event == "expired");
  CHECK(swept->events[0].key == "k");
  CHECK(swept->events[0].type == events::expired);
}

#if KVSTACK_WITH_LUA
TEST_CASE("redis keyspace events: a script's commands raise theirs, its EVAL none of its own", "[redis][lua]") {
  RedisFixture<MemoryBackend> r;
  redis::Scripts scripts;
  r.session.scripts = &scripts;
  r.store->keyspace_events(*events::parse("KEA"));
  r({"EVAL", "redis.call('SET', KEYS[1], 'v') redis.call('LPUSH', KEYS[2], 'a') return redis.call('DEL', KEYS[1])", "2", "a", "b"});
  CHECK(take(r.session) == Lines{"0:a:set", "0:b:lpush", "0:a:del"});
}
#endif
