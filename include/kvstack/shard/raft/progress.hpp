// kvstack::raft::Progress — what a Raft leader knows of one follower's log, and how much it may
// send it: one probe at a time until their logs meet, then a window of appends in flight
// (bounded by count and bytes), or nothing but heartbeats while it installs a snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace kvstack::inline v0::raft {

struct Progress {
  enum class State : unsigned char {
    probe,      ///< finding where the logs meet: one append at a time
    replicate,  ///< streaming: appends sent optimistically, up to the window
    snapshot,   ///< receiving the App as a snapshot: heartbeats only
  };
  /// An append not yet acknowledged: its last index, its bytes, and the heartbeat round it was
  /// sent in (an answer to a later round without an answer to it means it was lost).
  struct InFlight {
    std::uint64_t last = 0;
    std::size_t bytes = 0;
    std::uint64_t round = 0;
  };

  State state = State::probe;
  std::uint64_t match = 0;     ///< highest index known to be in the follower's log, as in the leader's
  std::uint64_t next = 1;      ///< the next index to send
  bool probe_sent = false;     ///< probe: an append is out; wait for its answer or a heartbeat's
  bool recent_active = false;  ///< answered since the last quorum check
  std::uint64_t acked_round = 0;  ///< the latest heartbeat round it answered (for read barriers)
  std::deque<InFlight> in_flight;
  std::size_t in_flight_bytes = 0;

  /// Whether the window has room for another append.
  bool window_open(std::uint64_t max_messages, std::size_t max_bytes) const {
    return in_flight.size() < max_messages && in_flight_bytes < max_bytes;
  }
  void sent(std::uint64_t last, std::size_t bytes, std::uint64_t round) {
    next = last + 1;
    in_flight.push_back({last, bytes, round});
    in_flight_bytes += bytes;
  }
  /// The follower holds everything up to `index`: frees the window up to it.
  void acknowledged(std::uint64_t index) {
    while (!in_flight.empty() && in_flight.front().last <= index) {
      in_flight_bytes -= in_flight.front().bytes;
      in_flight.pop_front();
    }
  }
  /// Back to probing from the entry after `match`.
  void become_probe() {
    state = State::probe;
    next = match + 1;
    probe_sent = false;
    in_flight.clear();
    in_flight_bytes = 0;
  }
  void become_replicate() {
    state = State::replicate;
    next = match + 1;
    probe_sent = false;
  }
  void become_snapshot() {
    state = State::snapshot;
    in_flight.clear();
    in_flight_bytes = 0;
  }
};

}  // namespace kvstack::raft
