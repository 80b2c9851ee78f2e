// kvstack::sim::Network — a simulated network in logical time: seeded delay, loss, duplication
// and reordering, and partitions (symmetric, one-way, a node cut off from all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/transport.hpp>
#include <kvstack/sim/rng.hpp>

namespace kvstack::inline v0::sim {

/// The faults a Network injects; time in ticks.
struct NetworkOptions {
  std::uint64_t min_delay = 1;
  std::uint64_t max_delay = 3;  ///< each message waits a random delay in [min, max]: reordering
  double loss = 0;              ///< probability a message is dropped
  double duplicate = 0;         ///< probability a message is delivered twice (each copy delayed on its own)
};

/// What a Network did.
struct NetworkStats {
  std::uint64_t sent = 0, delivered = 0, lost = 0, duplicated = 0, cut = 0;
};

/// Carries Messages between node ids. `send` queues a message; `deliver(fn)` advances nothing
/// and hands over what is due at `now()`; `advance()` moves time on by one tick. A link that is
/// cut when a message is due drops it.
class Network {
 public:
  explicit Network(std::uint64_t seed, NetworkOptions options = {}) : rng_(seed), options_(options) {}

  void send(Message m) {
    ++stats_.sent;
    if (rng_.chance(options_.loss)) {
      ++stats_.lost;
      return;
    }
    if (rng_.chance(options_.duplicate)) {
      ++stats_.duplicated;
      enqueue(m);
    }
    enqueue(std::move(m));
  }

  /// Hands `fn(Message&&)` every message due now, in delivery order; returns how many.
  template <class F>
  std::size_t deliver(F&& fn) {
    return deliver_if([](const Message&) { return true; }, fn);
  }
  /// As deliver, for the messages to `node` only.
  template <class F>
  std::size_t deliver_to(std::uint64_t node, F&& fn) {
    return deliver_if([node](const Message& m) { return m.to == node; }, fn);
  }

  /// One node's view of the network, a Transport: what it sends comes from it.
  class Endpoint {
   public:
    Endpoint(Network* network, std::uint64_t id) : network_(network), id_(id) {}
    void send(Message m) {
      m.from = id_;
      network_->send(std::move(m));
    }
    template <class F>
    std::size_t receive(F&& fn) {
      return network_->deliver_to(id_, std::forward<F>(fn));
    }

   private:
    Network* network_;
    std::uint64_t id_;
  };
  Endpoint endpoint(std::uint64_t node) { return Endpoint(this, node); }

  void advance() noexcept { ++now_; }
  std::uint64_t now() const noexcept { return now_; }

  /// Cuts every link between a node of `a` and a node of `b`, both ways.
  void partition(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
    for (auto x : a)
      for (auto y : b) cut(x, y), cut(y, x);
  }
  /// Cuts the link from `from` to `to` only (`to` still reaches `from`).
  void cut(std::uint64_t from, std::uint64_t to) { cut_.insert({from, to}); }
  /// Cuts `node` off from every other node.
  void isolate(std::uint64_t node) { isolated_.insert(node); }
  /// Restores every link.
  void heal() {
    cut_.clear();
    isolated_.clear();
  }
  bool linked(std::uint64_t from, std::uint64_t to) const {
    return !isolated_.contains(from) && !isolated_.contains(to) && !cut_.contains({from, to});
  }

  NetworkOptions& options() noexcept { return options_; }
  const NetworkStats& stats() const noexcept { return stats_; }
  std::size_t in_flight() const noexcept { return queue_.size(); }

 private:
  template <class Pred, class F>
  std::size_t deliver_if(Pred wanted, F& fn) {
    std::size_t n = 0;
    for (auto it = queue_.begin(); it != queue_.end() && it->first.first <= now_;) {
      if (!wanted(it->second)) {
        ++it;
        continue;
      }
      Message m = std::move(it->second);
      it = queue_.erase(it);
      if (!linked(m.from, m.to)) {
        ++stats_.cut;
        continue;
      }
      ++stats_.delivered;
      ++n;
      fn(std::move(m));
    }
    return n;
  }

  void enqueue(Message m) {
    const std::uint64_t at = now_ + rng_.between(options_.min_delay, options_.max_delay);
    queue_.emplace(std::pair{at, seq_++}, std::move(m));
  }

  Rng rng_;
  NetworkOptions options_;
  NetworkStats stats_;
  std::uint64_t now_ = 0, seq_ = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, Message> queue_;  // (due tick, send order)
  std::set<std::pair<std::uint64_t, std::uint64_t>> cut_;
  std::set<std::uint64_t> isolated_;
};

static_assert(check_transport<Network::Endpoint>());

}  // namespace kvstack::sim
