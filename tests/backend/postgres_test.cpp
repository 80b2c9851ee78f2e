// PostgresBackend beyond the laws, against real PostgreSQL servers: prefixes holding LIKE's
// wildcards, scans over many fetches while another thread writes, a server restarted in use, a
// connection killed inside a transaction, a table that belongs to something else, server errors
// with their SQLSTATE, an unreachable server.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include <kvstack/backend/config.hpp>
#include <kvstack/backend/postgres.hpp>

#include "backend/test_servers.hpp"
#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {
// A connection of the test's own, as another program would have.
struct RawConnection {
  PGconn* pg;
  explicit RawConnection(const std::string& conninfo) : pg(PQconnectdb(conninfo.c_str())) {
    REQUIRE(PQstatus(pg) == CONNECTION_OK);
  }
  ~RawConnection() { PQfinish(pg); }
  std::string exec(const std::string& sql) {  // the first field of the first row, if any
    PGresult* r = PQexec(pg, sql.c_str());
    const auto status = PQresultStatus(r);
    INFO(PQresultErrorMessage(r));
    CHECK((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
    std::string out = status == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
  }
};

// A backend on the shared server, in a table of its own.
struct Fixture {
  BackendFactory<PostgresBackend> factory;
  PostgresBackend db = factory.open();
};
}  // namespace

TEST_CASE("PostgreSQL: prefixes with _, % and 0xff are bytes, not wildcards", "[postgres]") {
  Fixture f;
  const Strings keys = {"a", "a%", "a%b", "a_", "a_b", "ab", "axb", "a\\", "a\\_", bytes({'a', 0xff}), bytes({'a', 0xff, '%'}),
                        bytes({0xff}), bytes({0xff, 0xff}), "b"};
  for (const auto& k : keys) f.db.put(k, "v").value();
  CHECK(keys_of(f.db, KeyRange::prefix("a_")) == Strings{"a_", "a_b"});
  CHECK(keys_of(f.db, KeyRange::prefix("a%")) == Strings{"a%", "a%b"});
  CHECK(keys_of(f.db, KeyRange::prefix("a\\")) == Strings{"a\\", "a\\_"});
  CHECK(keys_of(f.db, KeyRange::prefix(bytes({'a', 0xff}))) == Strings{bytes({'a', 0xff}), bytes({'a', 0xff, '%'})});
  CHECK(keys_of(f.db, KeyRange::prefix(bytes({0xff}))) == Strings{bytes({0xff}), bytes({0xff, 0xff})});
  CHECK(keys_of(f.db, KeyRange::prefix("a")).size() == 11);
}

TEST_CASE("PostgreSQL: a scan over many fetches reads one snapshot while another thread writes", "[postgres]") {
  BackendFactory<PostgresBackend> factory;
  auto db = PostgresBackend::open(shared_postgres(), {.table = factory.table, .fetch_rows = 7}).value();
  WriteBatch first;
  for (int i = 0; i < 100; ++i) first.put("k" + std::to_string(1000 + i), "0");
  db.write(first).value();
  std::atomic<bool> stop{false};
  std::atomic<int> generations{0};
  std::thread writer([&] {
    for (int gen = 1; !stop; ++gen) {
      WriteBatch b;
      for (int i = 0; i < 100; ++i) b.put("k" + std::to_string(1000 + i), std::to_string(gen));
      db.write(b).value();
      ++generations;
    }
  });
  int mixed = 0;
  while (generations < 10) {
    std::vector<KeyValue> views;
    auto scan = db.scan(KeyRange::prefix("k"));
    for (auto&& entry : scan) views.push_back(entry);  // 15 fetches, each while the writer runs
    scan.status().value();
    REQUIRE(views.size() == 100);
    for (const auto& v : views) mixed += v.value != views.front().value;
    CHECK(views.back().key == "k1099");  // views of earlier fetches are still valid
  }
  stop = true;
  writer.join();
  CHECK(mixed == 0);
  // Streaming keeps one fetch at a time and sees the same entries.
  int n = 0;
  auto stream = db.scan(KeyRange::prefix("k").reverse().streaming());
  for (auto&& [key, value] : stream) n += key == "k" + std::to_string(1099 - n);
  stream.status().value();
  CHECK(n == 100);
}

TEST_CASE("PostgreSQL: a server restarted in use gives a clear error, then the next call reconnects", "[postgres][faults]") {
  TestServer server("postgres");
  auto db = PostgresBackend::open(server.address()).value();
  db.put("before", "1").value();
  server.kill();
  auto during = db.put("during", "2");
  REQUIRE_FALSE(during);
  CHECK(during.error() == errc::io_error);
  CHECK_THAT(during.error().message(), Contains("PostgreSQL cannot write to") && Contains("table kvstack"));
  auto scan = db.scan(KeyRange::all());
  for (auto&& entry : scan) FAIL("a scan of a stopped server yields " << entry.key);
  CHECK(scan.status().error() == errc::io_error);
  server.start_again();
  db.put("after", "3").value();  // the pool was emptied: this call connects again
  CHECK(keys_of(db, KeyRange::all()) == Strings{"after", "before"});
}

TEST_CASE("PostgreSQL: a connection killed inside a transaction applies nothing", "[postgres][faults]") {
  BackendFactory<PostgresBackend> factory;
  const std::string name = unique_name("victim");
  auto db = PostgresBackend::open(shared_postgres() + " application_name=" + name, {.table = factory.table}).value();
  db.put("a", "1").value();
  RawConnection killer(shared_postgres());
  auto r = db.transact([&](auto& tx) -> Result<void> {
    tx.put("a", "changed").value();
    tx.put("b", "new").value();
    CHECK(killer.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" + name +
                      "' AND state LIKE 'idle in transaction%'") == "1");
    return success();
  });
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::io_error);
  CHECK(collect(db, KeyRange::all()) == Entries{{"a", "1"}});  // and the store goes on
}

