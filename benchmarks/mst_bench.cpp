// Claims of Mst replication:
// 1. Keeping the Merkle Search Tree costs at most half of the engine's put throughput:
//    Put/<engine>/Engine (the engine alone) against Put/<engine>/Mst (Shard<NoLog, engine, Mst<>>,
//    one replica), side by side in one run. Overwrites of a random key among KVSTACK_BENCH_KEYS
//    (100,000 by default), 100-byte values, one thread. Engines: memory, LMDB durable (fsync per
//    commit, as kvstack opens it) and LMDB without fsync (the code measured, not the disk).
// 2. Reconciling d differing keys among n costs bytes O(d log n): Sync/<n>/<d> changes d random
//    keys on one replica, then runs a round between the two (roots, the nodes whose digests
//    differ, the records; both ways). Counters: bytes and messages of the round, round trips,
//    and full_state_bytes (every key and record: what shipping the whole state would send) and
//    full_over_round, their ratio.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target mst_bench
//   build/bench/benchmarks/mst_bench --benchmark_filter=Put --benchmark_repetitions=3
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
//   build/bench/benchmarks/mst_bench --benchmark_filter=Sync      (n = 10^6 takes a minute to build)
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <kvstack/backend/copy.hpp>
#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/shard/mst/mst.hpp>

#include "claims.hpp"
#include "shard/mst_pair.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;
using claims::key_of, claims::value, claims::key_count, claims::kept;

struct LmdbDurable {
  using B = kv::LmdbBackend;
  static B open(const fs::path& dir) { return B::open(dir).value(); }
};
using LmdbNoSync = claims::Lmdb;
using Memory = claims::Memory;

template <class B>
using Replica = kv::Shard<kv::NoLog, B, kv::Mst<>>;

template <class S>
void fill(S& s, std::int64_t n) {
  for (std::int64_t at = 0; at < n;) {
    kv::WriteBatch batch;
    for (int i = 0; i < 1000 && at < n; ++i, ++at) batch.put(key_of(at), value);
    s.write(batch).value();
  }
}

enum class Via { engine, mst };

template <class E, Via via>
void Put(benchmark::State& state) {
  using B = typename E::B;
  auto& store = kept([] {
    const std::string name = via == Via::engine ? "engine" : "mst";
    if constexpr (via == Via::engine) {
      auto b = std::make_unique<B>(claims::open<E>("mst-bench", name));
      fill(*b, key_count());
      return b;
    } else {
      auto r = std::make_unique<Replica<B>>(kv::NoLog{}, claims::open<E>("mst-bench", name), kv::Mst<>({.id = 1, .members = {1}}));
      fill(*r, key_count());
      return r;
    }
  });
  std::uint64_t x = 88172645463325252ull;
  for (auto _ : state) {
    auto r = store.put(key_of(claims::next_index(x, key_count())), value);
    if (!r) state.SkipWithError(r.error().message().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

#define KVSTACK_PUT(E)                                                                          \
  BENCHMARK_TEMPLATE(Put, E, Via::engine)->Name("Put/" #E "/Engine")->UseRealTime();           \
  BENCHMARK_TEMPLATE(Put, E, Via::mst)->Name("Put/" #E "/Mst")->UseRealTime()
KVSTACK_PUT(Memory);
KVSTACK_PUT(LmdbNoSync);
KVSTACK_PUT(LmdbDurable);

/// Two replicas holding the same n keys (the second a copy of the first's App).
struct Pair {
  std::uint64_t now = 1;
  Replica<kv::MemoryBackend> a, b;
  explicit Pair(std::int64_t n)
      : a(kv::NoLog{}, kv::MemoryBackend{}, kv::Mst<>({.id = 1, .members = {1, 2}}), [this] { return now; }),
        b(make_b(a, n, now)) {}
  static Replica<kv::MemoryBackend> make_b(Replica<kv::MemoryBackend>& a, std::int64_t n, std::uint64_t& now) {
    fill(a, n);
    kv::MemoryBackend copy;
    kv::copy_all(a.app(), copy).value();
    return {kv::NoLog{}, std::move(copy), kv::Mst<>({.id = 2, .members = {1, 2}}), [&now] { return now; }};
  }
};

void Sync(benchmark::State& state) {
  const std::int64_t n = state.range(0), d = state.range(1);
  static std::map<std::int64_t, std::unique_ptr<Pair>> pairs;  // one pair per n, kept across d
  auto& pair = pairs[n];
  if (!pair) pair = std::make_unique<Pair>(n);
  std::uint64_t x = 88172645463325252ull + static_cast<std::uint64_t>(d);
  kv::test::RoundCost total;
  for (auto _ : state) {
    state.PauseTiming();
    ++pair->now;
    for (std::int64_t i = 0; i < d; ++i) pair->a.put(key_of(claims::next_index(x, n)), "changed" + std::to_string(pair->now)).value();
    state.ResumeTiming();
    auto cost = kv::test::sync_round(pair->a, pair->b);
    total.bytes += cost.bytes;
    total.messages += cost.messages;
    total.round_trips += cost.round_trips;
  }
  if (pair->a.root().value() != pair->b.root().value()) state.SkipWithError("the replicas differ after the round");
  std::size_t full = 0;
  for (auto&& [k, v] : pair->a.app().scan(kv::KeyRange::prefix("d"))) full += k.size() + v.size();
  const double runs = static_cast<double>(state.iterations());
  state.counters["bytes"] = static_cast<double>(total.bytes) / runs;
  state.counters["messages"] = static_cast<double>(total.messages) / runs;
  state.counters["round_trips"] = static_cast<double>(total.round_trips) / runs;
  state.counters["full_state_bytes"] = static_cast<double>(full);
  state.counters["full_over_round"] = static_cast<double>(full) * runs / static_cast<double>(total.bytes);
}
BENCHMARK(Sync)->ArgsProduct({{100'000, 1'000'000}, {1, 10, 100, 1000}})->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) { return claims::run_main(argc, argv, "mst-bench"); }
