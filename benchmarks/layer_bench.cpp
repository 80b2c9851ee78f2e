// The cost of the layers, side by side in one run:
// - get through Ttl<LmdbBackend> vs plain LmdbBackend (100,000 keys; Ttl with keys without and
//   with an expiry, the latter reading the clock on every get);
// - purge_expired of 1,000 expired keys among 100,000 live ones, on each engine (seed 002's
//   target: < 5 ms), next to the engine deleting as many keys in one batch (the floor), and a
//   TTL refresh, expire(key, ttl) (seed 002's target: < 2 ms);
// - Metered<B> per operation: get and put on MemoryBackend, plain vs metered (counts only, the
//   default) vs metered with latency (every operation timed) vs latency with sample_every = 16.
// Engines run without fsync (sync = false), so the code is measured, not the disk.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target layer_bench
//   build/bench/benchmarks/layer_bench --benchmark_repetitions=9
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/backend/rocksdb.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::uint32_t live_keys = 100'000;

std::string key_of(std::uint32_t i) { return "key/" + std::to_string(1'000'000 + i); }
const std::string& value() {
  static const std::string v(100, 'v');
  return v;
}
std::uint32_t next_index(std::uint64_t& x) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>((x >> 33) % live_keys);
}
fs::path fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kvstack-layer-bench-" + std::to_string(::getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}
kv::LmdbBackend open_lmdb(const std::string& name) { return kv::LmdbBackend::open(fresh_dir(name), {.sync = false}).value(); }
kv::RocksDbBackend open_rocks(const std::string& name) {
  return kv::RocksDbBackend::open(fresh_dir(name), {.sync = false}).value();
}

template <class Store, class Put>
Store filled(Store s, Put put) {
  for (std::uint32_t i = 0; i < live_keys; ++i) put(s, key_of(i));
  return s;
}

// ---- get: plain LMDB vs Ttl<LMDB> ----

kv::LmdbBackend& plain_lmdb() {
  static auto s = filled(open_lmdb("plain"), [](auto& db, const std::string& k) { db.put(k, value()).value(); });
  return s;
}
kv::Ttl<kv::LmdbBackend>& ttl_lmdb() {
  static auto s = filled(kv::Ttl<kv::LmdbBackend>(open_lmdb("ttl")),
                         [](auto& db, const std::string& k) { db.put(k, value()).value(); });
  return s;
}
kv::Ttl<kv::LmdbBackend>& ttl_lmdb_expiring() {
  static auto s = filled(kv::Ttl<kv::LmdbBackend>(open_lmdb("ttl-expiring")),
                         [](auto& db, const std::string& k) { db.put(k, value(), 24h).value(); });
  return s;
}

template <class Store>
void get_loop(benchmark::State& state, Store& db) {
  std::uint64_t x = 7;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string k = key_of(next_index(x));
    bool found = db.get(k, [&](std::string_view v) { bytes += v.size(); }).value();
    if (!found) std::abort();
  }
  benchmark::DoNotOptimize(bytes);
}
void BM_Get_Lmdb(benchmark::State& state) { get_loop(state, plain_lmdb()); }
void BM_Get_TtlLmdb(benchmark::State& state) { get_loop(state, ttl_lmdb()); }
void BM_Get_TtlLmdb_Expiring(benchmark::State& state) { get_loop(state, ttl_lmdb_expiring()); }
BENCHMARK(BM_Get_Lmdb);
BENCHMARK(BM_Get_TtlLmdb);
BENCHMARK(BM_Get_TtlLmdb_Expiring);

// ---- purge 1,000 expired among 100,000 live; refresh ----

template <class B>
struct TtlStore {
  kv::ManualClock clock;
  kv::Ttl<B, kv::ManualClock> db;
  explicit TtlStore(B below) : db(std::move(below), clock) {
    for (std::uint32_t i = 0; i < live_keys; ++i) db.put(key_of(i), value(), 24h).value();
  }
};
template <class B>
TtlStore<B>& ttl_store(B (*open)(const std::string&), const char* name) {
  static TtlStore<B> s(open(name));
  return s;
}
kv::MemoryBackend open_memory(const std::string&) { return {}; }

template <class B>
void purge_loop(benchmark::State& state, TtlStore<B>& s) {
  for (auto _ : state) {
    state.PauseTiming();
    s.db.transact([&](auto& tx) -> kv::Result<void> {
          for (int i = 0; i < 1000; ++i)
            if (auto put = tx.put("session/" + std::to_string(i), value(), 1s); !put) return put;
          return kv::success();
        })
        .value();
    s.clock.advance(1s);
    state.ResumeTiming();
    if (s.db.purge_expired().value() != 1000) std::abort();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
void BM_Purge1000_Memory(benchmark::State& state) { purge_loop(state, ttl_store(open_memory, "m")); }
void BM_Purge1000_Lmdb(benchmark::State& state) { purge_loop(state, ttl_store(open_lmdb, "purge-lmdb")); }
void BM_Purge1000_RocksDb(benchmark::State& state) { purge_loop(state, ttl_store(open_rocks, "purge-rocks")); }
BENCHMARK(BM_Purge1000_Memory)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Purge1000_Lmdb)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Purge1000_RocksDb)->Unit(benchmark::kMicrosecond);

