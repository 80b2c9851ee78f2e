// Claim: composing a store at compile time costs nothing at run time. The same point get, put
// (overwrite) and prefix scan of 100 keys, on each engine, side by side in one run, through:
//   Kvstack      the engine as kvstack ships it (`B`: templates, no virtual call)
//   Metered<Ttl> a composed stack, Metered<Ttl<B>> (TTL filtering and per-operation counters)
//   Virtual      the classic design: an abstract KvStore (virtual get / put / scan returning a
//                vector, as the seeds' Box<dyn KvStore>) implemented over the same engine and
//                called through a pointer the compiler cannot see through
//   VirtualFinal the same implementation class marked `final` (still called through KvStore*)
//   Shard        Shard<NoLog, B, NoReplication>: a one-replica shard, which writes to B directly
//   Primary      Shard<BackendLog<B>, B, AsyncPrimaryBackup>, a primary without backups: each
//                write appended to its log (a second store of the same engine), then applied
//                with the applied mark; user keys sit behind a one-byte prefix
//   Raw          the engine's own API written by hand: the LMDB C API, the RocksDB C++ API, and
//                for memory the copy-on-write B+tree under a shared_mutex
// Every contender has its own store holding the same keys (KVSTACK_BENCH_KEYS, 100,000 by
// default) with 100-byte values; engines run without fsync, so the code is measured. A scan's
// consumer reads the first byte of each key and value it is handed, as any real consumer reads
// what it scanned (and as the TTL layer must, for the expiry header).
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target dispatch_bench
//   build/bench/benchmarks/dispatch_bench --benchmark_repetitions=9
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <rocksdb/db.h>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/backend/rocksdb.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/shard/shard.hpp>

#include "claims.hpp"
#include "raw_rocksdb_options.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;
using claims::key_of, claims::prefix_of, claims::value, claims::key_count, claims::kept, claims::Memory, claims::Lmdb,
    claims::RocksDb;

std::int64_t next_index(std::uint64_t& x) { return claims::next_index(x, key_count() / 100 * 100); }

fs::path fresh_dir(const std::string& name) { return claims::fresh_dir("dispatch-bench", name); }
template <class E>
typename E::B open(const std::string& who) { return claims::open<E>("dispatch-bench", who); }

template <class S>
S filled(S s) {
  for (std::int64_t i = 0; i < key_count(); ++i) s.put(key_of(i), value).value();
  return s;
}

// ---- the classic runtime-polymorphic design ----

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct KvStore {
  virtual ~KvStore() = default;
  virtual std::optional<std::string> get(std::string_view key) = 0;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual Pairs scan(std::string_view prefix) = 0;
};

template <class B>
class VirtualStore : public KvStore {
 public:
  explicit VirtualStore(B db) : db_(std::move(db)) {}
  std::optional<std::string> get(std::string_view key) override { return db_.get(key).value(); }
  void put(std::string_view key, std::string_view value) override { db_.put(key, value).value(); }
  Pairs scan(std::string_view prefix) override {
    Pairs out;
    for (auto&& [k, v] : db_.scan(kv::KeyRange::prefix(prefix))) out.emplace_back(k, v);
    return out;
  }

 private:
  B db_;
};
template <class B>
class FinalStore final : public VirtualStore<B> {
  using VirtualStore<B>::VirtualStore;
};

/// The store behind an opaque call, as a factory in another translation unit would hand it.
template <class Store, class E>
[[gnu::noinline]] std::unique_ptr<KvStore> make_virtual(const std::string& name) {
  auto s = std::make_unique<Store>(open<E>(name));
  for (std::int64_t i = 0; i < key_count(); ++i) s->put(key_of(i), value);
  return s;
}

// ---- the engines' own APIs, written by hand ----

struct RawMemory {
  mutable std::shared_mutex mu;
  std::mutex writer;
  kv::detail::CowBTree tree;
  RawMemory() {
    for (std::int64_t i = 0; i < key_count(); ++i) tree.assign(key_of(i), value);
  }
  std::optional<std::string> get(const std::string& k) const {
    std::shared_lock lock(mu);
    if (const auto* e = tree.find(k)) return std::string(e->value());
    return std::nullopt;
  }
  void put(const std::string& k) {
    std::scoped_lock lock(writer, mu);
    tree.assign(k, value);
  }
  template <class F>
  void scan(const std::string& prefix, F&& f) const {
    kv::detail::CowBTree::Snapshot snap;
    {
      std::shared_lock lock(mu);
      snap = tree.snapshot();
    }
    kv::detail::CowBTree::Cursor c(snap.root());
    for (c.seek(prefix); c.valid() && c.key().starts_with(prefix); c.next()) f(c.key(), c.value());
  }
};

