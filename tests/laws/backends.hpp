// The backends every law runs against, and how the tests open them. A new backend or layer
// joins BackendTypes and gets a BackendFactory; it then inherits every law.
#pragma once

#include <deque>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <vector>
#include <string>
#include <tuple>
#include <utility>

#include <unistd.h>

#include <kvstack/backend/any.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>
#include <kvstack/shard/shard.hpp>
#include <kvstack/sim/disk.hpp>

#if KVSTACK_WITH_MST
#include <kvstack/shard/mst/mst.hpp>
#endif

#include "backend/test_servers.hpp"

// ThreadSanitizer cannot follow a fork of a process that has threads (RocksDB keeps a pool),
// so the tests that fork a child are left out of TSan builds.
#if defined(__SANITIZE_THREAD__)
#define KVSTACK_TEST_FORKS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KVSTACK_TEST_FORKS 0
#endif
#endif
#ifndef KVSTACK_TEST_FORKS
#define KVSTACK_TEST_FORKS 1
#endif

namespace kvstack::test {

/// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("kvstack-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// Opens fresh instances of B. `durable` backends also get `reopen()` for persistence laws.
template <class B>
struct BackendFactory;

template <>
struct BackendFactory<MemoryBackend> {
  static constexpr bool durable = false;
  MemoryBackend open() { return {}; }
  static Result<MemoryBackend> open_checkpoint(const std::filesystem::path& dir) { return MemoryBackend::load(dir); }
};

/// AnyBackend runs the laws over its in-memory alternative: the dispatch is what is tested.
template <>
struct BackendFactory<AnyBackend> {
  static constexpr bool durable = false;
  AnyBackend open() { return AnyBackend(MemoryBackend{}); }
};

#if KVSTACK_WITH_LMDB
template <>
struct BackendFactory<LmdbBackend> {
  static constexpr bool durable = true;
  static constexpr const char* name = "lmdb";
  TempDir dir;
  LmdbBackend open() { return LmdbBackend::open(dir / "db").value(); }
  LmdbBackend reopen() { return open(); }
  static Result<LmdbBackend> open_at(const std::filesystem::path& path) { return LmdbBackend::open(path); }
  static Result<LmdbBackend> open_checkpoint(const std::filesystem::path& dir) { return open_at(dir); }
};
#endif

#if KVSTACK_WITH_ROCKSDB
template <>
struct BackendFactory<RocksDbBackend> {
  static constexpr bool durable = true;
  static constexpr const char* name = "rocksdb";
  TempDir dir;
  RocksDbBackend open() { return RocksDbBackend::open(dir / "db").value(); }
  RocksDbBackend reopen() { return open(); }
  static Result<RocksDbBackend> open_at(const std::filesystem::path& path) { return RocksDbBackend::open(path); }
  static Result<RocksDbBackend> open_checkpoint(const std::filesystem::path& dir) { return open_at(dir); }
};
#endif

#if KVSTACK_WITH_SQLITE
template <>
struct BackendFactory<SqliteBackend> {
  static constexpr bool durable = true;
  static constexpr const char* name = "sqlite";
  static constexpr bool shares_open_store = true;  // SQLite lets many connections open one file
  TempDir dir;
  SqliteBackend open() { return SqliteBackend::open(dir / "db").value(); }
  SqliteBackend reopen() { return open(); }
  static Result<SqliteBackend> open_at(const std::filesystem::path& path) { return SqliteBackend::open(path); }
  static Result<SqliteBackend> open_checkpoint(const std::filesystem::path& dir) { return open_at(dir); }
};
#endif

#if KVSTACK_WITH_POSTGRES
/// A table of its own on the suite's PostgreSQL server, dropped at the end.
template <>
struct BackendFactory<PostgresBackend> {
  static constexpr bool durable = true;
  std::string table = unique_name("kvstack");
  PostgresBackend open() { return PostgresBackend::open(shared_postgres(), {.table = table}).value(); }
  PostgresBackend reopen() { return open(); }
  BackendFactory() = default;
  BackendFactory(const BackendFactory&) = delete;
  ~BackendFactory() {
    PGconn* conn = PQconnectdb(shared_postgres().c_str());
    PQclear(PQexec(conn, ("DROP TABLE IF EXISTS \"" + table + "\"").c_str()));
    PQfinish(conn);
  }
};
#endif

#if KVSTACK_WITH_REDIS
/// A store of its own (its own hash tag) on the suite's Redis server, deleted at the end.
template <>
struct BackendFactory<RedisBackend> {
  static constexpr bool durable = true;  // the server keeps it: a reopen finds it
  std::string name = unique_name("kvstack");
  RedisBackend open() { return RedisBackend::open(shared_redis(), {.name = name}).value(); }
  RedisBackend reopen() { return open(); }
  BackendFactory() = default;
  BackendFactory(const BackendFactory&) = delete;
  ~BackendFactory() {
    const std::string socket = shared_redis().substr(std::string("unix://").size());
    redisContext* c = redisConnectUnix(socket.c_str());
    if (c && !c->err) {
      auto* keys = static_cast<redisReply*>(redisCommand(c, "KEYS {%s}:*", name.c_str()));
      for (std::size_t i = 0; keys && i < keys->elements; ++i)
        freeReplyObject(redisCommand(c, "DEL %b", keys->element[i]->str, keys->element[i]->len));
      freeReplyObject(keys);
    }
    redisFree(c);
  }
};
#endif

/// Layers open over a fresh instance of what they wrap.
template <class B, class C>
struct BackendFactory<Ttl<B, C>> {
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below;
  Ttl<B, C> open() { return Ttl<B, C>(below.open()); }
  Ttl<B, C> reopen() { return Ttl<B, C>(below.reopen()); }
};

/// A Watched layer under test always has a subscriber, so every law also exercises the events.
template <class B>
struct BackendFactory<Watched<B>> {
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below;
  std::vector<typename Watched<B>::Subscription> subscriptions;
  Watched<B> open() { return watched(below.open()); }
  Watched<B> reopen() { return watched(below.reopen()); }
  Watched<B> watched(B b) {
    Watched<B> w(std::move(b));
    subscriptions.push_back(w.subscribe(KeyRange::all(), [](const Event& e) {
      if (e.kind != EventKind::put && !e.value.empty()) throw std::logic_error("an erase event with a value");
    }));
    return w;
  }
};

template <class B>
struct BackendFactory<Metered<B>> {
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below;
  Metered<B> open() { return Metered<B>(below.open()); }
  Metered<B> reopen() { return Metered<B>(below.reopen()); }
};

/// A simulated disk, syncing on every commit (the laws hold for it as for an engine).
template <class B>
struct BackendFactory<sim::Disk<B>> {
  static constexpr bool durable = false;
  BackendFactory<B> below;
  sim::Disk<B> open() { return sim::Disk<B>(below.open()); }
};

/// A one-replica shard: writes go straight to its App.
template <class B>
struct BackendFactory<Shard<NoLog, B, NoReplication>> {
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below;
  Shard<NoLog, B, NoReplication> open() { return {NoLog{}, below.open(), NoReplication{}}; }
  Shard<NoLog, B, NoReplication> reopen() { return {NoLog{}, below.reopen(), NoReplication{}}; }
};

/// A primary without backups, or a Raft group of one: every write goes through the log, the
/// command format and the applied mark (and, on Raft, reads through the read barrier). The log
/// lives in an engine instance of its own, which the factory keeps.
template <class B, class Policy>
struct BackendFactory<Shard<BackendLog<B>, B, Policy>> {
  using S = Shard<BackendLog<B>, B, Policy>;
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below, log_below;
  std::deque<B> logs;  // one per open (a durable engine: reopened in place)
  S open() {
    logs.push_back(log_below.open());
    return make(below.open());
  }
  S reopen() {
    logs.clear();
    logs.push_back(log_below.reopen());
    return make(below.reopen());
  }
  S make(B app) {
    if constexpr (std::same_as<Policy, AsyncPrimaryBackup>)
      return S{BackendLog<B>{logs.back(), "log"}, std::move(app), AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}}};
    else
      return S{BackendLog<B>{logs.back(), "log"}, std::move(app), Policy{{.id = 1, .voters = {1}}}};
  }
};

