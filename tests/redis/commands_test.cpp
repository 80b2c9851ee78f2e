// Every Redis command of redis::DataStore on each engine (memory, LMDB, RocksDB): replies and
// errors as Redis gives them, expiry with a ManualClock, databases, MULTI/EXEC/WATCH.
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "laws/helpers.hpp"
#include "redis/redis_fixture.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;

namespace {
const std::string wrongtype = "-WRONGTYPE Operation against a key holding the wrong kind of value";
const std::string not_int = "-ERR value is not an integer or out of range";
const std::string syntax = "-ERR syntax error";
}  // namespace

TEMPLATE_LIST_TEST_CASE("redis strings", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"GET", "k"}) == "(nil)");
  CHECK(r({"SET", "k", "v"}) == "+OK");
  CHECK(r({"GET", "k"}) == "\"v\"");
  CHECK(r({"SET", "k", "w", "NX"}) == "(nil)");
  CHECK(r({"SET", "k", "w", "XX", "GET"}) == "\"v\"");
  CHECK(r({"SET", "new", "w", "XX"}) == "(nil)");
  CHECK(r({"EXISTS", "new"}) == ":0");
  CHECK(r({"SET", "k", "x", "NX", "XX"}) == syntax);
  CHECK(r({"SET", "k", "x", "EX"}) == syntax);
  CHECK(r({"SET", "k", "x", "EX", "10", "PX", "5"}) == syntax);
  CHECK(r({"SET", "k", "x", "EX", "ten"}) == not_int);
  CHECK(r({"SET", "k", "x", "EX", "0"}) == "-ERR invalid expire time in 'set' command");
  CHECK(r({"SET", "k", "x", "PX", "-5"}) == "-ERR invalid expire time in 'set' command");
  CHECK(r({"SET", "k", "x", "EX", "9223372036854775"}) == "-ERR invalid expire time in 'set' command");
  CHECK(r({"SET", "k", "x", "foo"}) == syntax);
  CHECK(r({"GET", "k"}) == "\"w\"");
  CHECK(r({"SETNX", "k", "y"}) == ":0");
  CHECK(r({"SETNX", "n", "y"}) == ":1");
  CHECK(r({"GETSET", "n", "z"}) == "\"y\"");
  CHECK(r({"GETDEL", "n"}) == "\"z\"");
  CHECK(r({"GETDEL", "n"}) == "(nil)");
  CHECK(r({"MSET", "a", "1", "b", "2"}) == "+OK");
  CHECK(r({"MSET", "a", "1", "b"}) == "-ERR wrong number of arguments for 'mset' command");
  CHECK(r({"MGET", "a", "b", "nope"}) == "[\"1\", \"2\", (nil)]");
  CHECK(r({"MSETNX", "a", "3", "c", "4"}) == ":0");
  CHECK(r({"EXISTS", "c"}) == ":0");
  CHECK(r({"MSETNX", "c", "3", "d", "4"}) == ":1");
  CHECK(r({"APPEND", "a", "xy"}) == ":3");
  CHECK(r({"APPEND", "fresh", "xy"}) == ":2");
  CHECK(r({"STRLEN", "a"}) == ":3");
  CHECK(r({"STRLEN", "nope"}) == ":0");

  // Counters
  CHECK(r({"INCR", "cnt"}) == ":1");
  CHECK(r({"INCRBY", "cnt", "10"}) == ":11");
  CHECK(r({"DECR", "cnt"}) == ":10");
  CHECK(r({"DECRBY", "cnt", "20"}) == ":-10");
  CHECK(r({"INCRBY", "cnt", "1.5"}) == not_int);
  CHECK(r({"INCR", "a"}) == not_int);
  CHECK(r({"SET", "big", "9223372036854775807"}) == "+OK");
  CHECK(r({"INCR", "big"}) == "-ERR increment or decrement would overflow");
  CHECK(r({"GET", "big"}) == "\"9223372036854775807\"");
  CHECK(r({"DECRBY", "cnt", "-9223372036854775808"}) == "-ERR decrement would overflow");
  CHECK(r({"SET", "lead", "007"}) == "+OK");
  CHECK(r({"INCR", "lead"}) == not_int);
  CHECK(r({"INCRBYFLOAT", "f", "10.5"}) == "\"10.5\"");
  CHECK(r({"INCRBYFLOAT", "f", "0.1"}) == "\"10.6\"");
  CHECK(r({"INCRBYFLOAT", "f", "-5.6"}) == "\"5\"");
  CHECK(r({"INCRBYFLOAT", "f", "5.0e3"}) == "\"5005\"");
  CHECK(r({"INCRBYFLOAT", "f", "abc"}) == "-ERR value is not a valid float");
  CHECK(r({"INCRBYFLOAT", "f", "inf"}) == "-ERR increment would produce NaN or Infinity");
  CHECK(r({"INCRBYFLOAT", "a", "1"}) == "-ERR value is not a valid float");

  // Ranges
  CHECK(r({"SET", "s", "Hello World"}) == "+OK");
  CHECK(r({"GETRANGE", "s", "0", "4"}) == "\"Hello\"");
  CHECK(r({"GETRANGE", "s", "-5", "-1"}) == "\"World\"");
  CHECK(r({"GETRANGE", "s", "-1", "-5"}) == "\"\"");
  CHECK(r({"GETRANGE", "s", "0", "100"}) == "\"Hello World\"");
  CHECK(r({"GETRANGE", "s", "20", "100"}) == "\"\"");
  CHECK(r({"GETRANGE", "nope", "0", "1"}) == "\"\"");
  CHECK(r({"SETRANGE", "s", "6", "Redis"}) == ":11");
  CHECK(r({"GET", "s"}) == "\"Hello Redis\"");
  CHECK(r({"SETRANGE", "pad", "3", "x"}) == ":4");
  CHECK(r({"GET", "pad"}) == std::string("\"\0\0\0x\"", 6));
  CHECK(r({"SETRANGE", "empty", "5", ""}) == ":0");
  CHECK(r({"EXISTS", "empty"}) == ":0");
  CHECK(r({"SETRANGE", "s", "-1", "x"}) == "-ERR offset is out of range");
  CHECK(r({"SETRANGE", "s", "536870912", "x"}) == "-ERR string exceeds maximum allowed size (proto-max-bulk-len)");

  // Wrong type: reads and writes refuse, SET replaces.
  CHECK(r({"RPUSH", "list", "a"}) == ":1");
  CHECK(r({"GET", "list"}) == wrongtype);
  CHECK(r({"APPEND", "list", "x"}) == wrongtype);
  CHECK(r({"INCR", "list"}) == wrongtype);
  CHECK(r({"GETRANGE", "list", "0", "1"}) == wrongtype);
  CHECK(r({"SET", "list", "x", "GET"}) == wrongtype);
  CHECK(r({"MGET", "list", "a"}) == "[(nil), \"1xy\"]");
  CHECK(r({"SET", "list", "x"}) == "+OK");
  CHECK(r({"TYPE", "list"}) == "+string");
  CHECK(r({"LLEN", "list"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis string expiry options", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"SET", "k", "v", "EX", "10"}) == "+OK");
  CHECK(r({"TTL", "k"}) == ":10");
  CHECK(r({"PTTL", "k"}) == ":10000");
  r.clock.advance(9999ms);
  CHECK(r({"GET", "k"}) == "\"v\"");
  CHECK(r({"TTL", "k"}) == ":0");
  r.clock.advance(1ms);
  CHECK(r({"GET", "k"}) == "(nil)");
  CHECK(r({"TTL", "k"}) == ":-2");

  CHECK(r({"SET", "k", "v", "PX", "1500"}) == "+OK");
  CHECK(r({"TTL", "k"}) == ":2");  // rounded as Redis
  CHECK(r({"SET", "k", "w", "KEEPTTL"}) == "+OK");
  CHECK(r({"PTTL", "k"}) == ":1500");
  CHECK(r({"SET", "k", "w"}) == "+OK");
  CHECK(r({"TTL", "k"}) == ":-1");
  CHECK(r({"SET", "k", "v", "KEEPTTL", "EX", "5"}) == syntax);

  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(r.clock.now().time_since_epoch()).count();
  CHECK(r({"SET", "at", "v", "EXAT", std::to_string(now_s + 100)}) == "+OK");
  CHECK(r({"EXPIRETIME", "at"}) == ":" + std::to_string(now_s + 100));
  CHECK(r({"PEXPIRETIME", "at"}) == ":" + std::to_string((now_s + 100) * 1000));
  CHECK(r({"SET", "past", "v", "PXAT", "1"}) == "+OK");
  CHECK(r({"EXISTS", "past"}) == ":0");

  CHECK(r({"SETEX", "e", "5", "v"}) == "+OK");
  CHECK(r({"TTL", "e"}) == ":5");
  CHECK(r({"SETEX", "e", "0", "v"}) == "-ERR invalid expire time in 'setex' command");
  CHECK(r({"PSETEX", "e", "-1", "v"}) == "-ERR invalid expire time in 'psetex' command");
  CHECK(r({"PSETEX", "e", "2500", "v"}) == "+OK");
  CHECK(r({"PTTL", "e"}) == ":2500");

  CHECK(r({"GETEX", "e", "EX", "100"}) == "\"v\"");
  CHECK(r({"TTL", "e"}) == ":100");
  CHECK(r({"GETEX", "e", "PERSIST"}) == "\"v\"");
  CHECK(r({"TTL", "e"}) == ":-1");
  CHECK(r({"GETEX", "e", "PX", "10", "EX", "5"}) == syntax);
  CHECK(r({"GETEX", "e", "FOO"}) == syntax);
  CHECK(r({"GETEX", "nope", "EX", "5"}) == "(nil)");
  CHECK(r({"INCR", "e"}) == not_int);

  // Counters keep their time to live (INCR changes the value, not the key's life).
  CHECK(r({"SET", "c", "1", "EX", "50"}) == "+OK");
  CHECK(r({"INCR", "c"}) == ":2");
  CHECK(r({"TTL", "c"}) == ":50");
  CHECK(r({"GETSET", "c", "0"}) == "\"2\"");
  CHECK(r({"TTL", "c"}) == ":-1");
}

TEMPLATE_LIST_TEST_CASE("redis lists", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"RPUSH", "l", "a", "b", "c"}) == ":3");
  CHECK(r({"LPUSH", "l", "z", "y"}) == ":5");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"y\", \"z\", \"a\", \"b\", \"c\"]");
  CHECK(r({"LRANGE", "l", "-2", "100"}) == "[\"b\", \"c\"]");
  CHECK(r({"LRANGE", "l", "3", "1"}) == "[]");
  CHECK(r({"LRANGE", "l", "x", "1"}) == not_int);
  CHECK(r({"LRANGE", "nope", "0", "-1"}) == "[]");
  CHECK(r({"LLEN", "l"}) == ":5");
  CHECK(r({"LINDEX", "l", "0"}) == "\"y\"");
  CHECK(r({"LINDEX", "l", "-1"}) == "\"c\"");
  CHECK(r({"LINDEX", "l", "5"}) == "(nil)");
  CHECK(r({"LSET", "l", "-2", "B"}) == "+OK");
  CHECK(r({"LSET", "l", "5", "x"}) == "-ERR index out of range");
  CHECK(r({"LSET", "nope", "0", "x"}) == "-ERR no such key");
  CHECK(r({"LPOP", "l"}) == "\"y\"");
  CHECK(r({"RPOP", "l"}) == "\"c\"");
  CHECK(r({"LPOP", "l", "2"}) == "[\"z\", \"a\"]");
  CHECK(r({"LPOP", "l", "-1"}) == "-ERR value is out of range, must be positive");
  CHECK(r({"LPOP", "l", "0"}) == "[]");
  CHECK(r({"RPOP", "l", "5"}) == "[\"B\"]");
  CHECK(r({"EXISTS", "l"}) == ":0");  // empty lists are deleted
  CHECK(r({"LPOP", "l"}) == "(nil)");
  CHECK(r({"LPOP", "l", "2"}) == "(nil array)");
  CHECK(r({"LPUSHX", "l", "a"}) == ":0");
  CHECK(r({"RPUSHX", "l", "a"}) == ":0");
  CHECK(r({"RPUSH", "l", "a"}) == ":1");
  CHECK(r({"RPUSHX", "l", "b"}) == ":2");
  CHECK(r({"LPUSHX", "l", "0"}) == ":3");

  // LREM, LTRIM, LINSERT, LPOS
  CHECK(r({"DEL", "l"}) == ":1");
  CHECK(r({"RPUSH", "l", "a", "b", "a", "c", "a", "b"}) == ":6");
  CHECK(r({"LREM", "l", "-1", "a"}) == ":1");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"a\", \"b\", \"a\", \"c\", \"b\"]");
  CHECK(r({"LREM", "l", "1", "b"}) == ":1");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"a\", \"a\", \"c\", \"b\"]");
  CHECK(r({"LREM", "l", "0", "a"}) == ":2");
  CHECK(r({"LREM", "l", "0", "zz"}) == ":0");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"c\", \"b\"]");
  // The smallest count removes all, as in Redis (which negates it into itself); the fuzzer found it.
  CHECK(r({"RPUSH", "l", "m", "m"}) == ":4");
  CHECK(r({"LREM", "l", "-9223372036854775808", "m"}) == ":2");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"c\", \"b\"]");
  CHECK(r({"LINSERT", "l", "BEFORE", "b", "x"}) == ":3");
  CHECK(r({"LINSERT", "l", "AFTER", "b", "y"}) == ":4");
  CHECK(r({"LINSERT", "l", "AFTER", "nope", "y"}) == ":-1");
  CHECK(r({"LINSERT", "nope", "AFTER", "b", "y"}) == ":0");
  CHECK(r({"LINSERT", "l", "MIDDLE", "b", "y"}) == syntax);
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"c\", \"x\", \"b\", \"y\"]");
  CHECK(r({"LTRIM", "l", "1", "-2"}) == "+OK");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"x\", \"b\"]");
  CHECK(r({"LPUSH", "l", "w"}) == ":3");  // pushes after a trim land at the new ends
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"w\", \"x\", \"b\"]");
  CHECK(r({"LTRIM", "l", "5", "10"}) == "+OK");
  CHECK(r({"EXISTS", "l"}) == ":0");

  CHECK(r({"RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c"}) == ":8");
  CHECK(r({"LPOS", "p", "c"}) == ":2");
  CHECK(r({"LPOS", "p", "c", "RANK", "2"}) == ":6");
  CHECK(r({"LPOS", "p", "c", "RANK", "-1"}) == ":7");
  CHECK(r({"LPOS", "p", "c", "COUNT", "2"}) == "[:2, :6]");
  CHECK(r({"LPOS", "p", "c", "COUNT", "0"}) == "[:2, :6, :7]");
  CHECK(r({"LPOS", "p", "c", "RANK", "-1", "COUNT", "2"}) == "[:7, :6]");
  CHECK(r({"LPOS", "p", "c", "COUNT", "0", "MAXLEN", "3"}) == "[:2]");
  CHECK(r({"LPOS", "p", "zz"}) == "(nil)");
  CHECK(r({"LPOS", "p", "zz", "COUNT", "1"}) == "[]");
  CHECK(r({"LPOS", "p", "c", "RANK", "0"}) ==
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start "
        "from the end of the list");
  CHECK(r({"LPOS", "p", "c", "COUNT", "-1"}) == "-ERR COUNT can't be negative");
  CHECK(r({"LPOS", "p", "c", "MAXLEN", "-1"}) == "-ERR MAXLEN can't be negative");
  CHECK(r({"LPOS", "p", "c", "FOO", "1"}) == syntax);

  // LMOVE / RPOPLPUSH, including a rotation of one list
  CHECK(r({"DEL", "p"}) == ":1");
  CHECK(r({"RPUSH", "src", "1", "2", "3"}) == ":3");
  CHECK(r({"LMOVE", "src", "dst", "LEFT", "RIGHT"}) == "\"1\"");
  CHECK(r({"RPOPLPUSH", "src", "dst"}) == "\"3\"");
  CHECK(r({"LRANGE", "dst", "0", "-1"}) == "[\"3\", \"1\"]");
  CHECK(r({"LMOVE", "dst", "dst", "LEFT", "RIGHT"}) == "\"3\"");
  CHECK(r({"LRANGE", "dst", "0", "-1"}) == "[\"1\", \"3\"]");
  CHECK(r({"LMOVE", "src", "dst", "UP", "RIGHT"}) == syntax);
  CHECK(r({"LMOVE", "nope", "dst", "LEFT", "RIGHT"}) == "(nil)");
  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"LMOVE", "src", "str", "LEFT", "RIGHT"}) == wrongtype);
  CHECK(r({"LRANGE", "src", "0", "-1"}) == "[\"2\"]");  // nothing moved
  CHECK(r({"RPOPLPUSH", "src", "gone"}) == "\"2\"");
  CHECK(r({"EXISTS", "src"}) == ":0");

  CHECK(r({"LPUSH", "str", "x"}) == wrongtype);
  CHECK(r({"LRANGE", "str", "0", "1"}) == wrongtype);
  CHECK(r({"LPOP", "str"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis hashes", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"HSET", "h", "a", "1", "b", "2"}) == ":2");
  CHECK(r({"HSET", "h", "a", "10", "c", "3"}) == ":1");
  CHECK(r({"HSET", "h", "a"}) == "-ERR wrong number of arguments for 'hset' command");
  CHECK(r({"HSET", "h", "a", "1", "b"}) == "-ERR wrong number of arguments for 'hset' command");
  CHECK(r({"HGET", "h", "a"}) == "\"10\"");
  CHECK(r({"HGET", "h", "zz"}) == "(nil)");
  CHECK(r({"HGET", "nope", "a"}) == "(nil)");
  CHECK(r({"HMGET", "h", "a", "zz", "c"}) == "[\"10\", (nil), \"3\"]");
  CHECK(r({"HMSET", "h", "d", "4"}) == "+OK");
  CHECK(r({"HSETNX", "h", "d", "5"}) == ":0");
  CHECK(r({"HSETNX", "h", "e", "5"}) == ":1");
  CHECK(r({"HLEN", "h"}) == ":5");
  CHECK(r({"HEXISTS", "h", "e"}) == ":1");
  CHECK(r({"HEXISTS", "h", "zz"}) == ":0");
  CHECK(r({"HSTRLEN", "h", "a"}) == ":2");
  CHECK(r({"HSTRLEN", "h", "zz"}) == ":0");
  CHECK(r({"HKEYS", "h"}) == "[\"a\", \"b\", \"c\", \"d\", \"e\"]");
  CHECK(r({"HVALS", "h"}) == "[\"10\", \"2\", \"3\", \"4\", \"5\"]");
  CHECK(r({"HGETALL", "h"}) == "{\"a\": \"10\", \"b\": \"2\", \"c\": \"3\", \"d\": \"4\", \"e\": \"5\"}");
  CHECK(r({"HGETALL", "nope"}) == "{}");
  CHECK(r({"HDEL", "h", "a", "zz", "b"}) == ":2");
  CHECK(r({"HLEN", "h"}) == ":3");
  CHECK(r({"HINCRBY", "h", "c", "7"}) == ":10");
  CHECK(r({"HINCRBY", "h", "new", "-7"}) == ":-7");
  CHECK(r({"HINCRBY", "h", "c", "x"}) == not_int);
  CHECK(r({"HSET", "h", "s", "text"}) == ":1");
  CHECK(r({"HINCRBY", "h", "s", "1"}) == "-ERR hash value is not an integer");
  CHECK(r({"HSET", "h", "max", "9223372036854775807"}) == ":1");
  CHECK(r({"HINCRBY", "h", "max", "1"}) == "-ERR increment or decrement would overflow");
  CHECK(r({"HINCRBYFLOAT", "h", "fl", "10.5"}) == "\"10.5\"");
  CHECK(r({"HINCRBYFLOAT", "h", "fl", "0.1"}) == "\"10.6\"");
  CHECK(r({"HINCRBYFLOAT", "h", "s", "1"}) == "-ERR hash value is not a float");
  CHECK(r({"HINCRBYFLOAT", "h", "fl", "x"}) == "-ERR value is not a valid float");
  CHECK(r({"HINCRBY", "fresh", "f", "3"}) == ":3");
  CHECK(r({"HLEN", "fresh"}) == ":1");
  CHECK(r({"HDEL", "fresh", "f"}) == ":1");
  CHECK(r({"EXISTS", "fresh"}) == ":0");  // empty hashes are deleted

  CHECK(r({"DEL", "h"}) == ":1");
  CHECK(r({"HSET", "h", "only", "1"}) == ":1");
  CHECK(r({"HRANDFIELD", "h"}) == "\"only\"");
  CHECK(r({"HRANDFIELD", "h", "-3"}) == "[\"only\", \"only\", \"only\"]");
  CHECK(r({"HRANDFIELD", "h", "5", "WITHVALUES"}) == "[\"only\", \"1\"]");
  CHECK(r({"HRANDFIELD", "h", "1", "FOO"}) == syntax);
  CHECK(r({"HRANDFIELD", "nope"}) == "(nil)");
  CHECK(r({"HRANDFIELD", "nope", "2"}) == "[]");
  CHECK(r({"HSET", "h", "two", "2", "three", "3"}) == ":2");
  CHECK(r({"HRANDFIELD", "h", "2"}).size() > 2);

  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"HSET", "str", "a", "1"}) == wrongtype);
  CHECK(r({"HGET", "str", "a"}) == wrongtype);
  CHECK(r({"HGETALL", "str"}) == wrongtype);
  CHECK(r({"HINCRBY", "str", "a", "1"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis HSCAN, SSCAN, ZSCAN and SCAN walk everything once", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  for (int i = 0; i < 25; ++i) {
    auto n = std::to_string(i);
    r({"HSET", "h", "f" + n, n});
    r({"SADD", "s", "m" + n});
    r({"ZADD", "z", n, "m" + n});
    r({"SET", "key" + n, n});
  }
  r({"RPUSH", "list", "x"});
  // Follows cursors until 0; returns the items seen.
  auto walk = [&](std::vector<std::string> cmd, std::size_t cursor_at) {
    std::vector<std::string> items;
    std::string cursor = cmd[cursor_at];
    int rounds = 0;
    do {
      cmd[cursor_at] = cursor;
      auto reply = redis::execute(*r.store, r.session, redis::Args(cmd));
      REQUIRE(reply.elements.size() == 2);
      cursor = reply.elements[0].text;
      for (auto& e : reply.elements[1].elements) items.push_back(e.text);
      REQUIRE(++rounds < 100);
    } while (cursor != "0");
    return items;
  };
  auto fields = walk({"HSCAN", "h", "0", "COUNT", "7"}, 2);
  CHECK(fields.size() == 50);
  CHECK(walk({"HSCAN", "h", "0", "NOVALUES"}, 2).size() == 25);
  CHECK(walk({"SSCAN", "s", "0", "MATCH", "m1*"}, 2).size() == 11);
  auto z = walk({"ZSCAN", "z", "0", "COUNT", "3"}, 2);
  REQUIRE(z.size() == 50);
  CHECK(z[0] == "m0");
  CHECK(z[1] == "0");
  CHECK(walk({"SCAN", "0", "COUNT", "4"}, 1).size() == 29);
  CHECK(walk({"SCAN", "0", "MATCH", "key2*"}, 1).size() == 6);
  CHECK(walk({"SCAN", "0", "TYPE", "zset"}, 1) == std::vector<std::string>{"z"});
  CHECK(walk({"SCAN", "0", "TYPE", "list", "COUNT", "1000"}, 1) == std::vector<std::string>{"list"});
  CHECK(r({"SCAN", "12345678"}) == "-ERR invalid cursor");
  CHECK(r({"SCAN", "x"}) == "-ERR invalid cursor");
  CHECK(r({"SCAN", "0", "COUNT", "0"}) == syntax);
  CHECK(r({"SCAN", "0", "FOO"}) == syntax);
  CHECK(r({"HSCAN", "nope", "0"}) == "[\"0\", []]");
  CHECK(r({"HSCAN", "s", "0"}) == wrongtype);

  // A key present for the whole scan is returned even when others come and go meanwhile.
  auto first = redis::execute(*r.store, r.session, {"SCAN", "0", "COUNT", "5"});
  for (int i = 0; i < 25; i += 2) r({"DEL", "key" + std::to_string(i)});
  r({"SET", "aaa", "new"});
  std::vector<std::string> seen;
  for (auto& e : first.elements[1].elements) seen.push_back(e.text);
  auto rest = walk({"SCAN", first.elements[0].text, "COUNT", "5"}, 1);
  // walk restarts from the cursor given, so splice: the continuation is what follows `first`.
  seen.insert(seen.end(), rest.begin(), rest.end());
  for (int i = 1; i < 25; i += 2) CHECK(std::count(seen.begin(), seen.end(), "key" + std::to_string(i)) >= 1);
}

namespace {
/// How often each bulk string came up in `replies` (arrays are counted element by element).
std::map<std::string, int> tally(const std::vector<redis::Reply>& replies) {
  std::map<std::string, int> seen;
  for (const auto& r : replies) {
    if (r.kind == redis::Reply::Kind::bulk) ++seen[r.text];
    for (const auto& e : r.elements) ++seen[e.text];
  }
  return seen;
}
/// Pearson's chi-square of `seen` against `n` equally likely outcomes.
double chi_square(const std::map<std::string, int>& seen, std::size_t n) {
  double total = 0, chi = 0;
  for (const auto& [k, c] : seen) total += c;
  const double expected = total / static_cast<double>(n);
  for (const auto& [k, c] : seen) chi += (c - expected) * (c - expected) / expected;
  return chi + expected * static_cast<double>(n - seen.size());  // outcomes never seen
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("redis random picks: counts checked as Redis does, huge ones refused, picks uniform", "[redis]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  // Members that share a prefix: seeking a random sub-key would nearly always find the first.
  for (const char* m : {"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}) {
    REQUIRE(r({"SADD", "s", m}) == ":1");
    REQUIRE(r({"HSET", "h", m, "v"}) == ":1");
    REQUIRE(r({"ZADD", "z", "1", m}) == ":1");
  }
  const std::string range = "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
  const std::string half = "-ERR value is out of range";
  const std::string too_many = "-ERR value is out of range, a reply holds at most 1048576 random picks";
  // The reproducers of a crash (bad_alloc) and of a server that spun for minutes.
  CHECK(r({"HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"}) == half);
  CHECK(r({"HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES"}) == range);
  CHECK(r({"HRANDFIELD", "h", "-9223372036854775808"}) == range);
  CHECK(r({"HRANDFIELD", "h", "-9223372036854770000"}) == too_many);
  CHECK(r({"ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES"}) == half);
  CHECK(r({"ZRANDMEMBER", "z", "-9223372036854770000"}) == too_many);
  CHECK(r({"SRANDMEMBER", "s", "-9223372036854775808"}) == range);
  CHECK(r({"SRANDMEMBER", "s", "-1048577"}) == too_many);
  CHECK(r({"SRANDMEMBER", "nope", "-9223372036854770000"}) == "[]");  // no set: nothing to pick
  CHECK(r({"HRANDFIELD", "s", "-9223372036854770000"}) == wrongtype);
  CHECK(r({"SRANDMEMBER", "s", "1", "2"}) == syntax);
  CHECK(r({"HRANDFIELD", "h", "x", "FOO"}) == not_int);  // Redis reads the count first
  CHECK(r({"HRANDFIELD", "h", "1", "FOO"}) == syntax);
  CHECK(r({"HRANDFIELD", "h", "9223372036854775807"}).size() > 10);  // distinct: the whole hash
  CHECK(redis::execute(*r.store, r.session, {"SRANDMEMBER", "s", "-1048576"}).elements.size() == 1048576);

  // Each of 10 members about equally often: chi-square with 9 degrees of freedom, far below 40
  // (p < 0.00001 for a fair pick); seeking a random sub-key scores in the thousands.
  auto picks = [&](std::initializer_list<std::string_view> argv, int times) {
    std::vector<redis::Reply> out;
    for (int i = 0; i < times; ++i) out.push_back(redis::execute(*r.store, r.session, argv));
    return tally(out);
  };
  CHECK(chi_square(picks({"SRANDMEMBER", "s"}, 2000), 10) < 40);
  CHECK(chi_square(picks({"HRANDFIELD", "h"}, 2000), 10) < 40);
  CHECK(chi_square(picks({"ZRANDMEMBER", "z", "-2000"}, 1), 10) < 40);
  CHECK(chi_square(picks({"SRANDMEMBER", "s", "-2000"}, 1), 10) < 40);
  CHECK(r({"SET", "foo", "1"}) == "+OK");
  CHECK(r({"SET", "bar", "1"}) == "+OK");
  auto keys = picks({"RANDOMKEY"}, 1000);  // among s, h, z, foo and bar
  CHECK(keys.size() == 5);
  CHECK(chi_square(keys, 5) < 30);
}

TEMPLATE_LIST_TEST_CASE("redis errors come in Redis's order (differences the command fuzzer found)", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  REQUIRE(r({"SET", "str", "v"}) == "+OK");
  CHECK(r({"LINDEX", "nope", "x"}) == "(nil)");  // the key first, then the index
  CHECK(r({"LINDEX", "str", "x"}) == wrongtype);
  CHECK(r({"LSET", "nope", "x", "v"}) == "-ERR no such key");
  CHECK(r({"LSET", "str", "1.5", "v"}) == wrongtype);
  CHECK(r({"RPOP", "l", "1", "2"}) == "-ERR wrong number of arguments for 'rpop' command");
  CHECK(r({"SPOP", "s", "1", "2"}) == syntax);
  CHECK(r({"SMOVE", "nope", "str", "m"}) == ":0");  // no source: 0, whatever the destination holds
  CHECK(r({"SINTERCARD", "x", "a"}) == "-ERR numkeys should be greater than 0");
  CHECK(r({"EXPIRE", "str", "x", "FOO"}) == "-ERR Unsupported option FOO");  // the options first
  CHECK(r({"EXPIRE", "str", "9223372036854775807", "1"}) == "-ERR Unsupported option 1");
  CHECK(r({"LPOS", "l", "a", "COUNT", "x"}) == "-ERR COUNT can't be negative");
  CHECK(r({"LPOS", "l", "a", "MAXLEN", "x"}) == "-ERR MAXLEN can't be negative");
  CHECK(r({"RPUSH", "l", "a"}) == ":1");
  CHECK(r({"LPOS", "l", "a", "RANK", "-9223372036854775808"}) == "(nil)");
  // Scores that overflow or underflow a double are not valid floats; an infinite one is.
  CHECK(r({"ZADD", "z", "1e400", "m"}) == "-ERR value is not a valid float");
  CHECK(r({"ZADD", "str", "1e-400", "m"}) == "-ERR value is not a valid float");  // before the type
  CHECK(r({"ZINCRBY", "z", "-1e400", "m"}) == "-ERR value is not a valid float");
  CHECK(r({"ZADD", "z", "inf", "m"}) == ":1");
  CHECK(r({"ZCOUNT", "z", "1e400", "+inf"}) == ":1");  // a range's bounds are read as strtod reads them
  CHECK(r({"HINCRBYFLOAT", "str", "f", "inf"}) == "-ERR value is NaN or Infinity");
  CHECK(r({"HINCRBYFLOAT", "h", "f", "1e5000"}) == "-ERR value is not a valid float");  // past a long double
  // A sum written in full (400 digits) is read back as a float.
  REQUIRE(r({"INCRBYFLOAT", "big", "1e400"}) != "-ERR value is not a valid float");
  CHECK(r({"INCRBYFLOAT", "big", "-inf"}) == "-ERR increment would produce NaN or Infinity");
  CHECK(r({"INCRBYFLOAT", "big", "1"}).size() > 400);
}

TEMPLATE_LIST_TEST_CASE("redis OBJECT, MEMORY USAGE and TIME", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  REQUIRE(r({"SET", "n", "12345"}) == "+OK");
  REQUIRE(r({"SET", "short", "abc"}) == "+OK");
  REQUIRE(r({"SET", "long", std::string(45, 'x')}) == "+OK");
  REQUIRE(r({"RPUSH", "l", "a", "b"}) == ":2");
  REQUIRE(r({"SADD", "s", "1"}) == ":1");
  REQUIRE(r({"HSET", "h", "f", "v"}) == ":1");
  REQUIRE(r({"ZADD", "z", "1", "m"}) == ":1");
  CHECK(r({"OBJECT", "ENCODING", "n"}) == "\"int\"");
  CHECK(r({"OBJECT", "ENCODING", "short"}) == "\"embstr\"");
  CHECK(r({"OBJECT", "ENCODING", "long"}) == "\"raw\"");
  CHECK(r({"OBJECT", "ENCODING", "l"}) == "\"quicklist\"");
  CHECK(r({"OBJECT", "ENCODING", "s"}) == "\"hashtable\"");
  CHECK(r({"OBJECT", "ENCODING", "h"}) == "\"hashtable\"");
  CHECK(r({"OBJECT", "ENCODING", "z"}) == "\"skiplist\"");
  CHECK(r({"OBJECT", "ENCODING", "nope"}) == "(nil)");
  CHECK(r({"OBJECT", "REFCOUNT", "l"}) == ":1");
  CHECK(r({"OBJECT", "IDLETIME", "l"}) == "-ERR kvstack does not track reads: OBJECT IDLETIME is not supported");
  CHECK(r({"OBJECT", "NOSUCH", "l"}) == "-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try OBJECT HELP.");
  CHECK(r({"OBJECT", "ENCODING"}) == "-ERR unknown subcommand or wrong number of arguments for 'ENCODING'. Try OBJECT HELP.");
  // MEMORY USAGE grows with what the key holds; sampling estimates the rest at the sample's average.
  for (int i = 0; i < 100; ++i) REQUIRE(r({"RPUSH", "big", std::string(100, 'v')}) == ":" + std::to_string(i + 1));
  auto usage = [&](std::initializer_list<std::string_view> argv) { return redis::execute(*r.store, r.session, argv).integer; };
  CHECK(usage({"MEMORY", "USAGE", "short"}) < usage({"MEMORY", "USAGE", "long"}));
  CHECK(usage({"MEMORY", "USAGE", "big"}) > 100 * 100);
  CHECK(usage({"MEMORY", "USAGE", "big", "SAMPLES", "0"}) == usage({"MEMORY", "USAGE", "big", "SAMPLES", "5"}));
  CHECK(r({"MEMORY", "USAGE", "nope"}) == "(nil)");
  CHECK(r({"MEMORY", "USAGE", "big", "SAMPLES", "-1"}) == syntax);
  CHECK(r({"MEMORY", "USAGE", "big", "SAMPLES", "x"}) == not_int);
  // TIME: the store's clock (the fixture's ManualClock), in seconds and microseconds.
  r.clock.advance(std::chrono::milliseconds(1234));
  CHECK(r({"TIME"}) == "[\"1700000001\", \"234000\"]");
}

TEMPLATE_LIST_TEST_CASE("redis SETBIT and GETBIT", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"SETBIT", "b", "1", "1"}) == ":0");  // bit 0 is the high bit of the first byte
  CHECK(r({"GET", "b"}) == "\"@\"");
  CHECK(r({"SETBIT", "b", "1", "1"}) == ":1");
  CHECK(r({"SETBIT", "b", "23", "1"}) == ":0");  // grows with zero bytes
  CHECK(r({"STRLEN", "b"}) == ":3");
  CHECK(r({"GETBIT", "b", "23"}) == ":1");
  CHECK(r({"GETBIT", "b", "22"}) == ":0");
  CHECK(r({"GETBIT", "b", "1000"}) == ":0");
  CHECK(r({"SETBIT", "b", "1", "0"}) == ":1");
  CHECK(r({"GETBIT", "nope", "0"}) == ":0");
  REQUIRE(r({"SET", "n", "1"}) == "+OK");  // "1" is 0x31: bits 2, 3 and 7
  CHECK(r({"GETBIT", "n", "2"}) == ":1");
  CHECK(r({"GETBIT", "n", "7"}) == ":1");
  CHECK(r({"GETBIT", "n", "1"}) == ":0");
  REQUIRE(r({"EXPIRE", "n", "100"}) == ":1");
  CHECK(r({"SETBIT", "n", "6", "1"}) == ":0");
  CHECK(r({"GET", "n"}) == "\"3\"");
  CHECK(r({"TTL", "n"}) == ":100");  // the TTL stays
  const std::string bad_offset = "-ERR bit offset is not an integer or out of range";
  CHECK(r({"SETBIT", "b", "-1", "1"}) == bad_offset);
  CHECK(r({"SETBIT", "b", "4294967296", "1"}) == bad_offset);  // past 512 MB
  CHECK(r({"GETBIT", "b", "x"}) == bad_offset);
  CHECK(r({"SETBIT", "b", "1", "2"}) == "-ERR bit is not an integer or out of range");
  CHECK(r({"SETBIT", "b", "1", "01"}) == "-ERR bit is not an integer or out of range");
  REQUIRE(r({"RPUSH", "l", "a"}) == ":1");
  CHECK(r({"SETBIT", "l", "1", "1"}) == wrongtype);
  CHECK(r({"SETBIT", "l", "x", "1"}) == bad_offset);  // the offset before the type
  CHECK(r({"GETBIT", "l", "1"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis sets", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"SADD", "s", "a", "b", "c", "a"}) == ":3");
  CHECK(r({"SADD", "s", "a"}) == ":0");
  CHECK(r({"SCARD", "s"}) == ":3");
  CHECK(r({"SISMEMBER", "s", "a"}) == ":1");
  CHECK(r({"SISMEMBER", "s", "z"}) == ":0");
  CHECK(r({"SMISMEMBER", "s", "a", "z"}) == "[:1, :0]");
  CHECK(r({"SMEMBERS", "s"}) == "[\"a\", \"b\", \"c\"]");
  CHECK(r({"SMEMBERS", "nope"}) == "[]");
  CHECK(r({"SREM", "s", "a", "z"}) == ":1");
  CHECK(r({"SADD", "t", "b", "x"}) == ":2");
  CHECK(r({"SADD", "u", "b", "c", "y"}) == ":3");
  CHECK(r({"SUNION", "s", "t", "nope"}) == "[\"b\", \"c\", \"x\"]");
  CHECK(r({"SINTER", "s", "t"}) == "[\"b\"]");
  CHECK(r({"SINTER", "s", "nope"}) == "[]");
  CHECK(r({"SDIFF", "u", "s"}) == "[\"y\"]");
  CHECK(r({"SDIFF", "nope", "s"}) == "[]");
  CHECK(r({"SINTERCARD", "2", "s", "u"}) == ":2");
  CHECK(r({"SINTERCARD", "2", "s", "u", "LIMIT", "1"}) == ":1");
  CHECK(r({"SINTERCARD", "0", "s"}) == "-ERR numkeys should be greater than 0");
  CHECK(r({"SINTERCARD", "3", "s", "u"}) == "-ERR Number of keys can't be greater than number of args");
  CHECK(r({"SINTERCARD", "2", "s", "u", "LIMIT", "-1"}) == "-ERR LIMIT can't be negative");
  CHECK(r({"SINTERCARD", "1", "s", "FOO", "1"}) == syntax);
  CHECK(r({"SUNIONSTORE", "dst", "s", "t"}) == ":3");
  CHECK(r({"SMEMBERS", "dst"}) == "[\"b\", \"c\", \"x\"]");
  CHECK(r({"SINTERSTORE", "dst", "s", "t"}) == ":1");
  CHECK(r({"SMEMBERS", "dst"}) == "[\"b\"]");
  CHECK(r({"SDIFFSTORE", "dst", "s", "s"}) == ":0");
  CHECK(r({"EXISTS", "dst"}) == ":0");
  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"SUNIONSTORE", "str", "s"}) == ":2");  // the destination is replaced, whatever its type
  CHECK(r({"TYPE", "str"}) == "+set");
  CHECK(r({"SUNIONSTORE", "s", "s", "t"}) == ":3");  // a source may be the destination
  CHECK(r({"SMEMBERS", "s"}) == "[\"b\", \"c\", \"x\"]");

  CHECK(r({"SMOVE", "s", "t2", "x"}) == ":1");
  CHECK(r({"SMOVE", "s", "t2", "x"}) == ":0");
  CHECK(r({"SMOVE", "s", "s", "b"}) == ":1");
  CHECK(r({"SMEMBERS", "t2"}) == "[\"x\"]");
  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"SMOVE", "s", "str", "b"}) == wrongtype);
  CHECK(r({"SISMEMBER", "s", "b"}) == ":1");

  CHECK(r({"SPOP", "nope"}) == "(nil)");
  CHECK(r({"SPOP", "nope", "3"}) == "[]");
  CHECK(r({"SPOP", "s", "-1"}) == "-ERR value is out of range, must be positive");
  CHECK(r({"SRANDMEMBER", "t2"}) == "\"x\"");
  CHECK(r({"SRANDMEMBER", "t2", "-2"}) == "[\"x\", \"x\"]");
  CHECK(r({"SRANDMEMBER", "t2", "5"}) == "[\"x\"]");
  CHECK(r({"SRANDMEMBER", "nope"}) == "(nil)");
  CHECK(r({"SPOP", "t2"}) == "\"x\"");
  CHECK(r({"EXISTS", "t2"}) == ":0");
  CHECK(r({"SPOP", "s", "10"}) == "[\"b\", \"c\"]");
  CHECK(r({"EXISTS", "s"}) == ":0");
  CHECK(r({"SADD", "s", "a", "b", "c", "d"}) == ":4");
  CHECK(r({"SPOP", "s", "2"}).size() > 2);
  CHECK(r({"SCARD", "s"}) == ":2");

  CHECK(r({"SADD", "str", "a"}) == wrongtype);
  CHECK(r({"SMEMBERS", "str"}) == wrongtype);
  CHECK(r({"SUNION", "s", "str"}) == wrongtype);
  CHECK(r({"SINTER", "nope", "str"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis sorted sets", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"ZADD", "z", "1", "a", "2", "b", "3", "c"}) == ":3");
  CHECK(r({"ZADD", "z", "1", "a", "2.5", "b"}) == ":0");
  CHECK(r({"ZADD", "z", "CH", "1", "a", "2", "b", "4", "d"}) == ":2");
  CHECK(r({"ZADD", "z", "NX", "10", "a", "5", "e"}) == ":1");
  CHECK(r({"ZADD", "z", "XX", "10", "zz"}) == ":0");
  CHECK(r({"ZSCORE", "z", "zz"}) == "(nil)");
  CHECK(r({"ZADD", "z", "GT", "CH", "0", "a", "7", "e"}) == ":1");
  CHECK(r({"ZADD", "z", "LT", "CH", "0", "a", "9", "e"}) == ":1");
  CHECK(r({"ZSCORE", "z", "a"}) == "(double) 0");
  CHECK(r({"ZSCORE", "z", "e"}) == "(double) 7");
  CHECK(r({"ZADD", "z", "INCR", "1.5", "a"}) == "(double) 1.5");
  CHECK(r({"ZADD", "z", "INCR", "NX", "1", "a"}) == "(nil)");
  CHECK(r({"ZADD", "z", "NX", "XX", "1", "a"}) == "-ERR XX and NX options at the same time are not compatible");
  CHECK(r({"ZADD", "z", "GT", "LT", "1", "a"}) == "-ERR GT, LT, and/or NX options at the same time are not compatible");
  CHECK(r({"ZADD", "z", "INCR", "1", "a", "2", "b"}) == "-ERR INCR option supports a single increment-element pair");
  CHECK(r({"ZADD", "z", "x", "a"}) == "-ERR value is not a valid float");
  CHECK(r({"ZADD", "z", "1", "a", "2"}) == syntax);
  CHECK(r({"ZADD", "z", "1"}) == "-ERR wrong number of arguments for 'zadd' command");
  CHECK(r({"ZADD", "z", "nan", "a"}) == "-ERR value is not a valid float");
  CHECK(r({"ZINCRBY", "z", "0.1", "a"}) == "(double) 1.6000000000000001");
  CHECK(r({"ZINCRBY", "z", "x", "a"}) == "-ERR value is not a valid float");
  CHECK(r({"ZADD", "inf", "+inf", "p", "-inf", "n"}) == ":2");
  CHECK(r({"ZINCRBY", "inf", "-inf", "p"}) == "-ERR resulting score is not a number (NaN)");
  CHECK(r({"ZRANGE", "inf", "0", "-1", "WITHSCORES"}) == "[\"n\", (double) -inf, \"p\", (double) inf]");
  CHECK(r({"ZMSCORE", "z", "a", "nope", "b"}) == "[(double) 1.6000000000000001, (nil), (double) 2]");
  CHECK(r({"ZCARD", "z"}) == ":5");
  // z: a 1.6, b 2, c 3, d 4, e 7
  CHECK(r({"ZRANGE", "z", "0", "-1"}) == "[\"a\", \"b\", \"c\", \"d\", \"e\"]");
  CHECK(r({"ZRANGE", "z", "1", "2", "WITHSCORES"}) == "[\"b\", (double) 2, \"c\", (double) 3]");
  CHECK(r({"ZRANGE", "z", "0", "1", "REV"}) == "[\"e\", \"d\"]");
  CHECK(r({"ZREVRANGE", "z", "0", "1", "WITHSCORES"}) == "[\"e\", (double) 7, \"d\", (double) 4]");
  CHECK(r({"ZRANGE", "z", "2", "(4", "BYSCORE"}) == "[\"b\", \"c\"]");
  CHECK(r({"ZRANGE", "z", "(2", "+inf", "BYSCORE", "LIMIT", "1", "2"}) == "[\"d\", \"e\"]");
  CHECK(r({"ZRANGE", "z", "+inf", "(2", "BYSCORE", "REV", "LIMIT", "0", "2"}) == "[\"e\", \"d\"]");
  CHECK(r({"ZRANGEBYSCORE", "z", "-inf", "2", "WITHSCORES"}) == "[\"a\", (double) 1.6000000000000001, \"b\", (double) 2]");
  CHECK(r({"ZREVRANGEBYSCORE", "z", "3", "2"}) == "[\"c\", \"b\"]");
  CHECK(r({"ZRANGEBYSCORE", "z", "x", "2"}) == "-ERR min or max is not a float");
  CHECK(r({"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"}) ==
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  CHECK(r({"ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"}) ==
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  CHECK(r({"ZCOUNT", "z", "2", "4"}) == ":3");
  CHECK(r({"ZCOUNT", "z", "(2", "(4"}) == ":1");
  CHECK(r({"ZRANK", "z", "c"}) == ":2");
  CHECK(r({"ZREVRANK", "z", "c"}) == ":2");
  CHECK(r({"ZRANK", "z", "e", "WITHSCORE"}) == "[:4, (double) 7]");
  CHECK(r({"ZRANK", "z", "nope"}) == "(nil)");

  // Lexicographic ranges (equal scores)
  CHECK(r({"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"}) == ":5");
  CHECK(r({"ZRANGEBYLEX", "lex", "-", "[c"}) == "[\"a\", \"b\", \"c\"]");
  CHECK(r({"ZRANGEBYLEX", "lex", "(a", "(c"}) == "[\"b\"]");
  CHECK(r({"ZRANGEBYLEX", "lex", "[b", "+", "LIMIT", "1", "2"}) == "[\"c\", \"d\"]");
  CHECK(r({"ZREVRANGEBYLEX", "lex", "+", "[d"}) == "[\"e\", \"d\"]");
  CHECK(r({"ZRANGE", "lex", "[d", "-", "BYLEX", "REV"}) == "[\"d\", \"c\", \"b\", \"a\"]");
  CHECK(r({"ZLEXCOUNT", "lex", "-", "+"}) == ":5");
  CHECK(r({"ZLEXCOUNT", "lex", "a", "+"}) == "-ERR min or max not valid string range item");
  CHECK(r({"ZREMRANGEBYLEX", "lex", "[b", "(d"}) == ":2");
  CHECK(r({"ZRANGE", "lex", "0", "-1"}) == "[\"a\", \"d\", \"e\"]");

  // Removal and pops
  CHECK(r({"ZREM", "z", "a", "nope"}) == ":1");
  CHECK(r({"ZREMRANGEBYSCORE", "z", "3", "4"}) == ":2");
  CHECK(r({"ZRANGE", "z", "0", "-1"}) == "[\"b\", \"e\"]");
  CHECK(r({"ZADD", "z", "1", "x", "8", "y"}) == ":2");
  CHECK(r({"ZREMRANGEBYRANK", "z", "0", "1"}) == ":2");
  CHECK(r({"ZRANGE", "z", "0", "-1"}) == "[\"e\", \"y\"]");
  CHECK(r({"ZPOPMIN", "z"}) == "[\"e\", (double) 7]");
  CHECK(r({"ZPOPMAX", "z", "5"}) == "[\"y\", (double) 8]");
  CHECK(r({"EXISTS", "z"}) == ":0");  // empty sorted sets are deleted
  CHECK(r({"ZPOPMIN", "z"}) == "[]");
  CHECK(r({"ZPOPMIN", "z", "-1"}) == "-ERR value is out of range, must be positive");
  CHECK(r({"ZADD", "one", "5", "m"}) == ":1");
  CHECK(r({"ZRANDMEMBER", "one"}) == "\"m\"");
  CHECK(r({"ZRANDMEMBER", "one", "-2", "WITHSCORES"}) == "[\"m\", (double) 5, \"m\", (double) 5]");
  CHECK(r({"ZRANDMEMBER", "nope"}) == "(nil)");

  // Equal scores order by member; negative and fractional scores order as numbers.
  CHECK(r({"ZADD", "ord", "-1.5", "n", "0", "b", "0", "a", "-0", "c", "1e3", "k", "-1e3", "m"}) == ":6");
  CHECK(r({"ZRANGE", "ord", "0", "-1"}) == "[\"m\", \"n\", \"a\", \"b\", \"c\", \"k\"]");
  CHECK(r({"ZSCORE", "ord", "c"}) == "(double) 0");

  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"ZADD", "str", "1", "a"}) == wrongtype);
  CHECK(r({"ZRANGE", "str", "0", "1"}) == wrongtype);
  CHECK(r({"ZSCORE", "str", "a"}) == wrongtype);
}

TEMPLATE_LIST_TEST_CASE("redis keys: DEL EXISTS TYPE EXPIRE TTL PERSIST KEYS RENAME COPY", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  r({"SET", "s", "v"});
  r({"RPUSH", "l", "a", "b"});
  r({"HSET", "h", "f", "v"});
  r({"SADD", "set", "m"});
  r({"ZADD", "z", "1", "m"});
  CHECK(r({"TYPE", "s"}) == "+string");
  CHECK(r({"TYPE", "l"}) == "+list");
  CHECK(r({"TYPE", "h"}) == "+hash");
  CHECK(r({"TYPE", "set"}) == "+set");
  CHECK(r({"TYPE", "z"}) == "+zset");
  CHECK(r({"TYPE", "nope"}) == "+none");
  CHECK(r({"EXISTS", "s", "l", "nope", "s"}) == ":3");
  CHECK(r({"KEYS", "*"}) == "[\"h\", \"l\", \"s\", \"set\", \"z\"]");
  CHECK(r({"KEYS", "s*"}) == "[\"s\", \"set\"]");
  CHECK(r({"KEYS", "?"}) == "[\"h\", \"l\", \"s\", \"z\"]");
  CHECK(r({"DBSIZE"}) == ":5");

  CHECK(r({"EXPIRE", "l", "100"}) == ":1");
  CHECK(r({"TTL", "l"}) == ":100");
  CHECK(r({"EXPIRE", "l", "50", "NX"}) == ":0");
  CHECK(r({"EXPIRE", "l", "50", "GT"}) == ":0");
  CHECK(r({"EXPIRE", "l", "50", "LT"}) == ":1");
  CHECK(r({"EXPIRE", "l", "500", "XX"}) == ":1");
  CHECK(r({"EXPIRE", "h", "50", "XX"}) == ":0");
  CHECK(r({"EXPIRE", "h", "50", "GT"}) == ":0");  // no expiry counts as infinite
  CHECK(r({"EXPIRE", "h", "50", "LT"}) == ":1");
  CHECK(r({"EXPIRE", "h", "50", "NX", "XX"}) == "-ERR NX and XX, GT or LT options at the same time are not compatible");
  CHECK(r({"EXPIRE", "h", "50", "GT", "LT"}) == "-ERR GT and LT options at the same time are not compatible");
  CHECK(r({"EXPIRE", "h", "50", "FOO"}) == "-ERR Unsupported option FOO");
  CHECK(r({"EXPIRE", "h", "x"}) == not_int);
  CHECK(r({"EXPIRE", "h", "9223372036854775807"}) == "-ERR invalid expire time in 'expire' command");
  CHECK(r({"EXPIRE", "nope", "10"}) == ":0");
  CHECK(r({"PEXPIRE", "h", "1234"}) == ":1");
  CHECK(r({"PTTL", "h"}) == ":1234");
  CHECK(r({"PERSIST", "h"}) == ":1");
  CHECK(r({"PERSIST", "h"}) == ":0");
  CHECK(r({"TTL", "h"}) == ":-1");
  CHECK(r({"EXPIRETIME", "h"}) == ":-1");
  CHECK(r({"EXPIRETIME", "nope"}) == ":-2");
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.clock.now().time_since_epoch()).count();
  CHECK(r({"PEXPIREAT", "set", std::to_string(now_ms + 2000)}) == ":1");
  CHECK(r({"EXPIREAT", "z", std::to_string(now_ms / 1000 + 3)}) == ":1");
  CHECK(r({"TTL", "set"}) == ":2");
  r.clock.advance(2s);
  CHECK(r({"EXISTS", "set"}) == ":0");  // a collection expires as a whole
  CHECK(r({"SISMEMBER", "set", "m"}) == ":0");
  CHECK(r({"SADD", "set", "n"}) == ":1");  // recreated: no old members, no old expiry
  CHECK(r({"SMEMBERS", "set"}) == "[\"n\"]");
  CHECK(r({"TTL", "set"}) == ":-1");
  CHECK(r({"EXPIRE", "s", "0"}) == ":1");  // a past time deletes
  CHECK(r({"EXISTS", "s"}) == ":0");
  CHECK(r({"EXPIRE", "h", "-5"}) == ":1");
  CHECK(r({"EXISTS", "h"}) == ":0");

  // RENAME / RENAMENX
  CHECK(r({"RENAME", "nope", "x"}) == "-ERR no such key");
  CHECK(r({"RENAME", "l", "l2"}) == "+OK");
  CHECK(r({"LRANGE", "l2", "0", "-1"}) == "[\"a\", \"b\"]");
  CHECK(r({"TTL", "l2"}) == ":498");  // the expiry goes along
  CHECK(r({"EXISTS", "l"}) == ":0");
  CHECK(r({"RENAME", "l2", "l2"}) == "+OK");
  CHECK(r({"SET", "str", "x"}) == "+OK");
  CHECK(r({"RENAME", "l2", "set"}) == "+OK");  // replaces a set
  CHECK(r({"TYPE", "set"}) == "+list");
  CHECK(r({"RENAMENX", "set", "str"}) == ":0");
  CHECK(r({"RENAMENX", "set", "l"}) == ":1");
  CHECK(r({"RENAMENX", "nope", "l"}) == "-ERR no such key");

  // COPY: a deep copy; the source unchanged.
  CHECK(r({"COPY", "l", "l3"}) == ":1");
  CHECK(r({"RPUSH", "l3", "c"}) == ":3");
  CHECK(r({"LRANGE", "l", "0", "-1"}) == "[\"a\", \"b\"]");
  CHECK(r({"COPY", "l", "l3"}) == ":0");
  CHECK(r({"COPY", "l", "l3", "REPLACE"}) == ":1");
  CHECK(r({"LRANGE", "l3", "0", "-1"}) == "[\"a\", \"b\"]");
  CHECK(r({"COPY", "l", "l"}) == "-ERR source and destination objects are the same");
  CHECK(r({"COPY", "l", "x", "DB", "16"}) == "-ERR DB index is out of range");
  CHECK(r({"COPY", "l", "x", "FOO"}) == syntax);
  CHECK(r({"COPY", "str", "str2"}) == ":1");
  CHECK(r({"GET", "str2"}) == "\"x\"");
  CHECK(r({"COPY", "nope", "x"}) == ":0");

  CHECK(r({"DEL", "l", "l3", "nope"}) == ":2");
  CHECK(r({"UNLINK", "str"}) == ":1");
  CHECK(r({"RANDOMKEY"}).front() == '"');
  CHECK(r({"FLUSHDB"}) == "+OK");
  CHECK(r({"RANDOMKEY"}) == "(nil)");
  CHECK(r({"DBSIZE"}) == ":0");
  CHECK(r({"KEYS", "*"}) == "[]");
  CHECK(r({"FLUSHDB", "FOO"}) == syntax);
}

