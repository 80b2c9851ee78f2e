// Mst replicas in one thread, with messages handed between them by hand: a round of
// anti-entropy between two and its cost (used by the Mst tests and benchmarks/mst_bench.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <kvstack/shard/mst/mst.hpp>

namespace kvstack::test {

/// What a round cost: messages, the bytes they carried, and round trips (a request and its answer).
struct RoundCost {
  std::size_t messages = 0, bytes = 0, round_trips = 0;
};

/// `a` starts a round with `b`, and the two exchange messages until both are quiet: each then
/// holds what the other held (and knows the other pulled from it).
template <class R>
RoundCost sync_round(R& a, R& b) {
  if (!a.start_round(b.status().id)) throw std::runtime_error("sync_round: the round did not start");
  RoundCost cost;
  for (;;) {  // a pass hands a's messages to b, and b's (answers among them) back: one round trip
    bool quiet = true;
    for (R* r : {&a, &b}) {
      R& other = r == &a ? b : a;
      for (auto& m : r->take_messages()) {
        quiet = false;
        ++cost.messages;
        cost.bytes += m.data.size();
        if (m.to != other.status().id || !other.step(m)) throw std::runtime_error("sync_round: a message went astray");
      }
    }
    if (quiet) return cost;
    ++cost.round_trips;
  }
}

}  // namespace kvstack::test
