// TcpTransport on loopback: messages arrive intact, a corrupt frame is refused without harm,
// a peer that appears late is reached through reconnects; and a primary and a backup in two
// processes: the backup is killed, writes go on, it restarts and catches up.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/net/net.hpp>
#include <kvstack/shard/shard.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;

namespace {
/// Receives on `t` until `n` messages came or `deadline` passes.
std::vector<Message> receive_n(TcpTransport& t, std::size_t n, std::chrono::steady_clock::duration deadline = 10s) {
  std::vector<Message> got;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (got.size() < n && std::chrono::steady_clock::now() < until) {
    t.wait(50ms);
    t.receive([&](Message&& m) { got.push_back(std::move(m)); });
  }
  return got;
}

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

Message sample(std::uint64_t to, std::uint64_t i) {
  Message m{.type = MessageType::append, .to = to, .term = 3, .index = i, .log_term = 2, .commit = 9};
  m.entries.push_back({i + 1, 3, std::string(i % 50, '\0') + "cmd"});
  m.data = std::string(i, 'x');
  return m;
}
}  // namespace

TEST_CASE("tcp: messages arrive intact and in order on one connection", "[net]") {
  auto b = TcpTransport::open({.id = 2}).value();
  auto a = TcpTransport::open({.id = 1, .peers = {{2, "127.0.0.1", b->port()}}}).value();
  for (std::uint64_t i = 0; i < 200; ++i) a->send(sample(2, i));
  auto got = receive_n(*b, 200);
  REQUIRE(got.size() == 200);
  for (std::uint64_t i = 0; i < 200; ++i) {
    Message want = sample(2, i);
    want.from = 1;
    CHECK(got[i] == want);
  }
  a->send(sample(7, 0));  // no such peer: dropped, counted
  CHECK(receive_n(*b, 1, 200ms).empty());
  CHECK(a->stats().dropped == 1);
  CHECK(a->stats().sent == 200);
}

TEST_CASE("tcp: a frame with a bad checksum or length is refused and the transport goes on", "[net]") {
  auto b = TcpTransport::open({.id = 2}).value();
  boost::asio::io_context io;
  auto raw_send = [&](std::string frame) {
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), b->port()});
    boost::asio::write(s, boost::asio::buffer(frame));
  };
  std::string payload;
  encode_message(sample(2, 1), payload);
  std::string frame(8, '\0');
  detail::put_u32(static_cast<std::uint32_t>(payload.size()), frame.data());
  detail::put_u32(detail::crc32c(payload) ^ 1, frame.data() + 4);  // one bit off
  raw_send(frame + payload);
  std::string huge(8, '\0');
  detail::put_u32(0xffffffffu, huge.data());
  raw_send(huge);
  std::string garbage = "\x09\x09 not a message";
  std::string frame2(8, '\0');
  detail::put_u32(static_cast<std::uint32_t>(garbage.size()), frame2.data());
  detail::put_u32(detail::crc32c(garbage), frame2.data() + 4);
  raw_send(frame2 + garbage);
  auto a = TcpTransport::open({.id = 1, .peers = {{2, "127.0.0.1", b->port()}}}).value();
  a->send(sample(2, 5));
  auto got = receive_n(*b, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].index == 5);
  CHECK(b->stats().corrupt == 3);
}

TEST_CASE("tcp: a peer that starts late is reached by reconnecting with backoff", "[net]") {
  const std::uint16_t port = free_port();
  auto a = TcpTransport::open({.id = 1, .peers = {{2, "127.0.0.1", port}}, .min_backoff = 5ms, .max_backoff = 40ms}).value();
  for (std::uint64_t i = 0; i < 10; ++i) a->send(sample(2, i));  // queued: nobody listens yet
  CHECK(a->stats().sent == 0);
  auto b = TcpTransport::open({.id = 2, .listen_port = port}).value();
  auto got = receive_n(*b, 10);
  CHECK(got.size() == 10);
  CHECK(a->stats().connects >= 1);
}

