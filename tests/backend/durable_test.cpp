// What every durable engine promises beyond the laws: acknowledged writes survive a SIGKILL and
// no batch is ever half-applied; bad places to open a store give typed errors naming the path.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kvstack/registry/namespaced_registry.hpp>

#include "laws/backends.hpp"
#include "laws/kill_child.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using Catch::Matchers::Contains;

#if KVSTACK_TEST_FORKS
namespace {
constexpr int batch_keys = 4;

std::string batch_key(std::uint32_t n, int part) {
  char key[32];
  std::snprintf(key, sizeof key, "b/%08u/%d", n, part);
  return key;
}

// The child: writes batch after batch, each acknowledged on `ack` once write() returned.
template <class B>
[[noreturn]] void write_until_killed(const std::filesystem::path& path, int ack) {
  auto db = BackendFactory<B>::open_at(path);
  if (!db) ::_exit(3);
  const std::string value(700, 'v');
  for (std::uint32_t n = 0;; ++n) {
    WriteBatch batch;
    for (int part = 0; part < batch_keys; ++part) batch.put(batch_key(n, part), value);
    batch.put("last", std::to_string(n));
    if (!db.value().write(batch)) ::_exit(4);
    if (::write(ack, &n, sizeof n) != sizeof n) ::_exit(5);
  }
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("acknowledged writes survive SIGKILL and no batch is half-applied", "[durable][kill]",
                        DurableTypes) {
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    TempDir dir;
    // Kill at a different point each round: after 2, 9, 16, ... acknowledgements.
    const std::uint32_t acknowledged = kill_child_mid_write(round, 2 + 7 * static_cast<std::uint32_t>(round), [&](int ack) {
      write_until_killed<TestType>(dir / "db", ack);
    });

    auto db = BackendFactory<TestType>::open_at(dir / "db").value();
    auto keys = keys_of(db, KeyRange::prefix("b/"));
    CHECK(keys.size() % batch_keys == 0);  // whole batches only
    const std::uint32_t batches = static_cast<std::uint32_t>(keys.size() / batch_keys);
    CHECK(batches >= acknowledged + 1);  // every acknowledged batch is there
    for (std::uint32_t b = 0; b < batches; ++b)
      for (int part = 0; part < batch_keys; ++part)
        CHECK(keys[b * batch_keys + part] == batch_key(b, part));
    CHECK(db.get("last").value() == std::to_string(batches - 1));
  }
}
#endif

TEMPLATE_LIST_TEST_CASE("a store open in this process cannot be opened again", "[durable][faults]", DurableTypes) {
  TempDir dir;
  if constexpr (requires { BackendFactory<TestType>::shares_open_store; }) {
    // An engine made for many connections (SQLite): both handles see each other's writes.
    auto first = BackendFactory<TestType>::open_at(dir / "db").value();
    auto second = BackendFactory<TestType>::open_at(dir / "db").value();
    first.put("k", "v").value();
    CHECK(second.get("k").value() == "v");
    second.write(WriteBatch().put("k", "v2").put("j", "w")).value();
    CHECK(first.get("k").value() == "v2");
    CHECK(keys_of(first, KeyRange::all()) == std::vector<std::string>{"j", "k"});
    return;
  }
  {
    auto first = BackendFactory<TestType>::open_at(dir / "db").value();
    first.put("k", "v").value();
    auto second = BackendFactory<TestType>::open_at(dir / "db");
    REQUIRE_FALSE(second);
    CHECK(second.error() == errc::locked);
    CHECK_THAT(second.error().message(), Contains((dir / "db").string()));
    CHECK(first.get("k").value() == "v");  // the first handle is unharmed
  }
  auto again = BackendFactory<TestType>::open_at(dir / "db").value();  // free once closed
  CHECK(again.get("k").value() == "v");
}

TEMPLATE_LIST_TEST_CASE("a path that is a file is an invalid argument", "[durable][faults]", DurableTypes) {
  TempDir dir;
  std::ofstream(dir / "file") << "not a store";
  auto db = BackendFactory<TestType>::open_at(dir / "file");
  REQUIRE_FALSE(db);
  CHECK(db.error() == errc::invalid_argument);
  CHECK_THAT(db.error().message(), Contains((dir / "file").string()));
}

#if KVSTACK_TEST_FORKS
TEMPLATE_LIST_TEST_CASE("a directory the process may not write is an I/O error", "[durable][faults]", DurableTypes) {
  TempDir dir;
  std::filesystem::create_directories(dir / "ro");
  std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                               std::filesystem::perms::others_read |
                                               std::filesystem::perms::others_exec);
  // Root ignores permissions: the open then runs in a child that gave them up.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(10);
    auto db = BackendFactory<TestType>::open_at(dir / "ro");
    if (db) ::_exit(11);
    if (!(db.error() == errc::io_error)) ::_exit(12);
    if (db.error().message().find((dir / "ro").string()) == std::string::npos) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // 11: opened anyway; 12: another code; 13: path missing
}
#endif

TEMPLATE_LIST_TEST_CASE("a corrupted value is a typed error and loses nothing else", "[durable][faults]",
                        DurableTypes) {
  BackendFactory<TestType> factory;
  {
    auto db = factory.open();
    NamespacedRegistry<TestType, std::string> reg(db, "users");
    reg.put("alice", "A").value();
    reg.put("bob", "B").value();
    db.put(reg.storage_key("bob"), "\x01\xff garbage").value();  // damage bob's record underneath
  }
  auto db = factory.reopen();
  NamespacedRegistry<TestType, std::string> reg(db, "users");
  CHECK(reg.get("bob").error() == errc::corruption);
  CHECK(reg.get("alice").value() == "A");
  reg.put("bob", "B2").value();  // and the damaged record can be overwritten
  CHECK(reg.get("bob").value() == "B2");
}
