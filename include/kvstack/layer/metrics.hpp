// kvstack::Metered<B, Clock> — a layer that counts operations, errors and bytes and keeps latency
// histograms, readable as a plain struct or as Prometheus text.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/core/write_batch.hpp>
#include <kvstack/detail/scan_base.hpp>
#include <kvstack/layer/pass_through.hpp>

namespace kvstack::inline v0 {

/// The operations Metered tells apart. `expiry` is expire, persist, ttl and purge_expired of an
/// Expiring layer below.
enum class Operation : unsigned char { get, put, erase, write, scan, transact, expiry };
inline constexpr std::array<std::string_view, 7> operation_names = {"get",  "put",      "erase", "write",
                                                                   "scan", "transact", "expiry"};

struct MeteredOptions {
  /// Keep latency histograms (percentiles, max, total, the slow count). Off by default: then no
  /// clock is read and an operation costs only its counters (a few relaxed atomic adds).
  bool latency = false;
  /// Operations that take longer count as slow (with `latency`).
  std::chrono::nanoseconds slow_threshold = std::chrono::milliseconds(10);
  /// With `latency`, time one operation in this many (per thread; a power of two). 1 times every
  /// operation; a larger value saves the two clock reads on the others (percentiles and the slow
  /// count then come from the timed ones; counts, errors and bytes stay exact).
  std::uint32_t sample_every = 1;
};

/// The figures of one operation kind. Latencies are upper bounds of histogram buckets (within
/// 12.5 %), except `max` and `total`, which are exact.
struct OperationMetrics {
  std::string_view name;
  std::uint64_t count = 0;   ///< operations completed, successful or not
  std::uint64_t errors = 0;  ///< of which returned an error
  std::uint64_t bytes = 0;   ///< key and value bytes read or written
  std::uint64_t slow = 0;    ///< timed operations slower than the threshold
  std::uint64_t timed = 0;   ///< operations whose latency was measured
  std::chrono::nanoseconds p50{}, p90{}, p99{}, max{}, total{};
};

/// Everything a Metered layer counted, taken at one moment (each figure read atomically).
struct MetricsSnapshot {
  std::array<OperationMetrics, operation_names.size()> operations;
  bool latency = false;  ///< latency figures were kept (MeteredOptions::latency)
  std::chrono::nanoseconds slow_threshold{};

  const OperationMetrics& operator[](Operation op) const { return operations[static_cast<std::size_t>(op)]; }

  /// Prometheus text exposition format (version 0.0.4), names prefixed with `prefix`; the
  /// latency series only when latency was kept.
  std::string prometheus(std::string_view prefix = "kvstack") const {
    std::string out;
    auto number = [&](auto v) {
      char buf[32];
      out.append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
    };
    auto seconds = [&](std::chrono::nanoseconds ns) { number(std::chrono::duration<double>(ns).count()); };
    auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
      out.append("# HELP ").append(prefix).append(name).append(" ").append(help).append("\n# TYPE ");
      out.append(prefix).append(name).append(" ").append(type).append("\n");
    };
    auto sample = [&](std::string_view name, const OperationMetrics& m, std::string_view extra = {}) {
      out.append(prefix).append(name).append("{op=\"").append(m.name).append("\"").append(extra).append("} ");
    };
    auto counter = [&](std::string_view name, std::string_view help, std::uint64_t OperationMetrics::*field) {
      header(name, "counter", help);
      for (const auto& m : operations) {
        sample(name, m);
        number(m.*field);
        out.push_back('\n');
      }
    };
    counter("_operations_total", "Operations completed, successful or not.", &OperationMetrics::count);
    counter("_operation_errors_total", "Operations that returned an error.", &OperationMetrics::errors);
    counter("_operation_bytes_total", "Key and value bytes read or written.", &OperationMetrics::bytes);
    if (!latency) return out;
    std::string help = "Timed operations slower than ";
    help.append(std::to_string(std::chrono::duration<double>(slow_threshold).count())).append(" seconds.");
    counter("_slow_operations_total", help, &OperationMetrics::slow);
    header("_operation_duration_seconds", "summary", "Operation latency.");
    for (const auto& m : operations) {
      for (auto [q, v] : {std::pair{"0.5", m.p50}, std::pair{"0.9", m.p90}, std::pair{"0.99", m.p99}}) {
        sample("_operation_duration_seconds", m, std::string(",quantile=\"") + q + "\"");
        seconds(v);
        out.push_back('\n');
      }
      sample("_operation_duration_seconds_sum", m);
      seconds(m.total);
      out.push_back('\n');
      sample("_operation_duration_seconds_count", m);
      number(m.timed);
      out.push_back('\n');
    }
    header("_operation_duration_seconds_max", "gauge", "Longest operation seen.");
    for (const auto& m : operations) {
      sample("_operation_duration_seconds_max", m);
      seconds(m.max);
      out.push_back('\n');
    }
    return out;
  }
};

namespace detail {

/// A log-linear latency histogram (8 buckets per power of two, exact below 16 ns) with atomic
/// counters, so threads record without a lock.
class LatencyHistogram {
 public:
  static constexpr std::size_t buckets = 16 + 60 * 8;

