// Shard<Log, App, Policy> as a Backend: construction from its parts, the direct path of
// NoReplication, the App layout and exactly-once apply of a replicated shard, and the concepts'
// checks.
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/registry/namespaced_registry.hpp>
#include <kvstack/shard/shard.hpp>
#include <kvstack/sim/disk.hpp>

#include "laws/backends.hpp"

using namespace kvstack;

static_assert(Backend<Shard<NoLog, MemoryBackend, NoReplication>>);
static_assert(Backend<Shard<BackendLog<MemoryBackend>, MemoryBackend, AsyncPrimaryBackup>>);
static_assert(check_replication_policy<NoReplication>());
static_assert(check_replication_policy<AsyncPrimaryBackup, BackendLog<MemoryBackend>>());
static_assert(!ReplicationPolicy<MemoryBackend>);
static_assert(!LogStorage<NoLog>);

namespace {
struct Node {
  std::string name;
  int port = 0;
};

std::vector<std::string> keys_of(const MemoryBackend& b) {
  std::vector<std::string> out;
  for (auto&& [k, v] : b.scan(KeyRange::all())) out.emplace_back(k);
  return out;
}
}  // namespace

TEST_CASE("shard: NoReplication writes App's keys unchanged", "[shard]") {
  Shard<NoLog, MemoryBackend, NoReplication> s{NoLog{}, MemoryBackend{}, NoReplication{}};
  s.put("a", "1").value();
  CHECK(s.app().get("a").value() == "1");
  CHECK(keys_of(s.app()) == std::vector<std::string>{"a"});
  CHECK(s.status().role == Role::standalone);
}

TEST_CASE("shard: a replicated shard keeps user data beside its applied mark", "[shard]") {
  MemoryBackend log_store;
  Shard s{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  s.put("a", "1").value();
  s.write(WriteBatch{}.put("b", "2").erase("a")).value();
  CHECK(s.erase("b").value());
  CHECK(!s.erase("b").value());  // nothing to erase: no entry either
  CHECK(keys_of(s.app()) == std::vector<std::string>{"mapplied"});
  CHECK(s.status().applied == 3);
  CHECK(s.log().last_index().value() == 3);
  s.put("c", "3").value();
  CHECK(keys_of(s.app()) == std::vector<std::string>{"dc", "mapplied"});
  CHECK(s.get("c").value() == "3");
  CHECK(s.get("mapplied").value() == std::nullopt);  // the mark is not user data
}

TEST_CASE("shard: registries run over a replicated shard unchanged", "[shard]") {
  MemoryBackend log_store;
  using S = Shard<BackendLog<MemoryBackend>, MemoryBackend, AsyncPrimaryBackup>;
  S s{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  NamespacedRegistry<S, Node, int> nodes{s, "node"};
  nodes.put(1, {"a", 80}).value();
  nodes.put(2, {"b", 81}).value();
  CHECK(nodes.get(2).value()->name == "b");
  CHECK(nodes.count().value() == 2);
  CHECK(s.status().applied == 2);
}

TEST_CASE("shard: concurrent writers, batched into group commits, each apply once and in some order", "[shard]") {
  MemoryBackend log_store;
  Shard s{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  s.put("n", "0").value();
  constexpr int threads = 4, writes = 200;
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < writes; ++i) {
        s.put("k" + std::to_string(t) + "/" + std::to_string(i), "v").value();
        s.transact([](auto& tx) -> Result<void> {  // read-modify-write: lost updates would show
           auto n = tx.get("n");
           if (!n) return n.error();
           return tx.put("n", std::to_string(std::stoi(n.value().value()) + 1));
         }).value();
      }
    });
  for (auto& w : writers) w.join();
  CHECK(s.get("n").value() == std::to_string(threads * writes));
  const std::uint64_t entries = 1 + 2 * threads * writes;
  CHECK(s.log().last_index().value() == entries);
  CHECK(s.status().applied == entries);
  CHECK(keys_of(s.app()).size() == 2 + threads * writes);  // "dn", the mark and every key
}