struct RawLmdb {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  RawLmdb() {
    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, std::size_t{1} << 36) ||
        mdb_env_open(env, fresh_dir("lmdb-raw").c_str(), MDB_NOTLS | MDB_NOSYNC, 0644))
      std::abort();
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (std::int64_t i = 0; i < key_count(); ++i) put_in(txn, key_of(i));
    mdb_txn_commit(txn);
  }
  void put_in(MDB_txn* txn, const std::string& k) {
    MDB_val key{k.size(), const_cast<char*>(k.data())}, val{value.size(), const_cast<char*>(value.data())};
    if (mdb_put(txn, dbi, &key, &val, 0)) std::abort();
  }
  std::optional<std::string> get(const std::string& k) const {
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    MDB_val key{k.size(), const_cast<char*>(k.data())}, val;
    std::optional<std::string> r;
    if (mdb_get(txn, dbi, &key, &val) == 0) r.emplace(static_cast<const char*>(val.mv_data), val.mv_size);
    mdb_txn_abort(txn);
    return r;
  }
  void put(const std::string& k) {
    MDB_txn* txn;
    mdb_txn_begin(env, nullptr, 0, &txn);
    put_in(txn, k);
    if (mdb_txn_commit(txn)) std::abort();
  }
  template <class F>
  void scan(const std::string& prefix, F&& f) const {
    MDB_txn* txn;
    MDB_cursor* cur;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    mdb_cursor_open(txn, dbi, &cur);
    MDB_val key{prefix.size(), const_cast<char*>(prefix.data())}, val;
    for (int rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
      std::string_view k(static_cast<const char*>(key.mv_data), key.mv_size);
      if (!k.starts_with(prefix)) break;
      f(k, std::string_view(static_cast<const char*>(val.mv_data), val.mv_size));
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
  }
};

struct RawRocks {
  std::unique_ptr<rocksdb::DB> db;
  RawRocks() {
    rocksdb::DB* raw;
    if (!rocksdb::DB::Open(raw_rocksdb_options(), fresh_dir("rocks-raw").string(), &raw).ok()) std::abort();
    db.reset(raw);
    for (std::int64_t i = 0; i < key_count(); ++i) put(key_of(i));
  }
  std::optional<std::string> get(const std::string& k) const {
    rocksdb::PinnableSlice v;
    if (!db->Get(rocksdb::ReadOptions(), db->DefaultColumnFamily(), k, &v).ok()) return std::nullopt;
    return std::string(v.ToStringView());
  }
  void put(const std::string& k) {
    if (!db->Put(rocksdb::WriteOptions(), k, value).ok()) std::abort();  // sync = false, as kvstack's
  }
  template <class F>
  void scan(const std::string& prefix, F&& f) const {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      f(it->key().ToStringView(), it->value().ToStringView());
  }
};

template <class E>
auto& raw() {
  using Raw = std::conditional_t<std::is_same_v<E, Memory>, RawMemory,
                                 std::conditional_t<std::is_same_v<E, Lmdb>, RawLmdb, RawRocks>>;
  return kept([] { return std::make_unique<Raw>(); });
}

// ---- the contenders, each on its own store ----

template <class E>
typename E::B& plain() {
  return kept([] { return std::make_unique<typename E::B>(filled(open<E>("plain"))); });
}
template <class E>
kv::Metered<kv::Ttl<typename E::B>>& stack() {
  using S = kv::Metered<kv::Ttl<typename E::B>>;
  return kept([] { return std::make_unique<S>(filled(S(kv::Ttl<typename E::B>(open<E>("stack"))))); });
}
template <class E>
KvStore& virtual_store() {
  return kept([] { return make_virtual<VirtualStore<typename E::B>, E>("virtual"); });
}
template <class E>
KvStore& final_store() {
  return kept([] { return make_virtual<FinalStore<typename E::B>, E>("final"); });
}

template <class E>
kv::Shard<kv::NoLog, typename E::B, kv::NoReplication>& shard() {
  using S = kv::Shard<kv::NoLog, typename E::B, kv::NoReplication>;
  return kept([] { return std::make_unique<S>(filled(S{kv::NoLog{}, open<E>("shard"), kv::NoReplication{}})); });
}
template <class E>
using PrimaryShard = kv::Shard<kv::BackendLog<typename E::B>, typename E::B, kv::AsyncPrimaryBackup>;
template <class E>
PrimaryShard<E>& primary() {
  static auto& log_store = kept([] { return std::make_unique<typename E::B>(open<E>("primary-log")); });
  return kept([] {
    return std::make_unique<PrimaryShard<E>>(filled(PrimaryShard<E>{kv::BackendLog<typename E::B>{log_store, "log"},
                                                                     open<E>("primary"),
                                                                     kv::AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}}));
  });
}

enum class Via { kvstack, stack, virt, final, raw, shard, primary };

