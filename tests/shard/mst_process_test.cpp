// Mst between two processes over TcpTransport on loopback, each replica over LMDB: the child is
// stopped with SIGSTOP (its link goes silent mid-round), both take writes to the same keys, the
// child is let go on with SIGCONT, and both converge to the same root and the last writer's data.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/net/net.hpp>
#include <kvstack/shard/mst/mst.hpp>

#include "child_process.hpp"
#include "laws/backends.hpp"

#if KVSTACK_WITH_LMDB
using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;

namespace {
using Replica = Shard<NoLog, LmdbBackend, Mst<>>;
constexpr int keys = 100;  // each side writes its own keys and these many shared ones

/// One replica and its network: LMDB in `dir`, listening on `port`, its peer at `peer_port`.
struct MstProcess {
  std::optional<Replica> shard;
  std::unique_ptr<TcpTransport> transport;
  std::optional<ReplicaRunner<Replica, TcpTransport>> runner;

  MstProcess(const std::filesystem::path& dir, std::uint64_t id, std::uint16_t port, std::uint16_t peer_port) {
    shard.emplace(Replica::open(NoLog{}, LmdbBackend::open(dir).value(),
                                Mst<>({.id = id, .members = {1, 2}, .sync_ticks = 2, .pull_timeout_ticks = 20}))
                      .value());
    transport = TcpTransport::open({.id = id, .listen_port = port, .peers = {{3 - id, "127.0.0.1", peer_port}},
                                    .min_backoff = 5ms, .max_backoff = 50ms})
                    .value();
    runner.emplace(*shard, *transport, 5ms);
  }
};

std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// The first four bytes of a root digest, as a child reports it.
std::uint32_t prefix_of(const Digest& d) {
  std::uint32_t p = 0;
  std::memcpy(&p, d.bytes.data(), sizeof p);
  return p;
}

/// Writes `who`'s values: its own keys, then the shared ones, each a transaction of its own.
void write_keys(Replica& r, const std::string& who) {
  for (int i = 0; i < keys; ++i) {
    r.put(who + "/" + std::to_string(i), who).value();
    r.put("shared/" + std::to_string(i), who + std::to_string(i)).value();
  }
}

/// The child: replica 2. It writes its keys, reports `keys`, then reports its root's prefix
/// whenever it changes, until killed.
const RegisterChild mst_peer_child("mst-peer", [](int report, const std::vector<std::string>& args) {
  if (args.size() != 3) return 2;
  MstProcess p(args[0], 2, static_cast<std::uint16_t>(std::stoi(args[1])), static_cast<std::uint16_t>(std::stoi(args[2])));
  write_keys(*p.shard, "child");
  std::uint32_t n = keys;
  if (::write(report, &n, sizeof n) != sizeof n) return 3;
  std::optional<std::uint32_t> last;
  for (;;) {  // a sampler for the parent to wait on, not a wait for time to pass
    auto root = p.shard->root();
    if (!root) return 4;
    if (const auto now = prefix_of(root.value()); now != last) {
      last = now;
      if (::write(report, &now, sizeof now) != sizeof now) return 5;
    }
    std::this_thread::sleep_for(2ms);
  }
});

std::map<std::string, std::string> contents(const Replica& r) {
  std::map<std::string, std::string> out;
  for (auto&& [k, v] : r.scan(KeyRange::all())) out.emplace(k, v);
  return out;
}
}  // namespace

TEST_CASE("mst: two processes over TCP take writes while one is stopped, then converge", "[mst][net][kill]") {
  TempDir dir;
  const std::uint16_t parent_port = free_port(), child_port = free_port();
  std::filesystem::create_directories(dir / "1");
  std::filesystem::create_directories(dir / "2");
  MstProcess parent(dir / "1", 1, parent_port, child_port);
  auto child = Child::spawn("mst-peer", {(dir / "2").string(), std::to_string(child_port), std::to_string(parent_port)});
  REQUIRE(child);
  auto wrote = child->next_report(60s);
  REQUIRE(wrote == std::uint32_t{keys});

  // The child stops, perhaps in the middle of a round; the parent goes on taking writes.
  REQUIRE(::kill(child->pid(), SIGSTOP) == 0);
  Replica& p = *parent.shard;
  write_keys(p, "parent");
  std::map<std::string, MstRecord> parent_wrote;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "shared/" + std::to_string(i);
    parent_wrote.emplace(key, p.record(key).value().value());
  }
  for (int i = 0; i < keys; i += 10) REQUIRE(p.erase("parent/" + std::to_string(i)).value());
  REQUIRE(::kill(child->pid(), SIGCONT) == 0);

  // Converged once the child reports the root the parent holds (it reports every change).
  std::optional<std::uint32_t> child_root;
  bool converged = false;
  for (const auto deadline = std::chrono::steady_clock::now() + 60s; !converged && std::chrono::steady_clock::now() < deadline;) {
    if (auto r = child->next_report(50ms)) child_root = r;
    converged = child_root == prefix_of(p.root().value());
  }
  REQUIRE(converged);
  REQUIRE(child->kill());
  CHECK(!parent.runner->last_error());
  const Digest parent_root = p.root().value();
  const auto parent_data = contents(p);
  parent.runner.reset();

  // The child's store, opened here after the SIGKILL: the same root, the same data.
  auto c = Replica::open(NoLog{}, LmdbBackend::open(dir / "2").value(), Mst<>({.id = 2, .members = {1, 2}})).value();
  CHECK(c.root().value() == parent_root);
  CHECK(contents(c) == parent_data);
  CHECK(parent_data.size() == keys + (keys - keys / 10) + keys);
  for (int i = 0; i < keys; ++i) {
    const std::string key = "shared/" + std::to_string(i);
    // The last writer won: the parent's write unless the child's has a later stamp.
    const MstRecord& ours = parent_wrote.at(key);
    const MstRecord held = c.record(key).value().value();
    INFO(key);
    CHECK(held.stamp >= ours.stamp);
    CHECK(held.value == (held.stamp == ours.stamp ? ours.value : std::optional<std::string>("child" + std::to_string(i))));
  }
}
#endif
