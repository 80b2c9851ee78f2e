// kvstack on SQLite, PostgreSQL and Redis vs the same work hand-written against libsqlite3, libpq
// and hiredis, side by side in one run: registry get (with p99), put, batch put of 1,000, prefix
// scan of 100 keys, count of 100,000 keys, removing 1,000 expired keys (seed 002's targets). Both sides store the same keys
// (the registry's encoding) and values (BinarySerializer) in the same schema, each in its own
// table / store; the raw side uses prepared statements and pipelining as a careful hand would.
// PostgreSQL and redis-server run on this machine (started by tests/backend/test_servers.sh, so
// PostgreSQL has fsync=off), over Unix sockets; SQLite has synchronous=NORMAL on both sides.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVSTACK_BUILD_BENCHMARKS=ON
//   cmake --build build/bench --target sql_redis_bench
//   build/bench/benchmarks/sql_redis_bench --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <kvstack/backend/postgres.hpp>
#include <kvstack/backend/redis.hpp>
#include <kvstack/backend/sqlite.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/registry/namespaced_registry.hpp>

#include "backend/test_servers.hpp"
#include "seed_nodes.hpp"

namespace {
namespace kv = kvstack;
namespace fs = std::filesystem;

using namespace seed_nodes;

std::vector<std::pair<NodeKey, NodeInfo>> all_nodes() {
  std::vector<std::pair<NodeKey, NodeInfo>> all;
  for (std::uint32_t i = 0; i < node_count; ++i) all.emplace_back(key_of(i), node_of(i));
  return all;
}
fs::path scratch() {
  static const fs::path p = [] {
    fs::path dir = fs::temp_directory_path() / ("kvstack-sqlbench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
  }();
  return p;
}
// The servers, started once and stopped at exit.
const std::string& postgres() {
  static kvstack::test::TestServer server("postgres");
  return server.address();
}
const std::string& redis() {
  static kvstack::test::TestServer server("redis");
  return server.address();
}

// Records each iteration's time; reports p99 in microseconds.
struct Latencies {
  std::vector<double> us;
  template <class F>
  void time(F&& f) {
    auto start = std::chrono::steady_clock::now();
    f();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  void report(benchmark::State& state) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    state.counters["p99_us"] = us[us.size() * 99 / 100];
  }
};

// ---- kvstack: a registry of 100,000 nodes on each engine ----

template <class B>
struct Kvstack {
  B db;
  kv::NamespacedRegistry<B, NodeInfo, NodeKey> nodes{db, "node"};
  explicit Kvstack(B opened) : db(std::move(opened)) { nodes.put_all(all_nodes()).value(); }
};
Kvstack<kv::SqliteBackend>& kv_sqlite() {
  static Kvstack<kv::SqliteBackend> s(kv::SqliteBackend::open(scratch() / "kv-sqlite", {.sync = kv::SqliteOptions::Sync::normal}).value());
  return s;
}
Kvstack<kv::PostgresBackend>& kv_postgres() {
  static Kvstack<kv::PostgresBackend> s(kv::PostgresBackend::open(postgres(), {.table = "kv_nodes"}).value());
  return s;
}
Kvstack<kv::RedisBackend>& kv_redis() {
  static Kvstack<kv::RedisBackend> s(kv::RedisBackend::open(redis(), {.name = "kv_nodes"}).value());
  return s;
}

// ---- by hand: the same rows, each library's plain API ----

struct RawSqlite {
  sqlite3* db = nullptr;
  sqlite3_stmt *get, *put, *scan, *count, *begin, *commit;
  RawSqlite() {
    sqlite3_open((scratch() / "raw.sqlite").c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID", nullptr, nullptr, nullptr);
    auto prep = [&](const char* sql) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr)) std::abort();
      return s;
    };
    get = prep("SELECT value FROM t WHERE key = ?");
    put = prep("INSERT OR REPLACE INTO t VALUES (?, ?)");
    scan = prep("SELECT key, value FROM t WHERE key >= ? AND key < ? ORDER BY key");
    count = prep("SELECT count(*) FROM t WHERE key >= ? AND key < ?");
    begin = prep("BEGIN IMMEDIATE");
    commit = prep("COMMIT");
    write(all_nodes());
  }
  void step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) std::abort();
    sqlite3_reset(s);
  }
  void upsert(const NodeKey& k, const NodeInfo& v) {
    const std::string key = storage_key(k), value = encoded(v);
    sqlite3_bind_blob(put, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    step(put);
  }
  void write(const std::vector<std::pair<NodeKey, NodeInfo>>& batch) {
    step(begin);
    for (auto& [k, v] : batch) upsert(k, v);
    step(commit);
  }
};
RawSqlite& raw_sqlite() {
  static RawSqlite s;
  return s;
}

