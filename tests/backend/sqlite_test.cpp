// SqliteBackend beyond the laws: prefixes holding LIKE's wildcards, scans while another thread
// writes, handles on one file transacting at once, another connection holding the lock, a file
// that is not a database, and a table that belongs to something else.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <kvstack/backend/config.hpp>
#include <kvstack/backend/sqlite.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {
// A connection of the test's own, as another program would open the file.
struct RawConnection {
  sqlite3* db = nullptr;
  explicit RawConnection(const std::filesystem::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK); }
  ~RawConnection() { sqlite3_close(db); }
  void exec(const char* sql) { REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK); }
};
}  // namespace

TEST_CASE("SQLite: prefixes with _, % and 0xff are bytes, not wildcards", "[sqlite]") {
  TempDir dir;
  auto db = SqliteBackend::open(dir / "db").value();
  const Strings keys = {"a", "a%", "a%b", "a_", "a_b", "ab", "axb", "a\\", "a\\_", bytes({'a', 0xff}), bytes({'a', 0xff, '%'}),
                        bytes({0xff}), bytes({0xff, 0xff}), "b"};
  for (const auto& k : keys) db.put(k, "v").value();
  CHECK(keys_of(db, KeyRange::prefix("a_")) == Strings{"a_", "a_b"});
  CHECK(keys_of(db, KeyRange::prefix("a%")) == Strings{"a%", "a%b"});
  CHECK(keys_of(db, KeyRange::prefix("a\\")) == Strings{"a\\", "a\\_"});
  CHECK(keys_of(db, KeyRange::prefix(bytes({'a', 0xff}))) == Strings{bytes({'a', 0xff}), bytes({'a', 0xff, '%'})});
  CHECK(keys_of(db, KeyRange::prefix(bytes({0xff}))) == Strings{bytes({0xff}), bytes({0xff, 0xff})});
  CHECK(keys_of(db, KeyRange::prefix("a")).size() == 11);
  CHECK(keys_of(db, KeyRange::prefix("a_").reverse()) == Strings{"a_b", "a_"});
}

TEST_CASE("SQLite: a scan reads one snapshot while another thread writes", "[sqlite]") {
  TempDir dir;
  auto db = SqliteBackend::open(dir / "db", {.sync = SqliteOptions::Sync::normal}).value();
  WriteBatch first;
  for (int i = 0; i < 500; ++i) first.put("k" + std::to_string(1000 + i), "0");
  db.write(first).value();
  std::atomic<bool> stop{false};
  std::atomic<int> generations{0};
  std::thread writer([&] {
    for (int gen = 1; !stop; ++gen) {
      WriteBatch b;
      for (int i = 0; i < 500; ++i) b.put("k" + std::to_string(1000 + i), std::to_string(gen));
      db.write(b).value();
      ++generations;
    }
  });
  int mixed = 0, scans = 0;
  while (generations < 20) {
    auto scan = db.scan(KeyRange::prefix("k"));
    std::string seen;
    int n = 0;
    for (auto&& [key, value] : scan) {
      if (n++ == 0) seen = value;
      else if (value != seen) ++mixed;
      if (n == 250) std::this_thread::yield();  // let the writer commit mid-scan
    }
    scan.status().value();
    CHECK(n == 500);
    ++scans;
  }
  stop = true;
  writer.join();
  CHECK(mixed == 0);
  CHECK(scans > 0);
}

TEST_CASE("SQLite: handles on one file transact at once and never report busy", "[sqlite]") {
  TempDir dir;
  auto a = SqliteBackend::open(dir / "db").value();
  auto b = SqliteBackend::open(dir / "db").value();  // as a second process would
  a.put("counter", "0").value();
  constexpr int per_thread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (SqliteBackend* db : {&a, &b, &a, &b}) {
    threads.emplace_back([db, &failures] {
      for (int i = 0; i < per_thread; ++i) {
        auto r = db->transact([](auto& tx) -> Result<void> {
          return tx.put("counter", std::to_string(std::stoi(tx.get("counter").value().value()) + 1));
        });
        if (!r) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(a.get("counter").value() == std::to_string(4 * per_thread));  // no lost update
}

TEST_CASE("SQLite: another connection holding the lock is errc::locked, then the store goes on", "[sqlite][faults]") {
  TempDir dir;
  auto db = SqliteBackend::open(dir / "db", {.busy_timeout_ms = 50}).value();
  db.put("k", "v").value();
  {
    RawConnection other(db.file());
    other.exec("BEGIN EXCLUSIVE");
    auto put = db.put("k", "changed");
    REQUIRE_FALSE(put);
    CHECK(put.error() == errc::locked);
    CHECK_THAT(put.error().message(), Contains(db.file().string()) && Contains("locked"));
    auto tx = db.transact([](auto& t) { return t.put("k", "changed"); });
    REQUIRE_FALSE(tx);
    CHECK(tx.error() == errc::locked);
    CHECK(db.get("k").value() == "v");  // readers go on (WAL)
    other.exec("ROLLBACK");
  }
  db.put("k", "after").value();
  CHECK(db.get("k").value() == "after");
}

TEST_CASE("SQLite: a file that is not a database is errc::corruption with the path", "[sqlite][faults]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "db");
  std::ofstream(dir / "db" / "data.sqlite") << std::string(8192, 'x');
  auto db = SqliteBackend::open(dir / "db");
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::corruption);
  CHECK_THAT(db.error().message(), Contains((dir / "db" / "data.sqlite").string()) && Contains("not a database"));
}

TEST_CASE("SQLite: a table of that name with other columns is refused, and other tables are left alone", "[sqlite][faults]") {
  TempDir dir;
  {
    auto db = SqliteBackend::open(dir / "db").value();  // creates the file
    db.put("k", "v").value();
  }
  {
    RawConnection other(dir / "db" / "data.sqlite");
    other.exec("CREATE TABLE app (id INTEGER PRIMARY KEY, name TEXT)");
    other.exec("INSERT INTO app VALUES (1, 'kept')");
  }
  auto wrong = SqliteBackend::open(dir / "db", {.table = "app"});
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error() == errc::invalid_argument);
  CHECK_THAT(wrong.error().message(), Contains("id INTEGER PRIMARY KEY, name TEXT"));

  // Two stores in one file, one table each, see only their own keys.
  auto first = SqliteBackend::open(dir / "db").value();
  auto second = SqliteBackend::open(dir / "db", {.table = "second \"store\""}).value();
  second.put("k", "other").value();
  CHECK(first.get("k").value() == "v");
  CHECK(second.get("k").value() == "other");
  CHECK(keys_of(second, KeyRange::all()) == Strings{"k"});
  RawConnection check(first.file());
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(check.db, "SELECT name FROM app", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "kept");
  sqlite3_finalize(stmt);
}

TEST_CASE("SQLite: open(Config) takes its parameters and names what is wrong", "[sqlite][config]") {
  TempDir dir;
  auto db = open(Config{.backend = "sqlite", .path = dir / "db",
                        .params = {{"sync", "normal"}, {"busy_timeout_ms", "100"}, {"table", "t"}}});
  REQUIRE(db);
  db->put("k", "v").value();
  REQUIRE(db->get_if<SqliteBackend>());
  CHECK(db->get("k").value() == "v");
  auto bad = open(Config{.backend = "sqlite", .path = dir / "db2", .params = {{"sync", "sometimes"}}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Contains("full or normal"));
  auto missing = open(Config{.backend = "sqlite", .path = {}, .params = {}});
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Contains("needs a path"));
}
