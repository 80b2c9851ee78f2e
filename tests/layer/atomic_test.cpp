// compare_and_swap, increment and stats on every engine, a layer and a shard.
#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/core/stats.hpp>
#include <kvstack/layer/atomic.hpp>

#include "laws/backends.hpp"
#include "laws/helpers.hpp"

using namespace kvstack;
using namespace kvstack::test;

TEMPLATE_LIST_TEST_CASE("compare_and_swap: create if absent, swap if equal, delete if equal", "[atomic]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  CHECK(compare_and_swap(db, "k", std::nullopt, "v1").value());  // create
  CHECK_FALSE(compare_and_swap(db, "k", std::nullopt, "v2").value());
  CHECK_FALSE(compare_and_swap(db, "k", "other", "v2").value());
  CHECK(db.get("k").value() == "v1");
  CHECK(compare_and_swap(db, "k", "v1", "v2").value());
  CHECK(compare_and_swap(db, "k", "v2", std::nullopt).value());  // delete
  CHECK(db.get("k").value() == std::nullopt);
  CHECK_FALSE(compare_and_swap(db, "k", "v2", std::nullopt).value());
  CHECK(compare_and_swap(db, "k", std::nullopt, std::nullopt).value());  // absent stays absent
  CHECK(compare_and_swap(db, "e", std::nullopt, "").value());
  CHECK_FALSE(compare_and_swap(db, "e", std::nullopt, "x").value());  // empty is not absent
  CHECK(compare_and_swap(db, "e", "", "x").value());
}

TEMPLATE_LIST_TEST_CASE("increment: decimal integers, absent is 0, no wraparound", "[atomic]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  CHECK(increment(db, "n").value() == 1);
  CHECK(increment(db, "n", 41).value() == 42);
  CHECK(increment(db, "n", -50).value() == -8);
  CHECK(db.get("n").value() == "-8");
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  db.put("big", std::to_string(max - 1)).value();
  CHECK(increment(db, "big").value() == max);
  CHECK(increment(db, "big").error() == errc::invalid_argument);
  CHECK(db.get("big").value() == std::to_string(max));  // unchanged
  db.put("small", std::to_string(std::numeric_limits<std::int64_t>::min())).value();
  CHECK(increment(db, "small", -1).error() == errc::invalid_argument);
  for (std::string bad : {"", "abc", "12a", " 1", "+1", "01", "1.5", "99999999999999999999", "-"}) {
    db.put("bad", bad).value();
    auto r = increment(db, "bad");
    CHECK(r.error() == errc::wrong_type);
    CHECK(db.get("bad").value() == bad);
  }
}

TEMPLATE_LIST_TEST_CASE("CAS and increment under 8 threads lose no update", "[atomic]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  constexpr int threads = 8, per = 40;
  std::vector<std::thread> workers;
  std::atomic<int> cas_failures{0};
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < per; ++i) {
        increment(db, "counter").value();
        for (;;) {  // an increment built from CAS: retried until it wins
          auto current = db.get("cas").value();
          std::string next = std::to_string(current ? std::stoi(*current) + 1 : 1);
          if (compare_and_swap(db, "cas", current, next).value()) break;
          ++cas_failures;
        }
      }
    });
  for (auto& w : workers) w.join();
  CHECK(db.get("counter").value() == std::to_string(threads * per));
  CHECK(db.get("cas").value() == std::to_string(threads * per));
}

TEMPLATE_LIST_TEST_CASE("stats: exact key count and bytes per range", "[stats]", ConsumerTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  CHECK(stats(db, KeyRange::all()).value() == Stats{});
  db.put("a/1", "x").value();
  db.put("a/2", "yy").value();
  db.put("a/3", "").value();
  db.put("b/1", std::string(1000, 'z')).value();
  CHECK(stats(db, KeyRange::prefix("a/")).value() == Stats{3, 9, 3});
  CHECK(stats(db, KeyRange::all()).value() == Stats{4, 12, 1003});
  CHECK(stats(db, KeyRange::all().reverse().limit(1)).value() == Stats{1, 3, 1000});
  db.erase("a/2").value();
  CHECK(stats(db, KeyRange::prefix("a/")).value() == Stats{2, 6, 1});
}
