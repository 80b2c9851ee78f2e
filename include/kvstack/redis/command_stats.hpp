// kvstack::redis::CommandStats — what INFO commandstats and SLOWLOG report: per command, its calls,
// the time it ran and how many failed; and the slow log, the most recent commands that ran longer
// than a threshold. A command's time is its run inside the backend transaction, not the commit
// (as Redis's excludes the AOF's fsync). Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

class CommandStats {
 public:
  /// One command's totals.
  struct Totals {
    std::uint64_t calls = 0, usec = 0, failed = 0;
  };
  /// One slow log entry, as SLOWLOG GET gives it.
  struct SlowEntry {
    std::uint64_t id = 0;
    std::int64_t unix_seconds = 0, usec = 0;
    std::vector<std::string> argv;  ///< at most 32 arguments of at most 128 bytes, as Redis keeps them
  };

  /// Counters for `commands` commands, numbered as in the command table.
  explicit CommandStats(std::size_t commands) : counters_(commands) {}

  /// Records a run of command number `command`.
  void record(std::size_t command, Args argv, std::chrono::nanoseconds took, bool failed) {
    auto& c = counters_[command];
    c.calls.fetch_add(1, std::memory_order_relaxed);
    c.nanos.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
    if (failed) c.failed.fetch_add(1, std::memory_order_relaxed);
    const auto usec = took.count() / 1000;
    const auto threshold = slower_than_usec.load(std::memory_order_relaxed);
    if (threshold >= 0 && usec >= threshold) log_slow(argv, usec);
  }

  Totals totals(std::size_t command) const {
    auto& c = counters_[command];
    return {c.calls.load(std::memory_order_relaxed), c.nanos.load(std::memory_order_relaxed) / 1000,
            c.failed.load(std::memory_order_relaxed)};
  }
  /// Zeroes the counters (CONFIG RESETSTAT).
  void reset_totals() {
    for (auto& c : counters_) c.calls = 0, c.nanos = 0, c.failed = 0;
  }

  /// The `count` most recent slow entries (all when negative), newest first.
  std::vector<SlowEntry> slow_entries(std::int64_t count) const {
    std::lock_guard lock(mu_);
    auto n = count < 0 ? slow_.size() : std::min(slow_.size(), static_cast<std::size_t>(count));
    return {slow_.begin(), slow_.begin() + static_cast<std::ptrdiff_t>(n)};
  }
  std::size_t slow_length() const {
    std::lock_guard lock(mu_);
    return slow_.size();
  }
  void reset_slow() {
    std::lock_guard lock(mu_);
    slow_.clear();
  }
  /// Sets slowlog-max-len, dropping the oldest entries past it.
  void set_slow_max(std::size_t n) {
    std::lock_guard lock(mu_);
    slow_max_ = n;
    while (slow_.size() > slow_max_) slow_.pop_back();
  }
  std::size_t slow_max() const {
    std::lock_guard lock(mu_);
    return slow_max_;
  }

  /// slowlog-log-slower-than: microseconds; negative: log nothing; 0: log every command.
  std::atomic<std::int64_t> slower_than_usec{10000};

 private:
  struct Counters {
    std::atomic<std::uint64_t> calls{0}, nanos{0}, failed{0};
  };

  void log_slow(Args argv, std::int64_t usec) {
    SlowEntry e;
    e.usec = usec;
    e.unix_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    constexpr std::size_t max_args = 32, max_bytes = 128;
    for (std::size_t i = 0; i < argv.size() && i < max_args; ++i) {
      if (i + 1 == max_args && argv.size() > max_args) {
        e.argv.push_back("... (" + std::to_string(argv.size() - max_args + 1) + " more arguments)");
        break;
      }
      const auto& a = argv[i];
      e.argv.push_back(a.size() <= max_bytes ? a
                                             : a.substr(0, max_bytes) + "... (" + std::to_string(a.size() - max_bytes) +
                                                   " more bytes)");
    }
    std::lock_guard lock(mu_);
    if (slow_max_ == 0) return;
    e.id = next_id_++;
    slow_.push_front(std::move(e));
    if (slow_.size() > slow_max_) slow_.pop_back();
  }

  std::vector<Counters> counters_;
  mutable std::mutex mu_;
  std::deque<SlowEntry> slow_;  ///< newest first
  std::size_t slow_max_ = 128;
  std::uint64_t next_id_ = 0;
};

}  // namespace kvstack::redis
