// kvstack::sim::check_linearizable — decides whether a history of get, put, erase,
// compare-and-set and increment operations on keys is linearizable: per key, a Wing & Gong
// search with Lowe's cache of (operations linearized, state) pairs, as Porcupine does it.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kvstack::inline v0::sim {

/// One client operation on one key, as the client saw it: when it was called and when it
/// returned (logical times; use distinct values), and what it returned.
struct Op {
  enum class Kind : unsigned char { get, put, erase, cas, incr };
  Kind kind = Kind::get;
  std::string key;
  std::optional<std::string> value{};     ///< put: the value; cas: the new value
  std::optional<std::string> expected{};  ///< cas: the value it expects (empty: the key is absent)
  std::uint64_t call = 0;
  std::uint64_t ret = 0;
  /// False when the client never learned the outcome (a timeout): the operation may or may
  /// not have taken effect, at any time after its call.
  bool known = true;
  std::optional<std::string> read{};  ///< get: what it read (empty: absent); incr: the value it made
  bool ok = true;                     ///< erase: the key existed; cas: it swapped
};

/// The verdict on a history.
struct Linearizability {
  bool ok = true;
  std::string key{};          ///< the first key whose operations admit no linearization
  std::size_t operations = 0;  ///< how many operations that key had
  explicit operator bool() const noexcept { return ok; }
};

namespace detail {

/// The search for one key's operations.
class LinearizationSearch {
 public:
  explicit LinearizationSearch(std::vector<const Op*> ops) : ops_(std::move(ops)) {
    constexpr auto never = std::numeric_limits<std::uint64_t>::max();
    struct Event {
      std::uint64_t time;
      bool is_return;
      std::size_t op;
    };
    std::vector<Event> events;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      events.push_back({ops_[i]->call, false, i});
      events.push_back({ops_[i]->known ? ops_[i]->ret : never, true, i});
    }
    // Calls before returns at equal times: such operations count as concurrent.
    std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return a.time != b.time ? a.time < b.time : (!a.is_return && b.is_return);
    });
    const std::size_t n = events.size();
    entries_.resize(n + 1);  // entries_[n] is the head sentinel
    match_.assign(ops_.size(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      entries_[i] = {events[i].op, events[i].is_return, i == 0 ? n : i - 1, i + 1 == n ? none : i + 1};
      if (events[i].is_return) match_[events[i].op] = i;
    }
    entries_[n] = {0, false, none, n == 0 ? none : 0};
    head_ = n;
  }

  bool run() {
    std::optional<std::string> state;
    std::vector<std::uint64_t> linearized((ops_.size() + 63) / 64, 0);
    struct Frame {
      std::size_t entry;
      std::optional<std::string> state;
    };
    std::vector<Frame> stack;
    std::size_t e = entries_[head_].next;
    while (entries_[head_].next != none) {
      if (e != none && !entries_[e].is_return) {
        const std::size_t op = entries_[e].op;
        std::optional<std::string> next = state;
        if (step(*ops_[op], next)) {
          linearized[op / 64] |= std::uint64_t{1} << (op % 64);
          if (seen_.insert(Key{linearized, next}).second) {
            stack.push_back({e, std::move(state)});
            state = std::move(next);
            lift(e);
            e = entries_[head_].next;
            continue;
          }
          linearized[op / 64] &= ~(std::uint64_t{1} << (op % 64));
        }
        e = entries_[e].next;
        continue;
      }
      // A return of an operation not linearized yet (or the end): undo the last choice.
      if (stack.empty()) return false;
      Frame top = std::move(stack.back());
      stack.pop_back();
      unlift(top.entry);
      const std::size_t op = entries_[top.entry].op;
      linearized[op / 64] &= ~(std::uint64_t{1} << (op % 64));
      state = std::move(top.state);
      e = entries_[top.entry].next;
    }
    return true;
  }

 private:
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  struct Entry {
    std::size_t op;
    bool is_return;
    std::size_t prev, next;
  };
  struct Key {
    std::vector<std::uint64_t> linearized;
    std::optional<std::string> state;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      std::size_t h = k.state ? std::hash<std::string>{}(*k.state) : 0x9e3779b9;
      for (auto w : k.linearized) h = (h ^ std::hash<std::uint64_t>{}(w)) * 0x100000001b3ull;
      return h;
    }
  };

  /// Applies `op` to the key's value; false if its recorded outcome contradicts it.
  static bool step(const Op& op, std::optional<std::string>& state) {
    switch (op.kind) {
      case Op::Kind::get:
        return !op.known || op.read == state;
      case Op::Kind::put:
        state = op.value;
        return true;
      case Op::Kind::erase: {
        const bool existed = state.has_value();
        state.reset();
        return !op.known || op.ok == existed;
      }
      case Op::Kind::cas: {
        const bool swaps = state == op.expected;
        if (swaps) state = op.value;
        return !op.known || op.ok == swaps;
      }
      case Op::Kind::incr: {  // Redis's INCR: an absent key counts as 0; a value not a number is refused
        std::int64_t n = 0;
        if (state && std::from_chars(state->data(), state->data() + state->size(), n).ec != std::errc{})
          return !op.known || !op.ok;
        state = std::to_string(n + 1);
        return !op.known || (op.ok && op.read == state);
      }
    }
    return false;
  }

  void lift(std::size_t call) {  // takes the call and its return out of the list
    for (std::size_t e : {call, match_[entries_[call].op]}) {
      entries_[entries_[e].prev].next = entries_[e].next;
      if (entries_[e].next != none) entries_[entries_[e].next].prev = entries_[e].prev;
    }
  }
  void unlift(std::size_t call) {  // puts them back, in reverse order
    for (std::size_t e : {match_[entries_[call].op], call}) {
      entries_[entries_[e].prev].next = e;
      if (entries_[e].next != none) entries_[entries_[e].next].prev = e;
    }
  }

  std::vector<const Op*> ops_;
  std::vector<Entry> entries_;
  std::vector<std::size_t> match_;  // op -> its return entry
  std::size_t head_ = 0;
  std::unordered_set<Key, KeyHash> seen_;
};

}  // namespace detail

/// Whether `history` is linearizable: for each key, some order of its operations that respects
/// real time (an operation that returned before another was called comes first) in which every
/// get reads the latest value, erase and cas report what they found, and operations of unknown
/// outcome either took effect at some point after their call or not at all.
inline Linearizability check_linearizable(const std::vector<Op>& history) {
  std::map<std::string_view, std::vector<const Op*>> by_key;
  for (const auto& op : history) by_key[op.key].push_back(&op);
  for (auto& [key, ops] : by_key) {
    const std::size_t n = ops.size();
    if (!detail::LinearizationSearch(std::move(ops)).run()) return {false, std::string(key), n};
  }
  return {};
}

}  // namespace kvstack::sim