  static std::size_t bucket_of(std::uint64_t ns) noexcept {
    if (ns < 16) return static_cast<std::size_t>(ns);
    const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= 4
    return 16 + (e - 4) * 8 + static_cast<std::size_t>((ns >> (e - 3)) & 7);
  }
  /// The largest latency that falls in bucket `b`.
  static std::uint64_t upper_bound_of(std::size_t b) noexcept {
    if (b < 16) return b;
    const std::size_t e = (b - 16) / 8 + 4, sub = (b - 16) % 8;
    return ((8 + sub + 1) << (e - 3)) - 1;
  }

  void record(std::uint64_t ns) noexcept {
    counts_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    total_.fetch_add(ns, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (ns > seen && !max_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
    }
  }

  /// Fills the latency figures of `m`.
  void read(OperationMetrics& m) const {
    std::array<std::uint64_t, buckets> counts;
    std::uint64_t n = 0;
    for (std::size_t b = 0; b < buckets; ++b) n += counts[b] = counts_[b].load(std::memory_order_relaxed);
    m.timed = n;
    m.total = std::chrono::nanoseconds(total_.load(std::memory_order_relaxed));
    m.max = std::chrono::nanoseconds(max_.load(std::memory_order_relaxed));
    auto quantile = [&](double q) {
      const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n) + 0.999999);  // ceil, 1-based
      std::uint64_t seen = 0;
      for (std::size_t b = 0; b < buckets; ++b)
        if ((seen += counts[b]) >= rank && counts[b] != 0)
          return std::chrono::nanoseconds(std::min(upper_bound_of(b), static_cast<std::uint64_t>(m.max.count())));
      return std::chrono::nanoseconds(0);
    };
    m.p50 = quantile(0.50);
    m.p90 = quantile(0.90);
    m.p99 = quantile(0.99);
  }

 private:
  std::array<std::atomic<std::uint64_t>, buckets> counts_{};
  std::atomic<std::uint64_t> total_{0}, max_{0};
};

struct OperationCounters {
  std::atomic<std::uint64_t> count{0}, errors{0}, bytes{0}, slow{0};
  LatencyHistogram latency;
};

}  // namespace detail

/// A Backend layer over `B` that measures every operation (see MeteredOptions, OperationMetrics).
/// Counting is lock-free; `metrics()` may be called from any thread at any time. Latency, when
/// asked for (MeteredOptions::latency), comes from `Clock` (steady_clock by default).
/// Transactions count as one `transact` (not their reads and writes); a scan counts once, with
/// the bytes of the entries it yielded added when it ends.
template <class B, class Clock = std::chrono::steady_clock>
class Metered : public PassThrough<Metered<B, Clock>> {
  static_assert(check_backend<B>());

 public:
  using transaction = typename B::transaction;

  explicit Metered(B inner, MeteredOptions options = {}, Clock clock = Clock{})
      : inner_(std::move(inner)), clock_(std::move(clock)), options_(options),
        counters_(std::make_unique<std::array<detail::OperationCounters, operation_names.size()>>()) {
    if (options_.sample_every == 0 || !std::has_single_bit(options_.sample_every)) options_.sample_every = 1;
  }

  B& inner() noexcept { return inner_; }
  const B& inner() const noexcept { return inner_; }

  /// The figures so far.
  MetricsSnapshot metrics() const {
    MetricsSnapshot s;
    s.latency = options_.latency;
    s.slow_threshold = options_.slow_threshold;
    for (std::size_t i = 0; i < operation_names.size(); ++i) {
      const auto& c = (*counters_)[i];
      auto& m = s.operations[i];
      m.name = operation_names[i];
      m.count = c.count.load(std::memory_order_relaxed);
      m.errors = c.errors.load(std::memory_order_relaxed);
      m.bytes = c.bytes.load(std::memory_order_relaxed);
      m.slow = c.slow.load(std::memory_order_relaxed);
      c.latency.read(m);
    }
    return s;
  }

  Result<std::optional<std::string>> get(std::string_view key) const {
    return measure(Operation::get, [&] { return inner_.get(key); }, [&](const auto& r) {
      return key.size() + (r.value() ? r.value()->size() : 0);
    });
  }
  template <class F>
  Result<bool> get(std::string_view key, F&& fn) const {
    std::size_t size = 0;
    return measure(
        Operation::get,
        [&] {
          return inner_.get(key, [&](std::string_view v) {
            size = v.size();
            std::invoke(fn, v);
          });
        },
        [&](const auto&) { return key.size() + size; });
  }
  Result<void> put(std::string_view key, std::string_view value) {
    return measure(Operation::put, [&] { return inner_.put(key, value); }, [&](const auto&) { return key.size() + value.size(); });
  }
  Result<bool> erase(std::string_view key) {
    return measure(Operation::erase, [&] { return inner_.erase(key); }, [&](const auto&) { return key.size(); });
  }
  Result<void> write(const WriteBatch& batch) {
    return measure(Operation::write, [&] { return inner_.write(batch); }, [&](const auto&) {
      std::size_t n = 0;
      for (const auto& op : batch) n += op.key.size() + op.value.size();
      return n;
    });
  }
  auto scan(const KeyRange& range) const {
    auto& bytes = counter(Operation::scan).bytes;
    return measure(
        Operation::scan,
        [&] { return CountedScan<decltype(inner_.scan(range))>([&] { return inner_.scan(range); }, bytes); },
        [](const auto&) { return std::size_t{0}; });
  }
  template <class F>
  auto transact(F&& fn) -> std::invoke_result_t<F&, transaction&> {
    return measure(Operation::transact, [&] { return inner_.transact(fn); }, [](const auto&) { return std::size_t{0}; });
  }

