// What the claim benchmarks (dispatch, memory, scaling, replication) share: 12-byte keys in which
// every 100 consecutive keys share a 10-byte prefix, 100-byte values, a cheap random index, the
// number of keys (KVSTACK_BENCH_KEYS), the heap in use, a scratch directory per program, stores
// made once and closed before main returns, and the engines opened as kvstack opens them, without
// fsync (so that the code is measured, not the disk).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/memory.hpp>
#include <kvstack/backend/rocksdb.hpp>

namespace claims {
namespace fs = std::filesystem;

inline std::string key_of(std::int64_t i) { return "key/" + std::to_string(10'000'000 + i); }
/// The prefix the 100 keys around key `i` share.
inline std::string prefix_of(std::int64_t i) { return key_of(i / 100 * 100).substr(0, 10); }
inline const std::string value(100, 'v');

/// The next pseudo-random index in [0, n).
inline std::int64_t next_index(std::uint64_t& x, std::int64_t n) {
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::int64_t>((x >> 33) % static_cast<std::uint64_t>(n));
}

/// How many keys a store holds: KVSTACK_BENCH_KEYS, 100,000 by default.
inline std::int64_t key_count() {
  static const std::int64_t n = [] {
    const char* v = std::getenv("KVSTACK_BENCH_KEYS");
    return v ? std::max(100l, std::atol(v)) : 100'000l;
  }();
  return n;
}

/// What closes every store kept(), run by close_all().
inline std::vector<std::function<void()>>& closers() {
  static std::vector<std::function<void()>> all;
  return all;
}
/// The store `make()` returns (a unique_ptr), made once, by whichever thread comes first.
template <class Make>
auto& kept(Make make) {
  static std::invoke_result_t<Make> s;
  static std::once_flag made;
  std::call_once(made, [&] {
    s = make();
    closers().push_back([] { s.reset(); });
  });
  return *s;
}
/// Closes the stores, newest first, before main returns: RocksDB must not be closed after its
/// own statics go, and a store may use one made before it.
inline void close_all() {
  for (auto it = closers().rbegin(); it != closers().rend(); ++it) (*it)();
  closers().clear();
}

/// Bytes malloc has handed out: small blocks, and the large ones it maps on their own.
inline std::size_t heap_in_use() {
  auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

/// This process's scratch directory for `program`; remove it at the end.
inline fs::path scratch(const std::string& program) {
  return fs::temp_directory_path() / ("kvstack-" + program + "-" + std::to_string(::getpid()));
}
/// An empty directory `name` under `scratch(program)`.
inline fs::path fresh_dir(const std::string& program, const std::string& name) {
  fs::path p = scratch(program) / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

/// The main of a claim benchmark that keeps its stores with kept(): runs the benchmarks, closes
/// the stores and removes `program`'s scratch directory.
inline int run_main(int argc, char** argv, const std::string& program) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  close_all();
  fs::remove_all(scratch(program));
  return 0;
}

struct Memory {
  using B = kvstack::MemoryBackend;
  static B open(const fs::path&) { return {}; }
};
struct Lmdb {
  using B = kvstack::LmdbBackend;
  static B open(const fs::path& dir) { return B::open(dir, {.sync = false}).value(); }
};
struct RocksDb {
  using B = kvstack::RocksDbBackend;
  static B open(const fs::path& dir) { return B::open(dir, {.sync = false}).value(); }
};

/// The engine `E` in an empty directory of `program`'s scratch directory, named after `name`.
template <class E>
typename E::B open(const std::string& program, const std::string& name) {
  return E::open(fresh_dir(program, std::string(typeid(E).name()) + "-" + name));
}

}  // namespace claims
