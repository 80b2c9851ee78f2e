// redis::Server embedded in a program (this test) on a free port, and kvstack-server's command
// line (parse_server_options).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/redis/redis.hpp>
#include <kvstack/server/server.hpp>

#include "server/resp_client.hpp"

using namespace kvstack;
namespace reply = kvstack::redis::reply;

namespace {
Result<redis::ServerOptions> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "kvstack-server");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return redis::parse_server_options(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("an embedded server serves pipelined clients on a free port and stops on SHUTDOWN", "[server]") {
  auto store = redis::DataStore<MemoryBackend>::open(MemoryBackend{}).value();
  redis::Standalone node;
  redis::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  auto server = redis::Server<decltype(store)>::open(store, node, options);
  REQUIRE(server);
  REQUIRE(server.value()->port() != 0);
  server.value()->start();

  auto a = test::RespClient::connect("127.0.0.1", server.value()->port());
  auto b = test::RespClient::connect("127.0.0.1", server.value()->port());
  REQUIRE(a);
  REQUIRE(b);
  // Pipelined: three commands sent before any reply is read.
  REQUIRE(a->send({"SET", "k", "v"}));
  REQUIRE(a->send({"INCR", "n"}));
  REQUIRE(a->send({"INCR", "n"}));
  CHECK(a->read() == reply::ok());
  CHECK(a->read() == reply::integer(1));
  CHECK(a->read() == reply::integer(2));
  CHECK(b->command({"GET", "k"}) == reply::bulk("v"));
  CHECK(b->command({"CLIENT", "ID"}) != a->command({"CLIENT", "ID"}));
  auto info = b->command({"INFO", "replication"});
  REQUIRE(info);
  CHECK(info->text.find("role:master") != std::string::npos);
  CHECK(b->command({"NOSUCH"})->is_error());

  CHECK(a->command({"SHUTDOWN", "NOSUCHFLAG"}) == reply::syntax());
  // Inside MULTI, SHUTDOWN is refused and the transaction aborts; the server goes on.
  CHECK(a->command({"MULTI"}) == reply::ok());
  CHECK(a->command({"SET", "k", "w"}) == reply::simple("QUEUED"));
  CHECK(a->command({"SHUTDOWN"}) == reply::error("ERR Command not allowed inside a transaction"));
  CHECK(a->command({"EXEC"})->text.starts_with("EXECABORT"));
  CHECK(b->command({"GET", "k"}) == reply::bulk("v"));
  a->send({"SHUTDOWN"});
  server.value()->join();  // returns once SHUTDOWN stopped it
  const auto port = server.value()->port();
  server.value().reset();
  CHECK(!test::RespClient::connect("127.0.0.1", port, std::chrono::milliseconds(500)));
  // What it acknowledged is in the store it served.
  auto session = store.session();
  CHECK(redis::execute(store, session, {"GET", "n"}) == reply::bulk("2"));
}

TEST_CASE("an embedded server answers what Redis's test harness asks: encoding settings, FUNCTION FLUSH", "[server]") {
  auto store = redis::DataStore<MemoryBackend>::open(MemoryBackend{}).value();
  redis::Standalone node;
  redis::ServerOptions options;
  options.port = 0;
  auto server = redis::Server<decltype(store)>::open(store, node, options).value();
  server->start();
  auto c = test::RespClient::connect("127.0.0.1", server->port());
  REQUIRE(c);
  using reply::array, reply::bulk;
  CHECK(c->command({"CONFIG", "GET", "hash-max-ziplist-value"}) == array({bulk("hash-max-ziplist-value"), bulk("64")}));
  CHECK(c->command({"CONFIG", "SET", "hash-max-ziplist-value", "16", "zset-max-listpack-entries", "0"}) == reply::ok());
  CHECK(c->command({"CONFIG", "GET", "hash-max-listpack-value"}) == array({bulk("hash-max-listpack-value"), bulk("16")}));
  CHECK(c->command({"CONFIG", "GET", "zset-max-*-entries"}) ==
        array({bulk("zset-max-listpack-entries"), bulk("0"), bulk("zset-max-ziplist-entries"), bulk("0")}));
  // All or nothing, with Redis's errors.
  CHECK(c->command({"CONFIG", "SET", "list-compress-depth", "2", "nosuch", "1"}) ==
        reply::error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
  CHECK(c->command({"CONFIG", "SET", "list-compress-depth", "x"}) ==
        reply::error("ERR CONFIG SET failed (possibly related to argument 'list-compress-depth') - argument couldn't be "
                     "parsed into an integer"));
  CHECK(c->command({"CONFIG", "SET", "maxmemory", "0"}) == reply::ok());  // no limit: what holds
  CHECK(c->command({"CONFIG", "SET", "maxmemory", "1gb"}) ==
        reply::error("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - kvstack-server sets no memory "
                     "limit"));
  CHECK(c->command({"CONFIG", "SET", "maxmemory", "lots"}) ==
        reply::error("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"));
  CHECK(c->command({"CONFIG", "GET", "maxmemory"}) == array({bulk("maxmemory"), bulk("0")}));
  CHECK(c->command({"CONFIG", "GET", "timeout"}) == array({bulk("timeout"), bulk("0")}));
  CHECK(c->command({"SAVE"}) == reply::ok());  // every write is in the engine already
  CHECK(c->command({"BGSAVE"}) == reply::simple("Background saving started"));
  // Inside MULTI, the server's own commands are queued, and answer in their place in EXEC's reply.
  CHECK(c->command({"MULTI"}) == reply::ok());
  CHECK(c->command({"SET", "k", "v"}) == reply::simple("QUEUED"));
  CHECK(c->command({"CONFIG", "SET", "maxmemory", "lots"}) == reply::simple("QUEUED"));
  CHECK(c->command({"CLIENT", "SETNAME", "me"}) == reply::simple("QUEUED"));
  CHECK(c->command({"GET", "k"}) == reply::simple("QUEUED"));
  CHECK(c->command({"EXEC"}) ==
        array({reply::ok(),
               reply::error("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a "
                            "memory value"),
               reply::ok(), bulk("v")}));
  CHECK(c->command({"CLIENT", "GETNAME"}) == bulk("me"));
  CHECK(c->command({"MULTI"}) == reply::ok());
  CHECK(c->command({"SAVE"}) == reply::error("ERR Command not allowed inside a transaction"));
  CHECK(c->command({"EXEC"})->text.starts_with("EXECABORT"));
  CHECK(c->command({"CONFIG", "GET", "list-compress-depth"}) == array({bulk("list-compress-depth"), bulk("0")}));
  CHECK(c->command({"CONFIG", "SET", "save", ""}) == reply::ok());  // no snapshots: as it is
  CHECK(c->command({"CONFIG", "SET", "save", "60 1"})->is_error());
  CHECK(c->command({"CONFIG", "SET", "port", "1"}) == reply::error("ERR Unknown option or number of arguments for CONFIG SET - 'port'"));
  CHECK(c->command({"CONFIG", "SET", "list-compress-depth"}) == reply::wrong_arity("config|set"));
  CHECK(c->command({"FUNCTION", "FLUSH"}) == reply::ok());
  CHECK(c->command({"FUNCTION", "LIST"}) == array({}));
  CHECK(c->command({"FUNCTION", "LOAD", "x"})->is_error());
  auto info = c->command({"INFO", "memory"});
  REQUIRE(info);
  CHECK(info->text.find("mem_allocator:libc") != std::string::npos);
  server->stop();
}

TEST_CASE("an embedded server refuses a port in use with an error naming it", "[server]") {
  auto store = redis::DataStore<MemoryBackend>::open(MemoryBackend{}).value();
  redis::Standalone node;
  redis::ServerOptions options;
  options.port = 0;
  auto first = redis::Server<decltype(store)>::open(store, node, options);
  REQUIRE(first);
  options.port = first.value()->port();
  auto second = redis::Server<decltype(store)>::open(store, node, options);
  REQUIRE(!second);
  CHECK(second.error().code() == errc::io_error);
  CHECK_THAT(second.error().message(), Catch::Contains(std::to_string(options.port)));
}

TEST_CASE("kvstack-server's command line: every flag, --help, and what is wrong named", "[server]") {
  auto o = parse({"--port", "7001", "--backend", "lmdb", "--path", "/tmp/x", "--node-id", "1", "--raft-bind",
                  "127.0.0.1:7101", "--raft-peers", "1=127.0.0.1:7101,2=127.0.0.1:7102", "--raft-clients",
                  "1=127.0.0.1:7001,2=127.0.0.1:7002", "--threads", "3", "--raft-tick-ms", "5"});
  REQUIRE(o);
  CHECK(o.value().port == 7001);
  CHECK(o.value().threads == 3);
  CHECK(o.value().cluster.node_id == 1);
  CHECK(o.value().cluster.raft_bind == redis::HostPort{"127.0.0.1", 7101});
  CHECK(o.value().cluster.raft_peers.at(2) == redis::HostPort{"127.0.0.1", 7102});
  CHECK(o.value().cluster.raft_clients.at(2) == redis::HostPort{"127.0.0.1", 7002});
  CHECK(o.value().cluster.tick == std::chrono::milliseconds(5));
  CHECK(!o.value().cluster.join);
  CHECK(o.value().fsync_every == std::chrono::milliseconds(1000));
  CHECK(parse({"--fsync-every-ms", "0"}).value().fsync_every == std::chrono::milliseconds(0));
  CHECK(parse({"--help"}).value().help);
  CHECK(parse({"--port", "1", "--help"}).value().help);

  auto fails = [](std::vector<std::string> args, std::string_view names) {
    auto r = parse(std::move(args));
    REQUIRE(!r);
    CHECK(r.error().code() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Catch::Contains(std::string(names)));
  };
  fails({"--port", "65536"}, "--port");
  fails({"--port", "12x"}, "--port");
  fails({"--port"}, "--port needs a value");
  fails({"--fsync-every-ms", "-1"}, "--fsync-every-ms");
  fails({"--nosuch", "1"}, "unknown option --nosuch");
  fails({"--raft-peers", "1=127.0.0.1"}, "--raft-peers");
  fails({"--raft-peers", "0=127.0.0.1:1"}, "--raft-peers");
  fails({"--raft-peers", "1=127.0.0.1:1,1=127.0.0.1:2"}, "given twice");
  fails({"--raft-bind", "nowhere"}, "--raft-bind");
  const std::vector<std::string> cluster{"--path", "/tmp/x", "--raft-bind", "127.0.0.1:7101", "--raft-peers",
                                         "1=127.0.0.1:7101", "--raft-clients", "1=127.0.0.1:7001"};
  auto with = [&](std::vector<std::string> more) {
    auto all = cluster;
    all.insert(all.end(), more.begin(), more.end());
    return all;
  };
  fails(cluster, "--node-id is missing");
  fails(with({"--node-id", "2"}), "does not list this node");
  fails(with({"--node-id", "1", "--backend", "memory"}), "on disk");
  fails({"--node-id", "1", "--path", "/tmp/x", "--raft-bind", "127.0.0.1:7101", "--raft-peers", "1=127.0.0.1:7101"},
        "--raft-clients does not list member 1");
  CHECK(parse(with({"--node-id", "1"})));
}

namespace {
/// The server's blocked_clients, from INFO.
std::int64_t blocked_clients(test::RespClient& c) {
  auto info = c.command({"INFO", "clients"});
  if (!info) return -1;
  auto at = info->text.find("blocked_clients:");
  return at == std::string::npos ? -1 : std::stoll(info->text.substr(at + 16));
}
/// An embedded server over a memory store, on a free port and two threads, until destroyed.
struct MemoryServer {
  redis::DataStore<MemoryBackend> store = redis::DataStore<MemoryBackend>::open(MemoryBackend{}).value();
  redis::Standalone node;
  std::unique_ptr<redis::Server<redis::DataStore<MemoryBackend>>> server;
  explicit MemoryServer(unsigned threads = 2) {
    redis::ServerOptions options;
    options.port = 0;
    options.threads = threads;
    server = redis::Server<redis::DataStore<MemoryBackend>>::open(store, node, options).value();
    server->start();
  }
  test::RespClient connect() { return test::RespClient::connect("127.0.0.1", server->port()).value(); }
};

/// Waits (up to 10 s) until `n` clients are blocked.
bool await_blocked(test::RespClient& c, std::int64_t n) {
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < deadline; std::this_thread::yield())
    if (blocked_clients(c) == n) return true;
  return false;
}
}  // namespace

TEST_CASE("an embedded server holds blocking pops until a push serves them, first blocked first served", "[server]") {
  MemoryServer server;
  auto connect = [&] { return server.connect(); };
  using reply::array, reply::bulk;
  auto main = connect(), a = connect(), b = connect();

  REQUIRE(a.send({"BLPOP", "q", "other", "0"}));
  REQUIRE(await_blocked(main, 1));
  REQUIRE(b.send({"BRPOPLPUSH", "q", "dst", "0"}));
  REQUIRE(await_blocked(main, 2));
  {  // a client that goes away while blocked takes nothing with it
    auto gone = connect();
    REQUIRE(gone.send({"BLPOP", "q", "0"}));
    REQUIRE(await_blocked(main, 3));
  }
  REQUIRE(await_blocked(main, 2));
  CHECK(main.command({"RPUSH", "q", "x", "y", "z"}) == reply::integer(3));
  CHECK(a.read() == array({bulk("q"), bulk("x")}));
  CHECK(b.read() == bulk("z"));  // BRPOPLPUSH pops from the right
  CHECK(main.command({"LRANGE", "q", "0", "-1"}) == array({bulk("y")}));
  CHECK(main.command({"LRANGE", "dst", "0", "-1"}) == array({bulk("z")}));
  CHECK(blocked_clients(main) == 0);

  // What a blocked client sent after its blocking command waits, then runs in order.
  REQUIRE(a.send({"BLPOP", "dst2", "0"}));
  REQUIRE(a.send({"LLEN", "dst2"}));
  REQUIRE(b.send({"BLMOVE", "dst", "dst2", "LEFT", "RIGHT", "0"}));  // z is there: no wait
  CHECK(b.read() == bulk("z"));
  CHECK(a.read() == array({bulk("dst2"), bulk("z")}));  // served by b's move
  CHECK(a.read() == reply::integer(0));

  // A write that leaves the key empty, or of another type, does not serve it.
  REQUIRE(a.send({"BZPOPMIN", "z", "0"}));
  REQUIRE(await_blocked(main, 1));
  CHECK(main.command({"MULTI"}) == reply::ok());
  main.command({"ZADD", "z", "1", "m"});
  main.command({"DEL", "z"});
  main.command({"SET", "z", "string"});
  CHECK(main.command({"EXEC"}) == array({reply::integer(1), reply::integer(1), reply::ok()}));
  CHECK(main.command({"DEL", "z"}) == reply::integer(1));
  CHECK(blocked_clients(main) == 1);
  CHECK(main.command({"ZADD", "z", "2.5", "m"}) == reply::integer(1));
  CHECK(a.read() == array({bulk("z"), bulk("m"), bulk("2.5")}));

  // Timeouts, CLIENT UNBLOCK, and MULTI (where nothing blocks).
  CHECK(a.command({"BLPOP", "none", "0.05"}) == reply::null_array());
  CHECK(a.command({"BLPOP", "none", "-1"}) == reply::error("ERR timeout is negative"));
  CHECK(a.command({"BLPOP", "none", "x"}) == reply::error("ERR timeout is not a float or out of range"));
  auto id = a.command({"CLIENT", "ID"}).value().integer;
  REQUIRE(a.send({"BLMPOP", "0", "1", "none", "LEFT"}));
  REQUIRE(await_blocked(main, 1));
  CHECK(main.command({"CLIENT", "UNBLOCK", std::to_string(id), "ERROR"}) == reply::integer(1));
  CHECK(a.read() == reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  CHECK(main.command({"CLIENT", "UNBLOCK", std::to_string(id)}) == reply::integer(0));
  CHECK(a.command({"MULTI"}) == reply::ok());
  a.command({"BLPOP", "none", "0"});
  a.command({"BLMOVE", "none", "x", "LEFT", "LEFT", "0"});
  CHECK(a.command({"EXEC"}) == array({reply::null_array(), reply::null()}));
}

TEST_CASE("an embedded server carries Pub/Sub messages to subscribers, by channel and by pattern", "[server]") {
  MemoryServer server;
  auto connect = [&] { return server.connect(); };
  using reply::array, reply::bulk, reply::integer;
  auto a = connect(), b = connect();
  CHECK(a.command({"SUBSCRIBE", "news", "sport"}) == array({bulk("subscribe"), bulk("news"), integer(1)}));
  CHECK(a.read() == array({bulk("subscribe"), bulk("sport"), integer(2)}));
  CHECK(a.command({"PSUBSCRIBE", "n*"}) == array({bulk("psubscribe"), bulk("n*"), integer(3)}));
  // While subscribed (RESP2), the connection takes Pub/Sub commands and PING only.
  CHECK(a.command({"GET", "k"}) ==
        reply::error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                     "allowed in this context"));
  CHECK(a.command({"PING"}) == array({bulk("pong"), bulk("")}));
  // Messages reach a subscriber that waits for nothing but them.
  CHECK(b.command({"PUBLISH", "news", "hi"}) == integer(2));
  CHECK(a.read() == array({bulk("message"), bulk("news"), bulk("hi")}));
  CHECK(a.read() == array({bulk("pmessage"), bulk("n*"), bulk("news"), bulk("hi")}));
  CHECK(b.command({"PUBLISH", "weather", "rain"}) == integer(0));
  CHECK(b.command({"PUBSUB", "CHANNELS"}) == array({bulk("news"), bulk("sport")}));
  CHECK(b.command({"PUBSUB", "NUMSUB", "sport", "none"}) == array({bulk("sport"), integer(1), bulk("none"), integer(0)}));
  CHECK(b.command({"PUBSUB", "NUMPAT"}) == integer(1));
  // PUBLISH inside MULTI runs at EXEC; SUBSCRIBE there is refused.
  CHECK(b.command({"MULTI"}) == reply::ok());
  CHECK(b.command({"PUBLISH", "sport", "goal"}) == reply::simple("QUEUED"));
  CHECK(b.command({"EXEC"}) == array({integer(1)}));
  CHECK(a.read() == array({bulk("message"), bulk("sport"), bulk("goal")}));
  CHECK(b.command({"MULTI"}) == reply::ok());
  CHECK(b.command({"SUBSCRIBE", "x"}) == reply::error("ERR Command not allowed inside a transaction"));
  CHECK(b.command({"EXEC"})->text.starts_with("EXECABORT"));
  CHECK(a.command({"UNSUBSCRIBE"}) == array({bulk("unsubscribe"), bulk("news"), integer(2)}));
  CHECK(a.read() == array({bulk("unsubscribe"), bulk("sport"), integer(1)}));
  CHECK(a.command({"PUNSUBSCRIBE"}) == array({bulk("punsubscribe"), bulk("n*"), integer(0)}));
  CHECK(a.command({"GET", "k"}) == reply::null());  // no longer subscribed
  {  // a subscriber that goes away is forgotten
    auto gone = connect();
    CHECK(gone.command({"SUBSCRIBE", "news"}) == array({bulk("subscribe"), bulk("news"), integer(1)}));
  }
  bool forgotten = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !forgotten && std::chrono::steady_clock::now() < deadline; std::this_thread::yield())
    forgotten = b.command({"PUBLISH", "news", "anyone?"}) == integer(0);
  CHECK(forgotten);
}

