// Metered<B>: exact counts, errors and bytes; latency from the injected clock; Prometheus text.
#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/core/clock.hpp>
#include <kvstack/layer/metrics.hpp>
#include <kvstack/layer/watch.hpp>

#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

TEST_CASE("Metered: counts, errors and bytes per operation", "[metrics]") {
  ManualClock clock;
  Metered<MemoryBackend, ManualClock> db(MemoryBackend{}, {.latency = true, .slow_threshold = 5ms}, clock);
  db.put("key", "value").value();                                        // 3 + 5 bytes
  CHECK(db.get("key").value() == "value");                               // 8
  CHECK(db.get("missing").value() == std::nullopt);                      // 7
  CHECK(db.get("key", [&](std::string_view) { clock.advance(20ms); }).value());  // 8, slow
  db.write(WriteBatch{}.put("a", "1").erase("b")).value();               // 3
  CHECK(collect(db, KeyRange::all()).size() == 2);                        // "a1", "keyvalue": 10
  db.transact([](auto& tx) { return tx.put("t", "x"); }).value();
  CHECK(db.erase("t").value());

  auto m = db.metrics();
  CHECK(m[Operation::put].count == 1);
  CHECK(m[Operation::put].bytes == 8);
  CHECK(m[Operation::get].count == 3);
  CHECK(m[Operation::get].bytes == 23);
  CHECK(m[Operation::get].slow == 1);
  CHECK(m[Operation::get].max == 20ms);
  CHECK(m[Operation::get].p50 == 0ns);
  CHECK(m[Operation::get].p99 >= 20ms);
  CHECK(m[Operation::get].p99 <= 20ms * 1.125);
  CHECK(m[Operation::get].total == 20ms);
  CHECK(m[Operation::write].bytes == 3);
  CHECK(m[Operation::scan].count == 1);
  CHECK(m[Operation::scan].bytes == 10);
  CHECK(m[Operation::transact].count == 1);
  CHECK(m[Operation::erase].count == 1);
  for (const auto& op : m.operations) CHECK(op.errors == 0);

  // An error below is counted as one.
  MemoryBackend taken = std::move(db.inner());
  CHECK(db.get("key").error() == errc::closed);
  CHECK(db.put("key", "v").error() == errc::closed);
  m = db.metrics();
  CHECK(m[Operation::get].errors == 1);
  CHECK(m[Operation::get].count == 4);
  CHECK(m[Operation::put].errors == 1);
  CHECK(m[Operation::put].bytes == 8);  // failed writes add no bytes
}

TEST_CASE("Metered: percentiles come from a log-linear histogram", "[metrics]") {
  detail::LatencyHistogram h;
  for (std::uint64_t ns = 1; ns <= 1000; ++ns) h.record(ns * 1000);  // 1 us .. 1 ms, uniform
  OperationMetrics m;
  h.read(m);
  CHECK(m.timed == 1000);
  CHECK(m.max == 1ms);
  CHECK(m.total == std::chrono::nanoseconds(500500 * 1000));
  auto near = [](std::chrono::nanoseconds got, std::chrono::nanoseconds want) {
    return got >= want && got <= want * 1.125;  // a bucket's upper bound, within 12.5 %
  };
  CHECK(near(m.p50, 500us));
  CHECK(near(m.p90, 900us));
  CHECK(near(m.p99, 990us));
  for (std::uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 1000ull, 123456789ull, ~0ull}) {
    auto b = detail::LatencyHistogram::bucket_of(v);
    CHECK(b < detail::LatencyHistogram::buckets);
    CHECK(detail::LatencyHistogram::upper_bound_of(b) >= v);
    if (b > 0) CHECK(detail::LatencyHistogram::upper_bound_of(b - 1) < v);
  }
}

