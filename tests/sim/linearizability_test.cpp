// check_linearizable on hand-written histories: linearizable ones (some only through
// backtracking) and ones that are not, with operations of unknown outcome and several keys.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <kvstack/sim/linearizability.hpp>
#include <kvstack/sim/rng.hpp>

using namespace kvstack::sim;
using Kind = Op::Kind;

namespace {
Op put(std::uint64_t call, std::uint64_t ret, std::string v, std::string key = "k") {
  return {.kind = Kind::put, .key = key, .value = std::move(v), .call = call, .ret = ret};
}
Op get(std::uint64_t call, std::uint64_t ret, std::optional<std::string> read, std::string key = "k") {
  return {.kind = Kind::get, .key = key, .call = call, .ret = ret, .read = std::move(read)};
}
Op erase(std::uint64_t call, std::uint64_t ret, bool existed) {
  return {.kind = Kind::erase, .key = "k", .call = call, .ret = ret, .ok = existed};
}
Op cas(std::uint64_t call, std::uint64_t ret, std::optional<std::string> expected, std::string v, bool swapped) {
  return {.kind = Kind::cas, .key = "k", .value = std::move(v), .expected = std::move(expected), .call = call, .ret = ret, .ok = swapped};
}
Op incr(std::uint64_t call, std::uint64_t ret, std::optional<std::string> made) {
  return {.kind = Kind::incr, .key = "k", .call = call, .ret = ret, .read = made, .ok = made.has_value()};
}
Op unknown(Op op) {
  op.known = false;
  return op;
}
}  // namespace

TEST_CASE("linearizable: a sequential history that reads its writes", "[sim][linearizable]") {
  CHECK(check_linearizable({get(1, 2, std::nullopt), put(3, 4, "a"), get(5, 6, "a"), erase(7, 8, true), get(9, 10, std::nullopt)}));
  CHECK(check_linearizable({}));
}

TEST_CASE("linearizable: a stale read after a completed write is caught", "[sim][linearizable]") {
  auto r = check_linearizable({put(1, 2, "a"), put(3, 4, "b"), get(5, 6, "a")});
  CHECK(!r);
  CHECK(r.key == "k");
  CHECK(r.operations == 3);
}

TEST_CASE("linearizable: a read concurrent with a write may see either value", "[sim][linearizable]") {
  CHECK(check_linearizable({put(1, 2, "a"), put(3, 6, "b"), get(4, 5, "a")}));
  CHECK(check_linearizable({put(1, 2, "a"), put(3, 6, "b"), get(4, 5, "b")}));
  CHECK(!check_linearizable({put(1, 2, "a"), put(3, 6, "b"), get(4, 5, "c")}));
}

TEST_CASE("linearizable: histories that need backtracking", "[sim][linearizable]") {
  // The first candidate (the get) fails, then put a fails too; only put b, get, put a works.
  CHECK(check_linearizable({get(1, 4, "b"), put(2, 5, "a"), put(3, 6, "b"), get(7, 8, "a")}));
  // Both writes finished before two reads that disagree about their order.
  CHECK(!check_linearizable({put(1, 10, "a"), put(2, 10, "b"), get(11, 12, "a"), get(13, 14, "b")}));
  // Reads inside the writes' window see b then a: put b, get b, put a, get a.
  CHECK(check_linearizable({put(1, 10, "a"), put(2, 10, "b"), get(3, 4, "b"), get(5, 6, "a"), get(11, 12, "a")}));
  // ...but no order lets a later read go back to b.
  CHECK(!check_linearizable({put(1, 10, "a"), put(2, 10, "b"), get(3, 4, "b"), get(5, 6, "a"), get(11, 12, "b")}));
}

