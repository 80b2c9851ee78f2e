// Config and open: choosing an engine at run time, and every way of asking for one wrongly.
#include <cstdlib>

#include <catch2/catch.hpp>

#include <kvstack/backend/config.hpp>

using namespace kvstack;
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
  auto p = Config::parse_params("cache=64MiB,opt=a=b,").value();
  CHECK(p.size() == 2);
  CHECK(p.at("cache") == "64MiB");
  CHECK(p.at("opt") == "a=b");
  CHECK(Config::parse_params("").value().empty());
  for (const char* bad : {"noequals", "=value", "a=1,,b=2", "a=1,a=2"}) {
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
    CHECK(c.backend == "memory");
    auto db = open(c).value();
    db.put("k", "v").value();
    CHECK(db.get("k").value() == "v");
  }
  {
    Env env("memory", "/tmp/ignored", "x=1");
    auto r = open(Config::from_env().value());
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("unknown parameter 'x'"));
  }
  {
    Env env("sled", "/tmp/x", nullptr);
    auto r = open(Config::from_env().value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("unknown backend 'sled'"));
  }
  {
    Env env("rocksdb", "/tmp/x", nullptr);
    auto r = open(Config::from_env().value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK_THAT(r.error().message(), Contains("'rocksdb' is not compiled in"));
  }
  {
    Env env("memory", nullptr, "broken");
    CHECK(Config::from_env().error() == errc::invalid_argument);
  }
}
