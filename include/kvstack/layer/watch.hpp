// kvstack::Watched<B> — a layer that tells subscribers about every committed change in a key
// range: puts, erases and expiries, after commit and in commit order.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/layer/pass_through.hpp>

namespace kvstack::inline v0 {

enum class EventKind : unsigned char { put, erase, expire };

/// One change, as a subscriber sees it; the views are valid during the callback. `value` is the
/// new value of a put, the last value of an expired key, empty for an erase.
struct Event {
  EventKind kind;
  std::string_view key;
  std::string_view value;
};

/// A Backend layer over `B` that reports changes to subscribers.
///
/// - `subscribe(range, callback)` returns a Subscription; `callback(const Event&)` is called for
///   each change to a key in `range` (its direction and limit do not matter) committed after
///   `subscribe` returned, until the Subscription is destroyed or reset.
/// - Events are delivered after their write committed, in commit order, one per operation: a
///   put, an erase that removed a key, each operation of a batch (a batch's erase is reported
///   whether or not the key was there, as a batch does not read), each put and each effective
///   erase of a transaction. A write that failed or a transaction that rolled back reports
///   nothing. Over an Expiring layer (Ttl), keys removed because they expired are `expire`
///   events (from purge_expired, or an erase that found the key expired).
/// - Delivery runs on a writing thread, one thread at a time, never while a write lock is
///   held: a callback may write to this layer (its own event follows once it returns) and may
///   destroy any Subscription, its own included. A write may return before its event was
///   delivered when another thread is delivering. Callbacks must not throw.
/// - Destroying a Subscription from another thread waits for a call of its callback that is
///   running, so what the callback uses may be freed right after.
template <class B>
class Watched : public PassThrough<Watched<B>> {
  static_assert(check_backend<B>());

  struct OwnedEvent {
    EventKind kind;
    std::string key;
    std::string value;
  };
  struct Subscriber {
    KeyRange range;
    std::function<void(const Event&)> callback;
    std::mutex running;  // held while the callback runs
    std::atomic<bool> active{true};
  };
  struct Hub {
    std::mutex write;  // a commit and the queueing of its events happen as one step
    std::mutex mu;     // the fields below
    std::vector<OwnedEvent> queue;
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    std::atomic<std::size_t> subscriber_count{0};
    bool draining = false;
    std::thread::id deliverer;

    void enqueue(std::vector<OwnedEvent>& events) {
      std::lock_guard lock(mu);
      std::move(events.begin(), events.end(), std::back_inserter(queue));
    }
    // Delivers what is queued, unless another thread already is (it will deliver ours too).
    void drain() noexcept {
      std::unique_lock lock(mu);
      if (draining) return;
      draining = true;
      deliverer = std::this_thread::get_id();
      while (!queue.empty()) {
        std::vector<OwnedEvent> batch;
        batch.swap(queue);
        auto subs = subscribers;
        lock.unlock();
        for (const auto& e : batch)
          for (const auto& s : subs)
            if (s->range.contains(e.key)) {
              std::lock_guard running(s->running);
              if (s->active.load(std::memory_order_acquire)) s->callback(Event{e.kind, e.key, e.value});
            }
        lock.lock();
      }
      draining = false;
      deliverer = {};
    }
  };

 public:
  /// Keeps a subscription alive; destroying or resetting it unsubscribes.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept = default;
    Subscription& operator=(Subscription&& other) noexcept {
      if (this != &other) {
        reset();
        hub_ = std::move(other.hub_);
        subscriber_ = std::move(other.subscriber_);
      }
      return *this;
    }
    ~Subscription() { reset(); }

    /// Unsubscribes: no call of the callback starts after this returns, and none is running
    /// (except the one this is called from).
    void reset() noexcept {
      if (!subscriber_) return;
      bool on_delivering_thread = false;
      if (auto hub = hub_.lock()) {
        std::lock_guard lock(hub->mu);
        std::erase(hub->subscribers, subscriber_);
        hub->subscriber_count.store(hub->subscribers.size(), std::memory_order_release);
        on_delivering_thread = hub->draining && hub->deliverer == std::this_thread::get_id();
      }
      if (on_delivering_thread) {
        subscriber_->active.store(false, std::memory_order_release);
      } else {
        std::lock_guard running(subscriber_->running);
        subscriber_->active.store(false, std::memory_order_release);
      }
      subscriber_.reset();
      hub_.reset();
    }
    explicit operator bool() const noexcept { return subscriber_ != nullptr; }

   private:
    friend class Watched;
    Subscription(std::weak_ptr<Hub> hub, std::shared_ptr<Subscriber> s) : hub_(std::move(hub)), subscriber_(std::move(s)) {}
    std::weak_ptr<Hub> hub_;
    std::shared_ptr<Subscriber> subscriber_;
  };

  /// What `transact` hands to `fn`: the transaction below, with its writes recorded as events.
  class transaction {
   public:
    transaction(typename B::transaction& tx, std::vector<OwnedEvent>* events) : tx_(&tx), events_(events) {}
    Result<std::optional<std::string>> get(std::string_view key) const { return tx_->get(key); }
    template <class F>
    Result<bool> get(std::string_view key, F&& fn) const {
      return tx_->get(key, std::forward<F>(fn));
    }
    Result<void> put(std::string_view key, std::string_view value) {
      auto r = tx_->put(key, value);
      if (r && events_) events_->push_back({EventKind::put, std::string(key), std::string(value)});
      return r;
    }
    /// Forwarded when the transaction below takes a time to live (Ttl's does).
    Result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl)
      requires requires(typename B::transaction& tx, std::string_view k, std::chrono::milliseconds t) { tx.put(k, k, t); }
    {
      auto r = tx_->put(key, value, ttl);
      if (r && events_) events_->push_back({EventKind::put, std::string(key), std::string(value)});
      return r;
    }
    Result<bool> erase(std::string_view key) {
      auto r = tx_->erase(key);
      if (r && r.value() && events_) events_->push_back({EventKind::erase, std::string(key), {}});
      return r;
    }
    auto scan(const KeyRange& range) const { return tx_->scan(range); }
    /// Forwarded when the transaction below tells a key's time to live (Ttl's does).
    auto ttl(std::string_view key) const
      requires requires(const typename B::transaction& tx) { tx.ttl(key); }
    {
      return tx_->ttl(key);
    }