/// Opens and fills the contender's store before the timing starts.
template <class E, Via via>
void ready() {
  if constexpr (via == Via::kvstack) plain<E>();
  else if constexpr (via == Via::stack) stack<E>();
  else if constexpr (via == Via::virt) virtual_store<E>();
  else if constexpr (via == Via::final) final_store<E>();
  else if constexpr (via == Via::shard) shard<E>();
  else if constexpr (via == Via::primary) primary<E>();
  else raw<E>();
}

template <class E, Via via>
void Get(benchmark::State& state) {
  ready<E, via>();
  std::uint64_t x = 1;
  for (auto _ : state) {
    const std::string k = key_of(next_index(x));
    std::optional<std::string> r;
    if constexpr (via == Via::kvstack) r = plain<E>().get(k).value();
    else if constexpr (via == Via::stack) r = stack<E>().get(k).value();
    else if constexpr (via == Via::virt) r = virtual_store<E>().get(k);
    else if constexpr (via == Via::final) r = final_store<E>().get(k);
    else if constexpr (via == Via::shard) r = shard<E>().get(k).value();
    else if constexpr (via == Via::primary) r = primary<E>().get(k).value();
    else r = raw<E>().get(k);
    if (!r) state.SkipWithError("a key is missing");
    benchmark::DoNotOptimize(r);
  }
}

template <class E, Via via>
void Put(benchmark::State& state) {
  ready<E, via>();
  std::uint64_t x = 2;
  for (auto _ : state) {
    const std::string k = key_of(next_index(x));
    if constexpr (via == Via::kvstack) plain<E>().put(k, value).value();
    else if constexpr (via == Via::stack) stack<E>().put(k, value).value();
    else if constexpr (via == Via::virt) virtual_store<E>().put(k, value);
    else if constexpr (via == Via::final) final_store<E>().put(k, value);
    else if constexpr (via == Via::shard) shard<E>().put(k, value).value();
    else if constexpr (via == Via::primary) primary<E>().put(k, value).value();
    else raw<E>().put(k);
  }
}

template <class E, Via via>
void Scan100(benchmark::State& state) {
  ready<E, via>();
  std::uint64_t x = 3;
  for (auto _ : state) {
    const std::string prefix = prefix_of(next_index(x));
    std::size_t bytes = 0, n = 0;
    auto add = [&](std::string_view k, std::string_view v) {
      bytes += k.size() + v.size() + static_cast<unsigned char>(k.front()) + static_cast<unsigned char>(v.front());
      ++n;
    };
    if constexpr (via == Via::kvstack) {
      for (auto&& [k, v] : plain<E>().scan(kv::KeyRange::prefix(prefix))) add(k, v);
    } else if constexpr (via == Via::stack) {
      for (auto&& [k, v] : stack<E>().scan(kv::KeyRange::prefix(prefix))) add(k, v);
    } else if constexpr (via == Via::shard) {
      for (auto&& [k, v] : shard<E>().scan(kv::KeyRange::prefix(prefix))) add(k, v);
    } else if constexpr (via == Via::primary) {
      for (auto&& [k, v] : primary<E>().scan(kv::KeyRange::prefix(prefix))) add(k, v);
    } else if constexpr (via == Via::virt || via == Via::final) {
      for (auto& [k, v] : (via == Via::virt ? virtual_store<E>() : final_store<E>()).scan(prefix)) add(k, v);
    } else {
      raw<E>().scan(prefix, add);
    }
    if (n != 100) state.SkipWithError("a scan did not see 100 keys");
    benchmark::DoNotOptimize(bytes);
  }
}

#define KVSTACK_DISPATCH(OP, E)                                                                       \
  BENCHMARK_TEMPLATE(OP, E, Via::raw)->Name(#OP "/" #E "/Raw");                                       \
  BENCHMARK_TEMPLATE(OP, E, Via::kvstack)->Name(#OP "/" #E "/Kvstack");                               \
  BENCHMARK_TEMPLATE(OP, E, Via::stack)->Name(#OP "/" #E "/Metered<Ttl>");                            \
  BENCHMARK_TEMPLATE(OP, E, Via::virt)->Name(#OP "/" #E "/Virtual");                                  \
  BENCHMARK_TEMPLATE(OP, E, Via::final)->Name(#OP "/" #E "/VirtualFinal");                            \
  BENCHMARK_TEMPLATE(OP, E, Via::shard)->Name(#OP "/" #E "/Shard");                                   \
  BENCHMARK_TEMPLATE(OP, E, Via::primary)->Name(#OP "/" #E "/Primary")
#define KVSTACK_ENGINE(E) KVSTACK_DISPATCH(Get, E); KVSTACK_DISPATCH(Put, E); KVSTACK_DISPATCH(Scan100, E)
KVSTACK_ENGINE(Memory);
KVSTACK_ENGINE(Lmdb);
KVSTACK_ENGINE(RocksDb);

}  // namespace

int main(int argc, char** argv) { return claims::run_main(argc, argv, "dispatch-bench"); }
