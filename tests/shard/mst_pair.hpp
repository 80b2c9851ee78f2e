// Two Mst replicas in one thread, with messages handed between them by hand: a one-way pull and
// its cost (used by the Mst tests and benchmarks/mst_bench.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <kvstack/shard/mst/mst.hpp>

namespace kvstack::test {

/// What a pull cost: messages, the bytes they carried, and round trips (a request and its answer).
struct PullCost {
  std::size_t messages = 0, bytes = 0, round_trips = 0;
};

/// `into` pulls everything `from` holds: `from` offers its root (as an answer, so `into` does not
/// offer its own back), then the two exchange messages until both are quiet.
template <class R>
PullCost pull(R& from, R& into) {
  Message start{.type = MessageType::mst_root, .from = from.status().id, .to = into.status().id, .done = true};
  start.data = std::string(from.root().value().view());
  PullCost cost{1, start.data.size(), 0};
  if (!into.step(start)) throw std::runtime_error("pull: the root was refused");
  for (;;) {  // a pass hands into's requests to from, and from's answers back: one round trip
    bool quiet = true;
    for (R* r : {&into, &from}) {
      R& other = r == &into ? from : into;
      for (auto& m : r->take_messages()) {
        quiet = false;
        ++cost.messages;
        cost.bytes += m.data.size();
        if (m.to != other.status().id || !other.step(m)) throw std::runtime_error("pull: a message went astray");
      }
    }
    if (quiet) return cost;
    ++cost.round_trips;
  }
}

}  // namespace kvstack::test