TEMPLATE_LIST_TEST_CASE("redis databases: SELECT MOVE SWAPDB FLUSHDB FLUSHALL keep them apart", "[redis]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  r({"SET", "k", "db0"});
  r({"HSET", "h", "f", "0"});
  CHECK(r({"SELECT", "1"}) == "+OK");
  CHECK(r({"GET", "k"}) == "(nil)");
  r({"SET", "k", "db1"});
  r({"SADD", "s", "one"});
  CHECK(r({"SELECT", "16"}) == "-ERR DB index is out of range");
  CHECK(r({"SELECT", "x"}) == "-ERR invalid DB index");
  CHECK(r({"DBSIZE"}) == ":2");

  auto other = r.store->session();  // a second client, in db 0
  CHECK(r(other, {"GET", "k"}) == "\"db0\"");
  CHECK(r({"SWAPDB", "0", "1"}) == "+OK");
  CHECK(r({"GET", "k"}) == "\"db0\"");  // this client is in db 1, which now holds db 0's data
  CHECK(r(other, {"GET", "k"}) == "\"db1\"");
  CHECK(r(other, {"SMEMBERS", "s"}) == "[\"one\"]");
  CHECK(r({"SWAPDB", "0", "x"}) == "-ERR invalid second DB index");
  CHECK(r({"SWAPDB", "x", "0"}) == "-ERR invalid first DB index");
  CHECK(r({"SWAPDB", "0", "99"}) == "-ERR DB index is out of range");

  // MOVE: to another database only when absent there.
  CHECK(r({"MOVE", "h", "0"}) == ":1");
  CHECK(r({"EXISTS", "h"}) == ":0");
  CHECK(r(other, {"HGET", "h", "f"}) == "\"0\"");
  CHECK(r({"MOVE", "k", "0"}) == ":0");  // k exists in db 0
  CHECK(r({"GET", "k"}) == "\"db0\"");
  CHECK(r({"MOVE", "k", "1"}) == "-ERR source and destination objects are the same");
  CHECK(r({"MOVE", "nope", "0"}) == ":0");
  CHECK(r({"COPY", "k", "k", "DB", "2"}) == ":1");

  CHECK(r(other, {"FLUSHDB"}) == "+OK");
  CHECK(r(other, {"DBSIZE"}) == ":0");
  CHECK(r({"GET", "k"}) == "\"db0\"");  // db 1 untouched
  CHECK(r({"SADD", "s", "x"}) == ":1");
  CHECK(r(other, {"SADD", "s", "y"}) == ":1");  // db 0's s recreated after the flush: no old members
  CHECK(r(other, {"SMEMBERS", "s"}) == "[\"y\"]");
  CHECK(r({"FLUSHALL"}) == "+OK");
  CHECK(r({"DBSIZE"}) == ":0");
  CHECK(r(other, {"DBSIZE"}) == ":0");
  CHECK(r({"SELECT", "2"}) == "+OK");
  CHECK(r({"DBSIZE"}) == ":0");

  // The sweep removes everything left behind; afterwards the backend holds only live records.
  r({"SELECT", "0"});
  r({"RPUSH", "keep", "a"});
  while (r.store->sweep(3).value().entries > 0) {
  }
  std::size_t entries = 0;
  for (auto&& kv : r.store->backend().scan(KeyRange::all())) {
    (void)kv;
    ++entries;
  }
  CHECK(entries == 4);  // D, V, keep's metadata and its one element
}