   private:
    typename B::transaction* tx_;
    std::vector<OwnedEvent>* events_;
  };

  explicit Watched(B inner) : hub_(std::make_shared<Hub>()), inner_(std::move(inner)) {
    if constexpr (Expiring<B> && requires { inner_.on_expire([](std::string_view, std::string_view) {}); }) {
      inner_.on_expire([hub = hub_.get()](std::string_view key, std::string_view value) {
        if (hub->subscriber_count.load(std::memory_order_acquire) == 0) return;
        std::vector<OwnedEvent> events{{EventKind::expire, std::string(key), std::string(value)}};
        hub->enqueue(events);
      });
    }
  }

  B& inner() noexcept { return inner_; }
  const B& inner() const noexcept { return inner_; }

  /// Calls `callback(const Event&)` for each change in `range` committed from now on.
  [[nodiscard]] Subscription subscribe(KeyRange range, std::function<void(const Event&)> callback) {
    auto s = std::make_shared<Subscriber>();
    s->range = std::move(range);
    s->callback = std::move(callback);
    std::lock_guard write(hub_->write);  // writes in flight are before this subscription
    std::lock_guard lock(hub_->mu);
    hub_->subscribers.push_back(s);
    hub_->subscriber_count.store(hub_->subscribers.size(), std::memory_order_release);
    return Subscription(hub_, std::move(s));
  }

  Result<std::optional<std::string>> get(std::string_view key) const { return inner_.get(key); }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    return inner_.get(key, std::forward<F>(fn));
  }
  auto scan(const KeyRange& range) const { return inner_.scan(range); }

  Result<void> put(std::string_view key, std::string_view value) {
    return commit([&] { return inner_.put(key, value); },
                  [&](auto& events) { events.push_back({EventKind::put, std::string(key), std::string(value)}); });
  }
  /// Forwarded to an Expiring layer below; reported as a put.
  Result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    return commit([&] { return inner_.put(key, value, ttl); },
                  [&](auto& events) { events.push_back({EventKind::put, std::string(key), std::string(value)}); });
  }
  Result<bool> erase(std::string_view key) {
    return commit([&] { return inner_.erase(key); }, [&](auto& events, bool erased) {
      if (erased) events.push_back({EventKind::erase, std::string(key), {}});
    });
  }
  Result<void> write(const WriteBatch& batch) {
    return commit([&] { return inner_.write(batch); }, [&](auto& events) {
      for (const auto& op : batch)
        events.push_back({op.kind == WriteBatch::Kind::put ? EventKind::put : EventKind::erase, op.key, op.value});
    });
  }

  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    std::vector<OwnedEvent> events;
    std::unique_lock write(hub_->write, std::defer_lock);
    const bool watching = is_watched(write);
    auto result = inner_.transact([&](typename B::transaction& itx) {
      events.clear();  // an engine that retries runs fn again
      transaction tx(itx, watching ? &events : nullptr);
      return std::invoke(fn, tx);
    });
    if (result && watching) hub_->enqueue(events);
    return deliver(write, std::move(result));
  }

  /// Forwarded to an Expiring layer below. `expire(key, 0)` reports an erase.
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    return commit([&] { return inner_.expire(key, ttl); }, [&](auto& events, bool changed) {
      if (changed && ttl <= std::chrono::milliseconds::zero()) events.push_back({EventKind::erase, std::string(key), {}});
    });
  }
  Result<bool> persist(std::string_view key)
    requires Expiring<B>
  {
    return inner_.persist(key);
  }
  Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) const
    requires Expiring<B>
  {
    return inner_.ttl(key);
  }
  /// Forwarded; each key removed is reported as an `expire` event.
  Result<std::size_t> purge_expired(std::size_t max = static_cast<std::size_t>(-1))
    requires Expiring<B>
  {
    return commit([&] { return inner_.purge_expired(max); }, [](auto&) {});
  }

 private:
  // Takes the write lock if anyone is subscribed (a subscriber that arrives meanwhile waits for
  // it, and so does not see this write).
  bool is_watched(std::unique_lock<std::mutex>& write) {
    if (hub_->subscriber_count.load(std::memory_order_acquire) == 0) return false;
    write.lock();
    return true;
  }
  template <class R>
  R deliver(std::unique_lock<std::mutex>& write, R result) {
    if (write.owns_lock()) {
      write.unlock();
      hub_->drain();
    }
    return result;
  }
  // Runs `op` (a write below); if it succeeds, `record(events[, value])` lists its events.
  template <class Op, class Record>
  auto commit(Op op, Record record) {
    std::unique_lock write(hub_->write, std::defer_lock);
    const bool watching = is_watched(write);
    auto result = op();
    if (result && watching) {
      std::vector<OwnedEvent> events;
      if constexpr (std::is_invocable_v<Record&, std::vector<OwnedEvent>&>) record(events);
      else record(events, result.value());
      hub_->enqueue(events);
    }
    return deliver(write, std::move(result));
  }

  std::shared_ptr<Hub> hub_;  // before inner_: the expiry listener below points at it
  B inner_;
};

}  // namespace kvstack
