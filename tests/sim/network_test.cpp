// sim::Network: delays within bounds, loss, duplication and reordering at the seeded rates,
// partitions (both ways, one way, isolation) and healing, its Endpoint as a Transport, and the
// same deliveries from the same seed.
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/sim/network.hpp>

using namespace kvstack;
using namespace kvstack::sim;

namespace {
Message to(std::uint64_t from, std::uint64_t dest, std::uint64_t index) {
  return Message{.from = from, .to = dest, .index = index};
}
/// Runs `ticks` ticks and returns (tick, message) for each delivery.
std::vector<std::pair<std::uint64_t, Message>> drain(Network& n, std::uint64_t ticks) {
  std::vector<std::pair<std::uint64_t, Message>> out;
  for (std::uint64_t t = 0; t < ticks; ++t) {
    n.deliver([&](Message&& m) { out.emplace_back(n.now(), std::move(m)); });
    n.advance();
  }
  return out;
}
}  // namespace

TEST_CASE("network: delays stay within bounds and reorder messages", "[sim][network]") {
  Network n(1, {.min_delay = 2, .max_delay = 6});
  for (std::uint64_t i = 0; i < 200; ++i) n.send(to(1, 2, i));
  auto got = drain(n, 10);
  REQUIRE(got.size() == 200);
  bool reordered = false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first >= 2);
    CHECK(got[i].first <= 6);
    if (i > 0 && got[i].second.index < got[i - 1].second.index) reordered = true;
  }
  CHECK(reordered);
}

TEST_CASE("network: loss and duplication at their rates", "[sim][network]") {
  Network n(2, {.loss = 0.25, .duplicate = 0.2});
  for (std::uint64_t i = 0; i < 4000; ++i) n.send(to(1, 2, i));
  auto got = drain(n, 10);
  CHECK(n.stats().lost > 800);
  CHECK(n.stats().lost < 1200);
  CHECK(n.stats().duplicated > 450);  // of the 3000 or so not lost
  CHECK(n.stats().duplicated < 750);
  CHECK(got.size() == 4000 - n.stats().lost + n.stats().duplicated);
}

TEST_CASE("network: partitions, one-way cuts, isolation and healing", "[sim][network]") {
  Network n(3);
  auto count = [&](std::uint64_t from, std::uint64_t dest) {
    n.send(to(from, dest, 0));
    return drain(n, 5).size();
  };
  n.partition({1}, {2, 3});
  CHECK(count(1, 2) == 0);
  CHECK(count(3, 1) == 0);
  CHECK(count(2, 3) == 1);
  n.heal();
  n.cut(1, 2);
  CHECK(count(1, 2) == 0);
  CHECK(count(2, 1) == 1);  // the other way still works
  n.heal();
  n.isolate(3);
  CHECK(count(3, 1) == 0);
  CHECK(count(2, 3) == 0);
  CHECK(count(1, 2) == 1);
  n.send(to(1, 2, 0));
  n.isolate(2);  // cut while in flight: dropped when due
  CHECK(drain(n, 5).empty());
  CHECK(n.stats().cut == 6);
  n.heal();
  CHECK(count(3, 2) == 1);
}

TEST_CASE("network: an endpoint is a Transport that receives its own messages", "[sim][network]") {
  Network n(4, {.min_delay = 1, .max_delay = 1});
  auto a = n.endpoint(1), b = n.endpoint(2);
  a.send(to(0, 2, 7));  // the sender is filled in
  b.send(to(0, 1, 8));
  n.advance();
  std::vector<Message> at_b;
  CHECK(b.receive([&](Message&& m) { at_b.push_back(std::move(m)); }) == 1);
  REQUIRE(at_b.size() == 1);
  CHECK(at_b[0].from == 1);
  CHECK(at_b[0].index == 7);
  CHECK(n.in_flight() == 1);  // a's message is still waiting for it
  CHECK(a.receive([](Message&&) {}) == 1);
}

TEST_CASE("network: the same seed delivers the same messages at the same ticks", "[sim][network]") {
  auto run = [](std::uint64_t seed) {
    Network n(seed, {.max_delay = 5, .loss = 0.1, .duplicate = 0.1});
    for (std::uint64_t i = 0; i < 300; ++i) n.send(to(i % 3, (i + 1) % 3, i));
    std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
    for (auto& [t, m] : drain(n, 10)) seen.emplace_back(t, m.index);
    return seen;
  };
  CHECK(run(9) == run(9));
  CHECK(run(9) != run(10));
}
