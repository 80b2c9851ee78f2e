// Claim: asynchronous primary-backup replication keeps most of the engine's write throughput,
// and the backup stays close behind under a sustained load.
//
// Put (overwrite of a random key among KVSTACK_BENCH_KEYS, 100,000 by default; 100-byte values)
// by 1, 2, 4 and 8 threads, side by side in one run, through:
//   Engine         the primary's engine alone (`B`)
//   Primary        Shard<BackendLog<B>, B, AsyncPrimaryBackup> without backups: what the primary
//                  itself does (its log, a second store of the same engine, is the outbox)
//   PrimaryBackup  the same primary with one backup (the same stack, in this process, on the
//                  same cores and disk) over TcpTransport on loopback, each driven by a
//                  ReplicaRunner (10 ms ticks)
// Writers that queue up while one commits are proposed together (group commit).
// Engines: memory; LMDB and RocksDB durable (fsync per commit, as kvstack opens them); LMDB and
// RocksDB without fsync (`NoSync`: the code is measured, not the disk).
//
// Counters of PrimaryBackup: the backup's lag in entries (`lag_mean`, `lag_max`, sampled every 64
// writes of the first thread) and `catch_up_ms`, how long the backup takes to acknowledge the
// last write once the load stops (Shard::wait_replicated).
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target replication_bench
//   build/bench/benchmarks/replication_bench --benchmark_repetitions=3
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <kvstack/core/write_batch.hpp>
#include <kvstack/net/net.hpp>
#include <kvstack/shard/shard.hpp>

#include "claims.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;
using claims::key_of, claims::value, claims::key_count, claims::kept, claims::Memory;

struct Lmdb {
  using B = kv::LmdbBackend;
  static B open(const fs::path& dir) { return B::open(dir).value(); }
};
struct RocksDb {
  using B = kv::RocksDbBackend;
  static B open(const fs::path& dir) { return B::open(dir).value(); }
};
using LmdbNoSync = claims::Lmdb;
using RocksDbNoSync = claims::RocksDb;

template <class E>
typename E::B open(const std::string& name) {
  return E::open(claims::fresh_dir("replication-bench", std::string(typeid(E).name()) + "-" + name));
}

/// Fills a store (or a shard) with every key, in batches.
template <class S>
void fill(S& s) {
  for (std::int64_t at = 0; at < key_count();) {
    kv::WriteBatch batch;
    for (int i = 0; i < 1000 && at < key_count(); ++i, ++at) batch.put(key_of(at), value);
    s.write(batch).value();
  }
}

template <class E>
typename E::B& engine() {
  return kept([] {
    auto b = std::make_unique<typename E::B>(open<E>("engine"));
    fill(*b);
    return b;
  });
}

/// A primary without backups.
template <class E>
struct Alone {
  using B = typename E::B;
  using Replica = kv::Shard<kv::BackendLog<B>, B, kv::AsyncPrimaryBackup>;
  B log = open<E>("alone-log");
  Replica primary{kv::BackendLog<B>{log, "log"}, open<E>("alone"), kv::AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
  Alone() { fill(primary); }
};

/// A primary and its backup, each with its log, transport and runner.
template <class E>
struct Pair {
  using B = typename E::B;
  using Replica = kv::Shard<kv::BackendLog<B>, B, kv::AsyncPrimaryBackup>;
  using Runner = kv::ReplicaRunner<Replica, kv::TcpTransport>;

  B primary_log = open<E>("primary-log"), backup_log = open<E>("backup-log");
  std::unique_ptr<kv::TcpTransport> primary_net = kv::TcpTransport::open({.id = 1}).value(), backup_net;
  Replica primary = replica(1, primary_log, "primary");
  Replica backup = replica(2, backup_log, "backup");
  std::unique_ptr<Runner> primary_runner, backup_runner;