TEST_CASE("shard: entries apply exactly once, in order", "[shard]") {
  MemoryBackend app;
  auto cmd = [](std::string key) {
    detail::CommandWriter w;
    w.put(key, "v");
    return std::move(w).take();
  };
  std::vector<LogEntry> es{{1, 1, cmd("a")}, {2, 1, cmd("b")}, {3, 2, cmd("c")}};
  CHECK(detail::apply_entries(app, std::span(es).first(2)).value().index == 2);
  auto again = detail::apply_entries(app, es);  // 1 and 2 again, then 3
  REQUIRE(again);
  CHECK(again.value().index == 3);
  CHECK(again.value().term == 2);
  app.erase("da").value();
  CHECK(detail::apply_entries(app, es).value().index == 3);  // nothing re-applied: "a" stays erased
  CHECK(app.get("da").value() == std::nullopt);
  std::vector<LogEntry> gap{{5, 2, cmd("e")}};
  auto r = detail::apply_entries(app, gap);
  REQUIRE(!r);
  CHECK(r.error().code() == errc::invalid_argument);
  std::vector<LogEntry> bad{{4, 2, "\x01p\x05"}};
  auto c = detail::apply_entries(app, bad);
  REQUIRE(!c);
  CHECK(c.error().code() == errc::corruption);
  CHECK(detail::read_mark(app).value().index == 3);  // a failed apply changes nothing
}

TEST_CASE("shard: a policy's step, tick and ready come back in the same order for the same calls", "[shard]") {
  auto run = [] {
    MemoryBackend log_store;
    AsyncPrimaryBackup p{{.id = 1, .members = {1, 2}, .primary = 1}};
    BackendLog<MemoryBackend> log{log_store, "log"};
    p.start(log, 0, 0).value();
    std::vector<Message> sent;
    for (int i = 0; i < 5; ++i) {
      p.propose(log, {"c" + std::to_string(i)}).value();
      p.tick(log).value();
      Ready ready = p.ready(log).value();
      for (auto& m : ready.messages) sent.push_back(m);
    }
    return sent;
  };
  auto a = run();
  CHECK(!a.empty());
  CHECK(a == run());
}

namespace {
template <class Log, class App>
void snapshot_round_trip(Shard<Log, App, AsyncPrimaryBackup>& s, const std::filesystem::path& dir) {
  for (int i = 0; i < 20; ++i) s.put("k" + std::to_string(i), std::to_string(i)).value();
  auto meta = s.create_snapshot(dir / "snap");
  REQUIRE(meta);
  CHECK(meta.value().index == 20);
  for (int i = 0; i < 20; ++i) s.put("k" + std::to_string(i), "later").value();
  s.put("extra", "x").value();
  CHECK(!s.create_snapshot(dir / "snap"));  // not an empty directory
  auto restored = s.restore_from_snapshot(dir / "snap");
  REQUIRE(restored);
  CHECK(restored.value().index == 20);
  CHECK(s.get("k7").value() == "7");
  CHECK(s.get("extra").value() == std::nullopt);
  CHECK(s.status().applied == 20);
  s.put("after", "restore").value();  // writes go on from the snapshot's index
  CHECK(s.status().applied == 21);
  CHECK(s.log().first_index().value() == 21);
}
}  // namespace

TEST_CASE("shard: create_snapshot and restore_from_snapshot, by checkpoint and by scan", "[shard][snapshot]") {
  kvstack::test::TempDir dir;
  SECTION("MemoryBackend: its checkpoint file") {
    MemoryBackend log_store;
    Shard s{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
    snapshot_round_trip(s, dir.path());
  }
  SECTION("an App that is not Checkpointable: a scan into the snapshot file") {
    using Disk = sim::Disk<MemoryBackend>;
    static_assert(!Checkpointable<Disk>);
    Disk log_store{MemoryBackend{}};
    Shard s{BackendLog<Disk>{log_store, "log"}, Disk{MemoryBackend{}}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
    snapshot_round_trip(s, dir.path());
  }
#if KVSTACK_WITH_ROCKSDB
  SECTION("RocksDB: a checkpoint of hard links, opened to restore") {
    auto log_store = RocksDbBackend::open(dir / "log").value();
    Shard s{BackendLog<RocksDbBackend>{log_store, "log"}, RocksDbBackend::open(dir / "app").value(),
            AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
    snapshot_round_trip(s, dir.path());
  }
#endif
}

TEST_CASE("shard: a damaged snapshot is refused and changes nothing", "[shard][snapshot]") {
  kvstack::test::TempDir dir;
  MemoryBackend log_store;
  Shard s{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  s.put("a", "1").value();
  s.create_snapshot(dir / "snap").value();
  s.put("b", "2").value();
  {
    std::fstream f(dir / "snap" / "memory.snapshot", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  auto r = s.restore_from_snapshot(dir / "snap");
  REQUIRE(!r);
  CHECK(r.error().code() == errc::corruption);
  CHECK(s.get("b").value() == "2");
  CHECK(s.status().applied == 2);
  CHECK(!s.restore_from_snapshot(dir / "missing"));
}
