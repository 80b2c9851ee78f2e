// Raft durability with real engines: a child process holds a 3-member Raft group (one process,
// three LMDB or RocksDB stores per member, a runner thread each) and writes batches from four
// threads, reporting each acknowledged one; it is killed with SIGKILL at a point that moves
// with the round. Reopened, the group must hold every acknowledged batch on every member, no
// batch in part, nothing applied twice (CountingApp), and all members the same data.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "laws/backends.hpp"
#include "shard/counting_app.hpp"
#include "shard/raft_group.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;

namespace {

template <class B>
using CountedGroup = RaftGroup<B, CountingApp<B>>;

constexpr char parts[] = {'a', 'b', 'c'};  // the keys of one batch
constexpr int writers = 4;

std::string key_of(std::uint32_t n, char part) {
  char key[24];
  std::snprintf(key, sizeof key, "e/%08u/%c", n, part);
  return key;
}
/// 400 bytes that name their key, so a value in the wrong place or cut short shows.
std::string value_of(std::uint32_t n, char part) {
  std::string v = key_of(n, part);
  v.resize(400, '.');
  return v;
}

template <class B>
int write_until_killed(int report, const std::string& dir) {
  auto group = CountedGroup<B>::open(dir, 3, BackendFactory<B>::open_at);
  if (!group) return 3;
  std::atomic<std::uint32_t> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&] {
      for (;;) {
        auto* leader = group.value()->leader();
        if (!leader) ::_exit(4);
        const std::uint32_t n = ++next;  // never retried: a failed batch's outcome is unknown
        WriteBatch batch;
        for (char p : parts) batch.put(key_of(n, p), value_of(n, p));
        if (leader->write(batch) && ::write(report, &n, sizeof n) != sizeof n) ::_exit(5);
      }
    });
  for (auto& t : threads) t.join();
  return 6;
}

const RegisterChild raft_kill_child("raft-kill", [](int report, const std::vector<std::string>& args) {
  if (args.size() != 2) return 2;
#if KVSTACK_WITH_LMDB
  if (args[0] == "lmdb") return write_until_killed<LmdbBackend>(report, args[1]);
#endif
#if KVSTACK_WITH_ROCKSDB
  if (args[0] == "rocksdb") return write_until_killed<RocksDbBackend>(report, args[1]);
#endif
#if KVSTACK_WITH_SQLITE
  if (args[0] == "sqlite") return write_until_killed<SqliteBackend>(report, args[1]);
#endif
  return 2;
});

/// Every entry under "e/" in `app` (a member's App), by batch number and part.
template <class App>
std::map<std::uint32_t, std::map<char, std::string>> batches_in(const App& app) {
  std::map<std::uint32_t, std::map<char, std::string>> out;
  for (auto&& [k, v] : app.scan(KeyRange::prefix("de/")))
    out[static_cast<std::uint32_t>(std::stoul(std::string(k.substr(3, 8))))][k.back()] = std::string(v);
  return out;
}

/// The user data and the apply counts in `app` (not the applied mark, which no-ops move).
template <class App>
std::map<std::string, std::string> contents(const App& app) {
  std::map<std::string, std::string> out;
  for (auto prefix : {"d", "applies/"})
    for (auto&& [k, v] : app.scan(KeyRange::prefix(prefix))) out.emplace(k, v);
  return out;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("raft: acknowledged writes survive SIGKILL of a process holding a 3-member group", "[raft][kill]",
                        DurableTypes) {
  const std::string engine = BackendFactory<TestType>::name;
  constexpr int rounds = 8;
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    TempDir dir;
    std::set<std::uint32_t> acknowledged;
    {
      auto child = Child::spawn("raft-kill", {engine, dir.path().string()});
      REQUIRE(child);
      // Kill after 5, 25, 45, ... acknowledged batches, part of the way into the next gap.
      const std::size_t kill_after = 5 + 20 * static_cast<std::size_t>(round);
      auto last = std::chrono::steady_clock::now(), before = last;
      while (acknowledged.size() < kill_after) {
        auto n = child->next_report(60s);
        REQUIRE(n);  // the child is alive and its writes are acknowledged
        acknowledged.insert(*n);
        before = std::exchange(last, std::chrono::steady_clock::now());
      }
      const auto kill_at = last + (last - before) * round / rounds;
      while (std::chrono::steady_clock::now() < kill_at) {  // spin: the point matters, not the wait
      }
      REQUIRE(child->kill());
      for (auto n : child->remaining_reports()) acknowledged.insert(n);
    }

    auto group = CountedGroup<TestType>::open(dir.path(), 3, BackendFactory<TestType>::open_at);
    REQUIRE(group);
    auto& g = *group.value();
    // A write through the leader after the restart: once every member applied it, every member
    // holds what the group committed before the kill. The runners then stop, so that elections
    // (no-op entries) do not move the members while they are compared.
    auto end = g.put_at_leader("end", "1");
    INFO((end ? "" : end.error().message()));
    REQUIRE(end);
    REQUIRE(g.wait_applied(end.value()));
    const auto errors = g.errors();
    g.stop();
    CHECK(errors.empty());

    const auto reference = contents(g.shard(1).app());
    for (std::uint64_t id = 1; id <= g.size(); ++id) {
      INFO("member " << id);
      const auto& app = g.shard(id).app();
      const auto batches = batches_in(app);
      std::size_t whole = 0, once = 0, keys = 0;
      for (const auto& [n, kept] : batches) {
        whole += kept.size() == std::size(parts);
        for (const auto& [part, value] : kept) {
          CHECK(value == value_of(n, part));
          once += applies_of(app, key_of(n, part)) == 1;
          ++keys;
        }
      }
      CHECK(whole == batches.size());  // no batch applied in part
      CHECK(once == keys);             // none applied twice
      std::size_t missing = 0;
      for (auto n : acknowledged) missing += !batches.contains(n);
      CHECK(missing == 0);  // every acknowledged batch survived
      CHECK(contents(app) == reference);
    }
  }
}
