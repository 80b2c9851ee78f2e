// Built with every KVSTACK_WITH_<ENGINE> at 0 (SQLite, PostgreSQL and Redis are 0 unless the build
// sets them): the library needs no engine, and asking for one that is not compiled in is an
// invalid argument that says so.
#include <catch2/catch.hpp>

#include <kvstack/kvstack.hpp>
#include <kvstack/backend/config.hpp>

using namespace kvstack;

static_assert(std::is_same_v<AnyBackend, BasicAnyBackend<MemoryBackend>>);

TEST_CASE("an engine not compiled in is errc::invalid_argument", "[config]") {
  for (const char* engine : {"lmdb", "rocksdb", "sqlite", "postgres", "redis"}) {
    auto db = open(Config{.backend = engine, .path = "/tmp/kvstack-never-created", .params = {}});
    REQUIRE_FALSE(db);
    CHECK(db.error() == errc::invalid_argument);
    CHECK_THAT(db.error().message(), Catch::Contains(std::string("'") + engine + "' is not compiled into this program"));
  }
  auto path_alone = open(Config{.backend = "", .path = "/tmp/kvstack-never-created", .params = {}});
  REQUIRE_FALSE(path_alone);
  CHECK_THAT(path_alone.error().message(), Catch::Contains("no persistent engine is compiled into this program"));
  auto memory = open(Config{}).value();
  memory.put("k", "v").value();
  CHECK(memory.get("k").value() == "v");
}
