// kvstack::LocalNetwork — replicas in one process: a Transport per replica over in-memory
// queues, for tests, benchmarks and programs that hold a whole group.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/transport.hpp>

namespace kvstack::inline v0 {

/// Queues between the replicas of one process. `endpoint(id)` is replica id's Transport; a
/// message to an id without an endpoint is dropped. Thread-safe; must outlive its endpoints.
class LocalNetwork {
  struct Inbox {
    std::vector<Message> messages;
    bool woken = false;
    std::condition_variable arrived;
  };

 public:
  /// Replica `id`'s side of the network: `send`, `receive`, and `wait` and `wake` (for
  /// ReplicaRunner).
  class Endpoint {
   public:
    void send(Message m) { network_->deliver(std::move(m)); }
    /// Hands `fn(Message&&)` every message that arrived since the last call; returns how many.
    template <class F>
    std::size_t receive(F&& fn) {
      std::vector<Message> arrived;
      {
        std::lock_guard lock(network_->mu_);
        arrived.swap(inbox_->messages);
      }
      for (auto& m : arrived) fn(std::move(m));
      return arrived.size();
    }
    /// Waits until a message has arrived, `wake()` was called or `timeout` passes; true if a
    /// message is waiting.
    bool wait(std::chrono::milliseconds timeout) {
      std::unique_lock lock(network_->mu_);
      inbox_->arrived.wait_for(lock, timeout, [&] { return !inbox_->messages.empty() || inbox_->woken; });
      inbox_->woken = false;
      return !inbox_->messages.empty();
    }
    /// Ends a `wait` now (the shard has messages to send).
    void wake() {
      std::lock_guard lock(network_->mu_);
      inbox_->woken = true;
      inbox_->arrived.notify_one();
    }

   private:
    friend class LocalNetwork;
    Endpoint(LocalNetwork* network, Inbox* inbox) : network_(network), inbox_(inbox) {}
    LocalNetwork* network_;
    Inbox* inbox_;
  };

  LocalNetwork() = default;
  LocalNetwork(const LocalNetwork&) = delete;
  LocalNetwork& operator=(const LocalNetwork&) = delete;

  /// Replica `id`'s endpoint (the same queue each time it is asked for).
  Endpoint endpoint(std::uint64_t id) {
    std::lock_guard lock(mu_);
    return Endpoint(this, &inboxes_[id]);
  }

 private:
  void deliver(Message m) {
    std::lock_guard lock(mu_);
    auto it = inboxes_.find(m.to);
    if (it == inboxes_.end()) return;
    it->second.messages.push_back(std::move(m));
    it->second.arrived.notify_one();
  }

  std::mutex mu_;
  std::map<std::uint64_t, Inbox> inboxes_;
};

static_assert(check_transport<LocalNetwork::Endpoint>());

}  // namespace kvstack
