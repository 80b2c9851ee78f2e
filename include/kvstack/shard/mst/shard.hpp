// kvstack::Shard<NoLog, App, Mst<Fanout>> — a Backend replicated by Mst: writes apply here at
// once, stamped, with the Merkle Search Tree updated in the same App transaction; anti-entropy
// with the peers runs on the runner's ticks and messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/buffered_transaction.hpp>
#include <kvstack/shard/mst/reader.hpp>
#include <kvstack/shard/mst/replica.hpp>
#include <kvstack/shard/no_log.hpp>
#include <kvstack/shard/shard_backend.hpp>

namespace kvstack::inline v0 {

/// A replica of an Mst shard over `App` (any Backend, which it shares with nothing: it keeps its
/// records, tree and clock there). A Backend: reads see this replica's data (eventually
/// consistent: a write elsewhere shows up after a round of anti-entropy); a write (put, erase,
/// write, a transaction's writes) is one App transaction, stamped by this replica's hybrid
/// clock, and returns when it has applied here. Its runner calls `step(message)` for each
/// message received, `tick()` on its clock, and sends what `take_messages()` returns.
///
/// `physical_time` gives the stamps' physical part: milliseconds since the Unix epoch by
/// default; the simulator gives each node its own drifting clock.
///
/// Thread-safe: reads run in parallel and never wait; writes, transactions and the runner's
/// calls are serialized, so what a transaction read is what its writes apply over.
template <Backend App, std::size_t Fanout>
class Shard<NoLog, App, Mst<Fanout>> {
 public:
  using Policy = Mst<Fanout>;
  using transaction = detail::BufferedTransaction<detail::MstReader<App>>;
  using PhysicalTime = std::function<std::uint64_t()>;
  static constexpr bool snapshot_scans = snapshot_scans_v<App>;

  /// Milliseconds since the Unix epoch.
  static std::uint64_t system_time() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  }

  /// Opens the replica over `app`; throws std::system_error if its stored state is damaged (use
  /// `open` to get the error as a value).
  Shard(NoLog log, App app, Policy policy, PhysicalTime physical_time = system_time)
      : Shard(open(log, std::move(app), std::move(policy), std::move(physical_time)).value()) {}

  static Result<Shard> open(NoLog, App app, Policy policy, PhysicalTime physical_time = system_time) {
    Shard s(Unstarted{}, std::move(app), std::move(policy), std::move(physical_time));
    if (auto r = s.policy_.start(s.app_, s.time_()); !r) return r.error();
    return s;
  }

  App& app() noexcept { return app_; }
  const App& app() const noexcept { return app_; }
  const Policy& policy() const noexcept { return policy_; }
  ShardStatus status() const {
    std::lock_guard lock(*mu_);
    return policy_.status();
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return detail::copy_get(*this, key); }
  /// Zero-copy read: `fn(std::string_view)` runs if the key exists; `fn` may write to the shard.
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return reader().get(key, std::forward<F>(fn));
  }
  /// The live entries in `range`, over a snapshot of App when its scans are.
  auto scan(const KeyRange& range) const { return reader().scan(range); }
  /// The key's record as stored: its value or tombstone and the stamp of the write that set it.
  Result<std::optional<MstRecord>> record(std::string_view key) const { return detail::read_record(app_, key); }
  /// The root digest of this replica's tree: equal on two replicas exactly when they hold the
  /// same records.
  Result<Digest> root() {
    std::lock_guard lock(*mu_);
    return policy_.root(app_);
  }

  Result<void> put(std::string_view key, std::string_view value) {
    const std::pair<std::string_view, std::optional<std::string_view>> one{key, value};
    return apply(std::span(&one, 1));
  }
  /// Writes a tombstone if the key is live; false (and nothing written) otherwise.
  Result<bool> erase(std::string_view key) {
    return transact([&](transaction& tx) { return tx.erase(key); });
  }
  /// Applies the batch in one App transaction: all of it or none.
  Result<void> write(const WriteBatch& batch) {
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> writes;
    writes.reserve(batch.size());
    for (const auto& op : batch)
      writes.emplace_back(op.key, op.kind == WriteBatch::Kind::put ? std::optional<std::string_view>(op.value) : std::nullopt);
    return apply(writes);
  }
  /// Runs `fn(transaction&) -> Result<R>` with other writers held off; its writes then apply in
  /// one App transaction, each stamped.
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    std::lock_guard lock(*mu_);
    transaction tx(reader());
    auto result = std::invoke(fn, tx);
    if (!result || tx.writes().empty()) return result;
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> writes;
    writes.reserve(tx.writes().size());
    for (const auto& [k, v] : tx.writes()) writes.emplace_back(k, v ? std::optional<std::string_view>(*v) : std::nullopt);
    if (auto r = apply_locked(writes); !r) return r.error();
    return result;
  }

  /// Starts a round of anti-entropy with `peer` now (as `tick` does every sync_ticks).
  Result<void> start_round(std::uint64_t peer) {
    std::lock_guard lock(*mu_);
    return policy_.start_round(app_, peer, time_());
  }

  /// Runner: a message from a peer.
  Result<void> step(const Message& m) {
    std::lock_guard lock(*mu_);
    return policy_.step(app_, m, time_());
  }
  /// Runner: one unit of time has passed.
  Result<void> tick() {
    std::lock_guard lock(*mu_);
    return policy_.tick(app_, time_());
  }
  /// Runner: the messages to send since the last call.
  std::vector<Message> take_messages() {
    std::lock_guard lock(*mu_);
    return policy_.take_messages();
  }

 private:
  using Layout = detail::MstLayout;
  struct Unstarted {};
  Shard(Unstarted, App app, Policy policy, PhysicalTime time)
      : app_(std::move(app)), policy_(std::move(policy)), time_(std::move(time)), mu_(std::make_unique<std::mutex>()) {}

  detail::MstReader<App> reader() const { return detail::MstReader<App>(&app_); }

  Result<void> apply(std::span<const std::pair<std::string_view, std::optional<std::string_view>>> writes) {
    std::lock_guard lock(*mu_);
    return apply_locked(writes);
  }
  /// With mu_ held: stamps and stores `writes` in one App transaction; then, once enough writes
  /// wait for the tree, takes them in (if that fails, the write stands, and the next tick
  /// reports the error).
  Result<void> apply_locked(std::span<const std::pair<std::string_view, std::optional<std::string_view>>> writes) {
    const std::uint64_t now = time_();
    auto wrote = app_.transact([&](auto& tx) -> Result<void> {
      for (const auto& [key, value] : writes) {
        if (auto w = policy_.write(tx, key, value, now); !w) return w.error();
      }
      return success();
    });
    if (wrote && policy_.tree_due()) (void)policy_.update_tree(app_);
    return wrote;
  }

  App app_;
  Policy policy_;
  PhysicalTime time_;
  std::unique_ptr<std::mutex> mu_;
};

}  // namespace kvstack
