// LmdbBackend beyond the laws: keys past LMDB's own size limit, a full map, dead readers, and
// damaged records.
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <lmdb.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvstack/backend/lmdb.hpp>
#include <kvstack/backend/memory.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;

TEST_CASE("LMDB: long keys keep byte order, against the memory engine", "[lmdb]") {
  TempDir dir;
  auto db = LmdbBackend::open(dir / "db").value();
  MemoryBackend model;
  std::mt19937_64 rng(7);
  // Keys around LMDB's 511-byte limit that share long prefixes, plus short ones, and the empty
  // key next to the all-zero prefix whose group also holds it.
  const std::string p1(511, 'p'), p2 = std::string(510, 'p') + "q", p3(300, 'p'), zeros(511, '\0');
  const std::vector<std::string> stems = {p1, p2, p3, p1.substr(0, 510), "", "p", "q", zeros, zeros.substr(0, 2)};
  const std::string alphabet("\0\x01pq\xff", 5);
  auto random_key = [&] {
    std::string key = stems[rng() % stems.size()];
    for (auto n = rng() % 4; n > 0; --n) key += alphabet[rng() % alphabet.size()];
    return key;
  };
  std::vector<std::string> used;
  for (int i = 0; i < 3000; ++i) {
    std::string key = random_key();
    if (rng() % 4 == 0) {
      INFO("erase of a key of " << key.size() << " bytes");
      REQUIRE(db.erase(key).value() == model.erase(key).value());
    } else {
      const std::string value = std::to_string(i);
      db.put(key, value).value();
      model.put(key, value).value();
      used.push_back(key);
    }
  }
  auto check_all = [&](const LmdbBackend& store) {
    for (const auto& key : used) REQUIRE(store.get(key).value() == model.get(key).value());
    REQUIRE(collect(store, KeyRange::all()) == collect(model, KeyRange::all()));
    REQUIRE(collect(store, KeyRange::all().reverse()) == collect(model, KeyRange::all().reverse()));
    for (int i = 0; i < 300; ++i) {
      std::string a = random_key(), b = random_key();
      const std::size_t limit = rng() % 3 == 0 ? rng() % 20 : KeyRange::unlimited;
      for (KeyRange r : {KeyRange::between(a, b), KeyRange::between(b, a), KeyRange::prefix(a), KeyRange::from(a)}) {
        r = r.limit(limit);
        INFO("bounds of " << a.size() << " and " << b.size() << " bytes");
        REQUIRE(collect(store, r) == collect(model, r));
        REQUIRE(collect(store, r.reverse()) == collect(model, r.reverse()));
      }
    }
  };
  check_all(db);
  db = LmdbBackend::open(dir / "other").value();  // closes the first handle
  check_all(LmdbBackend::open(dir / "db").value());
}

TEST_CASE("LMDB: past max_map_size writes fail with errc::full and deletes make room", "[lmdb][faults]") {
  TempDir dir;
  auto db = LmdbBackend::open(dir / "db", {.max_map_size = 1 << 20}).value();
  const std::string value(16 << 10, 'x');
  int stored = 0;
  Result<void> last = success();
  while ((last = db.put("k" + std::to_string(stored), value))) ++stored;
  CHECK(last.error() == errc::full);
  CHECK_THAT(last.error().message(), Contains((dir / "db").string()));
  CHECK_THAT(last.error().message(), Contains("max_map_size is 1048576 bytes"));
  CHECK(stored > 10);
  for (int i = 0; i < stored; ++i) REQUIRE(db.get("k" + std::to_string(i)).value() == value);  // nothing lost
  auto batch = WriteBatch{}.put("b1", value).put("b2", value).put("b3", value);
  CHECK(db.write(batch).error() == errc::full);  // a failed batch leaves nothing behind
  CHECK(db.get("b1").value() == std::nullopt);

  for (int i = 0; i < stored / 2; ++i) db.erase("k" + std::to_string(i)).value();
  db.write(batch).value();  // room again
  CHECK(db.get("b3").value() == value);
}

