// Config and open: choosing an engine at run time, and every way of asking for one wrongly.
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>

#include <kvstack/backend/config.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;

namespace {
// Sets KV_* for one test and clears them afterwards.
struct Env {
  Env(const char* backend, const char* path, const char* params) {
    set("KV_BACKEND", backend);
    set("KV_PATH", path);
    set("KV_PARAMS", params);
  }
  ~Env() {
    ::unsetenv("KV_BACKEND");
    ::unsetenv("KV_PATH");
    ::unsetenv("KV_PARAMS");
  }
  static void set(const char* name, const char* value) {
    if (value) ::setenv(name, value, 1); else ::unsetenv(name);
  }
};
}  // namespace

TEST_CASE("KV_PARAMS parsing", "[config]") {
  auto p = Config::parse_params("cache=64MiB,opt=a=b,  spaced =  both sides  ").value();
  CHECK(p.size() == 3);
  CHECK(p.at("cache") == "64MiB");
  CHECK(p.at("opt") == "a=b");
  CHECK(p.at("spaced") == "both sides");  // names and values trimmed
  CHECK(Config::parse_params("").value().empty());
  for (const char* bad : {"noequals", "=value", " =value", "a=1,,b=2", "a=1,a=2", "a=1, a =2"}) {
    INFO(bad);
    auto r = Config::parse_params(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("KV_PARAMS"));
  }
}

TEST_CASE("Config::from_env and open", "[config]") {
  {
    Env env(nullptr, nullptr, nullptr);
    auto c = Config::from_env().value();
    CHECK(c.backend.empty());  // neither KV_BACKEND nor KV_PATH: memory
    auto db = open(c).value();
    CHECK(db.get_if<MemoryBackend>() != nullptr);
    db.put("k", "v").value();
    CHECK(db.get("k").value() == "v");
  }
  {
    Env env("memory", nullptr, "x=1");
    auto r = open(Config::from_env().value());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("unknown parameter 'x' (its parameters: none)"));
  }
  {
    Env env("memory", "/tmp/kvstack-never-created", nullptr);  // memory keeps nothing there: say so
    auto r = open(Config::from_env().value());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("backend 'memory' keeps nothing on disk"));
    CHECK_FALSE(std::filesystem::exists("/tmp/kvstack-never-created"));
  }
  {
    Env env("sled", "/tmp/x", nullptr);
    auto r = open(Config::from_env().value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("unknown backend 'sled'"));
  }
  {
    Env env("memory", nullptr, "broken");
    CHECK(Config::from_env().error() == errc::invalid_argument);
  }
}

TEST_CASE("sizes take K, KB and KiB alike (powers of 1024)", "[config]") {
  for (const char* text : {"256M", "256m", "256MB", "256mb", "256MiB", "256mib", "268435456"}) {
    INFO(text);
    std::uint64_t n = 0;
    CHECK(detail::parse_param(text, n));
    CHECK(n == 256ull << 20);
  }
  for (const char* text : {"256MBB", "256Mi", "256X", "M", "", "1.5G", "99999999T"}) {
    INFO(text);
    std::uint64_t n = 0;
    CHECK_FALSE(detail::parse_param(text, n));
  }
}

#if KVSTACK_WITH_LMDB && KVSTACK_WITH_ROCKSDB  // (tests/backend/config_no_engines_test.cpp: neither)
// Opens `backend` at a fresh path with KV_PARAMS `params` through the environment.
static Result<AnyBackend> open_from_env(const char* backend, const char* params, const TempDir& dir) {
  Env env(backend, (dir / "db").c_str(), params);
  return open(Config::from_env().value());
}

TEST_CASE("open(Config) opens each engine compiled in, with its parameters", "[config]") {
  TempDir dir;
  {
    auto db = open_from_env("lmdb", "max_map_size=64M,sync=false,max_readers=200", dir).value();
    CHECK(db.get_if<LmdbBackend>() != nullptr);
    db.put("k", "lmdb").value();
  }
  CHECK(open_from_env("lmdb", nullptr, dir).value().get("k").value() == "lmdb");  // persisted
  std::filesystem::remove_all(dir / "db");
  {
    auto db = open_from_env(
        "rocksdb", "compression=zstd,block_cache_size=8M,bloom_bits_per_key=0,write_buffer_size=1M,max_open_files=-1,sync=off",
        dir).value();
    CHECK(db.get_if<RocksDbBackend>() != nullptr);
    db.put("k", "rocksdb").value();
  }
  CHECK(open_from_env("rocksdb", nullptr, dir).value().get("k").value() == "rocksdb");
}

TEST_CASE("open(Config) names what is wrong", "[config]") {
  TempDir dir;
  struct Case {
    const char* backend;
    const char* params;
    bool with_path;
    const char* message;
  };
  const Case cases[] = {
      {"lmdb", nullptr, false, "'lmdb' needs a path"},
      {"rocksdb", nullptr, false, "'rocksdb' needs a path"},
      {"lmdb", "cache=1", true, "lmdb backend: unknown parameter 'cache' (its parameters: max_map_size, sync, max_readers)"},
      {"rocksdb", "map_size=1", true,
       "rocksdb backend: unknown parameter 'map_size' (its parameters: compression, block_cache_size, bloom_bits_per_key, "
       "write_buffer_size, max_open_files, sync)"},
      {"lmdb", "max_map_size=lots", true, "malformed value 'lots' for 'max_map_size' (want a whole number, optionally with a unit"},
      {"rocksdb", "compression=lz5", true, "malformed value 'lz5' for 'compression' (want none, snappy, lz4 or zstd)"},
      {"lmdb", "max_map_size=99999999T", true, "malformed value '99999999T' for 'max_map_size'"},
      {"lmdb", "sync=maybe", true, "malformed value 'maybe' for 'sync' (want true or false"},
      {"rocksdb", "compression=gzip", true, "malformed value 'gzip' for 'compression'"},
      {"rocksdb", "max_open_files=-", true, "malformed value '-' for 'max_open_files'"},
      {"rocksdb", "bloom_bits_per_key=10x", true, "malformed value '10x' for 'bloom_bits_per_key'"},
  };
  for (const Case& c : cases) {
    INFO(c.backend << " " << (c.params ? c.params : ""));
    Env env(c.backend, c.with_path ? (dir / "db").c_str() : nullptr, c.params);
    auto r = open(Config::from_env().value());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains(c.message));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "db"));  // nothing was created by a refused open
}

TEST_CASE("a path alone opens LMDB, and a missing parent directory is an error, not a new tree", "[config]") {
  TempDir dir;
  {
    Env env(nullptr, (dir / "db").c_str(), " max_map_size = 64MiB ");
    auto db = open(Config::from_env().value()).value();
    CHECK(db.get_if<LmdbBackend>() != nullptr);
  }
  for (const char* engine : {"lmdb", "rocksdb"}) {
    INFO(engine);
    Env env(engine, (dir / "typo" / "db").c_str(), nullptr);
    auto r = open(Config::from_env().value());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("the directory " + (dir / "typo").string() + " does not exist"));
    CHECK_FALSE(std::filesystem::exists(dir / "typo"));
  }
}
#endif