TEST_CASE("an embedded server wakes a subscriber for every message, between its own requests too", "[server]") {
  // Each round cancels the subscriber's wait for messages (its PING comes first) and then
  // publishes while its connection is on another thread: the ring must not be lost then.
  MemoryServer server;
  using reply::array, reply::bulk, reply::integer;
  auto a = server.connect(), b = server.connect();
  CHECK(a.command({"SUBSCRIBE", "news"}) == array({bulk("subscribe"), bulk("news"), integer(1)}));
  CHECK(a.command({"PSUBSCRIBE", "n*"}) == array({bulk("psubscribe"), bulk("n*"), integer(2)}));
  for (int i = 0; i < 2000; ++i) {
    REQUIRE(a.command({"PING"}) == array({bulk("pong"), bulk("")}));
    REQUIRE(b.command({"PUBLISH", "news", std::to_string(i)}) == integer(2));
    REQUIRE(a.read() == array({bulk("message"), bulk("news"), bulk(std::to_string(i))}));
    REQUIRE(a.read() == array({bulk("pmessage"), bulk("n*"), bulk("news"), bulk(std::to_string(i))}));
  }
}

TEST_CASE("an embedded server lists its clients and kills them on CLIENT KILL", "[server]") {
  MemoryServer server;
  auto connect = [&] { return server.connect(); };
  auto a = connect(), b = connect();
  CHECK(b.command({"CLIENT", "SETNAME", "bee"}) == reply::ok());
  CHECK(b.command({"SELECT", "3"}) == reply::ok());
  const auto b_id = std::to_string(b.command({"CLIENT", "ID"}).value().integer);
  auto list = a.command({"CLIENT", "LIST"}).value().text;
  CHECK(list.find("id=" + b_id + " addr=127.0.0.1:") != std::string::npos);
  CHECK(list.find("name=bee age=") != std::string::npos);
  CHECK(list.find(" db=3 ") != std::string::npos);
  CHECK(list.find("cmd=client|list") != std::string::npos);  // its own line, as it is now
  auto info = a.command({"CLIENT", "INFO"}).value().text;
  CHECK(info.find("cmd=client|info") != std::string::npos);
  CHECK(info.find("name=bee") == std::string::npos);  // only itself
  CHECK(a.command({"CLIENT", "LIST", "ID", b_id}).value().text.find("name=bee") != std::string::npos);
  CHECK(a.command({"CLIENT", "KILL", "ADDR", "1.2.3.4:5"}) == reply::integer(0));
  CHECK(a.command({"CLIENT", "KILL", "1.2.3.4:5"}) == reply::error("ERR No such client"));
  CHECK(a.command({"CLIENT", "KILL", "ID", "x"}) == reply::error("ERR client-id should be greater than 0"));
  CHECK(a.command({"CLIENT", "KILL", "ID", b_id}) == reply::integer(1));
  CHECK(!b.command({"PING"}));  // b's connection is closed
  CHECK(a.command({"CLIENT", "KILL", "ID", std::to_string(a.command({"CLIENT", "ID"}).value().integer), "SKIPME", "no"}) ==
        reply::integer(1));
  CHECK(!a.read());  // and then its own
}