TEMPLATE_LIST_TEST_CASE("redis: deleting a collection is O(1) and its elements go to the sweep", "[redis]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  std::vector<std::string> cmd = {"HSET", "h"};
  for (int i = 0; i < 500; ++i) cmd.insert(cmd.end(), {"f" + std::to_string(i), "v"});
  CHECK(redis::to_text(redis::execute(*r.store, r.session, redis::Args(cmd))) == ":500");
  auto backend_entries = [&] {
    std::size_t n = 0;
    for (auto&& kv : r.store->backend().scan(KeyRange::all())) (void)kv, ++n;
    return n;
  };
  CHECK(backend_entries() == 502);  // the version counter, the metadata, 500 fields
  CHECK(r({"DEL", "h"}) == ":1");
  CHECK(backend_entries() == 502);  // the fields stay; a garbage record replaces the metadata
  CHECK(r({"HSET", "h", "new", "1"}) == ":1");
  CHECK(r({"HGETALL", "h"}) == "{\"new\": \"1\"}");
  CHECK(r({"HLEN", "h"}) == ":1");
  auto swept = r.store->sweep(100).value();
  CHECK(swept.entries == 100);
  std::size_t total = swept.entries;
  while (auto n = r.store->sweep(100).value().entries) total += n;
  CHECK(total == 501);  // 500 elements and the garbage record
  CHECK(backend_entries() == 3);
  CHECK(r({"HGETALL", "h"}) == "{\"new\": \"1\"}");

  // Expired keys: the sweep removes them through the expiry index.
  r({"SADD", "s", "a", "b"});
  r({"PEXPIRE", "s", "10"});
  r({"SET", "str", "v", "PX", "20"});
  r({"SET", "stay", "v", "PX", "100"});
  r.clock.advance(20ms);
  auto exp = r.store->sweep().value();
  CHECK(exp.expired_keys == 2);
  CHECK(r({"DBSIZE"}) == ":2");
  CHECK(r({"PTTL", "stay"}) == ":80");
  while (r.store->sweep().value().entries > 0) {
  }
  CHECK(backend_entries() == 5);  // the version counter, h and its field, stay and its index entry
}

