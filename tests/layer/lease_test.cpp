// LeaseManager: one holder at a time, fencing tokens that only grow, stale leases refused.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/core/clock.hpp>
#include <kvstack/layer/lease.hpp>

#include "laws/backends.hpp"

using namespace kvstack;
using namespace kvstack::test;
using namespace std::chrono_literals;

TEMPLATE_LIST_TEST_CASE("LeaseManager: acquire, contend, renew, release", "[lease]", EngineTypes) {
  BackendFactory<TestType> factory;
  auto db = factory.open();
  ManualClock clock;
  LeaseManager<TestType, ManualClock> leases(db, clock);

  auto a = leases.acquire("leader", "node-a", 10s).value();
  REQUIRE(a);
  CHECK(a->token == 1);
  CHECK(a->deadline == ManualClock::time_point(10s));
  CHECK(leases.acquire("leader", "node-b", 10s).value() == std::nullopt);  // taken
  CHECK(leases.holder("leader").value()->holder == "node-a");
  CHECK(leases.acquire("other", "node-b", 10s).value()->token == 1);  // names are independent

  clock.advance(9s);
  auto renewed = leases.renew(*a, 10s).value();
  CHECK(renewed.token == a->token);
  CHECK(renewed.deadline == ManualClock::time_point(19s));
  clock.advance(9s);
  CHECK(leases.acquire("leader", "node-b", 10s).value() == std::nullopt);  // renewed: still a's
  leases.release(renewed).value();
  CHECK(leases.holder("leader").value() == std::nullopt);

  auto b = leases.acquire("leader", "node-b", 10s).value();
  REQUIRE(b);
  CHECK(b->token == 2);
  CHECK(leases.release(renewed).error() == errc::conflict);  // a's lease is gone
  CHECK(leases.renew(renewed, 10s).error() == errc::conflict);
  CHECK(leases.acquire("leader", "", 1s).error() == errc::invalid_argument);
  CHECK(leases.acquire("leader", "x", 0s).error() == errc::invalid_argument);
  CHECK(leases.acquire("leader", "x", std::chrono::milliseconds::max()).error() == errc::invalid_argument);
}

TEST_CASE("LeaseManager: a holder paused past its ttl is fenced out", "[lease]") {
  MemoryBackend db;
  ManualClock clock;
  LeaseManager<MemoryBackend, ManualClock> leases(db, clock);
  auto paused = leases.acquire("job", "worker-1", 5s).value().value();
  clock.advance(5s);  // worker-1 stalls; its lease runs out exactly now
  CHECK(leases.holder("job").value() == std::nullopt);
  auto next = leases.acquire("job", "worker-2", 5s).value().value();
  CHECK(next.token > paused.token);
  // worker-1 wakes up: everything it tries with its old lease is refused.
  auto renew = leases.renew(paused, 5s);
  CHECK(renew.error() == errc::conflict);
  CHECK_THAT(renew.error().context(), Catch::Contains("no longer held"));
  CHECK(leases.release(paused).error() == errc::conflict);
  CHECK(leases.holder("job").value()->holder == "worker-2");
  // A lease that ran out cannot be renewed, even when nobody took it over.
  clock.advance(5s);
  CHECK(leases.renew(next, 5s).error() == errc::conflict);
  CHECK(leases.acquire("job", "worker-2", 5s).value()->token == next.token + 1);
}

TEST_CASE("LeaseManager: threads contend, one holder at a time, tokens strictly increasing", "[lease]") {
  MemoryBackend db;
  ManualClock clock;
  LeaseManager<MemoryBackend, ManualClock> leases(db, clock);
  std::atomic<int> holders{0}, overlaps{0};
  std::mutex tokens_mu;
  std::vector<std::uint64_t> tokens;  // in the order the critical sections ran
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      const std::string me = "thread-" + std::to_string(t);
      for (int granted = 0; granted < 50;) {
        auto lease = leases.acquire("mutex", me, 1h).value();
        if (!lease) continue;
        ++granted;
        if (holders.fetch_add(1) != 0) ++overlaps;
        {
          std::lock_guard lock(tokens_mu);
          tokens.push_back(lease->token);
        }
        holders.fetch_sub(1);
        leases.release(*lease).value();
      }
    });
  for (auto& t : threads) t.join();
  CHECK(overlaps == 0);
  REQUIRE(tokens.size() == 400);
  for (std::size_t i = 1; i < tokens.size(); ++i) CHECK(tokens[i] > tokens[i - 1]);
  CHECK(tokens.back() == 400);
}

TEMPLATE_LIST_TEST_CASE("LeaseManager: tokens keep growing across restarts", "[lease]", DurableTypes) {
  BackendFactory<TestType> factory;
  ManualClock clock;
  std::uint64_t last = 0;
  for (int run = 0; run < 3; ++run) {
    auto db = factory.reopen();
    LeaseManager<TestType, ManualClock> leases(db, clock);
    auto lease = leases.acquire("leader", "node", 1s).value().value();
    CHECK(lease.token > last);
    last = lease.token;
    if (run == 1) leases.release(lease).value();  // a release keeps the count
    else clock.advance(1s);                       // or the lease runs out
  }
  CHECK(last == 3);
}
