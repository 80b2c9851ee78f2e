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

using namespace kvstack;
using namespace kvstack::test;

#if KVSTACK_TEST_FORKS
namespace {

/// What an App transaction looks like to the shard, with a count of how many times each entry
/// key `de/N` was written kept in `applies/N`, in the same transaction: so the count is exact
/// across crashes, and 2 means an entry was applied twice.
template <class Tx>
struct CountingTx {
  Tx* tx;
  Result<std::optional<std::string>> get(std::string_view k) const { return tx->get(k); }
  template <class F>
  Result<bool> get(std::string_view k, F&& fn) const {
    return tx->get(k, std::forward<F>(fn));
  }
  auto scan(const KeyRange& r) const { return tx->scan(r); }
  Result<bool> erase(std::string_view k) { return tx->erase(k); }
  Result<void> put(std::string_view k, std::string_view v) {
    if (k.starts_with("de/")) {
      const std::string count_key = "applies/" + std::string(k.substr(3));
      auto count = tx->get(count_key);
      if (!count) return count.error();
      const int n = count.value() ? std::stoi(*count.value()) : 0;
      if (auto r = tx->put(count_key, std::to_string(n + 1)); !r) return r;
    }
    return tx->put(k, v);
  }
};

template <class B>
class CountingApp {
 public:
  using transaction = CountingTx<typename B::transaction>;
  explicit CountingApp(B inner) : inner_(std::move(inner)) {}

  Result<std::optional<std::string>> get(std::string_view k) const { return inner_.get(k); }
  template <class F>
  Result<bool> get(std::string_view k, F&& fn) const {
    return inner_.get(k, std::forward<F>(fn));
  }
  auto scan(const KeyRange& r) const { return inner_.scan(r); }
  Result<void> put(std::string_view k, std::string_view v) { return inner_.put(k, v); }
  Result<bool> erase(std::string_view k) { return inner_.erase(k); }
  Result<void> write(const WriteBatch& b) { return inner_.write(b); }
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    return inner_.transact([&](typename B::transaction& tx) {
      transaction counting{&tx};
      return fn(counting);
    });
  }

 private:
  B inner_;
};

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
      once += shard.value().app().get("applies/" + entry_key(e).substr(2)).value() == std::optional<std::string>("1");
    }
    CHECK(present == logged);  // none skipped
    CHECK(once == logged);     // none applied twice
  }
}
#endif