  /// Forwarded to an Expiring layer below (counted as a put).
  Result<void> put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    return measure(Operation::put, [&] { return inner_.put(key, value, ttl); }, [&](const auto&) { return key.size() + value.size(); });
  }
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl)
    requires Expiring<B>
  {
    return measure(Operation::expiry, [&] { return inner_.expire(key, ttl); }, [&](const auto&) { return key.size(); });
  }
  Result<bool> persist(std::string_view key)
    requires Expiring<B>
  {
    return measure(Operation::expiry, [&] { return inner_.persist(key); }, [&](const auto&) { return key.size(); });
  }
  Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) const
    requires Expiring<B>
  {
    return measure(Operation::expiry, [&] { return inner_.ttl(key); }, [&](const auto&) { return key.size(); });
  }
  Result<std::size_t> purge_expired(std::size_t max = static_cast<std::size_t>(-1))
    requires Expiring<B>
  {
    return measure(Operation::expiry, [&] { return inner_.purge_expired(max); }, [](const auto&) { return std::size_t{0}; });
  }

  /// Forwarded to a Watched layer below (not counted).
  template <class F>
  [[nodiscard]] auto subscribe(KeyRange range, F&& callback)
    requires requires(B& b) { b.subscribe(std::move(range), std::forward<F>(callback)); }
  {
    return inner_.subscribe(std::move(range), std::forward<F>(callback));
  }

 private:
  // The scan below, unchanged, adding the sizes of the entries it hands out to a counter, once,
  // when the scan ends (an entry counts each time it is dereferenced: once, in a range-for).
  template <class Base>
  class CountedScan {
   public:
    // The scan below is made in place by `make()` (a scan can be large: not moved once more).
    template <class Make>
    CountedScan(Make&& make, std::atomic<std::uint64_t>& sink) : base_(std::forward<Make>(make)()), sink_(&sink) {}
    CountedScan(CountedScan&& other) noexcept  // only before begin()
        : base_(std::move(other.base_)), sink_(std::exchange(other.sink_, nullptr)), n_(other.n_) {}
    CountedScan& operator=(CountedScan&&) = delete;
    ~CountedScan() {
      if (sink_) sink_->fetch_add(n_, std::memory_order_relaxed);
    }

    detail::ScanIterator<CountedScan> begin() {
      if (!it_) it_.emplace(std::ranges::begin(base_));
      return {this};
    }
    std::default_sentinel_t end() const { return {}; }
    Result<void> status() const { return base_.status(); }

   private:
    friend struct detail::ScanIterator<CountedScan>;
    KeyValue current() const {
      KeyValue kv = **it_;
      n_ += kv.key.size() + kv.value.size();
      return kv;
    }
    void advance() { ++*it_; }
    bool done() { return *it_ == std::ranges::end(base_); }

    Base base_;
    std::optional<std::ranges::iterator_t<Base>> it_;
    std::atomic<std::uint64_t>* sink_;
    mutable std::uint64_t n_ = 0;
  };

  detail::OperationCounters& counter(Operation op) const { return (*counters_)[static_cast<std::size_t>(op)]; }

  static bool failed(const auto& r) {
    if constexpr (requires { r.status(); }) return !r.status();  // a scan: its opening failed
    else return !r;
  }

  // Runs `op`, then counts it: `bytes(result)` for the bytes, its error, its latency if timed.
  template <class Op, class Bytes>
  auto measure(Operation kind, Op&& op, Bytes&& bytes) const {
    auto& c = counter(kind);
    thread_local std::uint32_t tick = 0;
    const bool timed = options_.latency && (++tick & (options_.sample_every - 1)) == 0;
    typename Clock::time_point start{};
    if (timed) start = clock_.now();
    auto result = op();
    if (timed) {
      const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - start);
      const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(elapsed.count(), 0));
      c.latency.record(ns);
      if (elapsed > options_.slow_threshold) c.slow.fetch_add(1, std::memory_order_relaxed);
    }
    c.count.fetch_add(1, std::memory_order_relaxed);
    if (failed(result)) c.errors.fetch_add(1, std::memory_order_relaxed);
    else if (const std::size_t n = bytes(result)) c.bytes.fetch_add(n, std::memory_order_relaxed);
    return result;
  }

  B inner_;
  Clock clock_;
  MeteredOptions options_;
  std::unique_ptr<std::array<detail::OperationCounters, operation_names.size()>> counters_;
};

}  // namespace kvstack