struct RawPostgres {
  PGconn* pg;
  RawPostgres() : pg(PQconnectdb(postgres().c_str())) {
    exec("CREATE TABLE raw_nodes (key bytea PRIMARY KEY, value bytea NOT NULL)");
    prepare("get", "SELECT value FROM raw_nodes WHERE key = $1", 1);
    prepare("put", "INSERT INTO raw_nodes VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", 2);
    prepare("scan", "SELECT key, value FROM raw_nodes WHERE key >= $1 AND key < $2 ORDER BY key", 2);
    prepare("count", "SELECT count(*) FROM raw_nodes WHERE key >= $1 AND key < $2", 2);
    auto all = all_nodes();
    for (std::size_t i = 0; i < all.size(); i += 1000)
      write(std::vector<std::pair<NodeKey, NodeInfo>>(all.begin() + static_cast<long>(i), all.begin() + static_cast<long>(i + 1000)));
  }
  void exec(const char* sql) {
    PGresult* r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) std::abort();
    PQclear(r);
  }
  void prepare(const char* name, const char* sql, int n) {
    const Oid types[] = {17, 17};
    PQclear(PQprepare(pg, name, sql, n, types));
  }
  PGresult* run(const char* name, std::initializer_list<std::string_view> params) {
    const char* values[2];
    int lengths[2], formats[2] = {1, 1}, i = 0;
    for (auto p : params) values[i] = p.data(), lengths[i] = static_cast<int>(p.size()), ++i;
    return PQexecPrepared(pg, name, i, values, lengths, formats, 1);
  }
  // A transaction of upserts, sent as one pipeline: one round trip for the whole batch.
  void write(const std::vector<std::pair<NodeKey, NodeInfo>>& batch) {
    PQenterPipelineMode(pg);
    PQsendQueryParams(pg, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0);
    std::vector<std::string> keep;
    keep.reserve(batch.size() * 2);
    for (auto& [k, v] : batch) {
      const std::string& key = keep.emplace_back(storage_key(k));
      const std::string& value = keep.emplace_back(encoded(v));
      const char* values[] = {key.data(), value.data()};
      const int lengths[] = {static_cast<int>(key.size()), static_cast<int>(value.size())}, formats[] = {1, 1};
      PQsendQueryPrepared(pg, "put", 2, values, lengths, formats, 1);
    }
    PQsendQueryParams(pg, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0);
    PQpipelineSync(pg);
    for (std::size_t i = 0; i < batch.size() + 2; ++i) {
      PGresult* r = PQgetResult(pg);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) std::abort();
      PQclear(r);
      PQclear(PQgetResult(pg));  // the NULL that ends each query's results
    }
    PGresult* sync = PQgetResult(pg);
    if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) std::abort();
    PQclear(sync);
    PQexitPipelineMode(pg);
  }
};
RawPostgres& raw_postgres() {
  static RawPostgres s;
  return s;
}