#if KVSTACK_WITH_MST
/// One Mst replica: every write stamped, recorded and entered in the Merkle Search Tree.
template <class B>
struct BackendFactory<Shard<NoLog, B, Mst<>>> {
  using S = Shard<NoLog, B, Mst<>>;
  static constexpr bool durable = BackendFactory<B>::durable;
  BackendFactory<B> below;
  S open() { return {NoLog{}, below.open(), Mst<>({.id = 1, .members = {1}})}; }
  S reopen() { return {NoLog{}, below.reopen(), Mst<>({.id = 1, .members = {1}})}; }
};
#endif

template <class... Tuples>
using Cat = decltype(std::tuple_cat(std::declval<Tuples>()...));

// Each optional engine, or nothing when it is not compiled in.
#if KVSTACK_WITH_LMDB
using IfLmdb = std::tuple<LmdbBackend>;
#else
using IfLmdb = std::tuple<>;
#endif
#if KVSTACK_WITH_ROCKSDB
using IfRocksDb = std::tuple<RocksDbBackend>;
#else
using IfRocksDb = std::tuple<>;
#endif
#if KVSTACK_WITH_SQLITE
using IfSqlite = std::tuple<SqliteBackend>;
#else
using IfSqlite = std::tuple<>;
#endif

#if KVSTACK_WITH_POSTGRES
using IfPostgres = std::tuple<PostgresBackend>;
#else
using IfPostgres = std::tuple<>;
#endif

