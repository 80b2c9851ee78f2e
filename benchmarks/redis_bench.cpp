// redis::DataStore, in process, side by side in one run on each engine (memory, LMDB, RocksDB;
// the durable ones without fsync, so the code is measured, not the disk):
// - ops/s of SET, GET, LPUSH, LPOP, HSET, HGET, SADD, ZADD and ZRANGE 0 9, through `execute`
//   (command lookup, one backend transaction per command), over 100,000 keys / elements;
// - HSET of an existing field in a hash of 10, 10,000 and 1,000,000 fields: the cost must stay
//   flat (one element per backend entry, never the whole hash rewritten);
// - the DataStore's overhead: SET through execute next to the engine's own put of the same key
//   and value, and next to the engine's transact doing that one put.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target redis_bench
//   build/bench/benchmarks/redis_bench --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <kvstack/redis/redis.hpp>

#include "claims.hpp"

namespace {
namespace kv = kvstack;
namespace redis = kvstack::redis;

constexpr std::uint32_t n_keys = 100'000;

using claims::Memory, claims::Lmdb, claims::RocksDb;
template <class E>
typename E::B open(const std::string& name) { return claims::open<E>("redis-bench", name); }

std::uint32_t next_index(std::uint64_t& x, std::uint32_t n = n_keys) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>((x >> 33) % n);
}
const std::vector<std::string>& names() {
  static const auto v = [] {
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < n_keys; ++i) out.push_back("key:" + std::to_string(1'000'000 + i));
    return out;
  }();
  return v;
}
const std::string value(100, 'v');

template <class E>
struct Fixture {
  using Store = redis::DataStore<typename E::B>;
  Store store;
  redis::Session session;
  explicit Fixture(const std::string& name) : store(Store::open(open<E>(name)).value()), session(store.session()) {}
  redis::Reply run(const std::vector<std::string>& argv) { return redis::execute(store, session, redis::Args(argv)); }
  /// `cmd key` followed by `per` generated pairs/members, `total` in all, in commands of 1,000.
  void fill(const std::string& cmd, const std::string& key, std::uint32_t total, bool pairs) {
    for (std::uint32_t at = 0; at < total;) {
      std::vector<std::string> argv{cmd, key};
      for (std::uint32_t i = 0; i < 1000 && at < total; ++i, ++at) {
        if (pairs) argv.push_back(cmd == "ZADD" ? std::to_string(at) : names()[at % n_keys] + "/" + std::to_string(at));
        argv.push_back(names()[at % n_keys] + "/" + std::to_string(at));
      }
      if (run(argv).is_error()) std::abort();
    }
  }
};

/// One fixture per engine and name, filled on first use.
template <class E>
Fixture<E>& loaded() {
  static Fixture<E> f = [] {
    Fixture<E> f("commands");
    for (std::uint32_t i = 0; i < n_keys; i += 1000) {
      std::vector<std::string> argv{"MSET"};
      for (std::uint32_t j = i; j < i + 1000; ++j) argv.insert(argv.end(), {names()[j], value});
      f.run(argv);
    }
    f.fill("HSET", "hash", n_keys, true);
    f.fill("SADD", "set", n_keys, false);
    f.fill("ZADD", "zset", n_keys, true);
    return f;
  }();
  return f;
}