TEST_CASE("an embedded server counts and times commands: INFO commandstats, SLOWLOG", "[server]") {
  MemoryServer server;
  auto c = server.connect();
  CHECK(c.command({"SET", "k", "v"}) == reply::ok());
  CHECK(c.command({"GET", "k"}) == reply::bulk("v"));
  CHECK(c.command({"GET", "k"}) == reply::bulk("v"));
  CHECK(c.command({"LPUSH", "k", "x"})->is_error());
  auto stats = c.command({"INFO", "commandstats"}).value().text;
  CHECK(stats.find("cmdstat_get:calls=2,") != std::string::npos);
  CHECK(stats.find("cmdstat_set:calls=1,") != std::string::npos);
  CHECK(stats.find("cmdstat_lpush:calls=1,") != std::string::npos);
  CHECK(stats.find("failed_calls=1\r\n") != std::string::npos);  // LPUSH on a string
  CHECK(stats.find("cmdstat_del:") == std::string::npos);          // never run
  CHECK(c.command({"INFO", "persistence"}).value().text.find("loading:0") != std::string::npos);

  // Nothing is slow at the default 10 ms; at 0 everything is, newest first, up to slowlog-max-len.
  CHECK(c.command({"SLOWLOG", "LEN"}) == reply::integer(0));
  CHECK(c.command({"CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "2"}) == reply::ok());
  CHECK(c.command({"CONFIG", "GET", "slowlog-max-len"}) ==
        reply::array({reply::bulk("slowlog-max-len"), reply::bulk("2")}));
  CHECK(c.command({"INCR", "n"}) == reply::integer(1));
  CHECK(c.command({"SET", "big", std::string(200, 'x')}) == reply::ok());
  CHECK(c.command({"INCR", "n"}) == reply::integer(2));
  CHECK(c.command({"SLOWLOG", "LEN"}) == reply::integer(2));
  auto slow = c.command({"SLOWLOG", "GET", "-1"}).value();
  REQUIRE(slow.elements.size() == 2);
  CHECK(slow.elements[0].elements[3] == reply::array({reply::bulk("INCR"), reply::bulk("n")}));
  CHECK(slow.elements[1].elements[3].elements[2] == reply::bulk(std::string(128, 'x') + "... (72 more bytes)"));
  CHECK(slow.elements[0].elements[0].integer > slow.elements[1].elements[0].integer);  // ids: newest first
  CHECK(c.command({"SLOWLOG", "GET", "1"}).value().elements.size() == 1);
  CHECK(c.command({"SLOWLOG", "RESET"}) == reply::ok());
  CHECK(c.command({"SLOWLOG", "LEN"}) == reply::integer(0));
  CHECK(c.command({"CONFIG", "SET", "slowlog-max-len", "-1"})->is_error());
  CHECK(c.command({"CONFIG", "RESETSTAT"}) == reply::ok());
  CHECK(c.command({"INFO", "commandstats"}).value().text.find("cmdstat_get:") == std::string::npos);
}

#if KVSTACK_WITH_LUA
TEST_CASE("an embedded server runs scripts for every connection, and takes SCRIPT KILL while one runs", "[server][lua]") {
  const unsigned threads = GENERATE(1u, 2u);  // one: another thread takes requests once the script runs long
  MemoryServer server(threads);
  auto a = server.connect(), b = server.connect();
  // The script cache is the server's: loaded by one connection, called by another.
  auto sha = a.command({"SCRIPT", "LOAD", "return redis.call('INCRBY', KEYS[1], ARGV[1])"});
  REQUIRE(sha);
  CHECK(b.command({"EVALSHA", sha->text, "1", "n", "5"}) == reply::integer(5));
  CHECK(a.command({"GET", "n"}) == reply::bulk("5"));
  // A script that loops: another connection kills it, while the store is busy with it.
  REQUIRE(a.send({"EVAL", "while true do end", "0"}));
  auto killed = b.command({"SCRIPT", "KILL"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (killed && killed->text.starts_with("NOTBUSY") && std::chrono::steady_clock::now() < deadline)
    killed = b.command({"SCRIPT", "KILL"});
  CHECK(killed == reply::ok());
  auto answer = a.read();
  REQUIRE(answer);
  CHECK(answer->text.starts_with("ERR Script killed by user with SCRIPT KILL..."));
  CHECK(a.command({"PING"}) == reply::simple("PONG"));
  // Past lua-time-limit, the others are answered BUSY; MULTI goes on, and its EXEC is aborted.
  CHECK(b.command({"CONFIG", "SET", "lua-time-limit", "1"}) == reply::ok());
  REQUIRE(a.send({"EVAL", "while true do end", "0"}));
  auto busy = b.command({"GET", "k"});
  while (busy && !busy->is_error() && std::chrono::steady_clock::now() < deadline) busy = b.command({"GET", "k"});
  REQUIRE(busy);
  CHECK(redis::to_text(*busy) == "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
  CHECK(b.command({"MULTI"}) == reply::ok());
  CHECK(b.command({"INCR", "n"})->text.starts_with("BUSY"));
  CHECK(b.command({"SCRIPT", "KILL"}) == reply::ok());
  CHECK(a.read()->text.starts_with("ERR Script killed by user"));
  CHECK(b.command({"EXEC"}) == reply::error("EXECABORT Transaction discarded because of previous errors."));
  CHECK(b.command({"GET", "n"}) == reply::bulk("5"));
}
#endif

namespace {
/// MemoryBackend counting the syncs asked of it.
struct SyncCountingBackend : MemoryBackend {
  std::shared_ptr<std::atomic<int>> syncs = std::make_shared<std::atomic<int>>(0);
  Result<void> sync() const {
    ++*syncs;
    return success();
  }
};
}  // namespace

TEST_CASE("an embedded server syncs its engine every fsync_every, and not when it is 0", "[server]") {
  for (auto every : {std::chrono::milliseconds(5), std::chrono::milliseconds(0)}) {
    SyncCountingBackend backend;
    auto syncs = backend.syncs;
    auto store = redis::DataStore<SyncCountingBackend>::open(std::move(backend)).value();
    redis::Standalone node;
    redis::ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.fsync_every = every;
    auto server = redis::Server<decltype(store)>::open(store, node, options).value();
    server->start();
    auto c = test::RespClient::connect("127.0.0.1", server->port()).value();
    CHECK(c.command({"SET", "k", "v"}) == reply::ok());
    if (every.count()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (syncs->load() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      CHECK(syncs->load() >= 3);
    }
    server->stop();
    server->join();  // the syncing thread ends with the others
    if (!every.count()) CHECK(syncs->load() == 0);
  }
}
