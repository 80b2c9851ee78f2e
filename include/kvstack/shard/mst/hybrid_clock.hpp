// kvstack::Stamp and HybridClock — hybrid logical clocks (Kulkarni et al., 2014): stamps that
// follow physical time where it moves forward, never go back, and always exceed every stamp a
// replica has seen, so that last-writer-wins respects causality whatever the clocks do.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include <kvstack/detail/varint.hpp>

namespace kvstack::inline v0 {

/// When a write happened and who wrote it: ordered by `wall` (milliseconds of the writer's
/// clock, or of a later stamp it had seen), then `logical` (writes within one millisecond, or
/// after a stamp from the future), then `node` (the writer's id), then `incarnation` (which start
/// of the writer: a crash that loses the clock's last state cannot make it issue a stamp twice),
/// so two writes never tie.
struct Stamp {
  std::uint64_t wall = 0;
  std::uint64_t logical = 0;
  std::uint64_t node = 0;
  std::uint64_t incarnation = 0;
  friend auto operator<=>(const Stamp&, const Stamp&) = default;

  void encode(std::string& out) const {
    detail::put_varint(wall, out);
    detail::put_varint(logical, out);
    detail::put_varint(node, out);
    detail::put_varint(incarnation, out);
  }
  /// Reads a stamp from the front of `in`; false if it is cut short.
  bool take(std::string_view& in) {
    return detail::take_varint(in, wall) && detail::take_varint(in, logical) && detail::take_varint(in, node) &&
           detail::take_varint(in, incarnation);
  }
  std::string to_string() const {
    return std::to_string(wall) + "." + std::to_string(logical) + "@" + std::to_string(node) + "/" +
           std::to_string(incarnation);
  }
};

/// A hybrid logical clock for replica `node` in its `incarnation`. `now(physical)` stamps a
/// local write; `observe(stamp, physical)` takes in a stamp received from a peer. Time is given,
/// never read: the clock is deterministic.
class HybridClock {
 public:
  /// Goes on from `last` (a stamp this node issued or observed before).
  explicit HybridClock(std::uint64_t node, std::uint64_t incarnation = 0, Stamp last = {})
      : node_(node), incarnation_(incarnation), last_{last.wall, last.logical, node, incarnation} {}

  /// A stamp above every stamp issued or observed so far.
  Stamp now(std::uint64_t physical) {
    if (physical > last_.wall) last_ = {physical, 0, node_, incarnation_};
    else last_ = {last_.wall, last_.logical + 1, node_, incarnation_};
    return last_;
  }
  /// Takes in a peer's stamp, so that the next local stamp exceeds it.
  void observe(const Stamp& seen, std::uint64_t physical) {
    const std::uint64_t wall = std::max({last_.wall, seen.wall, physical});
    std::uint64_t logical = 0;
    if (wall == last_.wall && wall == seen.wall) logical = std::max(last_.logical, seen.logical) + 1;
    else if (wall == last_.wall) logical = last_.logical + 1;
    else if (wall == seen.wall) logical = seen.logical + 1;
    last_ = {wall, logical, node_, incarnation_};
  }
  /// The last stamp issued or observed (to persist, so that a restart goes on above it).
  const Stamp& last() const noexcept { return last_; }

 private:
  std::uint64_t node_, incarnation_;
  Stamp last_;
};

}  // namespace kvstack