template <class E>
void command(benchmark::State& state, std::vector<std::string> argv, int random_at, bool refill_list = false) {
  auto& f = loaded<E>();
  std::uint64_t x = 42;
  for (auto _ : state) {
    if (random_at) argv[static_cast<std::size_t>(random_at)] = names()[next_index(x)];
    auto r = f.run(argv);
    if (r.is_error()) state.SkipWithError(r.text.c_str());
    if (refill_list && r.kind == redis::Reply::Kind::null) {
      state.PauseTiming();
      f.fill("RPUSH", "list", 100'000, false);
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

template <class E>
void BM_SET(benchmark::State& s) { command<E>(s, {"SET", "", value}, 1); }
template <class E>
void BM_GET(benchmark::State& s) { command<E>(s, {"GET", ""}, 1); }
template <class E>
void BM_LPUSH(benchmark::State& s) { command<E>(s, {"LPUSH", "pushed", value}, 0); }
template <class E>
void BM_LPOP(benchmark::State& s) { command<E>(s, {"LPOP", "list"}, 0, true); }
template <class E>
void BM_HSET(benchmark::State& s) { command<E>(s, {"HSET", "hash", "", value}, 2); }
template <class E>
void BM_HGET(benchmark::State& s) { command<E>(s, {"HGET", "hash", ""}, 2); }
template <class E>
void BM_SADD(benchmark::State& s) { command<E>(s, {"SADD", "set", ""}, 2); }
template <class E>
void BM_ZADD(benchmark::State& s) {
  auto& f = loaded<E>();
  std::uint64_t x = 7;
  std::vector<std::string> argv{"ZADD", "zset", "", ""};
  for (auto _ : s) {
    auto i = next_index(x);
    argv[2] = std::to_string(next_index(x) % 1000);  // a new score: ZADD moves the member
    argv[3] = names()[i];
    benchmark::DoNotOptimize(f.run(argv));
  }
  s.SetItemsProcessed(s.iterations());
}
template <class E>
void BM_ZRANGE_0_9(benchmark::State& s) { command<E>(s, {"ZRANGE", "zset", "0", "9"}, 0); }

#define KVSTACK_COMMANDS(E)                                                                     \
  BENCHMARK_TEMPLATE(BM_SET, E); BENCHMARK_TEMPLATE(BM_GET, E); BENCHMARK_TEMPLATE(BM_LPUSH, E); \
  BENCHMARK_TEMPLATE(BM_LPOP, E); BENCHMARK_TEMPLATE(BM_HSET, E); BENCHMARK_TEMPLATE(BM_HGET, E); \
  BENCHMARK_TEMPLATE(BM_SADD, E); BENCHMARK_TEMPLATE(BM_ZADD, E); BENCHMARK_TEMPLATE(BM_ZRANGE_0_9, E)
KVSTACK_COMMANDS(Memory);
KVSTACK_COMMANDS(Lmdb);
KVSTACK_COMMANDS(RocksDb);

// ---- HSET of an existing field, in a hash of 10 / 10,000 / 1,000,000 fields ----

template <class E>
void BM_HSET_flat(benchmark::State& state) {
  auto fields = static_cast<std::uint32_t>(state.range(0));
  static std::map<std::uint32_t, std::unique_ptr<Fixture<E>>> fixtures;
  auto& f = fixtures[fields];
  if (!f) {
    f = std::make_unique<Fixture<E>>("hash-" + std::to_string(fields));
    f->fill("HSET", "h", fields, true);
  }
  std::uint64_t x = 3;
  std::vector<std::string> argv{"HSET", "h", "", value};
  for (auto _ : state) {
    auto i = next_index(x, fields);
    argv[2] = names()[i % n_keys] + "/" + std::to_string(i);
    auto r = f->run(argv);
    if (r.kind != redis::Reply::Kind::integer || r.integer != 0) state.SkipWithError("HSET added a field");
  }
  state.SetItemsProcessed(state.iterations());
}
/// The floor under it: the engine alone, in one transaction, reading and rewriting a random
/// existing key among as many (what an HSET of an existing field must do at least).
template <class E>
void BM_engine_flat(benchmark::State& state) {
  auto keys = static_cast<std::uint32_t>(state.range(0));
  static std::map<std::uint32_t, typename E::B> engines;
  bool fresh = !engines.count(keys);
  if (fresh) engines.emplace(keys, open<E>("engine-" + std::to_string(keys)));
  auto& db = engines.at(keys);
  auto key = [](std::uint32_t i) { return "E12345678" + names()[i % n_keys] + "/" + std::to_string(i); };
  if (fresh)
    for (std::uint32_t at = 0; at < keys;) {
      kv::WriteBatch batch;
      for (std::uint32_t i = 0; i < 10'000 && at < keys; ++i, ++at) batch.put(key(at), key(at));
      db.write(batch).value();
    }
  std::uint64_t x = 3;
  for (auto _ : state) {
    auto k = key(next_index(x, keys));
    auto r = db.transact([&](auto& tx) -> kv::Result<void> {
      if (!tx.get(k).value()) std::abort();
      return tx.put(k, value);
    });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_engine_flat, Memory)->Arg(10)->Arg(10'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_engine_flat, Lmdb)->Arg(10)->Arg(10'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_engine_flat, RocksDb)->Arg(10)->Arg(10'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_HSET_flat, Memory)->Arg(10)->Arg(10'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_HSET_flat, Lmdb)->Arg(10)->Arg(10'000)->Arg(1'000'000);
BENCHMARK_TEMPLATE(BM_HSET_flat, RocksDb)->Arg(10)->Arg(10'000)->Arg(1'000'000);

// ---- 16 pipelined commands: one execute_all (one transaction) vs 16 execute calls ----

template <class E, bool together>
void pipeline16(benchmark::State& state, std::vector<std::string> argv, int random_at) {
  auto& f = loaded<E>();
  std::uint64_t x = 5;
  std::vector<std::vector<std::string>> batch(16, argv);
  std::vector<redis::Reply> out;
  for (auto _ : state) {
    for (auto& a : batch)
      if (random_at) a[static_cast<std::size_t>(random_at)] = names()[next_index(x)];
    out.clear();
    if constexpr (together) redis::execute_all(f.store, f.session, batch, out);
    else
      for (auto& a : batch) out.push_back(f.run(a));
    if (out.back().is_error()) state.SkipWithError(out.back().text.c_str());
  }
  state.SetItemsProcessed(state.iterations() * 16);
}
template <class E, bool together>
void BM_P16_SET(benchmark::State& s) { pipeline16<E, together>(s, {"SET", "", value}, 1); }
template <class E, bool together>
void BM_P16_LPUSH(benchmark::State& s) { pipeline16<E, together>(s, {"LPUSH", "pushed16", value}, 0); }
#define KVSTACK_PIPELINE(E)                                                           \
  BENCHMARK_TEMPLATE(BM_P16_SET, E, false); BENCHMARK_TEMPLATE(BM_P16_SET, E, true); \
  BENCHMARK_TEMPLATE(BM_P16_LPUSH, E, false); BENCHMARK_TEMPLATE(BM_P16_LPUSH, E, true)
KVSTACK_PIPELINE(Memory);
KVSTACK_PIPELINE(Lmdb);
KVSTACK_PIPELINE(RocksDb);

// ---- overhead: SET through the DataStore vs the engine's own put ----

template <class E>
void BM_raw_put(benchmark::State& state) {
  auto& db = loaded<E>().store.backend();
  std::uint64_t x = 42;
  for (auto _ : state) benchmark::DoNotOptimize(db.put(names()[next_index(x)], value));
  state.SetItemsProcessed(state.iterations());
}
template <class E>
void BM_raw_transact_put(benchmark::State& state) {
  auto& db = loaded<E>().store.backend();
  std::uint64_t x = 42;
  for (auto _ : state) {
    const auto& k = names()[next_index(x)];
    benchmark::DoNotOptimize(db.transact([&](auto& tx) { return tx.put(k, value); }));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_TEMPLATE(BM_raw_put, Memory);
BENCHMARK_TEMPLATE(BM_raw_transact_put, Memory);
BENCHMARK_TEMPLATE(BM_raw_put, Lmdb);
BENCHMARK_TEMPLATE(BM_raw_transact_put, Lmdb);
BENCHMARK_TEMPLATE(BM_raw_put, RocksDb);
BENCHMARK_TEMPLATE(BM_raw_transact_put, RocksDb);

}  // namespace

BENCHMARK_MAIN();