TEST_CASE("tcp: an unusable address is an error naming it", "[net]") {
  auto bad = TcpTransport::open({.id = 1, .listen_host = "256.1.1.1"});
  REQUIRE(!bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("256.1.1.1"));
  auto peer = TcpTransport::open({.id = 1, .peers = {{2, "not-an-address", 1}}});
  REQUIRE(!peer);
  CHECK(peer.error().code() == errc::invalid_argument);
}

#if KVSTACK_TEST_FORKS && KVSTACK_WITH_LMDB
namespace {
using Replica = Shard<BackendLog<LmdbBackend>, LmdbBackend, AsyncPrimaryBackup>;

struct ReplicaProcess {
  std::unique_ptr<LmdbBackend> log_store;
  std::optional<Replica> shard;
  std::unique_ptr<TcpTransport> transport;
  std::optional<ReplicaRunner<Replica, TcpTransport>> runner;

  ReplicaProcess(const std::filesystem::path& dir, std::uint64_t id, std::uint16_t port, std::uint64_t peer, std::uint16_t peer_port) {
    log_store = std::make_unique<LmdbBackend>(LmdbBackend::open(dir / "log").value());
    shard.emplace(Replica::open(BackendLog<LmdbBackend>{*log_store, "log"}, LmdbBackend::open(dir / "app").value(),
                                AsyncPrimaryBackup{{.id = id, .members = {1, 2}, .primary = 1}})
                      .value());
    transport = TcpTransport::open({.id = id, .listen_port = port, .peers = {{peer, "127.0.0.1", peer_port}},
                                    .min_backoff = 5ms, .max_backoff = 50ms})
                    .value();
    runner.emplace(*shard, *transport, 5ms);
  }
};

pid_t start_backup(const std::filesystem::path& dir, std::uint16_t port, std::uint16_t primary_port) {
  pid_t child = ::fork();
  if (child == 0) {
    ReplicaProcess backup(dir, 2, port, 1, primary_port);
    for (;;) ::pause();  // until SIGKILL
  }
  return child;
}
void kill_backup(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}
}  // namespace

TEST_CASE("tcp: a killed backup process restarts and catches up with the primary", "[net][kill]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "primary");
  std::filesystem::create_directories(dir / "backup");
  const std::uint16_t primary_port = free_port(), backup_port = free_port();
  pid_t backup = start_backup(dir / "backup", backup_port, primary_port);
  REQUIRE(backup > 0);
  std::map<std::string, std::string> want;
  {
    ReplicaProcess primary(dir / "primary", 1, primary_port, 2, backup_port);
    Replica& p = *primary.shard;
    for (int i = 0; i < 100; ++i) p.put("k" + std::to_string(i), "v" + std::to_string(i)).value();
    CHECK(p.wait_replicated(100, 1, 20s) == 1);
    kill_backup(backup);
    for (int i = 100; i < 200; ++i) p.put("k" + std::to_string(i % 150), "w" + std::to_string(i)).value();
    CHECK(p.status().peers.at(0).lag_entries > 0);
    backup = start_backup(dir / "backup", backup_port, primary_port);
    CHECK(p.wait_replicated(200, 1, 20s) == 1);  // caught up from the primary's log
    kill_backup(backup);
    CHECK(!primary.runner->last_error());
    for (auto&& [k, v] : p.scan(KeyRange::all())) want.emplace(k, v);
  }
  auto log_store = LmdbBackend::open(dir / "backup" / "log").value();
  Replica b = Replica::open(BackendLog<LmdbBackend>{log_store, "log"}, LmdbBackend::open(dir / "backup" / "app").value(),
                            AsyncPrimaryBackup{{.id = 2, .members = {1, 2}, .primary = 1}})
                  .value();
  std::map<std::string, std::string> have;
  for (auto&& [k, v] : b.scan(KeyRange::all())) have.emplace(k, v);
  CHECK(want.size() == 150);
  CHECK(have == want);
  CHECK(b.status().applied == 200);
}
#endif
