// Claim: MemoryBackend is close to the standard containers. Point get, put (overwrite), prefix
// scan of 100 keys and a count of every key, at 10^3..10^6 keys (12-byte keys, 100-byte values),
// side by side in one run:
//   Kvstack       kvstack::MemoryBackend (thread-safe: locks, copy-on-write snapshots for scans)
//   StdMap        std::map<std::string, std::string>, no lock
//   AbslBtree     absl::btree_map<std::string, std::string>, no lock
//   FlatMap       boost::unordered_flat_map<std::string, std::string>, no lock: the floor for
//                 point lookups (it cannot scan in order)
// The containers run without any locking: they are floors, not thread-safe stores. Counters:
// `bytes_per_key` is the heap the filled store holds per key (glibc mallinfo2), `raw` the key and
// value bytes per key.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target memory_bench
//   build/bench/benchmarks/memory_bench --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/btree_map.h>
#include <benchmark/benchmark.h>
#include <boost/unordered/unordered_flat_map.hpp>

#include <kvstack/backend/memory.hpp>

#include "claims.hpp"

namespace {
namespace kv = kvstack;

using claims::key_of, claims::prefix_of, claims::value, claims::next_index, claims::heap_in_use;

// ---- one interface over the contenders, inlined away ----

struct Kvstack {
  kv::MemoryBackend db;
  void put(const std::string& k) { db.put(k, value).value(); }
  std::size_t get(const std::string& k) const {
    std::size_t n = 0;
    db.get(k, [&](std::string_view v) { n = v.size(); }).value();
    return n;
  }
  template <class F>
  void scan(const std::string& prefix, F&& f) const {
    for (auto&& [k, v] : db.scan(kv::KeyRange::prefix(prefix))) f(k, v);
  }
  template <class F>
  void all(F&& f) const {
    for (auto&& [k, v] : db.scan(kv::KeyRange::all())) f(k, v);
  }
};

template <class Map>
struct Container {
  Map map;
  void put(const std::string& k) { map.insert_or_assign(k, value); }
  std::size_t get(const std::string& k) const {
    auto it = map.find(k);
    return it == map.end() ? 0 : it->second.size();
  }
  template <class F>
  void scan(const std::string& prefix, F&& f) const {
    for (auto it = map.lower_bound(prefix); it != map.end() && it->first.starts_with(prefix); ++it) f(it->first, it->second);
  }
  template <class F>
  void all(F&& f) const {
    for (auto& [k, v] : map) f(k, v);
  }
};
using StdMap = Container<std::map<std::string, std::string>>;
using AbslBtree = Container<absl::btree_map<std::string, std::string>>;
using FlatMap = Container<boost::unordered_flat_map<std::string, std::string>>;

/// The store of each kind and size, filled once; the heap it took per key.
template <class S>
S& store(std::int64_t n, double* bytes_per_key = nullptr) {
  static std::map<std::int64_t, std::pair<std::unique_ptr<S>, double>> stores;
  auto& [s, per_key] = stores[n];
  if (!s) {
    std::vector<std::string> keys;
    for (std::int64_t i = 0; i < n; ++i) keys.push_back(key_of(i));
    auto before = heap_in_use();
    s = std::make_unique<S>();
    for (auto& k : keys) s->put(k);
    per_key = static_cast<double>(heap_in_use() - before) / static_cast<double>(n);
  }
  if (bytes_per_key) *bytes_per_key = per_key;
  return *s;
}

template <class S>
void Get(benchmark::State& state) {
  const auto n = state.range(0);
  double per_key = 0;
  auto& s = store<S>(n, &per_key);
  std::uint64_t x = 1;
  for (auto _ : state) {
    auto size = s.get(key_of(next_index(x, n)));
    if (size != value.size()) state.SkipWithError("a key is missing");
    benchmark::DoNotOptimize(size);
  }
  state.counters["bytes_per_key"] = per_key;
  state.counters["raw"] = static_cast<double>(key_of(0).size() + value.size());
}

template <class S>
void Put(benchmark::State& state) {
  const auto n = state.range(0);
  auto& s = store<S>(n);
  std::uint64_t x = 2;
  for (auto _ : state) s.put(key_of(next_index(x, n)));
}

template <class S>
void Scan100(benchmark::State& state) {
  const auto n = state.range(0);
  auto& s = store<S>(n);
  std::uint64_t x = 3;
  for (auto _ : state) {
    std::size_t bytes = 0, count = 0;
    s.scan(prefix_of(next_index(x, n / 100 * 100)), [&](std::string_view k, std::string_view v) {
      bytes += k.size() + v.size(), ++count;
    });
    if (count != 100) state.SkipWithError("a scan did not see 100 keys");
    benchmark::DoNotOptimize(bytes);
  }
}

template <class S>
void Count(benchmark::State& state) {
  const auto n = state.range(0);
  auto& s = store<S>(n);
  for (auto _ : state) {
    std::int64_t count = 0;
    s.all([&](std::string_view, std::string_view) { ++count; });
    if (count != n) state.SkipWithError("the count is wrong");
  }
  state.SetItemsProcessed(state.iterations() * n);
}

#define KVSTACK_SIZES ->RangeMultiplier(10)->Range(1'000, 1'000'000)
#define KVSTACK_MEMORY(OP, S) BENCHMARK_TEMPLATE(OP, S)->Name(#OP "/" #S) KVSTACK_SIZES
KVSTACK_MEMORY(Get, FlatMap);
KVSTACK_MEMORY(Get, Kvstack);
KVSTACK_MEMORY(Get, StdMap);
KVSTACK_MEMORY(Get, AbslBtree);
KVSTACK_MEMORY(Put, FlatMap);
KVSTACK_MEMORY(Put, Kvstack);
KVSTACK_MEMORY(Put, StdMap);
KVSTACK_MEMORY(Put, AbslBtree);
KVSTACK_MEMORY(Scan100, Kvstack);
KVSTACK_MEMORY(Scan100, StdMap);
KVSTACK_MEMORY(Scan100, AbslBtree);
KVSTACK_MEMORY(Count, Kvstack);
KVSTACK_MEMORY(Count, StdMap);
KVSTACK_MEMORY(Count, AbslBtree);

}  // namespace

BENCHMARK_MAIN();
