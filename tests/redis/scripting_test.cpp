// EVAL, EVALSHA, EVAL_RO and SCRIPT (Lua 5.1) on each engine: conversions both ways, Redis's
// error texts, the script cache, atomicity within the command's transaction, SCRIPT KILL.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "redis/redis_fixture.hpp"

using namespace kvstack;
using namespace kvstack::test;

namespace {
/// A RedisFixture whose session has Scripts.
template <class B>
struct ScriptFixture : RedisFixture<B> {
  redis::Scripts scripts;
  ScriptFixture() { this->session.scripts = &scripts; }
};

std::string where(const std::string& body) { return " script: " + redis::Scripts::sha1_hex(body) + ", on @user_script:1."; }
}  // namespace

TEMPLATE_LIST_TEST_CASE("redis EVAL: KEYS and ARGV, redis.call in the command's transaction, replies both ways", "[redis][lua]",
                        StoreTypes) {
  ScriptFixture<TestType> r;
  CHECK(r({"EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v"}) == "+OK");
  CHECK(r({"GET", "k"}) == "\"v\"");
  CHECK(r({"EVAL", "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", "2", "a", "b", "c", "d"}) == "[\"a\", \"b\", \"c\", :2]");
  // Lua to Redis: numbers truncate to integers, true is 1, false nil, a table stops at its first nil.
  CHECK(r({"EVAL", "return 3.99", "0"}) == ":3");
  CHECK(r({"EVAL", "return -3.99", "0"}) == ":-3");
  CHECK(r({"EVAL", "return true", "0"}) == ":1");
  CHECK(r({"EVAL", "return false", "0"}) == "(nil)");
  CHECK(r({"EVAL", "return nil", "0"}) == "(nil)");
  CHECK(r({"EVAL", "return {1, 2, nil, 4}", "0"}) == "[:1, :2]");
  CHECK(r({"EVAL", "return {1, {'x', {true}}}", "0"}) == "[:1, [\"x\", [:1]]]");
  CHECK(r({"EVAL", "return redis.status_reply('FINE')", "0"}) == "+FINE");
  CHECK(r({"EVAL", "return {ok = 'FINE'}", "0"}) == "+FINE");
  CHECK(r({"EVAL", "return redis.error_reply('MY error')", "0"}) == "-MY error");
  CHECK(r({"EVAL", "return redis.error_reply('-MY error')", "0"}) == "-MY error");
  CHECK(r({"EVAL", "return redis.error_reply('oops')", "0"}) == "-ERR oops");
  CHECK(r({"EVAL", "return 1e300", "0"}) == ":-9223372036854775808");
  // Redis to Lua: nil is false, a status a table with ok, an integer a number, a double a string.
  CHECK(r({"EVAL", "return redis.call('GET', 'nosuch') == false", "0"}) == ":1");
  CHECK(r({"EVAL", "return redis.call('SET', 'x', '1').ok", "0"}) == "\"OK\"");
  CHECK(r({"EVAL", "return redis.call('INCR', 'x') + 1", "0"}) == ":3");
  CHECK(r({"EVAL", "return type(redis.call('INCRBYFLOAT', 'f', '1.5'))", "0"}) == "\"string\"");
  CHECK(r({"EVAL", "redis.call('RPUSH', 'l', 'a', 'b') return redis.call('LRANGE', 'l', 0, -1)", "0"}) == "[\"a\", \"b\"]");
  // Numbers as arguments are sent as Redis prints them (%.17g), not as Lua does.
  CHECK(r({"EVAL", "redis.call('SET', 'n', 0.1) return redis.call('GET', 'n')", "0"}) == "\"0.10000000000000001\"");
  CHECK(r({"EVAL", "return redis.sha1hex('')", "0"}) == "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"");
  // A SELECT in a script is the script's own.
  CHECK(r({"EVAL", "redis.call('SELECT', 5) redis.call('SET', 'in5', 'y') return 1", "0"}) == ":1");
  CHECK(r({"GET", "in5"}) == "(nil)");
  CHECK(r({"SELECT", "5"}) == "+OK");
  CHECK(r({"GET", "in5"}) == "\"y\"");
}

TEMPLATE_LIST_TEST_CASE("redis EVAL: errors as Redis words them, and what a script may not do", "[redis][lua]", StoreTypes) {
  ScriptFixture<TestType> r;
  CHECK(r({"EVAL", "return 1", "2", "a"}) == "-ERR Number of keys can't be greater than number of args");
  CHECK(r({"EVAL", "return 1", "-1"}) == "-ERR Number of keys can't be negative");
  CHECK(r({"EVAL", "return 1", "x"}) == "-ERR value is not an integer or out of range");
  CHECK(r({"EVAL", "return 1"}) == "-ERR wrong number of arguments for 'eval' command");
  CHECK(r({"EVAL", "return +", "0"}).starts_with("-ERR Error compiling script (new function): user_script:1:"));
  // redis.call raises the command's error, with where; redis.pcall returns it.
  r({"SET", "s", "v"});
  std::string body = "return redis.call('LPUSH', 's', 'x')";
  CHECK(r({"EVAL", body, "0"}) == "-WRONGTYPE Operation against a key holding the wrong kind of value" + where(body));
  CHECK(r({"EVAL", "return redis.pcall('LPUSH', 's', 'x')", "0"}) == "-WRONGTYPE Operation against a key holding the wrong kind of value");
  CHECK(r({"EVAL", "local e = redis.pcall('LPUSH', 's', 'x') return e.err", "0"}) ==
        "\"WRONGTYPE Operation against a key holding the wrong kind of value\"");
  body = "return redis.call('NOSUCH')";
  CHECK(r({"EVAL", body, "0"}) == "-ERR Unknown Redis command called from script" + where(body));
  body = "return redis.call('GET')";
  CHECK(r({"EVAL", body, "0"}) == "-ERR Wrong number of args calling Redis command from script" + where(body));
  for (std::string command : {"MULTI", "EXEC", "EVAL", "SCRIPT", "BLPOP", "BZPOPMIN"}) {  // blocking: as Redis 7.0
    body = "return redis.call('" + command + "', 'return 1', 0)";
    if (command == "MULTI" || command == "EXEC") body = "return redis.call('" + command + "')";
    CHECK(r({"EVAL", body, "0"}) == "-ERR This Redis command is not allowed from script" + where(body));
  }
  body = "return redis.call()";
  CHECK(r({"EVAL", body, "0"}) == "-ERR Please specify at least one argument for this redis lib call" + where(body));
  body = "return redis.call('GET', {})";
  CHECK(r({"EVAL", body, "0"}) == "-ERR Lua redis lib command arguments must be strings or integers" + where(body));
  // Globals: neither read when undefined nor created; error() as Redis reports it.
  body = "return nosuch";
  CHECK(r({"EVAL", body, "0"}) == "-ERR user_script:1: Script attempted to access nonexistent global variable 'nosuch'" + where(body));
  body = "x = 1";
  CHECK(r({"EVAL", body, "0"}) == "-ERR user_script:1: Attempt to modify a readonly table" + where(body));
  body = "error('boom')";
  CHECK(r({"EVAL", body, "0"}) == "-ERR user_script:1: boom" + where(body));
  // Globals and libraries are read-only, whatever the trick; nothing a script tried stays.
  for (std::string trick : {"setmetatable(_G, {})", "getmetatable(_G).__index = {}", "redis = function() return 1 end",
                            "_G = {}", "redis.call = nil", "string.upper = nil", "rawset(_G, 'x', 1)"}) {
    CAPTURE(trick);
    CHECK(r({"EVAL", trick, "0"}).starts_with("-ERR user_script:1: Attempt to modify a readonly table script: "));
  }
  CHECK(r({"EVAL", "return redis.call('PING')", "0"}) == "+PONG");
  CHECK(r({"EVAL", "return string.upper('a')", "0"}) == "\"A\"");
  CHECK(r({"EVAL", "local t = {} rawset(t, 'a', 1) setmetatable(t, {}) return t.a", "0"}) == ":1");  // others' tables are theirs
  CHECK(r({"EVAL", "return loadfile", "0"}).find("nonexistent global variable 'loadfile'") != std::string::npos);
  // Precompiled chunks are refused (they can crash Lua 5.1); source loads.
  CHECK(r({"EVAL", "return loadstring(string.dump(function() return 1 end))", "0"}) == "(nil)");
  CHECK(r({"EVAL", "local parts = {string.dump(function() return 1 end)} local i = 0 "
                   "return load(function() i = i + 1 return parts[i] end)", "0"}) == "(nil)");
  CHECK(r({"EVAL", "return loadstring('return 7')()", "0"}) == ":7");
  CHECK(r({"EVAL", std::string("\x1bLua\x51") + std::string(40, '\0'), "0"}) ==
        "-ERR Error compiling script (new function): precompiled chunks are not loaded");
  CHECK(r({"EVAL", "return debug", "0"}).find("nonexistent global variable 'debug'") != std::string::npos);
  // As in Redis, an error keeps the writes made before it (the script is atomic, not undone).
  CHECK(r({"EVAL", "redis.call('SET', 'before', '1') error('late')", "0"}).starts_with("-ERR user_script:1: late"));
  CHECK(r({"GET", "before"}) == "\"1\"");
  // Read-only: EVAL_RO and scripts flagged no-writes refuse writes, read.
  body = "return redis.call('SET', 'k', 'v')";
  CHECK(r({"EVAL_RO", body, "0"}) == "-ERR Write commands are not allowed from read-only scripts." + where(body));
  CHECK(r({"EVAL_RO", "return redis.call('GET', 'before')", "0"}) == "\"1\"");
  CHECK(r({"EVAL", "#!lua flags=no-writes\nreturn redis.call('DEL', 'before')", "0"}).starts_with(
      "-ERR Write commands are not allowed from read-only scripts."));
  CHECK(r({"EVAL", "#!python\nreturn 1", "0"}) == "-ERR Unexpected engine in script shebang: python");
  CHECK(r({"EVAL", "#!lua name=x\nreturn 1", "0"}) == "-ERR Unknown lua shebang option: name=x");
  CHECK(r({"EVAL", "#!lua flags=no-writes,bogus\nreturn 1", "0"}) == "-ERR Unexpected flag in script shebang: bogus");
  CHECK(r({"EVAL", "#!lua flags=allow-oom,no-cluster\nreturn redis.call('SET', 'sb', '1')", "0"}) == "+OK");
  // Without Scripts, the session says so.
  redis::Session bare = r.store->session();
  CHECK(r(bare, {"EVAL", "return 1", "0"}) == "-ERR scripting is off: this session has no redis::Scripts");
}

TEMPLATE_LIST_TEST_CASE("redis EVALSHA and SCRIPT LOAD, EXISTS, FLUSH: the cache shared by sessions", "[redis][lua]", StoreTypes) {
  ScriptFixture<TestType> r;
  const std::string body = "return ARGV[1] .. '!'";
  const std::string sha = redis::Scripts::sha1_hex(body);
  CHECK(r({"EVALSHA", sha, "0", "hi"}) == "-NOSCRIPT No matching script. Please use EVAL.");
  CHECK(r({"SCRIPT", "LOAD", body}) == "\"" + sha + "\"");
  CHECK(r({"SCRIPT", "LOAD", "return +"}).starts_with("-ERR Error compiling script"));
  redis::Session other = r.store->session();
  other.scripts = &r.scripts;
  CHECK(r(other, {"EVALSHA", sha, "0", "hi"}) == "\"hi!\"");
  std::string upper = sha;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  CHECK(r({"EVALSHA", upper, "0", "yo"}) == "\"yo!\"");
  CHECK(r({"EVALSHA_RO", sha, "0", "ro"}) == "\"ro!\"");
  CHECK(r({"SCRIPT", "EXISTS", sha, "ffff", upper}) == "[:1, :0, :1]");
  // EVAL keeps what it compiled.
  CHECK(r({"EVAL", "return 2", "0"}) == ":2");
  CHECK(r({"SCRIPT", "EXISTS", redis::Scripts::sha1_hex("return 2")}) == "[:1]");
  CHECK(r({"SCRIPT", "FLUSH", "BOTH"}) == "-ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  CHECK(r({"SCRIPT", "FLUSH", "ASYNC"}) == "+OK");
  CHECK(r({"SCRIPT", "EXISTS", sha}) == "[:0]");
  CHECK(r({"EVALSHA", sha, "0", "hi"}) == "-NOSCRIPT No matching script. Please use EVAL.");
  CHECK(r({"SCRIPT", "KILL"}) == "-NOTBUSY No scripts in execution right now.");
  CHECK(r({"SCRIPT", "NOSUCH"}) == "-ERR unknown subcommand 'NOSUCH'. Try SCRIPT HELP.");
  CHECK(r({"SCRIPT", "LOAD"}) == "-ERR wrong number of arguments for 'script|load' command");
  // Inside MULTI, EVAL is queued and runs in EXEC's transaction.
  CHECK(r({"MULTI"}) == "+OK");
  CHECK(r({"EVAL", "return redis.call('INCR', 'c')", "0"}) == "+QUEUED");
  CHECK(r({"EVAL", "return redis.call('INCR', 'c')", "0"}) == "+QUEUED");
  CHECK(r({"EXEC"}) == "[:1, :2]");
}

TEST_CASE("redis SCRIPT KILL stops a script that has not written, and not one that wrote", "[redis][lua]") {
  ScriptFixture<MemoryBackend> r;
  // From another thread, SCRIPT KILL until the script is running.
  auto kill_when_running = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    redis::Reply answer = r.scripts.kill();
    while (answer.text.starts_with("NOTBUSY") && std::chrono::steady_clock::now() < deadline) answer = r.scripts.kill();
    return answer;
  };
  redis::Reply killed;
  std::thread killer([&] { killed = kill_when_running(); });
  const std::string body = "local n = 0 while true do n = n + 1 end";
  CHECK(r({"EVAL", body, "0"}).starts_with("-ERR Script killed by user with SCRIPT KILL... script: "));
  killer.join();
  CHECK(killed == redis::reply::ok());
  // A pcall does not catch the kill.
  killer = std::thread([&] { killed = kill_when_running(); });
  CHECK(r({"EVAL", "while true do pcall(function() while true do end end) end", "0"}).starts_with(
      "-ERR Script killed by user with SCRIPT KILL..."));
  killer.join();
  CHECK(killed == redis::reply::ok());
  // After a write, SCRIPT KILL is refused, and the script runs to its end.
  std::atomic<bool> refused = false;
  killer = std::thread([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (r.scripts.status() != redis::Scripts::Status::wrote && std::chrono::steady_clock::now() < deadline) {
    }
    refused = r.scripts.kill().text.starts_with("UNKILLABLE");
  });
  CHECK(r({"EVAL", "redis.call('SET', 'w', '1') for i = 1, 300000000 do end return 'done'", "0"}) == "\"done\"");
  killer.join();
  CHECK(refused);
  CHECK(r({"GET", "w"}) == "\"1\"");
}
