// RocksDbBackend beyond the laws: its options, views that outlive flushes, another process
// holding the directory, and damaged table files.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvstack/backend/rocksdb.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

TEST_CASE("RocksDB: every compression and option set reads back what it wrote", "[rocksdb]") {
  using C = RocksDbOptions::Compression;
  for (C compression : {C::none, C::snappy, C::lz4, C::zstd}) {
    INFO("compression " << static_cast<int>(compression));
    TempDir dir;
    const RocksDbOptions options{.compression = compression, .block_cache_size = 1 << 20, .bloom_bits_per_key = 0,
                                 .write_buffer_size = 1 << 20, .max_open_files = 16, .sync = false};
    {
      auto db = RocksDbBackend::open(dir / "db", options).value();
      WriteBatch batch;
      for (int i = 0; i < 2000; ++i) batch.put("k" + std::to_string(i), std::string(200, static_cast<char>('a' + i % 26)));
      db.write(batch).value();
      REQUIRE(db.db()->Flush(rocksdb::FlushOptions()).ok());  // into a compressed table file
    }
    auto db = RocksDbBackend::open(dir / "db", options).value();
    CHECK(db.get("k1999").value() == std::string(200, static_cast<char>('a' + 1999 % 26)));
    CHECK(keys_of(db, KeyRange::prefix("k1")).size() == 1111);
  }
}

TEST_CASE("RocksDB: scan views stay valid while the range lives, across table files", "[rocksdb]") {
  TempDir dir;
  auto db = RocksDbBackend::open(dir / "db", {.block_cache_size = 64 << 10, .sync = false}).value();
  for (int round = 0; round < 4; ++round) {  // several table files, and a memtable on top
    WriteBatch batch;
    for (int i = round; i < 4000; i += 4) batch.put("key/" + std::to_string(100000 + i), std::string(100, 'a' + round));
    db.write(batch).value();
    if (round < 3) REQUIRE(db.db()->Flush(rocksdb::FlushOptions()).ok());
  }
  std::vector<KeyValue> views;
  auto scan = db.scan(KeyRange::prefix("key/"));
  for (auto&& entry : scan) views.push_back(entry);
  scan.status().value();
  REQUIRE(views.size() == 4000);
  for (int i = 0; i < 4000; ++i) {
    REQUIRE(views[i].key == "key/" + std::to_string(100000 + i));
    REQUIRE(views[i].value == std::string(100, 'a' + i % 4));
  }
  // A streaming scan sees the same entries (each valid until the next step).
  std::size_t n = 0;
  auto stream = db.scan(KeyRange::prefix("key/").streaming());
  for (auto&& [key, value] : stream) n += key == views[n].key && value == views[n].value;
  CHECK(n == 4000);
}

#if KVSTACK_TEST_FORKS
TEST_CASE("RocksDB: a directory another process holds is errc::locked", "[rocksdb][faults]") {
  TempDir dir;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto db = RocksDbBackend::open(dir / "db");
    char ok = db ? 1 : 0;
    if (::write(ready[1], &ok, 1) != 1) ::_exit(2);
    for (;;) ::pause();
  }
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  REQUIRE(ok == 1);
  auto db = RocksDbBackend::open(dir / "db");
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::locked);
  CHECK_THAT(db.error().message(), Contains((dir / "db").string()));
  CHECK_THAT(db.error().message(), Contains("lock"));  // RocksDB's own words
  CHECK(RocksDbBackend::open(dir / "db").has_value());  // free once the holder is gone
}
#endif

TEST_CASE("RocksDB: a damaged table file is errc::corruption, never wrong data", "[rocksdb][faults]") {
  TempDir dir;
  const RocksDbOptions options{.compression = RocksDbOptions::Compression::none, .sync = false};
  {
    auto db = RocksDbBackend::open(dir / "db", options).value();
    WriteBatch batch;
    for (int i = 0; i < 1000; ++i) batch.put("k" + std::to_string(1000 + i), std::string(100, 'v'));
    db.write(batch).value();
    REQUIRE(db.db()->Flush(rocksdb::FlushOptions()).ok());
  }
  for (auto& entry : fs::directory_iterator(dir / "db")) {
    if (entry.path().extension() != ".sst") continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(entry.file_size() / 4));  // inside the data blocks
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  auto db = RocksDbBackend::open(dir / "db", options).value();
  auto scan = db.scan(KeyRange::all());
  std::size_t seen = 0;
  for (auto&& [key, value] : scan) {
    REQUIRE(value == std::string(100, 'v'));
    ++seen;
  }
  CHECK(seen < 1000);
  REQUIRE_FALSE(scan.status());
  CHECK(scan.status().error() == errc::corruption);
  CHECK_THAT(scan.status().error().message(), Contains((dir / "db").string()));
}