// Hand-written Redis: the same layout (a string per value, a sorted set of the keys).
struct RawRedis {
  redisContext* c;
  RawRedis() : c(redisConnectUnix(redis().substr(7).c_str())) {
    auto all = all_nodes();
    for (std::size_t i = 0; i < all.size(); i += 1000)
      write(std::vector<std::pair<NodeKey, NodeInfo>>(all.begin() + static_cast<long>(i), all.begin() + static_cast<long>(i + 1000)));
  }
  redisReply* command(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (auto a : args) argv.push_back(a.data()), lengths.push_back(a.size());
    return static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  }
  void write(const std::vector<std::pair<NodeKey, NodeInfo>>& batch) {
    std::vector<std::string> keys, values;
    std::vector<const char*> mset{"MSET"}, zadd{"ZADD", "{raw}:i"};
    std::vector<std::size_t> mset_len{4}, zadd_len{4, 7};
    for (auto& [k, v] : batch) keys.push_back(storage_key(k)), values.push_back(encoded(v));
    std::vector<std::string> names;
    for (auto& k : keys) names.push_back("{raw}:v:" + k);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      mset.push_back(names[i].data()), mset_len.push_back(names[i].size());
      mset.push_back(values[i].data()), mset_len.push_back(values[i].size());
      zadd.push_back("0"), zadd_len.push_back(1);
      zadd.push_back(keys[i].data()), zadd_len.push_back(keys[i].size());
    }
    redisAppendCommand(c, "MULTI");
    redisAppendCommandArgv(c, static_cast<int>(mset.size()), mset.data(), mset_len.data());
    redisAppendCommandArgv(c, static_cast<int>(zadd.size()), zadd.data(), zadd_len.data());
    redisAppendCommand(c, "EXEC");
    for (int i = 0; i < 4; ++i) {
      void* r = nullptr;
      if (redisGetReply(c, &r) != REDIS_OK) std::abort();
      freeReplyObject(r);
    }
  }
};
RawRedis& raw_redis() {
  static RawRedis s;
  return s;
}

// ---- get ----

template <class S>
void Get_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  Latencies lat;
  for (auto _ : state) lat.time([&] { benchmark::DoNotOptimize(s.nodes.get(key_of(next_index(x))).value()); });
  lat.report(state);
}
void Get_RawSqlite(benchmark::State& state) {
  auto& s = raw_sqlite();
  std::uint64_t x = 1;
  Latencies lat;
  for (auto _ : state)
    lat.time([&] {
      const std::string k = storage_key(key_of(next_index(x)));
      sqlite3_bind_blob(s.get, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      std::optional<NodeInfo> r;
      if (sqlite3_step(s.get) == SQLITE_ROW)
        r = decode({static_cast<const char*>(sqlite3_column_blob(s.get, 0)), static_cast<std::size_t>(sqlite3_column_bytes(s.get, 0))});
      sqlite3_reset(s.get);
      benchmark::DoNotOptimize(r);
    });
  lat.report(state);
}
void Get_RawPostgres(benchmark::State& state) {
  auto& s = raw_postgres();
  std::uint64_t x = 1;
  Latencies lat;
  for (auto _ : state)
    lat.time([&] {
      const std::string k = storage_key(key_of(next_index(x)));
      PGresult* r = s.run("get", {k});
      std::optional<NodeInfo> v;
      if (PQntuples(r) == 1) v = decode({PQgetvalue(r, 0, 0), static_cast<std::size_t>(PQgetlength(r, 0, 0))});
      PQclear(r);
      benchmark::DoNotOptimize(v);
    });
  lat.report(state);
}
void Get_RawRedis(benchmark::State& state) {
  auto& s = raw_redis();
  std::uint64_t x = 1;
  Latencies lat;
  for (auto _ : state)
    lat.time([&] {
      redisReply* r = s.command({"GET", "{raw}:v:" + storage_key(key_of(next_index(x)))});
      std::optional<NodeInfo> v;
      if (r->type == REDIS_REPLY_STRING) v = decode({r->str, r->len});
      freeReplyObject(r);
      benchmark::DoNotOptimize(v);
    });
  lat.report(state);
}

// ---- put (overwrite) ----

template <class S>
void Put_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    s.nodes.put(key_of(i), node_of(i)).value();
  }
}
void Put_RawSqlite(benchmark::State& state) {
  auto& s = raw_sqlite();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    s.upsert(key_of(i), node_of(i));
  }
}
void Put_RawPostgres(benchmark::State& state) {
  auto& s = raw_postgres();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    const std::string k = storage_key(key_of(i)), v = encoded(node_of(i));
    PQclear(s.run("put", {k, v}));
  }
}
void Put_RawRedis(benchmark::State& state) {
  auto& s = raw_redis();
  std::uint64_t x = 1;
  for (auto _ : state) {
    std::uint32_t i = next_index(x);
    s.write({{key_of(i), node_of(i)}});
  }
}

// ---- batch put of 1,000 ----

