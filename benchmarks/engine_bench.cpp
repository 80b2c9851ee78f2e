// kvstack on LMDB and RocksDB vs the same work hand-written on the raw LMDB C API and the raw
// RocksDB C++ API, side by side in one run: registry get / put / batch put of 1,000 / prefix
// scan of 100 keys / count of 100,000 keys, and point-get latency percentiles (the seed's
// targets). Both sides use the same keys (the registry's encoding), the same values
// (BinarySerializer) and the same engine options, without fsync (MDB_NOSYNC, sync = false) so
// that what is compared is the code, not the disk.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target engine_bench
//   build/bench/benchmarks/engine_bench --benchmark_repetitions=11
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <rocksdb/db.h>
#include <unistd.h>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/rocksdb.hpp>
#include <kvstack/registry/namespaced_registry.hpp>

#include "raw_rocksdb_options.hpp"
#include "seed_nodes.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;

using namespace seed_nodes;

fs::path fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("kvstack-bench-" + std::to_string(::getpid())) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// ---- the stores, each filled once with the same 100,000 nodes ----

using LmdbRegistry = kv::NamespacedRegistry<kv::LmdbBackend, NodeInfo, NodeKey>;
using RocksRegistry = kv::NamespacedRegistry<kv::RocksDbBackend, NodeInfo, NodeKey>;

template <class B, class Registry>
struct Kvstack {
  B db;
  Registry nodes{db, "node"};
  explicit Kvstack(B opened) : db(std::move(opened)) {
    std::vector<std::pair<NodeKey, NodeInfo>> all;
    for (std::uint32_t i = 0; i < node_count; ++i) all.emplace_back(key_of(i), node_of(i));
    nodes.put_all(all).value();
  }
};

// Each side has a store that only reads touch and one for writes, so that overwrites (which
// RocksDB keeps as versions until compaction) do not slow one side's scans more than the other's.
template <bool Writes>
Kvstack<kv::LmdbBackend, LmdbRegistry>& kv_lmdb() {
  static Kvstack<kv::LmdbBackend, LmdbRegistry> s(
      kv::LmdbBackend::open(fresh_dir(Writes ? "kv-lmdb-w" : "kv-lmdb"), {.sync = false}).value());
  return s;
}
template <bool Writes>
Kvstack<kv::RocksDbBackend, RocksRegistry>& kv_rocks() {
  static Kvstack<kv::RocksDbBackend, RocksRegistry> s(
      kv::RocksDbBackend::open(fresh_dir(Writes ? "kv-rocks-w" : "kv-rocks"), {.sync = false}).value());
  return s;
}

// Hand-written LMDB: one environment, the main database, what a user writes from the docs.
struct RawLmdb {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  explicit RawLmdb(const std::string& name) {
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, std::size_t{1} << 40);
    mdb_env_open(env, fresh_dir(name).c_str(), MDB_NOTLS | MDB_NOSYNC, 0644);
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (std::uint32_t i = 0; i < node_count; ++i) put(txn, storage_key(key_of(i)), encoded(node_of(i)));
    mdb_txn_commit(txn);
  }
  void put(MDB_txn* txn, const std::string& k, const std::string& v) {
    MDB_val key{k.size(), const_cast<char*>(k.data())}, val{v.size(), const_cast<char*>(v.data())};
    if (mdb_put(txn, dbi, &key, &val, 0)) std::abort();
  }
};
template <bool Writes>
RawLmdb& raw_lmdb() {
  static RawLmdb s(Writes ? "raw-lmdb-w" : "raw-lmdb");
  return s;
}

// Hand-written RocksDB with the options RocksDbBackend sets.
struct RawRocks {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write;  // sync = false
  explicit RawRocks(const std::string& name) {
    rocksdb::DB* raw;
    if (!rocksdb::DB::Open(raw_rocksdb_options(), fresh_dir(name).string(), &raw).ok()) std::abort();
    db.reset(raw);
    rocksdb::WriteBatch b;
    for (std::uint32_t i = 0; i < node_count; ++i) b.Put(storage_key(key_of(i)), encoded(node_of(i)));
    db->Write(write, &b);
  }
};
template <bool Writes>
RawRocks& raw_rocks() {
  static RawRocks s(Writes ? "raw-rocks-w" : "raw-rocks");
  return s;
}

// ---- registry get ----