TEMPLATE_LIST_TEST_CASE("redis MULTI EXEC DISCARD WATCH", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"EXEC"}) == "-ERR EXEC without MULTI");
  CHECK(r({"DISCARD"}) == "-ERR DISCARD without MULTI");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"MULTI"}) == "-ERR MULTI calls can not be nested");
  CHECK(r({"SET", "a", "1"}) == "+QUEUED");
  CHECK(r({"INCR", "a"}) == "+QUEUED");
  CHECK(r({"LPUSH", "a", "x"}) == "+QUEUED");  // fails at EXEC, the rest still runs
  CHECK(r({"GET", "a"}) == "+QUEUED");
  auto other = r.store->session();
  CHECK(r(other, {"GET", "a"}) == "(nil)");  // nothing ran yet
  CHECK(r({"EXEC"}) == "[+OK, :2, " + wrongtype + ", \"2\"]");

  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"SET", "b", "1"}) == "+QUEUED");
  CHECK(r({"DISCARD"}) == "+OK");
  CHECK(r({"EXISTS", "b"}) == ":0");

  // A command refused when queued aborts the whole transaction.
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"SET", "b", "1"}) == "+QUEUED");
  CHECK(r({"GET"}) == "-ERR wrong number of arguments for 'get' command");
  CHECK(r({"NOSUCH"}) == "-ERR unknown command 'NOSUCH', with args beginning with: ");
  CHECK(r({"EXEC"}) == "-EXECABORT Transaction discarded because of previous errors.");
  CHECK(r({"EXISTS", "b"}) == ":0");

  // WATCH: a write by another client in between aborts EXEC (a nil reply), and unwatches.
  CHECK(r({"WATCH", "a", "w"}) == "+OK");
  CHECK(r(other, {"SET", "a", "changed"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"WATCH", "a"}) == "-ERR WATCH inside MULTI is not allowed");
  CHECK(r({"SET", "a", "mine"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "(nil array)");
  CHECK(r({"GET", "a"}) == "\"changed\"");
  CHECK(r({"MULTI"}) == "+OK");  // no watch left
  CHECK(r({"SET", "a", "mine"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "[+OK]");
  // Writes to other keys, or UNWATCH, leave it alone; an element write counts.
  CHECK(r({"WATCH", "h"}) == "+OK");
  CHECK(r(other, {"SET", "unrelated", "1"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"GET", "a"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "[\"mine\"]");
  CHECK(r({"HSET", "h", "f", "1"}) == ":1");
  CHECK(r({"WATCH", "h"}) == "+OK");
  CHECK(r(other, {"HSET", "h", "f", "2"}) == ":0");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "(nil array)");
  CHECK(r({"WATCH", "h"}) == "+OK");
  CHECK(r(other, {"HSET", "h", "f", "3"}) == ":0");
  CHECK(r({"UNWATCH"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "[]");
  // The empty key is a key like any other: writing it leaves a WATCH of another key alone.
  CHECK(r({"WATCH", "a"}) == "+OK");
  CHECK(r(other, {"SET", "", "v"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"GET", "a"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "[\"mine\"]");
  CHECK(r({"WATCH", ""}) == "+OK");
  CHECK(r(other, {"SET", "", "w"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "(nil array)");
  // FLUSHDB and SWAPDB touch the watched keys they change, those that exist on either side (as
  // Redis 7.0); a key expiring does too.
  CHECK(r({"SET", "a", "1"}) == "+OK");
  CHECK(r({"WATCH", "a"}) == "+OK");
  CHECK(r(other, {"FLUSHALL"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "(nil array)");
  CHECK(r({"WATCH", "a"}) == "+OK");
  CHECK(r(other, {"FLUSHDB"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "[]");
  CHECK(r(other, {"SELECT", "5"}) == "+OK");
  CHECK(r(other, {"SET", "a", "in5"}) == "+OK");
  CHECK(r({"WATCH", "a"}) == "+OK");
  CHECK(r(other, {"SWAPDB", "0", "5"}) == "+OK");
  CHECK(r(other, {"SELECT", "0"}) == "+OK");
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"GET", "a"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "(nil array)");
  CHECK(r({"GET", "a"}) == "\"in5\"");
  CHECK(r({"SET", "t", "v", "PX", "10"}) == "+OK");
  CHECK(r({"WATCH", "t"}) == "+OK");
  r.clock.advance(10ms);
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EXEC"}) == "(nil array)");
  // SELECT inside MULTI applies to the commands after it.
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"SELECT", "3"}) == "+QUEUED");
  CHECK(r({"SET", "in3", "v"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "[+OK, +OK]");
  CHECK(r({"GET", "in3"}) == "\"v\"");
  CHECK(r(other, {"GET", "in3"}) == "(nil)");
}

TEMPLATE_LIST_TEST_CASE("redis dispatcher: unknown commands, arity, case", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"set", "k", "v"}) == "+OK");
  CHECK(r({"GeT", "k"}) == "\"v\"");
  CHECK(r({"FOO", "a", "b"}) == "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
  CHECK(r({"GET", "a", "b"}) == "-ERR wrong number of arguments for 'get' command");
  CHECK(r({"HSET", "h"}) == "-ERR wrong number of arguments for 'hset' command");
  CHECK(r({"PING"}) == "+PONG");
  CHECK(r({"PING", "hi"}) == "\"hi\"");
  CHECK(r({"ECHO", "x"}) == "\"x\"");
  for (auto& c : redis::command_table<typename RedisFixture<TestType>::Store::context>())
    CHECK(redis::find_command<typename RedisFixture<TestType>::Store::context>(c.name) == &c);
}

TEMPLATE_LIST_TEST_CASE("redis: corrupt metadata is an error, and nothing is lost", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  r({"SET", "good", "v"});
  const std::string meta = redis::detail::meta_key(0, "");
  REQUIRE(r.store->backend().put(meta + "bad", "\x07garbage").has_value());
  CHECK(r({"GET", "bad"}).rfind("-ERR", 0) == 0);
  CHECK(r({"SET", "bad", "x"}).rfind("-ERR", 0) == 0);
  CHECK(r({"MSET", "good", "changed", "bad", "x"}).rfind("-ERR", 0) == 0);
  CHECK(r({"GET", "good"}) == "\"v\"");  // the failed MSET was rolled back
  CHECK(r({"KEYS", "*"}).rfind("-ERR", 0) == 0);
  // A failure inside EXEC rolls back the commands before it: all or nothing.
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"SET", "first", "1"}) == "+QUEUED");
  CHECK(r({"GET", "bad"}) == "+QUEUED");
  CHECK(r({"EXEC"}).rfind("-ERR", 0) == 0);
  CHECK(r({"EXISTS", "first"}) == ":0");
}

TEMPLATE_LIST_TEST_CASE("redis execute_all: pipelines share transactions and answer as one by one", "[redis]",
                        StoreTypes) {
  using Lines = std::vector<std::vector<std::string>>;
  auto texts = [](const std::vector<redis::Reply>& replies) {
    std::vector<std::string> t;
    for (auto& x : replies) t.push_back(redis::to_text(x));
    return t;
  };
  SECTION("one session: the same replies as execute one command at a time") {
    Lines script = {{"SET", "a", "1"}, {"INCR", "a"},  {"LPUSH", "a", "x"}, {"SELECT", "1"},     {"SET", "a", "one"},
                    {"NOPE"},          {"MULTI"},      {"INCR", "n"},       {"GET", "a", "b"},   {"EXEC"},
                    {"MULTI"},         {"INCR", "n"},  {"EXEC"},            {"WATCH", "a"},      {"SELECT", "0"},
                    {"GET", "a"},      {"RPUSH", "l", "1", "2"},            {"LPOP", "l"},       {"UNWATCH"}};
    RedisFixture<TestType> together, alone;
    std::vector<redis::Reply> out;
    redis::execute_all(*together.store, together.session, script, out);
    std::vector<std::string> expected;
    for (auto& line : script) expected.push_back(redis::to_text(redis::execute(*alone.store, alone.session, line)));
    CHECK(texts(out) == expected);
    CHECK(expected[2].rfind("-WRONGTYPE", 0) == 0);
    CHECK(expected[9].rfind("-EXECABORT", 0) == 0);
    CHECK(expected[12] == "[:1]");
    CHECK(together({"GET", "a"}) == "\"2\"");
    CHECK(together.session.db == 0);
  }
  SECTION("random pipelines of two sessions: the same replies and data as one command at a time") {
    // A command saving a key's metadata keeps it back until another key is saved, a scan could
    // see it, the key is erased, or the session's turn ends (Ctx::save): every way of looking at
    // a key right after a write, in one transaction, by the same session and by the next one.
    const std::vector<Lines> vocabulary = {
        {{"LPUSH", "$k", "a", "b"}}, {{"RPUSH", "$k", "c"}}, {{"LPOP", "$k"}}, {{"RPOP", "$k", "2"}}, {{"LLEN", "$k"}},
        {{"LRANGE", "$k", "0", "-1"}}, {{"INCR", "$k"}}, {{"SET", "$k", "7"}}, {{"APPEND", "$k", "x"}}, {{"GET", "$k"}},
        {{"DEL", "$k"}}, {{"EXISTS", "$k"}}, {{"TYPE", "$k"}}, {{"RENAME", "$k", "$k"}}, {{"COPY", "$k", "$k", "REPLACE"}},
        {{"EXPIRE", "$k", "100"}}, {{"PERSIST", "$k"}}, {{"TTL", "$k"}}, {{"SADD", "$k", "m"}}, {{"SCARD", "$k"}},
        {{"HSET", "$k", "f", "v"}}, {{"HLEN", "$k"}}, {{"LMOVE", "$k", "$k", "LEFT", "RIGHT"}}, {{"KEYS", "*"}},
        {{"SCAN", "0", "COUNT", "100"}}, {{"DBSIZE"}}, {{"RANDOMKEY"}}, {{"GETDEL", "$k"}}, {{"SELECT", "1"}},
        {{"SELECT", "0"}}, {{"MOVE", "$k", "1"}}, {{"SORT", "$k", "ALPHA", "STORE", "$k"}}};
    std::mt19937 rng(31);
    for (int round = 0; round < 30; ++round) {
      RedisFixture<TestType> together, alone;
      Lines one, two;
      for (auto* lines : {&one, &two})
        for (int i = 0; i < 40; ++i) {
          auto line = vocabulary[rng() % vocabulary.size()][0];
          for (auto& arg : line)
            if (arg == "$k") arg = std::string(1, "pqr"[rng() % 3]);
          lines->push_back(line);
        }
      auto s1 = together.store->session(), s2 = together.store->session();
      std::vector<redis::Reply> out1, out2;
      const redis::Pipeline ps[] = {{&s1, one, &out1}, {&s2, two, &out2}};
      redis::execute_all(*together.store, ps);
      auto a1 = alone.store->session(), a2 = alone.store->session();
      std::vector<std::string> expected1, expected2;
      for (auto& line : one) expected1.push_back(redis::to_text(redis::execute(*alone.store, a1, line)));
      for (auto& line : two) expected2.push_back(redis::to_text(redis::execute(*alone.store, a2, line)));
      INFO("round " << round);
      CHECK(texts(out1) == expected1);
      CHECK(texts(out2) == expected2);
      CHECK(collect(together.store->backend(), KeyRange::all()) == collect(alone.store->backend(), KeyRange::all()));
    }
  }
  SECTION("two sessions in one transaction, seen by a third one's WATCH") {
    RedisFixture<TestType> r;
    auto s1 = r.store->session(), s2 = r.store->session(), w = r.store->session();
    CHECK(r(w, {"WATCH", "k2"}) == "+OK");
    CHECK(r(w, {"MULTI"}) == "+OK");
    CHECK(r(w, {"SET", "k2", "mine"}) == "+QUEUED");
    Lines one = {{"SET", "k1", "a"}, {"GET", "k1"}}, two = {{"GET", "k1"}, {"SET", "k2", "b"}, {"WATCH", "k1"}, {"GET", "k2"}};
    std::vector<redis::Reply> out1, out2;
    const redis::Pipeline ps[] = {{&s1, one, &out1}, {&s2, two, &out2}};
    redis::execute_all(*r.store, ps);
    CHECK(texts(out1) == std::vector<std::string>{"+OK", "\"a\""});
    CHECK(texts(out2) == std::vector<std::string>{"\"a\"", "+OK", "+OK", "\"b\""});
    CHECK(r(w, {"EXEC"}) == "(nil array)");
    CHECK(r({"GET", "k2"}) == "\"b\"");
  }
  SECTION("a backend failure fails its own command only") {
    RedisFixture<TestType> r;
    const std::string meta = redis::detail::meta_key(0, "");
    REQUIRE(r.store->backend().put(meta + "bad", "\x07garbage").has_value());
    auto s1 = r.store->session(), s2 = r.store->session();
    Lines one = {{"SET", "before", "1"}, {"SELECT", "2"}, {"SET", "x", "2"}, {"SELECT", "0"}, {"GET", "bad"},
                 {"SELECT", "3"}, {"SET", "after", "3"}},
          two = {{"INCR", "n"}, {"INCR", "n"}};
    std::vector<redis::Reply> out1, out2;
    const redis::Pipeline ps[] = {{&s1, one, &out1}, {&s2, two, &out2}};
    redis::execute_all(*r.store, ps);
    auto t = texts(out1);
    REQUIRE(t.size() == 7);
    CHECK(t[4].rfind("-ERR", 0) == 0);
    t.erase(t.begin() + 4);
    CHECK(t == std::vector<std::string>(6, "+OK"));
    CHECK(texts(out2) == std::vector<std::string>{":1", ":2"});
    CHECK(s1.db == 3);
    CHECK(r(s1, {"GET", "after"}) == "\"3\"");
    CHECK(r({"GET", "before"}) == "\"1\"");
    CHECK(r({"GET", "n"}) == "\"2\"");
    CHECK(r({"SELECT", "2"}) == "+OK");
    CHECK(r({"GET", "x"}) == "\"2\"");
  }
}

TEMPLATE_LIST_TEST_CASE("redis: concurrent clients lose nothing", "[redis][threads]", StoreTypes) {
  RedisFixture<TestType> r;
  constexpr int threads = 4, rounds = 150;
  std::vector<std::thread> pool;
  std::atomic<int> retries{0};
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto s = r.store->session();
      auto run = [&](std::initializer_list<std::string_view> a) { return redis::execute(*r.store, s, a); };
      for (int i = 0; i < rounds; ++i) {
        run({"INCR", "counter"});
        run({"RPUSH", "list", std::to_string(t)});
        run({"HINCRBY", "hash", "f" + std::to_string(i % 3), "1"});
        run({"ZINCRBY", "zset", "1", "m" + std::to_string(i % 5)});
        // Optimistic read-modify-write with WATCH: retried until EXEC runs.
        while (true) {
          run({"WATCH", "cas"});
          auto v = run({"GET", "cas"});
          auto n = v.kind == redis::Reply::Kind::bulk ? std::stoll(v.text) : 0;
          run({"MULTI"});
          run({"SET", "cas", std::to_string(n + 1)});
          if (run({"EXEC"}).kind == redis::Reply::Kind::array) break;
          ++retries;
        }
      }
    });
  for (auto& th : pool) th.join();
  const auto total = std::to_string(threads * rounds);
  CHECK(r({"GET", "counter"}) == "\"" + total + "\"");
  CHECK(r({"GET", "cas"}) == "\"" + total + "\"");
  CHECK(r({"LLEN", "list"}) == ":" + total);
  CHECK(r({"HGET", "hash", "f0"}) == "\"" + std::to_string(threads * 50) + "\"");
  CHECK(r({"ZSCORE", "zset", "m4"}) == "(double) " + std::to_string(threads * 30));
  for (int t = 0; t < threads; ++t) CHECK(r({"LREM", "list", "0", std::to_string(t)}) == ":" + std::to_string(rounds));
  INFO("WATCH retries: " << retries.load());
}

TEMPLATE_LIST_TEST_CASE("redis: other clients never see half of an EXEC", "[redis][threads]", StoreTypes) {
  RedisFixture<TestType> r;
  r({"MSET", "x", "0", "y", "0"});
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto s = r.store->session();
    for (int i = 0; i < 300; ++i) {
      redis::execute(*r.store, s, {"MULTI"});
      redis::execute(*r.store, s, {"INCR", "x"});
      redis::execute(*r.store, s, {"INCR", "y"});
      redis::execute(*r.store, s, {"EXEC"});
    }
    done = true;
  });
  auto s = r.store->session();
  int reads = 0, torn = 0;
  while (!done || reads == 0) {
    auto got = redis::execute(*r.store, s, {"MGET", "x", "y"});
    torn += got.elements.at(0).text != got.elements.at(1).text;
    ++reads;
  }
  writer.join();
  CHECK(torn == 0);
  CHECK(r({"MGET", "x", "y"}) == "[\"300\", \"300\"]");
}

TEMPLATE_LIST_TEST_CASE("redis multi-key pops, and blocking pops where nothing can block", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"RPUSH", "l2", "a", "b", "c"}) == ":3");
  CHECK(r({"LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "2"}) == "[\"l2\", [\"c\", \"b\"]]");
  CHECK(r({"LMPOP", "1", "l1", "LEFT"}) == "(nil array)");
  CHECK(r({"LMPOP", "0", "l1", "LEFT"}) == "-ERR numkeys should be greater than 0");
  CHECK(r({"LMPOP", "x", "l1", "LEFT"}) == "-ERR numkeys should be greater than 0");
  CHECK(r({"LMPOP", "3", "l1", "LEFT"}) == syntax);
  CHECK(r({"LMPOP", "1", "l1", "UP"}) == syntax);
  CHECK(r({"LMPOP", "1", "l2", "LEFT", "COUNT", "0"}) == "-ERR count should be greater than 0");
  CHECK(r({"LMPOP", "1", "l2", "LEFT", "COUNT", "1", "COUNT", "1"}) == syntax);
  CHECK(r({"ZADD", "z", "1", "a", "2", "b", "3", "c"}) == ":3");
  CHECK(r({"ZMPOP", "2", "none", "z", "MAX", "COUNT", "2"}) == "[\"z\", [[\"c\", (double) 3], [\"b\", (double) 2]]]");
  CHECK(r({"SET", "s", "x"}) == "+OK");
  CHECK(r({"ZMPOP", "2", "s", "z", "MIN"}) == wrongtype);
  // Run directly (as inside MULTI), a blocking pop pops, or answers null: it never waits.
  CHECK(r({"BLPOP", "none", "l2", "0"}) == "[\"l2\", \"a\"]");
  CHECK(r({"BLPOP", "none", "0"}) == "(nil array)");
  CHECK(r({"BRPOPLPUSH", "none", "d", "0"}) == "(nil)");
  CHECK(r({"BZPOPMAX", "z", "0"}) == "[\"z\", \"a\", (double) 1]");
  CHECK(r({"BZMPOP", "1", "1", "z", "MIN"}) == "(nil array)");
  CHECK(r({"BLMPOP", "-1", "1", "z", "MIN"}) == syntax);  // the other arguments' errors come first
  CHECK(r({"BLMPOP", "-1", "1", "z", "LEFT"}) == "-ERR timeout is negative");
  CHECK(r({"BLPOP", "s", "0"}) == wrongtype);
  CHECK(r({"BLPOP", "s", "1e400"}) == "-ERR timeout is negative");  // past 64-bit milliseconds, as Redis on x86-64
}

TEMPLATE_LIST_TEST_CASE("redis sorted-set algebra: ZUNION ZINTER ZDIFF, STORE, ZINTERCARD, ZRANGESTORE", "[redis]",
                        StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"ZADD", "a", "1", "x", "2", "y", "3", "z"}) == ":3");
  CHECK(r({"ZADD", "b", "10", "y", "20", "z", "30", "w"}) == ":3");
  CHECK(r({"SADD", "s", "z", "v"}) == ":2");  // a set: each member scores 1
  CHECK(r({"ZUNION", "2", "a", "b", "WITHSCORES"}) ==
        "[\"x\", (double) 1, \"y\", (double) 12, \"z\", (double) 23, \"w\", (double) 30]");
  CHECK(r({"ZINTER", "3", "a", "b", "s", "AGGREGATE", "MAX"}) == "[\"z\"]");
  CHECK(r({"ZINTER", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"}) ==
        "[\"y\", (double) 9, \"z\", (double) 16]");
  CHECK(r({"ZDIFF", "3", "a", "b", "nope"}) == "[\"x\"]");
  CHECK(r({"ZUNION", "2", "a", "s", "AGGREGATE", "MIN", "WITHSCORES"}) ==
        "[\"v\", (double) 1, \"x\", (double) 1, \"z\", (double) 1, \"y\", (double) 2]");
  CHECK(r({"ZINTERCARD", "2", "a", "b"}) == ":2");
  CHECK(r({"ZINTERCARD", "2", "a", "b", "LIMIT", "1"}) == ":1");
  CHECK(r({"ZINTERCARD", "1", "a", "LIMIT", "-1"}) == "-ERR LIMIT can't be negative");
  CHECK(r({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "-1"}) == ":4");
  CHECK(r({"ZRANGE", "d", "0", "-1", "WITHSCORES"}) ==
        "[\"w\", (double) -30, \"z\", (double) -17, \"y\", (double) -8, \"x\", (double) 1]");
  CHECK(r({"ZINTERSTORE", "d", "2", "a", "nope"}) == ":0");
  CHECK(r({"EXISTS", "d"}) == ":0");
  CHECK(r({"ZDIFFSTORE", "d", "1", "a", "WITHSCORES"}) == syntax);
  CHECK(r({"ZUNION", "0", "a"}) == "-ERR at least 1 input key is needed for 'zunion' command");
  CHECK(r({"ZUNION", "3", "a", "b"}) == syntax);
  CHECK(r({"ZUNION", "1", "a", "WEIGHTS", "x"}) == "-ERR weight value is not a float");
  CHECK(r({"SET", "str", "v"}) == "+OK");
  CHECK(r({"ZUNION", "2", "a", "str", "BAD"}) == wrongtype);  // the keys first, as Redis
  CHECK(r({"ZADD", "inf", "+inf", "m"}) == ":1");
  CHECK(r({"ZADD", "ninf", "-inf", "m"}) == ":1");
  CHECK(r({"ZUNION", "2", "inf", "ninf", "WITHSCORES"}) == "[\"m\", (double) 0]");  // inf - inf: 0, as Redis
  CHECK(r({"ZRANGESTORE", "d", "a", "1", "-1"}) == ":2");
  CHECK(r({"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[\"y\", (double) 2, \"z\", (double) 3]");
  CHECK(r({"ZRANGESTORE", "d", "b", "(10", "+inf", "BYSCORE", "LIMIT", "0", "1"}) == ":1");
  CHECK(r({"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[\"z\", (double) 20]");
  CHECK(r({"ZRANGESTORE", "d", "a", "[y", "+", "BYLEX"}) == ":2");
  CHECK(r({"ZRANGE", "d", "0", "-1", "WITHSCORES"}) == "[\"y\", (double) 2, \"z\", (double) 3]");
  CHECK(r({"ZRANGESTORE", "d", "a", "0", "-1", "WITHSCORES"}) == syntax);
  CHECK(r({"ZRANGESTORE", "d", "str", "0", "-1"}) == wrongtype);
  CHECK(r({"ZRANGESTORE", "d", "nope", "0", "-1"}) == ":0");
  CHECK(r({"EXISTS", "d"}) == ":0");
}

TEMPLATE_LIST_TEST_CASE("redis SORT: numbers, ALPHA, BY, GET, LIMIT, STORE", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"RPUSH", "l", "3", "10", "1", "2"}) == ":4");
  CHECK(r({"SORT", "l"}) == "[\"1\", \"2\", \"3\", \"10\"]");
  CHECK(r({"SORT", "l", "ALPHA", "DESC"}) == "[\"3\", \"2\", \"10\", \"1\"]");
  CHECK(r({"SORT", "l", "LIMIT", "1", "2"}) == "[\"2\", \"3\"]");
  CHECK(r({"SORT", "l", "LIMIT", "-5", "-1"}) == "[\"1\", \"2\", \"3\", \"10\"]");
  CHECK(r({"MSET", "w_3", "0", "w_10", "5", "w_1", "9", "w_2", "1", "name_1", "one"}) == "+OK");
  CHECK(r({"SORT", "l", "BY", "w_*"}) == "[\"3\", \"2\", \"10\", \"1\"]");
  CHECK(r({"SORT", "l", "BY", "nosort", "DESC"}) == "[\"2\", \"1\", \"10\", \"3\"]");  // the list's order, reversed
  CHECK(r({"HSET", "h_10", "f", "x"}) == ":1");
  CHECK(r({"SORT", "l", "GET", "#", "GET", "name_*", "GET", "h_*->f", "LIMIT", "0", "2"}) ==
        "[\"1\", \"one\", (nil), \"2\", (nil), (nil)]");
  CHECK(r({"SORT", "l", "BY", "h_*->f", "ALPHA", "DESC", "LIMIT", "0", "1"}) == "[\"10\"]");
  CHECK(r({"SORT", "l", "GET", "#", "STORE", "dst"}) == ":4");
  CHECK(r({"LRANGE", "dst", "0", "-1"}) == "[\"1\", \"2\", \"3\", \"10\"]");
  CHECK(r({"SORT", "nope", "STORE", "dst"}) == ":0");
  CHECK(r({"EXISTS", "dst"}) == ":0");
  CHECK(r({"RPUSH", "words", "b", "a"}) == ":2");
  CHECK(r({"SORT", "words"}) == "-ERR One or more scores can't be converted into double");
  CHECK(r({"SORT_RO", "words", "ALPHA"}) == "[\"a\", \"b\"]");
  CHECK(r({"SORT_RO", "words", "STORE", "x"}) == syntax);
  CHECK(r({"SADD", "s", "2", "1"}) == ":2");
  CHECK(r({"ZADD", "z", "1", "9", "2", "8"}) == ":2");
  CHECK(r({"SORT", "s"}) == "[\"1\", \"2\"]");
  CHECK(r({"SORT", "z", "BY", "nosort"}) == "[\"9\", \"8\"]");  // the sorted set's order
  CHECK(r({"SORT", "z"}) == "[\"8\", \"9\"]");
  CHECK(r({"SORT", "w_1"}) == wrongtype);
  CHECK(r({"SORT", "l", "LIMIT", "0"}) == syntax);
}

TEMPLATE_LIST_TEST_CASE("redis TOUCH counts the keys that exist", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"MSET", "a", "1", "b", "2"}) == "+OK");
  CHECK(r({"TOUCH", "a", "b", "none", "a"}) == ":3");
  CHECK(r({"TOUCH"}) == "-ERR wrong number of arguments for 'touch' command");
}

