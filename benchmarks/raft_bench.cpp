// What Raft costs, in two settings:
//   Core/Proposals      the core and the Shard alone: 3 members in sim::Cluster (one tick per
//                       hop, one thread) over MemoryBackend disks; batches of 100 proposals,
//                       each ticked until applied. Items: proposals applied.
//   Commits/<E>         a 3-member group in this process (RaftGroup: LocalNetwork, a runner
//                       thread per member, 10 ms ticks) over engine E with fsync, as kvstack
//                       opens it; each of 1, 8 or 64 writer threads puts one key at a time at
//                       the leader. Counters: p50_us and p99_us commit latency (the mean over
//                       threads of each thread's percentile).
//   Fsync/<E>           one durable put on E alone, one thread: the engine's fsync-bound
//                       commit latency, against which Commits is judged (W writers can at best
//                       commit W entries per such latency: batch ÷ fsync latency).
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target raft_bench
//   build/bench/benchmarks/raft_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <kvstack/shard/shard.hpp>

#include "claims.hpp"
#include "shard/raft_group.hpp"
#include "shard/raft_sim.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;
using claims::key_of, claims::value, claims::kept;
constexpr const char* program = "raft-bench";

void CoreProposals(benchmark::State& state) {
  kv::test::RaftSim<> sim(1, 3, {1, 2, 3}, {.min_delay = 1, .max_delay = 1});
  auto& c = sim.cluster;
  if (!c.run_until([&] { return sim.leader().has_value(); }, 1000)) return state.SkipWithError("no leader");
  auto& leader = c.shard(*sim.leader());
  std::uint64_t x = 1;
  std::int64_t proposed = 0;
  for (auto _ : state) {
    std::uint64_t last = 0;
    for (int i = 0; i < 100; ++i) last = leader.start_put(key_of(claims::next_index(x, 100'000)), value).value().index;
    c.flush();
    if (!c.run_until([&] { return leader.status().applied >= last; }, 1000)) return state.SkipWithError("stalled");
    proposed += 100;
  }
  state.SetItemsProcessed(proposed);
}
BENCHMARK(CoreProposals)->Name("Core/Proposals")->UseRealTime();

struct Memory {
  using B = kv::MemoryBackend;
  static kv::Result<B> open(const fs::path&) { return B{}; }
};
struct Lmdb {
  using B = kv::LmdbBackend;
  static kv::Result<B> open(const fs::path& dir) { return B::open(dir); }
};
struct RocksDb {
  using B = kv::RocksDbBackend;
  static kv::Result<B> open(const fs::path& dir) { return B::open(dir); }
};

template <class E>
kv::test::RaftGroup<typename E::B>& group() {
  return kept([] {
    return kv::test::RaftGroup<typename E::B>::open(claims::fresh_dir(program, std::string("group-") + typeid(E).name()), 3,
                                                     E::open)
        .value();
  });
}

template <class E>
void Commits(benchmark::State& state) {
  auto& g = group<E>();
  auto* leader = g.leader();
  if (!leader) return state.SkipWithError("no leader");
  std::uint64_t x = 1 + static_cast<std::uint64_t>(state.thread_index()) * 7919;
  std::vector<double> micros;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    if (!leader->put(key_of(claims::next_index(x, 100'000)), value)) {
      leader = g.leader();  // leadership moved: follow it
      if (!leader) return state.SkipWithError("no leader");
      continue;
    }
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(micros.size()));
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1))]; };
  state.counters["p50_us"] = benchmark::Counter(at(0.50), benchmark::Counter::kAvgThreads);
  state.counters["p99_us"] = benchmark::Counter(at(0.99), benchmark::Counter::kAvgThreads);
}

template <class E>
void Fsync(benchmark::State& state) {
  auto& engine = kept([] { return std::make_unique<typename E::B>(E::open(claims::fresh_dir(program, typeid(E).name())).value()); });
  std::uint64_t x = 1;
  for (auto _ : state) engine.put(key_of(claims::next_index(x, 100'000)), value).value();
  state.SetItemsProcessed(state.iterations());
}

#define KVSTACK_RAFT(E)                                                                                          \
  BENCHMARK_TEMPLATE(Commits, E)->Name("Commits/" #E)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()
KVSTACK_RAFT(Memory);
KVSTACK_RAFT(Lmdb);
KVSTACK_RAFT(RocksDb);
BENCHMARK_TEMPLATE(Fsync, Lmdb)->Name("Fsync/Lmdb")->UseRealTime();
BENCHMARK_TEMPLATE(Fsync, RocksDb)->Name("Fsync/RocksDb")->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return claims::run_main(argc, argv, program); }