template <class S>
void Get_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) benchmark::DoNotOptimize(s.nodes.get(key_of(next_index(x))).value());
}
void Get_RawLmdb(benchmark::State& state) {
  auto& s = raw_lmdb<false>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::string k = storage_key(key_of(next_index(x)));
    MDB_txn* txn;
    mdb_txn_begin(s.env, nullptr, MDB_RDONLY, &txn);
    MDB_val key{k.size(), k.data()}, val;
    std::optional<NodeInfo> r;
    if (mdb_get(txn, s.dbi, &key, &val) == 0) r = decode({static_cast<const char*>(val.mv_data), val.mv_size});
    mdb_txn_abort(txn);
    benchmark::DoNotOptimize(r);
  }
}
void Get_RawRocks(benchmark::State& state) {
  auto& s = raw_rocks<false>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::string k = storage_key(key_of(next_index(x)));
    rocksdb::PinnableSlice val;
    std::optional<NodeInfo> r;
    if (s.db->Get(rocksdb::ReadOptions(), s.db->DefaultColumnFamily(), k, &val).ok()) r = decode(val.ToStringView());
    benchmark::DoNotOptimize(r);
  }
}

// ---- registry put (overwrite) ----

template <class S>
void Put_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    s.nodes.put(key_of(i), node_of(i)).value();
  }
}
void Put_RawLmdb(benchmark::State& state) {
  auto& s = raw_lmdb<true>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    MDB_txn* txn;
    mdb_txn_begin(s.env, nullptr, 0, &txn);
    s.put(txn, storage_key(key_of(i)), encoded(node_of(i)));
    if (mdb_txn_commit(txn)) std::abort();
  }
}
void Put_RawRocks(benchmark::State& state) {
  auto& s = raw_rocks<true>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    if (!s.db->Put(s.write, storage_key(key_of(i)), encoded(node_of(i))).ok()) std::abort();
  }
}

// ---- batch put of 1,000 (overwrites, one transaction / WriteBatch) ----

template <class S>
void Batch1000_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  std::vector<std::pair<NodeKey, NodeInfo>> batch(1000);
  for (auto _ : state) {
    for (auto& [k, v] : batch) {
      std::uint32_t i = next_index(x);
      k = key_of(i);
      v = node_of(i);
    }
    s.nodes.put_all(batch).value();
  }
}
void Batch1000_RawLmdb(benchmark::State& state) {
  auto& s = raw_lmdb<true>();
  std::uint64_t x = 1;
  std::vector<std::pair<NodeKey, NodeInfo>> batch(1000);
  for (auto _ : state) {
    for (auto& [k, v] : batch) {
      std::uint32_t i = next_index(x);
      k = key_of(i);
      v = node_of(i);
    }
    MDB_txn* txn;
    mdb_txn_begin(s.env, nullptr, 0, &txn);
    for (auto& [k, v] : batch) s.put(txn, storage_key(k), encoded(v));
    if (mdb_txn_commit(txn)) std::abort();
  }
}
void Batch1000_RawRocks(benchmark::State& state) {
  auto& s = raw_rocks<true>();
  std::uint64_t x = 1;
  std::vector<std::pair<NodeKey, NodeInfo>> batch(1000);
  for (auto _ : state) {
    for (auto& [k, v] : batch) {
      std::uint32_t i = next_index(x);
      k = key_of(i);
      v = node_of(i);
    }
    rocksdb::WriteBatch b;
    for (auto& [k, v] : batch) b.Put(storage_key(k), encoded(v));
    if (!s.db->Write(s.write, &b).ok()) std::abort();
  }
}

// ---- prefix scan of 100 keys, decoding each value ----

template <class S>
void Scan100_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::size_t n = 0;
    auto scan = s.db.scan(kv::KeyRange::prefix(group_prefix(next_index(x) / per_group)).streaming());
    for (auto&& [key, value] : scan) n += decode(value).port != 0;
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_RawLmdb(benchmark::State& state) {
  auto& s = raw_lmdb<false>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::string prefix = group_prefix(next_index(x) / per_group);
    MDB_txn* txn;
    MDB_cursor* cur;
    mdb_txn_begin(s.env, nullptr, MDB_RDONLY, &txn);
    mdb_cursor_open(txn, s.dbi, &cur);
    MDB_val key{prefix.size(), prefix.data()}, val;
    std::size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
      if (!std::string_view(static_cast<const char*>(key.mv_data), key.mv_size).starts_with(prefix)) break;
      n += decode({static_cast<const char*>(val.mv_data), val.mv_size}).port != 0;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_RawRocks(benchmark::State& state) {
  auto& s = raw_rocks<false>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t group = next_index(x) / per_group;
    std::string prefix = group_prefix(group), upper = group_prefix(group + 1);
    rocksdb::Slice bound(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &bound;
    std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro));
    std::size_t n = 0;
    for (it->Seek(prefix); it->Valid(); it->Next()) n += decode(it->value().ToStringView()).port != 0;
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}