TEMPLATE_LIST_TEST_CASE("redis LCS", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"MSET", "a", "ohmytext", "b", "mynewtext"}) == "+OK");
  CHECK(r({"LCS", "a", "b"}) == "\"mytext\"");
  CHECK(r({"LCS", "a", "b", "LEN"}) == ":6");
  CHECK(r({"LCS", "a", "b", "IDX"}) == "{\"matches\": [[[:4, :7], [:5, :8]], [[:2, :3], [:0, :1]]], \"len\": :6}");
  CHECK(r({"LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}) ==
        "{\"matches\": [[[:4, :7], [:5, :8], :4]], \"len\": :6}");
  CHECK(r({"LCS", "a", "none"}) == "\"\"");
  CHECK(r({"LCS", "a", "b", "LEN", "IDX"}) == "-ERR If you want both the length and indexes, please just use IDX.");
  CHECK(r({"LCS", "a", "b", "MINMATCHLEN", "x"}) == not_int);
  CHECK(r({"LCS", "a", "b", "BAD"}) == syntax);
  CHECK(r({"RPUSH", "l", "x"}) == ":1");
  CHECK(r({"LCS", "a", "l"}) == "-ERR The specified keys must contain string values");
}

TEMPLATE_LIST_TEST_CASE("redis DUMP and RESTORE: every type, TTL, REPLACE, damaged payloads", "[redis]", StoreTypes) {
  RedisFixture<TestType> r;
  CHECK(r({"SET", "s", std::string("bin\0ary", 7)}) == "+OK");
  CHECK(r({"RPUSH", "l", "a", "b", "a"}) == ":3");
  CHECK(r({"SADD", "set", "x", "y"}) == ":2");
  CHECK(r({"HSET", "h", "f", "v", "g", ""}) == ":2");
  CHECK(r({"ZADD", "z", "1.5", "m", "-inf", "n"}) == ":2");
  auto payload = [&](const std::string& key) { return r.reply({"DUMP", key}).text; };
  for (std::string key : {"s", "l", "set", "h", "z"}) {
    auto p = payload(key);
    CHECK(r({"RESTORE", key + "2", "0", p}) == "+OK");
    CHECK(r({"RESTORE", key + "2", "0", p}) == "-BUSYKEY Target key name already exists.");
    CHECK(r({"TYPE", key + "2"}) == r({"TYPE", key}));
  }
  CHECK(r({"GET", "s2"}) == r({"GET", "s"}));
  CHECK(r({"LRANGE", "l2", "0", "-1"}) == "[\"a\", \"b\", \"a\"]");
  CHECK(r({"SMEMBERS", "set2"}) == r({"SMEMBERS", "set"}));
  CHECK(r({"HGETALL", "h2"}) == r({"HGETALL", "h"}));
  CHECK(r({"ZRANGE", "z2", "0", "-1", "WITHSCORES"}) == "[\"n\", (double) -inf, \"m\", (double) 1.5]");
  CHECK(r({"DUMP", "none"}) == "(nil)");
  // TTL, REPLACE, and a TTL already past (the old key goes, nothing new is made).
  CHECK(r({"RESTORE", "l", "5000", payload("set"), "REPLACE", "IDLETIME", "10"}) == "+OK");
  CHECK(r({"TYPE", "l"}) == "+set");
  CHECK(r({"PTTL", "l"}) == ":5000");
  CHECK(r({"RESTORE", "l", "1", payload("h"), "REPLACE", "ABSTTL"}) == "+OK");
  CHECK(r({"EXISTS", "l"}) == ":0");
  CHECK(r({"RESTORE", "x", "-1", payload("s")}) == "-ERR Invalid TTL value, must be >= 0");
  CHECK(r({"RESTORE", "x", "0", payload("s"), "FREQ", "256"}) == "-ERR Invalid FREQ value, must be >= 0 and <= 255");
  CHECK(r({"RESTORE", "x", "0", payload("s"), "IDLETIME", "1", "FREQ", "1"}) == syntax);
  // A damaged payload is refused and changes nothing.
  auto damaged = payload("h");
  damaged[3] ^= 1;
  CHECK(r({"RESTORE", "h", "0", damaged, "REPLACE"}) == "-ERR DUMP payload version or checksum are wrong");
  CHECK(r({"RESTORE", "h", "0", "short", "REPLACE"}) == "-ERR DUMP payload version or checksum are wrong");
  CHECK(r({"HGETALL", "h"}) == r({"HGETALL", "h2"}));
  CHECK(r({"HLEN", "h"}) == ":2");
}
