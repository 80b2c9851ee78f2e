// kvstack::NoReplication — the policy of a shard with one replica: every write applies at once.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/policy.hpp>

namespace kvstack::inline v0 {

/// One replica, no log: `Shard<NoLog, App, NoReplication>` writes straight to App (its
/// `applies_directly` trait), so it costs nothing over App. As a core it hands each proposal
/// back for applying at once.
class NoReplication {
 public:
  static constexpr bool needs_log = false;
  static constexpr Consistency consistency = Consistency::linearizable;
  /// Writes go straight to the App: no command, no applied mark.
  static constexpr bool applies_directly = true;

  template <class L>
  Result<void> start(L&, std::uint64_t applied, std::uint64_t) {
    last_ = applied_ = applied;
    return success();
  }
  template <class L>
  Result<std::uint64_t> propose(L&, std::vector<std::string> commands) {
    const std::uint64_t first = last_ + 1;
    for (auto& c : commands) pending_.push_back({++last_, 0, std::move(c)});
    return first;
  }
  template <class L>
  Result<void> step(L&, Message) {
    return Error{errc::invalid_argument, "NoReplication: a single replica receives no messages"};
  }
  template <class L>
  Result<void> tick(L&) {
    return success();
  }
  template <class L>
  Result<Ready> ready(L&) {
    Ready r;
    r.apply = std::exchange(pending_, {});
    return r;
  }
  void applied(std::uint64_t index, std::uint64_t) { applied_ = index; }
  void snapshot_sent(std::uint64_t, const SnapshotMeta&) {}
  ShardStatus status() const { return {.role = Role::standalone, .commit = last_, .applied = applied_}; }

 private:
  std::uint64_t last_ = 0, applied_ = 0;
  std::vector<LogEntry> pending_;
};

static_assert(check_replication_policy<NoReplication>());

}  // namespace kvstack