TEST_CASE("linearizable: an operation of unknown outcome may or may not have happened", "[sim][linearizable]") {
  CHECK(check_linearizable({unknown(put(1, 2, "a")), get(3, 4, "a")}));
  CHECK(check_linearizable({unknown(put(1, 2, "a")), get(3, 4, std::nullopt)}));
  CHECK(check_linearizable({unknown(put(1, 2, "a")), get(3, 4, std::nullopt), get(5, 6, "a")}));  // it took effect late
  CHECK(!check_linearizable({unknown(put(1, 2, "a")), get(3, 4, "a"), get(5, 6, std::nullopt)}));  // it cannot be undone
  CHECK(!check_linearizable({unknown(put(5, 6, "a")), get(1, 2, "a")}));  // nor happen before its call
}

TEST_CASE("linearizable: erase and compare-and-set report what they found", "[sim][linearizable]") {
  CHECK(check_linearizable({erase(1, 2, false), put(3, 4, "a"), erase(5, 6, true)}));
  CHECK(!check_linearizable({erase(1, 2, true)}));
  CHECK(check_linearizable({put(1, 2, "a"), cas(3, 6, "a", "b", true), cas(4, 7, "a", "c", false), get(8, 9, "b")}));
  CHECK(!check_linearizable({put(1, 2, "a"), cas(3, 6, "a", "b", true), cas(4, 7, "a", "c", true)}));  // both won
  CHECK(check_linearizable({cas(1, 2, std::nullopt, "x", true), get(3, 4, "x")}));
}

TEST_CASE("linearizable: increments count from an absent key, and one of unknown outcome may have counted", "[sim][linearizable]") {
  CHECK(check_linearizable({incr(1, 2, "1"), incr(3, 4, "2"), get(5, 6, "2")}));
  CHECK(!check_linearizable({incr(1, 2, "1"), incr(3, 4, "1")}));                        // counted once, not twice
  CHECK(check_linearizable({incr(1, 4, "2"), incr(2, 3, "1")}));                         // concurrent: either order
  CHECK(check_linearizable({incr(1, 2, "1"), unknown(incr(3, 4, "2")), incr(5, 6, "3")}));  // it did count
  CHECK(check_linearizable({incr(1, 2, "1"), unknown(incr(3, 4, "2")), incr(5, 6, "2")}));  // it did not
  CHECK(!check_linearizable({incr(1, 2, "1"), unknown(incr(3, 4, "2")), incr(5, 6, "4")}));
  CHECK(check_linearizable({put(1, 2, "x"), incr(3, 4, std::nullopt), get(5, 6, "x")}));  // not a number: refused
  CHECK(!check_linearizable({put(1, 2, "x"), incr(3, 4, "1")}));
}

TEST_CASE("linearizable: keys are checked apart, and the bad one is named", "[sim][linearizable]") {
  auto r = check_linearizable({put(1, 2, "a", "x"), put(3, 4, "a", "y"), get(5, 6, "a", "x"), get(7, 8, std::nullopt, "y")});
  CHECK(!r);
  CHECK(r.key == "y");
}

TEST_CASE("linearizable: many concurrent clients of a register, checked quickly", "[sim][linearizable]") {
  // A correct register: each operation takes effect at a random point inside its interval.
  Rng rng(7);
  std::vector<Op> history;
  std::vector<std::pair<std::uint64_t, std::size_t>> effects;  // (effect time, op)
  for (std::uint64_t c = 0; c < 6; ++c) {
    std::uint64_t t = c;
    for (int i = 0; i < 60; ++i) {
      const std::uint64_t call = t + 1 + rng.below(5), ret = call + 1 + rng.below(30);
      Op op = rng.chance(0.5) ? put(call * 10 + c, ret * 10 + c, std::to_string(rng.below(4))) : get(call * 10 + c, ret * 10 + c, std::nullopt);
      effects.push_back({(call * 10 + c) + rng.below((ret - call) * 10), history.size()});
      history.push_back(op);
      t = ret;
    }
  }
  std::sort(effects.begin(), effects.end());
  std::optional<std::string> value;
  for (auto [at, i] : effects) {
    if (history[i].kind == Kind::put) value = history[i].value;
    else history[i].read = value;
  }
  CHECK(check_linearizable(history));
  for (auto& op : history)  // one read that nobody could have seen
    if (op.kind == Kind::get) {
      op.read = "never written";
      break;
    }
  CHECK(!check_linearizable(history));
}
