// Claim: costs grow gently with data size. Point get, put (overwrite) and prefix scan of 100 keys
// on each engine at 10^3..10^6 keys (10^7 too with KVSTACK_BENCH_LARGE=1), 12-byte keys and
// 100-byte values, engines without fsync. Counter `bytes_per_key`: for memory the heap the store
// holds (glibc mallinfo2), for LMDB and RocksDB the size of the directory after filling (RocksDB:
// its log and tables).
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target scaling_bench
//   build/bench/benchmarks/scaling_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include <kvstack/core/write_batch.hpp>

#include "claims.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;

using claims::key_of, claims::prefix_of, claims::value, claims::next_index, claims::heap_in_use;
using claims::Memory, claims::Lmdb, claims::RocksDb;
double disk_bytes(const fs::path& dir) {
  double total = 0;
  for (auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) total += static_cast<double>(f.file_size());
  return total;
}

/// The engines of kind `E` opened so far, by size and use (reads, writes), with what they hold
/// per key. main() closes them before the engines' own statics go.
template <class E>
auto& stores() {
  static std::map<std::pair<std::int64_t, bool>, std::pair<std::unique_ptr<typename E::B>, double>> all;
  return all;
}

/// The engine `E` filled with `n` keys (once), and what it holds per key. Writes get a store of
/// their own: on RocksDB, overwrites stay as versions a scan steps over until a compaction.
template <class E>
typename E::B& store(std::int64_t n, double& bytes_per_key, bool writes = false) {
  auto& [s, per_key] = stores<E>()[{n, writes}];
  if (!s) {
    auto dir = claims::fresh_dir("scaling-bench",
                                 std::string(typeid(E).name()) + "-" + std::to_string(n) + (writes ? "-w" : ""));
    auto before = heap_in_use();
    s = std::make_unique<typename E::B>(E::open(dir));
    for (std::int64_t at = 0; at < n;) {
      kv::WriteBatch batch;
      for (int i = 0; i < 10'000 && at < n; ++i, ++at) batch.put(key_of(at), value);
      s->write(batch).value();
    }
    per_key = (std::is_same_v<E, Memory> ? static_cast<double>(heap_in_use() - before) : disk_bytes(dir)) /
              static_cast<double>(n);
  }
  bytes_per_key = per_key;
  return *s;
}

template <class E>
void Get(benchmark::State& state, std::int64_t n) {
  double per_key = 0;
  auto& db = store<E>(n, per_key);
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::size_t size = 0;
    db.get(key_of(next_index(x, n)), [&](std::string_view v) { size = v.size(); }).value();
    if (size != value.size()) state.SkipWithError("a key is missing");
  }
  state.counters["bytes_per_key"] = per_key;
}
template <class E>
void Put(benchmark::State& state, std::int64_t n) {
  double per_key = 0;
  auto& db = store<E>(n, per_key, true);
  std::uint64_t x = 2;
  for (auto _ : state) db.put(key_of(next_index(x, n)), value).value();
}
template <class E>
void Scan100(benchmark::State& state, std::int64_t n) {
  double per_key = 0;
  auto& db = store<E>(n, per_key);
  std::uint64_t x = 3;
  for (auto _ : state) {
    std::size_t count = 0;
    for (auto&& [k, v] : db.scan(kv::KeyRange::prefix(prefix_of(next_index(x, n / 100 * 100))))) count += !v.empty();
    if (count != 100) state.SkipWithError("a scan did not see 100 keys");
  }
}

template <class E>
void add(const std::string& engine, const std::vector<std::int64_t>& sizes) {
  for (auto n : sizes) {
    auto size = "/" + std::to_string(n);
    benchmark::RegisterBenchmark(("Get/" + engine + size).c_str(), Get<E>, n);
    benchmark::RegisterBenchmark(("Scan100/" + engine + size).c_str(), Scan100<E>, n);
    benchmark::RegisterBenchmark(("Put/" + engine + size).c_str(), Put<E>, n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> sizes{1'000, 10'000, 100'000, 1'000'000};
  if (std::getenv("KVSTACK_BENCH_LARGE")) sizes.push_back(10'000'000);
  add<Memory>("Memory", sizes);
  add<Lmdb>("Lmdb", sizes);
  add<RocksDb>("RocksDb", sizes);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  stores<Memory>().clear();
  stores<Lmdb>().clear();
  stores<RocksDb>().clear();
  fs::remove_all(claims::scratch("scaling-bench"));
  return 0;
}