TEST_CASE("LMDB: a max_map_size the address space cannot hold is cut down to what fits", "[lmdb]") {
  TempDir dir;
  auto db = LmdbBackend::open(dir / "db", {.max_map_size = std::size_t{1} << 62}).value();  // 4 EiB
  db.put("k", std::string(1 << 20, 'v')).value();
  CHECK(db.get("k").value()->size() == std::size_t{1} << 20);
}

TEST_CASE("LMDB: the map grows by itself below max_map_size", "[lmdb]") {
  TempDir dir;
  auto db = LmdbBackend::open(dir / "db", {.max_map_size = std::size_t{1} << 30, .sync = false}).value();
  const std::string value(1 << 20, 'g');
  WriteBatch batch;
  for (int i = 0; i < 64; ++i) batch.put("big" + std::to_string(i), value);
  db.write(batch).value();  // 64 MiB in one transaction
  auto scan = db.scan(KeyRange::all());
  std::size_t bytes = 0;
  for (auto&& [key, v] : scan) bytes += v.size();
  CHECK(bytes == 64u * value.size());
  CHECK(std::filesystem::file_size(dir / "db" / "data.mdb") >= bytes);
}

#if KVSTACK_TEST_FORKS
TEST_CASE("LMDB: reader slots of dead processes are reclaimed", "[lmdb][faults]") {
  TempDir dir;
  const LmdbOptions options{.max_readers = 4};
  auto db = LmdbBackend::open(dir / "db", options).value();
  db.put("k", "v").value();
  // Four children each take a reader slot (raw LMDB: the parent's handle is not theirs) and die
  // holding it.
  std::vector<pid_t> children;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  for (int i = 0; i < 4; ++i) {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      MDB_env* env = nullptr;
      MDB_txn* txn = nullptr;
      if (mdb_env_create(&env) || mdb_env_set_maxreaders(env, 4) || mdb_env_set_mapsize(env, 64 << 20) ||
          mdb_env_open(env, (dir / "db").c_str(), MDB_NOTLS, 0644) || mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn))
        ::_exit(1);
      char one = 1;
      if (::write(ready[1], &one, 1) != 1) ::_exit(2);
      for (;;) ::pause();
    }
    children.push_back(child);
  }
  for (int i = 0; i < 4; ++i) {
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
  }
  for (pid_t child : children) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  ::close(ready[0]);
  ::close(ready[1]);
  // Every slot is held by a dead process: the next read clears them and goes on.
  CHECK(db.get("k").value() == "v");
  CHECK(keys_of(db, KeyRange::all()) == std::vector<std::string>{"k"});
}
#endif

TEST_CASE("LMDB: a damaged long-key group is errc::corruption, other keys unharmed", "[lmdb][faults]") {
  TempDir dir;
  const std::string prefix(511, 'g');
  {
    auto db = LmdbBackend::open(dir / "db").value();
    db.put("a", "1").value();
    db.put(prefix + "x", "2").value();
    db.put("z", "3").value();
  }
  {  // overwrite the group record with bytes that are not a group
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    MDB_dbi dbi;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_set_mapsize(env, 64 << 20) == 0);  // not the 1 TiB the file records
    REQUIRE(mdb_env_open(env, (dir / "db").c_str(), 0, 0644) == 0);
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0);
    std::string junk = bytes({1, 0, 9, 'a', 'b'});  // a suffix of 9 bytes, with 2 left
    MDB_val k{prefix.size(), const_cast<char*>(prefix.data())}, v{junk.size(), junk.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto db = LmdbBackend::open(dir / "db").value();
  auto got = db.get(prefix + "x");
  REQUIRE_FALSE(got);
  CHECK(got.error() == errc::corruption);
  CHECK(db.get("a").value() == "1");
  CHECK(db.get("z").value() == "3");
  auto scan = db.scan(KeyRange::all());
  std::vector<std::string> seen;
  for (auto&& [key, value] : scan) seen.emplace_back(key);
  CHECK(seen == std::vector<std::string>{"a"});  // stops at the damage, and says so
  CHECK(scan.status().error() == errc::corruption);
  CHECK(db.put(prefix + "y", "4").error() == errc::corruption);  // never overwrites what it cannot read
}