TEST_CASE("PostgreSQL: a table of that name with other columns is refused", "[postgres][faults]") {
  const std::string table = unique_name("app");
  RawConnection other(shared_postgres());
  other.exec("CREATE TABLE " + table + " (id integer PRIMARY KEY, name text)");
  auto db = PostgresBackend::open(shared_postgres(), {.table = table});
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::invalid_argument);
  CHECK_THAT(db.error().message(), Contains("id integer PRIMARY KEY, name text") && Contains(table));
  other.exec("DROP TABLE " + table);
}

TEST_CASE("PostgreSQL: a server's error carries its SQLSTATE and message, and loses nothing", "[postgres][faults]") {
  Fixture f;
  f.db.put("k", "short").value();
  RawConnection other(shared_postgres());
  other.exec("ALTER TABLE \"" + f.factory.table + "\" ADD CONSTRAINT small_values CHECK (length(value) < 10)");
  auto put = f.db.put("k", "far too long a value");
  REQUIRE_FALSE(put);
  CHECK_THAT(put.error().message(), Contains("SQLSTATE 23514") && Contains("small_values"));
  auto batch = f.db.write(WriteBatch().put("j", "ok").put("k", "far too long a value"));
  REQUIRE_FALSE(batch);
  CHECK(collect(f.db, KeyRange::all()) == Entries{{"k", "short"}});  // not half a batch
}

TEST_CASE("PostgreSQL: an unreachable server is errc::io_error naming it, never its password", "[postgres][faults]") {
  auto db = PostgresBackend::open("host=/nonexistent/kvstack port=5432 dbname=x user=u password=secret connect_timeout=2");
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::io_error);
  CHECK_THAT(db.error().message(), Contains("host=/nonexistent/kvstack") && Contains("cannot connect"));
  CHECK_THAT(db.error().message(), !Contains("secret"));
}

TEST_CASE("PostgreSQL: open(Config) takes the connection string as the path, and its parameters", "[postgres][config]") {
  BackendFactory<PostgresBackend> factory;
  auto db = open(Config{.backend = "postgres", .path = shared_postgres(), .params = {{"table", factory.table}, {"fetch_rows", "3"}, {"sync", "false"}}});
  REQUIRE(db);
  REQUIRE(db->get_if<PostgresBackend>());
  db->write(WriteBatch().put("a", "1").put("b", "2").put("c", "3").put("d", "4")).value();
  CHECK(keys_of(*db, KeyRange::all()) == Strings{"a", "b", "c", "d"});
  auto bad = open(Config{.backend = "postgres", .path = shared_postgres(), .params = {{"fetch_rows", "many"}}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Contains("fetch_rows"));
}
