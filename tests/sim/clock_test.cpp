// sim::Cluster's clocks: a node ticks at its own rate, leaps ahead on a jump, stands still while
// stalled, and drift drawn from the seed is the same for the same seed.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/sim/cluster.hpp>

using namespace kvstack;
using namespace kvstack::sim;

namespace {
/// A node that counts the ticks it is given.
struct Counter {
  std::uint64_t* ticks;
  Result<void> step(Message) { return success(); }
  Result<void> tick() {
    ++*ticks;
    return success();
  }
  std::vector<Message> take_messages() { return {}; }
};

struct Counted {
  std::vector<std::uint64_t> ticks = std::vector<std::uint64_t>(4, 0);
  Cluster<Counter> cluster;
  explicit Counted(std::uint64_t seed, ClockOptions clocks = {})
      : cluster(seed, {1, 2, 3}, [this](std::uint64_t id) { return Result<Counter>(Counter{&ticks[id]}); }, {}, clocks) {}
};
}  // namespace

TEST_CASE("cluster clocks: rates, jumps and stalls", "[sim][clock]") {
  Counted c(1);
  c.cluster.set_clock_rate(2, 1'500'000);  // runs fast by half
  c.cluster.set_clock_rate(3, 250'000);    // runs at a quarter
  c.cluster.run(100);
  CHECK(c.ticks[1] == 100);
  CHECK(c.ticks[2] == 150);
  CHECK(c.ticks[3] == 25);
  CHECK(c.cluster.local_time(2) == 150);

  c.cluster.jump_clock(1, 40);  // all at the next tick
  c.cluster.tick();
  CHECK(c.ticks[1] == 141);
  c.cluster.stall_clock(1, 10);
  c.cluster.run(10);
  CHECK(c.ticks[1] == 141);  // stood still
  c.cluster.run(5);
  CHECK(c.ticks[1] == 146);

  c.cluster.crash(2);  // a node's clock runs on while it is down; its shard gets no ticks
  c.cluster.run(10);
  CHECK(c.cluster.local_time(2) == c.ticks[2] + 15);
}

TEST_CASE("cluster clocks: drift drawn from the seed, the same for the same seed", "[sim][clock]") {
  auto run = [](std::uint64_t seed) {
    Counted c(seed, {.max_drift_ppm = 200'000});
    c.cluster.run(1000);
    return c.ticks;
  };
  auto a = run(7);
  CHECK(a == run(7));
  bool drifted = false;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CHECK(a[id] >= 800);
    CHECK(a[id] <= 1200);
    drifted = drifted || a[id] != 1000;
  }
  CHECK(drifted);
}
