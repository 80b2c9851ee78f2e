// LocalNetwork: messages reach the endpoint they name and no other, wake() ends a wait, and a
// Raft group of three runners in one process (RaftGroup) elects a leader and replicates.
#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/backend/memory.hpp>
#include <kvstack/net/local_network.hpp>

#include "laws/backends.hpp"
#include "shard/raft_group.hpp"

using namespace kvstack;
using namespace kvstack::test;

TEST_CASE("local network: a message reaches the endpoint it names, and one to an unknown id is dropped", "[net]") {
  LocalNetwork net;
  auto a = net.endpoint(1), b = net.endpoint(2);
  a.send(Message{.from = 1, .to = 2, .term = 7});
  a.send(Message{.from = 1, .to = 9, .term = 8});
  std::vector<Message> got;
  CHECK(b.receive([&](Message&& m) { got.push_back(std::move(m)); }) == 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].term == 7);
  CHECK(a.receive([](Message&&) {}) == 0);
  CHECK(b.receive([](Message&&) {}) == 0);  // handed over once
}

TEST_CASE("local network: wait returns when a message arrives or wake() is called", "[net]") {
  LocalNetwork net;
  auto a = net.endpoint(1), b = net.endpoint(2);
  std::thread waker([&] { b.wake(); });
  CHECK(!b.wait(std::chrono::minutes(1)));  // woken, nothing arrived (a lost wake-up would hang here)
  waker.join();
  std::thread sender([&] { a.send(Message{.from = 1, .to = 2}); });
  CHECK(b.wait(std::chrono::minutes(1)));
  sender.join();
}

TEST_CASE("local network: three runners in one process elect a leader, which replicates to both", "[net][raft]") {
  TempDir dir;
  auto group = RaftGroup<MemoryBackend>::open(dir.path(), 3, [](const std::filesystem::path&) -> Result<MemoryBackend> {
    return MemoryBackend{};
  });
  REQUIRE(group);
  auto& g = *group.value();
  auto put = g.put_at_leader("k", "v");
  INFO((put ? "" : put.error().message()));
  REQUIRE(put);
  REQUIRE(g.wait_applied(put.value()));
  for (std::uint64_t id = 1; id <= 3; ++id) CHECK(g.shard(id).get_local("k").value() == std::optional<std::string>("v"));
  CHECK(g.errors().empty());
}
