// The program every packaging test builds: kvstack as a user gets it, through one of the five
// ways of consuming it. Stores a reflected struct in memory and, when the engine is in, in LMDB,
// RocksDB and SQLite (in the directory given as the first argument, and the same with "-rocksdb"
// and "-sqlite"; PostgreSQL and Redis are only asked to connect where no server is); prints
// the version it was built against and the engines it compiled in.
#include <cstdint>
#include <iostream>
#include <string>

#include <kvstack/kvstack.hpp>
#include <kvstack/backend/backend.hpp>  // the engines compiled in, AnyBackend

namespace kv = kvstack;

struct Point {
  std::int64_t x = 0;
  std::int64_t y = 0;
  std::string label;
};

template <class Backend>
bool round_trip(Backend& db) {
  kv::NamespacedRegistry<Backend, Point> points{db, "point"};
  points.put("p", Point{3, -4, "here"}).value();
  auto got = points.get("p").value();
  return got && got->x == 3 && got->y == -4 && got->label == "here";
}

int main(int argc, char** argv) {
  static_assert(KVSTACK_VERSION == KVSTACK_VERSION_MAJOR * 10000 + KVSTACK_VERSION_MINOR * 100 + KVSTACK_VERSION_PATCH);
  kv::MemoryBackend memory;
  bool ok = round_trip(memory);
#if KVSTACK_WITH_LMDB
  if (argc > 1) {
    auto lmdb = kv::LmdbBackend::open(argv[1]).value();
    ok = ok && round_trip(lmdb);
  }
#endif
#if KVSTACK_WITH_ROCKSDB
  if (argc > 1) {
    auto rocksdb = kv::RocksDbBackend::open(std::string(argv[1]) + "-rocksdb").value();
    ok = ok && round_trip(rocksdb);
  }
#endif
#if KVSTACK_WITH_SQLITE
  if (argc > 1) {
    auto sqlite = kv::SqliteBackend::open(std::string(argv[1]) + "-sqlite").value();
    ok = ok && round_trip(sqlite);
  }
#endif
#if KVSTACK_WITH_POSTGRES
  ok = ok && !kv::PostgresBackend::open("host=/nonexistent/kvstack connect_timeout=1");  // no server: linked, not used
#endif
#if KVSTACK_WITH_REDIS
  ok = ok && !kv::RedisBackend::open("unix:///nonexistent/kvstack.sock");
#endif
  std::cout << "kvstack " << kv::version << (ok ? " ok" : " FAILED") << " (lmdb " << KVSTACK_WITH_LMDB
            << ", rocksdb " << KVSTACK_WITH_ROCKSDB << ", sqlite " << KVSTACK_WITH_SQLITE << ", postgres " << KVSTACK_WITH_POSTGRES << ", redis " << KVSTACK_WITH_REDIS << ", args " << argc - 1 << ")\n";
  return ok ? 0 : 1;
}