  Pair() {
    // Each transport names the other's port: the primary's is known first, then it listens again
    // on the same port with the backup as its peer.
    const std::uint16_t primary_port = primary_net->port();
    backup_net = kv::TcpTransport::open({.id = 2, .peers = {{1, "127.0.0.1", primary_port}}}).value();
    primary_net.reset();
    primary_net =
        kv::TcpTransport::open({.id = 1, .listen_port = primary_port, .peers = {{2, "127.0.0.1", backup_net->port()}}}).value();
    primary_runner = std::make_unique<Runner>(primary, *primary_net);
    backup_runner = std::make_unique<Runner>(backup, *backup_net);
    fill(primary);
    primary.wait_replicated(primary.status().commit, 1, std::chrono::minutes(1));
  }
  ~Pair() {  // the runners stop before the shards and transports they drive
    primary_runner.reset();
    backup_runner.reset();
  }

  static Replica replica(std::uint64_t id, B& log, const std::string& name) {
    return Replica(kv::BackendLog<B>{log, "log"}, open<E>(name),
                   kv::AsyncPrimaryBackup{{.id = id, .members = {1, 2}, .primary = 1}});
  }
};

template <class E>
Alone<E>& alone() {
  return kept([] { return std::make_unique<Alone<E>>(); });
}
template <class E>
Pair<E>& pair() {
  return kept([] { return std::make_unique<Pair<E>>(); });
}

enum class Via { engine, primary, backup };

template <class E, Via via>
void Put(benchmark::State& state) {
  if constexpr (via == Via::engine) engine<E>();
  else if constexpr (via == Via::primary) alone<E>();
  else pair<E>();
  std::uint64_t x = 1 + static_cast<std::uint64_t>(state.thread_index()) * 7919;
  double lag_sum = 0, lag_max = 0, samples = 0;
  std::int64_t n = 0;
  for (auto _ : state) {
    const std::string k = key_of(claims::next_index(x, key_count()));
    if constexpr (via == Via::engine) {
      engine<E>().put(k, value).value();
    } else if constexpr (via == Via::primary) {
      alone<E>().primary.put(k, value).value();
    } else {
      auto& primary = pair<E>().primary;
      primary.put(k, value).value();
      if (state.thread_index() == 0 && ++n % 64 == 0) {
        const auto lag = static_cast<double>(primary.status().peers.at(0).lag_entries);
        lag_sum += lag;
        lag_max = std::max(lag_max, lag);
        ++samples;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  if constexpr (via == Via::backup) {
    if (state.thread_index() != 0) return;
    auto& primary = pair<E>().primary;
    const auto start = std::chrono::steady_clock::now();
    const auto acked = primary.wait_replicated(primary.status().commit, 1, std::chrono::minutes(1));
    const std::chrono::duration<double, std::milli> waited = std::chrono::steady_clock::now() - start;
    if (acked != 1) state.SkipWithError("the backup did not catch up within a minute");
    state.counters["lag_mean"] = samples ? lag_sum / samples : 0;
    state.counters["lag_max"] = lag_max;
    state.counters["catch_up_ms"] = waited.count();
  }
}

#define KVSTACK_PUT(E)                                                                                    \
  BENCHMARK_TEMPLATE(Put, E, Via::engine)->Name("Put/" #E "/Engine")->ThreadRange(1, 8)->UseRealTime();  \
  BENCHMARK_TEMPLATE(Put, E, Via::primary)->Name("Put/" #E "/Primary")->ThreadRange(1, 8)->UseRealTime(); \
  BENCHMARK_TEMPLATE(Put, E, Via::backup)->Name("Put/" #E "/PrimaryBackup")->ThreadRange(1, 8)->UseRealTime()
KVSTACK_PUT(Memory);
KVSTACK_PUT(Lmdb);
KVSTACK_PUT(RocksDb);
KVSTACK_PUT(LmdbNoSync);
KVSTACK_PUT(RocksDbNoSync);

}  // namespace

int main(int argc, char** argv) { return claims::run_main(argc, argv, "replication-bench"); }