#if KVSTACK_WITH_REDIS
using IfRedis = std::tuple<RedisBackend>;
#else
using IfRedis = std::tuple<>;
#endif

/// The engines on servers the tests start (PostgreSQL, Redis).
using ServerTypes = Cat<IfPostgres, IfRedis>;

/// The durable engines compiled in (each factory has `open_at(path)`).
using DurableTypes = Cat<IfLmdb, IfRocksDb, IfSqlite>;

template <class... Ts>
using Prepend = Cat<std::tuple<Ts...>, DurableTypes>;

/// The engines (each factory has `open_checkpoint(dir)`).
using EngineTypes = Prepend<MemoryBackend>;
/// Layers and stacks of them, over each engine.
using LayerTypes = std::tuple<Ttl<MemoryBackend, ManualClock>, Watched<MemoryBackend>, Metered<MemoryBackend>, sim::Disk<MemoryBackend>
#if KVSTACK_WITH_LMDB
                              ,
                              Metered<Watched<Ttl<LmdbBackend, ManualClock>>>
#endif
#if KVSTACK_WITH_ROCKSDB
                              ,
                              Watched<Ttl<RocksDbBackend>>
#endif
                              >;
/// Shards that run in one process, and layers over them.
using ShardTypes = std::tuple<Shard<NoLog, MemoryBackend, NoReplication>,
                              Shard<BackendLog<MemoryBackend>, MemoryBackend, AsyncPrimaryBackup>,
                              Ttl<Shard<BackendLog<MemoryBackend>, MemoryBackend, AsyncPrimaryBackup>, ManualClock>,
                              Shard<BackendLog<MemoryBackend>, MemoryBackend, Raft>
#if KVSTACK_WITH_LMDB
                              ,
                              Shard<NoLog, LmdbBackend, NoReplication>, Shard<BackendLog<LmdbBackend>, LmdbBackend, Raft>
#endif
#if KVSTACK_WITH_MST && KVSTACK_WITH_LMDB
                              ,
                              Shard<NoLog, LmdbBackend, Mst<>>
#endif
#if KVSTACK_WITH_ROCKSDB
                              ,
                              Shard<BackendLog<RocksDbBackend>, RocksDbBackend, AsyncPrimaryBackup>
#endif
                              >;
/// Every engine, embedded or on a server.
using AllEngineTypes = Cat<EngineTypes, ServerTypes>;
/// Everything that must pass the law suite.
using BackendTypes = Cat<Prepend<MemoryBackend, AnyBackend>, ServerTypes, LayerTypes, ShardTypes>;
/// What the tests of code built on the Backend API alone (registries, Atomic, stats) run over:
/// every engine, AnyBackend, a layer and a replicated shard. The law suite checks that API on
/// every other stack.
using ConsumerTypes = Cat<Prepend<MemoryBackend, AnyBackend>, ServerTypes,
                          std::tuple<Ttl<MemoryBackend, ManualClock>, Shard<BackendLog<MemoryBackend>, MemoryBackend, Raft>>>;
/// What a Redis DataStore is tested over: memory, a durable engine and a replicated shard.
/// (The data model uses the Backend API alone, which the law suite checks on the others.)
using StoreTypes = Cat<std::tuple<MemoryBackend>, IfLmdb, std::tuple<Shard<BackendLog<MemoryBackend>, MemoryBackend, Raft>>>;

}  // namespace kvstack::test
