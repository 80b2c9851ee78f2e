// kvstack::ManualClock — a clock that moves only when told to, for tests of anything that expires.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0 {

/// A Clock (as std::chrono's) whose time moves only by `advance(d)` or `set(t)`. Copies share
/// one time, so a test keeps a copy and moves the time of the layer that holds the other.
class ManualClock {
 public:
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<ManualClock>;
  static constexpr bool is_steady = false;

  /// Starts at `start` (the clock's epoch by default).
  explicit ManualClock(time_point start = time_point{})
      : now_(std::make_shared<std::atomic<rep>>(start.time_since_epoch().count())) {}

  time_point now() const noexcept { return time_point(duration(now_->load(std::memory_order_acquire))); }
  void advance(duration d) noexcept { now_->fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(time_point t) noexcept { now_->store(t.time_since_epoch().count(), std::memory_order_release); }

 private:
  std::shared_ptr<std::atomic<rep>> now_;
};

namespace detail {
/// `clock.now()` in whole milliseconds since the clock's epoch: how expiring layers store time.
template <class Clock>
std::int64_t now_ms(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
}
/// `now + ttl` in milliseconds; errc::invalid_argument unless ttl > 0 and the sum fits.
inline Result<std::int64_t> deadline_after(std::int64_t now, std::chrono::milliseconds ttl) {
  std::int64_t deadline = 0;
  if (ttl.count() <= 0 || __builtin_add_overflow(now, ttl.count(), &deadline))
    return Error{errc::invalid_argument,
                 "a time to live must be positive and end within 292 million years, got " + std::to_string(ttl.count()) + " ms"};
  return deadline;
}
}  // namespace detail

}  // namespace kvstack