// ---- count of the 100,000 keys of the namespace ----

template <class S>
void Count100K_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  for (auto _ : state)
    if (s.nodes.count().value() != node_count) state.SkipWithError("wrong count");
}
void Count100K_RawLmdb(benchmark::State& state) {
  auto& s = raw_lmdb<false>();
  for (auto _ : state) {
    MDB_txn* txn;
    MDB_cursor* cur;
    mdb_txn_begin(s.env, nullptr, MDB_RDONLY, &txn);
    mdb_cursor_open(txn, s.dbi, &cur);
    MDB_val key{ns().size(), const_cast<char*>(ns().data())}, val;
    std::size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
      if (!std::string_view(static_cast<const char*>(key.mv_data), key.mv_size).starts_with(ns())) break;
      ++n;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (n != node_count) state.SkipWithError("wrong count");
  }
}
void Count100K_RawRocks(benchmark::State& state) {
  auto& s = raw_rocks<false>();
  const std::string upper = *kv::KeyRange::prefix_successor(ns());
  for (auto _ : state) {
    rocksdb::Slice bound(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &bound;
    std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro));
    std::size_t n = 0;
    for (it->Seek(ns()); it->Valid(); it->Next()) ++n;
    if (n != node_count) state.SkipWithError("wrong count");
  }
}

// ---- point-get latency percentiles (the seed's "p99 < 1 ms") ----

template <class S>
void GetLatency_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  std::vector<double> ns_per_get;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(s.nodes.get(key_of(next_index(x))).value());
    ns_per_get.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ns_per_get.begin(), ns_per_get.end());
  state.counters["p50_ns"] = ns_per_get[ns_per_get.size() / 2];
  state.counters["p99_ns"] = ns_per_get[ns_per_get.size() * 99 / 100];
}

}  // namespace

BENCHMARK_CAPTURE(Get_Kvstack, Lmdb, kv_lmdb<false>);
BENCHMARK(Get_RawLmdb);
BENCHMARK_CAPTURE(Get_Kvstack, Rocks, kv_rocks<false>);
BENCHMARK(Get_RawRocks);
BENCHMARK_CAPTURE(Put_Kvstack, Lmdb, kv_lmdb<true>);
BENCHMARK(Put_RawLmdb);
BENCHMARK_CAPTURE(Put_Kvstack, Rocks, kv_rocks<true>);
BENCHMARK(Put_RawRocks);
BENCHMARK_CAPTURE(Batch1000_Kvstack, Lmdb, kv_lmdb<true>);
BENCHMARK(Batch1000_RawLmdb);
BENCHMARK_CAPTURE(Batch1000_Kvstack, Rocks, kv_rocks<true>);
BENCHMARK(Batch1000_RawRocks);
BENCHMARK_CAPTURE(Scan100_Kvstack, Lmdb, kv_lmdb<false>);
BENCHMARK(Scan100_RawLmdb);
BENCHMARK_CAPTURE(Scan100_Kvstack, Rocks, kv_rocks<false>);
BENCHMARK(Scan100_RawRocks);
BENCHMARK_CAPTURE(Count100K_Kvstack, Lmdb, kv_lmdb<false>);
BENCHMARK(Count100K_RawLmdb);
BENCHMARK_CAPTURE(Count100K_Kvstack, Rocks, kv_rocks<false>);
BENCHMARK(Count100K_RawRocks);
BENCHMARK_CAPTURE(GetLatency_Kvstack, Lmdb, kv_lmdb<false>)->Iterations(200000);
BENCHMARK_CAPTURE(GetLatency_Kvstack, Rocks, kv_rocks<false>)->Iterations(200000);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fs::remove_all(fs::temp_directory_path() / ("kvstack-bench-" + std::to_string(::getpid())));
}