std::vector<std::pair<NodeKey, NodeInfo>> next_batch(std::uint64_t& x) {
  std::vector<std::pair<NodeKey, NodeInfo>> batch;
  std::map<NodeKey, bool> seen;  // each key once, as a hand-written batch would be
  while (batch.size() < 1000) {
    std::uint32_t i = next_index(x);
    if (seen.emplace(key_of(i), true).second) batch.emplace_back(key_of(i), node_of(i));
  }
  return batch;
}
template <class S>
void Batch1000_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = next_batch(x);
    state.ResumeTiming();
    s.nodes.put_all(batch).value();
  }
}
template <class Raw>
void Batch1000_Raw(benchmark::State& state, Raw& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = next_batch(x);
    state.ResumeTiming();
    s.write(batch);
  }
}

// ---- prefix scan of 100 keys, decoding each value ----

template <class S>
void Scan100_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  std::uint64_t x = 1;
  for (auto _ : state) {
    const std::uint32_t group = next_index(x) / per_group;
    std::size_t n = 0;
    auto list = s.nodes.list({.from = NodeKey{group, 0}, .to = NodeKey{group + 1, 0}});
    for (auto&& [key, value] : list) n += value.port != 0;
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_RawSqlite(benchmark::State& state) {
  auto& s = raw_sqlite();
  std::uint64_t x = 1;
  for (auto _ : state) {
    const std::uint32_t group = next_index(x) / per_group;
    const std::string lo = group_prefix(group), hi = group_prefix(group + 1);
    sqlite3_bind_blob(s.scan, 1, lo.data(), static_cast<int>(lo.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s.scan, 2, hi.data(), static_cast<int>(hi.size()), SQLITE_STATIC);
    std::size_t n = 0;
    while (sqlite3_step(s.scan) == SQLITE_ROW)
      n += decode({static_cast<const char*>(sqlite3_column_blob(s.scan, 1)), static_cast<std::size_t>(sqlite3_column_bytes(s.scan, 1))})
               .port != 0;
    sqlite3_reset(s.scan);
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_RawPostgres(benchmark::State& state) {
  auto& s = raw_postgres();
  std::uint64_t x = 1;
  for (auto _ : state) {
    const std::uint32_t group = next_index(x) / per_group;
    const std::string lo = group_prefix(group), hi = group_prefix(group + 1);
    PGresult* r = s.run("scan", {lo, hi});
    std::size_t n = 0;
    for (int i = 0; i < PQntuples(r); ++i) n += decode({PQgetvalue(r, i, 1), static_cast<std::size_t>(PQgetlength(r, i, 1))}).port != 0;
    PQclear(r);
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}
void Scan100_RawRedis(benchmark::State& state) {
  auto& s = raw_redis();
  std::uint64_t x = 1;
  for (auto _ : state) {
    const std::uint32_t group = next_index(x) / per_group;
    redisReply* keys = s.command({"ZRANGEBYLEX", "{raw}:i", "[" + group_prefix(group), "(" + group_prefix(group + 1)});
    std::vector<std::string> names;
    for (std::size_t i = 0; i < keys->elements; ++i) names.push_back("{raw}:v:" + std::string(keys->element[i]->str, keys->element[i]->len));
    std::vector<const char*> argv{"MGET"};
    std::vector<std::size_t> lengths{4};
    for (auto& n : names) argv.push_back(n.data()), lengths.push_back(n.size());
    auto* values = static_cast<redisReply*>(redisCommandArgv(s.c, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    std::size_t n = 0;
    for (std::size_t i = 0; i < values->elements; ++i) n += decode({values->element[i]->str, values->element[i]->len}).port != 0;
    freeReplyObject(values);
    freeReplyObject(keys);
    if (n != per_group) state.SkipWithError("scan did not see 100 keys");
  }
}

// ---- count of the 100,000 keys ----

template <class S>
void Count100K_Kvstack(benchmark::State& state, S& (*store)()) {
  auto& s = store();
  for (auto _ : state)
    if (s.nodes.count().value() != node_count) state.SkipWithError("wrong count");
}
void Count100K_RawSqlite(benchmark::State& state) {
  auto& s = raw_sqlite();
  const std::string lo = ns(), hi = *kv::KeyRange::prefix_successor(lo);
  for (auto _ : state) {
    sqlite3_bind_blob(s.count, 1, lo.data(), static_cast<int>(lo.size()), SQLITE_STATIC);
    sqlite3_bind_blob(s.count, 2, hi.data(), static_cast<int>(hi.size()), SQLITE_STATIC);
    sqlite3_step(s.count);
    if (sqlite3_column_int64(s.count, 0) != node_count) state.SkipWithError("wrong count");
    sqlite3_reset(s.count);
  }
}
void Count100K_RawPostgres(benchmark::State& state) {
  auto& s = raw_postgres();
  const std::string lo = ns(), hi = *kv::KeyRange::prefix_successor(lo);
  for (auto _ : state) {
    PGresult* r = s.run("count", {lo, hi});
    if (PQntuples(r) != 1) state.SkipWithError("no count");
    PQclear(r);
  }
}
void Count100K_RawRedis(benchmark::State& state) {
  auto& s = raw_redis();
  const std::string lo = ns(), hi = *kv::KeyRange::prefix_successor(lo);
  for (auto _ : state) {
    redisReply* r = s.command({"ZLEXCOUNT", "{raw}:i", "[" + lo, "(" + hi});
    if (r->integer != node_count) state.SkipWithError("wrong count");
    freeReplyObject(r);
  }
}

// ---- removing 1,000 expired keys among 10,000 live ones ----

// kvstack: Ttl over the engine; the keys are written with a time to live, the clock moves past it,
// purge_expired removes them.
template <class B>
void Expire1000_Kvstack(benchmark::State& state, B (*open)()) {
  kv::ManualClock clock;
  kv::Ttl<B, kv::ManualClock> db(open(), clock);
  db.transact([&](auto& tx) -> kv::Result<void> {
      for (int i = 0; i < 10000; ++i) tx.put("live" + std::to_string(i), "v").value();
      return kv::success();
    }).value();
  for (auto _ : state) {
    state.PauseTiming();
    db.transact([&](auto& tx) -> kv::Result<void> {
        for (int i = 0; i < 1000; ++i) tx.put("session" + std::to_string(i), "v", std::chrono::seconds(1)).value();
        return kv::success();
      }).value();
    clock.advance(std::chrono::seconds(2));
    state.ResumeTiming();
    if (db.purge_expired().value() != 1000) state.SkipWithError("did not remove 1000 keys");
  }
}
kv::SqliteBackend open_sqlite_ttl() {
  fs::remove_all(scratch() / "kv-sqlite-ttl");  // a fresh store each run, as the hand-written side has
  return kv::SqliteBackend::open(scratch() / "kv-sqlite-ttl", {.sync = kv::SqliteOptions::Sync::normal}).value();
}
kv::PostgresBackend open_postgres_ttl() {
  raw_postgres().exec("DROP TABLE IF EXISTS kv_ttl");  // a fresh table each run, as the hand-written side has
  return kv::PostgresBackend::open(postgres(), {.table = "kv_ttl"}).value();
}

// By hand: a table with an indexed expiry column, and one DELETE.
void Expire1000_RawSqlite(benchmark::State& state) {
  sqlite3* db = nullptr;
  sqlite3_open((scratch() / "raw-ttl.sqlite").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; DROP TABLE IF EXISTS s; CREATE TABLE s (key BLOB PRIMARY KEY, value BLOB, expires INTEGER) WITHOUT ROWID; CREATE INDEX s_expires ON s (expires) WHERE expires IS NOT NULL", nullptr, nullptr, nullptr);
  sqlite3_stmt *put = nullptr, *purge = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO s VALUES (?, 'v', ?)", -1, &put, nullptr);
  sqlite3_prepare_v2(db, "DELETE FROM s WHERE expires <= ?", -1, &purge, nullptr);
  auto insert = [&](const std::string& prefix, int n, sqlite3_int64 expires) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < n; ++i) {
      const std::string k = prefix + std::to_string(i);
      sqlite3_bind_blob(put, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      if (expires) sqlite3_bind_int64(put, 2, expires);
      else sqlite3_bind_null(put, 2);
      sqlite3_step(put);
      sqlite3_reset(put);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  };
  insert("live", 10000, 0);
  sqlite3_int64 now = 1000;
  for (auto _ : state) {
    state.PauseTiming();
    insert("session", 1000, now + 1000);
    now += 2000;
    state.ResumeTiming();
    sqlite3_bind_int64(purge, 1, now);
    sqlite3_step(purge);
    sqlite3_reset(purge);
    if (sqlite3_changes(db) != 1000) state.SkipWithError("did not remove 1000 keys");
  }
  sqlite3_finalize(put);
  sqlite3_finalize(purge);
  sqlite3_close(db);
}
void Expire1000_RawPostgres(benchmark::State& state) {
  auto& s = raw_postgres();
  s.exec("DROP TABLE IF EXISTS raw_ttl");  // the benchmark runs this function more than once
  s.exec("CREATE TABLE raw_ttl (key bytea PRIMARY KEY, value bytea, expires bigint)");
  s.exec("CREATE INDEX raw_ttl_expires ON raw_ttl (expires) WHERE expires IS NOT NULL");
  s.exec("INSERT INTO raw_ttl SELECT ('live' || i)::bytea, 'v', NULL FROM generate_series(0, 9999) i");
  long now = 1000;
  for (auto _ : state) {
    state.PauseTiming();
    s.exec(("INSERT INTO raw_ttl SELECT ('session' || i)::bytea, 'v', " + std::to_string(now + 1000) +
            " FROM generate_series(0, 999) i").c_str());
    now += 2000;
    state.ResumeTiming();
    PGresult* r = PQexec(s.pg, ("DELETE FROM raw_ttl WHERE expires <= " + std::to_string(now)).c_str());
    if (std::string_view(PQcmdTuples(r)) != "1000") state.SkipWithError("did not remove 1000 keys");
    PQclear(r);
  }
}

}  // namespace

#define PAIR(Op, Engine, kv_store)                                       \
  BENCHMARK_CAPTURE(Op##_Kvstack, Engine, kv_store)->Name(#Op "/" #Engine "/kvstack"); \
  BENCHMARK(Op##_Raw##Engine)->Name(#Op "/" #Engine "/raw")

PAIR(Get, Sqlite, kv_sqlite);
PAIR(Get, Postgres, kv_postgres);
PAIR(Get, Redis, kv_redis);
PAIR(Put, Sqlite, kv_sqlite);
PAIR(Put, Postgres, kv_postgres);
PAIR(Put, Redis, kv_redis);
BENCHMARK_CAPTURE(Batch1000_Kvstack, Sqlite, kv_sqlite)->Name("Batch1000/Sqlite/kvstack");
BENCHMARK_CAPTURE(Batch1000_Raw, Sqlite, raw_sqlite)->Name("Batch1000/Sqlite/raw");
BENCHMARK_CAPTURE(Batch1000_Kvstack, Postgres, kv_postgres)->Name("Batch1000/Postgres/kvstack");
BENCHMARK_CAPTURE(Batch1000_Raw, Postgres, raw_postgres)->Name("Batch1000/Postgres/raw");
BENCHMARK_CAPTURE(Batch1000_Kvstack, Redis, kv_redis)->Name("Batch1000/Redis/kvstack");
BENCHMARK_CAPTURE(Batch1000_Raw, Redis, raw_redis)->Name("Batch1000/Redis/raw");
PAIR(Scan100, Sqlite, kv_sqlite);
PAIR(Scan100, Postgres, kv_postgres);
PAIR(Scan100, Redis, kv_redis);
PAIR(Count100K, Sqlite, kv_sqlite);
PAIR(Count100K, Postgres, kv_postgres);
PAIR(Count100K, Redis, kv_redis);
BENCHMARK_CAPTURE(Expire1000_Kvstack, Sqlite, open_sqlite_ttl)->Name("Expire1000/Sqlite/kvstack");
BENCHMARK(Expire1000_RawSqlite)->Name("Expire1000/Sqlite/raw");
BENCHMARK_CAPTURE(Expire1000_Kvstack, Postgres, open_postgres_ttl)->Name("Expire1000/Postgres/kvstack");
BENCHMARK(Expire1000_RawPostgres)->Name("Expire1000/Postgres/raw");

BENCHMARK_MAIN();
