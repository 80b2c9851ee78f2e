// Exactly-once apply across crashes: a primary over a durable engine is killed with SIGKILL at
// 20 points while it writes; after each restart every entry of its log has been applied
// exactly once, none skipped (the applied mark commits with the writes it covers).
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include <catch2/catch.hpp>
#include <unistd.h>

#include <kvstack/shard/shard.hpp>

#include "laws/backends.hpp"
#include "laws/kill_child.hpp"
#include "shard/counting_app.hpp"

using namespace kvstack;
using namespace kvstack::test;

#if KVSTACK_TEST_FORKS
namespace {

template <class B>
using CountedShard = Shard<BackendLog<B>, CountingApp<B>, AsyncPrimaryBackup>;

std::string entry_key(std::uint32_t n) {
  char key[16];
  std::snprintf(key, sizeof key, "e/%08u", n);
  return key;
}

template <class B>
Result<CountedShard<B>> open_primary(const std::filesystem::path& dir, B& log_store) {
  auto app = BackendFactory<B>::open_at(dir / "app");
  if (!app) return app.error();
  return CountedShard<B>::open(BackendLog<B>{log_store, "log"}, CountingApp<B>{std::move(app).value()},
                               AsyncPrimaryBackup{{.id = 1, .members = {1}, .primary = 1}});
}

// The child: one write after another, each acknowledged on `ack` once put() returned.
template <class B>
[[noreturn]] void write_until_killed(const std::filesystem::path& dir, int ack) {
  auto log_store = BackendFactory<B>::open_at(dir / "log");
  if (!log_store) ::_exit(3);
  auto shard = open_primary<B>(dir, log_store.value());
  if (!shard) ::_exit(4);
  const std::string value(500, 'v');
  for (std::uint32_t n = 1;; ++n) {
    if (!shard.value().put(entry_key(n), value)) ::_exit(5);
    if (::write(ack, &n, sizeof n) != sizeof n) ::_exit(6);
  }
}

}  // namespace

static_assert(Backend<CountingApp<MemoryBackend>>);

TEMPLATE_LIST_TEST_CASE("shard: each log entry applies exactly once across SIGKILL", "[shard][kill]", DurableTypes) {
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    TempDir dir;
    // Kill at a different point each round: after 2, 7, 12, ... acknowledgements, and inside a
    // write (between the log append and the apply, too).
    const std::uint32_t acknowledged = kill_child_mid_write(round, 2 + 5 * static_cast<std::uint32_t>(round), [&](int ack) {
      write_until_killed<TestType>(dir.path(), ack);
    });

    auto log_store = BackendFactory<TestType>::open_at(dir / "log").value();
    auto shard = open_primary<TestType>(dir.path(), log_store);  // recovery applies the log's tail
    REQUIRE(shard);
    const std::uint64_t logged = shard.value().log().last_index().value();
    CHECK(logged >= acknowledged);
    CHECK(shard.value().status().applied == logged);
    std::uint64_t present = 0, once = 0;
    for (std::uint32_t e = 1; e <= logged; ++e) {
      present += shard.value().get(entry_key(e)).value().has_value();
      once += applies_of(shard.value().app(), entry_key(e)) == 1;
    }
    CHECK(present == logged);  // none skipped
    CHECK(once == logged);     // none applied twice
  }
}
#endif