TEST_CASE("Metered: sampling times some operations and counts all", "[metrics]") {
  Metered<MemoryBackend> db(MemoryBackend{}, {.latency = true, .sample_every = 8});
  for (int i = 0; i < 800; ++i) db.put("k", "v").value();
  auto m = db.metrics();
  CHECK(m[Operation::put].count == 800);
  CHECK(m[Operation::put].timed == 100);
}

namespace {
/// A steady clock that counts how often it is read.
struct CountingClock {
  using rep = std::chrono::nanoseconds::rep;
  using period = std::chrono::nanoseconds::period;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<CountingClock>;
  std::shared_ptr<int> reads = std::make_shared<int>(0);
  time_point now() const { return time_point(duration(++*reads)); }
};
}  // namespace

TEST_CASE("Metered: without latency, no clock is read and counts stay exact", "[metrics]") {
  CountingClock clock;
  Metered<MemoryBackend, CountingClock> db(MemoryBackend{}, {}, clock);
  db.put("k", "v").value();
  CHECK(db.get("k").value() == "v");
  CHECK(collect(db, KeyRange::all()).size() == 1);
  db.transact([](auto& tx) { return tx.erase("k"); }).value();
  CHECK(*clock.reads == 0);
  auto m = db.metrics();
  CHECK_FALSE(m.latency);
  CHECK(m[Operation::get].count == 1);
  CHECK(m[Operation::get].bytes == 2);
  CHECK(m[Operation::get].timed == 0);
  CHECK(m[Operation::scan].bytes == 2);
  CHECK_THAT(m.prometheus(), !Contains("duration"));

  Metered<MemoryBackend, CountingClock> timed(MemoryBackend{}, {.latency = true}, clock);
  timed.put("k", "v").value();
  CHECK(*clock.reads == 2);
  CHECK(timed.metrics()[Operation::put].timed == 1);
}

TEST_CASE("Metered: Prometheus text exposition", "[metrics]") {
  Metered<MemoryBackend> db(MemoryBackend{}, {.latency = true});
  db.put("k", "v").value();
  db.get("k").value();
  std::string text = db.metrics().prometheus();
  CHECK_THAT(text, Contains("# TYPE kvstack_operations_total counter\n"));
  CHECK_THAT(text, Contains("kvstack_operations_total{op=\"put\"} 1\n"));
  CHECK_THAT(text, Contains("kvstack_operation_bytes_total{op=\"get\"} 2\n"));
  CHECK_THAT(text, Contains("kvstack_operation_duration_seconds_count{op=\"get\"} 1\n"));
  CHECK_THAT(text, Contains("kvstack_operation_duration_seconds{op=\"scan\",quantile=\"0.99\"} 0\n"));
  // Every line is a comment or `name{labels} number`.
  const std::regex sample(R"(^[a-z_]+\{op="[a-z]+"(,quantile="0\.[0-9]+")?\} [0-9.e+-]+$)");
  const std::regex comment(R"(^# (HELP|TYPE) kvstack_[a-z_]+ .+$)");
  std::istringstream lines(text);
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    bool ok = std::regex_match(line, sample) || std::regex_match(line, comment);
    if (!ok) FAIL("not Prometheus text: " << line);
    samples += line[0] != '#';
  }
  CHECK(samples == 7 * 10);
  CHECK_THAT(db.metrics().prometheus("app_kv"), Contains("app_kv_operations_total{op=\"get\"} 1\n"));
}

TEST_CASE("Metered: subscribe is forwarded to a Watched layer below", "[metrics]") {
  Metered<Watched<MemoryBackend>> db(Watched<MemoryBackend>(MemoryBackend{}));
  std::vector<std::string> keys;
  auto sub = db.subscribe(KeyRange::all(), [&](const Event& e) { keys.emplace_back(e.key); });
  db.put("a", "1").value();
  db.write(WriteBatch{}.put("b", "2")).value();
  CHECK(keys == std::vector<std::string>{"a", "b"});
  CHECK(db.metrics()[Operation::put].count == 1);
}