// The floor under a purge: the engine deleting the same number of keys (1,000 values and 1,000
// index entries) in one batch from the same store, with nothing read first.
template <class B>
void delete_floor_loop(benchmark::State& state, TtlStore<B>& s) {
  for (auto _ : state) {
    state.PauseTiming();
    kv::WriteBatch puts, erases;
    for (int i = 0; i < 1000; ++i) {
      const std::string data = "\1floor/" + std::to_string(i), index = std::string(1, '\0') + "floor/" + std::to_string(i);
      puts.put(data, value()).put(index, {});
      erases.erase(data).erase(index);
    }
    s.db.inner().write(puts).value();
    state.ResumeTiming();
    s.db.inner().write(erases).value();
  }
}
void BM_DeleteFloor2000_Memory(benchmark::State& state) { delete_floor_loop(state, ttl_store(open_memory, "m")); }
void BM_DeleteFloor2000_Lmdb(benchmark::State& state) { delete_floor_loop(state, ttl_store(open_lmdb, "purge-lmdb")); }
void BM_DeleteFloor2000_RocksDb(benchmark::State& state) { delete_floor_loop(state, ttl_store(open_rocks, "purge-rocks")); }
BENCHMARK(BM_DeleteFloor2000_Memory)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DeleteFloor2000_Lmdb)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DeleteFloor2000_RocksDb)->Unit(benchmark::kMicrosecond);

template <class B>
void refresh_loop(benchmark::State& state, TtlStore<B>& s) {
  std::uint64_t x = 11;
  for (auto _ : state)
    if (!s.db.expire(key_of(next_index(x)), 24h).value()) std::abort();
}
void BM_Refresh_Memory(benchmark::State& state) { refresh_loop(state, ttl_store(open_memory, "m")); }
void BM_Refresh_Lmdb(benchmark::State& state) { refresh_loop(state, ttl_store(open_lmdb, "purge-lmdb")); }
void BM_Refresh_RocksDb(benchmark::State& state) { refresh_loop(state, ttl_store(open_rocks, "purge-rocks")); }
BENCHMARK(BM_Refresh_Memory);
BENCHMARK(BM_Refresh_Lmdb);
BENCHMARK(BM_Refresh_RocksDb);

// ---- Metered overhead ----

template <class Store>
Store& memory_store() {
  static auto s = filled(Store(kv::MemoryBackend{}), [](auto& db, const std::string& k) { db.put(k, value()).value(); });
  return s;
}
using Counted = kv::Metered<kv::MemoryBackend>;
struct Timed : kv::Metered<kv::MemoryBackend> {
  explicit Timed(kv::MemoryBackend b) : Metered(std::move(b), {.latency = true}) {}
};
struct Sampled : kv::Metered<kv::MemoryBackend> {
  explicit Sampled(kv::MemoryBackend b) : Metered(std::move(b), {.latency = true, .sample_every = 16}) {}
};

template <class Store>
void BM_MeteredGet(benchmark::State& state) {
  get_loop(state, memory_store<Store>());
}
template <class Store>
void BM_MeteredPut(benchmark::State& state) {
  auto& db = memory_store<Store>();
  std::uint64_t x = 5;
  for (auto _ : state) db.put(key_of(next_index(x)), value()).value();
}
// The same on one key, hot in cache, so that the layer's own cost is not lost in cache misses.
template <class Store>
void BM_MeteredGetHot(benchmark::State& state) {
  static Store db(kv::MemoryBackend{});
  db.put("hot", value()).value();
  std::size_t bytes = 0;
  for (auto _ : state) db.get("hot", [&](std::string_view v) { bytes += v.size(); }).value();
  benchmark::DoNotOptimize(bytes);
}
BENCHMARK(BM_MeteredGetHot<kv::MemoryBackend>)->Name("BM_GetHot_Memory");
BENCHMARK(BM_MeteredGetHot<Counted>)->Name("BM_GetHot_MeteredMemory");
BENCHMARK(BM_MeteredGetHot<Timed>)->Name("BM_GetHot_MeteredMemory_Timed");
BENCHMARK(BM_MeteredGetHot<Sampled>)->Name("BM_GetHot_MeteredMemory_Sampled16");
BENCHMARK(BM_MeteredGet<kv::MemoryBackend>)->Name("BM_Get_Memory");
BENCHMARK(BM_MeteredGet<Counted>)->Name("BM_Get_MeteredMemory");
BENCHMARK(BM_MeteredGet<Timed>)->Name("BM_Get_MeteredMemory_Timed");
BENCHMARK(BM_MeteredGet<Sampled>)->Name("BM_Get_MeteredMemory_Sampled16");
BENCHMARK(BM_MeteredPut<kv::MemoryBackend>)->Name("BM_Put_Memory");
BENCHMARK(BM_MeteredPut<Counted>)->Name("BM_Put_MeteredMemory");
BENCHMARK(BM_MeteredPut<Timed>)->Name("BM_Put_MeteredMemory_Timed");
BENCHMARK(BM_MeteredPut<Sampled>)->Name("BM_Put_MeteredMemory_Sampled16");

}  // namespace

BENCHMARK_MAIN();
