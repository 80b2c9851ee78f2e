// The command-layer fuzzer: random commands, valid and invalid (wrong arity, wrong types, counts
// and offsets at the limits of 64 bits, bad numbers), sent to kvstack-server and to redis-server
// alike. kvstack-server must answer every one within the deadline (no crash, no stall); where
// Redis's answer is deterministic, it must be the same (elements of sets and hashes compared in
// any order; random picks by their shape).
//   kvstack_command_fuzz KVSTACK_PORT REDIS_PORT COMMANDS [SEED]
// Prints each differing exchange (the first few per command; with KVSTACK_FUZZ_TRACE set, every
// exchange) and ends with
// "N commands: E equal, S shape only, K documented differences, D differing"; exits 1 on a
// difference, 2 if kvstack-server stopped answering.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/resp_client.hpp"

using namespace kvstack;
using kvstack::test::RespClient;

namespace {

using Argv = std::vector<std::string>;

/// How a command's replies are compared.
enum class Compare {
  exact,      ///< the same reply
  unordered,  ///< an array whose elements may come in any order
  pairs,      ///< an array of field, value pairs in any order
  shape,      ///< random picks: the same kind and length (or, for errors, the same error)
};

struct Generator {
  std::mt19937_64 rng;

  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); }
  template <class T>
  const T& one_of(const std::vector<T>& v) { return v[below(v.size())]; }

  std::string key() { return one_of<std::string>({"s", "l", "h", "z", "n", "x", "k"}); }
  std::string value() { return one_of<std::string>({"a", "b", "c", "1", "2", "-3", "3.5", "", "10000000000", "x y"}); }
  std::string integer() {
    return one_of<std::string>({"0", "1", "2", "3", "-1", "-2", "-5", "7", "100", "-100", "9223372036854775807",
                                "-9223372036854775808", "-9223372036854770000", "9223372036854775808", "1.5", "x", ""});
  }
  /// A count for random picks: not one Redis itself would take minutes over (-9223372036854770000).
  std::string picks() { return one_of<std::string>({"0", "1", "3", "-1", "-5", "100", "-100", "9223372036854775807", "-9223372036854775808", "x"}); }
  std::string score() { return one_of<std::string>({"0", "1", "2.5", "-1", "inf", "-inf", "+inf", "(1", "(2.5", "nan", "x", "1e400"}); }
  std::string numkeys() { return one_of<std::string>({"1", "2", "2", "0", "-1", "3", "x"}); }
  /// A blocking command's timeout: too short to hold either server long, or malformed.
  std::string timeout() { return one_of<std::string>({"0.01", "0.01", "-1", "x", "1e400"}); }
  std::string lex() { return one_of<std::string>({"-", "+", "[a", "(a", "[c", "(b", "a", ""}); }

  /// A command and how to compare its replies.
  std::pair<Argv, Compare> command() {
    using C = Compare;
    const std::vector<std::function<std::pair<Argv, Compare>()>> commands = {
        [&] { return std::pair{Argv{"SET", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"GET", key()}, C::exact}; },
        [&] { return std::pair{Argv{"APPEND", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"INCR", key()}, C::exact}; },
        [&] { return std::pair{Argv{"INCRBY", key(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"DECRBY", key(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"GETRANGE", key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"SETRANGE", key(), one_of<std::string>({"0", "3", "-1", "536870912", "x"}), value()}, C::exact}; },
        [&] { return std::pair{Argv{"STRLEN", key()}, C::exact}; },
        [&] { return std::pair{Argv{"SETBIT", key(), one_of<std::string>({"0", "7", "100", "-1", "4294967296", "x"}), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"GETBIT", key(), one_of<std::string>({"0", "7", "100", "-1", "4294967296", "x"})}, C::exact}; },
        [&] { return std::pair{Argv{"MSET", key(), value(), key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"MGET", key(), key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"LPUSH", key(), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"RPUSH", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"LPOP", key()}, C::exact}; },
        [&] { return std::pair{Argv{"RPOP", key(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"LRANGE", key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"LINDEX", key(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"LSET", key(), integer(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"LREM", key(), integer(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"LTRIM", key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"LINSERT", key(), one_of<std::string>({"BEFORE", "AFTER", "X"}), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"LPOS", key(), value(), "RANK", integer(), "COUNT", integer()}, C::exact}; },
        [&] { return std::pair{Argv{"LLEN", key()}, C::exact}; },
        [&] { return std::pair{Argv{"SADD", key(), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"SREM", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"SMEMBERS", key()}, C::unordered}; },
        [&] { return std::pair{Argv{"SISMEMBER", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"SCARD", key()}, C::exact}; },
        [&] { return std::pair{Argv{"SINTER", key(), key()}, C::unordered}; },
        [&] { return std::pair{Argv{"SUNIONSTORE", key(), key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"SRANDMEMBER", key(), picks()}, C::shape}; },
        [&] { return std::pair{Argv{"SRANDMEMBER", key()}, C::shape}; },
        [&] { return std::pair{Argv{"SPOP", key(), "1000"}, C::unordered}; },  // all of them: deterministic
        [&] { return std::pair{Argv{"HSET", key(), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"HGET", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"HDEL", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"HGETALL", key()}, C::pairs}; },
        [&] { return std::pair{Argv{"HINCRBY", key(), value(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"HINCRBYFLOAT", key(), value(), score()}, C::exact}; },
        [&] { return std::pair{Argv{"HRANDFIELD", key(), picks()}, C::shape}; },
        [&] { return std::pair{Argv{"HRANDFIELD", key(), picks(), "WITHVALUES"}, C::shape}; },
        [&] { return std::pair{Argv{"ZADD", key(), score(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"ZADD", key(), one_of<std::string>({"NX", "XX", "GT", "LT", "CH", "INCR"}), score(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"ZINCRBY", key(), score(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"ZSCORE", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANGE", key(), integer(), integer(), "WITHSCORES"}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANGEBYSCORE", key(), score(), score()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANGEBYLEX", key(), lex(), lex()}, C::exact}; },
        [&] { return std::pair{Argv{"ZCOUNT", key(), score(), score()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANK", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"ZPOPMIN", key(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZREMRANGEBYRANK", key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANDMEMBER", key(), picks(), "WITHSCORES"}, C::shape}; },
        [&] { return std::pair{Argv{"TYPE", key()}, C::exact}; },
        [&] { return std::pair{Argv{"EXISTS", key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"DEL", key()}, C::exact}; },
        [&] { return std::pair{Argv{"RENAME", key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"COPY", key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"EXPIRE", key(), one_of<std::string>({"100", "-1", "x", "9223372036854775807"})}, C::exact}; },
        [&] { return std::pair{Argv{"PERSIST", key()}, C::exact}; },
        [&] { return std::pair{Argv{"INCRBYFLOAT", key(), score()}, C::exact}; },
        [&] { return std::pair{Argv{"GETDEL", key()}, C::exact}; },
        [&] { return std::pair{Argv{"SETNX", key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"LMOVE", key(), key(), one_of<std::string>({"LEFT", "RIGHT", "UP"}), "RIGHT"}, C::exact}; },
        [&] { return std::pair{Argv{"SMOVE", key(), key(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"SINTERCARD", one_of<std::string>({"1", "2", "0", "-1", "x"}), key(), key()}, C::exact}; },
        [&] { return std::pair{Argv{"HSETNX", key(), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"HMGET", key(), value(), value()}, C::exact}; },
        [&] { return std::pair{Argv{"HLEN", key()}, C::exact}; },
        [&] { return std::pair{Argv{"ZREVRANGE", key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZPOPMAX", key()}, C::exact}; },
        [&] { return std::pair{Argv{"ZREMRANGEBYSCORE", key(), score(), score()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANGE", key(), score(), score(), "BYSCORE", "LIMIT", integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"RANDOMKEY"}, C::shape}; },
        [&] { return std::pair{Argv{"DBSIZE"}, C::exact}; },
        [&] { return std::pair{Argv{"LMPOP", numkeys(), key(), key(), one_of<std::string>({"LEFT", "RIGHT", "UP"}), "COUNT", integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZMPOP", numkeys(), key(), key(), one_of<std::string>({"MIN", "MAX", "UP"})}, C::exact}; },
        [&] { return std::pair{Argv{"BLPOP", key(), key(), timeout()}, C::exact}; },
        [&] { return std::pair{Argv{"BRPOPLPUSH", key(), key(), timeout()}, C::exact}; },
        [&] { return std::pair{Argv{"BZPOPMAX", key(), timeout()}, C::exact}; },
        [&] { return std::pair{Argv{"BLMPOP", timeout(), numkeys(), key(), key(), "LEFT", "COUNT", integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZUNION", numkeys(), key(), key(), "WEIGHTS", score(), score(), "WITHSCORES"}, C::exact}; },
        [&] { return std::pair{Argv{"ZINTERSTORE", key(), numkeys(), key(), key(), "AGGREGATE", one_of<std::string>({"SUM", "MIN", "MAX", "AVG"})}, C::exact}; },
        [&] { return std::pair{Argv{"ZDIFF", numkeys(), key(), key(), "WITHSCORES"}, C::exact}; },
        [&] { return std::pair{Argv{"ZINTERCARD", numkeys(), key(), key(), "LIMIT", integer()}, C::exact}; },
        [&] { return std::pair{Argv{"ZRANGESTORE", key(), key(), integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"SORT", key(), "LIMIT", integer(), integer()}, C::exact}; },
        [&] { return std::pair{Argv{"SORT", key(), "ALPHA", one_of<std::string>({"ASC", "DESC"}), "STORE", key()}, C::exact}; },
        [&] { return std::pair{Argv{"LCS", key(), key(), one_of<std::string>({"LEN", "IDX", "WITHMATCHLEN"})}, C::exact}; },
    };
    auto [argv, compare] = commands[below(commands.size())]();
    if (argv[0] == "SPOP") return {argv, compare};  // SPOP without its count pops at random
    switch (below(20)) {  // now and then, a wrong number of arguments
      case 0:
        if (argv.size() > 1) argv.pop_back();
        break;
      case 1:
        if (argv[0][0] != 'B') argv.push_back(value());  // a blocking pop would take its timeout for a key
        break;
      default: break;
    }
    return {argv, compare};
  }
};

/// Differences README.md documents: ZRANK and ZREVRANK take Redis 7.2's WITHSCORE, so a fourth
/// argument is a syntax error rather than a wrong number of arguments.
bool documented_difference(const Argv& request) {
  return (request[0] == "ZRANK" || request[0] == "ZREVRANK") && request.size() == 4;
}

/// `r`, with the elements of an unordered reply sorted (pairs kept together).
redis::Reply normalized(redis::Reply r, Compare how) {
  if (how == Compare::shape && r.kind == redis::Reply::Kind::bulk) r.text.clear();
  if (r.kind != redis::Reply::Kind::array) return r;
  if (how == Compare::unordered) std::sort(r.elements.begin(), r.elements.end(), [](auto& a, auto& b) { return a.text < b.text; });
  if (how == Compare::pairs) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) pairs.emplace_back(r.elements[i].text, r.elements[i + 1].text);
    std::sort(pairs.begin(), pairs.end());
    r.elements.clear();
    for (auto& [f, v] : pairs) {
      r.elements.push_back(redis::reply::bulk(f));
      r.elements.push_back(redis::reply::bulk(v));
    }
  }
  if (how == Compare::shape)
    for (auto& e : r.elements) e.text.clear();
  return r;
}

/// Redis 7.0's SORT (sort.c) tests `errno == ERANGE` after strtod without clearing errno first,
/// so an earlier failed float parse (`ZADD z 1e400 m`) makes it refuse numbers it reads fine:
/// "One or more scores can't be converted into double". True when that was all: redis-server
/// gives kvstack's answer once errno is cleared (a ZADD XX of a valid score to an absent key parses
/// the score after `errno = 0`, and writes nothing).
bool redis_stale_errno(RespClient& redis, const Argv& request, const redis::Reply& want, const redis::Reply& got,
                       Compare how) {
  if (request[0] != "SORT" || !want.is_error() || want.text.find("can't be converted into double") == std::string::npos ||
      got.is_error())
    return false;
  redis.command({"ZADD", "fuzz:absent", "XX", "0", "m"});
  auto again = redis.command(request);
  return again && normalized(*again, how) == normalized(got, how);
}

std::string show(const redis::Reply& r) {
  switch (r.kind) {
    case redis::Reply::Kind::error: return "(error) " + r.text;
    case redis::Reply::Kind::integer: return "(integer) " + std::to_string(r.integer);
    case redis::Reply::Kind::null: return "(nil)";
    case redis::Reply::Kind::array: {
      std::string s = "[";
      for (const auto& e : r.elements) s += (s.size() > 1 ? ", " : "") + show(e);
      return s + "]";
    }
    default: return "\"" + r.text + "\"";
  }
}

std::string show(const Argv& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + (a.empty() || a.find(' ') != std::string::npos ? "'" + a + "'" : a);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: kvstack_command_fuzz KVSTACK_PORT REDIS_PORT COMMANDS [SEED]\n");
    return 64;
  }
  const auto kv_port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const auto redis_port = static_cast<std::uint16_t>(std::stoi(argv[2]));
  const long commands = std::stol(argv[3]);
  const std::uint64_t seed = argc > 4 ? std::stoull(argv[4]) : 1;
  auto kv = RespClient::connect("127.0.0.1", kv_port, std::chrono::seconds(10));
  auto redis = RespClient::connect("127.0.0.1", redis_port, std::chrono::seconds(10));
  if (!kv || !redis) {
    std::printf("FAIL: cannot connect\n");
    return 2;
  }
  for (auto* c : {&*kv, &*redis}) c->command({"FLUSHALL"});
  Generator gen{std::mt19937_64(seed)};
  const bool trace = std::getenv("KVSTACK_FUZZ_TRACE") != nullptr;  // every exchange, to find where states part
  long equal = 0, shape = 0, documented = 0, redis_bug = 0, differing = 0;
  std::map<std::string, int> shown;  // differences printed, by command
  for (long i = 0; i < commands; ++i) {
    const auto [request, how] = gen.command();
    auto want = redis->command(request);
    auto got = kv->command(request);
    if (trace && want && got) std::printf("%s -> %s | %s\n", show(request).c_str(), show(*want).c_str(), show(*got).c_str());
    if (!want) {
      std::printf("FAIL: redis-server did not answer: %s\n", show(request).c_str());
      return 2;
    }
    if (!got) {
      std::printf("FAIL: kvstack-server did not answer within 10 s (command %ld of seed %llu): %s\n", i, static_cast<unsigned long long>(seed),
                  show(request).c_str());
      return 2;
    }
    if (normalized(*got, how) == normalized(*want, how)) {
      ++(how == Compare::shape ? shape : equal);
      continue;
    }
    if (documented_difference(request)) {
      ++documented;
      continue;
    }
    if (redis_stale_errno(*redis, request, *want, *got, how)) {
      ++redis_bug;
      continue;
    }
    ++differing;
    if (shown[request[0]]++ < 3)
      std::printf("DIFF: %s\n  redis:   %s\n  kvstack: %s\n", show(request).c_str(), show(*want).c_str(), show(*got).c_str());
    // Start the next command from the same data again: copy nothing, just drop both.
    for (auto* c : {&*kv, &*redis}) c->command({"FLUSHALL"});
  }
  for (const auto& [name, n] : shown) std::printf("%s differed %d times\n", name.c_str(), n);
  std::printf("%ld commands: %ld equal, %ld shape only, %ld documented differences, %ld Redis errno bugs, %ld differing\n",
              commands, equal, shape, documented, redis_bug, differing);
  return differing ? 1 : 0;
}
