// kvstack::ReplicaRunner — drives a shard over a real Transport in a thread of its own: hands
// it what arrives, ticks it on the steady clock, sends what it says.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <kvstack/core/result.hpp>
#include <kvstack/shard/policy.hpp>
#include <kvstack/shard/transport.hpp>

namespace kvstack::inline v0 {

/// Runs `shard` (a Shard with a policy that sends messages) over `transport` until destroyed.
/// Both must outlive the runner. Messages a client's write queues go out at once if the
/// transport has `wake()` (else within `poll`); the transport's `wait` wakes the runner early
/// for messages that arrive.
template <class S, class T>
class ReplicaRunner {
  static_assert(check_transport<T>());
  // A transport that can be woken is, whenever the shard queues messages outside the runner.
  static constexpr bool wakeable = requires(S& s, T& t) {
    s.on_outbox(std::function<void()>{});
    t.wake();
  };

 public:
  ReplicaRunner(S& shard, T& transport, std::chrono::milliseconds tick = std::chrono::milliseconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(1))
      : shard_(shard), transport_(transport), tick_(tick), poll_(poll), thread_([this] { run(); }) {
    if constexpr (wakeable) shard_.on_outbox([&t = transport_] { t.wake(); });
  }
  ~ReplicaRunner() {
    stop_ = true;
    if constexpr (wakeable) {
      shard_.on_outbox({});
      transport_.wake();
    }
    thread_.join();
  }
  ReplicaRunner(const ReplicaRunner&) = delete;
  ReplicaRunner& operator=(const ReplicaRunner&) = delete;

  /// The last error the shard returned from a step or a tick, if any.
  std::optional<Error> last_error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  void run() {
    auto next_tick = std::chrono::steady_clock::now() + tick_;
    while (!stop_) {
      transport_.receive([&](Message&& m) { note(shard_.step(std::move(m))); });
      if (std::chrono::steady_clock::now() >= next_tick) {
        note(shard_.tick());
        next_tick += tick_;
      }
      for (auto& m : shard_.take_messages()) transport_.send(std::move(m));
      const auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - std::chrono::steady_clock::now());
      const auto wait = std::clamp(until_tick, std::chrono::milliseconds(0), poll_);
      if constexpr (requires { transport_.wait(wait); }) transport_.wait(wait);
      else std::this_thread::sleep_for(wait);
    }
  }
  void note(Result<void> r) {
    if (r) return;
    std::lock_guard lock(mu_);
    error_ = r.error();
  }

  S& shard_;
  T& transport_;
  std::chrono::milliseconds tick_, poll_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace kvstack
