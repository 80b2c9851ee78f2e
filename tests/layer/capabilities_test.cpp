// Layers keep the capabilities of what they wrap: the law checked at compile time for every
// layer and capability, a checkpoint taken through a stack of layers, and a replicated shard's
// status and WAIT through them.
#include <chrono>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/ttl.hpp>
#include <kvstack/layer/watch.hpp>
#include <kvstack/shard/shard.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace std::chrono_literals;

namespace {
// A Backend with no optional capability: MemoryBackend without checkpoint.
class PlainBackend {
 public:
  using transaction = MemoryBackend::transaction;
  Result<std::optional<std::string>> get(std::string_view key) const { return db_.get(key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return db_.get(key, std::forward<F>(fn));
  }
  Result<void> put(std::string_view key, std::string_view value) { return db_.put(key, value); }
  Result<bool> erase(std::string_view key) { return db_.erase(key); }
  Result<void> write(const WriteBatch& batch) { return db_.write(batch); }
  auto scan(const KeyRange& range) const { return db_.scan(range); }
  template <class F>
  auto transact(F&& fn) {
    return db_.transact(std::forward<F>(fn));
  }

 private:
  MemoryBackend db_;
};
static_assert(check_backend<PlainBackend>() && !Checkpointable<PlainBackend> && !Expiring<PlainBackend>);

template <class B>
concept Replicated = requires(const B& b) {
  { b.status() } -> std::same_as<ShardStatus>;
  { b.wait_replicated(1, 1, 1ms) } -> std::same_as<std::size_t>;
};
using Primary = Shard<BackendLog<MemoryBackend>, MemoryBackend, AsyncPrimaryBackup>;
static_assert(Replicated<Primary> && !Replicated<MemoryBackend>);

// The law: a layer has an optional capability exactly when the backend it wraps has it (Ttl adds
// Expiring, so for Ttl only the others are checked).
template <class Layer, class Below>
constexpr bool keeps_capabilities = Checkpointable<Layer> == Checkpointable<Below> && Expiring<Layer> == Expiring<Below> &&
                                    Replicated<Layer> == Replicated<Below>;
template <class Below>
constexpr bool every_layer_keeps_them =
    keeps_capabilities<Watched<Below>, Below> && keeps_capabilities<Metered<Below>, Below> &&
    Checkpointable<Ttl<Below>> == Checkpointable<Below> && Expiring<Ttl<Below>>;

static_assert(every_layer_keeps_them<PlainBackend>);
static_assert(every_layer_keeps_them<MemoryBackend>);
static_assert(every_layer_keeps_them<Ttl<MemoryBackend>>);
static_assert(every_layer_keeps_them<Ttl<PlainBackend>>);
static_assert(every_layer_keeps_them<Metered<Watched<Ttl<MemoryBackend>>>>);
static_assert(every_layer_keeps_them<Watched<Metered<PlainBackend>>>);
static_assert(every_layer_keeps_them<Primary>);
static_assert(every_layer_keeps_them<Ttl<Primary>>);
}  // namespace

TEST_CASE("a checkpoint taken through layers opens with its expiries", "[layer][checkpoint]") {
  test::TempDir dir;
  ManualClock clock;
  Metered<Watched<Ttl<MemoryBackend, ManualClock>>> db(Watched(Ttl<MemoryBackend, ManualClock>(MemoryBackend{}, clock)));
  db.put("kept", "1").value();
  db.put("session", "2", 10s).value();
  db.checkpoint(dir.path() / "cp").value();
  db.put("after", "3").value();

  Ttl<MemoryBackend, ManualClock> copy(MemoryBackend::load(dir.path() / "cp").value(), clock);
  CHECK(copy.get("kept").value() == "1");
  CHECK(copy.get("after").value() == std::nullopt);
  CHECK(copy.ttl("session").value() == 10s);
  clock.advance(10s);
  CHECK(copy.get("session").value() == std::nullopt);
  CHECK(copy.purge_expired().value() == 1);
}

TEST_CASE("a primary's backup lag and WAIT through layers", "[layer][shard]") {
  MemoryBackend log_store;
  Metered<Ttl<Primary>> db(Ttl<Primary>(
      Primary{BackendLog<MemoryBackend>{log_store, "log"}, MemoryBackend{}, AsyncPrimaryBackup{{.id = 1, .members = {1, 2}, .primary = 1}}}));
  for (int i = 0; i < 3; ++i) db.put("k" + std::to_string(i), "v").value();
  const ShardStatus status = db.status();  // the backup (2) has not answered
  REQUIRE(status.peers.size() == 1);
  CHECK(status.peers[0].id == 2);
  CHECK(status.peers[0].lag_entries == 3);
  CHECK(status.applied == 3);
  CHECK(db.wait_replicated(3, 1, 0ms) == 0);
  const std::string text = db.metrics().prometheus() + status.prometheus();
  CHECK(text.find("kvstack_operations_total{op=\"put\"} 3") != std::string::npos);
  CHECK(text.find("kvstack_shard_peer_lag_entries{peer=\"2\"} 3") != std::string::npos);
}
