// kvstack::sim::Cluster — N shards in one thread over a sim::Network, in logical time: it
// delivers messages, ticks every live shard on its own clock (which may drift, jump or stall),
// crashes and restarts nodes, and hashes everything that happened so that two runs of one seed
// can be compared bit for bit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/sim/network.hpp>
#include <kvstack/sim/rng.hpp>

namespace kvstack::inline v0::sim {

/// How the nodes' clocks run. A node's clock ticks `rate` millionths of a tick per tick of the
/// cluster (the network's time): 1,000,000 keeps time, more runs fast, less runs slow.
struct ClockOptions {
  /// Each node's rate is drawn from the seed in [1,000,000 - d, 1,000,000 + d] (0: all keep time).
  std::uint64_t max_drift_ppm = 0;
};

/// Runs shards of type S (each with `step`, `tick` and `take_messages`, as kvstack::Shard), one
/// per node id. `make(id)` opens node id's shard; it is called again when a crashed node
/// restarts, so it should open it over storage that outlives the shard (sim::Disk).
template <class S>
class Cluster {
 public:
  using Factory = std::function<Result<S>(std::uint64_t id)>;

  Cluster(std::uint64_t seed, std::vector<std::uint64_t> ids, Factory make, NetworkOptions net = {}, ClockOptions clocks = {})
      : rng_(seed), network_(rng_.next(), net), ids_(std::move(ids)), make_(std::move(make)) {
    for (auto id : ids_) {
      if (clocks.max_drift_ppm > 0)  // drawn only when asked: runs without drift keep their streams
        clocks_[id].rate = one_tick - std::min(clocks.max_drift_ppm, one_tick) + rng_.below(2 * clocks.max_drift_ppm + 1);
      restart(id);
    }
  }

  const std::vector<std::uint64_t>& ids() const noexcept { return ids_; }
  bool up(std::uint64_t id) const { return nodes_.at(id).has_value(); }
  /// The live shard of node `id`.
  S& shard(std::uint64_t id) { return *nodes_.at(id); }
  Network& network() noexcept { return network_; }
  /// The cluster's own random numbers (for workloads and fault schedules), from its seed.
  Rng& rng() noexcept { return rng_; }
  std::uint64_t now() const noexcept { return network_.now(); }

  /// Stops node `id` at once: its shard is destroyed, messages to it are dropped.
  void crash(std::uint64_t id) {
    record_event(0xc0, id);
    nodes_.at(id).reset();
  }
  /// Opens node `id` again (from what its storage kept). Errors go to `errors()`.
  void restart(std::uint64_t id) {
    record_event(0x5a, id);
    auto s = make_(id);
    if (!s) return fail(id, s.error());
    nodes_[id].emplace(std::move(s).value());
  }

  /// Sets node `id`'s clock rate, in millionths of a tick per cluster tick.
  void set_clock_rate(std::uint64_t id, std::uint64_t rate) {
    record_event(0xd7, id);
    mix(rate);
    clocks_[id].rate = rate;
  }
  /// Node `id`'s clock leaps `ticks` ahead: it gets them all at its next tick.
  void jump_clock(std::uint64_t id, std::uint64_t ticks) {
    record_event(0x1b, id);
    mix(ticks);
    clocks_[id].jump += ticks;
  }
  /// Node `id`'s clock stands still for the next `ticks` cluster ticks (a paused process, or a
  /// clock stepped back that a monotonic reading holds still).
  void stall_clock(std::uint64_t id, std::uint64_t ticks) {
    record_event(0x57, id);
    mix(ticks);
    clocks_[id].stalled_until = std::max(clocks_[id].stalled_until, now() + ticks);
  }
  /// The ticks node `id`'s clock has counted (while it was down too).
  std::uint64_t local_time(std::uint64_t id) const {
    auto it = clocks_.find(id);
    return it == clocks_.end() ? 0 : it->second.ticks;
  }

  /// One tick: deliver what is due, tick every live shard as many times as its clock says, send
  /// what they say, advance time.
  void tick() {
    network_.deliver([&](Message&& m) {
      auto it = nodes_.find(m.to);
      if (it == nodes_.end() || !it->second) return;
      record_message(m);
      if (auto r = it->second->step(std::move(m)); !r) fail(it->first, r.error());
    });
    for (auto& [id, node] : nodes_) {
      const std::uint64_t n = clocks_[id].advance(now());
      for (std::uint64_t i = 0; i < n && node; ++i)
        if (auto r = node->tick(); !r) fail(id, r.error());
    }
    flush();
    network_.advance();
  }
  /// Sends what every live shard has queued (also after client writes, before the next tick).
  void flush() {
    for (auto& [id, node] : nodes_)
      if (node)
        for (auto& m : node->take_messages()) {
          if (observer_) observer_(m);
          network_.send(std::move(m));
        }
  }
  /// Calls `fn(message)` for every message a shard sends from now on.
  void observe(std::function<void(const Message&)> fn) { observer_ = std::move(fn); }
  void run(std::uint64_t ticks) {
    for (std::uint64_t i = 0; i < ticks; ++i) tick();
  }
  /// Ticks until `done()` or `max_ticks` pass; true if done.
  template <class Pred>
  bool run_until(Pred done, std::uint64_t max_ticks) {
    for (std::uint64_t i = 0; i < max_ticks; ++i) {
      if (done()) return true;
      tick();
    }
    return done();
  }

  /// Mixes a client's observation into the trace (so histories count in the hash).
  void record(std::uint64_t value, std::string_view bytes = {}) {
    mix(value);
    for (unsigned char c : bytes) mix(c);
  }
  /// A hash of every delivery, crash, restart and recorded observation so far.
  std::uint64_t trace_hash() const noexcept { return hash_; }
  /// What shards returned from step, tick or opening, with the node and the tick.
  const std::vector<std::string>& errors() const noexcept { return errors_; }

 private:
  void mix(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) hash_ = (hash_ ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  }
  void record_event(std::uint64_t tag, std::uint64_t id) {
    mix(tag);
    mix(id);
    mix(now());
  }
  void record_message(const Message& m) {
    for (std::uint64_t v : {std::uint64_t(m.type), m.from, m.to, m.term, m.index, m.log_term, m.commit,
                            std::uint64_t(m.reject), m.offset, m.session, std::uint64_t(m.data.size()), now()})
      mix(v);
    for (const auto& e : m.entries) {
      mix(e.index);
      mix(e.term);
      for (unsigned char c : e.command) mix(c);
    }
  }
  void fail(std::uint64_t id, const Error& e) {
    errors_.push_back("node " + std::to_string(id) + " at tick " + std::to_string(now()) + ": " + e.message());
  }

  static constexpr std::uint64_t one_tick = 1'000'000;
  struct Clock {
    std::uint64_t rate = one_tick, credit = 0, jump = 0, stalled_until = 0, ticks = 0;
    /// The ticks due at cluster time `now`.
    std::uint64_t advance(std::uint64_t now) {
      std::uint64_t n = std::exchange(jump, 0);
      if (now >= stalled_until) {
        credit += rate;
        n += credit / one_tick;
        credit %= one_tick;
      }
      ticks += n;
      return n;
    }
  };

  Rng rng_;
  Network network_;
  std::vector<std::uint64_t> ids_;
  Factory make_;
  std::function<void(const Message&)> observer_;
  std::map<std::uint64_t, std::optional<S>> nodes_;
  std::map<std::uint64_t, Clock> clocks_;
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
  std::vector<std::string> errors_;
};

}  // namespace kvstack::sim
