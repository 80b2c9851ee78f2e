// migrate: copies every key of a store into another, between any two engines, with a progress
// line. A "memory" store is a MemoryBackend checkpoint directory (read with load, written with
// checkpoint); "lmdb", "rocksdb" and "sqlite" are store directories, "postgres" a libpq connection
// string, "redis" a URL. KV_PARAMS applies to both ends.
//
//   migrate lmdb ./kvstack-data rocksdb ./kvstack-rocks
//   migrate lmdb ./kvstack-data postgres "host=db.internal dbname=app"
#include <cstdio>
#include <iostream>
#include <string>

#include <kvstack/kvstack.hpp>
#include <kvstack/backend/config.hpp>

namespace kv = kvstack;

namespace {
kv::Result<kv::AnyBackend> open_store(const std::string& engine, const char* path, bool source) {
  if (engine == "memory") {
    if (!source) return kv::AnyBackend(kv::MemoryBackend{});  // written out by checkpoint() at the end
    auto loaded = kv::MemoryBackend::load(path);
    if (!loaded) return loaded.error();
    return kv::AnyBackend(std::move(loaded).value());
  }
  auto config = kv::Config::from_env();
  if (!config) return config.error();
  config.value().backend = engine;
  config.value().path = path;
  return kv::open(config.value());
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: migrate FROM_ENGINE FROM_PATH TO_ENGINE TO_PATH   (engines: memory, lmdb, rocksdb, sqlite, postgres, redis)\n";
    return 2;
  }
  const std::string to_engine = argv[3];
  auto src = open_store(argv[1], argv[2], true);
  if (!src) {
    std::cerr << "migrate: source: " << src.error().message() << "\n";
    return 1;
  }
  auto dst = open_store(to_engine, argv[4], false);
  if (!dst) {
    std::cerr << "migrate: destination: " << dst.error().message() << "\n";
    return 1;
  }
  auto copied = kv::copy_all(src.value(), dst.value(), [](kv::CopyProgress p) {
    std::fprintf(stderr, "\rcopied %zu keys, %.1f MiB", p.keys, static_cast<double>(p.bytes) / (1 << 20));
  });
  std::fputc('\n', stderr);
  if (!copied) {
    std::cerr << "migrate: " << copied.error().message() << "\n";
    return 1;
  }
  if (to_engine == "memory") {
    if (auto written = dst.value().checkpoint(argv[4]); !written) {
      std::cerr << "migrate: " << written.error().message() << "\n";
      return 1;
    }
  }
  std::cout << "copied " << copied.value() << " keys from " << argv[1] << " " << argv[2] << " to " << to_engine
            << " " << argv[4] << "\n";
}
